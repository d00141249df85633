"""Trend history on paper: the workshop report over a period and the plant's monthly 评比."""

import re
import subprocess
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checklists.schemes import DEFAULT_GRADES
from clock.periods import Period, PeriodError, parse_month, parse_period, previous_month
from inspections.trends import TrendPoint
from reports.periods import FindingRow, band_colour, league_table, top_findings
from tests.conftest import AuthActions
from tests.helpers import answer_all_in_one_go, plant_today, published_items, start, submit

TODAY = date(2026, 11, 24)


# ---- pure ----

def test_periods_default_to_twelve_weeks_and_refuse_nonsense():
    assert parse_period(None, None, TODAY) == Period(date(2026, 9, 2), TODAY)
    assert parse_period("2026-01-01", "2026-03-31", TODAY).days == 90
    for raw_from, raw_to, code in (("2026-13-01", None, "bad_date"), ("2026-05-01", "2026-04-01", "reversed"),
                                   ("2020-01-01", "2026-01-01", "too_long"), ("yesterday", None, "bad_date"),
                                   ("1899-12-31", None, "bad_date"), (None, "9999-01-01", "bad_date")):
        with pytest.raises(PeriodError) as refused:
            parse_period(raw_from, raw_to, TODAY)
        assert refused.value.code == code


def test_months():
    assert parse_month("2026-02", TODAY) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert parse_month(None, TODAY) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert previous_month(parse_month("2026-01", TODAY)) == Period(date(2025, 12, 1), date(2025, 12, 31))
    for raw in ("2026-13", "11/2026", "2026", "1899-12", "9999-01"):  # the last two: outside the days we store
        with pytest.raises(PeriodError) as refused:
            parse_month(raw, TODAY)
        assert refused.value.code == "bad_month"


def finding(key, day, inspection_id, text="text"):
    return FindingRow(item_key=key, item_text=text, category_name="整理", inspection_id=inspection_id,
                      submitted_at=datetime(2026, 11, day, tzinfo=UTC), score=1, note="")


def test_top_findings_count_by_stable_key_and_keep_the_latest_wording():
    rows = [finding("a", 1, 1, "作台"), finding("a", 8, 2, "工作台"), finding("b", 9, 3), finding("c", 2, 1),
            finding("c", 9, 3), finding("d", 3, 1)]
    counts = top_findings(rows, limit=3)
    assert [(c.item_key, c.count) for c in counts] == [("c", 2), ("a", 2), ("b", 1)]  # ties: most recent first
    assert counts[1].item_text == "工作台" and counts[1].inspection_ids == (1, 2)


def point(overall, day, **categories):
    return TrendPoint(inspection_id=day, submitted_at=datetime(2026, 11, day, tzinfo=UTC), overall_percent=overall,
                      grade=None, checklist_key="s", version_number=1, category_percents=categories)


def test_league_ranks_by_monthly_average_with_ties_and_empty_workshops_last():
    workshops = [("A", "甲"), ("B", "乙"), ("C", "丙"), ("D", "丁")]
    this = {"A": [point(80, 1, sort=70), point(90, 8, sort=90)], "B": [point(85, 2)], "C": [point(85, 3)]}
    last = {"A": [point(70, 1)], "C": [point(90, 2)]}
    rows = league_table(workshops, this, last, ["sort"])
    assert [(r.workshop_code, r.rank) for r in rows] == [("A", 1), ("B", 1), ("C", 1), ("D", None)]
    a = rows[0]
    assert (a.average, a.latest, a.previous_average, a.change, a.inspections) == (85, 90, 70, 15, 2)
    assert a.category_averages == {"sort": 80}
    assert rows[2].change == -5 and rows[1].change is None


def test_heat_colours_follow_the_grade_bands():
    assert band_colour(95, DEFAULT_GRADES) == "#15803d"
    assert band_colour(59.9, DEFAULT_GRADES) == "#b91c1c"
    assert band_colour(None, DEFAULT_GRADES) == "#e2e8f0"
    assert band_colour(75, ((50.0, "合格"), (0.0, "不合格"))) == "#15803d"


