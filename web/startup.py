"""What a start refuses or makes safe, before anything else runs: debug mode, the secret key that signs sessions,
and the session cookie's Secure flag."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

MIN_SECRET_LENGTH = 16
# Keys copied from tutorials and sample configs: refused even when long enough.
KNOWN_SECRET_KEYS = {"dev", "development", "secret", "secret-key", "secret_key", "changeme", "change-me",
                     "please-change-me", "your-secret-key", "your_secret_key", "super-secret", "supersecret",
                     "flask-secret-key", "replace-me", "0123456789abcdef", "bench", "test"}


def refuse_debug_in_production(app: Flask) -> None:
    """The debugger runs code from the browser: only on a developer's machine, who says so explicitly."""
    if app.debug and not app.testing and os.environ.get("SIXS_DEVELOPMENT") != "1":
        raise RuntimeError("debug mode is on (FLASK_DEBUG): never in production. "
                           "On a development machine set SIXS_DEVELOPMENT=1 as well.")


class SecureWhenHttpsSessions(SecureCookieSessionInterface):
    """The session cookie gets `Secure` whenever the request came over HTTPS (directly or via a trusted
    proxy), so a factory LAN on plain HTTP still works and an HTTPS deployment never leaks it."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


def ensure_secret(app: Flask, key_file: Path) -> None:
    """SECRET_KEY from the environment, else one generated once per instance and kept in instance/secret_key.

    There is no built-in default key: sessions can never be signed with a value an attacker could know.
    """
    if not app.config.get("SECRET_KEY"):
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:  # first worker to start writes it; the others read it
                out.write(secrets.token_hex(32))
        except FileExistsError:
            pass
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    if app.debug or app.testing:
        return
    if len(app.config["SECRET_KEY"]) < MIN_SECRET_LENGTH:
        raise RuntimeError(f"SECRET_KEY is too short: use at least {MIN_SECRET_LENGTH} random characters")
    if app.config["SECRET_KEY"].lower() in KNOWN_SECRET_KEYS:
        raise RuntimeError("SECRET_KEY is a well-known default: anyone could forge sessions. Unset it to have "
                           "one generated, or set a long random value.")
