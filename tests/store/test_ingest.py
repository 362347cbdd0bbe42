"""store.ingest: read -> map -> validate -> mask -> upsert in one transaction; nothing lost, nothing counted twice."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

import store.ingest
from store.ingest import ingest_file
from store.query import counts, quarantined_rows
from store.read import FileError
from tests.conftest import SHARED_DATA
from tests.store.helpers import (
    NOW,
    csv_bytes,
    ingest,
    problems_by_row,
    stored_orders,
    stored_quarantine,
    stored_uploads,
    table_counts,
)

BEIJING_EXPORT = """
工单编号,工单类型,一级分类,二级分类,三级分类,标签,标题,主要内容,工单状态,来电人,来电人电话,来电时间,被反映区,被反映街乡镇,村/社区,主办单位,办理结果,回复内容,办结时间,是否联系,是否解决,是否满意,是否有效回访,是否保留,截止时间,紧急程度
BJ001,投诉,城乡建设,物业管理,电梯故障,重点,电梯坏了,小区3号楼电梯停运三天,已办结,王小明,13812345678,2024/3/5 14:03:00,朝阳区,建外街道,建外社区,建外街道办事处,已联系物业维修,电梯已修复,2024/3/7 10:00:00,是,是,基本满意,是,保留,2024/3/12 14:03:00,一般
BJ002,咨询,公共服务,供暖,,,暖气不热,家里暖气温度低,处理中,李华,010-65001234,2024-03-06 09:15,海淀区,万寿路街道,,,,,,,,,,剔除,,紧急
"""


def test_beijing_export_loads_with_no_mapping(engine):
    result = ingest(engine, BEIJING_EXPORT)
    assert (result.read, result.accepted, result.rejected, result.inserted) == (2, 2, 0, 2)
    assert result.mapping == "自动识别表头"
    stored = stored_orders(engine)
    one = stored.loc["BJ001"]
    assert (one.request_type, one.category1, one.category2, one.category3) == ("投诉", "城乡建设", "物业管理", "电梯故障")
    assert (one.title, one.content, one.status) == ("电梯坏了", "小区3号楼电梯停运三天", "已办结")
    assert (one.district, one.township, one.community) == ("朝阳区", "建外街道", "建外社区")
    assert (one.handler, one.handler_type) == ("建外街道办事处", "街乡镇")
    assert one.reply == "已联系物业维修"  # 办理结果 is the reply; 回复内容 is its alias and not used twice
    assert pd.Timestamp(one.received_at) == pd.Timestamp("2024-03-05 14:03")
    assert pd.Timestamp(one.closed_at) == pd.Timestamp("2024-03-07 10:00")
    assert pd.Timestamp(one.deadline_at) == pd.Timestamp("2024-03-12 14:03")
    assert str(one.received_day) == "2024-03-05" and str(one.closed_day) == "2024-03-07"
    assert (one.contacted, one.resolved, one.satisfaction, one.callback_valid, one.excluded) == (
        True, True, "基本满意", True, False)
    assert one.urgency == "一般"
    two = stored.loc["BJ002"]
    # No callback recorded and no 是否有效回访: validity is unknown (None), which counts as no valid callback.
    assert (two.excluded, two.callback_valid, two.handler, two.handler_type) == (True, None, "万寿路街道", "街乡镇")
    assert two.contacted is None and two.satisfaction is None and two.closed_at is None
    assert two.urgency == "紧急"


def test_english_headers_load(engine):
    result = ingest(engine, """
