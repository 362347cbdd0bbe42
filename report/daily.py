"""日通报 and 周汇总 (figures.bulletin) as the text the data team circulates and as a workbook (report.xlsx)."""
from __future__ import annotations

import pandas as pd

from figures.bulletin import Bulletin
from metrics.rates import RATES
from report import SYNTHETIC_WARNING
from report.xlsx import tables_workbook

_NO_DATA = "无数据"

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
