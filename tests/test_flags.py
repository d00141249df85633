"""An inspector flags an item as a finding whatever its score: it travels with the answer and becomes an action."""

from sqlmodel import Session, select
from werkzeug.datastructures import MultiDict

from actions.models import CorrectiveAction, Finding
from checklists.models import ChecklistItem
from inspections.models import Answer, AnswerChange
from tests.helpers import answer_all, published_items, start, submit, token_headers
from tests.test_approval_and_corrections import pdf_text

HX = {"HX-Request": "true"}


def plain_item(app):
    """An item that asks for no photo, so a flag on it does not hold up the submit."""
    items = published_items(app)
    with Session(app.extensions["engine"]) as session:
        keys = {i.key for i in session.exec(select(ChecklistItem).where(ChecklistItem.photo_required.is_(False)))}
    return next(item for item in items if item.key in keys)


def answer_row(app, inspection_id, key) -> Answer:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(Answer).join(ChecklistItem).where(
            Answer.inspection_id == inspection_id, ChecklistItem.key == key)).one()


def test_a_flagged_good_score_becomes_a_finding_with_an_action_and_shows_on_the_result_and_pdf(app, client, auth,
                                                                                               tmp_path):
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    answer_all(client, inspection_id, items, score_for=lambda i, item: 4)
    flagged = plain_item(app)
    response = client.post(f"/inspections/{inspection_id}/answers/{flagged.key}", headers=HX,
                           data={f"score-{flagged.key}": "4", f"note-{flagged.key}": "配电箱门没关好",
                                 f"flag-{flagged.key}": "1"})
    assert response.status_code == 200
    assert answer_row(app, inspection_id, flagged.key).flagged
    assert submit(client, inspection_id).status_code == 303

    with Session(app.extensions["engine"]) as session:
        findings = session.exec(select(Finding).where(Finding.inspection_id == inspection_id)).all()
        assert [(f.item_key, f.score, f.flagged, f.note) for f in findings] == [
            (flagged.key, 4, True, "配电箱门没关好")]
        action = session.exec(select(CorrectiveAction).where(CorrectiveAction.finding_id == findings[0].id)).one()
        assert action.status == "open"

    result = client.get(f"/inspections/{inspection_id}").text
    assert result.count("data-flagged") == 1 and "1 项问题" in result
    workshop = client.get("/workshops/W1").text  # the latest round's open findings, marked as flagged
    section = workshop[workshop.index("data-open-findings"):]
    assert f'data-item-code="{flagged.key}"' in section and "data-flagged" in section
    text = pdf_text(client.get(f"/inspections/{inspection_id}/report.pdf").data, tmp_path)
    assert "问题项（1）" in text and "配电箱门没关好" in text and "标记" in text


