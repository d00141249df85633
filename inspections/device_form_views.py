"""The blank form a tablet keeps for each checklist version it may start (#37): the same form page as a draft's,
with every category on it and no answers, which the service worker serves when the server cannot be reached.
An inspection started offline lives on the device under its start key (`?device=KEY`) until the server has
made it; the route then sends the browser on to the real inspection. Its route joins the inspections blueprint."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlmodel import select

from accounts.models import User, Workshop
from accounts.service import can_inspect, get_visible_workshop_or_404
from checklists.models import ChecklistVersion
from checklists.schemes import scheme_from_dict
from checklists.service import versions_for_workshop
from database import db
from inspections.models import Inspection, InspectionStatus
from inspections.service import device_rules, progress
from inspections.views import bp
from web import CLIENT_KEY, render_page

# the inspection id in the blank form's addresses; the tablet puts the server's id in its place once the start
# has been made there (static/js/device-start.js)
DEVICE_PLACEHOLDER_ID = 0


@dataclass
class DeviceDraft:
    """What the form page reads of an inspection, for one that exists only on the device so far."""

    workshop: Workshop
    version: ChecklistVersion
    inspector: User
    id: int = DEVICE_PLACEHOLDER_ID
    calibration_id: int | None = None
    status: InspectionStatus = InspectionStatus.draft
    answers: list = field(default_factory=list)


@bp.get("/workshops/<code>/checklists/<checklist_key>/v<int:number>/form")
def device_form(code: str, checklist_key: str, number: int):
    session = db()
    workshop = get_visible_workshop_or_404(session=session, user=current_user, code=code)
    key = request.args.get("device", "")
    if key and CLIENT_KEY.fullmatch(key):
        started = session.exec(select(Inspection).where(Inspection.client_key == key,
                                                        Inspection.inspector_id == current_user.id)).first()
        if started is not None:  # the device's start has reached the server: the real inspection from now on
            return redirect(url_for(".inspection", inspection_id=started.id), code=303)
    if not can_inspect(session=session, user=current_user, workshop_id=workshop.id):
        abort(403)
    version = next((v for v in versions_for_workshop(session=session, workshop=workshop)
                    if v.checklist.key == checklist_key and v.number == number), None)
    if version is None:
        abort(404)
    draft = DeviceDraft(workshop=workshop, version=version, inspector=current_user)
    categories = list(version.categories)
    return render_page(
        "inspections/inspection.html", device_form=True, inspection=draft, version=version,
        scheme=scheme_from_dict(version.scheme), categories=categories, category=categories[0],
        previous_category=None, next_category=categories[1] if len(categories) > 1 else None,
        answers={}, confirmed_values={}, device_rules=device_rules(version), progress=progress(draft),
        photos={}, markups={}, editable=True, open_actions={}, verifiable=set(), errors={}, photo_errors={},
        conflicts={})
