"""store.read: whatever Excel or another system wrote becomes a frame of strings, or a FileError in Chinese."""
from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

import store.read
from store.read import FileError, file_encoding, read_table
from tests.store.helpers import csv_bytes, workbook_bytes

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")

SMALL = """
工单编号,来电时间,被反映区,主要内容
A1,2024/3/5 14:03:00,朝阳区,楼道堆物
A2,2024-03-05 14:03,海淀区,噪音扰民
"""


def _cells(table) -> list[list[str]]:
    return table.frame.drop(columns="_row").values.tolist()


@pytest.mark.parametrize("encoding, reported", [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"),
                                                ("gbk", "gb18030")])
def test_utf8_bom_and_gbk_files_read_to_the_same_cells(encoding, reported):
    table = read_table(csv_bytes(SMALL, encoding), "工单.csv")
    assert table.encoding == reported
    assert list(table.frame.columns) == ["工单编号", "来电时间", "被反映区", "主要内容", "_row"]
    assert _cells(table) == [["A1", "2024/3/5 14:03:00", "朝阳区", "楼道堆物"],
                             ["A2", "2024-03-05 14:03", "海淀区", "噪音扰民"]]
    assert table.frame["_row"].tolist() == [2, 3]
    assert table.ragged == []


def test_bom_does_not_stick_to_the_first_header():
    table = read_table(b"\xef\xbb\xbf" + csv_bytes(SMALL, "utf-8"), "工单.csv")
    assert table.frame.columns[0] == "工单编号"


def test_row_numbers_are_the_spreadsheet_rows_blank_lines_included():
    text = "工单编号,被反映区\r\nA1,朝阳区\r\n\r\nA2,海淀区\r\n"
    table = read_table(text.encode(), "x.csv")
    assert table.frame["_row"].tolist() == [2, 4]
    assert table.frame["工单编号"].tolist() == ["A1", "A2"]


def test_cells_are_strings_and_empty_cells_are_empty_strings():
    table = read_table(csv_bytes("工单编号,办理时限,满意度\n007,24,\n"), "x.csv")
    assert _cells(table) == [["007", "24", ""]]  # leading zeros kept: nothing is parsed as a number


UNREADABLE = {
    "empty": (b"", "文件为空"),
    "blank lines only": (b"  \r\n\r\n ", "文件为空"),
    "header only": ("工单编号,来电时间,被反映区\r\n".encode(), "只有表头"),
    "header and empty rows": ("工单编号,来电时间,被反映区\r\n\r\n,,\r\n".encode(), "只有表头"),
    "binary": (bytes(range(256)) * 4, "无法识别文件编码"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(128, 256)) * 3, "无法识别文件编码"),
    "nul in text": ("工单编号,来电时间\r\nA1\x00,2024-03-05\r\n".encode(), "空字符"),
    "no header": (",,\r\nA1,2024-03-05,朝阳区\r\n".encode(), "没有表头"),
}


