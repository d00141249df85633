"""A workshop's control chart through the API (SQLite and PostgreSQL): limits from the baseline, signals naming
the inspection, too few points said instead of drawn, refusals naming the field."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from tests.helpers import answer_all_in_one_go, drawn_signature, token_headers
from tests.seed import PASSWORD


def _inspect(client, headers, scores) -> int:
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    answer_all_in_one_go(client.application, inspection, score=scores)
    assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=headers,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    return inspection


def test_the_chart_of_a_workshop_flags_the_week_that_fell(app, client, travel):
    sup = token_headers(app, "sup1")
    start = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    ids = []
    for week, score in enumerate([3, 3, 3, 3, 3, 3, 1]):
        travel(start + timedelta(weeks=week))
        ids.append(_inspect(client, sup, score))
    few = client.get("/api/v1/workshops/W1/control-chart?baseline=3", headers=sup).get_json()
    assert few["centre"] is None and "no limits" in few["note"] and len(few["points"]) == 7
    chart = client.get("/api/v1/workshops/W1/control-chart?baseline=6", headers=sup).get_json()
    assert chart["centre"] == 75.0 and chart["points"][-1]["value"] == 25.0
    # identical weeks: no moving range, so the limits close on the centre and the fall is a signal
    assert chart["lower"] == chart["upper"] == 75.0 and chart["mr_upper"] == 0.0
    assert chart["points"][-1]["moving_range"] == 50.0 and chart["points"][0]["moving_range"] is None
    assert [(s["rule"], s["inspection"]) for s in chart["signals"]] == [(1, ids[-1])]
    assert chart["signals"][0]["text"] == f"{chart['points'][-1]['date']} 超出下控制限"
    sort = client.get("/api/v1/workshops/W1/control-chart?series=sort&baseline=6&rules=1,2,3,4", headers=sup)
    assert sort.status_code == 200 and sort.get_json()["series"] == "sort"
    for query, field in (("series=nope", "series"), ("rules=5", "rules"), ("baseline=x", "baseline"),
                         ("from=2026-01-01", "from")):
        response = client.get(f"/api/v1/workshops/W1/control-chart?{query}", headers=sup)
        assert response.status_code == 422 and response.get_json()["items"] == [field], query
    assert client.get("/api/v1/workshops/W3/control-chart", headers=sup).status_code == 404


def test_the_control_chart_page_draws_limits_and_names_the_signal(app, client, auth, travel):
    sup = token_headers(app, "sup1")
    start = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    for week, score in enumerate([3, 2, 3, 3, 2, 3, 0]):
        travel(start + timedelta(weeks=week))
        _inspect(client, sup, score)
    auth.login("sup1")
    assert 'data-action="control-chart"' in client.get("/workshops/W1").get_data(as_text=True)
    page = client.get("/workshops/W1/control-chart?baseline=6&rule=1&rule=2").get_data(as_text=True)
    svg = page.split('<figure class="chart control-chart"', 1)[1].split("</figure>", 1)[0]
    assert svg.count('class="limit"') == 5 and svg.count('class="signal"') == 1  # UNPL x̄ LNPL, URL mR̄
    assert "10-13 超出下控制限" in page
    few = client.get("/workshops/W1/control-chart?baseline=2").get_data(as_text=True)
    assert "data-no-limits" in few and 'class="limit"' not in few
    bad = client.get("/workshops/W1/control-chart?baseline=x&series=nope")
    assert bad.status_code == 422 and "没有这个类别" in bad.get_data(as_text=True)
    assert client.get("/workshops/W3/control-chart").status_code == 404


def _inspect_with(client, headers, low: dict[str, int]) -> int:
    inspection = client.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    answer_all_in_one_go(client.application, inspection, scores=low)
    assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=headers,
                       json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    return inspection


def test_pareto_of_findings_by_item_and_category(app, client, travel):
    sup = token_headers(app, "sup1")
    travel(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    first = _inspect_with(client, sup, {"sort-01": 0, "sort-02": 1, "shine-01": 0})
    travel(datetime(2026, 11, 9, 2, 0, tzinfo=UTC))
    second = _inspect_with(client, sup, {"sort-01": 0, "shine-01": 1})
    travel(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    third = _inspect_with(client, sup, {"sort-01": 1})
    response = client.get("/api/v1/pareto?workshop=W1&from=2026-11-01&to=2026-11-30", headers=sup)
    assert response.status_code == 200, response.data
    found = response.get_json()
    assert [(r["key"], r["count"], r["percent"], r["cumulative_percent"]) for r in found["rows"]] == [
        ("sort-01", 3, 50.0, 50.0), ("shine-01", 2, 33.33, 83.33), ("sort-02", 1, 16.67, 100.0)]
    assert found["rows"][0]["inspections"] == [third, second, first] and found["total"] == 6
    assert [r["vital"] for r in found["rows"]] == [True, True, False]
    by_category = client.get("/api/v1/pareto?workshop=W1&from=2026-11-01&to=2026-11-30&by=category",
                             headers=sup).get_json()
    assert [(r["key"], r["count"]) for r in by_category["rows"]] == [("sort", 4), ("shine", 2)]
    # a period without the last inspection; the plant; refusals
    assert client.get("/api/v1/pareto?plant=P1&from=2026-11-01&to=2026-11-10", headers=sup).get_json()["total"] == 5
    for query, field in (("by=shift", "by"), ("from=2026-12-01&to=2026-11-01", "from"), ("month=2026-11", "month")):
        response = client.get(f"/api/v1/pareto?workshop=W1&{query}", headers=sup)
        assert response.status_code == 422 and response.get_json()["items"][0] == field, query
    assert client.get("/api/v1/pareto?workshop=W3", headers=sup).status_code == 404


def test_the_pareto_page_draws_the_bars_and_lists_what_is_behind_them(app, client, auth, travel):
    sup = token_headers(app, "sup1")
    travel(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    first = _inspect_with(client, sup, {"sort-01": 0, "shine-01": 0})
    travel(datetime(2026, 11, 9, 2, 0, tzinfo=UTC))
    second = _inspect_with(client, sup, {"sort-01": 0})
    auth.login("sup1")
    assert 'data-action="pareto"' in client.get("/workshops/W1").get_data(as_text=True)
    page = client.get("/pareto?workshop=W1&from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    svg = page.split('<figure class="chart pareto-chart"', 1)[1].split("</figure>", 1)[0]
    assert svg.count("<rect") == 2 and 'href="#behind-sort-01"' in svg and 'class="cumulative"' in svg
    row = page.split('id="behind-sort-01"', 1)[1].split("</tr>", 1)[0]
    assert f"/inspections/{second}" in row and f"/inspections/{first}" in row and "66.7%" in row
    bad = client.get("/pareto?workshop=W1&from=2026-12-01&to=2026-11-01")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    assert client.get("/pareto?workshop=W3").status_code == 404
    # the group's month: every workshop the manager sees, both plants
    auth.login("manager")
    group = client.get("/plants?month=2026-11").get_data(as_text=True)
    assert 'href="/pareto?from=2026-11-01&amp;to=2026-11-30" data-action="pareto"' in group
    whole = client.get("/pareto?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert "全部车间" in whole and 'id="behind-sort-01"' in whole


def test_the_reports_carry_the_control_chart_and_the_pareto(app, client, auth, travel, tmp_path):
    from tests.browser.conftest import ARTIFACTS
    from tests.test_period_reports import pdf_text

    sup = token_headers(app, "sup1")
    start = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    for week, low in enumerate([{"sort-01": 0}, {"sort-01": 0, "shine-01": 1}, {}, {"sort-01": 1}, {}]):
        travel(start + timedelta(days=5 * week))
        _inspect_with(client, sup, low)
    travel(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    auth.login("manager")
    workshop_pdf = client.get("/workshops/W1/report.pdf?from=2026-11-01&to=2026-11-30")
    (ARTIFACTS / "quality-workshop-report.pdf").write_bytes(workshop_pdf.data)  # looked at as PNG pages
    text = pdf_text(workshop_pdf.data, tmp_path).replace(" ", "")
    assert "过程控制图（XmR，总分）" in text and "自然过程限" in text and "由前5次检查算出" in text
    assert "问题排列图（本期4个问题）" in text
    plant_text = pdf_text(client.get("/plants/P1/report.pdf?month=2026-11").data, tmp_path).replace(" ", "")
    assert "问题排列图（本月4个问题）" in plant_text


def test_managers_see_who_scores_high_on_the_same_floors(app, client, auth, travel):
    travel(datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    _inspect_with(client, token_headers(app, "sup1"), {})  # every item 3: 75 %
    travel(datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    _inspect_with(client, token_headers(app, "manager"), {"sort-01": 0, "sort-02": 0, "sort-03": 0})
    travel(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    auth.login("manager")
    page = client.get("/plants/P1?month=2026-11").get_data(as_text=True)
    section = page.split('data-section="leniency"', 1)[1].split("</section>", 1)[0]
    assert "sup1 平均比其他检查员高" in section and "manager 平均比其他检查员低" in section
    assert section.index("sup1") < section.index("manager")  # most lenient first
    months = section.split('class="leniency-months"', 1)[1]
    sup1_row = months.split('<tr data-inspector="sup1">', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num" data-month="2026-11">+' in sup1_row and '<td class="num" data-month="2026-10">—' in sup1_row
    auth.logout()
    auth.login("sup1")
    assert 'data-section="leniency"' not in client.get("/plants/P1?month=2026-11").get_data(as_text=True)


def test_a_joint_inspection_counts_in_leniency_though_not_in_trends(app, client, auth, travel):
    """Two inspectors on the same floor on the same day are leniency's best evidence: the calibration copies count
    there, and only there."""
    from tests.test_calibration import _fill, _submit

    travel(datetime(2026, 10, 6, 2, 0, tzinfo=UTC))
    manager, sup1 = token_headers(app, "manager"), token_headers(app, "sup1")
    started = client.post("/api/v1/workshops/W1/calibrations", headers=manager,
                          json={"inspectors": ["sup1", "manager"]}).get_json()
    copy = {c["inspector"]: c["inspection"] for c in started["copies"]}
    _fill(client, sup1, copy["sup1"], {})
    _fill(client, manager, copy["manager"], {"sort-01": 0, "sort-02": 0})
    _submit(client, sup1, copy["sup1"])
    _submit(client, manager, copy["manager"])
    travel(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    auth.login("manager")
    section = client.get("/plants/P1?month=2026-10").get_data(as_text=True).split('data-section="leniency"', 1)[1]
    row = section.split('<tr data-inspector="sup1">', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num" data-month="2026-10">+' in row
    assert client.get("/api/v1/workshops/W1/trend", headers=manager).get_json()["inspections"] == []


def test_the_like_for_like_view_runs_the_chart_through_a_version_change(app, client, travel):
    """Since the last version change the chart has two points and no limits; like for like it has all six, each
    scored on the items both versions share, so the new item's zeros do not show as a fall."""
    from checklists.drafts import add_item
    from checklists.models import Checklist, ChecklistVersion
    from checklists.service import new_draft, publish_version

    sup = token_headers(app, "sup1")
    start = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    for week in range(4):
        travel(start + timedelta(weeks=week))
        _inspect(client, sup, 3)
    travel(start + timedelta(weeks=4))
    with Session(app.extensions["engine"]) as session:
        draft = new_draft(session=session, checklist=session.exec(select(Checklist)).one())
        add_item(session=session, category=draft.categories[0], text="新增：废料桶每日清空")
        publish_version(session=session, version=draft, user=None, note="加一项")
        session.commit()
        new_key = session.exec(select(ChecklistVersion).where(ChecklistVersion.id == draft.id)).one() \
            .categories[0].items[-1].key
    for week in (5, 6):
        travel(start + timedelta(weeks=week))
        inspection = client.post("/api/v1/workshops/W1/inspections", headers=sup).get_json()["id"]
        answer_all_in_one_go(app, inspection, score=3)
        assert client.put(f"/api/v1/inspections/{inspection}/answers/{new_key}", headers=sup,
                          json={"score": 0}).status_code == 200
        assert client.post(f"/api/v1/inspections/{inspection}/submit", headers=sup,
                           json={"signature": drawn_signature(), "password": PASSWORD}).status_code == 200
    recent = client.get("/api/v1/workshops/W1/control-chart", headers=sup).get_json()
    assert recent["view"] == "version" and recent["since_version_change"] and len(recent["points"]) == 2
    assert recent["centre"] is None and recent["points"][0]["value"] < 75.0
    like = client.get("/api/v1/workshops/W1/control-chart?view=like", headers=sup).get_json()
    assert like["view"] == "like" and not like["since_version_change"] and len(like["points"]) == 6
    assert {p["value"] for p in like["points"]} == {75.0} and like["centre"] == 75.0 and like["signals"] == []
    bad = client.get("/api/v1/workshops/W1/control-chart?view=all", headers=sup)
    assert bad.status_code == 422 and bad.get_json()["items"] == ["view"]
    from tests.conftest import AuthActions

    AuthActions(client).login("sup1")
    page = client.get("/workshops/W1/control-chart?view=like").get_data(as_text=True)
    assert 'data-points="6"' in page and '<option value="like" selected>' in page
