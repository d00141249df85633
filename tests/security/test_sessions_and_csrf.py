"""Guessing, stolen cookies and cross-site posts."""

import re

import pytest
from sqlmodel import Session, select

from accounts.models import User
from app import create_app
from inspections.models import Answer, Inspection
from tests.conftest import AuthActions
from tests.helpers import token_headers
from tests.security.conftest import fingerprint
from tests.seed import PASSWORD


def test_a_hundred_wrong_passwords_lock_the_name_not_the_tablet(app, client):
    statuses = [client.post("/login", data={"username": "sup1", "password": f"guess-{n:03d}-guess"}).status_code
                for n in range(100)]
    assert statuses[:5] == [422] * 5 and set(statuses[5:]) == {429}
    locked = client.post("/login", data={"username": "sup1", "password": PASSWORD})
    assert locked.status_code == 429 and "分钟后再试" in locked.text  # the right password waits too
    # a colleague on the same tablet can still sign in: the lock is on the name
    assert client.post("/login", data={"username": "sup2", "password": PASSWORD}).status_code == 303


def test_many_names_from_one_address_lock_the_address(app, client):
    for n in range(30):
        assert client.post("/login", data={"username": f"nobody{n}", "password": "x" * 12}).status_code == 422
    refused = client.post("/login", data={"username": "sup2", "password": PASSWORD})
    assert refused.status_code == 429
    other_address = client.post("/login", data={"username": "sup2", "password": PASSWORD},
                                environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 303


def stolen_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_is_dead_after_logout_switch_user_and_disable(app, client, auth):
    for leave in ("/logout", "/switch-user"):
        auth.login("sup1")
        cookie = stolen_cookie(client)
        assert client.get("/workshops/W1").status_code == 200
        response = client.post(leave)
        assert response.status_code in (302, 303)
        if leave == "/switch-user":
            cleared = response.headers["Clear-Site-Data"]
            # the outbox (storage) may hold another user's queued changes: outbox.js clears the rest itself
            assert '"cache"' in cleared and '"storage"' not in cleared
        client.set_cookie("session", cookie)  # replayed by whoever copied it
        assert client.get("/workshops/W1").status_code == 302, leave
    auth.login("sup1")
    cookie = stolen_cookie(client)
    admin = app.test_client()
    AuthActions(admin).login("admin")
    with Session(app.extensions["engine"]) as session:
        sup1 = session.exec(select(User).where(User.username == "sup1")).one()
        form = {"display_name": sup1.display_name, "role": "supervisor", "workshop": "W1"}  # "active" unticked
    assert admin.post(f"/admin/users/{sup1.id}", data=form).status_code == 303
    client.set_cookie("session", cookie)
    assert client.get("/workshops/W1").status_code == 302
    assert client.post("/login", data={"username": "sup1", "password": PASSWORD}).status_code == 422


def test_cookies_are_httponly_lax_and_secure_over_https(app, auth):
    client = app.test_client()
    response = client.post("/login", data={"username": "sup1", "password": PASSWORD},
                           base_url="https://6s.example.cn")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    page = client.get("/", base_url="https://6s.example.cn")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = app.test_client().post("/login", data={"username": "sup1", "password": PASSWORD})
    assert "Secure" not in plain.headers["Set-Cookie"] and "Strict-Transport-Security" not in plain.headers


def test_state_changes_need_the_csrf_token_including_htmx(sqlite_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": sqlite_url,
                      "DATA_DIR": str(tmp_path / "d"), "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text)[1]
    assert client.post("/login", data={"username": "sup1", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 303
    home = client.get("/").text
    header = re.search(r'"X-CSRFToken": "([^"]+)"', home)[1]  # htmx sends it from <body hx-headers>
    started = client.post("/workshops/W1/inspections", headers={"X-CSRFToken": header})
    inspection_id = int(started.location.rsplit("/", 1)[1])
    before = fingerprint(app)
    for path, data in [(f"/inspections/{inspection_id}/answers/sort-01", {"score-sort-01": "4"}),
                       (f"/inspections/{inspection_id}/submit", {"password": PASSWORD}),
                       ("/workshops/W1/inspections", {}), ("/logout", {}), ("/switch-user", {}),
                       ("/account/sessions/end-all", {}), ("/account/tokens", {"label": "x"})]:
        for headers in ({}, {"HX-Request": "true"}, {"X-CSRFToken": "forged"}):
            response = client.post(path, data=data, headers=headers)
            assert response.status_code == 400, (path, headers)
    assert "请刷新页面后再试一次" in response.text
    assert fingerprint(app) == before
    assert client.get(f"/inspections/{inspection_id}").status_code == 200  # still signed in
    saved = client.post(f"/inspections/{inspection_id}/answers/sort-01", data={"score-sort-01": "4"},
                        headers={"HX-Request": "true", "X-CSRFToken": header})
    assert saved.status_code == 200
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Answer).where(Answer.inspection_id == inspection_id)).one().score == 4
        assert session.get(Inspection, inspection_id).status == "draft"
    app.extensions["engine"].dispose()


def test_no_state_changes_on_get(app, target):
    """Every GET route, called by the admin (who sees everything), leaves every record as it was.

    An issued report is stored on its first download (report_document, period_report): a cache of what the
    records say."""
    from tests.security.test_read_only_auditor import url_arguments

    token_headers(app, "sup1")
    client = app.test_client()
    AuthActions(client).login("admin")
    args = {**url_arguments(app, target), "photo_id": target.photo, "signature_id": target.signature,
            "dataset": "inspections", "fmt": "csv", "sha256": "0" * 64}
    issued = {"report_document", "period_report", "webhook_delivery"}  # a report issued is announced (report.issued)
    before = {k: v for k, v in fingerprint(app).items() if k not in issued}
    called = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        for inspection_id in ({target.draft, target.submitted} if "inspection_id" in rule.arguments else {None}):
            path = rule.build({name: args.get(name, inspection_id) for name in rule.arguments})[1]
            with client.get(path) as response:
                assert response.status_code < 500, path
            called += 1
    assert called > 30
    assert {k: v for k, v in fingerprint(app).items() if k not in issued} == before


@pytest.mark.parametrize("target", ["/%09/evil.example/path", "/%0d%0a/evil.example", "//evil.example",
                                    "/\\evil.example", "https://evil.example/", "/%5cevil.example", "/ /evil",
                                    "javascript:alert(1)", "/%7f/evil.example"])
def test_sign_in_never_sends_anyone_off_site(client, target):
    """#35: next= only to our own paths, whatever a browser would make of the bytes."""
    response = client.post(f"/login?next={target}", data={"username": "sup1", "password": PASSWORD})
    if response.status_code == 422:  # a control character in it: refused before sign-in (web.py), no redirect
        assert "Location" not in response.headers and "next" in response.text
        return
    assert response.status_code == 303, response.status_code
    assert response.headers["Location"] == "/"


def test_sign_in_returns_to_our_own_page(client):
    response = client.post("/login?next=/inspections/7%3Fcategory%3Dsafety",
                           data={"username": "sup1", "password": PASSWORD})
    assert response.headers["Location"] == "/inspections/7?category=safety"


def test_a_session_ends_when_left_idle_and_at_its_age_limit(app, client, travel):
    """#35: a session unused for SESSION_IDLE_DAYS (14) ends; one in daily use ends SESSION_MAX_DAYS (90) after
    it began."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    travel(start)
    AuthActions(client).login("sup1")
    travel(start + timedelta(days=13, hours=23))
    assert client.get("/workshops/W1").status_code == 200  # within two weeks: still signed in (and touched)
    travel(start + timedelta(days=27, hours=22))
    assert client.get("/workshops/W1").status_code == 200
    travel(start + timedelta(days=42))
    assert client.get("/workshops/W1").status_code == 302  # two weeks and more unused: signed out
    AuthActions(client).login("sup1")
    began = start + timedelta(days=42)
    for day in range(10, 90, 10):  # in use every ten days…
        travel(began + timedelta(days=day))
        assert client.get("/workshops/W1").status_code == 200, day
    travel(began + timedelta(days=90, minutes=1))
    assert client.get("/workshops/W1").status_code == 302  # …until its ninety days are up


def test_a_password_change_ends_the_tokens_when_the_owner_asks_and_tokens_expire(app, client, travel):
    """#35: tokens live API_TOKEN_MAX_DAYS (365); changing one's password can end them all."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    travel(start)
    kept, ended = token_headers(app, "sup1"), token_headers(app, "sup2")
    assert client.get("/api/v1/workshops", headers=kept).status_code == 200
    for username, ask in (("sup1", {}), ("sup2", {"end_tokens": "y"})):
        user_client = app.test_client()
        AuthActions(user_client).login(username)
        changed = user_client.post("/account/password", data={"current": PASSWORD, "new": "a-new-floor-pass-2027",
                                                              "confirm": "a-new-floor-pass-2027", **ask})
        assert changed.status_code == 303, username
    assert client.get("/api/v1/workshops", headers=kept).status_code == 200  # not asked: still works
    assert client.get("/api/v1/workshops", headers=ended).status_code == 401  # asked: ended
    travel(start + timedelta(days=366))
    assert client.get("/api/v1/workshops", headers=kept).status_code == 401  # a year on: expired


def test_a_plant_sets_shorter_limits_for_browsers_that_are_not_a_known_tablet(app, client, travel):
    """#35: limits per plant. P1 ends sign-ins on other browsers (an office PC) after 8 idle hours and 2 days in
    all; the supervisor's own tablet (it signed in as them before: the device cookie) keeps the long limits."""
    from datetime import UTC, datetime, timedelta

    from accounts.models import Plant

    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    travel(start)
    admin = app.test_client()
    AuthActions(admin).login("admin")
    with Session(app.extensions["engine"]) as session:
        plant_id = session.exec(select(Plant.id).where(Plant.code == "P1")).one()
    refused = admin.post(f"/admin/plants/{plant_id}/session-limits", data={"idle_hours": "0", "max_days": "2"})
    assert refused.status_code == 422 and "1 到 2160 小时" in refused.text
    saved = admin.post(f"/admin/plants/{plant_id}/session-limits", data={"idle_hours": "8", "max_days": "2"})
    assert saved.status_code == 303
    page = admin.get("/admin/sites").text
    assert 'name="idle_hours"' in page and 'value="8"' in page

    office_pc, tablet = app.test_client(), app.test_client()
    AuthActions(tablet).login("sup1")  # the tablet's first sign-in as sup1: not known yet…
    AuthActions(tablet).login("sup1")  # …the next one is (the device cookie names sup1)
    AuthActions(office_pc).login("sup1")
    travel(start + timedelta(hours=9))
    assert office_pc.get("/workshops/W1").status_code == 302  # 9 idle hours on an office PC: signed out
    assert tablet.get("/workshops/W1").status_code == 200
    assert admin.get("/admin/sites").status_code == 200  # the group's admin: no plant of its own, the long limits

    AuthActions(office_pc).login("manager")  # P1 and P2: the strictest of its plants
    began = start + timedelta(hours=9)
    for hours in range(6, 48, 6):  # in use every six hours…
        travel(began + timedelta(hours=hours))
        assert office_pc.get("/").status_code == 200, hours
    travel(began + timedelta(days=2, minutes=1))
    assert office_pc.get("/").status_code == 302  # …until its two days are up
    assert tablet.get("/workshops/W1").status_code == 200  # the tablet: 14 idle days, 90 in all
