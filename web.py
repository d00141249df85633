"""Small HTTP helpers shared by the blueprints: page-or-fragment rendering."""

from __future__ import annotations

from flask import render_template, request
from jinja2_fragments.flask import render_block


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
    from flask import current_app, url_for

    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def qr_svg(text: str, title: str | None = None, scale: int = 8):
    """A QR code as inline SVG markup (generated here from our own URL, never from user markup). It has a viewBox
    and no fixed size, so CSS sizes it without cropping."""
    import segno
    from markupsafe import Markup

    return Markup(segno.make(text, error="m").svg_inline(scale=scale, title=title, omitsize=True))  # noqa: S704  # nosec B704


def utc_bounds(period) -> tuple:
    """A period of the user's local calendar days → [since, until) in UTC, the way times are stored."""
    from datetime import UTC, datetime, time, timedelta

    from flask_babel import to_utc

    since = to_utc(datetime.combine(period.start, time.min)).replace(tzinfo=UTC)
    until = to_utc(datetime.combine(period.end + timedelta(days=1), time.min)).replace(tzinfo=UTC)
    return since, until


def local_today():
    """Today in the user's time zone (Asia/Shanghai by default), not the server's UTC."""
    from flask_babel import to_user_timezone

    from accounts.models import utcnow

    return to_user_timezone(utcnow()).date()


def static_fingerprint(folder) -> str:
    """A short digest of every file under the static folder (names and bytes). The service worker names its cache
    after it: a deploy that changes a stylesheet or script changes the worker, which drops the old copies — a
    cache-first worker would otherwise serve tablets yesterday's code forever."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
