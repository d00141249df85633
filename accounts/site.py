"""The app's own address for links that leave it (chat robots, e-mail digests, webhooks, reports rendered in the
background): PUBLIC_BASE_URL when set; otherwise the address people signed in at, remembered (the first sign-in
sets it, an admin's sign-in at another address moves it), so that a plant run with `make run` still sends links
that open; a relative link in a WeCom message opens nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlmodel import Session, select

import clock
from accounts.models import Role, SiteAddress, User


def remember_address(session: Session, user: User, host_url: str) -> None:
    """After a sign-in at host_url (scheme://host[:port]/). An ordinary user's sign-in only fills an empty place:
    a Host header is the client's to write, and only an admin may move where everyone's links point."""
    parts = urlsplit(host_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(host_url) > 300:
        return
    base = f"{parts.scheme}://{parts.netloc}"
    found = session.exec(select(SiteAddress)).first()
    if found is None:
        session.add(SiteAddress(base_url=base, seen_by_id=user.id))
    elif found.base_url != base and user.role == Role.admin:
        found.base_url, found.seen_at, found.seen_by_id = base, clock.now(), user.id


def site_base_url(session: Session, configured: str | None) -> str:
    """scheme://host[:port] without a trailing slash, or "" when the app has never been reached and none is set."""
    if configured:
        return configured.rstrip("/")
    found = session.exec(select(SiteAddress.base_url)).first()
    return found or ""
