"""Checklist use cases. Every function takes the session and flushes; the caller commits once.

Lifecycle: a version is a draft (editable), then published (frozen: content hash, who, when, change note;
offered for new inspections), then retired (no new inspections; old ones unaffected). At most one version
of a checklist is published at a time. The database refuses changes to non-draft content (migration 0003),
so these rules hold even against code that forgets to ask.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

import clock
from accounts.models import Plant, User, Workshop
from audit.service import record as audit
from checklists.files import (
    KEY_PATTERN,
    CategoryData,
    ChecklistData,
    ItemData,
    dump_checklist,
)
from checklists.lint import LintWarning, lint_checklist
from checklists.models import (
    Checklist,
    ChecklistCategory,
    ChecklistItem,
    ChecklistScope,
    ChecklistVersion,
    VersionStatus,
)
from checklists.schemes import LevelScheme, scheme_from_dict
from database import begin_writing

MAX_TEXT = 500
MAX_NAME = 100


class ChecklistError(ValueError):
    """A refused change. code names the reason, field the input at fault, status the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 422, field: str | None = None,
                 warnings: list[LintWarning] | None = None, workshops: list[Workshop] | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.field = field
        self.warnings = warnings or []
        self.workshops = workshops or []  # takeover: the workshops publishing would give this checklist


# ------------------------------------------------------------------ content

def content_sha256(data: ChecklistData) -> str:
    """Hash of what is checked and how it is scored (the change note is not content)."""
    canonical = ChecklistData(
        key=data.key, name=data.name, categories=data.categories, scheme=data.scheme,
        description=data.description, language=data.language,
    )
    return hashlib.sha256(dump_checklist(canonical).encode()).hexdigest()


def version_to_data(version: ChecklistVersion) -> ChecklistData:
    return ChecklistData(
        key=version.checklist.key,
        name=version.name or version.checklist.name,
        description=version.description,
        change_note=version.change_note,
        language=version.language,
        scheme=scheme_from_dict(version.scheme),
        categories=[
            CategoryData(
                key=c.key, name=c.name, name_en=c.name_en, weight=c.weight, full_marks=c.full_marks,
                items=[ItemData(key=i.key, text=i.text, text_en=i.text_en, guidance=i.guidance, weight=i.weight,
                                critical=i.critical, photo_required=i.photo_required, deduct=i.deduct,
                                unit=i.unit, level_texts=i.level_texts) for i in c.items],
            )
            for c in version.categories
        ],
    )


def lint_version(version: ChecklistVersion) -> list[LintWarning]:
    return lint_checklist(version_to_data(version))


# ------------------------------------------------------------------ finding versions

def get_version(*, session: Session, key: str, number: int | None = None) -> ChecklistVersion | None:
    query = select(ChecklistVersion).join(Checklist).where(Checklist.key == key)
    if number is not None:
        return session.exec(query.where(ChecklistVersion.number == number)).first()
    return session.exec(query.order_by(ChecklistVersion.number.desc())).first()


def latest_published_version(*, session: Session, checklist_key: str | None = None) -> ChecklistVersion | None:
    query = select(ChecklistVersion).where(ChecklistVersion.status == VersionStatus.published)
    if checklist_key:
        query = query.join(Checklist).where(Checklist.key == checklist_key)
    return session.exec(query.order_by(ChecklistVersion.published_at.desc(), ChecklistVersion.id.desc())).first()


def _scope_rank(checklist: Checklist, workshop: Workshop) -> int:
    """How specifically a checklist is given to a workshop: 2 the workshop, 1 its plant, 0 everywhere (no scope),
    -1 not at all."""
    scopes = checklist.scopes
    if not scopes:
        return 0
    if any(s.workshop_id == workshop.id for s in scopes):
        return 2
    if any(s.plant_id == workshop.plant_id for s in scopes):
        return 1
    return -1


def is_used_at(checklist: Checklist, workshop: Workshop) -> bool:
    """The checklist is given to this workshop (itself, its plant, or everywhere), whatever else is too."""
    return _scope_rank(checklist, workshop) >= 0


