"""A large customer, synthetically: plants × workshops × a weekly inspection for years (benchmarks, load tests).

The default is the group of issue 6: 20 plants × 30 workshops × 260 weeks = 156 000 inspections and about
15.6 million answers. Speed comes from two things: answers are drawn from a pool of precomputed answer sheets
per quality level (each sheet scored once, so rollups cost nothing per inspection), and rows go to the database in
large batches (executemany on SQLite, COPY on PostgreSQL). Deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

import clock
from accounts.models import Plant, Role, Workshop
from accounts.service import create_user
from checklists.schemes import scheme_from_dict
from demo.generate import DEMO_PASSWORD, demo_plans, load_standard_checklist
from inspections.scoring import NA, score_inspection
from inspections.service import category_specs

LEVELS = 20  # quality levels a workshop moves through
SHEETS_PER_LEVEL = 24  # distinct answer sheets per level and version
BATCH = 50_000


@dataclass(frozen=True)
class Sheet:
    """One precomputed answer sheet: (item id, score or None for N/A) and its score."""

    answers: tuple[tuple[int, int | None], ...]
    overall: float | None
    grade: str | None
    passed: bool | None
    categories: tuple[tuple[str, str, int, float, float, float | None], ...]  # key, name, position, pts, max, %


def _sheets(version, rng: random.Random) -> list[list[Sheet]]:
    specs = category_specs(version)
    scheme = scheme_from_dict(version.scheme)
    items = [(category, item) for category in version.categories for item in category.items]
    pools = []
    for level in range(LEVELS):
        quality = 0.35 + 0.6 * level / (LEVELS - 1)
        pool = []
        for _ in range(SHEETS_PER_LEVEL):
            values, answers = {}, []
            for _category, item in items:
                if rng.random() < 0.02:
                    values[item.key] = NA
                    answers.append((item.id, None))
                    continue
                score = sum(rng.random() < quality for _ in range(4))
                values[item.key] = score
                answers.append((item.id, score))
            result = score_inspection(specs, values, scheme)
            pool.append(Sheet(
                answers=tuple(answers), overall=result.overall_percent, grade=result.grade, passed=result.passed,
                categories=tuple((c.key, c.name, n, c.points, c.max_points, c.percent)
                                 for n, c in enumerate(result.categories, 1)),
            ))
        pools.append(pool)
    return pools


def generate_large(*, session: Session, plants: int = 20, workshops_per_plant: int = 30, weeks: int = 260,
                   seed: int = 66, now: datetime | None = None, progress=lambda message: None) -> dict:
    """Fill an empty database. Returns counts. The checklist changes from v1 to v2 halfway through."""
    rng = random.Random(seed)  # repeatable synthetic data  # noqa: S311  # nosec B311
    now = now or clock.now().replace(microsecond=0)
    first_week = now - timedelta(weeks=weeks)
    change_week = weeks // 2
    versions = load_standard_checklist(
        session=session, publish_at={1: first_week - timedelta(days=7), 2: first_week + timedelta(weeks=change_week)})
    workshops, plant_rows = [], []
    for p in range(1, plants + 1):
        plant = Plant(code=f"P{p:02d}", name=f"第{p}工厂")
        session.add(plant)
        session.flush()
        plant_rows.append(plant)
        codes = []
        for w in range(1, workshops_per_plant + 1):
            workshop = Workshop(code=f"P{p:02d}-W{w:02d}", name=f"{p}厂{w}号车间", plant_id=plant.id,
                                created_at=first_week - timedelta(days=7))
            session.add(workshop)
            workshops.append(workshop)
            codes.append(workshop.code)
        session.flush()
        create_user(session=session, username=f"sup{p:02d}", password=DEMO_PASSWORD, role=Role.supervisor,
                    display_name=f"{p}厂班长", workshop_codes=codes)
    session.flush()
    manager = create_user(session=session, username="manager", password=DEMO_PASSWORD, role=Role.manager,
                          display_name="集团质量经理", plant_codes=[plant.code for plant in plant_rows])

    # every plant's weekly programme over the five years (plan boards and completion figures have work to do)
    demo_plans(session=session, plants={plant.id for plant in plant_rows}, checklist_id=versions[1].checklist_id,
               manager=manager, first_week=first_week)
    progress("scoring the answer sheets")
    pools = {number: _sheets(version, rng) for number, version in versions.items()}
    inspector_of = {}
    for workshop in workshops:
        inspector_of[workshop.id] = manager.id

    connection = session.connection()
    dialect = connection.dialect.name
    next_inspection = (connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM inspection")).scalar() or 0) + 1

    def plan() -> Iterator[tuple]:
        """(inspection id, workshop id, version, submitted_at, sheet) in id order."""
        inspection_id = next_inspection
        for workshop in workshops:
            level = rng.uniform(3, 12)
            drift = rng.uniform(-0.02, 0.05)
            for week in range(weeks):
                number = 1 if week < change_week else 2
                level = min(LEVELS - 1, max(0, level + drift + rng.gauss(0, 0.6)))
                sheet = pools[number][int(level)][rng.randrange(SHEETS_PER_LEVEL)]
                submitted = first_week + timedelta(weeks=week, days=rng.randint(0, 4), hours=rng.randint(0, 9))
                yield inspection_id, workshop, versions[number], submitted, sheet
                inspection_id += 1

    inspection_rows, result_rows, answer_rows = [], [], []
    counts = {"inspections": 0, "answers": 0}

    def flush(final: bool = False) -> None:
        if inspection_rows:
            _insert(connection, dialect, "inspection",
                    ("id", "workshop_id", "version_id", "inspector_id", "status", "started_at", "submitted_at",
                     "overall_percent", "grade", "passed"), inspection_rows)
            _insert(connection, dialect, "category_result",
                    ("inspection_id", "category_key", "category_name", "position", "points", "max_points",
                     "percent"), result_rows)
            inspection_rows.clear()
            result_rows.clear()
        if answer_rows and (final or len(answer_rows) >= BATCH):
            _insert(connection, dialect, "answer",
                    ("inspection_id", "item_id", "score", "not_applicable", "note", "updated_at", "updated_by_id",
                     "revision"), answer_rows)
            answer_rows.clear()

    for inspection_id, workshop, version, submitted, sheet in plan():
        inspector = inspector_of[workshop.id]
        inspection_rows.append((inspection_id, workshop.id, version.id, inspector, "submitted",
                                submitted - timedelta(minutes=40), submitted, sheet.overall, sheet.grade,
                                sheet.passed))
        for key, name, position, points, max_points, percent in sheet.categories:
            result_rows.append((inspection_id, key, name, position, points, max_points, percent))
        for item_id, score in sheet.answers:
            answer_rows.append((inspection_id, item_id, score, score is None, "", submitted, inspector, 1))
        counts["inspections"] += 1
        counts["answers"] += len(sheet.answers)
        if len(answer_rows) >= BATCH:
            flush()
            if counts["inspections"] % 20_000 < 500:
                progress(f"{counts['inspections']} inspections, {counts['answers']} answers")
    flush(final=True)
    progress("the findings (every answer at or below the standard sheet's finding level, 1)")
    # one statement: the Pareto and the actions read findings from this table, made at submission in real life
    connection.execute(text(
        "INSERT INTO finding (inspection_id, item_id, item_key, workshop_id, severity, score, flagged, note, "
        "created_at) SELECT a.inspection_id, a.item_id, ci.key, i.workshop_id, 'normal', a.score, :no, '', "
        "i.submitted_at FROM answer a JOIN checklist_item ci ON ci.id = a.item_id "
        "JOIN inspection i ON i.id = a.inspection_id WHERE a.score IS NOT NULL AND a.score <= 1"), {"no": False})
    counts["findings"] = connection.execute(text("SELECT COUNT(*) FROM finding")).scalar()
    if dialect == "postgresql":  # ids were given explicitly: move the sequences past them
        for table in ("inspection", "category_result", "answer"):
            # fixed table names above, no input
            statement = (f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  # nosec B608
                         f"(SELECT MAX(id) FROM {table}))")
            connection.execute(text(statement))
    connection.execute(text("ANALYZE"))
    return {**counts, "workshops": len(workshops), "plants": plants}


def _insert(connection, dialect: str, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if dialect == "postgresql":
        raw = connection.connection.driver_connection  # psycopg 3: COPY is ~10× executemany
        with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    connection.connection.driver_connection.executemany(  # fixed table and column names, values bound
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608  # nosec B608
        [tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in row) for row in rows])


def _sqlite_time(value: datetime) -> str:
    """As SQLAlchemy stores it on SQLite: naive UTC with microseconds (so text comparison orders it)."""
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
