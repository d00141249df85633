"""Joint inspections for calibration (SQLite and PostgreSQL): copies hidden from each other until all are
submitted, the calibration report, the manager's choice of the official inspection (or a reconciled copy), and
calibration records kept out of trends, rankings, findings and plans."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from tests.helpers import drawn_signature, token_headers
from tests.seed import PASSWORD


def _add_supervisor(app, username="sup3", display_name="张班长", workshops=("W1",)):
    from accounts.service import create_user

    with Session(app.extensions["engine"]) as session:
        create_user(session=session, username=username, password=PASSWORD, role="supervisor",
                    display_name=display_name, workshop_codes=list(workshops))
        session.commit()


def _keys(app):
    from tests.helpers import published_items

    return [item.key for item in published_items(app)]


def _fill(client, headers, inspection_id, scores: dict[str, object], default=3):
    for key in _keys(client.application):
        response = client.put(f"/api/v1/inspections/{inspection_id}/answers/{key}", headers=headers,
                              json={"score": scores.get(key, default)})
        assert response.status_code == 200, response.data


def _submit(client, headers, inspection_id):
    response = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=headers,
                           json={"signature": drawn_signature(), "password": PASSWORD})
    assert response.status_code == 200, response.data
    return response.get_json()


def test_copies_stay_hidden_until_all_submit_then_the_manager_makes_one_official(app, client, travel):
    travel(datetime(2026, 11, 30, 15, 50, tzinfo=UTC))  # 23:50 in Shanghai: the copies are submitted after midnight
    _add_supervisor(app)
    manager, sup1, sup3 = (token_headers(app, u) for u in ("manager", "sup1", "sup3"))
    started = client.post("/api/v1/workshops/W1/calibrations", headers=manager,
                          json={"inspectors": ["sup1", "sup3"]})
    assert started.status_code == 201, started.data
    calibration = started.get_json()
    assert calibration["state"] == "open" and calibration["report"] is None
    copy = {c["inspector"]: c["inspection"] for c in calibration["copies"]}
    assert set(copy) == {"sup1", "sup3"} and copy["sup1"] != copy["sup3"]
    keys = _keys(app)
    sort_keys = [k for k in keys if k.startswith("sort-")]

    # each fills their own copy; a manager may not fill in a panel member's copy
    assert client.put(f"/api/v1/inspections/{copy['sup1']}/answers/{keys[0]}", headers=manager,
                      json={"score": 4}).status_code == 403
    travel(datetime(2026, 11, 30, 16, 10, tzinfo=UTC))
    _fill(client, sup1, copy["sup1"], {keys[0]: 1})
    assert _submit(client, sup1, copy["sup1"])["status"] == "calibration"
    # sup3 still has a draft: neither sees the other's copy, and the report is nobody's yet
    assert client.get(f"/api/v1/inspections/{copy['sup3']}", headers=sup1).status_code == 404
    assert client.get(f"/api/v1/inspections/{copy['sup1']}", headers=sup3).status_code == 404
    assert client.get(f"/inspections/{copy['sup1']}", headers=sup3).status_code == 404
    waiting = client.get(f"/api/v1/calibrations/{calibration['id']}", headers=sup1).get_json()
    assert waiting["state"] == "open" and waiting["report"] is None
    # the manager, not on the panel, follows both
    assert client.get(f"/api/v1/inspections/{copy['sup3']}", headers=manager).status_code == 200

    _fill(client, sup3, copy["sup3"], {k: 2 for k in sort_keys} | {keys[0]: "na"})
    _submit(client, sup3, copy["sup3"])
    assert client.get(f"/api/v1/inspections/{copy['sup1']}", headers=sup3).status_code == 200
    found = client.get(f"/api/v1/calibrations/{calibration['id']}", headers=sup1).get_json()
    assert found["state"] == "complete" and found["official"] is None
    report = found["report"]
    by_item = {r["item"]: r for r in report["items"]}
    assert by_item[keys[0]]["scores"] == {"sup1": 1, "sup3": "na"} and by_item[keys[0]]["spread"] is None
    assert by_item[sort_keys[1]]["scores"] == {"sup1": 3, "sup3": 2} and by_item[sort_keys[1]]["spread"] == 1
    categories = {c["key"]: c for c in report["categories"]}
    # 整理: sup1 3s, sup3 2s on every scored item — a constant one-level gap, so no agreement beyond chance
    assert categories["sort"]["mean_absolute_difference"] == 1.0 and categories["sort"]["fleiss_kappa"] < 0
    # every other category: both scored 3 on every item — kappa undefined, no difference at all
    assert categories["shine"]["fleiss_kappa"] is None and categories["shine"]["mean_absolute_difference"] == 0.0
    scored = len(keys) - 1
    gap = (len(sort_keys) - 1) / scored
    assert report["bias"]["sup1"] == round(gap, 3) and report["bias"]["sup3"] == round(-gap, 3)
    assert report["unit"] == "level"

    # calibration records count nowhere until one is official
    assert client.get("/api/v1/workshops/W1/trend", headers=manager).get_json()["inspections"] == []
    assert client.get("/api/v1/pareto?workshop=W1&from=2026-11-01&to=2026-12-31",
                      headers=manager).get_json()["total"] == 0
    assert client.get("/api/v1/actions?workshop=W1", headers=manager).get_json()["actions"] == []

    # only a manager decides; a supervisor is refused, a copy outside the panel is named
    assert client.post(f"/api/v1/calibrations/{calibration['id']}/official", headers=sup1,
                       json={"inspection": copy["sup1"]}).status_code == 403
    stranger = client.post(f"/api/v1/calibrations/{calibration['id']}/official", headers=manager,
                           json={"inspection": 999999})
    assert stranger.status_code == 422 and stranger.get_json()["items"] == ["inspection"]
    decided = client.post(f"/api/v1/calibrations/{calibration['id']}/official", headers=manager,
                          json={"inspection": copy["sup1"]})
    assert decided.status_code == 200 and decided.get_json()["official"] == copy["sup1"]
    assert decided.get_json()["state"] == "decided"
    trend = client.get("/api/v1/workshops/W1/trend", headers=manager).get_json()["inspections"]
    assert [t["id"] for t in trend] == [copy["sup1"]]
    actions = client.get("/api/v1/actions?workshop=W1", headers=manager).get_json()["actions"]
    assert [a["item"] for a in actions] == [keys[0]]  # sup1's finding, not sup3's
    assert client.get(f"/api/v1/inspections/{copy['sup3']}", headers=manager).get_json()["status"] == "calibration"
    again = client.post(f"/api/v1/calibrations/{calibration['id']}/official", headers=manager,
                        json={"inspection": copy["sup3"]})
    assert again.status_code == 409 and again.get_json()["code"] == "decided"
    with Session(app.extensions["engine"]) as session:
        from audit.models import AuditEvent

        actions_logged = session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "calibration")).all()
    assert sorted(actions_logged) == ["calibration.official", "calibration.start"]


def test_who_may_be_on_the_panel_is_checked_by_name(app, client):
    _add_supervisor(app, "sup9", "李组长", workshops=("W2",))
    manager = token_headers(app, "manager")

    def refused(names, **extra):
        response = client.post("/api/v1/workshops/W1/calibrations", headers=manager,
                               json={"inspectors": names, **extra})
        assert response.status_code == 422, response.data
        return response.get_json()

    assert refused(["sup1"])["code"] == "too_few"
    assert refused(["sup1", " sup1 "])["code"] == "too_few"  # the same person twice is one inspector
    outside = refused(["sup1", "sup2", "sup9"])
    assert outside["code"] == "out_of_scope" and outside["names"] == ["sup2", "李组长（sup9）"]
    barred = refused(["sup1", "auditor"])
    assert barred["code"] == "may_not_inspect" and barred["names"] == ["auditor"]
    unknown = refused(["sup1", "nobody"])
    assert unknown["code"] == "unknown_inspector" and unknown["names"] == ["nobody"]
    assert refused(["sup1", "manager"], colour="red")["items"] == ["colour"]
    assert refused("sup1,manager")["items"] == ["inspectors"]
    assert client.post("/api/v1/workshops/W1/calibrations", headers=token_headers(app, "sup1"),
                       json={"inspectors": ["sup1", "manager"]}).status_code == 403
    assert client.post("/api/v1/workshops/W3/calibrations", headers=token_headers(app, "sup1"),
                       json={"inspectors": ["sup1", "manager"]}).status_code == 404
    with Session(app.extensions["engine"]) as session:
        from inspections.models import Calibration, Inspection

        assert session.exec(select(Calibration)).all() == [] and session.exec(select(Inspection)).all() == []


def test_on_screen_the_manager_reconciles_a_copy_from_the_panel(app, client, auth, travel, tmp_path):
    travel(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    _add_supervisor(app)
    auth.login("manager")
    form = client.get("/workshops/W1/calibrations").get_data(as_text=True)
    assert 'value="sup1"' in form and 'value="sup3"' in form and 'value="sup2"' not in form
    few = client.post("/workshops/W1/calibrations", data={"inspectors": ["sup1"]})
    assert few.status_code == 422 and "至少需要 2 名检查员" in few.get_data(as_text=True)
    started = client.post("/workshops/W1/calibrations", data={"inspectors": ["sup1", "sup3", "manager"]})
    assert started.status_code == 303
    page_url = started.location
    calibration_id = int(page_url.rsplit("/", 1)[1])
    found = client.get(f"/api/v1/calibrations/{calibration_id}", headers=token_headers(app, "manager")).get_json()
    copy = {c["inspector"]: c["inspection"] for c in found["copies"]}
    keys = _keys(app)
    scores = {"sup1": {keys[1]: 4}, "sup3": {k: 2 for k in keys if k.startswith("sort-")} | {keys[1]: 1},
              "manager": {keys[1]: 2, keys[2]: "na"}}
    for name in ("sup1", "sup3", "manager"):
        headers = token_headers(app, name)
        _fill(client, headers, copy[name], scores[name])
        if name != "manager":
            _submit(client, headers, copy[name])
    # the manager is on the panel: while their own copy is a draft they see neither the others nor the report
    assert client.get(f"/inspections/{copy['sup1']}").status_code == 404
    page = client.get(page_url).get_data(as_text=True)
    assert client.get(f"/calibrations/{calibration_id}/report.pdf").status_code == 409  # not before all submit
    assert "data-hidden-until-all" in page and "calibration-report" not in page and 'data-action="fill-my-copy"' in page
    _submit(client, token_headers(app, "manager"), copy["manager"])
    page = client.get(page_url).get_data(as_text=True)
    assert "calibration-report" in page and "data-hidden-until-all" not in page
    assert f'data-item="{keys[1]}" class="spread-wide"' in page
    assert "张班长 平均比其他检查员低 0.2 级" in page and "sup1 平均比其他检查员高 0.1 级" in page
    reconcile = client.post(f"/calibrations/{calibration_id}/reconcile")
    assert reconcile.status_code == 303
    draft_id = int(reconcile.location.rsplit("/", 1)[1])
    draft = client.get(f"/api/v1/inspections/{draft_id}", headers=token_headers(app, "manager")).get_json()
    answers = {a["item"]: a["score"] for a in draft["answers"]}
    # the panel's median, the lower of two middles where N/A leaves two: 4,1,2 → 2; 3,2,N/A → 2; 3,2,3 → 3
    assert answers[keys[1]] == 2 and answers[keys[2]] == 2 and answers[keys[0]] == 3
    assert len(answers) == len(keys) and draft["status"] == "draft"
    # while the reconciled copy is being filled in, a copy cannot be chosen instead
    busy = client.post(f"/calibrations/{calibration_id}/official", data={"inspection": copy["sup1"]})
    assert busy.status_code == 409 and "合议稿" in busy.get_data(as_text=True)
    assert client.put(f"/api/v1/inspections/{draft_id}/answers/{keys[1]}", headers=token_headers(app, "manager"),
                      json={"score": 3}).status_code == 200
    _submit(client, token_headers(app, "manager"), draft_id)
    decided = client.get(f"/api/v1/calibrations/{calibration_id}", headers=token_headers(app, "manager")).get_json()
    assert decided["state"] == "decided" and decided["official"] == draft_id
    assert [t["id"] for t in client.get("/api/v1/workshops/W1/trend",
                                        headers=token_headers(app, "manager")).get_json()["inspections"]] == [draft_id]
    page = client.get(page_url).get_data(as_text=True)
    assert "本车间的正式检查是" in page and f"#{draft_id}" in page
    record = client.get(f"/inspections/{copy['sup1']}").get_data(as_text=True)
    assert "校准记录" in record and "report.pdf" not in record
    assert client.get(f"/inspections/{copy['sup1']}/report.pdf").status_code == 409  # a record, not a report
    official = client.get(f"/inspections/{draft_id}").get_data(as_text=True)
    assert "合议稿" in official and "report.pdf" in official
    pdf = client.get(f"/calibrations/{calibration_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    from tests.browser.conftest import ARTIFACTS
    from tests.test_period_reports import pdf_text

    (ARTIFACTS / "calibration-report.pdf").write_bytes(pdf.data)  # looked at as PNG pages
    text = pdf_text(pdf.data, tmp_path).replace(" ", "")
    assert "一号车间联合检查（校准）报告" in text and "张班长平均比其他检查员低0.2级" in text
    assert f"#{draft_id}（合议稿）" in text and "其余各份只作校准记录" in text
    assert "评分不一致的检查项" in text and keys[1] in text
    again = client.get(f"/calibrations/{calibration_id}/report.pdf")
    assert again.headers["X-Report-SHA256"] == pdf.headers["X-Report-SHA256"]  # stored, served as stored
    listing = client.get("/workshops/W1/calibrations").get_data(as_text=True)
    assert f'data-calibration="{calibration_id}"' in listing and "已确定正式检查" in listing
    # a supervisor reads the list but has no start form
    auth.login("sup1")
    listing = client.get("/workshops/W1/calibrations")
    assert listing.status_code == 200 and 'data-form="start-calibration"' not in listing.get_data(as_text=True)
    assert client.post("/workshops/W1/calibrations", data={"inspectors": ["sup1", "sup3"]}).status_code == 403


def test_a_planned_week_is_done_by_the_official_copy_not_by_the_panel(app, client, travel):
    """The copies fulfil no plan while they are drafts or records; the copy made official does, on the day it
    was submitted (Tuesday 1 December, the window's second day), even when the choice comes after the window."""
    from tests.test_plans import WEEKLY

    travel(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    _add_supervisor(app)
    manager, sup1, sup3 = (token_headers(app, u) for u in ("manager", "sup1", "sup3"))
    assert client.post("/api/v1/plans", headers=manager, json=WEEKLY).status_code == 201

    def week():
        [found] = client.get("/api/v1/occurrences", headers=manager,
                             query_string={"from": "2026-11-30", "to": "2026-11-30"}).get_json()["occurrences"]
        return found

    copies = client.post("/api/v1/workshops/W1/calibrations", headers=manager,
                         json={"inspectors": ["sup1", "sup3"]}).get_json()
    copy = {c["inspector"]: c["inspection"] for c in copies["copies"]}
    assert (week()["state"], week()["draft"]) == ("due", None)
    travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    for name, headers in (("sup1", sup1), ("sup3", sup3)):
        _fill(client, headers, copy[name], {})
        _submit(client, headers, copy[name])
    assert week()["state"] == "due"
    travel(datetime(2026, 12, 4, 3, 0, tzinfo=UTC))  # the window closed on Wednesday
    assert week()["state"] == "missed"
    assert client.post(f"/api/v1/calibrations/{copies['id']}/official", headers=manager,
                       json={"inspection": copy["sup3"]}).status_code == 200
    done = week()
    assert (done["state"], done["inspection"], done["on_time"]) == ("done", copy["sup3"], True)
