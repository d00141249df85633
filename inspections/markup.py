"""Photo markup: circles, arrows and short texts a supervisor draws on a finding photo to point at the problem.

The photo itself is never touched (it stays as stored, under its hash); the markup is a vector layer kept beside
it, with who drew it and when. Each save is a new row (the last one counts, the earlier ones stay as history).
Coordinates are fractions of the photo's width and height (0–1), so one layer fits the photo at any size: the
tablet's screen, the thumbnail, the PDF.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlmodel import Session, select

from accounts.models import User
from inspections.models import Inspection, Photo, PhotoMarkup

MAX_SHAPES = 40
MAX_TEXT = 40
COLOUR = "#e11d48"  # one strong red: visible on grey floors, yellow lines and green machines alike
FIELDS = {"circle": ("type", "x", "y", "r"), "arrow": ("type", "x1", "y1", "x2", "y2"),
          "text": ("type", "x", "y", "text")}


class MarkupError(ValueError):
    """A markup we will not store, naming the shape and the field (code for the user's language)."""

    def __init__(self, code: str, detail: str, shape: int = 0, field: str = ""):
        super().__init__(detail)
        self.code, self.detail, self.shape, self.field = code, detail, shape, field


@dataclass(frozen=True)
class Layer:
    photo_id: int
    shapes: tuple[dict, ...]
    sha256: str
    by: str
    at: object


def parse_shapes(raw: str | list) -> list[dict]:
    """The shapes as sent (JSON text or a list), checked: every shape a known type with exactly its fields,
    numbers within the photo (0–1), texts short. Refuses the whole layer on the first problem, naming it."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise MarkupError("bad_json", "shapes: not JSON") from None
    if not isinstance(raw, list):
        raise MarkupError("bad_shapes", "shapes: expected a list")
    if len(raw) > MAX_SHAPES:
        raise MarkupError("too_many", f"shapes: at most {MAX_SHAPES}")
    shapes = []
    for n, shape in enumerate(raw, 1):
        if not isinstance(shape, dict) or shape.get("type") not in FIELDS:
            raise MarkupError("bad_type", f"shape {n}: type must be circle, arrow or text", n, "type")
        allowed = FIELDS[shape["type"]]
        unknown = sorted(set(shape) - set(allowed))
        if unknown:
            raise MarkupError("unknown_field", f"shape {n}: unknown field {', '.join(unknown)}", n, ", ".join(unknown))
        missing = [name for name in allowed if name not in shape]
        if missing:
            raise MarkupError("missing_field", f"shape {n}: missing {', '.join(missing)}", n, ", ".join(missing))
        clean = {"type": shape["type"]}
        for name in allowed[1:]:
            value = shape[name]
            if name == "text":
                if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
                    raise MarkupError("bad_text", f"shape {n}: text must be 1–{MAX_TEXT} characters", n, name)
                clean[name] = value.strip()
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise MarkupError("bad_number", f"shape {n}: {name} must be a number from 0 to 1", n, name)
            clean[name] = round(float(value), 4)
        if clean["type"] == "circle" and clean["r"] <= 0:
            raise MarkupError("bad_number", f"shape {n}: r must be greater than 0", n, "r")
        shapes.append(clean)
    return shapes


def layer_sha256(shapes: Iterable[dict]) -> str:
    return hashlib.sha256(json.dumps(list(shapes), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def save_markup(*, session: Session, user: User, inspection: Inspection, photo: Photo, shapes: list[dict],
                change_key: str | None = None) -> PhotoMarkup:
    """A new layer for the photo (the caller has checked that the user may change this inspection). A replayed
    save (the same change_key, the outbox sending again) stores nothing twice."""
    if photo.inspection_id != inspection.id:
        raise MarkupError("not_found", "no such photo in this inspection")
    if change_key:
        done = session.exec(select(PhotoMarkup).where(PhotoMarkup.change_key == change_key)).first()
        if done is not None:
            return done
    markup = PhotoMarkup(photo_id=photo.id, shapes=shapes, sha256=layer_sha256(shapes), created_by_id=user.id,
                         change_key=change_key or None)
    session.add(markup)
    session.flush()
    return markup


def layers_of(session: Session, photo_ids: Iterable[int]) -> dict[int, PhotoMarkup]:
    """The current layer of each photo that has one (the newest row; an empty list means it was cleared)."""
    ids = list(photo_ids)
    if not ids:
        return {}
    rows = session.exec(select(PhotoMarkup).where(PhotoMarkup.photo_id.in_(ids)).order_by(PhotoMarkup.id)).all()
    current = {row.photo_id: row for row in rows}
    return {photo_id: row for photo_id, row in current.items() if row.shapes}


def arrow_head(x1: float, y1: float, x2: float, y2: float, size: float) -> list[tuple[float, float]]:
    """The three corners of an arrow's head at (x2, y2), pointing along the line (the tablet draws the same)."""
    angle = math.atan2(y2 - y1, x2 - x1)
    return [(x2, y2), (x2 - size * math.cos(angle - 0.45), y2 - size * math.sin(angle - 0.45)),
            (x2 - size * math.cos(angle + 0.45), y2 - size * math.sin(angle + 0.45))]


def overlay_svg(shapes: Iterable[dict], width: int, height: int, ident: int | str = 0) -> Markup:
    """The layer as SVG over a photo of width × height (any unit: the viewBox is the photo's own pixels), laid
    over the image by the page (position: absolute; inset: 0). Strokes scale with the photo. `ident` keeps the
    layer apart from other photos' on the same page."""
    stroke = max(width, height) / 120
    parts = [f'<svg class="markup" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'preserveAspectRatio="none" aria-hidden="true" data-photo="{escape(str(ident))}">']
    for shape in shapes:
        kind = shape["type"]
        if kind == "circle":
            parts.append(f'<ellipse cx="{shape["x"] * width:.1f}" cy="{shape["y"] * height:.1f}" '
                         f'rx="{shape["r"] * width:.1f}" ry="{shape["r"] * width:.1f}" fill="none" '
                         f'stroke="{COLOUR}" stroke-width="{stroke:.1f}"/>')
        elif kind == "arrow":
            x1, y1, x2, y2 = shape["x1"] * width, shape["y1"] * height, shape["x2"] * width, shape["y2"] * height
            head = " ".join(f"{x:.1f},{y:.1f}" for x, y in arrow_head(x1, y1, x2, y2, stroke * 4))
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{COLOUR}" '
                         f'stroke-width="{stroke:.1f}" stroke-linecap="round"/>'
                         f'<polygon points="{head}" fill="{COLOUR}"/>')
        else:
            size = max(width, height) / 16
            # a white outline under the red letters (drawn first: not every renderer knows paint-order)
            place = (f'x="{shape["x"] * width:.1f}" y="{shape["y"] * height:.1f}" font-size="{size:.1f}" '
                     f'font-weight="700" font-family="Noto Sans CJK SC, sans-serif"')
            parts.append(f'<text {place} fill="#fff" stroke="#fff" stroke-width="{size / 6:.1f}" '
                         f'stroke-linejoin="round">{escape(shape["text"])}</text>'
                         f'<text {place} fill="{COLOUR}">{escape(shape["text"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # numbers formatted here, the one text escaped  # noqa: S704  # nosec B704
