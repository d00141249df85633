"""Device cookies: "this browser has signed in as these names before".

A plant's tablets reach the server through one NAT address, and a shared tablet is used by several supervisors.
Locking a name (or an address) after wrong passwords would let anyone lock everyone out. So the sign-in limit
treats a browser that signed in as a name before, and can prove it with this signed cookie, apart: a guesser
elsewhere who locks the name (or the plant's address) does not lock out the people on their own tablets, and a
trusted browser has its own, separate budget of wrong passwords (OWASP's "device cookies").

The cookie holds a random device id and the names signed in from it (at most MAX_NAMES, the latest kept), signed
with SECRET_KEY: it cannot be made up or extended by hand. It is no key to anything: a password is still needed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "sixs_device"
SALT = "sixs.device-cookie"
MAX_NAMES = 20
MAX_AGE_DAYS = 365


@dataclass(frozen=True)
class Device:
    device_id: str | None = None  # None: no valid cookie
    names: tuple[str, ...] = ()

    def trusted_for(self, name: str) -> bool:
        return self.device_id is not None and name.strip().lower() in self.names


NO_DEVICE = Device()


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def read_device(cookie: str | None, secret_key: str) -> Device:
    """The device a request's cookie proves, or NO_DEVICE (none, tampered with, or malformed)."""
    if not cookie or len(cookie) > 4096:
        return NO_DEVICE
    try:
        data = _serializer(secret_key).loads(cookie)
    except BadSignature:
        return NO_DEVICE
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("n"), list):
        return NO_DEVICE
    names = tuple(n for n in data["n"] if isinstance(n, str))[-MAX_NAMES:]
    return Device(device_id=data["d"][:32], names=names)


def remembered(device: Device, name: str, secret_key: str) -> str:
    """The cookie value after `name` signed in on this device (a new device id when there was none)."""
    name = name.strip().lower()
    names = [n for n in device.names if n != name] + [name]
    return _serializer(secret_key).dumps({"d": device.device_id or secrets.token_hex(16), "n": names[-MAX_NAMES:]})
