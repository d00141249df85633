"""Records that must not change quietly: the database itself refuses, and the audit chain shows any change
made by someone who got past that."""

import pytest
import sqlalchemy
from sqlmodel import Session, func, select

from audit.models import AuditEvent
from inspections.models import Answer, Correction
from tests.conftest import AuthActions
from tests.security.conftest import execute, fingerprint

REFUSED = (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.InternalError, sqlalchemy.exc.DatabaseError)


def test_the_database_refuses_to_change_audit_rows_and_submitted_answers(app, target):
    AuthActions(client := app.test_client()).login("manager")
    response = client.post(f"/inspections/{target.submitted}/items/{target.item_key}/correct",
                           data={"score": "4", "reason": "复查确认合格"})
    assert response.status_code == 303
    before = fingerprint(app)
    attempts = [
        "UPDATE audit_event SET new_value = '{}' WHERE id = 1",
        "UPDATE audit_event SET actor_name = 'someone else'",
        "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)",
        "UPDATE answer SET score = 4 WHERE inspection_id = :submitted",
        "UPDATE answer SET note = '' WHERE inspection_id = :submitted",
        "DELETE FROM answer WHERE inspection_id = :submitted",
        "UPDATE correction SET reason = 'no reason'",
        "DELETE FROM correction",
        # announcing a revision without a correction row for it does not open the lock either
        "UPDATE answer SET score = 0, revision = revision + 5 WHERE inspection_id = :submitted",
    ]
    if app.extensions["engine"].dialect.name == "postgresql":
        attempts.append("TRUNCATE audit_event")
    for sql in attempts:
        with pytest.raises(REFUSED):
            execute(app, sql, **({"submitted": target.submitted} if ":submitted" in sql else {}))
    assert fingerprint(app) == before
    # a draft's answers are still the inspector's to change
    execute(app, "UPDATE answer SET note = 'draft note' WHERE inspection_id = :draft", draft=target.draft)


def test_a_correction_without_a_reason_is_refused_and_changes_nothing(app, target):
    AuthActions(client := app.test_client()).login("manager")
    before = fingerprint(app)
    for data in ({"score": "4"}, {"score": "4", "reason": ""}, {"score": "4", "reason": "  \n "},
                 {"score": "4", "reason": "改"}):
        response = client.post(f"/inspections/{target.submitted}/items/{target.item_key}/correct", data=data)
        assert response.status_code == 422 and "更正必须写明原因" in response.text
    assert fingerprint(app) == before
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(func.count()).select_from(Correction)).one() == 0


def test_audit_verify_passes_then_names_the_row_someone_changed(app, target):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(func.count()).select_from(AuditEvent)).one()
        victim = session.exec(select(AuditEvent).where(AuditEvent.action == "inspection.submit")).one().id
    assert rows > 100  # every answer, the photo, the submit, the signature
    # Someone with the database owner's rights removes the guard and edits one row.
    if app.extensions["engine"].dialect.name == "postgresql":
        execute(app, "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    else:
        execute(app, "DROP TRIGGER audit_event_append_only_update")
    execute(app, "UPDATE audit_event SET new_value = :v WHERE id = :i", v='{"overall_percent": 100}', i=victim)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"row {victim}" in result.output and "changed" in result.output


def test_audit_verify_notices_a_deleted_row(app, target):
    if app.extensions["engine"].dialect.name == "postgresql":
        execute(app, "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    else:
        execute(app, "DROP TRIGGER audit_event_append_only_delete")
    execute(app, "DELETE FROM audit_event WHERE id = 5")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "row 5 is missing" in result.output


def test_the_answers_of_a_submitted_inspection_change_only_with_their_correction(app, target):
    with Session(app.extensions["engine"]) as session:
        answer = session.exec(select(Answer).where(Answer.inspection_id == target.submitted)).first()
        answer.score = 0
        with pytest.raises(REFUSED):
            session.commit()  # the ORM is held to the same rule as raw SQL


def test_a_change_key_is_its_makers_for_one_item_only(app, client, auth):
    """#35: another user's key (or one used on another item) is refused with 409, never answered with their answer
    or photo, never a 500."""
    import io

    from tests.conftest import AuthActions
    from tests.helpers import start, token_headers
    from tests.test_photos import jpeg_bytes

    auth.login("sup1")
    mine = start(client)
    key = "k" * 32
    assert client.post(f"/inspections/{mine}/answers/sort-01", headers={"X-Change-Key": key},
                       data={"score-sort-01": "1"}).status_code in (200, 303)
    photo_key = "p" * 32
    assert client.post(f"/inspections/{mine}/photos/sort-01", headers={"X-Change-Key": photo_key, "HX-Request": "true"},
                       data={"photo": (io.BytesIO(jpeg_bytes()), "p.jpg")}).status_code == 200
    other = app.test_client()
    AuthActions(other).login("sup2")
    theirs = other.post("/workshops/W2/inspections").location.rsplit("/", 1)[1]
    reused = other.post(f"/inspections/{theirs}/answers/sort-01", headers={"X-Change-Key": key, "HX-Request": "true"},
                        data={"score-sort-01": "4"})
    assert reused.status_code == 409 and "刷新页面" in reused.text
    photo = other.post(f"/inspections/{theirs}/photos/sort-01", headers={"X-Change-Key": photo_key,
                                                                       "HX-Request": "true"},
                       data={"photo": (io.BytesIO(jpeg_bytes()), "q.jpg")})
    assert photo.status_code == 409
    # the same key on another item of one's own inspection is no replay either
    again = client.post(f"/inspections/{mine}/answers/sort-02", headers={"X-Change-Key": key, "HX-Request": "true"},
                        data={"score-sort-02": "3"})
    assert again.status_code == 409
    api = client.put(f"/api/v1/inspections/{theirs}/answers/sort-01", headers=token_headers(app, "sup2"),
                     json={"score": 2, "change_key": key})
    assert api.status_code == 409
