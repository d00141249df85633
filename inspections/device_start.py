"""Starts made on a tablet, perhaps hours before the server hears of them (#37): which of the device's times to
believe, and whether the checklist version the device held may still be started. Pure rules; the start itself is
inspections.starting.start_inspection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A tablet's clock is trusted when it says the start happened after the version it used was published and not
# after the start reached us; these margins absorb clocks a few minutes off either way.
CLOCK_MARGIN = timedelta(minutes=5)
# A start from a device whose clock is not believed may still use a version retired this recently (a shift or a
# long weekend without Wi-Fi); older ones are refused with the reason.
RETIRED_GRACE = timedelta(days=14)


@dataclass(frozen=True)
class DeviceStart:
    """What a tablet says about a start it made: its key, the version it held, its clock at the tap."""

    client_key: str
    version_number: int | None
    started_at: datetime | None


def believed_start(device_at: datetime | None, received_at: datetime, published_at: datetime | None) -> datetime | None:
    """The device's start time when it is plausible, else None (then the start counts from its arrival)."""
    if device_at is None:
        return None
    earliest = (published_at - CLOCK_MARGIN) if published_at is not None else None
    if device_at > received_at + CLOCK_MARGIN or (earliest is not None and device_at < earliest):
        return None
    return min(device_at, received_at)


def retired_version_startable(retired_at: datetime | None, believed: datetime | None, received_at: datetime) -> bool:
    """A version retired (a newer one published) after the device started with it keeps the inspection; when the
    device's clock is not believed, one retired within RETIRED_GRACE of the arrival does."""
    if retired_at is None:
        return True
    if believed is not None:
        return believed <= retired_at
    return retired_at >= received_at - RETIRED_GRACE
