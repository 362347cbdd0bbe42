"""Shared fixtures: a fresh database on SQLite and on PostgreSQL for every store test."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from store.db import connect
from store.tables import metadata

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def _hash_key(monkeypatch):
    # A fixed key keeps phone hashes comparable across a test's uploads without touching data/local/.
    monkeypatch.setenv("PII_HASH_KEY", "test-key")


def _postgres_available() -> str | None:
    try:
        with create_engine(POSTGRES_URL).connect() as conn:
            conn.execute(text("select 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means: skip here, fail in CI
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"


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
