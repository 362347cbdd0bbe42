"""The tables of the 日通报 and 周汇总: the day's (or the 7 days') volumes, 三率, districts, top issues and early
warnings. report.daily writes them as text and as a workbook; the page shows and downloads those."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine

from figures.alerts import week_alerts
from metrics.hot import with_change
from metrics.rates import RATES, total_counts, unit_rates
from metrics.scheme import Scheme
from store import query
from store.db import setting

KINDS = {1: ("日通报", "前一日"), 7: ("周汇总", "上周")}
TOP = 10


@dataclass(frozen=True)
class Bulletin:
    title: str  # 日通报 / 周汇总
    before: str  # what the previous window is called: 前一日 / 上周
    start: date
    end: date
    scheme: Scheme
    synthetic: bool
    tables: dict[str, pd.DataFrame]  # sheet title -> table with the figures' column names

    @property
    def span(self) -> str:
        return f"{self.end:%Y-%m-%d}" if self.start == self.end else f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


def bulletin(engine: Engine, scheme: Scheme, day: date, days: int = 1, district: str | None = None) -> Bulletin:
    """The bulletin of the `days` (1 or 7) ending on `day`, against the same number of days before.
    Volumes count orders received (全口径); the 三率 count the valid callbacks of orders closed in the window
    (考核口径), since a callback follows the closure."""
    title, before = KINDS[days]
    start, previous_start = day - timedelta(days=days - 1), day - timedelta(days=2 * days - 1)
    received = query.counts(engine, ["district", "category1", "category2"], previous_start, day, False, district)
    closed = query.counts(engine, ["district"], start, day, True, district)
    now, then = received[received["day"] >= pd.Timestamp(start)], received[received["day"] < pd.Timestamp(start)]
    alerts = week_alerts(engine, scheme, day, district)
    tables = {
        "概况": _overview(now, then, closed, scheme),
        "各区": _districts(now, then, closed, scheme),
        "高频事项": with_change(_volumes(now, ["category1", "category2"]), _volumes(then, ["category1", "category2"]),
                            ["category1", "category2"]).head(TOP),
        "预警": alerts[["district", "township", "category1", "orders", "expected", "ratio"]].head(TOP),
    }
    return Bulletin(title, before, start, day, scheme, setting(engine, "synthetic") == "1", tables)


def _volumes(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    table = total_counts(counts, by)[[*by, "orders"]]
    return table.sort_values("orders", ascending=False, kind="stable").reset_index(drop=True)


def _overview(now: pd.DataFrame, then: pd.DataFrame, closed: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    rates = unit_rates(closed, [], scheme)
    return pd.DataFrame([{
        "orders": int(now["orders"].sum()), "previous_orders": int(then["orders"].sum()),
        "closed": int(closed["closed"].sum()), "callbacks": int(rates["callbacks"].iloc[0]),
        **{f"{r}_rate": rates[f"{r}_rate"].iloc[0] for r in RATES}}])


def _districts(now: pd.DataFrame, then: pd.DataFrame, closed: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    volumes = with_change(_volumes(now, ["district"]), _volumes(then, ["district"]), ["district"])
    rates = unit_rates(closed, ["district"], scheme)[["district", "closed", "callbacks", "resolution_rate",
                                                      "satisfaction_rate"]]
    return volumes.merge(rates, on="district", how="left")
