"""Accounts: the administrator's screens, the user's own account page, password rules, tokens and sessions."""

import json
import re
from datetime import timedelta

from sqlmodel import Session, select

from accounts.models import ApiToken, Plant, User, Workshop
from accounts.service import password_problem
from audit.models import AuditEvent
from tests.conftest import AuthActions
from tests.helpers import plant_today
from tests.seed import PASSWORD


def user(app, username) -> User:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(User).where(User.username == username)).one()


def test_password_rules():
    assert password_problem("short") == "too_short"
    assert password_problem("password1234") == "common"
    assert password_problem("13812345678") == "common"  # a phone number
    assert password_problem("qwertyuiopas") == "common"
    assert password_problem("wang-is-my-name", "wang") == "contains_username"
    assert password_problem("x" * 300) == "too_long"
    assert password_problem("铣床三号机每周一保养") is None  # Chinese passphrases count characters, not bytes
    assert password_problem("a-long-password") is None


def test_admin_creates_an_auditor_who_needs_an_expiry_and_is_scoped_to_a_plant(app, client, auth):
    auth.login("admin")
    form = {"username": "chen", "password": "audit-visit-2026", "display_name": "陈审核员", "role": "auditor",
            "plant": "P2", "active": "on"}
    refused = client.post("/admin/users/new", data=form)
    assert refused.status_code == 422 and "审核员必须有访问到期日" in refused.text
    assert 'value="chen"' in refused.text  # what was typed stays
    weak = client.post("/admin/users/new", data={**form, "password": "123456789012",
                                                 "access_expires_on": "2026-12-31"})
    assert weak.status_code == 422 and "太常见" in weak.text
    created = client.post("/admin/users/new", data={**form, "access_expires_on": (plant_today() + timedelta(days=30))
                                                     .isoformat()})
    assert created.status_code == 303
    auth.logout()
    auth.login("chen", "audit-visit-2026")
    assert client.get("/workshops/W3").status_code == 200  # P2's workshop
    assert client.get("/workshops/W1").status_code == 404
    assert client.post("/workshops/W3/inspections").status_code == 403  # reads, does not inspect
    with Session(app.extensions["engine"]) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.create")
                             .order_by(AuditEvent.id.desc())).first()
        assert json.loads(event.new_value)["plants"] == ["P2"] and event.actor_name == "admin"


def test_admin_changes_scope_and_role_and_the_change_is_audited(app, client, auth):
    sup1 = user(app, "sup1")
    auth.login("admin")
    response = client.post(f"/admin/users/{sup1.id}", data={"display_name": "张班长", "role": "supervisor",
                                                            "workshop": ["W1", "W2"], "active": "on"})
    assert response.status_code == 303
    other = app.test_client()
    AuthActions(other).login("sup1")
    assert other.get("/workshops/W2").status_code == 200
    audit = client.get(f"/admin/audit?action=user.update&object_id={sup1.id}").text
    assert "W2" in audit and "张班长" in audit
    csv = client.get("/admin/audit.csv?action=user.update")
    assert csv.mimetype == "text/csv" and csv.data.startswith("\ufeff".encode()) and "张班长" in csv.text
    lockout = client.post(f"/admin/users/{user(app, 'admin').id}", data={"display_name": "a", "role": "manager",
                                                                         "active": "on"})
    assert lockout.status_code == 422 and "不能更改自己的角色" in lockout.text
    assert user(app, "admin").role == "admin"


def test_only_admins_reach_the_admin_screens(client, auth):
    for username in ("manager", "sup1", "auditor"):
        auth.login(username)
        for path in ("/admin/users", "/admin/users/new", "/admin/sites"):
            assert client.get(path).status_code == 403, (username, path)
        # the audit trail: managers and auditors read their scope's part of it (tests/test_audit_scope.py)
        for path in ("/admin/audit", "/admin/audit.csv"):
            assert client.get(path).status_code == (403 if username == "sup1" else 200), (username, path)
        auth.logout()


def test_admin_reset_ends_the_users_sessions(app, client, auth):
    sup1_client = app.test_client()
    AuthActions(sup1_client).login("sup1")
    auth.login("admin")
    sup1 = user(app, "sup1")
    assert "登录会话（1）" in client.get(f"/admin/users/{sup1.id}").text
    assert client.post(f"/admin/users/{sup1.id}/password", data={"password": "new-floor-pass"}).status_code == 303
    assert sup1_client.get("/").status_code == 302
    AuthActions(sup1_client).login("sup1", "new-floor-pass")


