"""Checklist use cases: import a file as a version, publish, export. Every function takes the session."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from accounts.models import User, utcnow
from checklists.files import CategoryData, ChecklistData, ItemData, dump_checklist
from checklists.models import (
    Checklist,
    ChecklistCategory,
    ChecklistItem,
    ChecklistVersion,
    VersionStatus,
)
from checklists.schemes import scheme_from_dict


class ChecklistError(ValueError):
    pass


def content_sha256(data: ChecklistData) -> str:
    """Hash of what is checked and how it is scored (the change note is not content)."""
    canonical = ChecklistData(
        key=data.key, name=data.name, categories=data.categories, scheme=data.scheme,
        description=data.description,
    )
    return hashlib.sha256(dump_checklist(canonical).encode()).hexdigest()


def version_to_data(version: ChecklistVersion) -> ChecklistData:
    return ChecklistData(
        key=version.checklist.key,
        name=version.checklist.name,
        description=version.checklist.description,
        change_note=version.change_note,
        scheme=scheme_from_dict(version.scheme),
        categories=[
            CategoryData(
                key=c.key, name=c.name, name_en=c.name_en, weight=c.weight,
                items=[ItemData(key=i.key, text=i.text, text_en=i.text_en, guidance=i.guidance,
                                weight=i.weight, critical=i.critical) for i in c.items],
            )
            for c in version.categories
        ],
    )


def import_checklist(*, session: Session, data: ChecklistData) -> tuple[ChecklistVersion, bool]:
    """Store the file as a new draft version; content equal to an existing version is a no-op.

    Returns (version, created).
    """
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
        checklist.name, checklist.description = data.name, data.description
    number = max((v.number for v in checklist.versions), default=0) + 1
    version = ChecklistVersion(
        checklist_id=checklist.id, number=number, scheme=data.scheme.to_dict(), change_note=data.change_note
    )
    session.add(version)
    session.flush()
    for c_pos, category in enumerate(data.categories, 1):
        db_category = ChecklistCategory(
            version_id=version.id, key=category.key, position=c_pos, name=category.name,
            name_en=category.name_en, weight=category.weight,
        )
        session.add(db_category)
        session.flush()
        session.add_all(
            ChecklistItem(
                version_id=version.id, category_id=db_category.id, key=item.key, position=i_pos,
                text=item.text, text_en=item.text_en, guidance=item.guidance, weight=item.weight,
                critical=item.critical,
            )
            for i_pos, item in enumerate(category.items, 1)
        )
    session.flush()
    session.refresh(checklist)
    return version, True


def publish_version(
    *, session: Session, version: ChecklistVersion, user: User | None, note: str | None = None
) -> ChecklistVersion:
    """Freeze a draft; the previously published version of the checklist is retired (one on offer)."""
    if version.status != VersionStatus.draft:
        raise ChecklistError(f"version {version.number} is {version.status}, only a draft can be published")
    if not any(c.items for c in version.categories):
        raise ChecklistError("a version without items cannot be published")
    note = (note if note is not None else version.change_note).strip()
    if not note:
        raise ChecklistError("publishing needs a change note")
    for other in version.checklist.versions:
        if other.status == VersionStatus.published and other.id != version.id:
            other.status = VersionStatus.retired
    version.status = VersionStatus.published
    version.change_note = note
    version.content_sha256 = content_sha256(version_to_data(version))
    version.published_at = utcnow()
    version.published_by_id = user.id if user else None
    session.flush()
    return version


def latest_published_version(*, session: Session, checklist_key: str | None = None) -> ChecklistVersion | None:
    query = select(ChecklistVersion).where(ChecklistVersion.status == VersionStatus.published)
    if checklist_key:
        query = query.join(Checklist).where(Checklist.key == checklist_key)
    return session.exec(query.order_by(ChecklistVersion.published_at.desc(), ChecklistVersion.id.desc())).first()


def get_version(*, session: Session, key: str, number: int | None = None) -> ChecklistVersion | None:
    query = select(ChecklistVersion).join(Checklist).where(Checklist.key == key)
    if number is not None:
        return session.exec(query.where(ChecklistVersion.number == number)).first()
    return session.exec(query.order_by(ChecklistVersion.number.desc())).first()
