"""Cached access to the store. Results are keyed on the filters and on the data version, which
changes after every upload, so a new file shows at once and nothing else is recomputed."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from store import query
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
