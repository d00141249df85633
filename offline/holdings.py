"""What a tablet keeps to work without the server, for the user signed in on it: the pages it opens offline and,
per workshop the user may inspect there, the checklist versions a new inspection may use. The service worker
fetches this list after an online visit of the home page and keeps every page on it (static/js/sw.js)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlmodel import Session

from accounts.models import User
from accounts.service import may_inspect, visible_workshops
from checklists.service import versions_for_workshop


@dataclass(frozen=True)
class HeldChecklist:
    key: str
    name: str
    version: int
    items: int
    form: str  # the blank form the device keeps to start this version offline


@dataclass(frozen=True)
class HeldWorkshop:
    code: str
    name: str
    plant: str
    page: str
    checklists: tuple[HeldChecklist, ...]


def held_workshops(session: Session, user: User) -> list[HeldWorkshop]:
    """The workshops where this user may start an inspection, each with the versions it offers today."""
    if not may_inspect(user):
        return []
    held = []
    for workshop in session.exec(visible_workshops(user)).all():
        offered = versions_for_workshop(session=session, workshop=workshop)
        held.append(HeldWorkshop(
            code=workshop.code, name=workshop.name, plant=workshop.plant.name,
            page=url_for("pages.workshop", code=workshop.code),
            checklists=tuple(HeldChecklist(
                key=v.checklist.key, name=v.checklist.name, version=v.number,
                items=sum(len(c.items) for c in v.categories),
                form=url_for("inspections.device_form", code=workshop.code, checklist_key=v.checklist.key,
                             number=v.number)) for v in offered)))
    return held


def held_pages(workshops: list[HeldWorkshop]) -> list[str]:
    """Every page the device keeps: home, this list's own screen, each workshop's page (also the QR label's
    address) and the blank form of each checklist version on offer: once per version, as the service worker keeps
    one copy of a version's blank form for every workshop (its page puts the workshop in: device-start.js)."""
    forms: dict[tuple[str, int], str] = {}
    for workshop in workshops:
        for checklist in workshop.checklists:
            forms.setdefault((checklist.key, checklist.version), checklist.form)
    return [url_for("pages.home"), url_for("offline.held"), *(w.page for w in workshops), *forms.values()]
