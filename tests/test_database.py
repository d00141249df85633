"""The SQLite writers' gate: writers queue for the write lock instead of sleeping in SQLite's busy handler, across
threads and processes, and every way a transaction ends lets the next one in."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from database import WriterGate, make_engine, write_session, writing


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE log (n INTEGER, who TEXT)")
    yield engine
    engine.dispose()


def rows(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text("SELECT n, who FROM log ORDER BY rowid"))]


def write_in_thread(engine, n: int, who: str) -> tuple[threading.Thread, threading.Event]:
    """A writer on another thread inserting (n, who): its thread, and an event set once it has committed."""
    done = threading.Event()

    def write():
        with write_session(engine) as session:
            session.execute(text("INSERT INTO log VALUES (:n, :who)"), {"n": n, "who": who})
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    return thread, done


def test_a_second_writer_waits_for_the_first_and_then_goes_on(engine):
    with write_session(engine) as session:
        session.execute(text("INSERT INTO log VALUES (1, 'first')"))
        worker, second_done = write_in_thread(engine, 2, "second")
        # the second writer is held at the gate while the first is open (it would otherwise fail or sleep)
        assert not second_done.wait(0.3)
    worker.join(15)
    assert second_done.is_set()
    assert rows(engine) == [(1, "first"), (2, "second")]


@pytest.mark.parametrize("ending", ["commit", "rollback", "error", "close"])
def test_every_end_of_a_write_transaction_lets_the_next_writer_in(engine, ending):
    gate = WriterGate.for_database(engine.url.database)
    with writing(engine).connect() as connection:
        transaction = connection.begin()
        connection.exec_driver_sql("INSERT INTO log VALUES (1, 'x')")
        assert gate.holder is not None
        if ending == "commit":
            transaction.commit()
        elif ending == "rollback":
            transaction.rollback()
        elif ending == "error":
            with pytest.raises(Exception, match="no such table"):
                connection.exec_driver_sql("INSERT INTO missing VALUES (1)")
            transaction.rollback()
        else:
            connection.invalidate()  # the DBAPI connection is closed under the transaction
    assert gate.holder is None
    # not blocked: another thread writes at once
    thread, done = write_in_thread(engine, 2, "after")
    thread.join(15)
    assert done.is_set()
    assert rows(engine)[-1] == (2, "after")


def test_readers_never_take_the_gate(engine):
    gate = WriterGate.for_database(engine.url.database)
    with write_session(engine) as session:
        session.execute(text("INSERT INTO log VALUES (1, 'w')"))
        # a read transaction on another connection goes on while the writer holds the gate (WAL)
        assert rows(engine) == []
        assert gate.holder is not None
    assert rows(engine) == [(1, "w")]


def _hold_the_write_lock(url: str, holding, release) -> None:
    engine = make_engine(url)
    with write_session(engine) as session:
        session.execute(text("INSERT INTO log VALUES (1, 'child')"))
        holding.set()
        release.wait(30)
    engine.dispose()


def test_writers_of_other_processes_queue_behind_each_other(engine):
    """A gunicorn worker and the task consumer share the file: the flock beside it orders them."""
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()
    child = context.Process(target=_hold_the_write_lock, args=(str(engine.url), holding, release))
    child.start()
    try:
        assert holding.wait(30)
        assert Path(engine.url.database + ".writers").exists()
        thread, written = write_in_thread(engine, 2, "parent")
        assert not written.wait(0.3)  # waiting at the gate, not failing with "database is locked"
        release.set()
        thread.join(15)
        assert written.is_set()
    finally:
        release.set()
        child.join(15)
    assert child.exitcode == 0
    assert rows(engine) == [(1, "child"), (2, "parent")]


def test_many_concurrent_writers_lose_nothing(engine):
    def writer(n: int):
        for i in range(20):
            with write_session(engine) as session:
                count = session.execute(text("SELECT count(*) FROM log")).scalar_one()
                session.execute(text("INSERT INTO log VALUES (:n, :who)"), {"n": count, "who": f"{n}-{i}"})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = rows(engine)
    # every write stored, and each saw all the earlier ones (read-then-write inside one serialised transaction)
    assert [n for n, _who in stored] == list(range(160))
    assert len({who for _n, who in stored}) == 160


def test_an_in_memory_database_has_no_gate():
    engine = make_engine("sqlite://")
    with write_session(engine) as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


# ---- requests that read first (database.reads_first / begin_writing)

def test_a_session_that_reads_first_takes_the_gate_only_when_it_begins_writing(engine):
    from sqlmodel import Session

    from database import begin_writing

    gate = WriterGate.for_database(engine.url.database)
    session = Session(engine, expire_on_commit=False)
    session.info["reads_first"] = True
    assert session.execute(text("SELECT count(*) FROM log")).scalar() == 0
    assert gate.holder is None  # reading: the gate is free for others
    thread, done = write_in_thread(engine, 1, "meanwhile")
    thread.join(15)
    assert done.is_set()  # another writer went through while this session was reading
    begin_writing(session)
    assert gate.holder is not None
    # now this session is the writer, and it sees what was committed before it began writing
    assert session.execute(text("SELECT who FROM log")).scalars().all() == ["meanwhile"]
    worker, second_done = write_in_thread(engine, 3, "after")
    assert not second_done.wait(0.3)  # held at the gate behind us
    session.execute(text("INSERT INTO log VALUES (2, 'reader turned writer')"))
    session.commit()
    worker.join(15)
    assert rows(engine) == [(1, "meanwhile"), (2, "reader turned writer"), (3, "after")]
    session.close()


def test_a_change_before_begin_writing_is_refused(engine):
    from sqlalchemy import event
    from sqlmodel import Session

    from audit.models import AuditEvent
    from database import _refuse_writes_before_begin_writing, begin_writing

    session = Session(engine)
    session.info["reads_first"] = True
    event.listen(session, "before_flush", _refuse_writes_before_begin_writing)
    session.add(AuditEvent(id=1, actor_name="x", action="x", object_type="x", object_id="1", prev_sha256="0",
                           sha256="0"))
    with pytest.raises(RuntimeError, match="must call begin_writing"):
        session.flush()
    with pytest.raises(RuntimeError, match="after a change"):
        begin_writing(session)
    session.close()


def test_an_answer_save_waits_for_a_writer_and_then_sees_what_it_did(sqlite_app):
    """The API save reads who is asking and the inspection before it takes the write lock; a submit committed
    while it waited must still stop it (409 locked), not be overwritten."""
    from sqlmodel import Session

    from inspections.models import Inspection
    from tests.helpers import token_headers

    client = sqlite_app.test_client()
    headers = token_headers(sqlite_app, "sup1")
    inspection_id = client.post("/api/v1/workshops/W1/inspections", headers=headers).json["id"]
    engine = sqlite_app.extensions["engine"]
    holding, release, result = threading.Event(), threading.Event(), {}

    def submit_elsewhere():
        with write_session(engine) as session:  # another worker's write transaction, e.g. a submit
            session.get(Inspection, inspection_id).status = "submitted"
            session.flush()
            holding.set()
            release.wait(15)

    other = threading.Thread(target=submit_elsewhere)
    other.start()
    assert holding.wait(15)

    def save():
        result["response"] = sqlite_app.test_client().put(
            f"/api/v1/inspections/{inspection_id}/answers/sort-01", headers=headers, json={"score": 2})

    saver = threading.Thread(target=save)
    saver.start()
    saver.join(0.5)
    assert saver.is_alive()  # read what it needed, now waiting at the gate
    release.set()
    other.join(15)
    saver.join(15)
    response = result["response"]
    assert response.status_code == 409 and response.json["code"] == "locked"
    with Session(engine) as session:
        assert session.exec(select_answers(inspection_id)).all() == []


def select_answers(inspection_id: int):
    from sqlmodel import select

    from inspections.models import Answer

    return select(Answer).where(Answer.inspection_id == inspection_id)
