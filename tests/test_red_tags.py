"""Red tags (红牌): raised on the floor with a photo, a register with a countdown, an outcome, and escalation to a
corrective action when the holding period ends undecided."""

import io
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from accounts.models import User
from actions.models import ActionEvent, CorrectiveAction
from audit.models import AuditEvent
from redtags.models import RedTag
from tests.helpers import plant_today, token_headers
from tests.test_photos import jpeg_bytes


def tag_form(**changes):
    form = {"what": "旧夹具一箱", "location": "3 号线末端货架", "quantity": "1 箱", "reason": "unknown",
            "holding_days": "7", "note": "没人认领", "photo": (io.BytesIO(jpeg_bytes(800, 600)), "tag.jpg")}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def tags(app) -> list[RedTag]:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(RedTag).order_by(RedTag.id)).all()


def raise_one(client, workshop="W1", **changes) -> int:
    response = client.post(f"/workshops/{workshop}/red-tags", data=tag_form(**changes),
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.text
    return int(response.location.rsplit("/", 1)[1])


def test_a_supervisor_raises_numbered_tags_and_the_register_counts_down(app, client, auth):
    auth.login("sup1")
    form = client.get("/workshops/W1/red-tags/new").text
    assert 'name="photo"' in form and 'value="unknown"' in form
    first = raise_one(client)
    second = raise_one(client, what="破损托盘", reason="defective", holding_days="3")
    assert [t.number for t in tags(app)] == ["RT-W1-0001", "RT-W1-0002"]
    first_tag = tags(app)[0]
    assert (first_tag.hold_until - first_tag.tagged_on).days == 7 and first_tag.status == "held"
    assert first_tag.what == "旧夹具一箱" and first_tag.location == "3 号线末端货架" and first_tag.quantity == "1 箱"

    register_response = client.get("/red-tags?workshop=W1")
    assert register_response.status_code == 200
    register = register_response.text
    assert register.index('data-tag="RT-W1-0002"') < register.index('data-tag="RT-W1-0001"')  # due first, first
    assert 'data-countdown="3"' in register and 'data-countdown="7"' in register and "剩 3 天" in register
    page = client.get(f"/red-tags/{first}").text
    assert "旧夹具一箱" in page and "用途或归属不明" in page and 'data-action="decide"' in page
    photo = client.get(f"/red-tags/{first}/photo.jpg?size=thumb")
    assert photo.status_code == 200 and photo.data[:3] == b"\xff\xd8\xff"
    photo.close()
    workshop = client.get("/workshops/W1").text
    assert 'data-held>2<' in workshop
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "red_tag.raise")).all()
    assert second


def test_refusals_are_clear_keep_the_form_and_store_nothing(app, client, auth):
    auth.login("sup1")
    cases = [
        (dict(photo=None), "请给挂红牌的物品拍照"),
        (dict(location="  "), "请写明物品所在位置"),
        (dict(what=""), "请写明挂红牌的物品"),
        (dict(reason="lazy"), "请选择挂红牌的原因"),
        (dict(holding_days="365"), "留置期为 1–90 天"),
        (dict(photo=(io.BytesIO(b"<svg onload=alert(1)>"), "x.jpg")), "无法读取这张照片，请重新拍摄"),
    ]
    for changes, message in cases:
        response = client.post("/workshops/W1/red-tags", data=tag_form(**changes),
                               content_type="multipart/form-data")
        assert response.status_code == 422 and message in response.text, message
        assert 'value="旧夹具一箱"' in response.text or changes.get("what") == ""  # what was typed stays
    assert tags(app) == []