@pytest.mark.parametrize("data, words", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_csv_is_a_file_error_in_chinese(data, words):
    with pytest.raises(FileError) as caught:
        read_table(data, "工单.csv")
    assert words in str(caught.value)
    assert CHINESE.search(str(caught.value))


@pytest.mark.parametrize("data, words", [UNREADABLE["empty"], UNREADABLE["nul in text"]], ids=["empty", "nul"])
def test_unreadable_csv_on_disk_is_a_file_error_too(tmp_path, data, words):
    # a file on disk has its encoding checked block by block as it is read, not from the bytes of an upload
    path = tmp_path / "工单.csv"
    path.write_bytes(data)
    with pytest.raises(FileError, match=words):
        read_table(path, "工单.csv")


@pytest.mark.parametrize("block", [5, 7, 4096])
def test_characters_cut_by_a_block_end_are_still_utf8(tmp_path, monkeypatch, block):
    # blocks of 5 and 7 bytes cut nearly every 3-byte character of the text somewhere inside it
    monkeypatch.setattr(store.read, "_BLOCK", block)
    path = tmp_path / "工单.csv"
    path.write_bytes(csv_bytes(SMALL * 50))
    assert file_encoding(path) == "utf-8-sig"
    assert file_encoding(csv_bytes(SMALL * 50)) == "utf-8-sig"


@pytest.mark.parametrize("block", [5, 4096])
def test_a_file_utf8_but_for_its_last_block_or_its_last_character_is_not_utf8(monkeypatch, block):
    monkeypatch.setattr(store.read, "_BLOCK", block)
    text = csv_bytes(SMALL * 50)
    # neither is GB18030 either (the UTF-8 before is not): the encoding is a guess, but not UTF-8
    assert file_encoding(text + csv_bytes("A3,2024-03-06,丰台区", "gbk")) != "utf-8-sig"
    assert file_encoding(text + "中".encode()[:2]) != "utf-8-sig"  # a character the file's end cuts


def test_checking_the_encoding_of_a_large_file_holds_a_block_not_the_file(tmp_path):
    # The process's peak resident memory (VmHWM) grows by what the check holds at once; pages of a file mapped
    # in memory count in it, so a check over the whole file mapped would add the file's 96 MB.
    path = tmp_path / "工单.csv"
    path.write_bytes(csv_bytes(SMALL) * (96 * 2**20 // len(csv_bytes(SMALL))))
    script = (f"from store.read import file_encoding; import pathlib; hwm = lambda: int([l.split()[1] for l in "
              f"pathlib.Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM')][0]); "
              f"before = hwm(); encoding = file_encoding({str(path)!r}); print(encoding, hwm() - before)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    encoding, grown_kb = done.stdout.split()
    assert encoding == "utf-8-sig"
    assert int(grown_kb) < 24 * 1024, f"the check held {int(grown_kb) // 1024} MB of a 96 MB file"


def test_duplicate_header_names_are_a_file_error():
    # read.py means to refuse two columns of the same name, but pandas renames the second to "工单编号.1"
    # before _checked_header sees it, so the file loads and the second column is silently ignored.
    with pytest.raises(FileError, match="重复的列名：工单编号"):
        read_table("工单编号,区,工单编号\r\nA1,朝阳区,A2\r\n".encode(), "工单.csv")


def test_a_zip_or_xlsx_named_csv_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "工单编号")
    with pytest.raises(FileError, match="不以 .xlsx 结尾"):
        read_table(buffer.getvalue(), "工单.csv")


def test_a_broken_xlsx_is_a_file_error():
    with pytest.raises(FileError, match="无法读取 Excel 文件"):
        read_table(b"PK\x03\x04 this is not really a workbook", "工单.xlsx")


def test_row_with_too_many_cells_is_set_aside_with_its_row_number():
    text = "工单编号,来电时间,被反映区\nA1,2024-03-05,朝阳区\nA2,2024-03-05,海淀区,多余\nA3,2024-03-06,西城区\n"
    table = read_table(csv_bytes(text), "x.csv")
    assert table.frame["工单编号"].tolist() == ["A1", "A3"]
    assert table.frame["_row"].tolist() == [2, 4]
    assert table.ragged == [(3, "该行有 4 列，表头有 3 列")]


def test_row_with_too_few_cells_is_set_aside_with_its_row_number():
    # pandas pads a short row with empty cells; the shifted row must not load as if it were complete.
    text = "工单编号,来电时间,被反映区\nA1,2024-03-05,朝阳区\nA2,2024-03-05\nA3,2024-03-06,西城区\n"
    table = read_table(csv_bytes(text), "x.csv")
    assert table.frame["工单编号"].tolist() == ["A1", "A3"]
    assert table.frame["_row"].tolist() == [2, 4]
    assert table.ragged == [(3, "该行有 2 列，表头有 3 列")]


def test_quoted_cells_with_commas_and_newlines_are_one_cell():
    text = '工单编号,主要内容,被反映区\r\nA1,"楼道堆物，""很久""了\r\n请处理",朝阳区\r\nA2,噪音,海淀区\r\n'
    table = read_table(text.encode(), "x.csv")
    assert table.ragged == []
    assert table.frame["主要内容"].tolist() == ['楼道堆物，"很久"了\r\n请处理', "噪音"]


def test_xlsx_cells_are_read_as_strings():
    data = workbook_bytes([["工单编号", "来电时间", "被反映区", "来电人电话"],
                      ["A1", datetime(2024, 3, 5, 14, 3), "朝阳区", 13812345678],
                      [20240306, "2024/3/6 9:00:00", "海淀区", None]])
    table = read_table(data, "工单.xlsx")
    assert table.encoding == "xlsx"
    assert table.frame["工单编号"].tolist() == ["A1", "20240306"]
    assert table.frame["来电时间"].tolist() == ["2024-03-05 14:03:00", "2024/3/6 9:00:00"]
    assert table.frame["来电人电话"].tolist() == ["13812345678", ""]
    assert table.frame["_row"].tolist() == [2, 3]


def test_xlsx_with_a_header_only_is_a_file_error():
    with pytest.raises(FileError, match="只有表头"):
        read_table(workbook_bytes([["工单编号", "来电时间", "被反映区"]]), "工单.xlsx")