Order ID,Received At,District,Street / Township,Satisfaction,Resolved,Contacted,Closed At,Excluded
E1,2024-03-05 08:00,朝阳区,建外街道,基本满意,yes,yes,2024-03-06 08:00,no
E2,2024-03-05 09:00,西城区,,,,,,yes
""")
    assert (result.accepted, result.rejected) == (2, 0)
    stored = stored_orders(engine)
    assert stored["district"].tolist() == ["朝阳区", "西城区"]
    assert stored["satisfaction"].tolist() == ["基本满意", None]
    assert stored["resolved"].tolist() == [True, None]
    assert stored["excluded"].tolist() == [False, True]


def test_header_aliases_load_alike(engine):
    ingest(engine, "工单编号,来电时间,被反映区,是否满意\nA1,2024-03-05 08:00,朝阳区,满意\n", name="a.csv")
    ingest(engine, "工单号,受理时间,区,满意度\nA2,2024-03-05 08:00,朝阳区,满意\n", name="b.csv")
    stored = stored_orders(engine)
    assert stored["order_id"].tolist() == ["A1", "A2"]
    assert stored["district"].tolist() == ["朝阳区", "朝阳区"]
    assert stored["satisfaction"].tolist() == ["满意", "满意"]
    assert [pd.Timestamp(t) for t in stored["received_at"]] == [pd.Timestamp("2024-03-05 08:00")] * 2


SMALL = """
工单编号,来电时间,被反映区,被反映街乡镇,主要内容,是否满意
S1,2024/3/5 14:03:00,朝阳区,建外街道,楼道堆物，影响通行,满意
S2,2024-03-05 14:03,东城区,景山街道,噪音扰民,不满意
"""


@pytest.mark.parametrize("encoding, reported", [("gbk", "gb18030"), ("utf-8-sig", "utf-8-sig")])
def test_gbk_and_bom_files_load(engine, encoding, reported):
    data = csv_bytes(SMALL, encoding)
    assert (data[:3] == b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    result = ingest_file(engine, data, "工单.csv", now=NOW)
    assert (result.encoding, result.accepted, result.rejected) == (reported, 2, 0)
    stored = stored_orders(engine)
    assert stored["content"].tolist() == ["楼道堆物，影响通行", "噪音扰民"]
    assert stored["township"].tolist() == ["建外街道", "景山街道"]
    assert stored["satisfaction"].tolist() == ["满意", "不满意"]


def test_same_orders_in_another_encoding_are_not_counted_twice(engine):
    first = ingest(engine, SMALL, encoding="gbk")
    second = ingest(engine, SMALL, encoding="utf-8-sig")
    assert second.duplicate_of is None  # different bytes: a new upload record ...
    assert (second.accepted, second.inserted, second.updated, second.unchanged) == (2, 0, 0, 2)  # ... changing nothing
    assert table_counts(engine)["orders"] == 2
    assert stored_uploads(engine)["id"].tolist() == [first.upload_id, second.upload_id]
    assert set(stored_orders(engine)["upload_id"]) == {first.upload_id}


def test_xlsx_file_loads(engine, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工单编号", "来电时间", "被反映区", "被反映街乡镇", "是否解决", "办结时间"])
    sheet.append(["X1", datetime(2024, 3, 5, 14, 3), "朝阳区", "建外街道", "是", datetime(2024, 3, 6, 9, 0)])
    sheet.append(["X2", datetime(2024, 3, 5, 15, 0), "朝阳", "", "否", None])
    sheet.append([20240307, "2024/3/7 8:30:00", "西城区", "", "", None])
    path = tmp_path / "工单.xlsx"
    book.save(path)
    result = ingest_file(engine, path.read_bytes(), path.name, now=NOW)
    assert (result.encoding, result.read, result.accepted, result.rejected) == ("xlsx", 3, 2, 1)
    stored = stored_orders(engine)
    assert stored["order_id"].tolist() == ["20240307", "X1"]
    assert pd.Timestamp(stored.loc["X1", "closed_at"]) == pd.Timestamp("2024-03-06 09:00")
    assert pd.Timestamp(stored.loc["20240307", "received_at"]) == pd.Timestamp("2024-03-07 08:30")
    assert problems_by_row(quarantined_rows(engine, result.upload_id)) == {
        3: [("被反映区", "未知的区「朝阳」，是否应为「朝阳区」？")]}


# One row per bad input of the issue, between good rows; row numbers as a spreadsheet shows them.
MIXED = """
工单编号,来电时间,办结时间,被反映区,被反映街乡镇,是否满意,纬度,经度
G1,2024/3/5 14:03:00,2024/3/6 10:00:00,朝阳区,建外街道,满意,39.91,116.45
G1,2024-03-05 15:00,,朝阳区,建外街道,,,
D1,2024-02-30 10:00,,朝阳区,,,,
D2,2099-01-01 08:00,,朝阳区,,,,
D3,2024-03-05 14:03,2024-03-04 09:00,朝阳区,,,,
U1,2024-03-05 14:03,,朝阳,,,,
U2,2024-03-05 14:03,,朝阳区,建外,,,
C1,2024-03-05 14:03,,朝阳区,,,31.23,121.47
E1,2024-03-05 14:03,,朝阳区,,很好,,
G2,2024-03-05 16:00,,海淀区,万寿路街道,,,
R1,2024-03-05 16:00,,海淀区
G3,2024-03-05 17:00,,西城区,,基本满意,39.91,116.37
"""
MIXED_PROBLEMS = {
    3: [("工单编号", "与第 2 行的工单编号重复")],
    4: [("来电时间", "无法识别的日期时间，应如 2024/3/5 14:03:00 或 2024-03-05 14:03")],
    5: [("来电时间", "日期晚于当前时间")],
    6: [("办结时间", "办结时间早于受理时间")],
    7: [("被反映区", "未知的区「朝阳」，是否应为「朝阳区」？")],
    8: [("被反映街乡镇", "未知的街乡镇（朝阳区）「建外」，是否应为「建外街道」？")],
    9: [("纬度", "坐标不在北京市范围内")],
    10: [("是否满意", "取值无效，应为：满意/基本满意/不满意")],
    12: [("（整行）", "该行有 4 列，表头有 8 列")],
}


def test_bad_rows_are_quarantined_and_good_rows_kept(engine):
    result = ingest(engine, MIXED)
    assert (result.read, result.accepted, result.rejected) == (12, 3, 9)
    assert result.read == result.accepted + result.rejected
    assert stored_orders(engine)["order_id"].tolist() == ["G1", "G2", "G3"]
    assert stored_orders(engine).loc["G1", "satisfaction"] == "满意"  # the first G1 is kept, not the duplicate
    assert problems_by_row(result) == MIXED_PROBLEMS
    assert problems_by_row(stored_quarantine(engine)) == MIXED_PROBLEMS
    upload = stored_uploads(engine).iloc[0]
    assert (upload.rows_read, upload.accepted, upload.rejected, upload.inserted) == (12, 3, 9, 3)


def test_quarantined_rows_download_as_csv(engine):
    result = ingest(engine, MIXED)
    rows = quarantined_rows(engine, result.upload_id)
    assert list(rows.columns) == ["row_number", "column_name", "value", "reason", "record"]
    assert rows["row_number"].tolist() == sorted(MIXED_PROBLEMS)
    by_row = rows.set_index("row_number")
    assert by_row.loc[7, "value"] == "朝阳"
    record = json.loads(by_row.loc[7, "record"])
    assert record["工单编号"] == "U1" and record["被反映区"] == "朝阳" and record["来电时间"] == "2024-03-05 14:03"
    assert json.loads(by_row.loc[12, "record"]) == {}  # a ragged row has no columns to show
    # The evaluator downloads the frame as CSV (UTF-8 with BOM for Excel): it reads back the same.
    text = rows.to_csv(index=False, encoding="utf-8-sig")
    back = pd.read_csv(io.StringIO(text), dtype={"value": str}, keep_default_na=False)
    assert back["reason"].tolist() == rows["reason"].tolist()
    assert back["row_number"].tolist() == rows["row_number"].tolist()
    assert quarantined_rows(engine, result.upload_id + 1).empty


def test_ragged_rows_are_quarantined_and_the_rest_loads(engine):
    result = ingest(engine, """
