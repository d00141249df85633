"""完成率, 及时率 and missed inspections on the dashboards, the 评比 (screen and PDF), the workshop's trend; and
the plant's rule that a missed inspection counts as 0 in the ranking. Pure parts first, then SQLite and
PostgreSQL."""

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from accounts.models import Plant
from inspections.trends import TrendPoint
from plans.figures import interleave_missed, trend_with_missed
from reports.periods import league_table
from tests.browser.conftest import ARTIFACTS
from tests.helpers import answer_all_in_one_go, drawn_signature, token_headers
from tests.seed import PASSWORD
from tests.test_period_reports import pdf_text


def _point(percent: float, n: int) -> TrendPoint:
    return TrendPoint(inspection_id=n, submitted_at=datetime(2026, 11, n, tzinfo=UTC), overall_percent=percent,
                      grade=None, checklist_key="standard-6s", version_number=2, category_percents={"sort": percent})


def test_a_missed_inspection_counts_as_zero_only_where_the_plant_says_so():
    workshops = [("A", "甲"), ("B", "乙")]
    this = {"A": [_point(70, 1)], "B": [_point(95, 2)]}
    plain = league_table(workshops, this, {}, ["sort"], missed={"B": 3})
    assert [(r.workshop_code, r.rank, r.missed, r.missed_counted) for r in plain] == [
        ("B", 1, 3, False), ("A", 2, 0, False)]
    counted = league_table(workshops, this, {}, ["sort"], missed={"B": 3}, zero_for_missed={"B"})
    assert [(r.workshop_code, r.rank, round(r.average, 2)) for r in counted] == [("A", 1, 70.0), ("B", 2, 23.75)]
    # a workshop never inspected but with missed weeks ranks (at 0) when they count, stays unranked otherwise
    only_missed = league_table([("C", "丙")], {}, {}, ["sort"], missed={"C": 2}, zero_for_missed={"C"})
    assert (only_missed[0].rank, only_missed[0].average) == (1, 0.0)
    assert league_table([("C", "丙")], {}, {}, ["sort"], missed={"C": 2})[0].rank is None


@given(st.lists(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=12),
       st.lists(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=12))
def test_missed_windows_take_their_places_on_the_axis(points, missed):
    points, missed = sorted(points), sorted(missed)
    order = interleave_missed(points, missed)
    assert sorted(i for kind, i in order if kind == "point") == list(range(len(points)))
    assert sorted(i for kind, i in order if kind == "missed") == list(range(len(missed)))
    days = [points[i] if kind == "point" else missed[i] for kind, i in order]
    assert days == sorted(days)
    axis = trend_with_missed([d.isoformat() for d in points], [("总分", tuple(range(len(points))))],
                             [i for i in range(1, len(points), 3)], points, missed, lambda d: "x" + d.isoformat())
    values = axis.series[0][1]
    assert [values[i] for i in axis.missed] == [None] * len(missed)  # the line breaks at each missed window
    assert [v for v in values if v is not None] == list(range(len(points)))
    assert [values[i] for i in axis.markers] == [i for i in range(1, len(points), 3)]


NOV_2 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 2 November, 10:00 in Shanghai
DEC_2 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _inspect(client, headers, workshop: str, score: int) -> int:
    inspection = client.post(f"/api/v1/workshops/{workshop}/inspections", headers=headers).get_json()["id"]
    answer_all_in_one_go(client.application, inspection, score=score)
    assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=headers,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    return inspection


def test_figures_on_the_dashboard_the_pdf_and_the_trend(app, client, auth, travel, tmp_path):
    travel(NOV_2)
    manager = token_headers(app, "manager")
    assert client.post("/api/v1/plans", headers=manager, json={
        "workshop": "W2", "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-02",
        "window_days": 2}).status_code == 201
    _inspect(client, token_headers(app, "sup1"), "W1", 3)  # W1: no plan, a middling score
    _inspect(client, token_headers(app, "sup2"), "W2", 4)  # W2: the top score, then no more (4 weeks missed)
    travel(DEC_2)
    auth.login("manager")
    page = client.get("/plants/P1?month=2026-11").get_data(as_text=True)
    assert 'data-figure="completion">20%' in page and 'data-figure="missed">4' in page
    w2 = page.split('data-workshop-code="W2"', 1)[1].split("</tr>", 1)[0]
    assert w2.startswith(' data-rank="1"') and 'data-missed="4"' in w2
    text = pdf_text(client.get("/plants/P1/report.pdf?month=2026-11").data, tmp_path)
    assert "检查计划执行" in text and "11-09、11-16、11-23、11-30" in text and "不计入平均分" in text

    # the plant counts missed inspections as 0: W2 falls behind W1
    with Session(app.extensions["engine"]) as session:
        session.exec(select(Plant).where(Plant.code == "P1")).one().missed_counts_as_zero = True
        session.commit()
    page = client.get("/plants/P1?month=2026-11").get_data(as_text=True)
    assert page.split('data-workshop-code="W2"', 1)[1].startswith(' data-rank="2"') and "计 0 分" in page

    # the workshop's trend breaks at each missed week instead of joining across it
    page = client.get("/workshops/W2?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    chart = page.split('<figure class="chart"', 1)[1].split("</figure>", 1)[0]
    assert chart.count('class="missed"') == 4 and "11-09 漏检" in chart
    assert 'data-figure="completion">20%' in page


def test_the_group_page_shows_each_plants_completion(app, client, auth, travel):
    travel(NOV_2)
    manager = token_headers(app, "manager")
    for plant in ("P1", "P2"):
        assert client.post("/api/v1/plans", headers=manager, json={
            "plant": plant, "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-02",
            "window_days": 2}).status_code == 201
    _inspect(client, token_headers(app, "sup1"), "W1", 3)
    travel(DEC_2)
    auth.login("manager")
    page = client.get("/plants?month=2026-11").get_data(as_text=True)
    p1 = page.split('data-plant-code="P1"', 1)[1].split("</tr>", 1)[0]
    p2 = page.split('data-plant-code="P2"', 1)[1].split("</tr>", 1)[0]
    assert "data-completion>10%" in p1  # W1 once, W2 never: 1 of 10 (5 Mondays × 2 workshops)
    assert "data-completion>0%" in p2


def test_the_workshop_report_pdf_marks_the_missed_weeks(app, client, auth, travel, tmp_path):
    travel(NOV_2)
    assert client.post("/api/v1/plans", headers=token_headers(app, "manager"), json={
        "workshop": "W2", "checklist": "standard-6s", "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": "2026-11-02",
        "window_days": 2}).status_code == 201
    _inspect(client, token_headers(app, "sup2"), "W2", 4)
    travel(DEC_2)
    auth.login("manager")
    response = client.get("/workshops/W2/report.pdf?from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200, response.data[:300]
    text = pdf_text(response.data, tmp_path)
    (ARTIFACTS / "plan-workshop-report.pdf").write_bytes(response.data)  # looked at as PNG pages
    flat = text.replace("\n", "").replace(" ", "")
    assert "完成率20%" in flat and "11-09、11-16、11-23、11-30" in flat, flat[flat.find("检查计划") - 50:][:300]
    assert "11-16漏检" in flat  # the chart's axis names each missed week
