"""The installable app and what the device keeps: the web app manifest (a tablet adds the app to its home screen
and opens it full screen), the list of what to keep for offline use, and the screen that shows what is held."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required

import clock
from database import db
from offline.holdings import held_pages, held_workshops
from web import render_page

bp = Blueprint("offline", __name__)

THEME_COLOUR = "#1d4ed8"  # the icons' blue (assets/icons.py)
BACKGROUND_COLOUR = "#ffffff"  # the pages' own, shown while the app starts


@bp.get("/manifest.webmanifest")
def manifest():
    """Public (the browser fetches it without cookies): in the page's language, which the page passes as ?lang=."""
    chinese = get_locale().language == "zh"
    document = {
        "id": "/",
        "name": gettext("6S 巡检"),
        "short_name": gettext("6S 巡检"),
        "description": gettext("6S 现场检查：平板检查表、评分、报告与趋势"),
        "lang": "zh-CN" if chinese else "en",
        "dir": "ltr",
        "start_url": url_for("pages.home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["business", "productivity"],
        "icons": [_icon("icon-192.png", 192, "any"), _icon("icon-512.png", 512, "any"),
                  _icon("maskable-512.png", 512, "maskable")],
    }
    response = current_app.json.response(document)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"  # revalidated: a new icon or name reaches installed apps
    return response


def _icon(name: str, side: int, purpose: str) -> dict:
    return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{side}x{side}", "type": "image/png",
            "purpose": purpose}


@bp.get("/offline/holdings.json")
@login_required
def holdings():
    """For the service worker: the pages to keep and the workshops with their checklist versions. Never cached
    by the browser itself (the worker keeps its own copy, with the time it was fetched). ?held=1 asks for the
    device's copy, which only the device's worker has: here, Not Found."""
    if request.args.get("held"):
        abort(404)
    workshops = held_workshops(db(), current_user)
    held = {"user": current_user.id, "pages": held_pages(workshops), "workshops": [asdict(w) for w in workshops]}
    # the same list as the device holds needs no new copies of its pages (the worker compares digests)
    digest = hashlib.sha256(json.dumps(held, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    response = current_app.json.response({**held, "digest": digest, "made_at": clock.now().isoformat()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline")
@login_required
def held():
    """离线可用: what this tablet holds for offline work and what waits to be sent. The page is a frame that the
    device fills from its own copy of the list (static/js/offline.js), so it tells the truth offline too."""
    return render_page("offline/held.html")