工单编号,来电时间,被反映区
A1,2024-03-05 08:00,朝阳区
A2,2024-03-05 09:00,朝阳区,多出来的一格
A3,2024-03-05 10:00
A4,2024-03-05 11:00,海淀区
""")
    assert (result.read, result.accepted, result.rejected) == (4, 2, 2)
    assert stored_orders(engine)["order_id"].tolist() == ["A1", "A4"]
    assert problems_by_row(stored_quarantine(engine)) == {3: [("（整行）", "该行有 4 列，表头有 3 列")],
                                                          4: [("（整行）", "该行有 2 列，表头有 3 列")]}


UNREADABLE = {
    "empty": (b"", "工单.csv", "文件为空"),
    "header only": ("工单编号,来电时间,被反映区\r\n".encode(), "工单.csv", "只有表头"),
    "unknown encoding": (bytes(range(256)) * 4, "工单.csv", "无法识别文件编码"),
    "nul bytes": ("工单编号,来电时间,被反映区\r\nA9\x00,2024-03-05,朝阳区\r\n".encode(), "工单.csv", "空字符"),
    "missing columns": ("编号,来电日期,区名\r\nA9,2024-03-05,朝阳区\r\n".encode(), "工单.csv",
                        "缺少必需的列：「受理时间」（最接近的列是「来电日期」）"),
    "zip named csv": (b"PK\x03\x04" + bytes(40), "工单.csv", "不以 .xlsx 结尾"),
    "broken xlsx": (b"PK\x03\x04" + bytes(40), "工单.xlsx", "无法读取 Excel 文件"),
}


@pytest.mark.parametrize("data, name, words", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_file_that_cannot_be_read_changes_nothing(engine, data, name, words):
    ingest(engine, MIXED)
    before, orders_before = table_counts(engine), stored_orders(engine)
    with pytest.raises(FileError) as caught:
        ingest_file(engine, data, name, now=NOW)
    assert words in str(caught.value)
    assert table_counts(engine) == before
    pd.testing.assert_frame_equal(stored_orders(engine), orders_before)


def test_loading_the_same_file_twice_changes_nothing(engine):
    first = ingest(engine, MIXED)
    before, orders_before = table_counts(engine), stored_orders(engine)
    again = ingest(engine, MIXED, name="同一个文件（副本）.csv")
    assert again.duplicate_of == first.upload_id
    assert (again.read, again.accepted, again.rejected) == (12, 3, 9)
    assert "完全相同" in again.summary()
    assert table_counts(engine) == before
    pd.testing.assert_frame_equal(stored_orders(engine), orders_before)


FIRST_EXPORT = """
工单编号,来电时间,被反映区,被反映街乡镇,主办单位,工单状态,主要内容,办结时间,是否联系,是否解决,是否满意,是否保留
L1,2024-03-05 08:00,朝阳区,建外街道,建外街道办事处,处理中,路灯不亮,,,,,保留
L2,2024-03-05 09:00,朝阳区,建外街道,朝阳区城管委,处理中,占道经营,,,,,剔除
L3,2024-03-05 10:00,海淀区,万寿路街道,,处理中,噪音,,,,,保留
"""
LATER_EXPORT = """
工单编号,来电时间,被反映区,被反映街乡镇,主办单位,工单状态,主要内容,办结时间,是否联系,是否解决,是否满意,是否保留
L1,2024-03-05 08:00,朝阳区,建外街道,建外街道办事处,已办结,路灯不亮,2024-03-06 08:00,是,是,满意,保留
L2,2024-03-05 09:00,朝阳区,建外街道,朝阳区城管委,已办结,占道经营,2024-03-07 09:00,是,否,不满意,剔除
L3,2024-03-05 10:00,海淀区,万寿路街道,,处理中,噪音,,,,,保留
L4,2024-03-06 10:00,海淀区,万寿路街道,,已办结,漏水,2024-03-06 18:00,是,是,基本满意,保留
"""


def _totals(engine) -> pd.Series:
    frame = counts(engine, [], pd.Timestamp("2024-03-01").date(), pd.Timestamp("2024-03-31").date())
    return frame.drop(columns=["day", "excluded"]).sum()


def test_a_later_file_with_callbacks_updates_the_orders(engine):
    first = ingest(engine, FIRST_EXPORT, name="三月上.csv")
    assert _totals(engine)[["orders", "closed", "callbacks", "satisfied"]].tolist() == [3, 0, 0, 0]
    later = ingest(engine, LATER_EXPORT, name="三月上（含回访）.csv")
    assert (later.read, later.accepted, later.inserted, later.updated, later.unchanged) == (4, 4, 1, 2, 1)
    stored = stored_orders(engine)
    assert stored["order_id"].tolist() == ["L1", "L2", "L3", "L4"]
    assert stored["status"].tolist() == ["已办结", "已办结", "处理中", "已办结"]
    assert stored["satisfaction"].tolist() == ["满意", "不满意", None, "基本满意"]
    assert stored["callback_valid"].tolist() == [True, True, None, True]  # L3: no callback yet, unknown
    assert stored["upload_id"].tolist() == [later.upload_id, later.upload_id, first.upload_id, later.upload_id]
    totals = _totals(engine)
    assert totals.to_dict() == {"orders": 4, "closed": 3, "callbacks": 3, "answered": 3, "contacted": 3,
                                "resolved": 2, "satisfied": 1, "basic_satisfied": 1, "dissatisfied": 1}
    upload = stored_uploads(engine).iloc[1]
    assert (upload.inserted, upload.updated) == (1, 2)


def test_blanks_in_a_later_file_do_not_erase_given_values(engine):
    ingest(engine, LATER_EXPORT)
    result = ingest(engine, """
