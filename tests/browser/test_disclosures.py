"""Every disclosure on the tablet form and the review page shows that it opens (a ▸ that turns), so that
"评分标准" and "车间负责人会签（可选）" do not read as headings."""

import pytest
from sqlmodel import Session, select

from accounts.models import User
from inspections.answering import save_answer
from inspections.models import Inspection
from inspections.service import parse_score
from tests.browser.actions import new_inspection

pytestmark = pytest.mark.browser

MARKER = """(summary) => {
  const before = getComputedStyle(summary, '::before');
  const own = getComputedStyle(summary);
  const listed = own.display === 'list-item' && own.listStyleType !== 'none';
  return listed || (before.content !== 'none' && before.content !== 'normal' && before.content !== '""');
}"""


def answer_everything(app, inspection_id: int) -> None:
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        user = session.exec(select(User).where(User.username == "sup1")).one()
        for category in inspection.version.categories:
            for item in category.items:
                save_answer(session=session, user=user, inspection=inspection, item_key=item.key,
                            value=parse_score(3), note=None, change_key=None, base_revision=None, flagged=None)
        session.commit()


def test_every_disclosure_shows_its_marker_and_turns_it_when_open(live_server, browser, artifacts):
    base, app = live_server
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        inspection = new_inspection(page, base)
        answer_everything(app, inspection)  # the review page offers the countersign once all is answered
        for url in (f"{base}/inspections/{inspection}", f"{base}/inspections/{inspection}/review"):
            page.goto(url)
            summaries = page.locator("summary")
            assert summaries.count() > 0, url
            for i in range(summaries.count()):
                summary = summaries.nth(i)
                assert summary.evaluate(MARKER), (url, summary.inner_text())
        standard = page.locator("summary", has_text="车间负责人会签（可选）")
        closed = standard.evaluate("s => getComputedStyle(s, '::before').transform")
        standard.click()
        opened = standard.evaluate("s => getComputedStyle(s, '::before').transform")
        assert closed != opened  # the marker turns
        page.screenshot(path=str(artifacts / "disclosure-open-768x1024.png"))
    finally:
        context.close()
