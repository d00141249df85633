"""Signing without the server (#37): a tablet's own key, made when its user signs in there, checks a record the
tablet signed offline.

Why a key and not a password check on the tablet: the signature's meaning is "this person, knowing their
password, signed this record". On the tablet the password unlocks the private key (PBKDF2-SHA-256 → AES-GCM, in
static/js/signing-key.js); a wrong password unlocks nothing, and nothing on the tablet reveals the password. The
server trusts a device-signed record only when the key is this user's, not revoked, and the signature holds over
the exact statement the tablet showed (answers, drawn signatures, its clock)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlmodel import Session, select

import clock
from accounts.models import DeviceKey, User
from audit.service import record as audit

MAX_KEY_BYTES = 200  # a P-256 SubjectPublicKeyInfo is 91 bytes


class DeviceKeyError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def fingerprint_of(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _public_key(der: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except ValueError as exc:
        raise DeviceKeyError("bad_key", "the device key is not a public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise DeviceKeyError("bad_key", "the device key must be an ECDSA P-256 key")
    return key


def enrol(session: Session, user: User, encoded: str, user_agent: str = "") -> DeviceKey:
    """Keep the public half of a key a tablet made at sign-in (base64 SubjectPublicKeyInfo). The same key again is
    the same row; a key of another user is refused."""
    try:
        der = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DeviceKeyError("bad_key", "the device key is not base64") from exc
    if not der or len(der) > MAX_KEY_BYTES:
        raise DeviceKeyError("bad_key", "the device key has the wrong size")
    _public_key(der)
    fingerprint = fingerprint_of(der)
    known = session.exec(select(DeviceKey).where(DeviceKey.fingerprint == fingerprint)).first()
    if known is not None:
        if known.user_id != user.id:
            raise DeviceKeyError("key_taken", "this device key belongs to another user")
        return known
    key = DeviceKey(user_id=user.id, fingerprint=fingerprint, public_key=der, user_agent=user_agent[:200])
    session.add(key)
    session.flush()
    audit(session, actor=user, action="device_key.enrol", object_type="user", object_id=user.id,
          new={"fingerprint": fingerprint, "user_agent": key.user_agent})
    return key


def verify(session: Session, user: User, fingerprint: str, statement: bytes, signature_b64: str) -> DeviceKey:
    """The user's key that made this signature (ECDSA P-256 with SHA-256, r‖s as WebCrypto gives it) over these
    exact bytes; anything else is refused with its reason."""
    key = session.exec(select(DeviceKey).where(DeviceKey.fingerprint == fingerprint)).first()
    if key is None or key.user_id != user.id:
        raise DeviceKeyError("unknown_key", "this tablet's signing key is not known for this user")
    if key.revoked_at is not None:
        raise DeviceKeyError("revoked_key", "this tablet's signing key was revoked (password changed or signed out "
                                            "everywhere)")
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DeviceKeyError("bad_signature", "the device signature is not base64") from exc
    if len(raw) != 64:
        raise DeviceKeyError("bad_signature", "the device signature has the wrong size")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        _public_key(key.public_key).verify(der, statement, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise DeviceKeyError("bad_signature", "the device signature does not match what was signed") from exc
    key.last_used_at = clock.now()
    session.add(key)
    return key


def revoke(session: Session, user: User, fingerprint: str) -> None:
    """One tablet's key, when its user signs out there (the tablet forgets it too)."""
    key = session.exec(select(DeviceKey).where(DeviceKey.fingerprint == fingerprint,
                                               DeviceKey.user_id == user.id)).first()
    if key is not None and key.revoked_at is None:
        key.revoked_at = clock.now()
        session.add(key)


def revoke_all(session: Session, user: User) -> int:
    keys = session.exec(select(DeviceKey).where(DeviceKey.user_id == user.id, DeviceKey.revoked_at.is_(None))).all()
    for key in keys:
        key.revoked_at = clock.now()
        session.add(key)
    return len(keys)
