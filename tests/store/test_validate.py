"""store.validate: raw strings to checked values; every problem named by row, column and a reason in Chinese."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.mapping import load_mapping, resolve
from store.profile import load_profile, open_profile
from store.read import read_table
from store.validate import checked_orders
from tests.store.helpers import NOW, csv_bytes, problems_by_row

BEIJING = load_profile("beijing")
OPEN = open_profile()


def check(text: str, profile=BEIJING, mapping: str | None = None, now=NOW):
    raw = read_table(csv_bytes(text), "x.csv").frame
    return checked_orders(raw, resolve(load_mapping(mapping), [c for c in raw.columns if c != "_row"]),
                          profile, now)


HEADER = ["工单编号", "来电时间", "办结时间", "被反映区", "被反映街乡镇", "是否满意", "工单类型", "是否解决",
          "纬度", "经度", "办理时限"]
GOOD = {"来电时间": "2024/3/5 14:03:00", "办结时间": "2024-03-06 10:00", "被反映区": "朝阳区",
        "被反映街乡镇": "建外街道", "是否满意": "满意", "工单类型": "投诉", "是否解决": "是", "纬度": "39.9",
        "经度": "116.4", "办理时限": "7天"}


def _file(bad: dict[str, str]) -> str:
    """Three rows: good (row 2), the bad one (row 3), good (row 4)."""
    rows = [{"工单编号": "G1", **GOOD}, {"工单编号": "B1", **GOOD, **bad}, {"工单编号": "G2", **GOOD}]
    return "\n".join([",".join(HEADER)] + [",".join(r[h] for h in HEADER) for r in rows])


BAD_CELLS = {
    "unparseable date": ({"来电时间": "2024-13-45 25:00"}, "来电时间",
                         "无法识别的日期时间，应如 2024/3/5 14:03:00 或 2024-03-05 14:03"),
    "words for a date": ({"来电时间": "昨天下午"}, "来电时间", "无法识别的日期时间，应如 2024/3/5 14:03:00 或 2024-03-05 14:03"),
    "empty required date": ({"来电时间": ""}, "来电时间", "必填字段「受理时间」为空"),
    "future 受理": ({"来电时间": "2099-01-01 08:00", "办结时间": ""}, "来电时间", "日期晚于当前时间"),
    "future 办结": ({"办结时间": "2024-06-03 00:00"}, "办结时间", "日期晚于当前时间"),
    "before 2000": ({"来电时间": "1999-12-31 23:00"}, "来电时间", "日期早于 2000 年，疑为录入错误"),
    "办结 before 受理": ({"办结时间": "2024-03-05 14:02"}, "办结时间", "办结时间早于受理时间"),
    "district short name": ({"被反映区": "朝阳"}, "被反映区", "未知的区「朝阳」，是否应为「朝阳区」？"),
    "district typo": ({"被反映区": "朝杨区", "被反映街乡镇": ""}, "被反映区", "未知的区「朝杨区」，是否应为「朝阳区」？"),
    "empty district": ({"被反映区": ""}, "被反映区", "必填字段「区」为空"),
    "township short name": ({"被反映街乡镇": "建外"}, "被反映街乡镇",
                            "未知的街乡镇（朝阳区）「建外」，是否应为「建外街道」？"),
    "township of another district": ({"被反映街乡镇": "万寿路街道"}, "被反映街乡镇",
                                     "「万寿路街道」属于海淀区，不属于朝阳区"),
    "bad satisfaction": ({"是否满意": "很好"}, "是否满意", "取值无效，应为：满意/基本满意/不满意"),
    "bad request type": ({"工单类型": "闲聊"}, "工单类型", "取值无效，应为：咨询/求助/投诉/举报/建议/表扬/其他"),
    "bad yes/no": ({"是否解决": "也许"}, "是否解决", "应为 是/否"),
    "outside Beijing": ({"纬度": "31.23", "经度": "121.47"}, "纬度", "坐标不在北京市范围内"),
    "latitude only": ({"经度": ""}, "纬度", "经度、纬度须同时填写"),
    "not a number": ({"纬度": "北纬39度"}, "纬度", "不是有效的数字"),
    "bad time limit": ({"办理时限": "尽快"}, "办理时限", "不是有效的数字"),
}


@pytest.mark.parametrize("bad, column, reason", BAD_CELLS.values(), ids=BAD_CELLS.keys())
def test_a_bad_cell_rejects_its_row_only(bad, column, reason):
    checked = check(_file(bad))
    assert checked.orders["order_id"].tolist() == ["G1", "G2"]
    assert checked.orders["_row"].tolist() == [2, 4]
    problems = problems_by_row(checked.problems)
    assert list(problems) == [3]
    assert (column, reason) in problems[3]


def test_a_good_file_has_no_problems_and_typed_values():
    checked = check(_file({}))
    assert checked.problems.empty
    row = checked.orders.iloc[1]
    assert row["order_id"] == "B1"
    assert row["received_at"] == pd.Timestamp("2024-03-05 14:03")
    assert row["closed_at"] == pd.Timestamp("2024-03-06 10:00")
    assert row["satisfaction"] == "满意" and row["request_type"] == "投诉"
    assert bool(row["resolved"]) is True
    assert (row["lat"], row["lon"], row["time_limit_hours"]) == (39.9, 116.4, 168.0)


@pytest.mark.parametrize("cell", ["2024/3/5 14:03:00", "2024-03-05 14:03", "2024/03/05 14:03", "2024-3-5 14:03:00",
                                  "2024年3月5日 14:03", "2024-03-05T14:03:00"])
def test_date_formats_excel_writes(cell):
    checked = check(f"工单编号,来电时间,被反映区\nA1,{cell},朝阳区\n")
    assert checked.problems.empty
    assert checked.orders["received_at"].tolist() == [pd.Timestamp("2024-03-05 14:03")]


def test_a_file_mixing_both_date_styles():
    checked = check("工单编号,来电时间,被反映区\nA1,2024/3/5 14:03:00,朝阳区\nA2,2024-03-06 09:30,朝阳区\n"
                    "A3,2024/12/31 23:59:59,朝阳区\n", now=pd.Timestamp("2025-01-01"))
    assert checked.problems.empty
    assert checked.orders["received_at"].tolist() == [
        pd.Timestamp("2024-03-05 14:03"), pd.Timestamp("2024-03-06 09:30"), pd.Timestamp("2024-12-31 23:59:59")]


def test_a_date_within_a_day_of_now_is_accepted():
    checked = check("工单编号,来电时间,被反映区\nA1,2024-06-02 11:00,朝阳区\nA2,2024-06-02 13:00,朝阳区\n")
    assert checked.orders["order_id"].tolist() == ["A1"]
    assert problems_by_row(checked.problems) == {3: [("来电时间", "日期晚于当前时间")]}


def test_duplicate_ids_in_the_file_keep_the_first():
    checked = check("工单编号,来电时间,被反映区\nA1,2024-03-05 08:00,朝阳区\nA2,2024-03-05 09:00,朝阳区\n"
                    "A1,2024-03-05 10:00,海淀区\n")
    assert checked.orders["order_id"].tolist() == ["A1", "A2"]
    assert checked.orders["district"].tolist() == ["朝阳区", "朝阳区"]
    assert problems_by_row(checked.problems) == {4: [("工单编号", "与第 2 行的工单编号重复")]}


def test_duplicate_id_reason_names_an_integer_row_when_an_id_is_empty():
    checked = check("工单编号,来电时间,被反映区\n,2024-03-05 08:00,朝阳区\nA2,2024-03-05 09:00,朝阳区\n"
                    "A2,2024-03-05 10:00,朝阳区\n")
    assert problems_by_row(checked.problems) == {2: [("工单编号", "必填字段「工单编号」为空")],
                                                 4: [("工单编号", "与第 3 行的工单编号重复")]}


def test_a_row_with_several_problems_lists_each():
    checked = check("工单编号,来电时间,被反映区,是否满意\nA1,2024-03-05 08:00,朝阳,很好\n")
    assert checked.orders.empty
    assert sorted(problems_by_row(checked.problems)[2]) == [
        ("是否满意", "取值无效，应为：满意/基本满意/不满意"), ("被反映区", "未知的区「朝阳」，是否应为「朝阳区」？")]


@pytest.mark.parametrize("header, cell, excluded", [
    ("是否保留", "保留", False), ("是否保留", "剔除", True), ("是否保留", "是", False), ("是否保留", "否", True),
    ("是否保留", "", False), ("是否剔除", "是", True), ("是否剔除", "否", False), ("是否剔除", "剔除", True),
])
def test_keep_or_exclude_flag(header, cell, excluded):
    checked = check(f"工单编号,来电时间,被反映区,{header}\nA1,2024-03-05 08:00,朝阳区,{cell}\n")
    assert checked.problems.empty
    assert checked.orders["excluded"].tolist() == [excluded]


def test_callback_validity_defaults_to_whether_the_callback_was_answered():
    checked = check("工单编号,来电时间,被反映区,是否联系,是否满意,是否有效回访\n"
                    "A1,2024-03-05 08:00,朝阳区,是,,\n"
                    "A2,2024-03-05 08:00,朝阳区,,基本满意,\n"
                    "A3,2024-03-05 08:00,朝阳区,,,\n"
                    "A4,2024-03-05 08:00,朝阳区,是,满意,否\n")
    # A3 has no answer and no 是否有效回访: unknown (NA), not "invalid", so a later file cannot undo a callback.
    assert checked.orders["callback_valid"].astype(object).where(checked.orders["callback_valid"].notna(), None
                                                                 ).tolist() == [True, True, None, False]
    assert checked.orders["satisfaction"].fillna("").tolist() == ["", "基本满意", "", "满意"]


@pytest.mark.parametrize("cell, expected", [("满意", "满意"), ("非常满意", "满意"), ("比较满意", "基本满意"),
                                            ("基本满意", "基本满意"), ("Very Dissatisfied", "不满意"),
                                            ("ＳＡＴＩＳＦＩＥＤ", "满意")])
def test_satisfaction_words(cell, expected):
    checked = check(f"工单编号,来电时间,被反映区,是否满意\nA1,2024-03-05 08:00,朝阳区,{cell}\n")
    assert checked.orders["satisfaction"].tolist() == [expected]


@pytest.mark.parametrize("cell, hours", [("24", 24.0), ("24小时", 24.0), ("2h", 2.0), ("7天", 168.0),
                                         ("15 日", 360.0), ("3工作日", 72.0)])
def test_time_limit_in_hours(cell, hours):
    checked = check(f"工单编号,来电时间,被反映区,办理时限\nA1,2024-03-05 08:00,朝阳区,{cell}\n")
    assert checked.orders["time_limit_hours"].tolist() == [hours]


def test_handler_and_its_type_are_inferred():
    checked = check("工单编号,来电时间,被反映区,被反映街乡镇,主办单位\n"
                    "A1,2024-03-05 08:00,朝阳区,建外街道,\n"
                    "A2,2024-03-05 08:00,朝阳区,,\n"
                    "A3,2024-03-05 08:00,朝阳区,建外街道,建外街道办事处\n"
                    "A4,2024-03-05 08:00,朝阳区,,朝阳区城管委\n"
                    "A5,2024-03-05 08:00,朝阳区,,北京市自来水集团有限责任公司\n"
                    "A6,2024-03-05 08:00,朝阳区,,市交通委\n")
    assert checked.orders["handler"].tolist() == ["建外街道", "朝阳区", "建外街道办事处", "朝阳区城管委",
                                                  "北京市自来水集团有限责任公司", "市交通委"]
    assert checked.orders["handler_type"].tolist() == ["街乡镇", "区", "街乡镇", "区", "企业", "市级部门"]


def test_open_profile_accepts_any_unit_but_not_impossible_coordinates():
    checked = check("Unique Key,Created Date,Borough,Community Board,Latitude,Longitude,Agency\n"
                    "1,03/05/2024 08:00:00 PM,BROOKLYN,01 BROOKLYN,40.7,-73.9,NYPD\n"
                    "2,03/05/2024 08:00:00 AM,QUEENS,,100,-200,DOT\n", profile=OPEN, mapping="nyc311")
    assert checked.orders["district"].tolist() == ["BROOKLYN"]
    assert checked.orders["township"].tolist() == ["01 BROOKLYN"]
    assert checked.orders["received_at"].tolist() == [pd.Timestamp("2024-03-05 20:00")]
    assert checked.orders["handler"].tolist() == ["NYPD"]
    assert checked.orders["handler_type"].tolist() == ["市级部门"]
    assert problems_by_row(checked.problems) == {3: [("Latitude", "坐标不在有效经纬度范围内")]}


CELLS = {
    "工单编号": st.sampled_from(["A1", "A2", "A3", "", "B7"]),
    "来电时间": st.sampled_from(["2024/3/5 14:03:00", "2024-03-05 14:03", "", "昨天", "2099-01-01", "1990-01-01"]),
    "办结时间": st.sampled_from(["", "2024-03-06 10:00", "2024-03-01 10:00", "不详"]),
    "被反映区": st.sampled_from(["朝阳区", "海淀区", "朝阳", "", "上海"]),
    "被反映街乡镇": st.sampled_from(["", "建外街道", "万寿路街道", "建外"]),
    "是否满意": st.sampled_from(["", "满意", "基本满意", "很好"]),
    "纬度": st.sampled_from(["", "39.9", "31.2", "abc"]),
    "经度": st.sampled_from(["", "116.4", "121.5"]),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=12))
def test_every_row_is_either_accepted_or_rejected(rows):
    raw = pd.DataFrame(rows, columns=list(CELLS), dtype=str)
    raw["_row"] = range(2, len(rows) + 2)
    checked = checked_orders(raw, resolve(load_mapping(None), list(CELLS)), BEIJING, NOW)
    accepted, rejected = set(checked.orders["_row"]), set(checked.problems["row"])
    assert accepted.isdisjoint(rejected)
    assert accepted | rejected == set(raw["_row"])
    assert checked.orders["order_id"].is_unique
    assert checked.orders["order_id"].notna().all() and checked.orders["received_at"].notna().all()
    assert all(isinstance(r, str) and r for r in checked.problems["reason"])
