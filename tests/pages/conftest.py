"""Fixtures for page tests: a seeded database (synthetic demo city) and an empty one, for AppTest."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from store.db import connect
from store.demo import load_demo
from store.paths import ROOT

DEMO_ORDERS = 20_000
APP = str(ROOT / "app.py")
TIMEOUT = 120  # seconds for one AppTest run: a first run computes and caches every figure


@pytest.fixture(scope="session")
def seeded_url(tmp_path_factory) -> str:
    """A SQLite database with a synthetic year of 20,000 orders, built once per test session."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'demo.sqlite'}"
    engine = connect(url)
    load_demo(engine, DEMO_ORDERS)
    engine.dispose()
    return url


@pytest.fixture
def seeded_app(seeded_url, monkeypatch) -> AppTest:
    """The real app (app.py) over the seeded database, not yet run."""
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


@pytest.fixture
def empty_app(tmp_path, monkeypatch) -> AppTest:
    """The real app over an empty database (a configured DATABASE_URL is never filled with the demo)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    return AppTest.from_file(APP, default_timeout=TIMEOUT)
