"""The PostgreSQL fixtures give working, isolated, durable-by-default databases."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from lacre.testing.postgres import PostgresServer


def test_database_round_trip(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("CREATE TABLE entries (id bigint PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO entries VALUES (1, 'first'), (2, 'second')")
        conn.commit()
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute("SELECT id, body FROM entries ORDER BY id").fetchall()
        (fsync,) = conn.execute("SHOW fsync").fetchone() or ("?",)
    assert rows == [(1, "first"), (2, "second")]
    assert fsync == "on"


def test_databases_are_isolated(postgres_server: PostgresServer) -> None:
    suffix = uuid.uuid4().hex
    names = (f"t_iso_a_{suffix}", f"t_iso_b_{suffix}")
    first = postgres_server.create_database(names[0])
    second = postgres_server.create_database(names[1])
    try:
        assert first != second
        with psycopg.connect(first) as conn:
            conn.execute("CREATE TABLE only_in_first (x int)")
            conn.commit()
            (name_a,) = conn.execute("SELECT current_database()").fetchone() or ("",)
        with psycopg.connect(second) as conn:
            (name_b,) = conn.execute("SELECT current_database()").fetchone() or ("",)
            with pytest.raises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM only_in_first")
        assert (name_a, name_b) == names
    finally:
        for name in names:
            postgres_server.drop_database(name)


def test_fresh_database_is_empty(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn) as conn:
        (tables,) = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone() or (-1,)
    assert tables == 0


def test_integration_marker_is_applied(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("integration") is not None
