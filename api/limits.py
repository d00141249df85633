"""Per-token rate limits on the API (Flask-Limiter): each token (or browser session, or address without either)
has its own budget, API_RATE_LIMIT (default 3 000 a minute: a client entering paper audits as fast as it can
— 105 answers, photos and a submit each — is not held back for the first twenty-odd in a minute; a runaway
loop is). Over it: 429 problem details with `Retry-After`; every answer carries
the `X-RateLimit-*` headers. Counted in the process by default (memory://); with several app servers set
RATELIMIT_STORAGE_URI to the Redis they share (redis://…), so that the budget is the group's, not each worker's."""

from __future__ import annotations

import hashlib
import os

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from flask_login import current_user

DEFAULT_LIMIT = "3000/minute"


def budget_key() -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):  # the token itself (not its user: two integrations of one user are two)
        return "token:" + hashlib.sha256(header.removeprefix("Bearer ").encode()).hexdigest()[:32]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


def init_limits(app: Flask, api: Blueprint) -> Limiter:
    app.config.setdefault("API_RATE_LIMIT", os.environ.get("API_RATE_LIMIT") or DEFAULT_LIMIT)
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", not app.config.get("TESTING"))  # a test that wants it says so
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter = Limiter(key_func=budget_key, app=app, default_limits=[])
    limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=budget_key)(api)
    limiter.exempt(app.view_functions["api.openapi_json"])
    limiter.exempt(app.view_functions["api.reference"])
    # /verify takes files from anyone, signed in or not: a budget per address (VERIFY_RATE_LIMIT, default 30 a
    # minute — an auditor checks a handful of reports, a script hammering it is held back)
    app.config.setdefault("VERIFY_RATE_LIMIT", os.environ.get("VERIFY_RATE_LIMIT") or "30/minute")
    if "verify.upload" in app.view_functions:  # the limit is checked by the wrapper: it takes the view's place
        app.view_functions["verify.upload"] = limiter.limit(
            lambda: current_app.config["VERIFY_RATE_LIMIT"],
            key_func=lambda: f"verify:{request.remote_addr}")(app.view_functions["verify.upload"])
    app.extensions["rate_limiter"] = limiter  # Flask-Limiter keeps only a weak reference to itself
    return limiter