def versions_for_workshop(*, session: Session, workshop: Workshop) -> list[ChecklistVersion]:
    """The published versions a new inspection of this workshop may use, most recently published first.

    The most specific scope wins: checklists assigned to the workshop, else to its plant, else those with no scope
    (used everywhere). Several at the same level are all offered (a production sheet and an office sheet).
    """
    return _offers(_published(session), workshop)


def _published(session: Session) -> list[ChecklistVersion]:
    return list(session.exec(
        select(ChecklistVersion).where(ChecklistVersion.status == VersionStatus.published)
        .order_by(ChecklistVersion.published_at.desc(), ChecklistVersion.id.desc())
    ).all())


def _offers(published: list[ChecklistVersion], workshop: Workshop) -> list[ChecklistVersion]:
    ranked = [(version, _scope_rank(version.checklist, workshop)) for version in published]
    best = max((rank for _version, rank in ranked), default=-1)
    return [version for version, rank in ranked if rank == best and rank >= 0]


def version_for_workshop(*, session: Session, workshop: Workshop) -> ChecklistVersion | None:
    """The one version on offer (the most recently published, when there are several)."""
    offered = versions_for_workshop(session=session, workshop=workshop)
    return offered[0] if offered else None


def takeover_workshops(*, session: Session, version: ChecklistVersion) -> list[Workshop]:
    """The workshops that publishing this draft would give a checklist they do not have today: a checklist with no
    scope, never published before, is offered to every workshop without a more specific one. Empty when the
    checklist is scoped or already in use (a new version of it changes nobody's choice)."""
    checklist = version.checklist
    if checklist.scopes or any(v.status != VersionStatus.draft for v in checklist.versions):
        return []
    published = _published(session)
    workshops = session.exec(select(Workshop).order_by(Workshop.code)).all()
    return [w for w in workshops if all(_scope_rank(v.checklist, w) <= 0 for v in _offers(published, w))]


def reach_of(session: Session, checklist: Checklist, once_published: bool = False) -> set[int]:
    """The workshops a checklist reaches: those of its scope (its plants' and its own workshops), or every
    workshop when it has none (a group-wide checklist). One never published reaches nobody yet; once_published:
    whom it would reach if published as it is scoped now."""
    if not once_published and all(v.status == VersionStatus.draft for v in checklist.versions):
        return set()
    if not checklist.scopes:
        return set(session.exec(select(Workshop.id)).all())
    plants = [s.plant_id for s in checklist.scopes if s.plant_id]
    reach = {s.workshop_id for s in checklist.scopes if s.workshop_id}
    if plants:
        reach |= set(session.exec(select(Workshop.id).where(Workshop.plant_id.in_(plants))).all())
    return reach


def draft_of(checklist: Checklist) -> ChecklistVersion | None:
    return next((v for v in checklist.versions if v.status == VersionStatus.draft), None)


# ------------------------------------------------------------------ import, create, copy

def _add_content(session: Session, version: ChecklistVersion, data: ChecklistData) -> None:
    for c_pos, category in enumerate(data.categories, 1):
        db_category = ChecklistCategory(version_id=version.id, key=category.key, position=c_pos, name=category.name,
                                        name_en=category.name_en, weight=category.weight,
                                        full_marks=category.full_marks)
        session.add(db_category)
        session.flush()
        session.add_all(
            ChecklistItem(version_id=version.id, category_id=db_category.id, key=item.key, position=i_pos,
                          text=item.text, text_en=item.text_en, guidance=item.guidance, weight=item.weight,
                          critical=item.critical, photo_required=item.photo_required, deduct=item.deduct,
                          unit=item.unit, level_texts=item.level_texts)
            for i_pos, item in enumerate(category.items, 1)
        )
    session.flush()


