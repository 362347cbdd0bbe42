"""store.whistles on SQLite and PostgreSQL: a whistle file (one row per department called) loads in one
transaction with the orders' nothing-lost rules, repeated whistle fields must agree, a later file updates a
whistle, the very same file changes nothing, and personal data never reaches the database."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

import cli
import store.whistles
from store.ingest import ingest_file
from store.read import FileError
from store.tables import whistle_departments, whistle_escalations, whistles
from store.whistle_demo import DISTRICT, demo_whistles, departments, load_whistle_demo
from store.whistles import call_frame, ingest_whistles, whistle_frame, whistle_years
from tests.store.helpers import NOW, csv_bytes, stored_quarantine, stored_uploads, table_counts

HEADER = "哨单编号,街乡镇,吹哨时间,哨级,来源,工单编号,问题描述,联系人,联系电话,报到部门,报到时间,是否报到,是否解决,是否满意,结案时间,街乡同意结案,升级区级时间"
GOOD = f"""
{HEADER}
S1,延庆镇,2024/3/5 9:00,普通哨,,BJ9,路灯坏了，联系人张三 13812345678,张三,13812345678,区城市管理委,2024/3/5 15:00,是,是,是,,,
S1,延庆镇,2024/3/5 9:00,普通哨,,BJ9,,张三,13812345678,延庆供电所,2024/3/6 12:00,是,否,否,,,
S2,康庄镇,2024-03-06 10:30,疑难,网格巡查,,违建,,,区规划自然资源分局,,,,,2024/3/20 10:00,是,2024/3/8 10:00
"""


def load(engine, text: str, name: str = "哨单.csv", encoding: str = "utf-8"):
    return ingest_whistles(engine, csv_bytes(text, encoding), name, now=NOW)


def stored(engine, table) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(table)).mappings().all(), columns=list(table.c.keys()), dtype=object)


def test_a_whistle_file_loads_whistles_departments_and_escalations(engine):
    result = load(engine, GOOD)
    assert (result.read, result.accepted, result.rejected, result.inserted, result.updated) == (3, 3, 0, 2, 0)
    saved = stored(engine, whistles).set_index("whistle_id")
    assert (saved.loc["S1", "district"], saved.loc["S1", "level"], saved.loc["S1", "order_id"]) == (DISTRICT, "普通哨", "BJ9")
    assert saved.loc["S1", "source"] == "热线工单"  # a whistle naming an order came from the hotline
    assert (saved.loc["S2", "level"], saved.loc["S2", "source"], saved.loc["S2", "agreed"]) == ("疑难哨", "网格巡查", True)
    assert pd.Timestamp(saved.loc["S2", "closed_at"]) == pd.Timestamp("2024-03-20 10:00")
    calls = stored(engine, whistle_departments).set_index("department")
    assert len(calls) == 3
    # types follow the names when the file has none: a station ends in 所, the rest are district departments
    assert calls["department_type"].to_dict() == {"区城市管理委": "区级部门", "延庆供电所": "派驻机构",
                                                  "区规划自然资源分局": "区级部门"}
    assert (calls.loc["延庆供电所", "judged_reported"], calls.loc["延庆供电所", "judged_resolved"]) == (True, False)
    assert calls.loc["区规划自然资源分局", "judged_resolved"] is None  # not judged yet: unknown, not 否
    escalations = stored(engine, whistle_escalations)
    assert escalations[["whistle_id", "stage"]].values.tolist() == [["S2", "区级统筹"]]
    # the person's phone and name: masked in the text, their columns never stored
    assert saved.loc["S1", "description"] == "路灯坏了，联系人张* 138****5678"
    assert "13812345678" not in json.dumps(stored(engine, whistles).astype(str).values.tolist(), ensure_ascii=False)
    upload = stored_uploads(engine).iloc[0]
    assert (upload.mapping, upload.rows_read, upload.accepted, upload.inserted) == (store.whistles.WHISTLE_UPLOAD, 3, 3, 2)


def test_bad_rows_are_kept_with_row_column_and_reason_and_the_rest_loads(engine):
    text = f"""
    {HEADER}
    S1,延庆镇,2024/3/5 9:00,普通哨,,,,,,区水务局,2024/3/5 8:00,是,是,是,,,
    S1,康庄镇,2024/3/5 9:00,普通哨,,,,,,区交通局,,,,,,,
    S2,朝阳镇,2024/3/5 9:00,特急,,,,,,,,,,,,,
    S3,永宁镇,2024/3/5 9:00,重点哨,,,,,,区民政局,,也许,,,,,
    S3,永宁镇,2024/3/5 9:00,重点哨,,,,,,区卫生健康委,,,,,,,
    S4,永宁镇,2024/3/5 9:00,重点哨,,,,,,区教委,,,,,,,
    S4,永宁镇,2024/3/5 9:00,重点哨,,,,,,区教委,,,,,,,,多余
    """
    result = load(engine, text)
    # 7 rows read = 2 accepted (S3's second row, S4's first) + 5 rejected
    assert (result.read, result.accepted, result.rejected) == (7, 2, 5)
    reasons = {(p.row, p.column): p.reason for p in result.problems.itertuples()}
    assert reasons[(2, "报到时间")] == "报到时间早于吹哨时间"
    assert reasons[(3, "街乡镇")] == "与同一哨单第 2 行的「街乡镇」不一致（那一行为「延庆镇」）"
    assert reasons[(4, "哨级")] == "取值无效，应为：普通哨/重点哨/疑难哨"
    assert reasons[(4, "报到部门")] == "必填字段「报到部门」为空"
    assert reasons[(4, "街乡镇")] == "未知的街乡镇「朝阳镇」，是否应为「阳坊镇」？"
    assert reasons[(5, "是否报到")] == "应为 是/否"
    assert reasons[(8, "（整行）")] == "该行有 18 列，表头有 17 列"
    assert len(reasons) == 7  # row 4 has three problems, the others one each
    quarantined = stored_quarantine(engine)
    assert sorted(quarantined["row_number"].unique()) == [2, 3, 4, 5, 8]
    assert json.loads(quarantined.loc[quarantined["row_number"] == 3, "record"].iloc[0])["街乡镇"] == "康庄镇"
    assert sorted(stored(engine, whistles)["whistle_id"]) == ["S3", "S4"]


def test_a_department_twice_on_one_whistle_is_rejected(engine):
    text = f"""
    {HEADER}
    S1,延庆镇,2024/3/5 9:00,普通哨,,,,,,区水务局,,,,,,,
    S1,延庆镇,2024/3/5 9:00,普通哨,,,,,,区水务局,2024/3/5 10:00,,,,,,
    """
    result = load(engine, text)
    assert (result.accepted, result.rejected) == (1, 1)
    assert result.problems[["row", "column", "reason"]].values.tolist() == [
        [3, "报到部门", "同一哨单的同一报到部门与第 2 行重复"]]


def test_the_same_file_again_changes_nothing_and_a_later_file_updates(engine):
    first = load(engine, GOOD)
    before = table_counts(engine)
    again = load(engine, GOOD)
    assert again.duplicate_of == first.upload_id and table_counts(engine) == before
    # The same content in another file (another order of rows, GBK): accepted, nothing changed
    reordered = "\n".join([GOOD.strip().splitlines()[0], *reversed(GOOD.strip().splitlines()[1:])])
    same = load(engine, reordered, "哨单_gbk.csv", encoding="gbk")
    assert (same.read, same.accepted, same.inserted, same.updated) == (3, 3, 0, 0)
    # Later: S1 closed with agreement and escalated to the city; its second department judged; a blank
    # cell keeps the stored value (S1's 报到时间), a department the file does not name stays.
    later = """
    哨单编号,街乡镇,吹哨时间,哨级,报到部门,报到时间,是否解决,结案时间,街乡同意结案,升级市级时间
    S1,延庆镇,2024/3/5 9:00,普通哨,延庆供电所,,是,2024/3/9 9:00,是,2024/3/7 9:00
    """
    update = load(engine, later, "哨单_更新.csv")
    assert (update.read, update.accepted, update.inserted, update.updated) == (1, 1, 0, 1)
    saved = stored(engine, whistles).set_index("whistle_id")
    assert saved.loc["S1", "agreed"] is True and saved.loc["S1", "order_id"] == "BJ9"
    calls = stored(engine, whistle_departments).set_index("department")
    assert len(calls) == 3 and calls.loc["延庆供电所", "judged_resolved"] is True
    assert pd.Timestamp(calls.loc["延庆供电所", "reported_at"]) == pd.Timestamp("2024-03-06 12:00")
    escalations = stored(engine, whistle_escalations).sort_values(["whistle_id", "stage"])
    assert escalations[["whistle_id", "stage"]].values.tolist() == [["S1", "市级协调"], ["S2", "区级统筹"]]
    assert len(stored_uploads(engine)) == 3


def test_an_unreadable_file_or_a_failure_half_way_writes_nothing(engine, monkeypatch):
    with pytest.raises(FileError, match="缺少必需的列：「哨级」、「报到部门」"):
        load(engine, "哨单编号,街乡镇,吹哨时间\nS1,延庆镇,2024/3/5 9:00")
    assert table_counts(engine)["uploads"] == 0

    def broken(conn, table, frame):
        if table is whistle_departments:
            raise RuntimeError("disk full")
        return original(conn, table, frame)

    original = store.whistles.bulk.inserted
    monkeypatch.setattr(store.whistles.bulk, "inserted", broken)
    with pytest.raises(RuntimeError):
        load(engine, GOOD)
    assert {k: v for k, v in table_counts(engine).items() if v} == {"meta": 3}  # schema_version, profile, cubes


def test_frames_read_back_by_year(engine):
    load(engine, GOOD)
    found = whistle_frame(engine, date(2024, 1, 1), date(2024, 12, 31)).set_index("whistle_id")
    assert pd.isna(found.loc["S1", "escalated_district"])
    assert found.loc["S2", "escalated_district"] == pd.Timestamp("2024-03-08 10:00")
    calls = call_frame(engine, date(2024, 3, 6), date(2024, 3, 6))  # the day S2 was blown
    assert calls[["whistle_id", "department", "level", "escalated"]].values.tolist() == [
        ["S2", "区规划自然资源分局", "疑难哨", True]]
    assert whistle_years(engine) == [2024]


def test_the_demo_is_yanqing_shaped_deterministic_and_loads_whole(engine):
    units = departments([f"镇{i}" for i in range(18)])
    assert units["department_type"].value_counts().to_dict() == {"区级部门": 74, "派驻机构": 57, "公共服务企业": 20}
    frame = demo_whistles(200, seed=7, order_ids=["O1", "O2"])
    assert frame.equals(demo_whistles(200, seed=7, order_ids=["O1", "O2"]))
    assert frame["哨单编号"].nunique() == 200 and frame["街乡镇"].nunique() == 18
    assert set(frame.loc[frame["来源"] == "热线工单", "工单编号"]) == {"O1", "O2"}
    result = load_whistle_demo(engine, 200, seed=7)
    assert (result.rejected, result.inserted) == (0, 200) and result.read == len(demo_whistles(200, seed=7))


def test_cli_ingest_prints_json(db_url, tmp_path, capsys):
    path = tmp_path / "哨单.csv"
    path.write_bytes(csv_bytes(GOOD))
    assert cli.main(["whistles", "ingest", str(path), "--db", db_url, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["read"], printed["accepted"], printed["rejected"], printed["inserted"]) == (3, 3, 0, 2)


def test_an_excel_whistle_file_loads_like_a_csv(sqlite_engine, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    for line in GOOD.strip().splitlines():
        book.active.append(line.split(","))
    path = tmp_path / "哨单.xlsx"
    book.save(path)
    result = ingest_whistles(sqlite_engine, path.read_bytes(), path.name, now=NOW)
    assert (result.read, result.accepted, result.rejected, result.inserted) == (3, 3, 0, 2)
    assert result.encoding == "xlsx"


def test_the_same_file_uploaded_twice_at_once_is_loaded_once(engine):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: load(engine, GOOD), range(2)))
    assert sorted(r.duplicate_of is None for r in results) == [False, True]
    assert len(stored_uploads(engine)) == 1 and len(stored(engine, whistle_departments)) == 3


def test_a_whistle_file_sent_as_orders_is_not_taken_for_an_earlier_order_upload(engine):
    load(engine, GOOD)
    with pytest.raises(FileError, match="工单编号|受理时间|区"):  # the orders' required columns are missing
        ingest_file(engine, csv_bytes(GOOD), "哨单.csv", now=NOW)