# ---- the PDFs ----

def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return re.sub(r"\s+", "", subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                             text=True, check=True).stdout)


def inspect(app, client, workshop, score_for):
    """An inspection answered in one go (these tests are about what the records add up to), submitted by form."""
    inspection_id = start(client, workshop)
    answer_all_in_one_go(app, inspection_id, scores={
        item.key: score_for(i, item) for i, item in enumerate(published_items(app))})
    assert submit(client, inspection_id).status_code == 303
    return inspection_id


def test_workshop_report_shows_each_inspection_the_repeat_and_the_open_findings(app, client, tmp_path):
    AuthActions(client).login("sup1")
    items = published_items(app)
    always_low, once_low = items[4], items[50]
    inspect(app, client, "W1", lambda i, item: 1 if item.key in (always_low.key, once_low.key) else 4)
    inspect(app, client, "W1", lambda i, item: 0 if item.key == always_low.key else 3)
    response = client.get("/workshops/W1/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    assert "6S车间检查趋势报告" in text and "一号车间（W1）" in text and "检查次数2" in text
    assert text.count("sup1") == 2  # one row per inspection
    repeat = text.split("重复出现的问题（前10项）")[1].split("未关闭的问题")[0]
    assert "1整理·" + re.sub(r"\s+", "", always_low.text) + "2/2" in repeat  # first, found both times
    assert re.sub(r"\s+", "", once_low.text) + "1/2" in repeat
    still_open = text.split("未关闭的问题")[1].split("整改措施：")[0]
    assert re.sub(r"\s+", "", always_low.text) in still_open
    assert re.sub(r"\s+", "", once_low.text) not in still_open
    # a period with nothing in it says so
    empty = client.get("/workshops/W1/report.pdf?from=2020-01-01&to=2020-02-01")
    assert "本期间没有已提交的检查" in pdf_text(empty.data, tmp_path)


def test_bad_periods_are_explained(client):
    AuthActions(client).login("sup1")
    response = client.get("/workshops/W1/report.pdf?from=2026-05-01&to=2026-04-01")
    assert response.status_code == 422 and "开始日期晚于结束日期" in response.text
    response = client.get("/workshops/W1/report.pdf?from=1.5.2026")
    assert response.status_code == 422 and "2026-11-01" in response.text
    assert client.get("/plants/P1/report.pdf?month=2026-13").status_code == 422


@pytest.mark.clock
def test_plant_league_ranks_workshops_and_shows_only_what_the_reader_may_see(app, client, tmp_path, clock_at):
    auth = AuthActions(client)
    auth.login("manager")
    inspect(app, client, "W1", lambda i, item: 4 if i % 4 else 2)  # ~ 87.5 %
    inspect(app, client, "W2", lambda i, item: 2)  # 50 %
    inspect(app, client, "W3", lambda i, item: 4)  # another plant
    month = plant_today().strftime("%Y-%m")
    text = pdf_text(client.get(f"/plants/P1/report.pdf?month={month}").data, tmp_path)
    assert "一厂" in text and "6S评比" in text and "三号车间" not in text
    league = text.split("排名")[1]
    assert league.index("一号车间（W1）") < league.index("二号车间（W2）")
    assert re.search(r"1一号车间（W1）1\d\d\.\d%", league) and re.search(r"2二号车间（W2）150\.0%", league)
    assert "车间×类别热力图" in text and "前三名" in text
    auth.logout()
    auth.login("sup1")
    text = pdf_text(client.get(f"/plants/P1/report.pdf?month={month}").data, tmp_path)
    assert "一号车间" in text and "二号车间" not in text
    assert client.get("/plants/P2/report.pdf").status_code == 404  # no workshop of P2 in sup1's scope
    assert client.get("/plants/NOPE/report.pdf").status_code == 404


@pytest.mark.clock
def test_plant_dashboard_and_league_api_agree_and_keep_to_scope(app, client, clock_at):
    from tests.helpers import token_headers

    auth = AuthActions(client)
    auth.login("manager")
    inspect(app, client, "W1", lambda i, item: 4 if i % 4 else 2)
    inspect(app, client, "W2", lambda i, item: 2)
    month = plant_today().strftime("%Y-%m")
    page = client.get(f"/plants/P1?month={month}")
    assert page.status_code == 200
    ranks = re.findall(r'<tr data-workshop-code="(W\d)" data-rank="(\d*)">', page.text)
    assert ranks == [("W1", "1"), ("W2", "2")]
    assert 'class="num heat-cell heat-4"' in page.text  # W2's 50 % is the worst band
    # every number leads to the inspections behind it: the workshop's page for that month (and category)
    behind = r'href="/workshops/W2\?category=sort&amp;from=\d{4}-\d\d-01&amp;to=\d{4}-\d\d-\d\d">50</a>'
    assert re.search(behind, page.text)
    headers = token_headers(app, "manager")
    body = client.get(f"/api/v1/plants/P1/league?month={month}", headers=headers).get_json()
    assert body["plant"] == "P1" and body["month"] == month and body["inspections"] == 2
    assert [(w["code"], w["rank"]) for w in body["workshops"]] == [("W1", 1), ("W2", 2)]
    assert body["workshops"][1]["average"] == 50.0 and body["workshops"][1]["categories"]["sort"] == 50.0
    assert [c["key"] for c in body["categories"]][:2] == ["sort", "set-in-order"]
    assert client.get("/api/v1/plants/P1/league?month=2026-13", headers=headers).status_code == 422
    # a supervisor sees their own workshop only, on the screen and through the API
    sup = token_headers(app, "sup1")
    body = client.get(f"/api/v1/plants/P1/league?month={month}", headers=sup).get_json()
    assert [w["code"] for w in body["workshops"]] == ["W1"]
    assert client.get("/api/v1/plants/P2/league", headers=sup).status_code == 404
    auth.logout()
    auth.login("sup1")
    assert re.findall(r'<tr data-workshop-code="(W\d)"', client.get(f"/plants/P1?month={month}").text) == ["W1"]
    assert client.get("/plants/P2").status_code == 404
    # last month is empty: everyone unranked, no error
    empty = client.get("/plants/P1?month=2000-01")
    assert empty.status_code == 200 and 'data-rank=""' in empty.text


def test_workshop_page_lists_repeat_findings_and_marks_those_still_open(app, client):
    AuthActions(client).login("sup1")
    items = published_items(app)
    always, once = items[4], items[60]
    inspect(app, client, "W1", lambda i, item: 1 if item.key in (always.key, once.key) else 4)
    inspect(app, client, "W1", lambda i, item: 0 if item.key == always.key else 3)
    page = client.get("/workshops/W1").text
    listed = re.findall(r'<li data-item-code="([^"]+)"><span class="answer-score">(\d+)×', page)
    assert listed == [(always.key, "2"), (once.key, "1")]
    first, second = page.split(f'data-item-code="{always.key}"')[1].split(f'data-item-code="{once.key}"')
    assert "上次检查仍存在" in first and "上次检查仍存在" not in second.split("</li>")[0]


def test_workshop_page_period_and_chosen_categories(app, client):
    AuthActions(client).login("sup1")
    inspect(app, client, "W1", lambda i, item: 3)
    inspect(app, client, "W1", lambda i, item: 4)
    page = client.get("/workshops/W1").text
    assert 'data-points="2"' in page
    main = page.split('class="chart"')[1].split("</figure>")[0]
    assert set(re.findall(r'data-series="([^"]+)"', main)) == {"总分"}  # the overall only, by default
    assert page.count('class="mini-chart"') == 7  # one small chart per category
    chosen = client.get("/workshops/W1?category=sort&category=safety&category=nonsense").text
    main = chosen.split('class="chart"')[1].split("</figure>")[0]
    assert set(re.findall(r'data-series="([^"]+)"', main)) == {"总分", "整理", "安全"}
    assert 'value="sort" checked' in chosen and 'value="shine" checked' not in chosen
    empty = client.get("/workshops/W1?from=2020-01-01&to=2020-12-31")
    assert empty.status_code == 200 and "这段时间没有已提交的检查" in empty.text
    assert 'class="mini-chart"' not in empty.text
    bad = client.get("/workshops/W1?from=2026-02-30")
    assert bad.status_code == 422 and "日期格式应为" in bad.text and 'data-points="2"' in bad.text  # default period


def test_workshop_page_says_which_view_it_shows(app, client):
    AuthActions(client).login("sup1")
    inspect(app, client, "W1", lambda i, item: 3)
    full = client.get("/workshops/W1").text
    assert 'data-view="full"' in full and "各版完整评分：" in full
    like = client.get("/workshops/W1?view=like").text
    n = len(published_items(app))  # one version in the period: every item is common
    assert 'data-view="like"' in like and f"同口径：只按各版共有的 {n} 个检查项计分" in like
    assert re.search(r'<polyline data-series="总分"|<circle', like.split('data-view="like"')[1])


def test_the_group_and_plant_pages_are_not_found_for_someone_without_a_workshop(app, client):
    from sqlmodel import Session

    from accounts.service import create_user
    from tests.seed import PASSWORD

    with Session(app.extensions["engine"]) as session:
        create_user(session=session, username="newcomer", password=PASSWORD, role="supervisor")
        session.commit()
    AuthActions(client).login("newcomer")
    assert client.get("/plants").status_code == 404
    assert client.get("/plants/P1").status_code == 404
    assert client.get("/plants/P1/report.pdf").status_code == 404


@pytest.mark.clock
def test_group_dashboard_ranks_plants_within_scope(app, client, clock_at):
    auth = AuthActions(client)
    auth.login("manager")
    inspect(app, client, "W1", lambda i, item: 4)  # P1: W1 100 %, W2 50 % → 75 %
    inspect(app, client, "W2", lambda i, item: 2)
    inspect(app, client, "W3", lambda i, item: 3)  # P2: 75 %... a tie
    inspect(app, client, "W3", lambda i, item: 4)  # P2: (75 + 100) / 2 = 87.5 %
    month = plant_today().strftime("%Y-%m")
    page = client.get(f"/plants?month={month}")
    assert page.status_code == 200
    assert re.findall(r'<tr data-plant-code="(P\d)" data-rank="(\d*)">', page.text) == [("P2", "1"), ("P1", "2")]
    p1 = page.text.split('data-plant-code="P1"')[1].split("</tr>")[0]
    assert "一号车间</a> 100.0%" in p1 and "二号车间</a> 50.0%" in p1  # best and worst workshop
    assert client.get("/plants?month=2026-13").status_code == 422
    auth.logout()
    auth.login("sup1")  # one workshop, one plant
    assert re.findall(r'data-plant-code="(P\d)"', client.get("/plants").text) == ["P1"]


def test_group_table_is_the_mean_of_workshop_averages():
    from reports.periods import group_table

    workshops = [("A1", "甲1"), ("A2", "甲2"), ("B1", "乙1"), ("C1", "丙1")]
    this = {"A1": [point(90, 1, sort=90)], "A2": [point(70, 2, sort=50)], "B1": [point(85, 3, sort=85)]}
    league = league_table(workshops, this, {"A1": [point(60, 1)]}, ["sort"])
    rows = group_table([("A", "甲厂"), ("B", "乙厂"), ("C", "丙厂")], league,
                       {"A1": "A", "A2": "A", "B1": "B", "C1": "C"}, ["sort"])
    assert [(r.plant_code, r.rank, r.average) for r in rows] == [("B", 1, 85), ("A", 2, 80), ("C", None, None)]
    a = rows[1]
    assert (a.best.workshop_code, a.worst.workshop_code, a.inspections, a.workshops) == ("A1", "A2", 2, 2)
    assert a.category_averages == {"sort": 70} and a.change == 20  # last month only A1 was inspected: 60


def test_plant_average_by_month():
    from clock.periods import months_back
    from reports.periods import monthly_average

    months = months_back(parse_month("2026-02", TODAY), 3)
    assert [m.start for m in months] == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]

    def at(overall, month, day):
        year = 2026 if month < 12 else 2025
        return TrendPoint(inspection_id=day, submitted_at=datetime(year, month, day, tzinfo=UTC),
                          overall_percent=overall, grade=None, checklist_key="s", version_number=1)

    by_workshop = {1: [at(80, 1, 5), at(90, 1, 20), at(70, 2, 3)], 2: [at(60, 1, 9)]}
    assert monthly_average(by_workshop, months, lambda t: t.date()) == [None, (85 + 60) / 2, 70]


