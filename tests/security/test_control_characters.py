"""Text is text (#35): a NUL, another control character or a bidirectional override in any posted field is refused
by name with 422, on both engines alike — nothing stored, nothing saved before lost; tabs and line breaks pass."""

import pytest
from sqlmodel import Session, select

from inspections.models import Answer
from tests.helpers import start, token_headers

BAD = ["地面\x00油污", "bell\x07", "\u202egnp.exe", "x\x9by"]


@pytest.fixture
def draft(app, client, auth):
    auth.login("sup1")
    return start(client)


@pytest.mark.parametrize("text", BAD)
def test_a_note_with_a_control_character_is_refused_by_name_and_the_saved_one_stays(app, client, draft, text):
    assert client.post(f"/inspections/{draft}/answers/sort-01",
                       data={"score-sort-01": "1", "note-sort-01": "地面油污"}).status_code in (200, 303)
    refused = client.post(f"/inspections/{draft}/answers/sort-01", headers={"HX-Request": "true"},
                          data={"score-sort-01": "2", "note-sort-01": text})
    assert refused.status_code == 422 and "note-sort-01" in refused.text and "控制字符" in refused.text
    with Session(app.extensions["engine"]) as session:
        answer = session.exec(select(Answer).where(Answer.inspection_id == draft)).one()
    assert (answer.score, answer.note) == (1, "地面油污")


def test_line_breaks_and_tabs_are_text(app, client, draft):
    note = "第一行\r\n第二行\t备注"
    assert client.post(f"/inspections/{draft}/answers/sort-01",
                       data={"score-sort-01": "1", "note-sort-01": note}).status_code in (200, 303)
    with Session(app.extensions["engine"]) as session:
        assert "第二行\t备注" in session.exec(select(Answer).where(Answer.inspection_id == draft)).one().note


def test_the_api_names_the_member(app, client, draft):
    response = client.put(f"/api/v1/inspections/{draft}/answers/sort-01", headers=token_headers(app, "sup1"),
                          json={"score": 1, "note": "a\x00b"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.json["code"] == "control_character" and response.json["items"] == ["note"]


def test_a_query_parameter_is_checked_too(app, client, draft):
    response = client.get("/api/v1/actions?workshop=W1%00", headers=token_headers(app, "sup1"))
    assert response.status_code == 422 and response.json["items"] == ["workshop"]
