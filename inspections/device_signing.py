"""A record signed on a tablet without the server (#37): what the tablet showed when the person signed, signed by
the tablet's key that their password unlocked there (accounts/device_keys.py), checked on arrival against what the
server now holds.

The statement is JSON, made and signed by static/js/device-review.js; its bytes are sent as signed:
  v                         1
  user                      the signer's user id
  inspection | start        the inspection's id, or the key of the start the tablet made (an offline start)
  answers                   {item key: points or "na"} as the tablet showed them
  signature_sha256          SHA-256 of the drawn signature as sent (its data URL)
  leader_name               the workshop leader's name as written ("" when nobody countersigned)
  leader_signature_sha256   SHA-256 of the leader's drawn signature ("" when none)
  signed_at                 the tablet's clock at the signing, ISO 8601 with its offset
The server accepts it only when every field agrees: answers that changed since (another tablet's value kept in a
conflict) mean the person signed something else, and the tablet keeps the record to be reviewed and signed again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

import clock
from accounts.device_keys import DeviceKeyError, verify
from accounts.models import User
from inspections.models import Inspection
from inspections.scoring import NA
from inspections.service import InspectionError, answer_value, answers_by_key
from inspections.signatures import SignedOnDevice

STATEMENT_FIELDS = {"v", "user", "inspection", "start", "answers", "signature_sha256", "leader_name",
                    "leader_signature_sha256", "signed_at"}
MAX_STATEMENT_BYTES = 64 * 1024


@dataclass(frozen=True)
class DeviceProof:
    statement: bytes
    signature: str  # base64 of r‖s
    key: str  # the key's fingerprint


def proof_from(form) -> DeviceProof | None:
    """The tablet's proof from a submit's form, or None for a submit confirmed by the password."""
    signature = form.get("device_signature", "")
    if not signature:
        return None
    return DeviceProof(statement=form.get("statement", "").encode(), signature=signature,
                       key=form.get("device_key", ""))


def _refused(message: str, items: list[str] | None = None, status: int = 422,
             code: str = "device_statement_bad") -> InspectionError:
    return InspectionError(code, message, items=items or [], status=status)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest() if value else ""


def check_signed_on_device(session: Session, user: User, inspection: Inspection, proof: DeviceProof,
                           signature: str, leader_name: str, leader_signature: str) -> SignedOnDevice:
    """The signature's key and the statement checked against this submit and the inspection as stored now."""
    if len(proof.statement) > MAX_STATEMENT_BYTES:
        raise _refused("the signed statement is too long")
    try:
        key = verify(session, user, proof.key, proof.statement, proof.signature)
    except DeviceKeyError as exc:
        code = {"unknown_key": "device_key_unknown", "revoked_key": "device_key_revoked"}.get(
            exc.code, "device_signature_bad")
        raise _refused(str(exc), items=["device_signature"], code=code, status=403 if "key" in code else 422) from exc
    try:
        statement = json.loads(proof.statement)
    except ValueError as exc:
        raise _refused("the signed statement is not JSON", items=["statement"]) from exc
    if not isinstance(statement, dict) or set(statement) != STATEMENT_FIELDS or statement["v"] != 1:
        fields = set(statement) if isinstance(statement, dict) else set()
        raise _refused(f"the signed statement's fields are wrong: unknown {sorted(fields - STATEMENT_FIELDS)}, "
                       f"missing {sorted(STATEMENT_FIELDS - fields)}", items=["statement"])
    if statement["user"] != user.id:
        raise _refused("the statement was signed for another user", items=["statement"])
    same = statement["inspection"] == inspection.id or (
        statement["start"] is not None and statement["start"] == inspection.client_key)
    if not same:
        raise _refused("the statement was signed for another inspection", items=["statement"])
    if (statement["signature_sha256"], statement["leader_signature_sha256"], statement["leader_name"]) != (
            _digest(signature), _digest(leader_signature), leader_name):
        raise _refused("the drawn signatures are not the ones signed", items=["signature"],
                       code="device_signature_bad")
    stored = {key: answer_value(answer) for key, answer in answers_by_key(inspection).items()}
    signed = statement["answers"] if isinstance(statement["answers"], dict) else {}
    differ = sorted(k for k in set(stored) | set(signed) if _value(signed.get(k)) != stored.get(k))
    if differ:
        shown = ", ".join(f"{k} (signed {signed.get(k, '—')}, now {stored.get(k, '—')})" for k in differ[:5])
        raise _refused(f"the answers signed on the tablet differ from the ones stored: {shown}", items=differ,
                       status=409, code="device_answers_differ")
    try:
        signed_at = datetime.fromisoformat(str(statement["signed_at"]))
    except ValueError as exc:
        raise _refused("signed_at is not an ISO 8601 time", items=["statement"]) from exc
    if signed_at.tzinfo is None:
        raise _refused("signed_at has no UTC offset", items=["statement"])
    return SignedOnDevice(key_id=key.id, signed_at=clock.as_utc(signed_at))


def _value(raw) -> int | str | None:
    if raw == NA:
        return NA
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
