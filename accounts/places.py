"""Plants and workshops: made, renamed, and each plant's own settings (webhook, time zone, report language), every
change audited. Sessions' limits per plant: session_limits.py."""

from __future__ import annotations

import re

from sqlmodel import Session, func, select

import clock
from accounts.models import REPORT_LANGUAGES, Plant, User, Workshop
from accounts.service import AccountError
from audit.service import record as audit

SITE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def _site_fields(code: str, name: str) -> tuple[str, str]:
    code, name = (code or "").strip(), " ".join((name or "").split())
    if not SITE_CODE.fullmatch(code):
        raise AccountError(f"代码 {code!r} 无效：字母、数字、- 或 _，最多 32 个字符", code="bad_site_code")
    if not name or len(name) > 200:
        raise AccountError("名称不能为空，最多 200 个字符", code="bad_site_name")
    return code, name


def site_audit(session: Session, actor, action: str, obj, old=None, new=None) -> None:

    audit(session, actor=actor, action=action, object_type=type(obj).__name__.lower(), object_id=obj.id,
          old=old, new=new)


def create_plant(*, session: Session, actor: User | None, code: str, name: str) -> Plant:
    code, name = _site_fields(code, name)
    if session.exec(select(Plant).where(func.lower(Plant.code) == code.lower())).first():
        raise AccountError(f"工厂代码 {code} 已存在", code="duplicate_site")
    plant = Plant(code=code, name=name)
    session.add(plant)
    session.flush()
    site_audit(session, actor, "plant.create", plant, new={"code": code, "name": name})
    return plant


def create_workshop(*, session: Session, actor: User | None, plant: Plant, code: str, name: str) -> Workshop:
    code, name = _site_fields(code, name)
    if session.exec(select(Workshop).where(func.lower(Workshop.code) == code.lower())).first():
        raise AccountError(f"车间代码 {code} 已存在", code="duplicate_site")
    workshop = Workshop(code=code, name=name, plant_id=plant.id)
    session.add(workshop)
    session.flush()
    site_audit(session, actor, "workshop.create", workshop, new={"code": code, "name": name, "plant": plant.code})
    return workshop


def rename_site(*, session: Session, actor: User | None, site: Plant | Workshop, name: str) -> None:
    """Names change (a workshop is renamed, merged on paper); codes do not: reports and links use them."""
    _code, name = _site_fields(site.code, name)
    if name != site.name:
        old = site.name
        site.name = name
        session.flush()
        site_audit(session, actor, f"{type(site).__name__.lower()}.rename", site, old={"name": old},
                    new={"name": name})


def set_plant_webhook(*, session: Session, actor: User | None, plant: Plant, url: str, secret: str) -> None:
    """Where the plant's overdue digest is POSTed. An empty URL turns it off; an empty secret keeps the old one
    (it is never shown again)."""
    url, secret = (url or "").strip(), (secret or "").strip()
    if url and (not url.startswith(("http://", "https://")) or len(url) > 500 or any(c.isspace() for c in url)):
        raise AccountError("网址必须以 http:// 或 https:// 开头", code="bad_webhook_url")
    if url and not (secret or plant.webhook_secret):
        raise AccountError("请设置签名密钥（至少 16 个字符）", code="bad_webhook_secret")
    if secret and not 16 <= len(secret) <= 128:
        raise AccountError("签名密钥需要 16–128 个字符", code="bad_webhook_secret")
    old = {"webhook_url": plant.webhook_url}
    plant.webhook_url = url or None
    if secret:
        plant.webhook_secret = secret
    session.flush()
    site_audit(session, actor, "plant.webhook", plant, old=old,
                new={"webhook_url": plant.webhook_url, "secret_changed": bool(secret)})


def set_plant_timezone(*, session: Session, actor: User | None, plant: Plant, name: str) -> None:
    """The plant's IANA zone (e.g. Europe/Budapest): its days follow it from now on. Stored instants do not move;
    the dates they fall on at the plant do."""
    name = (name or "").strip()
    try:
        clock.zone_named(name)
    except clock.UnknownZone:
        raise AccountError(f"未知的时区：{name[:64] or '（空）'}", code="bad_timezone", detail=name[:64]) from None
    if name != plant.timezone:
        old = {"timezone": plant.timezone}
        plant.timezone = name
        session.flush()
        site_audit(session, actor, "plant.timezone", plant, old=old, new={"timezone": name})


def set_report_language(*, session: Session, actor: User | None, plant: Plant, language: str) -> None:
    """The language the plant's inspection reports are issued in (zh, en or zh-en); a download may still ask
    for another. Reports issued before keep theirs."""
    if language not in REPORT_LANGUAGES:
        raise AccountError(f"没有这种报告语言：{language[:16] or '（空）'}", code="bad_report_language",
                           detail=language[:16])
    if language != plant.report_language:
        old = {"report_language": plant.report_language}
        plant.report_language = language
        session.flush()
        site_audit(session, actor, "plant.report_language", plant, old=old, new={"report_language": language})
