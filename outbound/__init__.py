"""Posts to the outside world — event webhooks, the overdue digest's webhook, chat robots — only where they may go.

An address that resolves to a loopback, private, link-local (169.254.169.254: a cloud's metadata), multicast,
reserved or unspecified address is refused, however it is written (127.1, 0x7f000001, [::1], a name that resolves
there), unless OUTBOUND_ALLOW lists it: comma-separated host names, addresses or networks ("10.2.0.0/16, erp.lan")
for a plant's own systems on its LAN. Redirects are never followed (a receiver cannot send a signed post elsewhere),
and callers show nothing of a refusal's body back."""

from __future__ import annotations

import ipaddress
import os
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from flask import current_app, has_app_context


class OutboundRefused(urllib.error.URLError):
    """The address is not one we post to; the reason says why, without anything the far side answered."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, "redirect not followed", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirects)


def allowed_list() -> list[str]:

    raw = current_app.config.get("OUTBOUND_ALLOW", "") if has_app_context() else os.environ.get("OUTBOUND_ALLOW", "")
    return [part.strip().lower() for part in (raw or "").split(",") if part.strip()]


def _allowed(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: list[str]) -> bool:
    for entry in allow:
        if entry == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_destination(url: str) -> None:
    """Raises OutboundRefused unless url is http(s) to a host whose every address we may post to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("not an http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused("not a valid port") from exc
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:  # no such host: an ordinary network failure, retried like one
        raise urllib.error.URLError(exc) from exc
    allow = allowed_list()
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        internal = (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                    or address.is_reserved or address.is_unspecified)
        if internal and not _allowed(parts.hostname, address, allow):
            raise OutboundRefused(f"{parts.hostname} is an internal address ({address}): not allowed "
                                  "(an administrator may list it in OUTBOUND_ALLOW)")


def open_url(request: urllib.request.Request, timeout: float):
    """urlopen, for posts that leave the app: the destination checked first, redirects refused."""
    check_destination(request.full_url)
    return _OPENER.open(request, timeout=timeout)
