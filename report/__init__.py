"""The monthly 排名通报 as files: the tables of figures.report written as a workbook (report.xlsx) and as
a printable HTML page (report.html). No streamlit here, so the CLI and the report page share it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pandas as pd
from sqlalchemy import Engine

from figures.overview import trend
from figures.report import (
    TOP_CATEGORIES,
    bottom_units,
    published_rankings,
    ranking_sheet,
    scheme_settings,
    summary,
)
from metrics.periods import period_bounds
from metrics.rates import COUNT_COLUMNS
from metrics.report import COLUMN_LABELS
from metrics.scheme import Scheme
from store.db import setting

TITLE = "接诉即办考评 排名通报"
SCOPE = "全市"  # the 排名通报 covers the whole city, whatever a page's district filter says
RANKING_SHEETS = {"district": "区排名", "street": "街乡镇排名", "unit": "市级部门与企业"}
SYNTHETIC_WARNING = "本报告基于合成示例数据，并非真实工单，仅供演示，不得作为考评依据。"
LABELS: dict[str, str] = COLUMN_LABELS | {
    "per_10k": "万人诉求比",
    "shortfalls": "短板（低于同组中位数的指标）",
    "top_categories": f"主要问题（受理量最多的 {TOP_CATEGORIES} 个一级分类，全口径）",
}
Kind = Literal["percent", "decimal", "integer", "signed", "text"]
_INTEGERS = {*COUNT_COLUMNS, "all_orders", "all_callbacks", "rank", "previous_rank", "tie_group"}


@dataclass(frozen=True)
class Report:
    period: str
    scheme: Scheme
    generated_at: datetime
    synthetic: bool  # the database holds the demo city, not real orders
    tables: dict[str, pd.DataFrame]  # sheet / section title -> table with the figures' column names
    trend: pd.DataFrame  # the city's 三率 over 12 periods, for the HTML chart


def build_report(engine: Engine, scheme: Scheme, period: str, generated_at: datetime | None = None) -> Report:
    """The period's 排名通报, every table from the same figures functions as the pages."""
    rankings = published_rankings(engine, scheme, period)
    tables = {
        "汇总": summary(engine, scheme, period),
        **{RANKING_SHEETS[level]: ranking_sheet(table, level) for level, table in rankings.items()},
        "重点关注单位": bottom_units(engine, scheme, period, rankings),
        "考评方案": scheme_settings([scheme]),
    }
    return Report(period, scheme, generated_at or datetime.now(), setting(engine, "synthetic") == "1", tables,
                  trend(engine, scheme, period))


def about(report: Report) -> list[tuple[str, str]]:
    """What the report says about itself (the 说明 sheet, the HTML header): period, scope, scheme and
    hash, generation time, the bases of the numbers and, for the demo city, that the data are invented."""
    start, end = period_bounds(report.period, report.scheme)
    scheme = report.scheme
    removed = "不计剔除工单" if scheme.exclude_removed else "计入剔除工单"
    items = [
        ("报告", TITLE),
        ("考核周期", f"{report.period}（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）"),
        ("范围", SCOPE),
        ("考评方案", f"{scheme.title}（{scheme.name}）"),
        ("方案指纹", scheme.content_hash),
        ("生成时间", f"{report.generated_at:%Y-%m-%d %H:%M}"),
    ]
    if report.synthetic:
        items.append(("数据", SYNTHETIC_WARNING))
    bases = (f"三率与综合得分按考核口径（{removed}），标“全口径”的列计入全部工单。有效回访少于 "
             f"{scheme.min_callbacks} 条的单位标为样本不足，不参与排名；红榜、黑榜为各比较组的前、后若干名。")
    return [*items, ("口径", bases), ("个人信息", "本报告不含来电人姓名、电话等个人信息。")]


def column_kind(column: str) -> Kind:
    """How a column of the figures is shown: rates as percentages, scores with decimals, counts and ranks
    as integers, rank changes with a sign."""
    if column.startswith("score") or column == "per_10k":
        return "decimal"
    if column.endswith(("_rate", "_low", "_high")):
        return "percent"
    if column == "rank_change":
        return "signed"
    return "integer" if column in _INTEGERS else "text"


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """The table as readers see it: Chinese headers, yes/no columns as 是/否."""
    out = table.copy()
    for column in out.columns[out.dtypes == bool]:
        out[column] = out[column].map({True: "是", False: "否"})
    return out.rename(columns=LABELS)