工单编号,来电时间,被反映区,被反映街乡镇,工单状态,主要内容,办结时间,是否联系,是否解决,是否满意
L1,2024-03-05 08:00,朝阳区,,已归档,,,,,
""")
    assert (result.inserted, result.updated) == (0, 1)
    one = stored_orders(engine).loc["L1"]
    assert one.status == "已归档"
    assert (one.township, one.content) == ("建外街道", "路灯不亮")
    assert pd.Timestamp(one.closed_at) == pd.Timestamp("2024-03-06 08:00")
    assert (one.contacted, one.resolved, one.satisfaction) == (True, True, "满意")


def test_blanks_in_a_later_file_keep_the_callback_valid(engine):
    # 是否有效回访 is not in the file: validate fills it with "was the callback answered" (False here),
    # and the upsert's coalesce(later, earlier) then takes that default over the earlier True.
    ingest(engine, LATER_EXPORT)
    ingest(engine, """
工单编号,来电时间,被反映区,被反映街乡镇,工单状态,是否联系,是否解决,是否满意
L1,2024-03-05 08:00,朝阳区,建外街道,已归档,,,
""")
    assert stored_orders(engine).loc["L1", "callback_valid"] == True
    assert _totals(engine)["callbacks"] == 3


def test_blanks_in_a_later_file_keep_the_handler_and_the_exclusion(engine):
    # Same cause: blank 主办单位 is filled with the township, a missing 是否保留 column with "kept".
    ingest(engine, LATER_EXPORT)
    ingest(engine, """
