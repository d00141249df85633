"""Demo data: two plants, six workshops, a user per role and 12 weeks of believable history.

The history straddles a checklist change (v1 for the first six weeks, v2 after) so that the trend
charts show why versioning matters: v1's 安全 section repeats 素养 word for word, v2 fixes it.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from PIL import Image, ImageDraw
from sqlmodel import Session, func, select

import clock
from accounts.days import plant_days
from accounts.models import Plant, Role, Workshop
from accounts.service import create_user
from actions.models import ActionEvent, ActionStatus
from actions.service import record_findings
from checklists.files import parse_checklist
from checklists.models import ChecklistVersion
from checklists.schemes import scheme_from_dict
from checklists.service import import_checklist, publish_version
from database import write_session
from inspections.models import Answer, Inspection, InspectionStatus, Signature, SignatureRole
from inspections.scoring import NA, score_inspection
from inspections.service import category_specs
from inspections.signatures import clean_signature_image
from inspections.submission import store_result
from plans.models import InspectionPlan, PlanVersion
from plans.recurrence import WEEKDAYS
from redtags.service import decide, escalate_due, raise_tag
from storage import storage

STANDARD_DIR = Path(__file__).resolve().parents[1] / "checklists" / "standard"
DEMO_PASSWORD = "6s-demo-2026"  # printed on purpose: demo data only  # noqa: S105  # nosec B105
WEEKS = 12

PLANTS = [
    ("SZ", "苏州工厂", [("SZ-CNC", "机加工车间"), ("SZ-ASM", "总装车间"), ("SZ-PNT", "喷涂车间")]),
    ("DG", "东莞工厂", [("DG-INJ", "注塑车间"), ("DG-SMT", "SMT 贴片车间"), ("DG-WH", "成品仓库")]),
]
# (username, display name, role, workshops, plants); the auditor's access ends a year after the demo is made.
USERS = [
    ("admin", "系统管理员", Role.admin, [], []),
    ("manager", "王质量经理", Role.manager, [], ["SZ", "DG"]),
    ("zhang", "张班长", Role.supervisor, ["SZ-CNC", "SZ-ASM", "SZ-PNT"], []),
    ("li", "李班长", Role.supervisor, ["DG-INJ", "DG-SMT", "DG-WH"], []),
    ("auditor", "陈审核员", Role.auditor, [], ["SZ", "DG"]),
]
LOW_SCORE_NOTES = [
    "现场有杂物未清理，已当场提醒班组长",
    "标识脱落，需重新张贴",
    "物品未按定置图摆放",
    "地面有油污，需安排清洗",
    "通道被周转箱占用",
    "工具未归位",
    "点检记录未按时填写",
]


def load_standard_checklist(*, session: Session, publish_at: dict[int, datetime] | None = None):
    """Import and publish the shipped standard checklist, v1 then v2. Returns {number: version}."""
    versions = {}
    for number in (1, 2):
        text = (STANDARD_DIR / f"standard-6s.v{number}.yaml").read_text(encoding="utf-8")
        version, _created = import_checklist(session=session, data=parse_checklist(text))
        if version.status == "draft":
            publish_version(session=session, version=version, user=None, takeover_confirmed=True,
                            at=publish_at[number] if publish_at else None)
        versions[number] = version
    return versions


def generate_demo(*, session: Session, now: datetime | None = None, seed: int = 6, store=None) -> dict:
    """store: where photos go (a storage.Storage); without it the demo has no red tags (they need a photo)."""
    rng = random.Random(seed)  # repeatable demo data, not security  # noqa: S311  # nosec B311
    signatures: dict[int, bytes] = {}
    now = now or clock.now()
    # rounds in the working day (from 08:00 at the default zone's plants), so a round never starts the evening
    # before its planned day, whatever the hour the demo is loaded
    zone = clock.zone_named(None)
    first_week = clock.day_start(clock.local_day(now - timedelta(weeks=WEEKS), zone), zone) + timedelta(hours=8)
    versions = load_standard_checklist(
        session=session, publish_at={1: first_week - timedelta(days=7), 2: first_week + timedelta(weeks=6)}
    )
    workshops = []
    for plant_code, plant_name, shops in PLANTS:
        plant = Plant(code=plant_code, name=plant_name)
        session.add(plant)
        session.flush()
        for code, name in shops:
            workshop = Workshop(code=code, name=name, plant_id=plant.id, created_at=first_week - timedelta(days=7))
            session.add(workshop)
            workshops.append(workshop)
    session.flush()
    expires = clock.local_day(now + timedelta(days=365), clock.zone_named(None))  # auditors: a year
    users = {
        username: create_user(session=session, username=username, password=DEMO_PASSWORD, role=role,
                              display_name=display, workshop_codes=codes, plant_codes=plants,
                              access_expires_on=expires if role == Role.auditor else None)
        for username, display, role, codes, plants in USERS
    }
    inspectors = {w.code: users["zhang" if w.code.startswith("SZ") else "li"] for w in workshops}
    demo_plans(session=session, plants={w.plant_id for w in workshops}, checklist_id=versions[1].checklist_id,
               manager=users["manager"], first_week=first_week)

    count = 0
    for workshop in workshops:
        base = rng.uniform(0.55, 0.85)         # how good this workshop is
        drift = rng.uniform(-0.012, 0.025)     # getting better (mostly) or slipping, per week
        category_bias = {}
        inspector = inspectors[workshop.code]
        if inspector.id not in signatures:
            signatures[inspector.id] = demo_signature(rng)
        for week in range(WEEKS):
            version = versions[1] if week < 6 else versions[2]
            submitted_at = first_week + timedelta(weeks=week, days=rng.randint(0, 3), hours=rng.randint(1, 8))
            inspection = Inspection(
                workshop_id=workshop.id, version_id=version.id, inspector_id=inspectors[workshop.code].id,
                status=InspectionStatus.submitted, started_at=submitted_at - timedelta(minutes=rng.randint(25, 70)),
                submitted_at=submitted_at,
            )
            session.add(inspection)
            session.flush()
            quality = min(0.97, max(0.2, base + drift * week + rng.gauss(0, 0.04)))
            values = {}
            for category in version.categories:
                bias = category_bias.setdefault(category.key, rng.gauss(0, 0.08))
                office_na = category.key == "office" and workshop.code.endswith("WH")
                for item in category.items:
                    if office_na or rng.random() < 0.03:
                        values[item.key] = NA
                        session.add(Answer(inspection_id=inspection.id, item_id=item.id, score=None,
                                           not_applicable=True, updated_by_id=inspection.inspector_id,
                                           updated_at=submitted_at))
                        continue
                    p = min(0.99, max(0.05, quality + bias + rng.gauss(0, 0.12)))
                    score = sum(rng.random() < p for _ in range(4))
                    values[item.key] = score
                    note = rng.choice(LOW_SCORE_NOTES) if score <= 1 and rng.random() < 0.6 else ""
                    # the latest round flags one safety item whatever its score, as inspectors do for hazards
                    flagged = week == WEEKS - 1 and category.key == "safety" and item.position == 1 and score >= 2
                    if flagged:
                        note = "灭火器前有临时堆放，分数不低但必须当天整改"
                    session.add(Answer(inspection_id=inspection.id, item_id=item.id, score=score, note=note,
                                       flagged=flagged, updated_by_id=inspection.inspector_id,
                                       updated_at=submitted_at))
            result = score_inspection(category_specs(version), values, scheme_from_dict(version.scheme))
            store_result(session=session, inspection=inspection, result=result)
            inspector = inspectors[workshop.code]
            session.add(Signature(inspection_id=inspection.id, role=SignatureRole.inspector,
                                  signer_name=inspector.display_name, signer_user_id=inspector.id,
                                  recorded_by_id=inspector.id, signed_at=submitted_at,
                                  image_png=signatures[inspector.id],
                                  image_sha256=hashlib.sha256(signatures[inspector.id]).hexdigest()))
            count += 1
            session.flush()
            session.refresh(inspection, ["answers"])
            if week < WEEKS - 1:  # every inspection's findings, as a real submit records them; the past ones fixed
                demo_fixed_findings(session=session, inspection=inspection, owner=inspector,
                                    checker=users["manager"], rng=rng)
        demo_actions(session=session, inspection=inspection, owner=inspector, rng=rng)
        if store is not None:
            demo_red_tags(session=session, workshop=workshop, user=inspector, store=store, now=now, rng=rng)
    session.flush()
    if store is not None:

        # the ones past their holding period, as the daily run
        escalate_due(session=session, days=plant_days(session, at=now))
    return {"inspections": count, "workshops": len(workshops), "users": sorted(users)}


def demo_plans(*, session: Session, plants, checklist_id: int, manager, first_week: datetime) -> None:
    """Each plant's weekly programme since the demo's first week: every workshop on the weekday the demo's rounds
    start, a 3-day window, late inspections allowed (the demo's rounds mostly fall inside, some late). Written
    as rows, backdated: a plan made today would only count from today."""

    for plant_id in sorted(plants):
        plant = session.get(Plant, plant_id)
        start = clock.local_day(first_week, clock.zone_of(plant))
        plan = InspectionPlan(plant_id=plant_id, checklist_id=checklist_id, created_by_id=manager.id,
                              created_at=first_week)
        session.add(plan)
        session.flush()
        session.add(PlanVersion(plan_id=plan.id, rrule=f"FREQ=WEEKLY;BYDAY={WEEKDAYS[start.weekday()]}",
                                starts_on=start, valid_from=start, window_days=3, allow_late=True,
                                created_by_id=manager.id, created_at=first_week))
    session.flush()


DEMO_TAGS = [  # (what, location, reason, days ago tagged, holding days, outcome)
    ("旧夹具一箱", "3 号线末端货架", "unknown", 2, 7, None),
    ("破损托盘", "北侧通道", "defective", 12, 7, None),  # past its holding period: escalates
    ("过期胶水 2 桶", "化学品柜旁", "unneeded", 20, 7, "scrap"),
]


def demo_red_tags(*, session: Session, workshop: Workshop, user, store, now: datetime,
                  rng: random.Random) -> None:
    """A few red tags per workshop: one holding, one past its period, one decided."""


    for what, location, reason, ago, days, outcome in DEMO_TAGS:
        image = Image.new("RGB", (640, 480), tuple(rng.randint(60, 200) for _ in range(3)))
        out = BytesIO()
        image.save(out, format="JPEG")
        tag = raise_tag(session=session, user=user, workshop=workshop, what=what, location=location, reason=reason,
                        holding_days=days, photo=out.getvalue(), store=store,
                        today=clock.local_day(now - timedelta(days=ago), clock.zone_of(workshop.plant)))
        if outcome:
            decide(session=session, user=user, tag=tag, outcome=outcome, note="交设备科统一处理")


def demo_fixed_findings(*, session: Session, inspection: Inspection, owner, checker, rng: random.Random) -> None:
    """An earlier round's findings, recorded as a submit records them, each fixed and verified within days since."""

    found_on = clock.local_day(inspection.submitted_at, clock.zone_of(inspection.workshop.plant))
    for finding in record_findings(session=session, inspection=inspection, today=found_on):
        action = finding.action
        done = inspection.submitted_at + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6))
        closed = done + timedelta(days=1)
        action.owner_id, action.action_text, action.created_at = owner.id, "按定置要求整改", inspection.submitted_at
        action.status, action.done_at, action.done_comment = ActionStatus.verified, done, "已整改"
        action.closed_at, action.closed_by_id, action.updated_at = closed, checker.id, closed
        session.add(ActionEvent(action_id=action.id, user_id=owner.id, from_status="open", to_status="done", at=done))
        session.add(ActionEvent(action_id=action.id, user_id=checker.id, from_status="done", to_status="verified",
                                at=closed))


