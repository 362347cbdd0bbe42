"""Builders for small hand-made count frames shaped like store.query.counts()."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd
import pytest

from metrics.config import load_scheme
from metrics.rates import COUNT_COLUMNS
from metrics.scheme import Scheme


def build_counts(rows: list[dict]) -> pd.DataFrame:
    """Rows of keys + day (+ excluded) + counts; counts not given are 0, excluded defaults to False."""
    frame = pd.DataFrame(rows)
    for column in COUNT_COLUMNS:
        frame[column] = frame[column].fillna(0).astype("int64") if column in frame else 0
    frame["excluded"] = frame["excluded"].fillna(False).astype(bool) if "excluded" in frame else False
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


@pytest.fixture
def make_counts() -> Callable[[list[dict]], pd.DataFrame]:
    return build_counts


@pytest.fixture
def scheme() -> Scheme:
    """The default scheme (10/50/40, 基本满意 0.9, 有效回访 denominator, 剔除 left out, calendar month)
    with thresholds small enough for hand-made tables: 5 callbacks, 红黑榜 of 1."""
    return dataclasses.replace(load_scheme(), min_callbacks=5, top_n=1, top_n_by_group={})
