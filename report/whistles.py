"""The year-end 双考评 workbook of 吹哨报到: a 说明 sheet, the departments' and the townships' tables."""
from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

from figures.whistles import DEPARTMENT_COLUMNS, TOWNSHIP_COLUMNS, TOWNSHIP_LABELS, labelled
from metrics.whistles import WhistleScheme
from report import SYNTHETIC_WARNING
from report.xlsx import safe_for_spreadsheet

TITLE = "吹哨报到 年度双考评"
_FORMATS = {"率": "0.0%", "占比": "0.0%", "得分": "0.00", "得分下限": "0.00", "得分上限": "0.00"}


def about(year: int, rules: WhistleScheme, synthetic: bool, generated_at: datetime) -> pd.DataFrame:
    """What the workbook says about itself: year, scheme and hash, the 报到 limits, the bases."""
    limits = "、".join(f"{level} {hours:g} 小时" for level, hours in rules.report_hours.items())
    items = [("报告", TITLE), ("年度", f"{year} 年（按吹哨时间）"), ("考评方案", f"{rules.title}（{rules.name}）"),
             ("方案指纹", rules.content_hash), ("报到时限", limits), ("生成时间", f"{generated_at:%Y-%m-%d %H:%M}")]
    if synthetic:
        items.append(("数据", SYNTHETIC_WARNING))
    bases = (f"部门被吹哨少于 {rules.min_calls} 次、街乡镇吹哨少于 {rules.min_whistles} 次标为样本不足，不参与排名；"
             "各比较组分别排名，得分区间重叠者为统计并列。")
    items.append(("口径", bases))
    return pd.DataFrame(items, columns=["项目", "内容"])


def workbook(departments: pd.DataFrame, townships: pd.DataFrame, about_sheet: pd.DataFrame) -> bytes:
    """The .xlsx: 说明, 部门考评 (all peer groups, best first in each), 街乡镇考评; rates as percentages."""
    sheets = {"说明": about_sheet, "部门考评": labelled(departments, DEPARTMENT_COLUMNS),
              "街乡镇考评": labelled(townships, TOWNSHIP_COLUMNS, TOWNSHIP_LABELS)}
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for title, table in sheets.items():
            safe_for_spreadsheet(table).to_excel(writer, sheet_name=title, index=False, freeze_panes=(1, 0))
            sheet = writer.sheets[title]
            for position, header in enumerate(table.columns, start=1):
                number_format = next((f for end, f in _FORMATS.items() if str(header).endswith(end)), None)
                for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position) if number_format else ():
                    cell.number_format = number_format
                sheet.column_dimensions[sheet.cell(1, position).column_letter].width = max(10, 2 * len(str(header)) + 2)
            sheet.auto_filter.ref = sheet.dimensions
    return buffer.getvalue()
