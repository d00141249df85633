"""The screens of the inspection loop, through the Flask test client, on SQLite and PostgreSQL."""

import re

import pytest
from sqlmodel import Session, select

from inspections.models import Answer, CategoryResult, Inspection
from tests.helpers import answer_all, published_items, start, submit


def test_pages_need_login(client):
    for path in ("/", "/workshops/W1", "/inspections/1", "/inspections/1/report.pdf"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location


def test_wrong_password_is_refused_with_a_message(client):
    response = client.post("/login", data={"username": "sup1", "password": "nope-nope"})
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.text


def test_login_never_redirects_off_site(client):
    from tests.seed import PASSWORD

    response = client.post("/login?next=//evil.example/x", data={"username": "sup1", "password": PASSWORD})
    assert response.location == "/"


def test_home_lists_only_the_supervisors_workshops(client, auth):
    auth.login("sup1")
    codes = re.findall(r'data-workshop-code="([^"]+)"', client.get("/").text)
    assert codes == ["W1"]
    auth.logout()
    auth.login("manager")
    assert re.findall(r'data-workshop-code="([^"]+)"', client.get("/").text) == ["W1", "W2", "W3"]


@pytest.mark.parametrize("path", ["/workshops/W2", "/workshops/NOPE"])
def test_workshops_outside_scope_look_like_they_do_not_exist(client, auth, path):
    auth.login("sup1")
    assert client.get(path).status_code == 404
    assert client.post(path + "/inspections").status_code == 404


def test_start_uses_the_latest_published_version_and_shows_the_form(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    page = client.get(f"/inspections/{inspection_id}").text
    assert "第 2 版" in page
    # the form contract browser tests and integrations rely on
    items = published_items(app)
    assert len(items) == 105
    first = items[0]
    assert f'data-item-code="{first.key}"' in page
    for value in ("0", "1", "2", "3", "4", "na"):
        assert f'name="score-{first.key}" value="{value}"' in page
    assert re.findall(r'data-category-key="([^"]+)"', page)[:7] == [
        "sort", "set-in-order", "shine", "standardize", "sustain", "safety", "office"]
    assert "已评 0 / 105" in page


def test_htmx_answer_saves_and_returns_the_item_state_and_progress(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    response = client.post(f"/inspections/{inspection_id}/answers/sort-01",
                           data={"score-sort-01": "2", "note-sort-01": "  地面有零件  "},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "已保存" in response.text
    assert 'id="progress"' in response.text and 'hx-swap-oob="true"' in response.text
    assert "已评 1 / 105" in response.text
    assert "<html" not in response.text  # a fragment, not a page
    assert "HX-Request" in response.headers["Vary"]
    with Session(app.extensions["engine"]) as session:
        saved = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).one()
        assert (saved.score, saved.not_applicable, saved.note) == (2, False, "地面有零件")
    # a reload shows what was saved
    page = client.get(f"/inspections/{inspection_id}?category=sort").text
    assert re.search(r'name="score-sort-01" value="2" checked', page)
    assert "地面有零件" in page


def test_na_and_change_of_mind(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    headers = {"HX-Request": "true"}
    client.post(f"/inspections/{inspection_id}/answers/office-01", data={"score-office-01": "na"}, headers=headers)
    client.post(f"/inspections/{inspection_id}/answers/office-01", data={"score-office-01": "4"}, headers=headers)
    with Session(app.extensions["engine"]) as session:
        answers = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()
        assert [(a.score, a.not_applicable) for a in answers] == [(4, False)]


@pytest.mark.parametrize("bad", ["5", "-1", "x", "2.5"])
def test_invalid_score_gets_a_clear_message_and_keeps_the_saved_answer(app, client, auth, bad):
    auth.login("sup1")
    inspection_id = start(client)
    url = f"/inspections/{inspection_id}/answers/sort-01"
    client.post(url, data={"score-sort-01": "3"}, headers={"HX-Request": "true"})
    response = client.post(url, data={"score-sort-01": bad}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "评分无效" in response.text
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Answer.score).where(Answer.inspection_id == inspection_id)).one() == 3


def test_plain_form_saves_a_whole_category_and_moves_on(app, client, auth):
    """Without JavaScript: one POST per category, then the next category."""
    auth.login("sup1")
    inspection_id = start(client)
    sort_items = [i for i in published_items(app) if i.key.startswith("sort-")]
    data = {f"score-{item.key}": "4" for item in sort_items}
    data["note-sort-02"] = "干净"
    response = client.post(f"/inspections/{inspection_id}/categories/sort", data=data)
    assert response.status_code == 303
    assert response.location.endswith("category=set-in-order")
    page = client.get(response.location).text
    assert "已评 19 / 105" in page


def test_plain_form_keeps_valid_answers_when_one_is_bad(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    response = client.post(f"/inspections/{inspection_id}/categories/sort",
                           data={"score-sort-01": "4", "score-sort-02": "9", "note-sort-03": "只有备注"})
    assert response.status_code == 422
    assert "评分无效" in response.text and "请先选择评分" in response.text
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()
        assert [(a.item.key, a.score) for a in rows] == [("sort-01", 4)]


def test_submit_refuses_unanswered_items_and_names_them(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    answer_all(client, inspection_id, items[:-2])
    response = submit(client, inspection_id)
    assert response.status_code == 422
    assert "还有 2 项未评分" in response.text
    for item in items[-2:]:
        assert f"#item-{item.key}" in response.text and item.text in response.text
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, inspection_id).status == "draft"


def test_submit_scores_stores_rollups_and_locks(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    # 整理 all 4, everything else 2, the whole office area N/A
    answer_all(client, inspection_id, items,
               score_for=lambda i, item: 4 if item.key.startswith("sort-") else (
                   "na" if item.key.startswith("office-") else 2))
    response = submit(client, inspection_id)
    assert response.status_code == 303
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection.status == "submitted" and inspection.submitted_at is not None
        results = {r.category_key: r for r in session.exec(
            select(CategoryResult).where(CategoryResult.inspection_id == inspection_id))}
        assert results["sort"].percent == 100.0
        assert results["shine"].percent == 50.0
        assert results["office"].percent is None
        # 6 categories count: (100 + 5 × 50) / 6
        assert inspection.overall_percent == pytest.approx(350 / 6)
        assert inspection.grade == "不合格" and inspection.passed is False
    page = client.get(f"/inspections/{inspection_id}").text
    assert "58.3%" in page and "PDF" in page
    # locked: no more changes, and a second submit changes nothing
    response = client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "0"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 409 and "已提交并锁定" in response.text
    assert submit(client, inspection_id).status_code == 303
    with Session(app.extensions["engine"]) as session:
        assert len(session.exec(select(CategoryResult).where(
            CategoryResult.inspection_id == inspection_id)).all()) == 7


def test_another_supervisor_cannot_see_or_change_an_inspection(client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    auth.logout()
    auth.login("sup2")
    assert client.get(f"/inspections/{inspection_id}").status_code == 404
    assert client.post(f"/inspections/{inspection_id}/answers/sort-01",
                       data={"score-sort-01": "1"}).status_code == 404
    assert submit(client, inspection_id).status_code == 404
    assert client.get(f"/inspections/{inspection_id}/report.pdf").status_code == 404


def test_auditor_in_scope_may_read_but_not_change_someone_elses_draft(client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    auth.logout()
    auth.login("auditor")
    assert client.get(f"/inspections/{inspection_id}").status_code == 200
    response = client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "1"})
    assert response.status_code == 403


def test_workshop_page_shows_trend_chart_and_table(app, client, auth):
    auth.login("sup1")
    for overall_score in (1, 3):
        inspection_id = start(client)
        answer_all(client, inspection_id, published_items(app), score_for=lambda i, item, s=overall_score: s)
        submit(client, inspection_id)
    page = client.get("/workshops/W1").text
    assert "<svg" in page and 'data-series="总分"' in page
    rows = re.findall(r"<td class=\"num\"><strong>([\d.]+)%</strong></td>", page)
    assert rows == ["75.0", "25.0"]  # newest first


def test_running_score_and_whole_category_not_applicable(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "2"},
                headers={"HX-Request": "true"})
    response = client.post(f"/inspections/{inspection_id}/answers/sort-02", data={"score-sort-02": "4"},
                           headers={"HX-Request": "true"})
    assert 'data-running="75.0"' in response.text  # (2 + 4) / 8 so far
    response = client.post(f"/inspections/{inspection_id}/categories/office/not-applicable")
    assert response.status_code == 303
    with Session(app.extensions["engine"]) as session:
        office = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()
        assert sorted(a.item.key for a in office if a.not_applicable) == [f"office-0{n}" for n in range(1, 6)]
    page = client.get(f"/inspections/{inspection_id}?category=office").text
    assert "已评 7 / 105" in page and 'data-running="75.0"' in page


def test_a_whole_category_na_over_given_scores_asks_first_and_loses_nothing_until_confirmed(app, client, auth):
    auth.login("sup1")
    inspection_id = start(client)
    url = f"/inspections/{inspection_id}/categories/office/not-applicable"
    for key, score in (("office-01", "1"), ("office-02", "4")):  # office-01 at 1 is a finding
        client.post(f"/inspections/{inspection_id}/answers/{key}", data={f"score-{key}": score,
                    f"note-{key}": "桌面堆放"}, headers={"HX-Request": "true"})
    asked = client.post(url)
    assert asked.status_code == 200
    assert "本类已有 2 项评分，其中 1 项是问题项" in asked.text and 'name="confirm" value="yes"' in asked.text
    assert 'data-action="keep-scores"' in asked.text  # the way back keeps them

    def office():
        with Session(app.extensions["engine"]) as session:
            rows = session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).all()
            return {a.item.key: (a.score, a.not_applicable, a.note) for a in rows if a.item.key.startswith("office")}

    assert office() == {"office-01": (1, False, "桌面堆放"), "office-02": (4, False, "桌面堆放")}
    # without JavaScript the category's form arrives with what was typed but not saved: that counts too
    typed = client.post(url, data={"score-office-03": "3", "score-office-04": "na"})
    assert "本类已有 3 项评分" in typed.text
    done = client.post(url, data={"confirm": "yes"})
    assert done.status_code == 303
    after = office()
    assert len(after) == 5 and all(na for _score, na, _note in after.values())
    assert after["office-01"][2] == "桌面堆放"  # notes stay
    # a category with nothing scored goes N/A at once (one tap, nothing to lose)
    assert client.post(f"/inspections/{inspection_id}/categories/safety/not-applicable").status_code == 303
    auth.logout()
    auth.login("sup2")  # not this inspection's inspector
    assert client.post(url).status_code in (403, 404)


def test_printable_qr_label_points_at_the_workshop(client, auth):
    auth.login("sup1")
    page = client.get("/workshops/W1/label").text
    assert "<svg" in page and "一号车间" in page and "http://localhost/workshops/W1" in page
    assert client.get("/workshops/W2/label").status_code == 404


def test_the_form_page_makes_the_same_queries_however_many_items_are_answered(app, client, auth):
    from sqlalchemy import event

    engine = app.extensions["engine"]
    auth.login("sup1")
    inspection_id = start(client)
    items = published_items(app)
    first_category = items[0].category_key
    url = f"/inspections/{inspection_id}?category={first_category}"

    def statements() -> int:
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(seen)

    client.post(f"/inspections/{inspection_id}/answers/{items[0].key}", data={f"score-{items[0].key}": "3"},
                headers={"HX-Request": "true"})
    one = statements()
    answer_all(client, inspection_id, items, score_for=lambda i, item: 3)
    assert statements() == one  # was one query per answer (each answer's item), then one per category