def test_change_own_password_signs_out_everywhere(app, client, auth):
    other_device = app.test_client()
    AuthActions(other_device).login("sup1")
    auth.login("sup1")
    page = client.get("/account").text
    assert page.count("data-session=") == 2
    wrong = client.post("/account/password", data={"current": "nope-nope-nope", "new": "new-floor-pass",
                                                   "confirm": "new-floor-pass"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    mismatch = client.post("/account/password", data={"current": PASSWORD, "new": "new-floor-pass",
                                                      "confirm": "new-floor-pas"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.text
    done = client.post("/account/password", data={"current": PASSWORD, "new": "new-floor-pass",
                                                  "confirm": "new-floor-pass"})
    assert done.status_code == 303 and other_device.get("/").status_code == 302
    AuthActions(client).login("sup1", "new-floor-pass")


def test_tokens_are_shown_once_stored_hashed_used_and_revoked(app, client, auth):
    auth.login("sup1")
    created = client.post("/account/tokens", data={"label": "MES 接口"})
    token = re.search(r"data-new-token>([^<]+)<", created.text)[1]
    assert token not in client.get("/account").text  # shown once
    with Session(app.extensions["engine"]) as session:
        row = session.exec(select(ApiToken).where(ApiToken.label == "MES 接口")).one()
        assert token not in (row.token_sha256, row.prefix) and token.startswith(row.prefix)
    headers = {"Authorization": f"Bearer {token}"}
    # first use is a write: the "last used" stamp rides with the request's own transaction (a second writer
    # would wait for SQLite's lock until the busy timeout and give up)
    assert client.post("/api/v1/workshops/W1/inspections", headers=headers).status_code == 201
    with Session(app.extensions["engine"]) as session:
        assert session.get(ApiToken, row.id).last_used_at is not None
    assert [w["code"] for w in client.get("/api/v1/workshops", headers=headers).get_json()["workshops"]] == ["W1"]
    assert "MES 接口" in client.get("/account").text
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 303
    assert client.get("/api/v1/workshops", headers=headers).status_code == 401
    auth.logout()
    auth.login("sup2")  # someone else's token: not theirs to revoke
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404


def test_admin_adds_and_renames_plants_and_workshops_with_clear_refusals(app, client, auth):
    auth.login("admin")
    assert client.post("/admin/plants", data={"code": "P3", "name": "三厂"}).status_code == 303
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant).where(Plant.code == "P3")).one().id
    added = client.post(f"/admin/plants/{plant_id}/workshops", data={"code": "W9", "name": "冲压车间"})
    assert added.status_code == 303
    for data, message in (({"code": "W1", "name": "重复"}, "已经有了"),
                          ({"code": "../x", "name": "坏代码"}, "代码只能用"),
                          ({"code": "W10", "name": "  "}, "名称不能为空")):
        refused = client.post(f"/admin/plants/{plant_id}/workshops", data=data)
        assert refused.status_code == 422 and message in refused.text, data
        assert f'value="{data["code"]}"' in refused.text.replace("&#34;", '"')  # kept for correcting
    with Session(app.extensions["engine"]) as session:
        workshop = session.exec(select(Workshop).where(Workshop.code == "W9")).one()
    assert client.post(f"/admin/workshops/{workshop.id}", data={"name": "冲压一车间"}).status_code == 303
    page = client.get("/admin/sites").text
    assert "冲压一车间" in page and 'data-workshop="W9"' in page
    audit = client.get("/admin/audit?object_type=workshop").text
    assert "冲压车间" in audit and "冲压一车间" in audit
    # the new workshop is at once a scope to grant and a place to inspect
    response = client.post("/admin/users/new", data={"username": "zhao", "password": "stamping-line-9",
                                                    "role": "supervisor", "workshop": "W9", "active": "on"})
    assert response.status_code == 303
    auth.logout()
    auth.login("zhao", "stamping-line-9")
    assert client.post("/workshops/W9/inspections").status_code == 303
    auth.logout()
    auth.login("manager")  # not an administrator
    assert client.post("/admin/plants", data={"code": "P4", "name": "四厂"}).status_code == 403
