"""The large synthetic customer (`flask demo --scale large`), generated small here, on SQLite and PostgreSQL:
its stored rollups equal a recomputation from its answers, and the app keeps working on top of it."""

import pytest
from pytest_postgresql.janitor import DatabaseJanitor
from sqlmodel import Session, func, select

from accounts.models import User, Workshop
from checklists.schemes import scheme_from_dict
from database import make_engine, upgrade_database, write_session
from demo.large import generate_large
from inspections.models import Answer, CategoryResult, Inspection
from inspections.scoring import NA, score_inspection
from inspections.service import category_specs
from inspections.starting import start_inspection


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'large.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        return
    cluster = request.getfixturevalue("pg_cluster")
    janitor = DatabaseJanitor(user=cluster.user, host=cluster.host, port=cluster.port, dbname="sixs_large")
    with janitor:
        url = f"postgresql+psycopg://{cluster.user}@{cluster.host}:{cluster.port}/sixs_large"
        upgrade_database(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_generated_rollups_equal_a_recomputation_from_the_answers(empty_engine):
    with write_session(empty_engine) as session:
        summary = generate_large(session=session, plants=2, workshops_per_plant=2, weeks=8, seed=3)
    assert summary == {"inspections": 32, "answers": summary["answers"], "workshops": 4, "plants": 2,
                       "findings": summary["findings"]}
    with Session(empty_engine) as session:
        assert session.exec(select(func.count()).select_from(Answer)).one() == summary["answers"]
        # a finding for each answer at or below the finding level, as submission makes them
        from actions.models import Finding
        low = session.exec(select(func.count()).select_from(Answer).where(Answer.score <= 1)).one()
        assert summary["findings"] == low > 0
        assert session.exec(select(func.count()).select_from(Finding)).one() == low
        inspections = session.exec(select(Inspection).order_by(Inspection.id)).all()
        assert len(inspections) == 32
        versions = [i.version.number for i in inspections[:8]]  # first workshop: 4 weeks on v1, then v2
        assert versions == [1, 1, 1, 1, 2, 2, 2, 2]
        for inspection in inspections:
            items = {item.id: item.key for c in inspection.version.categories for item in c.items}
            values = {items[a.item_id]: NA if a.not_applicable else a.score for a in inspection.answers}
            assert len(values) == len(items)
            again = score_inspection(category_specs(inspection.version), values,
                                     scheme_from_dict(inspection.version.scheme))
            assert inspection.overall_percent == pytest.approx(again.overall_percent)
            assert (inspection.grade, inspection.passed) == (again.grade, again.passed)
            stored = {r.category_key: r.percent for r in session.exec(
                select(CategoryResult).where(CategoryResult.inspection_id == inspection.id))}
            assert stored == pytest.approx({c.key: c.percent for c in again.categories})


def test_the_app_works_on_top_of_generated_data(empty_engine):
    with write_session(empty_engine) as session:
        generate_large(session=session, plants=1, workshops_per_plant=2, weeks=3, seed=4)
    with write_session(empty_engine) as session:  # ids continue after the generated ones (sequences moved)
        manager = session.exec(select(User).where(User.username == "manager")).one()
        workshop = session.exec(select(Workshop).where(Workshop.code == "P01-W01")).one()
        inspection = start_inspection(session=session, user=manager, workshop=workshop)
        assert inspection.id == 7


def test_like_for_like_across_the_standard_checklists_v1_to_v2(empty_engine):
    from inspections.trends import like_for_like_points, restrict, workshop_trend

    with write_session(empty_engine) as session:
        generate_large(session=session, plants=1, workshops_per_plant=1, weeks=4, seed=5)
    with Session(empty_engine) as session:
        points = workshop_trend(session=session, workshop_id=1)
        assert [p.version_number for p in points] == [1, 1, 2, 2]
        rescored, keys = like_for_like_points(session=session, points=points)
        inspections = [session.get(Inspection, p.inspection_id) for p in points]
        v1_keys = {i.key for c in inspections[0].version.categories for i in c.items}
        v2_keys = {i.key for c in inspections[2].version.categories for i in c.items}
        assert keys == v1_keys & v2_keys and 0 < len(keys) < min(len(v1_keys), len(v2_keys))
        for point, inspection in zip(rescored, inspections, strict=True):
            items = {item.id: item.key for c in inspection.version.categories for item in c.items}
            values = {items[a.item_id]: NA if a.not_applicable else a.score for a in inspection.answers}
            specs = restrict(category_specs(inspection.version), keys)
            again = score_inspection(specs, {k: v for k, v in values.items() if k in keys},
                                     scheme_from_dict(inspection.version.scheme))
            assert point.overall_percent == pytest.approx(again.overall_percent)
