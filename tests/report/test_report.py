"""The 排名通报 files: the workbook's sheets and numbers are the figures' own, text from the data is
escaped in the HTML and neutralised in the workbook, no personal data gets in, and the CLI writes them."""
from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import figures.report
from cli import main
from figures.overview import ranking
from metrics.config import load_scheme
from metrics.ranking import BLACK_LIST
from report import build_report
from report.html import page
from report.xlsx import workbook
from store.db import connect
from store.demo import load_demo
from store.ingest import ingest_file

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2025-06"
SHEETS = ["说明", "汇总", "区排名", "街乡镇排名", "市级部门与企业", "重点关注单位", "考评方案"]
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.com","点我")'
CALLER, PHONE = "张小明", "13812345678"
# Orders of the same period whose texts are hostile: a department named like a script, a company named
# like a formula, a title with a script; with the caller's name and phone, which must never surface.
QUOTED_FORMULA = '"' + FORMULA.replace('"', '""') + '"'
HEADER = "工单编号,来电时间,被反映区,被反映街乡镇,主办单位,承办单位类型,一级分类,标题,来电人,来电人电话,是否有效回访,是否联系,是否解决,是否满意"
CRAFTED = f"""{HEADER}
X1,2025/6/3 10:00:00,朝阳区,建外街道,{SCRIPT},市级部门,{SCRIPT},{SCRIPT},{CALLER},{PHONE},是,是,是,满意
X2,2025/6/4 11:00:00,海淀区,万寿路街道,{QUOTED_FORMULA},企业,市场管理,投诉 {SCRIPT},{CALLER},{PHONE},是,是,否,不满意
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = connect(f"sqlite:///{tmp_path_factory.mktemp('report') / 'report.sqlite'}")
    load_demo(engine, 6_000)
    ingest_file(engine, CRAFTED.encode("utf-8"), "crafted.csv")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def built(engine):
    return build_report(engine, load_scheme(), PERIOD, generated_at=datetime(2025, 7, 2, 9, 30))


@pytest.fixture(scope="module")
def book(built):
    return load_workbook(io.BytesIO(workbook(built)))


@pytest.fixture(scope="module")
def html(built):
    return page(built)


def _rows(sheet) -> list[dict]:
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row)) for row in rows]


def test_the_workbook_has_one_formatted_sheet_per_table(book):
    assert book.sheetnames == SHEETS
    for name in SHEETS:
        assert book[name].freeze_panes == "A2"
    district = book["区排名"]
    header = [c.value for c in district[1]]
    assert {"区", "排名", "响应率", "解决率", "满意率", "综合得分", "红黑榜", "解决率（全口径）"} <= set(header)
    assert district.cell(2, header.index("解决率") + 1).number_format == "0.0%"
    assert district.column_dimensions["A"].width > 0


def test_district_scores_are_those_of_the_ranking(book, engine):
    expected = ranking(engine, load_scheme(), PERIOD, "district").set_index("district")["score"]
    shown = {row["区"]: row["综合得分"] for row in _rows(book["区排名"])}
    assert set(shown) == set(expected.index) and len(shown) == 16
    for district, score in shown.items():
        assert score == pytest.approx(expected[district])


def test_bottom_units_are_the_black_lists_of_the_rankings(book, engine):
    scheme = load_scheme()
    black = set()
    for level, name in (("district", "district"), ("street", "township")):
        table = ranking(engine, scheme, PERIOD, level)
        black |= set(table.loc[table["honour"] == BLACK_LIST, name])
    listed = {row["单位"] for row in _rows(book["重点关注单位"])}
    assert black and black <= listed
    assert all(row["主要问题（受理量最多的 3 个一级分类，全口径）"] for row in _rows(book["重点关注单位"]))


def test_the_about_sheet_names_period_scope_scheme_and_synthetic_data(book):
    about = {row["项目"]: row["内容"] for row in _rows(book["说明"])}
    scheme = load_scheme()
    assert about["考核周期"] == f"{PERIOD}（2025-06-01 至 2025-06-30）"
    assert about["范围"] == "全市"
    assert scheme.title in about["考评方案"] and about["方案指纹"] == scheme.content_hash
    assert about["生成时间"] == "2025-07-02 09:30"
    assert "合成示例数据" in about["数据"]


def test_formula_like_names_are_text_in_the_workbook(book):
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'" + FORMULA in {c.value for c in book["市级部门与企业"]["D"]}


def test_the_html_names_period_and_scheme_and_escapes_the_data(html):
    assert PERIOD in html and load_scheme().content_hash in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html  # nothing from the data, and no script of our own: the charts are SVG
    assert html.count("<svg") == 2
    assert "合成示例数据" in html


def test_no_personal_data_in_either_file(built, html):
    text = workbook(built)
    book = load_workbook(io.BytesIO(text))
    values = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
    for secret in (CALLER, PHONE):
        assert secret not in html and secret not in values


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", check=False, timeout=120)


def test_cli_report_writes_the_workbook_and_the_page(engine, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    out, html_out = tmp_path / "通报.xlsx", tmp_path / "通报.html"
    done = _cli("report", "--period", PERIOD, "--out", str(out), "--html", str(html_out), "--db", url)
    assert done.returncode == 0, done.stderr
    assert load_workbook(out).sheetnames == SHEETS
    assert PERIOD in html_out.read_text(encoding="utf-8")
    assert "合成示例数据" in done.stdout


def test_cli_report_refuses_a_bad_period_in_chinese(engine, tmp_path, capsys):
    # in-process: the failure path needs no second interpreter start
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "x.xlsx"
    assert main(["report", "--period", "2025-13", "--out", str(out), "--db", url]) == 2
    assert "考核周期应写作" in capsys.readouterr().err
    assert not out.exists()


def test_a_units_top_categories_count_the_whole_period_with_their_resolution(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'top.sqlite'}")
    ingest_file(engine, """工单编号,来电时间,被反映区,被反映街乡镇,一级分类,是否有效回访,是否联系,是否解决,是否满意
T1,2025/6/1 09:00:00,朝阳区,建外街道,市容环境,是,是,是,满意
T2,2025/6/18 09:00:00,朝阳区,建外街道,市容环境,是,是,否,不满意
T3,2025/6/30 09:00:00,朝阳区,建外街道,交通管理,是,是,是,满意
T4,2025/6/19 09:00:00,朝阳区,朝外街道,市容环境,是,是,是,满意
T5,2025/7/1 09:00:00,朝阳区,建外街道,交通管理,是,是,否,满意
""".encode(), "类别.csv", now=pd.Timestamp("2025-08-01"))
    units = pd.DataFrame({"district": ["朝阳区"], "township": ["建外街道"]})
    texts = figures.report._top_categories(engine, load_scheme(), PERIOD, "street", units)
    # June: 市容环境 T1 resolved, T2 not (1 of 2); 交通管理 T3 resolved; T4 is another township's, T5 July's.
    assert texts.tolist() == ["市容环境 2 件（解决率 50.0%）、交通管理 1 件（解决率 100.0%）"]
