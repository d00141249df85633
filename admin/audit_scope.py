"""Whose audit trail a reader sees: an administrator all of it; a quality manager or an auditor the events about
the plants and workshops of their own scope — the inspections, corrective actions, red tags, joint inspections and
plans there, and those workshops and plants themselves. Users, checklists and webhooks are the administrators'.

The trail keeps no scope column of its own (its rows are chained and append-only): the scope is read through the
objects the events name, so an event is shown exactly when its object lies in the reader's scope now."""

from __future__ import annotations

from sqlalchemy import String, cast, false, or_
from sqlmodel import select

from accounts.models import Role, User, Workshop
from accounts.service import is_admin, visible_workshops
from actions.models import CorrectiveAction
from audit.models import AuditEvent
from inspections.models import Calibration, Inspection
from plans.models import InspectionPlan
from redtags.models import RedTag

# who may read the trail at all (their scope's part of it; admins all of it)
TRAIL_READERS = (Role.admin, Role.manager, Role.auditor)

# object type → (the object's id, the workshop it belongs to)
_BY_WORKSHOP = {
    "inspection": (Inspection.id, Inspection.workshop_id),
    "corrective_action": (CorrectiveAction.id, CorrectiveAction.workshop_id),
    "red_tag": (RedTag.id, RedTag.workshop_id),
    "calibration": (Calibration.id, Calibration.workshop_id),
    "workshop": (Workshop.id, Workshop.id),
}


def may_read_trail(user: User) -> bool:
    return user.role in TRAIL_READERS


def in_scope(user: User):
    """A condition on AuditEvent: the events about objects in the user's scope (everything for an admin)."""
    if is_admin(user):
        return AuditEvent.id.is_not(None)
    if not may_read_trail(user):
        return false()
    workshops = visible_workshops(user).with_only_columns(Workshop.id).order_by(None)
    plants = visible_workshops(user).with_only_columns(Workshop.plant_id).order_by(None)
    conditions = [
        (AuditEvent.object_type == kind) & AuditEvent.object_id.in_(
            select(cast(object_id, String)).where(workshop_id.in_(workshops)))
        for kind, (object_id, workshop_id) in _BY_WORKSHOP.items()
    ]
    conditions.append((AuditEvent.object_type == "plan") & AuditEvent.object_id.in_(
        select(cast(InspectionPlan.id, String)).where(or_(
            InspectionPlan.workshop_id.in_(workshops),
            InspectionPlan.workshop_id.is_(None) & InspectionPlan.plant_id.in_(plants)))))
    conditions.append((AuditEvent.object_type == "plant") & AuditEvent.object_id.in_(
        select(cast(Workshop.plant_id, String)).where(Workshop.id.in_(workshops))))
    return or_(*conditions)
