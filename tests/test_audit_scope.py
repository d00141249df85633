"""The audit trail for those who audit (#34): an auditor and a quality manager read the events about their own
plants and workshops — screen, CSV and API alike — and an inspection's own history on the inspection; an
administrator reads everything; a supervisor nothing of it."""

import csv
import io

from tests.conftest import AuthActions
from tests.helpers import answer_all_in_one_go, published_items, scores_by, start, submit, token_headers


def inspected(app, username, workshop) -> int:
    client = app.test_client()
    AuthActions(client).login(username)
    inspection_id = start(client, workshop)
    answer_all_in_one_go(app, inspection_id, scores=scores_by(published_items(app), lambda i, item: 1 if i == 0 else 3))
    assert submit(client, inspection_id).status_code == 303
    return inspection_id


def test_an_auditor_reads_the_trail_of_their_scope_only(app, client, auth):
    in_scope = inspected(app, "sup1", "W1")  # the auditor's W1
    outside = inspected(app, "sup2", "W2")  # not theirs
    auth.login("auditor")
    page = client.get("/admin/audit?object_type=inspection").text
    assert f'data-object="inspection:{in_scope}"' in page
    assert f'data-object="inspection:{outside}"' not in page
    assert "user.create" not in client.get("/admin/audit").text  # people are the administrators' business
    rows = list(csv.reader(io.StringIO(client.get("/admin/audit.csv").data.decode("utf-8-sig"))))
    objects = {(r[5], r[6]) for r in rows[1:]}
    assert ("inspection", str(in_scope)) in objects and ("inspection", str(outside)) not in objects
    assert all(kind in ("inspection", "corrective_action", "red_tag", "calibration", "workshop", "plan", "plant")
               for kind, _id in objects)
    api = client.get("/api/v1/audit?object_type=inspection", headers=token_headers(app, "auditor")).get_json()
    assert {e["object_id"] for e in api["events"]} == {str(in_scope)}
    auth.logout()

    auth.login("admin")
    everything = client.get("/api/v1/audit?object_type=inspection", headers=token_headers(app, "admin")).get_json()
    assert {e["object_id"] for e in everything["events"]} == {str(in_scope), str(outside)}
    auth.logout()
    auth.login("sup1")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/api/v1/audit", headers=token_headers(app, "sup1")).status_code == 403


def test_the_inspections_own_history_says_what_happened_to_it(app, client, auth):
    inspection_id = inspected(app, "sup1", "W1")
    item = published_items(app)[0]
    auth.login("manager")
    client.get(f"/inspections/{inspection_id}/report.pdf")
    assert client.post(f"/inspections/{inspection_id}/items/{item.key}/correct",
                       data={"score": "4", "reason": "复查照片确认已符合"}).status_code == 303
    auth.logout()
    auth.login("auditor")
    assert f"/inspections/{inspection_id}/history" in client.get(f"/inspections/{inspection_id}").text
    page = client.get(f"/inspections/{inspection_id}/history").text
    for said in ('data-event="answer"', 'data-event="inspection.submit"', 'data-event="inspection.sign"',
                 'data-event="inspection.correct"', 'data-event="report"', "复查照片确认已符合",
                 f"6S-{inspection_id}-1"):
        assert said in page, said
    # in the order it happened: the answers, then the submit, then the correction
    assert (page.index('data-event="answer"') < page.index('data-event="inspection.submit"')
            < page.index('data-event="inspection.correct"'))
    auth.logout()
    auth.login("sup2")  # W2 only: not their workshop's inspection
    assert client.get(f"/inspections/{inspection_id}/history").status_code == 404
