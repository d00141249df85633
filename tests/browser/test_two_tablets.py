"""Two tablets on one inspection: a stale save is a conflict shown with both values, never a silent overwrite."""

import pytest
from sqlmodel import Session, select

from inspections.models import Answer, AnswerChange
from tests.browser.actions import login, new_inspection

pytestmark = pytest.mark.browser


def test_a_conflicting_answer_shows_both_values_and_the_person_chooses(live_server, browser, artifacts):
    base, app = live_server
    tablet_a = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN", has_touch=True)
    tablet_b = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", has_touch=True)
    try:
        page_a, page_b = tablet_a.new_page(), tablet_b.new_page()
        inspection_id = new_inspection(page_a, base)
        login(page_b, base)
        page_b.goto(f"{base}/inspections/{inspection_id}")  # both show sort-01 unanswered

        page_a.locator('[data-item-code="sort-01"] input[type=radio][value="4"]').check()
        page_a.wait_for_selector('[data-item-code="sort-01"] .state-saved')

        page_b.locator('[data-item-code="sort-01"] input[type=radio][value="1"]').check()
        conflict = page_b.wait_for_selector('[data-conflict="sort-01"]')
        text = conflict.inner_text()
        assert "另一台设备已改为“4”" in text and "你选的是“1”" in text
        page_b.screenshot(path=str(artifacts / "conflict-768x1024.png"))
        with Session(app.extensions["engine"]) as session:  # nothing overwritten while the person decides
            assert session.exec(select(Answer.score)).one() == 4

        page_b.click('[data-conflict="sort-01"] [data-action="keep-mine"]')
        page_b.wait_for_selector('[data-item-code="sort-01"] .state-saved')
        assert page_b.locator('[data-item-code="sort-01"] input[type=radio][value="1"]').is_checked()

        page_a.reload()
        assert page_a.locator('[data-item-code="sort-01"] input[type=radio][value="1"]').is_checked()
    finally:
        tablet_a.close()
        tablet_b.close()
    with Session(app.extensions["engine"]) as session:
        answer = session.exec(select(Answer)).one()
        assert (answer.score, answer.revision) == (1, 2)
        history = session.exec(select(AnswerChange).where(AnswerChange.inspection_id == inspection_id)
                               .order_by(AnswerChange.id)).all()
        assert [(c.outcome, c.old_value, c.new_value) for c in history] == [
            ("applied", None, "4"), ("conflict", "4", "1"), ("applied", "4", "1")]
