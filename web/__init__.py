"""Small HTTP helpers shared by the blueprints: page-or-fragment rendering."""

from __future__ import annotations

import io
import re
from datetime import date, tzinfo

from flask import (
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup, escape

import clock
from photos import read_photo
from storage import StoredFileError, storage

# the key a tablet makes for a change it queues (outbox.js): the same change sent twice is taken once
CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def is_fragment_request() -> bool:
    """htmx asked for a fragment; boosted navigation (HX-Boosted) wants the whole page."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def render_page(template: str, block: str | None = None, status: int = 200, **context):
    """The whole page, or only `block` of the same template when htmx asks for a fragment."""
    if block and is_fragment_request():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def public_url(endpoint: str, **values) -> str:
    """An absolute address for paper (QR labels, PDFs): PUBLIC_BASE_URL when set, since a proxy may hide ours."""

    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def qr_svg(text: str, title: str | None = None, scale: int = 8):
    """A QR code as inline SVG markup (generated here from our own URL, never from user markup). It has a viewBox
    and no fixed size, so CSS sizes it without cropping."""
    import segno

    return Markup(segno.make(text, error="m").svg_inline(scale=scale, title=title, omitsize=True))  # noqa: S704  # nosec B704


def at_plant(plant) -> tzinfo:
    """This page is about `plant` (a Plant, or None for the default zone): its times are shown on the plant's wall
    clock (the `localtime` filter) and its days counted there. Returns the plant's zone."""
    zone = clock.zone_of(plant)
    g.display_zone = zone
    return zone


def display_zone() -> tzinfo:
    """The zone the page shows times in: the plant's the view named (at_plant), else the default zone."""
    zone = g.get("display_zone") if has_app_context() else None
    return zone or clock.zone_named(None)


def plant_today(plant) -> date:
    """Today at `plant`, which this page is then about (see at_plant)."""
    return clock.today(at_plant(plant))


def private_cache(response, immutable: bool):
    """Files that belong to someone's workshop: browsers may keep them, shared caches never. An immutable one (a
    photo or signature of a record, stored by its hash) is kept for a year without asking again; one whose
    content may change under the same address (an action's after-photo) is revalidated by its ETag each time.
    (send_file's max_age gave "public, max-age=86400, private": public and private at once.)"""
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable" if immutable else "private, no-cache"
    return response


def photo_response(sha256: str, *, thumbnail: bool, download_name: str, immutable: bool):
    """A stored photo (or its thumbnail) as a private, cacheable JPEG. One that is missing or no longer matches
    its hash is never served: the log names the stored file, and the page shows a placeholder saying so."""

    try:
        data = read_photo(storage(), sha256, thumbnail)
    except StoredFileError as exc:
        current_app.logger.error("photo not served: %s", exc)
        return _damaged_photo(exc.key), 500
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", conditional=True, download_name=download_name,
                         etag=f"{sha256}{'-thumb' if thumbnail else ''}")
    return private_cache(response, immutable=immutable)


def _damaged_photo(key: str):
    """An SVG in place of the image, so the page says what is wrong instead of showing a broken picture."""

    text = escape(_("照片文件缺失或已被改动，请联系管理员"))
    shown = key if len(key) <= 44 else f"{key[:24]}…{key[-18:]}"  # the whole name is in the log
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 160" width="480" height="160">'
           f'<rect x="2" y="2" width="476" height="156" fill="#fdecea" stroke="#b3261e" stroke-width="4"/>'
           f'<text x="240" y="72" font-size="22" text-anchor="middle" fill="#b3261e">{text}</text>'
           f'<text x="240" y="112" font-size="15" text-anchor="middle" fill="#5f2120">{escape(shown)}</text></svg>')
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def screen_is_english() -> bool:
    """The page being made is in English (a request whose locale is English): names from a checklist's
    name_en / text_en, where it has them."""

    return has_request_context() and get_locale().language == "en"


# Statuses that are not the server taking (or judging) a tablet's queued change: the page expired (CSRF), nobody
# or somebody else is signed in, a proxy's session timeout. The change stays on the tablet.
NOT_TAKEN = frozenset({400, 401, 403, 419})


def refuse_another_users_change():
    """before_request: a queued change carries the id of the user who made it (X-Change-User); it is never taken as
    anyone else's, whoever is signed in on the tablet now."""

    made_by = request.headers.get("X-Change-User")
    if made_by and request.headers.get("X-Change-Key") and current_user.is_authenticated \
            and made_by != str(current_user.id):
        return "this change was queued by another user", 403


def acknowledge_change(response):
    """after_request: the server's own answer to a queued change names its key in X-Change-Ack; the outbox removes a
    change only on that (a redirect to the sign-in page, a login page or a proxy's answer never carries it).

    A change judged and refused (bad input, an inspection no longer open…) also says X-Change-Refused: the outbox
    then sets it aside, shown with the reason, instead of sending it again or losing what was typed. A conflict is
    not refused that way: its value is kept in the answer's history and shown beside the other (kept_as_conflict)."""

    key = request.headers.get("X-Change-Key")
    if key and current_user.is_authenticated and response.status_code < 500 \
            and response.status_code not in NOT_TAKEN and not 300 <= response.status_code < 400:
        response.headers["X-Change-Ack"] = key
        if response.status_code >= 400 and not g.get("change_kept_as_conflict"):
            response.headers["X-Change-Refused"] = "true"
    return response


def kept_as_conflict() -> None:
    """This request's change was stored as a conflict (see acknowledge_change)."""
    g.change_kept_as_conflict = True


# Text is text: what no keyboard types and no record should hold — C0 and C1 control characters (but tab and line
# breaks) and the bidirectional overrides that make a note read other than it is stored.
FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def forbidden_text_field(values) -> str | None:
    """The name of the first field (form field, or JSON member path) whose text holds a forbidden character."""
    def walk(value, path: str) -> str | None:
        if isinstance(value, str):
            return path if FORBIDDEN_TEXT.search(value) else None
        if isinstance(value, dict):
            return next((found for key, item in value.items()
                         if (found := walk(key, path) or walk(item, f"{path}.{key}" if path else str(key)))), None)
        if isinstance(value, list):
            return next((found for n, item in enumerate(value) if (found := walk(item, f"{path}[{n}]"))), None)
        return None

    return walk(values, "")


def refuse_control_characters():
    """before_request: a query parameter or posted field holding a control character is refused by name (422)
    before any view sees it, on both engines alike (PostgreSQL refuses a NUL with a 500; SQLite stored it and
    exported it raw)."""

    found = next((name for name, value in request.args.items(multi=True) if FORBIDDEN_TEXT.search(value)), None)
    if found is None and request.method in ("POST", "PUT", "PATCH"):
        found = next((name for name, value in request.form.items(multi=True) if FORBIDDEN_TEXT.search(value)), None)
    if found is None and request.is_json:
        found = forbidden_text_field(request.get_json(silent=True))
    if found is None:
        return None
    message = _("“%(field)s”含有不可见的控制字符（如 NUL、文字方向控制符），请删除后再保存。", field=found)
    if request.path.startswith("/api/"):
        response = jsonify(type="about:blank", title="Unprocessable Content", status=422, detail=message,
                           code="control_character", error=message, items=[found])
        response.mimetype = "application/problem+json"
        return response, 422
    if is_fragment_request():  # the tablet's save: the item's state line says it
        return f'<span class="state-error" data-state="error" data-error role="alert">{escape(message)}</span>', 422
    return render_template("errors/error.html", status=422, title=_("提交的内容有误"), description=message), 422
