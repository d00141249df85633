"""Starting an inspection: from the workshop page, the API or a tablet's queued start (its key, the version it held,
its clock). Pure rules for a device's times in device_start.py."""

from __future__ import annotations

from sqlmodel import Session, select

import clock
from accounts.models import User, Workshop
from accounts.service import can_inspect
from checklists.models import ChecklistVersion, VersionStatus
from checklists.service import versions_for_workshop
from inspections.device_start import DeviceStart, believed_start, retired_version_startable
from inspections.models import Inspection
from inspections.service import InspectionError
from web import CLIENT_KEY


def start_inspection(*, session: Session, user: User, workshop: Workshop,
                     checklist_key: str | None = None, device: DeviceStart | None = None) -> Inspection:
    """A new draft of the workshop against the checklist chosen (by key), which must be one on offer there; the
    choice may be left out only when one checklist is offered.

    device: a start made on a tablet (offline, or a tap sent again). Its key makes the start once: the same key
    again is the same inspection. The version it names is the one the tablet held: kept even when a newer one was
    published meanwhile (see device_start.py). Its clock is kept beside the arrival time."""
    if device is not None:
        if not CLIENT_KEY.fullmatch(device.client_key):
            raise InspectionError("bad_client_key", "client_key must be 16–64 letters, digits, - or _",
                                  items=["client_key"])
        earlier = session.exec(select(Inspection).where(Inspection.client_key == device.client_key)).first()
        if earlier is not None:
            if (earlier.inspector_id, earlier.workshop_id) != (user.id, workshop.id):
                raise InspectionError("client_key_taken", "this client_key started another inspection",
                                      status=409, items=["client_key"])
            return earlier  # the same start again: a retry, a double tap
    if not can_inspect(session=session, user=user, workshop_id=workshop.id):
        raise InspectionError("not_allowed", "you may not inspect this workshop", status=403)
    offered = versions_for_workshop(session=session, workshop=workshop)
    if not offered:
        raise InspectionError(
            "no_version", "no published checklist version: a manager must publish one first", status=409
        )
    keys = ", ".join(v.checklist.key for v in offered)
    if checklist_key:
        version = next((v for v in offered if v.checklist.key == checklist_key), None)
        if version is None:
            raise InspectionError("unknown_checklist", f"checklist {checklist_key!r} is not offered for this "
                                  f"workshop; choose one of {keys}", choices=offered)
    elif len(offered) > 1:
        raise InspectionError("checklist_required", f"this workshop offers several checklists; choose one of "
                              f"{keys}", choices=offered)
    else:
        version = offered[0]
    if device is None:
        inspection = Inspection(workshop_id=workshop.id, version_id=version.id, inspector_id=user.id)
    else:
        inspection = _device_inspection(session, user, workshop, version, device)
    session.add(inspection)
    session.flush()
    return inspection


def _device_inspection(session: Session, user: User, workshop: Workshop, offered: ChecklistVersion,
                       device: DeviceStart) -> Inspection:
    received = clock.now()
    version = offered
    if device.version_number is not None and device.version_number != offered.number:
        version = session.exec(select(ChecklistVersion).where(
            ChecklistVersion.checklist_id == offered.checklist_id,
            ChecklistVersion.number == device.version_number)).first()
        if version is None or version.status == VersionStatus.draft:
            raise InspectionError("unknown_version", f"version {device.version_number} of "
                                  f"{offered.checklist.key!r} was never published", items=["version"])
    device_at = clock.as_utc(device.started_at)
    believed = believed_start(device_at, received, clock.as_utc(version.published_at))
    if version.status == VersionStatus.retired and not retired_version_startable(
            clock.as_utc(version.retired_at), believed, received):
        raise InspectionError("version_retired", f"version {version.number} of {offered.checklist.key!r} was "
                              f"replaced before this start; start again with version {offered.number}",
                              status=409, items=["version"])
    return Inspection(workshop_id=workshop.id, version_id=version.id, inspector_id=user.id,
                      client_key=device.client_key, device_started_at=device_at, received_at=received,
                      started_at=believed or received)
