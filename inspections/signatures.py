"""Sign-off: the inspector signs at submit (inspected), the workshop leader may countersign on the same tablet
(reviewed), and a quality manager approves (approved). Whoever records a signature re-enters their password
first (the views check it, rate-limited like a sign-in); each signature is audited.

A drawn signature arrives as the canvas's PNG data URL. It is decoded, checked to be a real PNG of sane size
that holds some ink, flattened onto white, cropped to the ink and re-encoded, so what is stored is a small
clean image and never the bytes a client sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session, select

import clock
import events
from accounts.models import User
from accounts.service import is_manager
from audit.service import record as audit
from inspections.models import SIGNATURE_MEANING, Inspection, InspectionStatus, Signature, SignatureRole

DATA_URL_PREFIX = "data:image/png;base64,"
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_SIDE = 3000
MIN_INK_PIXELS = 12  # a tap leaves a dot; a signature is a stroke
INK_LEVEL = 160  # grey levels below this (on white) count as ink
MAX_NAME_LENGTH = 64


class SignatureError(ValueError):
    """code: empty | bad_image | too_large | name_missing | name_too_long | already_signed | not_allowed |
    not_submitted."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(message)
        self.code = code
        self.status = status


def clean_signature_image(data_url: str) -> bytes:
    """The canvas's data URL → a cropped black-on-white PNG, or SignatureError."""
    data_url = (data_url or "").strip()
    if not data_url:
        raise SignatureError("empty", "no signature was drawn")
    if not data_url.startswith(DATA_URL_PREFIX):
        raise SignatureError("bad_image", "a signature must be a PNG data URL")
    encoded = data_url[len(DATA_URL_PREFIX):]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise SignatureError("too_large", "the signature image is too large")
    try:
        raw = base64.b64decode(encoded, validate=True)
        image = Image.open(BytesIO(raw))
        if image.format != "PNG" or max(image.size) > MAX_SIGNATURE_SIDE:
            raise SignatureError("bad_image", "a signature must be a PNG of at most 3000 px")
        image.load()
    except (binascii.Error, UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise SignatureError("bad_image", "the signature image cannot be read") from exc
    # Transparent canvas pixels become white; the strokes stay dark.
    flat = Image.new("RGB", image.size, "white")
    rgba = image.convert("RGBA")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    grey = flat.convert("L")
    ink = grey.point(lambda level: 255 if level < INK_LEVEL else 0)
    box = ink.getbbox()
    if box is None or ink.histogram()[255] < MIN_INK_PIXELS:
        raise SignatureError("empty", "the signature is empty")
    margin = 8
    box = (max(box[0] - margin, 0), max(box[1] - margin, 0),
           min(box[2] + margin, grey.width), min(box[3] + margin, grey.height))
    out = BytesIO()
    grey.crop(box).save(out, format="PNG", optimize=True)
    return out.getvalue()


def signatures_of(session: Session, inspection: Inspection) -> dict[SignatureRole, Signature]:
    rows = session.exec(select(Signature).where(Signature.inspection_id == inspection.id).order_by(Signature.id))
    return {SignatureRole(row.role): row for row in rows}


def may_record_signature(user: User, inspection: Inspection) -> bool:
    """The inspector's tablet, or a manager's: the countersign happens on the floor, beside the inspector."""
    return inspection.inspector_id == user.id or is_manager(user)


def may_approve(user: User, inspection: Inspection) -> bool:
    """A quality manager approves a submitted inspection, but not one they inspected themselves."""
    return (is_manager(user) and inspection.status == InspectionStatus.submitted
            and inspection.inspector_id != user.id)


@dataclass(frozen=True)
class SignedOnDevice:
    """A signature made on a tablet without the server (inspections/device_signing.py): the tablet's key that signed
    (the user's password unlocked it there) and the tablet's clock at the signing."""

    key_id: int
    signed_at: datetime


def record_signature(
    *, session: Session, user: User, inspection: Inspection, role: SignatureRole, signer_name: str,
    image: bytes | None, signer_user: User | None = None, password_confirmed: bool = False,
    on_device: SignedOnDevice | None = None,
) -> Signature:
    """Store one signature (the image already cleaned). Each role signs an inspection once.

    password_confirmed: the recording user re-entered their password just now (the caller checked it).
    on_device: signed on the tablet earlier, its key checked by the caller; signed_at stays the server's receipt."""
    if role == SignatureRole.manager:
        if not is_manager(user) or inspection.inspector_id == user.id:
            raise SignatureError("not_allowed", "a quality manager approves another person's inspection", status=403)
        signer_user, signer_name = user, user.display_name
    elif not may_record_signature(user, inspection):
        raise SignatureError("not_allowed", "only the inspector or a manager can record a signature", status=403)
    if role != SignatureRole.inspector and inspection.status != InspectionStatus.submitted:
        raise SignatureError("not_submitted", "only a submitted inspection is countersigned or approved", status=409)
    signer_name = " ".join((signer_name or "").split())
    if not signer_name:
        raise SignatureError("name_missing", "the signer's name is missing")
    if len(signer_name) > MAX_NAME_LENGTH:
        raise SignatureError("name_too_long", f"the name is longer than {MAX_NAME_LENGTH} characters")
    if role in signatures_of(session, inspection):
        raise SignatureError("already_signed", f"this inspection already has a {role.value} signature", status=409)
    signature = Signature(
        inspection_id=inspection.id, role=role, signer_name=signer_name,
        signer_user_id=signer_user.id if signer_user else None, recorded_by_id=user.id, signed_at=clock.now(),
        image_png=image, image_sha256=hashlib.sha256(image).hexdigest() if image else None,
        password_confirmed=password_confirmed,
        device_signed_at=on_device.signed_at if on_device else None,
        device_key_id=on_device.key_id if on_device else None,
    )
    session.add(signature)
    session.flush()
    audit(session, actor=user, action="inspection.sign", object_type="inspection", object_id=inspection.id,
          new={"role": role.value, "meaning": SIGNATURE_MEANING[role], "signer_name": signer_name,
               "signer_user_id": signature.signer_user_id, "password_confirmed": password_confirmed,
               "image_sha256": signature.image_sha256,
               **({"signed_on_device_at": on_device.signed_at.isoformat(), "device_key_id": on_device.key_id}
                  if on_device else {})})
    if inspection.status == InspectionStatus.submitted:
        events.record_changed.send(session, inspection=inspection)
    return signature
