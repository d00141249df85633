"""A plant's tablets reach the server through one NAT address, and shared tablets serve several people: guessing
must be held back without anyone being able to lock the others out (the device cookie, accounts.devices)."""

from __future__ import annotations

from sqlmodel import Session

from accounts.devices import COOKIE, read_device
from accounts.service import create_user
from tests.seed import PASSWORD

NAT = {"REMOTE_ADDR": "203.0.113.7"}  # the plant's one address, as the server sees it


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password}, environ_base=NAT)


def signed_in_before(app, username: str):
    """A tablet's browser that signed in as username before (and signed out): it holds the device cookie."""
    tablet = app.test_client()
    assert login(tablet, username).status_code == 303
    tablet.post("/logout")
    assert tablet.get_cookie(COOKIE) is not None
    return tablet


def test_thirty_wrong_passwords_for_one_name_lock_nobody_else_at_the_plant(app, client):
    managers_tablet = signed_in_before(app, "manager")
    for n in range(30):  # someone at the plant keeps guessing the manager's password
        assert login(client, "manager", f"guess-{n:03d}-guess").status_code in (422, 429)
    # every other person at the plant signs in at once, from the same address
    for username in ("sup1", "sup2", "admin"):
        other = app.test_client()
        assert login(other, username).status_code == 303, username
    # the guesser's browser (and any browser the manager never used) is held for the manager's name…
    held = app.test_client()
    refused = login(held, "manager")
    assert refused.status_code == 429 and "分钟后再试" in refused.text
    # …but the manager's own tablet, which signed in as the manager before, is not
    assert login(managers_tablet, "manager").status_code == 303


def test_a_trusted_tablet_has_its_own_five_tries(app):
    tablet = signed_in_before(app, "sup1")
    statuses = [login(tablet, "sup1", f"wrong-{n}-password").status_code for n in range(6)]
    assert statuses == [422] * 5 + [429]
    assert login(tablet, "sup1").status_code == 429  # the right password waits too, on this tablet
    other_tablet = signed_in_before(app, "sup2")  # knows sup2, not sup1: untrusted for sup1, which is not held
    assert login(other_tablet, "sup1").status_code == 303


def test_a_device_cookie_cannot_be_made_up_or_extended(app):
    tablet = signed_in_before(app, "sup2")
    value = tablet.get_cookie(COOKIE).value
    assert read_device(value, app.config["SECRET_KEY"]).names == ("sup2",)
    assert read_device(value, "another-secret-key-xx").device_id is None
    # a cookie naming sup1 that we did not sign is worth nothing
    forged = value.replace(value.split(".")[0], "eyJkIjoiMDAwMCIsIm4iOlsic3VwMSJdfQ")
    assert read_device(forged, app.config["SECRET_KEY"]).device_id is None
    for n in range(5):
        login(app.test_client(), "sup1", f"wrong-{n}-password")
    tablet.set_cookie(COOKIE, forged)
    assert login(tablet, "sup1").status_code == 429


def test_guessing_names_or_trying_one_password_on_many_holds_the_address_but_not_known_tablets(app, client):
    with Session(app.extensions["engine"]) as session:
        for n in range(12):
            create_user(session=session, username=f"worker{n:02d}", password=PASSWORD, role="supervisor",
                        workshop_codes=["W1"], display_name=f"工人{n}")
        session.commit()
    sup2_tablet = signed_in_before(app, "sup2")
    for n in range(10):  # one common password tried on ten real names
        assert login(client, f"worker{n:02d}", "Password123!").status_code == 422
    assert login(app.test_client(), "worker11").status_code == 429  # a new name from that address: held
    assert login(app.test_client(), "worker03").status_code == 303  # a name already failing: its own limit
    assert login(sup2_tablet, "sup2").status_code == 303  # a known tablet is never held by the address
    elsewhere = app.test_client()
    assert elsewhere.post("/login", data={"username": "worker11", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 303
