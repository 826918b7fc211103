"""Connections and writers that behave as a restart and a second process demand: a pooled
PostgreSQL connection the server dropped while it sat idle is replaced before it is used, and
on SQLite a process waits for another process's write on the turn file beside the database,
not in SQLite's sleeping busy handler."""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

from overture.storage.liveness import IDLE_PING_S
from overture.storage.store import Store
from tests.conftest import PG_ADMIN_URL


def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_database: str) -> None:
    store = Store(pg_database)
    try:
        with store.read() as conn:
            before = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:  # as a server restart would
            admin.execute("SELECT pg_terminate_backend(%s)", (before,))
        time.sleep(IDLE_PING_S + 0.2)
        with store.read() as conn:
            after = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        assert after != before
    finally:
        store.close()


WRITE_ONE = """
import sys
from overture.storage.store import Store
store = Store(sys.argv[1])
with store.write() as conn:
    conn.exec_driver_sql("INSERT INTO probe VALUES (1)")
store.close()
print("written")
"""


def test_another_process_waits_for_the_writer_turn_then_writes(sqlite_template: Path, tmp_path: Path) -> None:
    db = tmp_path / "overture.db"
    db.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{db}"
    store = Store(url)
    with store.write() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (n INTEGER)")
    turn = Path(f"{db}-turn")
    assert turn.exists()
    with turn.open("ab") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # this process's turn, as during a long write
        other = subprocess.Popen([sys.executable, "-c", WRITE_ONE, url], stdout=subprocess.PIPE, text=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            other.wait(timeout=3)
        assert other.poll() is None, "the other process wrote without waiting for its turn"
        fcntl.flock(held, fcntl.LOCK_UN)
    out, _ = other.communicate(timeout=60)
    assert other.returncode == 0 and out.strip() == "written"
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM probe").scalar_one() == 1
    store.close()
