"""Alembic owns the schema: upgrades and downgrades work on databases that hold data, on both engines."""

from alembic import command
from sqlalchemy import inspect, text

from database import alembic_config


def test_downgrade_and_upgrade_keep_the_data(app, client, auth):
    from tests.helpers import answer_all, published_items, start, submit

    auth.login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app))
    submit(client, inspection_id)
    url = app.config["DATABASE_URL"]
    engine = app.extensions["engine"]
    engine.dispose()

    def counts():
        with engine.connect() as conn:
            return [conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608 - fixed names
                    for table in ("answer", "checklist_item", "category_result", "inspection")]

    before = counts()
    assert before[0] == 105
    command.downgrade(alembic_config(url), "0002")  # through 0004 and 0003
    assert "checklist_scope" not in inspect(engine).get_table_names()
    command.upgrade(alembic_config(url), "head")
    engine.dispose()
    assert counts() == before
    with engine.connect() as conn:
        names = {row[0] for row in conn.execute(text("SELECT name FROM checklist_version"))}
    assert names == {"6S 现场管理检查表"}
    # Sessions live in a table the downgrade dropped: the old cookie is gone, a new sign-in works.
    assert client.get(f"/inspections/{inspection_id}").status_code == 302
    auth.login("sup1")
    assert str(inspection_id) in client.get(f"/inspections/{inspection_id}").text


def test_every_guard_trigger_survives_the_migrations(app):
    """SQLite rebuilds a table in Alembic's batch mode and silently loses its triggers: the locks that make
    submitted answers, signatures, documents and the audit trail unchangeable must all be there at head."""
    engine = app.extensions["engine"]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(text("SELECT event_object_table, trigger_name FROM information_schema.triggers"))
        guarded = {table for table, _name in rows}
    assert {"answer", "correction", "signature", "report_document", "audit_event", "action_event",
            "checklist_version"} <= guarded


def test_failed_inspections_get_their_reasons_when_migrated(app, client, auth):
    """Inspections failed before 0030 kept no reason: the migration works it out from the answers and the version
    (#34), on both engines."""
    from sqlmodel import Session

    from inspections.models import Inspection
    from tests.helpers import answer_all, published_items, start, submit

    auth.login("sup1")
    inspection_id = start(client)
    answer_all(client, inspection_id, published_items(app),
               score_for=lambda i, item: 0 if item.key == "safety-09" else 1)
    assert submit(client, inspection_id).status_code == 303
    url, engine = app.config["DATABASE_URL"], app.extensions["engine"]
    with Session(engine) as session:
        stored = session.get(Inspection, inspection_id).fail_reasons
    assert [r["code"] for r in stored] == ["critical_failed", "below_pass_mark"]
    engine.dispose()
    command.downgrade(alembic_config(url), "0029")
    assert "fail_reasons" not in {c["name"] for c in inspect(engine).get_columns("inspection")}
    command.upgrade(alembic_config(url), "head")
    engine.dispose()
    with Session(engine) as session:
        assert session.get(Inspection, inspection_id).fail_reasons == stored