def test_a_flag_needs_a_score_and_never_goes_with_not_applicable(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    item = plain_item(app)
    url = f"/inspections/{inspection_id}/answers/{item.key}"
    alone = client.post(url, headers=HX, data={f"flag-{item.key}": "1"})
    assert alone.status_code == 422 and "请先评分，再标记为问题" in alone.text
    assert client.post(url, headers=HX, data={f"score-{item.key}": "3", f"flag-{item.key}": "1"}).status_code == 200

    # N/A on a flagged item is refused with a clear message, and the saved answer stays as it was
    refused = client.post(url, headers=HX, data={f"score-{item.key}": "na"})
    assert refused.status_code == 422 and "不能标记为问题" in refused.text
    saved = answer_row(app, inspection_id, item.key)
    assert (saved.score, saved.flagged, saved.not_applicable) == (3, True, False)
    # N/A together with unflagging is fine
    assert client.post(url, headers=HX, data={f"score-{item.key}": "na", f"flag-{item.key}": "0"}).status_code == 200
    assert answer_row(app, inspection_id, item.key).not_applicable


def test_a_whole_category_marked_not_applicable_drops_its_flags(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    item = plain_item(app)
    client.post(f"/inspections/{inspection_id}/answers/{item.key}", headers=HX,
                data={f"score-{item.key}": "2", f"flag-{item.key}": "1"})
    asked = client.post(f"/inspections/{inspection_id}/categories/{item.category_key}/not-applicable")
    assert asked.status_code == 200 and 'data-findings-at-stake="1"' in asked.text  # it asks first
    assert answer_row(app, inspection_id, item.key).flagged
    response = client.post(f"/inspections/{inspection_id}/categories/{item.category_key}/not-applicable",
                           data={"confirm": "yes"})
    assert response.status_code == 303
    saved = answer_row(app, inspection_id, item.key)
    assert saved.not_applicable and not saved.flagged


def test_the_plain_form_ticks_and_unticks_the_flag_and_the_history_keeps_both(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    item = plain_item(app)
    url = f"/inspections/{inspection_id}/categories/{item.category_key}"
    # a browser sends the hidden 0 first and the ticked box's 1 after it
    ticked = client.post(url, data=MultiDict([(f"score-{item.key}", "3"), (f"flag-{item.key}", "0"),
                                              (f"flag-{item.key}", "1")]))
    assert ticked.status_code == 303
    assert answer_row(app, inspection_id, item.key).flagged
    form = client.get(f"/inspections/{inspection_id}?category={item.category_key}").text
    assert f'name="flag-{item.key}" value="1" checked' in form
    unticked = client.post(url, data={f"score-{item.key}": "3", f"flag-{item.key}": "0"})
    assert unticked.status_code == 303
    assert not answer_row(app, inspection_id, item.key).flagged
    with Session(app.extensions["engine"]) as session:
        changes = session.exec(select(AnswerChange).join(ChecklistItem, AnswerChange.item_id == ChecklistItem.id)
                               .where(AnswerChange.inspection_id == inspection_id, ChecklistItem.key == item.key)
                               .order_by(AnswerChange.id)).all()
        assert [(c.old_flagged, c.new_flagged) for c in changes] == [(None, True), (True, False)]


def test_an_unflagged_item_with_a_good_score_is_no_finding(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app), score_for=lambda i, item: 3)
    assert submit(client, inspection_id).status_code == 303
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Finding).where(Finding.inspection_id == inspection_id)).all() == []


def test_the_api_reads_and_writes_the_flag(app, client, auth):
    headers = token_headers(app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    item = plain_item(app)
    url = f"/api/v1/inspections/{inspection_id}/answers/{item.key}"
    bad = client.put(url, json={"score": 3, "flagged": "yes"}, headers=headers)
    assert bad.status_code == 422 and "flagged" in bad.json["error"]
    saved = client.put(url, json={"score": 3, "flagged": True}, headers=headers)
    assert saved.status_code == 200 and saved.json["flagged"] is True
    listed = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).json
    assert [a["flagged"] for a in listed["answers"] if a["item"] == item.key] == [True]
    kept = client.put(url, json={"score": 2}, headers=headers)  # no "flagged": the flag stays
    assert kept.json["flagged"] is True
    refused = client.put(url, json={"score": "na"}, headers=headers)
    assert refused.status_code == 422 and refused.json["code"] == "flag_not_applicable"


def test_a_correction_keeps_the_flag_on_a_new_score_and_drops_it_with_not_applicable(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    answer_all(client, inspection_id, items, score_for=lambda i, item: 4)
    item = plain_item(app)
    client.post(f"/inspections/{inspection_id}/answers/{item.key}", headers=HX,
                data={f"score-{item.key}": "4", f"flag-{item.key}": "1"})
    assert submit(client, inspection_id).status_code == 303
    auth.logout()
    auth.login("manager")
    url = f"/inspections/{inspection_id}/items/{item.key}/correct"
    assert client.post(url, data={"score": "3", "reason": "复查后降为 3 分"}).status_code == 303
    assert answer_row(app, inspection_id, item.key).flagged
    assert client.post(url, data={"score": "na", "reason": "该区域已停用，不适用"}).status_code == 303
    saved = answer_row(app, inspection_id, item.key)
    assert saved.not_applicable and not saved.flagged
    with Session(app.extensions["engine"]) as session:
        last = session.exec(select(AnswerChange).where(AnswerChange.inspection_id == inspection_id)
                            .order_by(AnswerChange.id.desc())).first()
        assert (last.outcome, last.old_flagged, last.new_flagged) == ("correction", True, False)