def import_checklist(*, session: Session, data: ChecklistData) -> tuple[ChecklistVersion, bool]:
    """Store the file as a new draft version; content equal to an existing version is a no-op.

    Returns (version, created). An existing draft is replaced by the imported content.
    """
    begin_writing(session)
    digest = content_sha256(data)
    checklist = session.exec(select(Checklist).where(Checklist.key == data.key)).first()
    if checklist is None:
        checklist = Checklist(key=data.key, name=data.name, description=data.description)
        session.add(checklist)
        session.flush()
    else:
        for version in checklist.versions:
            if (version.content_sha256 or content_sha256(version_to_data(version))) == digest:
                return version, False
        draft = draft_of(checklist)
        if draft is not None:
            session.delete(draft)
            session.flush()
            session.refresh(checklist)
    number = max((v.number for v in checklist.versions), default=0) + 1
    version = ChecklistVersion(checklist_id=checklist.id, number=number, scheme=data.scheme.to_dict(),
                               name=data.name, description=data.description, change_note=data.change_note,
                               language=data.language)
    session.add(version)
    session.flush()
    _add_content(session, version, data)
    session.refresh(checklist)
    return version, True


def create_checklist(*, session: Session, key: str, name: str, description: str = "") -> ChecklistVersion:
    """A new checklist with an empty draft version 1."""

    key, name = key.strip(), name.strip()
    if not KEY_PATTERN.match(key):
        raise ChecklistError("bad_key", "the key must be lower-case letters, digits, '-' or '_'", field="key")
    if not name or len(name) > 200:
        raise ChecklistError("bad_name", "a name of 1 to 200 characters is required", field="name")
    if session.exec(select(Checklist).where(Checklist.key == key)).first():
        raise ChecklistError("key_taken", f"a checklist with key {key!r} exists", status=409, field="key")

    version, _created = import_checklist(session=session, data=ChecklistData(
        key=key, name=name, description=description.strip(), categories=[], scheme=LevelScheme()))
    return version


def new_draft(*, session: Session, checklist: Checklist) -> ChecklistVersion:
    """"Edit" on a published version: a draft N+1 copying the newest version. An existing draft is returned."""
    draft = draft_of(checklist)
    if draft is not None:
        return draft
    latest = max(checklist.versions, key=lambda v: v.number)
    data = version_to_data(latest)
    version = ChecklistVersion(checklist_id=checklist.id, number=latest.number + 1, scheme=latest.scheme,
                               name=latest.name, description=latest.description, change_note="",
                               language=latest.language)
    session.add(version)
    session.flush()
    _add_content(session, version, data)
    session.refresh(checklist)
    return version


# ------------------------------------------------------------------ lifecycle

def publish_version(*, session: Session, version: ChecklistVersion, user: User | None, note: str | None = None,
                    acknowledge_lint: bool = True, at: datetime | None = None,
                    takeover_confirmed: bool = False) -> ChecklistVersion:
    """Freeze a draft; the previously published version of the checklist is retired (one on offer).

    A first publication without a scope is offered to every workshop without a more specific checklist: that
    needs takeover_confirmed, else the refusal names those workshops.
    """
    require_draft(version)
    if not any(c.items for c in version.categories):
        raise ChecklistError("empty", "a version without items cannot be published", field="categories")
    note = (note if note is not None else version.change_note).strip()
    if not note:
        raise ChecklistError("no_note", "publishing needs a change note", field="change_note")
    warnings = lint_version(version)
    if warnings and not acknowledge_lint:
        raise ChecklistError("lint", f"{len(warnings)} lint warnings must be acknowledged", warnings=warnings)
    taken = takeover_workshops(session=session, version=version) if not takeover_confirmed else []
    if taken:
        raise ChecklistError("takeover", "without a scope this checklist will be offered to "
                             f"{len(taken)} workshops: {', '.join(w.code for w in taken)}; confirm or set a scope "
                             "first", field="scope", workshops=taken)
    when = at or clock.now()
    for other in version.checklist.versions:
        if other.status == VersionStatus.published and other.id != version.id:
            other.status = VersionStatus.retired
            other.retired_at = when
            other.retired_by_id = user.id if user else None
    version.change_note = note
    version.content_sha256 = content_sha256(version_to_data(version))
    version.status = VersionStatus.published
    version.published_at = when
    version.published_by_id = user.id if user else None
    version.checklist.name, version.checklist.description = version.name, version.description
    session.flush()
    audit(session, actor=user, action="checklist.publish", object_type="checklist_version", object_id=version.id,
          new={"checklist": version.checklist.key, "version": version.number, "content_sha256": version.content_sha256,
               "change_note": note, "lint_warnings": len(warnings)})
    return version


