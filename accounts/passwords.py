"""How passwords are kept: Werkzeug's scrypt by default, its cost a setting (``PASSWORD_HASH``).

The stored hash names its own method and cost, so a check always uses the cost it was made with; a sign-in with
the right password re-hashes a password kept at another cost than today's setting (``needs_rehash``), which is
how raising the cost reaches every account without a reset. The tests set a cheap cost (tests/conftest.py):
each check at the default costs ~0.1 s and 32 MB, and the suite signs in thousands of times.
"""

from __future__ import annotations

import os
from functools import cache

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

# Werkzeug's scrypt (N = 2^15, r = 8, p = 1): ~0.1 s and 32 MB a check on these machines.
DEFAULT_METHOD = "scrypt:32768:8:1"


class PasswordMethodError(ValueError):
    pass


def configured_method() -> str:
    """The app's PASSWORD_HASH; outside an app (scripts seeding a database) the environment's."""
    if has_app_context():
        return current_app.config["PASSWORD_HASH"]
    return os.environ.get("PASSWORD_HASH") or DEFAULT_METHOD


@cache
def stored_prefix(method: str) -> str:
    """The method as a stored hash names it ("scrypt" → "scrypt:32768:8:1"); PasswordMethodError if unknown."""
    try:
        return generate_password_hash("probe", method=method).split("$", 1)[0]
    except (ValueError, TypeError) as exc:
        raise PasswordMethodError(f"PASSWORD_HASH: {method!r} is not a password hash method Werkzeug knows "
                                  f"(e.g. {DEFAULT_METHOD!r} or 'pbkdf2:sha256:600000')") from exc


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=configured_method())


def check_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def check_against_nothing(password: str) -> None:
    """As long as a real check at today's cost: a missing name cannot be told from a wrong password by time."""
    check_password_hash(_dummy_hash(configured_method()), password)


def needs_rehash(password_hash: str) -> bool:
    return password_hash.split("$", 1)[0] != stored_prefix(configured_method())
