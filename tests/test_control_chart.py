"""A workshop's control chart through the API (SQLite and PostgreSQL): limits from the baseline, signals naming
the inspection, too few points said instead of drawn, refusals naming the field."""

from datetime import UTC, datetime, timedelta

from tests.helpers import drawn_signature, token_headers
from tests.seed import PASSWORD


def _inspect(client, headers, scores) -> int:
    from tests.helpers import answer_all_api

    inspection = client.post("/api/v1/workshops/W1/inspections", headers=headers).get_json()["id"]
    answer_all_api(client, headers, inspection, score=scores)
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