def retire_version(*, session: Session, version: ChecklistVersion, user: User | None) -> ChecklistVersion:
    if version.status != VersionStatus.published:
        raise ChecklistError("not_published", f"version {version.number} is {version.status}, not published",
                             status=409)
    version.status = VersionStatus.retired
    version.retired_at = clock.now()
    version.retired_by_id = user.id if user else None
    session.flush()
    audit(session, actor=user, action="checklist.retire", object_type="checklist_version", object_id=version.id,
          old={"status": "published"}, new={"checklist": version.checklist.key, "version": version.number,
                                            "status": "retired"})
    return version


def discard_draft(*, session: Session, version: ChecklistVersion) -> None:
    require_draft(version)
    if version.number == 1:
        raise ChecklistError("only_version", "the first version of a checklist cannot be discarded", status=409)
    session.delete(version)
    session.flush()


# ------------------------------------------------------------------ editing a draft


# ------------------------------------------------------------------ scope

def set_scope(*, session: Session, checklist: Checklist, plant_codes: Iterable[str] = (),
              workshop_codes: Iterable[str] = (), user: User | None = None,
              within: tuple[set[int], set[int]] | None = None) -> None:
    """Where the checklist is used; nothing chosen means everywhere. Not versioned: it is about who, not what.

    within: the (plant ids, workshop ids) the user may choose from (None: all, an administrator). A code outside
    them is refused as unknown; the checklist's places outside them (another manager's plants) are kept as they
    are."""
    plant_codes, workshop_codes = list(plant_codes), list(workshop_codes)
    plant_ids = [s.plant_id for s in checklist.scopes if s.plant_id]
    workshop_ids = [s.workshop_id for s in checklist.scopes if s.workshop_id]
    old = {"plants": sorted(session.exec(select(Plant.code).where(Plant.id.in_(plant_ids)))) if plant_ids else [],
           "workshops": sorted(session.exec(select(Workshop.code).where(Workshop.id.in_(workshop_ids))))
           if workshop_ids else []}
    mine_plants, mine_workshops = within if within is not None else (None, None)
    for scope in list(checklist.scopes):
        if within is None or scope.plant_id in mine_plants or scope.workshop_id in mine_workshops:
            session.delete(scope)
    session.flush()
    for code in plant_codes:
        plant = session.exec(select(Plant).where(Plant.code == code)).first()
        if plant is None or (within is not None and plant.id not in mine_plants):
            raise ChecklistError("unknown_plant", f"no plant {code!r}", field="plants")
        session.add(ChecklistScope(checklist_id=checklist.id, plant_id=plant.id))
    for code in workshop_codes:
        workshop = session.exec(select(Workshop).where(Workshop.code == code)).first()
        if workshop is None or (within is not None and workshop.id not in mine_workshops):
            raise ChecklistError("unknown_workshop", f"no workshop {code!r}", field="workshops")
        session.add(ChecklistScope(checklist_id=checklist.id, workshop_id=workshop.id))
    session.flush()
    session.refresh(checklist)
    audit(session, actor=user, action="checklist.scope", object_type="checklist", object_id=checklist.id,
          old=old, new={"plants": sorted(plant_codes), "workshops": sorted(workshop_codes)})


def require_draft(version: ChecklistVersion) -> None:
    if version.status != VersionStatus.draft:
        raise ChecklistError("not_draft", f"version {version.number} is {version.status.value}: only a draft can "
                             "change; edit it to start a new draft", status=409)
