"""The sidebar: period, scope and scheme, mirrored in the URL so a pasted link opens the same view."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from metrics.config import list_schemes, load_scheme
from metrics.periods import latest_complete_period, period_bounds, period_of, previous_period
from metrics.scheme import Scheme
from store.auth import EDITORS, Access
from ui import auth, data

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


_KEYS = ("scheme", "period", "district", "township")
_REMEMBERED = "filters_in_url"  # the last filters, for a page switch that clears the URL


def _wanted() -> dict[str, str]:
    """The filters asked for: the URL's when it names any (a pasted link), else the last ones chosen
    (Streamlit clears the query parameters when the menu switches pages)."""
    given = {k: st.query_params[k] for k in _KEYS if k in st.query_params}
    return given if given else dict(st.session_state.get(_REMEMBERED, {}))


def _home(access: Access) -> dict[str, str]:
    """Where a viewer's first visit opens: the account's own area (others open on the city)."""
    home = {"district": access.district, "township": access.township} if access.is_viewer else {}
    return {k: v for k, v in home.items() if v}


def _select(label: str, options: list[str], wanted: str | None, **kwargs) -> str:
    index = options.index(wanted) if wanted in options else 0
    return st.sidebar.selectbox(label, options, index=index, **kwargs)


def _scope(wanted: dict[str, str], access: Access) -> tuple[str, str | None]:
    """The district (or 全市) and township chosen among those the account may see; a URL asking for
    another area falls back to the city, and says so."""
    districts_frame, townships_frame = data.populations(data.version())
    districts = [d for d in districts_frame["name"] if access.allows(d, access.township)]
    district = _select("区", [CITY, *districts], wanted.get("district"))
    township = None
    if district != CITY:
        names_here = [t for t in townships_frame.loc[townships_frame["district"] == district, "name"]
                      if access.allows(district, t)]
        options = names_here if access.township else ["（全区）", *names_here]
        chosen = _select("街乡镇", options, wanted.get("township"))
        township = None if chosen == "（全区）" else chosen
    asked = (wanted.get("district"), wanted.get("township"))
    if asked != (None, None) and not access.allows(*asked):
        st.sidebar.warning(f"您的账号只能查看全市和{access.area}：网址中的范围「{' '.join(filter(None, asked))}」"
                           "未予显示。")
    return district, township


def sidebar_filters(access: Access) -> Filters | None:
    """The chosen filters, or None when the database holds no orders yet; the scope is limited to what
    the account may see."""
    span = data.day_range(data.version())
    if span is None:
        return None
    wanted = _wanted() or _home(access)
    schemes = {s.name: s for s in list_schemes()}
    scheme_name = _select("考评方案", list(schemes), wanted.get("scheme"), format_func=lambda n: schemes[n].title)
    scheme = load_scheme(scheme_name)
    period = _select("考核周期", available_periods(*span, scheme), wanted.get("period"))
    district, township = _scope(wanted, access)
    chosen_filters = {k: v for k, v in zip(_KEYS, (scheme_name, period, district, township))
                      if v and v != CITY}
    st.session_state[_REMEMBERED] = chosen_filters
    st.query_params.from_dict(chosen_filters)
    return Filters(period, scheme, None if district == CITY else district, township)


def page_filters(title: str) -> Filters:
    """The page's title and the sidebar's filters; with no data yet, says what to do and stops the page."""
    access = auth.require()  # also when Streamlit runs a page without app.py
    st.title(title)
    filters: Filters | None = st.session_state.get("filters")
    if filters is None:
        st.info("尚无数据：请在「数据上传」页上传工单文件，或载入示例数据。")
        if access.role in EDITORS:  # the upload page is not in a viewer's menu
            st.page_link("pages/upload.py", label="前往数据上传", icon=":material/upload_file:")
        st.stop()
    return filters
