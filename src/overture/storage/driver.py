"""Prepared SQL straight on the DBAPI connection, for the operations that run per event and per
step (ingest, claim, step commits), where building and compiling a SQLAlchemy statement costs
more than running it. Values are encoded the way the tables' SQLAlchemy column types encode them
and decoded the same way, so every other reader sees the same rows.

A Driver can sit under a SQLAlchemy connection (joining its transaction) or on a raw pooled
connection of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa

from overture.storage.tables.types import UTCDateTime

Codec = Callable[[Any], Any]


def _is_json(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.JSON) or "JSON" in type(column.type).__name__


@cache
def _columns(table: sa.Table) -> dict[str, tuple[bool, bool]]:
    """Per column: (is a UTC datetime, is JSON)."""
    return {c.name: (isinstance(c.type, UTCDateTime), _is_json(c)) for c in table.columns}


@cache
def _format(template: str, sqlite: bool) -> str:
    return template.format(p="?", j="?") if sqlite else template.format(p="%s", j="%s::jsonb")


def encode_time(value: datetime | None, sqlite: bool) -> Any:
    """Aware datetimes only, as UTCDateTime binds them (SQLite: naive UTC text)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    if sqlite:
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def decode_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encode_json(value: Any) -> str:
    """JSON text of a value to store. orjson writes it several times faster than ``json.dumps``,
    as UTF-8 rather than ASCII escapes (both backends read either the same). What orjson
    refuses (integers past 64 bits) or cannot write goes to ``json.dumps``, so a value is
    stored, or refused with ``json.dumps``'s error, as before. Reading stays ``json.loads``:
    orjson reads integers past 64 bits as floats, losing digits."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


def decode_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


class Driver:
    """Runs ``{p}``/``{j}`` templated SQL (placeholder / JSON placeholder) on one DBAPI connection."""

    def __init__(self, dbapi_connection: Any, is_sqlite: bool) -> None:
        self.conn = dbapi_connection
        self.sqlite = is_sqlite

    @classmethod
    def under(cls, conn: sa.Connection) -> Driver:
        """The DBAPI connection beneath a SQLAlchemy connection, inside its transaction."""
        return cls(conn.connection.driver_connection, conn.dialect.name == "sqlite")

    def sql(self, template: str) -> str:
        return _format(template, self.sqlite)

    def time(self, value: datetime | None) -> Any:
        return encode_time(value, self.sqlite)

    def execute(self, template: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; returns the cursor (the caller reads or closes it)."""
        cur = self.conn.cursor()
        cur.execute(self.sql(template), tuple(params))
        return cur

    def rowcount(self, template: str, params: Sequence[Any] = ()) -> int:
        cur = self.execute(template, params)
        try:
            return int(cur.rowcount)
        finally:
            cur.close()

    def first(self, template: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        cur = self.execute(template, params)
        try:
            row = cur.fetchone()
            return tuple(row) if row is not None else None
        finally:
            cur.close()

    def insert(self, table: sa.Table, row: Mapping[str, Any]) -> None:
        """INSERT one row given by column name, encoded as the column types would."""
        cur = self.conn.cursor()
        try:
            cur.execute(self.insert_sql(table, tuple(row)), self.encode(table, row))
        finally:
            cur.close()

    def insert_sql(self, table: sa.Table, names: tuple[str, ...]) -> str:
        """The INSERT for a row of these columns, in this backend's placeholders."""
        return _insert_sql(table, names, self.sqlite)

    def encode(self, table: sa.Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
        kinds = _columns(table)
        sqlite = self.sqlite
        out = []
        for name, value in row.items():  # runs per column of every ingested row: kept flat
            is_time, is_json = kinds[name]
            out.append(
                encode_time(value, sqlite)
                if is_time
                else encode_json(value)
                if is_json and value is not None
                else value
            )
        return tuple(out)

    @staticmethod
    def decode(table: sa.Table, names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
        """A fetched row as the column types would return it."""
        kinds = _columns(table)
        return {name: _decode(kinds[name], value) for name, value in zip(names, values, strict=True)}


def _decode(kind: tuple[bool, bool], value: Any) -> Any:
    is_time, is_json = kind
    if is_time:
        return decode_time(value)
    if is_json:
        return decode_json(value)
    return value


@cache
def _insert_sql(table: sa.Table, names: tuple[str, ...], sqlite: bool) -> str:
    kinds = _columns(table)
    marks = ", ".join("{j}" if kinds[n][1] else "{p}" for n in names)
    return _format(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", sqlite)
