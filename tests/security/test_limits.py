"""Limits a hostile or mistaken file meets: the upload size, zip bombs, formulas never evaluated, values
wider than their column (PostgreSQL would otherwise refuse the whole upload)."""
from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

import cli
import store.read
from store.ingest import ingest_file
from store.paths import ROOT
from store.read import FileError, open_reading, upload_limit_mb
from store.reference import load_population
from tests.store.helpers import NOW, ingest, stored_orders, stored_quarantine, table_counts, workbook_bytes


def test_the_limit_is_streamlits_own_setting(monkeypatch):
    monkeypatch.delenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", raising=False)
    config.get_config_options(force_reparse=True)
    assert upload_limit_mb() == config.get_option("server.maxUploadSize") == 500


def test_without_the_setting_the_limit_is_streamlits_default(tmp_path, monkeypatch):
    monkeypatch.delenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", raising=False)
    monkeypatch.setattr(store.read, "STREAMLIT_CONFIG", tmp_path / "config.toml")  # no file
    streamlit_default = config._config_options["server.maxUploadSize"].default_val
    assert upload_limit_mb() == streamlit_default == 200
    (tmp_path / "config.toml").write_text('[client]\ntoolbarMode = "minimal"\n', encoding="utf-8")
    assert upload_limit_mb() == streamlit_default


def test_the_upload_page_states_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "7")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception
    assert any("单个文件不超过 7 MB" in c.value for c in at.caption)


def test_the_command_line_refuses_a_file_over_the_limit_it_is_given(tmp_path, capsys):
    big = tmp_path / "大文件.csv"
    big.write_text("工单编号,来电时间,被反映区\n" + "W1,2024-03-05 10:00,朝阳区\n" * 60_000, encoding="utf-8")  # ~1.6 MB
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert cli.main(["ingest", str(big), "--db", url, "--max-mb", "1"]) == 2
    message = capsys.readouterr().err
    assert "超过上传上限 1 MB" in message and "2 MB" in message
    small = tmp_path / "小文件.csv"
    small.write_text("工单编号,来电时间,被反映区\nW1,2024-03-05 10:00,朝阳区\n", encoding="utf-8")
    assert cli.main(["ingest", str(small), "--db", url, "--json", "--max-mb", "1"]) == 0


def test_the_command_line_takes_a_file_over_the_pages_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "1")  # a city's year streams through the command line
    big = tmp_path / "大文件.csv"
    big.write_text("工单编号,来电时间,被反映区\n" + "".join(f"W{i},2024-03-05 10:00,朝阳区\n" for i in range(60_000)),
                   encoding="utf-8")  # ~1.8 MB
    assert cli.main(["ingest", str(big), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "--json"]) == 0
    assert '"accepted": 60000' in capsys.readouterr().out


def _with_member(workbook: bytes, name: str, content: bytes) -> bytes:
    """The workbook with one more member, deflated."""
    buffer = io.BytesIO(workbook)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(monkeypatch):
    workbook = workbook_bytes([["工单编号", "来电时间", "被反映区"], ["W1", "2024-03-05 10:00", "朝阳区"]])
    bomb = _with_member(workbook, "xl/media/padding.xml", b" " * (40 << 20))  # 40 MB of spaces pack to ~40 KB
    assert len(bomb) < 200_000

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(pd, "read_excel", never)
    with pytest.raises(FileError, match="解压后达 40 MB.*疑为恶意构造"):
        open_reading(bomb, "工单.xlsx")


def _entity_bomb(levels: int) -> bytes:
    """A workbook whose first cell is an XML entity that expands tenfold `levels` times ("billion laughs")."""
    archive = zipfile.ZipFile(io.BytesIO(workbook_bytes([["工单编号", "来电时间", "被反映区"],
                                                         ["W1", "2024-03-05 10:00", "朝阳区"]])))
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1))
    sheet = archive.read("xl/worksheets/sheet1.xml").decode().replace("W1", f"&lol{levels};", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in archive.infolist():
            content = (f'<!DOCTYPE worksheet [<!ENTITY lol0 "lol">{entities}]>{sheet}'.encode()
                       if member.filename == "xl/worksheets/sheet1.xml" else archive.read(member))
            bomb.writestr(member, content)
    return buffer.getvalue()


def test_an_xml_entity_bomb_in_a_workbook_is_refused():
    # Two levels expand as XML should (the crafted sheet is valid); nine would be 3 GB of "lol": the XML parser
    # refuses the amplification and the user reads a sentence.
    assert next(open_reading(_entity_bomb(2), "工单.xlsx").chunks).frame.iloc[0, 0] == "lol" * 100
    with pytest.raises(FileError, match="无法读取 Excel 文件"):
        open_reading(_entity_bomb(9), "工单.xlsx")


def test_formulas_are_read_as_their_saved_values_never_evaluated(engine):
    # openpyxl saves no computed values: a cell holding a formula reads as empty, so the order whose id is a
    # formula lacks an id, and a title that is a formula is no title.
    book = workbook_bytes([["工单编号", "来电时间", "被反映区", "标题"],
                      ["W1", "2024-03-05 10:00", "朝阳区", "=1+1"],
                      ["=\"W\"&2", "2024-03-05 10:00", "朝阳区", "正常标题"]])
    result = ingest_file(engine, book, "工单.xlsx", now=NOW)
    assert (result.read, result.accepted, result.rejected) == (2, 1, 1)
    stored = stored_orders(engine)
    assert stored.loc["W1", "title"] is None
    assert stored_quarantine(engine)["reason"].tolist() == ["必填字段「工单编号」为空"]


def test_values_wider_than_their_column_are_rejected_rows_on_both_engines(open_engine):
    long_id, long_district, long_category = "W" * 201, "区" * 201, "类" * 201
    result = ingest(open_engine, f"""
        工单编号,来电时间,被反映区,一级分类,标题
        W1,2024-03-05 10:00,朝阳区,城乡建设,{"长" * 100_000}
        {long_id},2024-03-05 10:00,朝阳区,城乡建设,
        W3,2024-03-05 10:00,{long_district},城乡建设,
        W4,2024-03-05 10:00,朝阳区,{long_category},
        {long_id},2024-03-05 11:00,朝阳区,城乡建设,
    """)
    # W1 lands, its 100,000-character title whole (a text column); the rows with a 201-character id, district
    # or category are rejected, the repeated long id not counted as a duplicate of a row that was refused.
    assert (result.read, result.accepted, result.rejected) == (5, 1, 4)
    assert len(stored_orders(open_engine).loc["W1", "title"]) == 100_000
    quarantine = stored_quarantine(open_engine)
    assert sorted(zip(quarantine["row_number"], quarantine["column_name"])) == [
        (3, "工单编号"), (4, "被反映区"), (5, "一级分类"), (6, "工单编号")]
    assert set(quarantine["reason"]) == {"超过 200 个字符，疑为错列或录入错误"}
    assert table_counts(open_engine)["orders"] == 1


def test_an_infinite_population_is_refused(engine):
    # "1e400" reads as infinity: every per-capita ratio of the unit would be 0, its district looking perfect.
    with pytest.raises(FileError, match="第 3 行「人口」不是正数"):
        load_population(engine, "区,街乡镇,人口\n朝阳区,建外街道,1000\n朝阳区,朝外街道,1e400\n".encode(), "人口.csv")
    assert table_counts(engine)["unit_population"] == 0