def test_who_may_see_raise_and_decide(app, client, auth):
    auth.login("sup1")
    tag_id = raise_one(client)
    auth.logout()
    auth.login("auditor")  # sees W1 read-only
    assert "RT-W1-0001" in client.get("/red-tags").text
    assert client.get("/workshops/W1/red-tags/new").status_code == 403
    assert client.post("/workshops/W1/red-tags", data=tag_form(), content_type="multipart/form-data"
                       ).status_code == 403
    assert client.post(f"/red-tags/{tag_id}/decide", data={"outcome": "scrap"}).status_code == 403
    assert 'data-action="decide"' not in client.get(f"/red-tags/{tag_id}").text
    auth.logout()
    auth.login("sup2")  # W2 only: W1's tags do not exist for them
    assert client.get(f"/red-tags/{tag_id}").status_code == 404
    assert client.get(f"/red-tags/{tag_id}/photo.jpg").status_code == 404
    assert client.get("/red-tags?workshop=W1").status_code == 404
    assert client.post(f"/red-tags/{tag_id}/decide", data={"outcome": "scrap"}).status_code == 404
    assert "RT-W1-0001" not in client.get("/red-tags").text
    assert tags(app)[0].status == "held"


def test_an_outcome_is_recorded_once(app, client, auth):
    auth.login("sup1")
    tag_id = raise_one(client)
    refused = client.post(f"/red-tags/{tag_id}/decide", data={"note": "?"})
    assert refused.status_code == 422 and "请选择处置结果" in refused.text
    decided = client.post(f"/red-tags/{tag_id}/decide", data={"outcome": "relocate", "note": "移到工装库 A-3"})
    assert decided.status_code == 303
    tag = tags(app)[0]
    assert (tag.status, tag.outcome, tag.outcome_note) == ("decided", "relocate", "移到工装库 A-3")
    page = client.get(f"/red-tags/{tag_id}").text
    assert 'data-outcome="relocate"' in page and 'data-countdown="decided"' in page
    assert client.post(f"/red-tags/{tag_id}/decide", data={"outcome": "scrap"}).status_code == 409
    assert "RT-W1-0001" in client.get("/red-tags?status=decided").text
    assert "RT-W1-0001" not in client.get("/red-tags?status=open").text


def test_an_undecided_tag_escalates_once_as_an_action_that_closes_with_the_outcome(app, client, auth):
    auth.login("sup1")
    tag_id = raise_one(client, holding_days="3")
    tag = tags(app)[0]
    runner = app.test_cli_runner()
    on_time = runner.invoke(args=["actions", "notify", "--date", tag.hold_until.isoformat()])
    assert on_time.exit_code == 0 and "0 red tags escalated" in on_time.output  # the last day is still its own
    late = (tag.hold_until + timedelta(days=1)).isoformat()
    dry = runner.invoke(args=["actions", "notify", "--date", late, "--dry-run"])
    assert "1 red tags would escalate" in dry.output and tags(app)[0].status == "held"
    first = runner.invoke(args=["actions", "notify", "--date", late])
    again = runner.invoke(args=["actions", "notify", "--date", late])
    assert first.exit_code == 0 and "1 red tags escalated" in first.output, first.output
    assert "0 red tags escalated" in again.output
    with Session(app.extensions["engine"]) as session:
        action = session.exec(select(CorrectiveAction).where(CorrectiveAction.red_tag_id == tag_id)).one()
        assert action.finding_id is None and action.priority == "high" and action.status == "open"
        assert action.due_on == date.fromisoformat(late) + timedelta(days=3)
        action_id = action.id
    assert tags(app)[0].status == "escalated"

    # it is an action like any other: listed, counted, in the API, assignable; it closes on the tag's page
    listed_response = client.get("/workshops/W1/actions?status=open")
    assert listed_response.status_code == 200  # was "0 open": the filter collided with render_page's status
    listed = listed_response.text
    assert f'data-action-id="{action_id}"' in listed and "RT-W1-0001" in listed
    action_page = client.get(f"/actions/{action_id}").text
    assert 'data-action="open-tag"' in action_page and 'data-action="done"' not in action_page
    api = client.get("/api/v1/actions?workshop=W1", headers=token_headers(app, "manager")).json["actions"]
    assert [(a["source"], a["red_tag"]) for a in api if a["id"] == action_id] == [("red_tag", "RT-W1-0001")]
    with Session(app.extensions["engine"]) as session:
        sup1 = session.exec(select(User).where(User.username == "sup1")).one().id
    assigned = client.post(f"/actions/{action_id}/assign", data={
        "owner_id": sup1, "due_on": (date.fromisoformat(late) + timedelta(days=2)).isoformat(), "priority": "high",
        "action_text": "与工艺确认是否还用"})
    assert assigned.status_code == 303
    # a red tag's action is not closed with a photo: its outcome closes it
    assert client.post(f"/actions/{action_id}/done", data={"photo": (io.BytesIO(jpeg_bytes(400, 300)), "a.jpg")},
                       content_type="multipart/form-data").status_code == 409

    assert client.post(f"/red-tags/{tag_id}/decide", data={"outcome": "scrap", "note": "已报废"}).status_code == 303
    with Session(app.extensions["engine"]) as session:
        action = session.get(CorrectiveAction, action_id)
        assert action.status == "verified" and action.closed_by_id is not None and action.closed_at is not None
        events = session.exec(select(ActionEvent).where(ActionEvent.action_id == action_id)).all()
        assert [(e.to_status, e.comment) for e in events] == [("verified", "红牌已处置：报废 · 已报废")]
    assert 'data-status="verified"' in client.get(f"/red-tags/{tag_id}").text