def test_plant_dashboard_shows_the_plant_average_over_twelve_months(app, client):
    AuthActions(client).login("manager")
    inspect(app, client, "W1", lambda i, item: 4)
    inspect(app, client, "W2", lambda i, item: 2)
    month = plant_today().strftime("%Y-%m")
    page = client.get(f"/plants/P1?month={month}").text
    assert 'data-months="12"' in page
    rows = re.findall(r'month=(\d{4}-\d\d)">\1</a></td><td class="num">([^<]+)</td>', page)
    assert len(rows) == 12 and rows[-1] == (month, "75.0%") and {v for _m, v in rows[:-1]} == {"—"}


def test_workshop_page_lists_the_findings_still_open(app, client):
    AuthActions(client).login("sup1")
    items = published_items(app)
    inspect(app, client, "W1", lambda i, item: 1 if item.key in (items[2].key, items[9].key) else 4)
    inspect(app, client, "W1", lambda i, item: 0 if item.key == items[9].key else 4)
    page = client.get("/workshops/W1").text
    section = page.split('class="card open-findings"')[1].split("</section>")[0]
    assert 'data-open-findings="1"' in section
    assert re.findall(r'<li data-item-code="([^"]+)">', section) == [items[9].key]


# ---- failed inspections in rankings (#34) ----

