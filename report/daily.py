"""日通报 and 周汇总: the day's (or the 7 days') volumes, 三率, busiest districts, top issues and early warnings,
as the text the data team circulates and as a workbook (report.xlsx)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine

from figures.alerts import week_alerts
from metrics.hot import with_change
from metrics.rates import RATES, total_counts, unit_rates
from metrics.scheme import Scheme
from report import SYNTHETIC_WARNING
from report.xlsx import tables_workbook
from store import query
from store.db import setting

KINDS = {1: ("日通报", "前一日"), 7: ("周汇总", "上周")}
TOP = 10
_NO_DATA = "无数据"


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


def _pct(value: float) -> str:
    return _NO_DATA if pd.isna(value) else f"{value:.1%}"


def _signed(change: int, growth: float) -> str:
    return f"{change:+,d} 件" + ("" if pd.isna(growth) else f"（{growth:+.1%}）")


def bulletin_text(b: Bulletin) -> str:
    """The bulletin as the plain text the data team circulates."""
    head = b.tables["概况"].iloc[0]
    change = int(head["orders"] - head["previous_orders"])
    growth = change / head["previous_orders"] if head["previous_orders"] else float("nan")
    lines = [f"接诉即办{b.title}（{b.span}）", ""]
    if b.synthetic:
        lines += [f"注意：{SYNTHETIC_WARNING}", ""]
    lines.append(f"一、受理情况：受理 {int(head['orders']):,d} 件，较{b.before}{_signed(change, growth)}；"
                 f"办结 {int(head['closed']):,d} 件。")
    rates = "、".join(f"{zh} {_pct(head[f'{r}_rate'])}" for r, zh in RATES.items())
    lines.append(f"二、三率（办结工单的有效回访 {int(head['callbacks']):,d} 条，考核口径）：{rates}。")
    districts = b.tables["各区"].head(5)
    lines.append("三、受理量较多的区：" + ("；".join(
        f"{row.district} {row.orders:,d} 件（较{b.before}{row.change:+,d}）" for row in districts.itertuples())
        or "无") + "。")
    lines.append("四、高频事项：")
    lines += [f"  {i}. {row.category1 or '（未注明）'}/{row.category2 or '（未注明）'} {row.orders:,d} 件，"
              f"较{b.before}{_signed(row.change, row.growth)}"
              for i, row in enumerate(b.tables["高频事项"].itertuples(), start=1)] or ["  无"]
    lines.append("五、预警（近 7 天受理量与此前 8 周相比异常升高的 街乡镇 × 一级分类）：")
    lines += [f"  {i}. {row.district} {row.township} {row.category1}：{row.orders:,d} 件，约为预期 "
              f"{row.expected:.1f} 件的 {row.ratio:.1f} 倍" for i, row in enumerate(b.tables["预警"].itertuples(), start=1)
              ] or ["  未发现异常升高的事项。"]
    lines += ["", f"考评方案：{b.scheme.title}（{b.scheme.content_hash}）。本通报不含来电人姓名、电话等个人信息。"]
    return "\n".join(lines)


_LABELS = {"previous_orders": "上期受理量", "change": "变化", "category1": "一级分类",
           "category2": "二级分类", "expected": "预期受理量", "ratio": "倍数"}


def bulletin_workbook(b: Bulletin) -> bytes:
    """The bulletin as .xlsx: a 说明 sheet with the text, then its tables."""
    about = pd.DataFrame({"内容": bulletin_text(b).splitlines()})
    # growth is in the text; a sheet shows the counts it comes from
    sheets = {t: table.drop(columns="growth", errors="ignore").rename(columns=_LABELS) for t, table in b.tables.items()}
    return tables_workbook({"说明": about, **sheets})
