"""Signing without the server (#37): a tablet's key made at sign-in (its public half kept by the server), a record
signed offline with it, checked on arrival. The tablet's side (WebCrypto) is in tests/browser/test_offline_sign.py;
here the tablet is played by `cryptography` with the same algorithms (ECDSA P-256, SHA-256, r‖s)."""

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlmodel import Session, select

from accounts.models import DeviceKey, User
from audit.models import AuditEvent
from inspections.models import Inspection, Signature
from tests.conftest import PASSWORD
from tests.helpers import answer_all_in_one_go, drawn_signature

SIGNED_AT = "2026-12-02T17:40:00+08:00"  # the tablet's clock, in Shanghai


class Tablet:
    """A tablet's signing key, as static/js/signing-key.js makes it."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.der = self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        self.fingerprint = hashlib.sha256(self.der).hexdigest()

    @property
    def public(self) -> str:
        return base64.b64encode(self.der).decode()

    def sign(self, statement: bytes) -> str:
        r, s = decode_dss_signature(self.private.sign(statement, ec.ECDSA(hashes.SHA256())))
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def sign_in_with(client, tablet: Tablet, username="sup1", password=PASSWORD):
    response = client.post("/login", data={"username": username, "password": password, "device_key": tablet.public})
    assert response.status_code == 303


def user_id(app, username="sup1") -> int:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(User).where(User.username == username)).one().id


def offline_start(client, key="tablet-start-0001"):
    response = client.post("/workshops/W1/inspections", headers={"X-Change-Key": key},
                           data={"checklist": "standard-6s", "version": "2"})
    assert response.status_code == 201
    return int(response.headers["Location"].rsplit("/", 1)[1])


def statement_for(app, inspection_id, signature, user=None, start="tablet-start-0001", **changes) -> dict:
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        answers = {a.item.key: ("na" if a.not_applicable else a.score) for a in inspection.answers}
    statement = {"v": 1, "user": user or user_id(app), "inspection": None, "start": start, "answers": answers,
                 "signature_sha256": hashlib.sha256(signature.encode()).hexdigest(), "leader_name": "",
                 "leader_signature_sha256": "", "signed_at": SIGNED_AT}
    statement.update(changes)
    return statement


def send_signed(client, tablet, inspection_id, statement: dict | bytes, signature, key="tablet-submit-0001",
                **form):
    raw = statement if isinstance(statement, bytes) else json.dumps(statement, ensure_ascii=False).encode()
    return client.post(f"/inspections/{inspection_id}/submit", headers={"X-Change-Key": key}, data={
        "signature": signature, "statement": raw.decode(), "device_signature": tablet.sign(raw),
        "device_key": tablet.fingerprint, **form})


@pytest.fixture
def signed_in_tablet(app, client):
    tablet = Tablet()
    sign_in_with(client, tablet)
    inspection_id = offline_start(client)
    answer_all_in_one_go(app, inspection_id)
    return tablet, inspection_id


def test_a_key_made_at_sign_in_is_kept_for_its_user_and_the_pages_say_it_is_known(app, client):
    tablet = Tablet()
    sign_in_with(client, tablet)
    assert f'data-signing-key="{tablet.fingerprint}"' in client.get("/").text
    with Session(app.extensions["engine"]) as session:
        (kept,) = session.exec(select(DeviceKey)).all()
        assert (kept.user_id, kept.fingerprint, kept.public_key, kept.revoked_at) == (
            user_id(app), tablet.fingerprint, tablet.der, None)
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "device_key.enrol")).one()
    sign_in_with(client, tablet)  # the same key again: the same row
    other = Tablet()
    client.post("/logout")
    response = client.post("/login", data={"username": "manager", "password": PASSWORD, "device_key": "bm90IGEga2V5"})
    assert response.status_code == 303  # a bad key never stops a sign-in; the tablet is told by its absence
    assert "data-signing-key" not in client.get("/").text
    sign_in_with(client, other, username="manager")
    with Session(app.extensions["engine"]) as session:
        assert len(session.exec(select(DeviceKey)).all()) == 2


def test_a_record_signed_on_the_tablet_is_submitted_with_both_clocks_and_a_replay_changes_nothing(
        app, client, signed_in_tablet):
    tablet, inspection_id = signed_in_tablet
    signature = drawn_signature()
    leader = drawn_signature(300, 100)
    statement = statement_for(app, inspection_id, signature, leader_name="王主任",
                              leader_signature_sha256=hashlib.sha256(leader.encode()).hexdigest())
    answer = send_signed(client, tablet, inspection_id, statement, signature, leader_name=" 王主任 ",
                         leader_signature=leader)
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"].endswith(f"/inspections/{inspection_id}")
    assert answer.headers["X-Change-Ack"] == "tablet-submit-0001"
    again = send_signed(client, tablet, inspection_id, statement, signature, leader_name=" 王主任 ",
                        leader_signature=leader)
    assert again.status_code == 201  # the reply was lost: the tablet sends it again
    with Session(app.extensions["engine"]) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection.status.value == "submitted"
        signatures = session.exec(select(Signature).where(Signature.inspection_id == inspection_id)
                                  .order_by(Signature.id)).all()
        assert [(s.role.value, s.signer_name, s.password_confirmed) for s in signatures] == [
            ("inspector", "sup1", False), ("workshop_leader", "王主任", False)]
        key = session.exec(select(DeviceKey)).one()
        for s in signatures:
            assert s.device_key_id == key.id
            assert s.device_signed_at.replace(tzinfo=UTC) == datetime(2026, 12, 2, 9, 40, tzinfo=UTC)
        assert key.last_used_at is not None
        sign = session.exec(select(AuditEvent).where(AuditEvent.action == "inspection.sign")).first()
        assert json.loads(sign.new_value)["signed_on_device_at"] == "2026-12-02T09:40:00+00:00"


@pytest.mark.parametrize("tamper, status, words", [
    (lambda s: {**s, "answers": {**s["answers"], "sort-01": 0}}, 409, "签名时的答案与服务器上现在的不一致（sort-01）"),
    (lambda s: {**s, "signature_sha256": "0" * 64}, 422, "签名无法验证"),
    (lambda s: {**s, "start": "another-start-0002"}, 422, "内容不完整或格式不对"),
    (lambda s: {**s, "user": s["user"] + 1}, 422, "内容不完整或格式不对"),
    (lambda s: {**s, "device": "x"}, 422, "内容不完整或格式不对"),
    (lambda s: {k: v for k, v in s.items() if k != "signed_at"}, 422, "内容不完整或格式不对"),
    (lambda s: {**s, "signed_at": "2026-12-02T17:40:00"}, 422, "内容不完整或格式不对"),
], ids=["answers-differ", "other-drawing", "other-start", "other-user", "unknown-field", "no-clock", "naive-clock"])
def test_a_statement_that_does_not_match_the_record_is_refused_with_its_reason_and_nothing_is_submitted(
        app, client, signed_in_tablet, tamper, status, words):
    tablet, inspection_id = signed_in_tablet
    signature = drawn_signature()
    refused = send_signed(client, tablet, inspection_id, tamper(statement_for(app, inspection_id, signature)),
                          signature)
    assert refused.status_code == status and words in refused.text
    assert refused.headers.get("X-Change-Refused") == "true"  # the tablet sets it aside, shown with the reason
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, inspection_id).status.value == "draft"
        assert session.exec(select(Signature)).all() == []


def test_a_signature_by_another_key_or_over_other_bytes_or_by_a_revoked_key_is_refused(app, client, signed_in_tablet):
    tablet, inspection_id = signed_in_tablet
    signature = drawn_signature()
    statement = statement_for(app, inspection_id, signature)
    raw = json.dumps(statement).encode()
    forged = client.post(f"/inspections/{inspection_id}/submit", headers={"X-Change-Key": "tablet-submit-0002"},
                         data={"signature": signature, "statement": raw.decode(), "device_key": tablet.fingerprint,
                               "device_signature": Tablet().sign(raw)})
    assert forged.status_code == 422 and "签名无法验证" in forged.text
    unknown = Tablet()
    assert send_signed(client, unknown, inspection_id, statement, signature).status_code == 403
    assert "不认识这台平板的签名密钥" in send_signed(client, unknown, inspection_id, statement, signature).text
    # signed out everywhere (or a password change): the tablet's key signs no more
    assert client.post("/account/sessions/end-all", data={"password": PASSWORD}).status_code in (302, 303)
    sign_in_with(client, Tablet())  # signed in again, with a new key; the old one is revoked
    revoked = send_signed(client, tablet, inspection_id, statement, signature)
    assert revoked.status_code == 403 and "签名密钥已失效" in revoked.text
    with Session(app.extensions["engine"]) as session:
        assert session.get(Inspection, inspection_id).status.value == "draft"


def test_the_report_prints_the_tablets_signing_time_beside_the_servers_receipt(sqlite_app, tmp_path):
    import subprocess

    client = sqlite_app.test_client()
    tablet = Tablet()
    sign_in_with(client, tablet)
    inspection_id = offline_start(client)
    answer_all_in_one_go(sqlite_app, inspection_id)
    signature = drawn_signature()
    assert send_signed(client, tablet, inspection_id, statement_for(sqlite_app, inspection_id, signature),
                       signature).status_code == 201
    pdf = client.get(f"/inspections/{inspection_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.data)
    text = "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert "平板签名2026-12-0217:40" in text  # the tablet's clock, on the plant's (Shanghai) clock
    assert "服务器收到" in text
