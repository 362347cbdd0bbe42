"""Shared fixtures: a fresh database on SQLite and on PostgreSQL for every store test. The suite runs in two
processes (pytest-xdist, pyproject.toml); each has a PostgreSQL database of its own."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from store.db import connect
from store.tables import metadata

SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ... under xdist
POSTGRES_URL = (make_url(SERVER_URL).set(database=f"{make_url(SERVER_URL).database}_{WORKER}")
                .render_as_string(hide_password=False) if WORKER else SERVER_URL)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def _hash_key(monkeypatch):
    # A fixed key keeps phone hashes comparable across a test's uploads without touching data/local/.
    monkeypatch.setenv("PII_HASH_KEY", "test-key")


def _postgres_available() -> str | None:
    try:
        _create_worker_database()
        with create_engine(POSTGRES_URL).connect() as conn:
            conn.execute(text("select 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means: skip here, fail in CI
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"


def _create_worker_database() -> None:
    """This worker's database, created beside the configured one the first time (a no-op without xdist)."""
    if POSTGRES_URL == SERVER_URL:
        return
    name = make_url(POSTGRES_URL).database
    server = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if conn.execute(text("select 1 from pg_database where datname = :name"), {"name": name}).first() is None:
            conn.execute(text(f'create database "{name}"'))
    server.dispose()


def _fresh_postgres() -> str:
    reason = _postgres_available()
    if reason:
        if IN_CI:
            pytest.fail(reason + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    engine = create_engine(POSTGRES_URL)
    metadata.drop_all(engine)
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A URL of an empty database; each test runs once per engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    return _fresh_postgres()


@pytest.fixture
def engine(db_url):
    engine = connect(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def open_engine(db_url):
    """A database with no city profile: units are taken as the files name them."""
    engine = connect(db_url, profile="none")
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'test.sqlite'}")
    yield engine
    engine.dispose()
