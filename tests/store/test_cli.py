"""cli.py ingest, run as a user runs it: a subprocess in the project folder."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.store.helpers import csv_bytes, stored_orders, table_counts

ROOT = Path(__file__).resolve().parents[2]

CLI_FILE = """
工单编号,来电时间,被反映区,被反映街乡镇,是否满意,来电人电话
C1,2024/3/5 14:03:00,朝阳区,建外街道,满意,13812345678
C2,2024-03-05 15:00,朝阳,,,13900001111
C3,2024-03-06 09:00,海淀区,万寿路街道,基本满意,
"""


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, check=False,
                          encoding="utf-8", timeout=120)


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_ingest_prints_json(engine, tmp_path):
    path = tmp_path / "三月工单.csv"
    path.write_bytes(csv_bytes(CLI_FILE, "gbk"))
    done = _cli("ingest", str(path), "--json", "--db", _url(engine))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"read", "accepted", "rejected", "upload_id"} <= set(result)
    assert (result["read"], result["accepted"], result["rejected"]) == (3, 2, 1)
    assert result["upload_id"] == 1 and result["inserted"] == 2 and result["duplicate_of"] is None
    assert stored_orders(engine)["order_id"].tolist() == ["C1", "C3"]


def test_ingest_lists_the_problems_in_chinese(sqlite_engine, tmp_path):
    # The wording does not depend on the database: SQLite only, to keep the suite quick.
    path = tmp_path / "工单.csv"
    path.write_bytes(csv_bytes(CLI_FILE))
    done = _cli("ingest", str(path), "--db", _url(sqlite_engine))
    assert done.returncode == 0, done.stderr
    assert "读取 3 行：接收 2 行（新增 2，更新 0，未变 0），拒收 1 行。" in done.stdout
    assert "第 3 行「被反映区」：未知的区「朝阳」，是否应为「朝阳区」？（朝阳）" in done.stdout
    again = _cli("ingest", str(path), "--db", _url(sqlite_engine))
    assert again.returncode == 0, again.stderr
    assert "与第 1 次上传完全相同" in again.stdout
    assert table_counts(sqlite_engine)["uploads"] == 1


def test_an_unreadable_file_exits_non_zero_with_a_chinese_message(engine, tmp_path):
    path = tmp_path / "工单.csv"
    path.write_bytes(bytes(range(256)) * 4)
    before = table_counts(engine)
    done = _cli("ingest", str(path), "--json", "--db", _url(engine))
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("错误：无法识别文件编码")
    assert re.search(r"[\u4e00-\u9fff]", done.stderr) and "Traceback" not in done.stderr
    assert table_counts(engine) == before