def failing(overall, day, passed=False, **categories):
    return TrendPoint(inspection_id=100 + day, submitted_at=datetime(2026, 11, day, tzinfo=UTC),
                      overall_percent=overall, grade=None, checklist_key="s", version_number=1,
                      category_percents=categories, passed=passed)


def test_a_failed_workshop_ranks_after_every_passing_one_and_is_never_best():
    from reports.periods import group_table

    workshops = [("A", "甲"), ("B", "乙"), ("C", "丙")]
    # A: 96 % but a critical item failed; B: 80 % passed; C: 70 % passed
    this = {"A": [failing(96, 1)], "B": [failing(80, 2, passed=True)], "C": [failing(70, 3, passed=True)]}
    league = league_table(workshops, this, {}, [])
    assert [(r.workshop_code, r.rank, r.passed, r.failed) for r in league] == [
        ("B", 1, True, 0), ("C", 2, True, 0), ("A", 3, False, 1)]
    (plant,) = group_table([("P", "厂")], league, {"A": "P", "B": "P", "C": "P"}, [])
    assert plant.best.workshop_code == "B" and plant.worst.workshop_code == "A" and plant.failed == 1
    # only failed workshops: none is "best"
    only = league_table([("A", "甲")], {"A": [failing(99, 1)]}, {}, [])
    assert group_table([("P", "厂")], only, {"A": "P"}, [])[0].best is None


@given(st.lists(st.tuples(st.floats(0, 100), st.booleans()), min_size=1, max_size=8))
def test_ranking_rule_holds_for_any_month(results):
    workshops = [(f"W{n}", f"车间{n}") for n in range(len(results))]
    this = {code: [failing(percent, 1, passed=passed)] for (code, _name), (percent, passed) in
            zip(workshops, results, strict=True)}
    league = league_table(workshops, this, {}, [])
    ranks = [(r.failed > 0, -r.average) for r in league]
    assert ranks == sorted(ranks)  # every passing workshop above every failing one, then by average
    assert all(a.rank <= b.rank for a, b in zip(league, league[1:], strict=False))
