"""Cached access to the store. Results are keyed on the filters and on the data version, which
changes after every upload, so a new file shows at once and nothing else is recomputed."""
from __future__ import annotations

import importlib
import os
from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from metrics.config import load_scheme
from metrics.scheme import Scheme
from store import demo, query, whistle_demo
from store.db import connect, database_url, setting
from store.reference import reference_version
from ui import auth


def engine() -> Engine:
    return _engine(database_url())


# Opening may first bring the database up to date: an older schema, or counts tables to build again after
# data/time_limits.toml changed (the 时效 cubes: about 11 s a million orders, minutes for a year of the city).
@st.cache_resource(show_spinner="正在打开数据库；如数据库结构或办理时限有变，需先重建统计表（一年全市数据约需数分钟）……")
def _engine(url: str) -> Engine:
    return connect(url)


def version() -> str:
    """The cache key of the data: which database, its latest upload and its reference data."""
    return f"{database_url()}#{query.data_version(engine())}#{reference_version(engine())}"


@st.cache_data(show_spinner=False)
def day_range(data_version: str) -> tuple[date, date] | None:
    return query.day_range(engine())


@st.cache_data(show_spinner=False)
def populations(data_version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return query.populations(engine())


def is_synthetic() -> bool:
    return setting(engine(), "synthetic") == "1"


def should_load_demo() -> bool:
    """The embedded database of a first start is filled with the demo city; a configured one never is."""
    return not os.environ.get("DATABASE_URL") and query.day_range(engine()) is None


def load_demo() -> None:
    demo.load_demo(engine(), int(os.environ.get("DEMO_ORDERS", demo.DEFAULT_ORDERS)))
    whistle_demo.load_whistle_demo(engine())  # after the orders: hotline whistles link to their ids


@st.cache_data(show_spinner="正在计算……")
def _figure(name: str, scheme: str, scheme_hash: str, data_version: str, kwargs: tuple) -> pd.DataFrame:
    module, function = name.rsplit(".", 1)
    return getattr(importlib.import_module(f"figures.{module}"), function)(engine(), load_scheme(scheme),
                                                                          **dict(kwargs))


def figure(name: str, scheme: Scheme, **kwargs) -> pd.DataFrame:
    """A table from figures/ ("module.function"), cached on its arguments, the scheme's content and
    the data version. Every figures function takes (engine, scheme, **kwargs). The account's scope is
    checked here, where the data is fetched, not only in the sidebar (ui.auth)."""
    access = auth.checked_scope(name, kwargs)
    return auth.visible(name, access, _figure(name, scheme.name, scheme.content_hash, version(),
                                              tuple(sorted(kwargs.items()))))