def test_the_register_in_the_api_and_the_exports_stays_in_scope(app, client, auth):
    import csv

    auth.login("sup1")
    raise_one(client, what="=cmd|' /C calc'!A0")  # a formula typed as the thing tagged stays text
    raise_one(client, what="破损托盘", holding_days="3")
    tag_id = tags(app)[0].id
    client.post(f"/red-tags/{tag_id}/decide", data={"outcome": "keep", "note": "工艺确认还要用"})
    rows = list(csv.reader(io.StringIO(client.get("/exports/red-tags.csv?workshop=W1").text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["红牌编号", "工厂", "车间代码", "车间"]
    assert [(r[0], r[12], r[13]) for r in rows[1:]] == [("RT-W1-0001", "已处置", "保留"),
                                                         ("RT-W1-0002", "留置中", "")]
    assert rows[1][4] == "'=cmd|' /C calc'!A0"
    xlsx = client.get("/exports/red-tags.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    xlsx.close()
    api = client.get("/api/v1/red-tags?workshop=W1", headers=token_headers(app, "sup1")).json
    assert [(t["number"], t["days_left"], t["status"]) for t in api["red_tags"]] == [("RT-W1-0002", 3, "held")]
    every = client.get("/api/v1/red-tags?status=all", headers=token_headers(app, "sup1")).json["red_tags"]
    assert {t["number"] for t in every} == {"RT-W1-0001", "RT-W1-0002"}
    auth.logout()
    auth.login("sup2")  # W2 only
    assert len(client.get("/exports/red-tags.csv").text.strip().splitlines()) == 1  # the header only
    assert client.get("/exports/red-tags.csv?workshop=W1").status_code == 404
    other = token_headers(app, "sup2")
    assert client.get("/api/v1/red-tags?workshop=W1", headers=other).status_code == 404
    assert client.get("/api/v1/red-tags?status=all", headers=other).json["red_tags"] == []
    assert client.get("/api/v1/red-tags?status=soon", headers=other).status_code == 422


def test_in_english_one_tag_is_a_red_tag_and_the_register_is_red_tags(client, auth):
    auth.login("sup1")
    tag_id = raise_one(client)
    client.get("/login?lang=en")
    page = client.get(f"/red-tags/{tag_id}").text
    assert '<span class="red-tag-chip">Red tag</span>' in page
    assert '<p class="red-tag-head">Red tag <span>' in client.get(f"/red-tags/{tag_id}/card").text
    assert ">Red tags</a>" in page  # the navigation names the register


@pytest.mark.clock
def test_the_workshop_report_shows_the_red_tags_of_its_period_as_they_stood_at_its_end(app, client, auth, tmp_path,
                                                                                        clock_at):
    import subprocess

    from accounts.models import Workshop
    from redtags.service import decide, raise_tag
    from tests.test_photos import jpeg_bytes as photo

    today = plant_today()
    with Session(app.extensions["engine"]) as session:
        sup1 = session.exec(select(User).where(User.username == "sup1")).one()
        w1 = session.exec(select(Workshop).where(Workshop.code == "W1")).one()

        def tag(what, ago, days):
            return raise_tag(session=session, user=sup1, workshop=w1, what=what, location="仓库门口",
                             reason="unneeded", holding_days=days, photo=photo(320, 240),
                             store=app.extensions["storage"], today=today - timedelta(days=ago))

        tag("旧工装", 60, 10)  # undecided, long past its period
        tag("空纸箱", 5, 30)  # raised in the last month, still holding
        decide(session=session, user=sup1, tag=tag("坏风扇", 10, 7), outcome="scrap", note="")
        early = decide(session=session, user=sup1, tag=tag("旧标牌", 90, 7), outcome="keep", note="")
        early.decided_at = early.decided_at - timedelta(days=80)  # decided long before either period
        session.commit()

    def report(start, end) -> str:
        auth.login("manager")
        pdf = client.get(f"/workshops/W1/report.pdf?from={start.isoformat()}&to={end.isoformat()}")
        assert pdf.status_code == 200
        path = tmp_path / f"{start}.pdf"
        path.write_bytes(pdf.data)
        return "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                      text=True, check=True).stdout.split())

    last_month = report(today - timedelta(days=30), today)
    assert "红牌：本期挂牌2张，本期处置1张，期末未处置2张（超过留置期1张）" in last_month
    assert "空纸箱" in last_month and "坏风扇" in last_month and "旧工装" in last_month and "旧标牌" not in last_month
    assert "已过留置期" in last_month and "留置中" in last_month and "报废" in last_month
    # an older period: only what was on the register then, and the scrap decided later is not in it
    older = report(today - timedelta(days=70), today - timedelta(days=40))
    assert "红牌：本期挂牌1张，本期处置0张，期末未处置1张（超过留置期1张）" in older
    assert "旧工装" in older and "坏风扇" not in older and "旧标牌" not in older


def test_a_form_sent_again_raises_no_second_tag(app, client, auth):
    auth.login("sup1")
    form_page = client.get("/workshops/W1/red-tags/new").text
    key = form_page.split('name="client_key" value="', 1)[1].split('"', 1)[0]
    assert len(key) >= 16 and key not in client.get("/workshops/W1/red-tags/new").text  # fresh per form
    first = raise_one(client, client_key=key)
    again = raise_one(client, client_key=key)  # the tablet's retry after the answer was lost, or a double tap
    assert again == first and [t.number for t in tags(app)] == ["RT-W1-0001"]
    # the outbox sends the key as a header, like answers
    by_header = client.post("/workshops/W1/red-tags", data=tag_form(), content_type="multipart/form-data",
                            headers={"X-Change-Key": "k" * 20})
    replayed = client.post("/workshops/W1/red-tags", data=tag_form(), content_type="multipart/form-data",
                           headers={"X-Change-Key": "k" * 20})
    assert by_header.status_code == replayed.status_code == 201  # the script moves on by itself
    assert by_header.location == replayed.location and len(tags(app)) == 2
    assert "RT-W1-0002" in client.get(by_header.location).text

    # a refused form keeps its key (nothing was raised with it); a key that is not ours is refused
    refused = client.post("/workshops/W1/red-tags", data=tag_form(what=" ", client_key="r" * 20),
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and 'value="' + "r" * 20 + '"' in refused.text
    bad = client.post("/workshops/W1/red-tags", data=tag_form(client_key="<script>"),
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "表单已失效" in bad.text
    auth.logout()
    auth.login("manager")  # another user cannot take over a tag by sending its key
    taken = client.post("/workshops/W1/red-tags", data=tag_form(client_key=key), content_type="multipart/form-data")
    assert taken.status_code == 409 and "表单已失效" in taken.text and len(tags(app)) == 2
