"""Schema migrations with Alembic, run on a connection of ours.

Alembic is imported only to migrate: checking that a database is current reads its
``alembic_version`` row, and the newest revision is the newest file's name, known without
importing SQLAlchemy (``storage.readonly`` reads the jobs list with the driver alone).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa
    from alembic.config import Config

_HERE = Path(__file__).parent / "migrations"
#: A migration file is named after its revision: ``0007_fenced_outbox.py`` is revision 0007.
_VERSION_FILE = re.compile(r"(\d{4})_\w+\.py")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations folder."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (idempotent)."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def head_revision() -> str:
    """The newest migration shipped with this version (the same as Alembic's head: a test checks)."""
    found = [m.group(1) for p in (_HERE / "versions").iterdir() if (m := _VERSION_FILE.fullmatch(p.name))]
    return max(found)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def is_current(engine: sa.Engine) -> bool:
    """True when the database schema matches this version of Overture."""
    return current_revision(engine) == head_revision()
