"""The programme on screen, as plain forms (no JavaScript): the plan editor refusing what it cannot follow, the
supervisor's 本周待检, the manager's board turning green, skipping with a reason. SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest

from tests.helpers import answer_all_in_one_go, submit

MON_1000 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November, 10:00 in Shanghai
FORM = {"place": "workshop:W1", "checklist": "standard-6s", "repeat": "weekly", "weekday": "MO", "nth": "1",
        "monthday": "1", "custom": "", "starts_on": "2026-11-30", "window_days": "3"}


def _cell(page: str, workshop: str, week: str) -> str:
    row = page.split(f'data-workshop="{workshop}"', 1)[1].split("</tr>", 1)[0]
    cell = row.split(f'data-week="{week}"', 1)[1].split(">", 1)[0]
    return cell


def test_a_manager_plans_the_supervisor_inspects_and_the_board_turns_green(app, client, auth, travel):
    travel(MON_1000)
    auth.login("manager")
    # refused: a window longer than a week, named beside its field; nothing saved
    response = client.post("/plans/new", data={**FORM, "window_days": "9"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "检查窗口比两次检查的间隔（7 天）还长" in page and 'value="9"' in page
    assert "还没有检查计划" in client.get("/plans").get_data(as_text=True)
    response = client.post("/plans/new", data={**FORM, "inspectors": ["sup2"]})
    assert response.status_code == 422 and "sup2 不能检查 W1" in response.get_data(as_text=True)
    response = client.post("/plans/new", data=FORM)
    assert response.status_code == 303 and response.location.endswith("/plants/P1/plan-board")
    board = client.get("/plants/P1/plan-board").get_data(as_text=True)
    assert 'data-state="due"' in _cell(board, "W1", "2026-11-30")
    assert 'data-state="upcoming"' in _cell(board, "W1", "2026-12-07")
    assert "data-state" not in _cell(board, "W2", "2026-11-30")  # W2 has no plan
    auth.logout()

    auth.login("sup1")
    home = client.get("/").get_data(as_text=True)
    assert "本周待检" in home and 'data-state="due"' in home
    assert home.index("本周待检") < home.index("车间</h1>")  # the home screen leads with it
    start = client.post("/workshops/W1/inspections", data={"checklist": "standard-6s"})
    inspection = int(start.location.rsplit("/", 1)[1])
    assert f'/inspections/{inspection}"' in client.get("/").get_data(as_text=True)  # 继续 instead of 开始
    answer_all_in_one_go(app, inspection)
    assert submit(client, inspection).status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert 'data-state="done"' in home and 'data-action="start-planned"' not in home
    auth.logout()

    auth.login("manager")
    board = client.get("/plants/P1/plan-board").get_data(as_text=True)
    assert 'data-state="done"' in _cell(board, "W1", "2026-11-30")
    assert 'data-figure="completion">100%' in board and 'data-figure="on-time">100%' in board


def test_skipping_on_screen_needs_a_reason_and_a_manager(client, auth, travel):
    travel(MON_1000)
    auth.login("manager")
    client.post("/plans/new", data=FORM)
    board = client.get("/plants/P1/plan-board").get_data(as_text=True)
    link = _cell(board, "W1", "2026-12-07")
    page_url = board.split('data-week="2026-12-07" data-state="upcoming">', 1)[1].split('href="', 1)[1].split('"')[0]
    assert link and page_url.startswith("/occurrences/")
    response = client.post(page_url + "/skip", data={"reason": "  "})
    assert response.status_code == 422 and "请填写跳过的原因" in response.get_data(as_text=True)
    assert client.post(page_url + "/skip", data={"reason": "停产检修"}).status_code == 303
    page = client.get(page_url).get_data(as_text=True)
    assert "停产检修" in page and 'data-state="skipped"' in page and 'data-action="skip"' not in page
    auth.logout()
    auth.login("sup1")
    assert client.post(page_url + "/skip", data={"reason": "x"}).status_code == 403
    assert client.get("/plans/new").status_code == 403
    auth.logout()
    auth.login("sup2")  # W2 only: W1's occurrence does not exist for them
    assert client.get(page_url).status_code == 404
    assert client.get("/plants/P2/plan-board").status_code == 404


@pytest.mark.parametrize(("repeat", "fields", "first_windows"), [
    ("biweekly", {"weekday": "WE"}, ["2026-12-02", "2026-12-16", "2026-12-30"]),
    ("monthly_weekday", {"nth": "1", "weekday": "TU"}, ["2026-12-01", "2027-01-05", "2027-02-02"]),
    ("monthly_day", {"monthday": "-1"}, ["2026-11-30", "2026-12-31", "2027-01-31"]),
])
def test_the_editor_preview_shows_the_next_windows(client, auth, travel, repeat, fields, first_windows):
    travel(MON_1000)
    auth.login("manager")
    response = client.get("/plans/preview", headers={"HX-Request": "true"},
                          query_string={**FORM, "repeat": repeat, **fields, "window_days": "1"})
    page = response.get_data(as_text=True)
    opens = [part.split('"', 1)[0] for part in page.split('data-opens="')[1:]]
    assert opens[:3] == first_windows
    assert "<html" not in page