工单编号,来电时间,被反映区,被反映街乡镇,工单状态
L2,2024-03-05 09:00,朝阳区,建外街道,已归档
""")
    two = stored_orders(engine).loc["L2"]
    assert two.status == "已归档"
    assert (two.handler, two.handler_type) == ("朝阳区城管委", "区")
    assert two.excluded == True


def test_every_upload_has_a_record(engine):
    data = csv_bytes(MIXED)
    before = datetime.now()
    result = ingest_file(engine, data, "三月工单.csv", user="评价员甲", now=NOW)
    after = datetime.now()
    uploads = stored_uploads(engine)
    assert len(uploads) == 1
    upload = uploads.iloc[0]
    assert upload.id == result.upload_id
    assert (upload.file_name, upload.sha256, upload.mapping) == (
        "三月工单.csv", hashlib.sha256(data).hexdigest(), "自动识别表头")
    assert (upload.rows_read, upload.accepted, upload.rejected, upload.inserted, upload.updated) == (12, 3, 9, 3, 0)
    assert upload.uploaded_by == "评价员甲"
    assert pd.Timestamp(before).floor("s") <= pd.Timestamp(upload.uploaded_at) <= pd.Timestamp(after)
    assert set(stored_quarantine(engine)["upload_id"]) == {result.upload_id}
    assert set(stored_orders(engine)["upload_id"]) == {result.upload_id}


def test_an_upload_is_one_transaction(engine, monkeypatch):
    ingest(engine, SMALL)
    before = table_counts(engine)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while writing the quarantine")

    monkeypatch.setattr(store.ingest, "quarantined", broken)
    with pytest.raises(RuntimeError):
        ingest(engine, MIXED)
    assert table_counts(engine) == before  # no upload record, no orders from the failed file
    monkeypatch.undo()
    result = ingest(engine, MIXED)  # and the same file loads afterwards, as new
    assert result.duplicate_of is None and result.inserted == 3


NYC = SHARED_DATA / "samples" / "nyc311_5k_raw_export.csv"
NYC_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def test_nyc_preset_on_the_real_sample(open_engine):
    with NYC.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    when = lambda text: datetime.strptime(text, NYC_FORMAT)
    closed_before_created = {number for number, row in enumerate(rows, start=2)
                             if row["Closed Date"] and when(row["Closed Date"]) < when(row["Created Date"])}
    boroughs = {row["Borough"] for number, row in enumerate(rows, start=2) if number not in closed_before_created}

    result = ingest_file(open_engine, NYC.read_bytes(), NYC.name, mapping="nyc311")
    assert result.read == len(rows) == 4999
    assert result.read == result.accepted + result.rejected
    assert result.rejected == len(closed_before_created) > 0
    quarantine = stored_quarantine(open_engine)
    assert set(quarantine["row_number"]) == closed_before_created
    assert set(zip(quarantine["column_name"], quarantine["reason"])) == {("Closed Date", "办结时间早于受理时间")}
    stored = stored_orders(open_engine)
    assert len(stored) == result.accepted
    assert set(stored["district"]) == boroughs
    assert {"BROOKLYN", "MANHATTAN", "QUEENS", "BRONX", "STATEN ISLAND"} <= boroughs
    assert set(stored["handler_type"]) == {"市级部门"}
    assert result.mapping == "NYC 311 导出"
