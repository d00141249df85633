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