def demo_actions(*, session: Session, inspection: Inspection, owner, rng: random.Random) -> None:
    """The latest inspection's findings as corrective actions in every state, so the loop shows at once."""

    found_on = clock.local_day(inspection.submitted_at, clock.zone_of(inspection.workshop.plant))
    for n, finding in enumerate(record_findings(session=session, inspection=inspection, today=found_on)):
        action = finding.action
        action.owner_id = owner.id
        action.action_text = "按定置要求整改，完成后拍照上传"
        status = [ActionStatus.open, ActionStatus.in_progress, ActionStatus.open][n % 3]
        if status != ActionStatus.open:
            action.status = status
            session.add(ActionEvent(action_id=action.id, user_id=owner.id, from_status="open", to_status=status,
                                    at=inspection.submitted_at + timedelta(hours=rng.randint(2, 30))))


def demo_signature(rng: random.Random) -> bytes:
    """A scribble that looks signed on paper: a wavy stroke, cleaned like a drawn one."""


    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(40 + i * 26, 100 + rng.randint(-55, 55)) for i in range(20)]
    ImageDraw.Draw(image).line(points, fill=(17, 17, 17, 255), width=4, joint="curve")
    out = BytesIO()
    image.save(out, format="PNG")
    return clean_signature_image("data:image/png;base64," + base64.b64encode(out.getvalue()).decode())


