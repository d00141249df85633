"""How passwords are kept: the default cost, a chosen cost, and the move from one to the other at sign-in."""

import pytest
from sqlmodel import Session, select

from accounts.models import User
from accounts.passwords import DEFAULT_METHOD, PasswordMethodError
from app import create_app
from tests.conftest import TEST_PASSWORD_HASH, AuthActions
from tests.seed import PASSWORD


def stored_method(app, username: str) -> str:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(User).where(User.username == username)).one().password_hash.split("$")[0]


def test_an_app_keeps_new_passwords_with_werkzeugs_scrypt_unless_told_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv("PASSWORD_HASH", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
                      "DATA_DIR": str(tmp_path / "data")})
    assert app.config["PASSWORD_HASH"] == DEFAULT_METHOD == "scrypt:32768:8:1"
    with app.app_context():
        from accounts.passwords import check_password, hash_password

        kept = hash_password("a-long-password-1")
    assert kept.startswith("scrypt:32768:8:1$")
    assert check_password(kept, "a-long-password-1") and not check_password(kept, "a-long-password-2")
    app.extensions["engine"].dispose()


def test_an_unknown_method_stops_the_start_and_names_the_setting(tmp_path):
    with pytest.raises(PasswordMethodError, match="PASSWORD_HASH: 'md5'"):
        create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
                    "DATA_DIR": str(tmp_path / "data"), "PASSWORD_HASH": "md5"})


def test_a_password_kept_at_another_cost_moves_to_todays_at_the_next_right_sign_in(sqlite_app):
    from accounts.passwords import hash_password

    with sqlite_app.app_context():
        sqlite_app.config["PASSWORD_HASH"] = "pbkdf2:sha256:1000"
        older = hash_password(PASSWORD)  # as an earlier setting kept it
        sqlite_app.config["PASSWORD_HASH"] = TEST_PASSWORD_HASH
    with Session(sqlite_app.extensions["engine"]) as session:
        user = session.exec(select(User).where(User.username == "sup1")).one()
        user.password_hash = older
        session.add(user)
        session.commit()
    client = sqlite_app.test_client()
    wrong = client.post("/login", data={"username": "sup1", "password": "not-the-password"})
    assert wrong.status_code == 422 and stored_method(sqlite_app, "sup1") == "pbkdf2:sha256:1000"  # no move
    AuthActions(client).login("sup1")
    assert stored_method(sqlite_app, "sup1") == TEST_PASSWORD_HASH
    AuthActions(client).logout()
    AuthActions(client).login("sup1")  # the new hash holds the same password
    assert stored_method(sqlite_app, "manager") == TEST_PASSWORD_HASH  # the others untouched
