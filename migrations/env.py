"""Alembic environment: the URL comes from the app config (via config.attributes), never from a file."""

from alembic import context
from sqlmodel import SQLModel

import accounts.models  # noqa: F401  (register tables)
import actions.models  # noqa: F401
import api.models  # noqa: F401
import audit.models  # noqa: F401
import checklists.models  # noqa: F401
import exports.models  # noqa: F401
import inspections.models  # noqa: F401
import plans.models  # noqa: F401
import redtags.models  # noqa: F401
import tasks  # noqa: F401  (task_run)
import webhooks.models  # noqa: F401
from database import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild tables (copy, drop, rename); with foreign keys on, dropping a table that
            # other rows point at fails. The pragma only works outside a transaction, so set it on the raw
            # connection before anything begins, and check the keys before turning them back on.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
    engine.dispose()


run_migrations()
