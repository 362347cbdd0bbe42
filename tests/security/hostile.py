"""A month of orders written to hurt: unit and category names full of quotes, semicolons and SQL keywords,
titles that are formulas or scripts, and a caller's name, phone and ID number in every row."""
from __future__ import annotations

import pandas as pd

PERIOD = "2025-11"
CALLER, PHONE, ID_NUMBER = "张三丰", "13912345678", "110101199003071234"
PERSONAL = (CALLER, PHONE, ID_NUMBER)
UNITS = [
    "O'Brien\"; DROP TABLE orders;--有限公司",
    "市'; DELETE FROM uploads WHERE '1'='1",
    "SELECT * FROM counts_place; --集团",
    "=cmd|' /C calc'!A0",
    "<script>alert('单位')</script>有限公司",
    "Robert'); DROP TABLE meta;-- % _ \\ 市级部门",
]
CATEGORIES = [
    "城建'); DROP TABLE orders;--",
    "\"; UPDATE orders SET resolved = 1; --",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "<b>粗</b>&amp; <img src=x onerror=alert(1)>",
    "100% _通配_ \\ 反斜杠 OR 1=1",
]
SCRIPT = "<script>alert('x')</script>"
TITLES = [SCRIPT, "=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "普通标题"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ORDERS = 90


def hostile_export() -> bytes:
    """A Beijing export (UTF-8 with BOM) of 90 orders in November 2025, 15 per hostile unit."""
    rows = []
    for i in range(ORDERS):
        title = TITLES[i // 2 % len(TITLES)]  # every title in both districts
        received = pd.Timestamp("2025-11-01 09:00") + pd.Timedelta(days=i % 30, minutes=i)
        rows.append({
            "工单编号": f"H{i:03d}", "来电时间": f"{received:%Y-%m-%d %H:%M}",
            "被反映区": "朝阳区" if i % 2 else "海淀区", "被反映街乡镇": "建外街道" if i % 2 else "万寿路街道",
            "主办单位": UNITS[i % len(UNITS)], "一级分类": CATEGORIES[i % len(CATEGORIES)], "工单类型": "投诉",
            "标题": title, "主要内容": f"来电人{CALLER}，电话{PHONE}，身份证{ID_NUMBER}，反映：{title}",
            "来电人": CALLER, "来电人电话": PHONE, "身份证号": ID_NUMBER,
            "办结时间": f"{received + pd.Timedelta(days=1):%Y-%m-%d %H:%M}",
            "是否联系": "是", "是否解决": "是" if i % 3 else "否", "是否满意": ["满意", "基本满意", "不满意"][i % 3],
        })
    return pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")


def misplaced_export() -> bytes:
    """Rows to reject, with the caller's name, phone and ID number in the wrong columns (a shifted export)."""
    header = "工单编号,来电时间,被反映区,主要内容,来电人,来电人电话,身份证号"
    personal = f"{CALLER},{PHONE},{ID_NUMBER}"
    rows = [f"M1,2025-11-05 10:00,{CALLER},电话{PHONE},{personal}", f"M2,{ID_NUMBER},朝阳区,无,{personal}",
            f"M3,2025-11-05 10:00,{PHONE},无,{personal}", f"M4,2025-11-05 10:00,朝阳区,{CALLER}来电,{personal}"]
    return "\r\n".join([header, *rows]).encode("utf-8")


def risky_cell(value: object) -> bool:
    """A text cell a spreadsheet would run as a formula (a plain negative number is only a number)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False
