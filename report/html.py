"""The 排名通报 as one printable, self-contained HTML page. Government networks have no internet, so
the charts are inline SVG rendered here (vl-convert), not Vega scripts fetched by the browser; every
text from the data is escaped."""
from __future__ import annotations

from html import escape

import altair as alt
import pandas as pd
import vl_convert

from metrics.ranking import BLACK_LIST, RED_LIST
from report import RANKING_SHEETS, SYNTHETIC_WARNING, TITLE, Kind, Report, about, column_kind, labelled
from report.charts import score_chart, trend_chart

_ROW_CLASS = {RED_LIST: "red", BLACK_LIST: "black"}
_WRAP_FROM = 24  # characters: text columns with longer values wrap, the others stay on one line
_STYLE = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "SimHei", sans-serif; color: #222;
       margin: 24px; font-size: 10pt; }
h1 { font-size: 18pt; margin: 0 0 8px; }
h2 { font-size: 13pt; margin: 28px 0 8px; border-bottom: 2px solid #c0392b; padding-bottom: 3px;
     break-after: avoid; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #ccc; padding: 2px 5px; vertical-align: top; }
td { white-space: nowrap; }
td.wrap { white-space: normal; min-width: 20em; }
th { background: #f2f2f2; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.percent, td.decimal, td.integer, td.signed { text-align: right; font-variant-numeric: tabular-nums; }
tr.red td { background: #fdecea; }
tr.black td { background: #e6e6e6; }
table.about th { text-align: left; white-space: nowrap; }
table.about td { white-space: normal; }
.warning { border: 2px solid #c0392b; color: #c0392b; padding: 6px 10px; font-weight: 600; margin: 8px 0; }
.chart { margin: 8px 0; break-inside: avoid; }
.legend { color: #555; }
@media print { body { margin: 0; font-size: 8pt; } th { font-size: 7.5pt; } }
"""


def page(report: Report) -> str:
    """The whole page: the header naming period, scope and scheme, then each table of the report, the
    三率 trend beside the summary and the districts' scores beside their ranking."""
    districts = RANKING_SHEETS["district"]
    charts = {"汇总": trend_chart(report.trend), districts: score_chart(report.tables[districts], "district")}
    sections = "".join(
        f"<section><h2>{escape(title)}</h2>{_svg(charts[title]) if title in charts else ''}{_table(table)}</section>"
        for title, table in report.tables.items())
    heading = f"{TITLE} · {report.period}"
    warning = f'<p class="warning">{escape(SYNTHETIC_WARNING)}</p>' if report.synthetic else ""
    facts = "".join(f"<tr><th>{escape(key)}</th><td>{escape(text)}</td></tr>" for key, text in about(report))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(heading)}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{escape(heading)}</h1>{warning}"
            f'<table class="about">{facts}</table>'
            f'<p class="legend">表中红底为红榜，灰底为黑榜；“—”表示无数据或未排名。</p>{sections}</body></html>')


def _svg(chart: alt.TopLevelMixin) -> str:
    # Vega's SVG renderer escapes the texts it draws.
    return f'<div class="chart">{vl_convert.vegalite_to_svg(chart.to_dict())}</div>'


def _table(table: pd.DataFrame) -> str:
    shown = labelled(table)
    kinds = [column_kind(c) for c in table.columns]
    classes = [f"{kind} wrap" if kind == "text" and shown[c].astype("str").str.len().max() > _WRAP_FROM else kind
               for kind, c in zip(kinds, shown.columns)]
    head = "".join(f"<th>{escape(str(c))}</th>" for c in shown.columns)
    honours = table["honour"] if "honour" in table else pd.Series("", index=table.index)
    rows = []
    for honour, values in zip(honours, shown.itertuples(index=False)):
        css = f' class="{_ROW_CLASS[honour]}"' if honour in _ROW_CLASS else ""
        cells = "".join(f'<td class="{css_class}">{escape(_cell(value, kind))}</td>'
                        for value, kind, css_class in zip(values, kinds, classes))
        rows.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(value: object, kind: Kind) -> str:
    if pd.isna(value):
        return "—"
    if kind == "percent":
        return f"{value:.1%}"
    if kind == "decimal":
        return f"{value:.2f}"
    if kind == "integer":
        return f"{int(value):,}"
    if kind == "signed":
        return f"{int(value):+d}" if value else "0"
    return str(value)
