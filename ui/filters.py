"""The sidebar: period, scope and scheme, mirrored in the URL so a pasted link opens the same view."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from metrics.config import list_schemes, load_scheme
from metrics.periods import latest_complete_period, period_bounds, period_of, previous_period
from metrics.scheme import Scheme
from ui import data

CITY = "全市"


@dataclass(frozen=True)
class Filters:
    period: str
    scheme: Scheme
    district: str | None
    township: str | None

    @property
    def bounds(self) -> tuple[date, date]:
        return period_bounds(self.period, self.scheme)

    @property
    def previous(self) -> str:
        return previous_period(self.period)

    @property
    def scope(self) -> str:
        """The scope as a caption: 全市 / 朝阳区 / 朝阳区 建外街道."""
        return " ".join(p for p in (self.district, self.township) if p) or CITY

    def caption(self) -> str:
        """What every figure says about itself: period, scope and scheme."""
        start, end = self.bounds
        return (f"考核周期 {self.period}（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）· 范围：{self.scope} · "
                f"考评方案：{self.scheme.title}（{self.scheme.content_hash}）")


def available_periods(first: date, last: date, scheme: Scheme) -> list[str]:
    """Periods with data, newest first; the newest incomplete one is left out when a complete one exists."""
    labels = period_of(pd.Series(pd.date_range(first, last, freq="D")), scheme).unique().tolist()
    latest = latest_complete_period(last, scheme)
    complete = [p for p in labels if p <= latest]
    return sorted(complete or labels, reverse=True)


def _index_from_url(key: str, options: list[str], default: str) -> int:
    """The position of the URL's query parameter among the options (the default if absent or stale)."""
    wanted = st.query_params.get(key, default)
    return options.index(wanted) if wanted in options else options.index(default)


def sidebar_filters() -> Filters | None:
    """The chosen filters, or None when the database holds no orders yet."""
    span = data.day_range(data.version())
    if span is None:
        return None
    schemes = {s.name: s for s in list_schemes()}
    names = list(schemes)
    scheme_name = st.sidebar.selectbox("考评方案", names, index=_index_from_url("scheme", names, names[0]),
                                       format_func=lambda n: schemes[n].title)
    scheme = load_scheme(scheme_name)
    periods = available_periods(*span, scheme)
    period = st.sidebar.selectbox("考核周期", periods, index=_index_from_url("period", periods, periods[0]))
    districts_frame, townships_frame = data.populations(data.version())
    districts = [CITY, *districts_frame["name"].tolist()] if len(districts_frame) else [CITY]
    district = st.sidebar.selectbox("区", districts, index=_index_from_url("district", districts, CITY))
    township = None
    if district != CITY:
        names_here = townships_frame.loc[townships_frame["district"] == district, "name"].tolist()
        options = ["（全区）", *names_here]
        chosen = st.sidebar.selectbox("街乡镇", options, index=_index_from_url("township", options, options[0]))
        township = None if chosen == options[0] else chosen
    st.query_params.from_dict({k: v for k, v in {
        "scheme": scheme_name, "period": period,
        "district": None if district == CITY else district, "township": township}.items() if v})
    return Filters(period, scheme, None if district == CITY else district, township)
