"""日通报 / 周汇总 and the CLI commands alerts and daily, on a small hand-made city (SQLite and PostgreSQL)."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pandas as pd
import pytest

import cli
from figures.alerts import week_alerts
from figures.bulletin import bulletin
from metrics.config import load_scheme
from report.daily import bulletin_text, bulletin_workbook
from store.ingest import ingest_file

DAY = date(2024, 5, 26)  # a Sunday; the 9 weeks before it run from 2024-03-25


def _export() -> bytes:
    """9 weeks ending on DAY. 甲街道 and 乙街道 (朝阳区) have 2 物业管理 orders a week; in the last week 甲 has 12.
    On DAY itself 3 orders (甲 物业 ×2 resolved+满意, 丙 噪音 ×1 unresolved 不满意), the day before 1; every
    order is closed the day it came in, with a valid callback."""
    rows = []

    def order(day: date, town: str, category: str, resolved: str = "是", satisfied: str = "满意") -> None:
        district = "海淀区" if town == "中关村街道" else "朝阳区"
        rows.append({"工单编号": f"D{len(rows)}", "来电时间": f"{day} 09:00", "办结时间": f"{day} 17:00",
                     "被反映区": district, "被反映街乡镇": town, "一级分类": category, "二级分类": category + "类",
                     "标题": category, "是否有效回访": "是", "是否联系": "是", "是否解决": resolved, "是否满意": satisfied})

    for week in range(8, 0, -1):
        monday = DAY - timedelta(days=7 * week + 6)
        for town in ("建外街道", "三里屯街道"):
            order(monday, town, "物业管理")
            order(monday + timedelta(days=2), town, "物业管理")
    for k in range(10):  # 甲 = 建外街道: 12 in the last week (10 on Monday–Wednesday, 2 on DAY)
        order(DAY - timedelta(days=6 - k % 3), "建外街道", "物业管理")
    order(DAY - timedelta(days=4), "三里屯街道", "物业管理")
    order(DAY - timedelta(days=2), "三里屯街道", "物业管理")
    order(DAY - timedelta(days=1), "中关村街道", "噪音扰民")
    order(DAY, "建外街道", "物业管理")
    order(DAY, "建外街道", "物业管理")
    order(DAY, "中关村街道", "噪音扰民", resolved="否", satisfied="不满意")
    return pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")


@pytest.fixture
def city(engine):
    result = ingest_file(engine, _export(), "九周.csv", now=pd.Timestamp("2024-06-01"))
    assert result.rejected == 0
    return engine


def test_daily_bulletin(city):
    b = bulletin(city, load_scheme(), DAY, 1)
    head = b.tables["概况"].iloc[0]
    # DAY: 3 orders, the day before 1; all 3 closed with callbacks: resolved 2/3, satisfied 2/3, contacted 3/3
    assert (head["orders"], head["previous_orders"], head["closed"], head["callbacks"]) == (3, 1, 3, 3)
    assert head["resolution_rate"] == pytest.approx(2 / 3) and head["response_rate"] == 1
    text = bulletin_text(b)
    assert text.startswith("接诉即办日通报（2024-05-26）")
    assert "受理 3 件，较前一日+2 件（+200.0%）" in text
    assert "解决率 66.7%" in text
    assert "物业管理/物业管理类 2 件" in text


def test_weekly_bulletin_with_its_alert(city):
    b = bulletin(city, load_scheme(), DAY, 7)
    head = b.tables["概况"].iloc[0]
    # last week: 甲 12 + 乙 2 + 中关村 2 = 16; the week before: 2 + 2 = 4
    assert (head["orders"], head["previous_orders"]) == (16, 4)
    # 甲's 物业管理: 12 against 2 a week, its only peer 乙 flat (season 1): expected 2, ratio 6
    alerts = b.tables["预警"]
    assert alerts[["township", "category1", "orders"]].values.tolist() == [["建外街道", "物业管理", 12]]
    assert alerts["expected"].iloc[0] == pytest.approx(2.0)
    assert week_alerts(city, load_scheme(), DAY)["alert_key"].tolist() == ["week|2024-05-20至05-26|朝阳区|建外街道|物业管理"]
    text = bulletin_text(b)
    assert "接诉即办周汇总（2024-05-20 至 2024-05-26）" in text
    assert "建外街道 物业管理：12 件，约为预期 2.0 件的 6.0 倍" in text
    sheets = pd.read_excel(io.BytesIO(bulletin_workbook(b)), sheet_name=None)
    assert list(sheets) == ["说明", "概况", "各区", "高频事项", "预警"]
    assert sheets["预警"]["街乡镇"].tolist() == ["建外街道"]
    assert sheets["说明"]["内容"].iloc[0] == "接诉即办周汇总（2024-05-20 至 2024-05-26）"


def test_cli_alerts_and_daily(city, db_url, tmp_path, capsys):
    # by month: nine weeks of orders are no baseline for May 2024 (the 6 months before): no alert lines, a reason
    assert cli.main(["alerts", "--period", "2024-05", "--db", db_url, "--json"]) == 0
    printed = capsys.readouterr()
    assert printed.out == "" and "历史数据不足" in printed.err and "2023-11-01" in printed.err
    out = tmp_path / "周汇总.xlsx"
    assert cli.main(["daily", "--date", "2024-05-26", "--week", "--db", db_url, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "接诉即办周汇总（2024-05-20 至 2024-05-26）" in printed and out.stat().st_size > 0
    with pytest.raises(SystemExit):
        cli.main(["daily", "--date", "2024-13-01", "--db", db_url])
    assert "日期应写作“年-月-日”" in capsys.readouterr().err
    assert cli.main(["alerts", "--period", "2024年5月", "--db", db_url]) == 2
    assert "考核周期应写作" in capsys.readouterr().err