def database_is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(Plant)).one() == 0 and \
        session.exec(select(func.count()).select_from(ChecklistVersion)).one() == 0


@click.command("demo")
@click.option("--scale", type=click.Choice(["small", "large"]), default="small", show_default=True,
              help="small: 6 workshops, 12 weeks, for trying the app; large: 20 plants × 30 workshops × 5 years "
                   "(156 000 inspections, ~15.6 million answers), for benchmarks.")
@with_appcontext
def demo_command(scale: str):
    """Load the standard checklist and demo data into an empty database (otherwise do nothing)."""
    with write_session(current_app.extensions["engine"]) as session:
        if not database_is_empty(session):
            click.echo("the database already holds data: demo data not loaded")
            return
        if scale == "large":
            from demo.large import generate_large  # noqa: PLC0415 - a cycle: it builds on this module

            summary = generate_large(session=session, progress=click.echo)
            click.echo(f"large data loaded: {summary['plants']} plants, {summary['workshops']} workshops, "
                       f"{summary['inspections']} inspections, {summary['answers']} answers "
                       f"(logins: manager, sup01…sup20, password {DEMO_PASSWORD})")
            return
        summary = generate_demo(session=session, store=storage())
    click.echo(f"demo data loaded: {summary['workshops']} workshops, {summary['inspections']} inspections")
    click.echo(f"demo logins (password {DEMO_PASSWORD}):")
    for username, display, role, codes, plants in USERS:
        scope = ", ".join(codes) if codes else (f"plants {', '.join(plants)}" if plants else "everything")
        click.echo(f"  {username:<9} {role.value:<11} {display}  ({scope})")
