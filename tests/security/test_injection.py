"""SQL built only with bound parameters: unit and category names full of quotes, semicolons and SQL keywords go
through upload -> metrics -> report and pages unchanged, and the database keeps every table. SQLite and
PostgreSQL."""
from __future__ import annotations

from html import escape

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from figures.overview import breakdown, ranking
from metrics.config import load_scheme
from report import build_report
from report.html import page
from store.db import connect
from store.ingest import ingest_file
from store.paths import ROOT
from store.tables import metadata
from tests.security.hostile import CATEGORIES, ORDERS, PERIOD, UNITS, hostile_export
from tests.store.helpers import stored_orders, table_counts


@pytest.fixture
def hostile(db_url) -> str:
    """A database (each engine) holding the hostile month."""
    engine = connect(db_url)
    result = ingest_file(engine, hostile_export(), "工单'; DROP TABLE uploads;--.csv", user="评价员'); --")
    assert (result.accepted, result.rejected) == (ORDERS, 0)
    engine.dispose()
    return db_url


def test_names_are_stored_and_counted_exactly_as_written(hostile):
    engine = connect(hostile)
    counts = table_counts(engine)
    assert set(counts) == {t.name for t in metadata.sorted_tables}  # nothing dropped
    assert (counts["orders"], counts["uploads"]) == (ORDERS, 1)
    stored = stored_orders(engine)
    assert sorted(stored["handler"].unique()) == sorted(UNITS)
    assert sorted(stored["category1"].unique()) == sorted(CATEGORIES)
    scheme = load_scheme()
    units = ranking(engine, scheme, PERIOD, "unit")
    # 15 orders a unit (90 / 6), each answered: the names group exactly as written, none merged or split.
    assert units.set_index("unit").loc[UNITS, "orders"].tolist() == [ORDERS // len(UNITS)] * len(UNITS)
    by_category = breakdown(engine, scheme, PERIOD, ["category1"]).set_index("category1")
    assert by_category.loc[CATEGORIES, "orders"].tolist() == [ORDERS // len(CATEGORIES)] * len(CATEGORIES)
    engine.dispose()


def test_the_report_names_every_unit_escaped(hostile):
    engine = connect(hostile)
    built = build_report(engine, load_scheme(), PERIOD)
    listed = built.tables["市级部门与企业"]
    assert set(UNITS) <= set(listed["handler"])
    html = page(built)
    for unit in UNITS:
        assert escape(unit) in html
    assert "<script>alert" not in html
    engine.dispose()


def test_the_ranking_page_shows_the_names_as_written(hostile, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", hostile)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/rankings.py").run()
    assert not at.exception
    tables = []
    for group in [t.label for t in at.tabs]:  # only the open tab is drawn: each opened in turn
        at.session_state["ranking-group"] = group
        tables += [df.value for df in at.run().dataframe]
        assert not at.exception
    shown = pd.concat(tables, ignore_index=True)
    assert set(UNITS) <= set(shown["单位"])
