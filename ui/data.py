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
from store import demo, query
from store.db import active_profile, connect, setting
from store.profile import CityProfile


@st.cache_resource
def engine() -> Engine:
    return connect()


def version() -> int:
    return query.data_version(engine())


@st.cache_data(show_spinner=False)
def counts(by: tuple[str, ...], start: date, end: date, by_closed_day: bool, district: str | None,
           township: str | None, data_version: int) -> pd.DataFrame:
    return query.counts(engine(), list(by), start, end, by_closed_day, district, township)


@st.cache_data(show_spinner=False)
def day_range(data_version: int) -> tuple[date, date] | None:
    return query.day_range(engine())


@st.cache_data(show_spinner=False)
def populations(data_version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return query.populations(engine())


@st.cache_resource
def profile() -> CityProfile:
    return active_profile(engine())


def is_synthetic() -> bool:
    return setting(engine(), "synthetic") == "1"


def should_load_demo() -> bool:
    """The embedded database of a first start is filled with the demo city; a configured one never is."""
    return not os.environ.get("DATABASE_URL") and query.day_range(engine()) is None


def load_demo() -> None:
    demo.load_demo(engine(), int(os.environ.get("DEMO_ORDERS", demo.DEFAULT_ORDERS)))


@st.cache_data(show_spinner="正在计算……")
def _figure(name: str, scheme: str, scheme_hash: str, data_version: int, kwargs: tuple) -> pd.DataFrame:
    module, function = name.rsplit(".", 1)
    return getattr(importlib.import_module(f"figures.{module}"), function)(engine(), load_scheme(scheme),
                                                                          **dict(kwargs))


def figure(name: str, scheme: Scheme, **kwargs) -> pd.DataFrame:
    """A table from figures/ ("module.function"), cached on its arguments, the scheme's content and
    the data version. Every figures function takes (engine, scheme, **kwargs)."""
    return _figure(name, scheme.name, scheme.content_hash, version(), tuple(sorted(kwargs.items())))
