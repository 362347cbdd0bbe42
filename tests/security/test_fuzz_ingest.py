"""Hostile and broken files thrown at ingestion (hypothesis): random bytes, truncated UTF-8, NUL bytes,
ragged rows, 100,000-character fields, formula cells, huge and negative numbers, year-9999 dates, header
permutations, CSV and .xlsx. Whatever comes in: no unhandled exception (a result, or a FileError with a
Chinese message), rows read = accepted + rejected, and the database stays consistent.

One SQLite database per module (and per city profile) keeps thousands of examples within seconds; the
widths PostgreSQL enforces are tested on both engines in test_limits.py.
"""
from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from store.cubes import PLACE
from store.db import connect
from store.fields import BY_NAME
from store.ingest import IngestResult, committed, earlier_upload, ingest_file, prepared_file
from store.mapping import resolve
from store.profile import load_profile
from store.read import FileError
from store.tables import orders, quarantine, uploads
from store.validate import checked_orders
from tests.store.helpers import BEIJING_HEADERS, NOW, workbook_bytes

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Beijing headers plus other names the aliases know and a few no mapping knows.
HEADERS = [*BEIJING_HEADERS, "办理时限", "联系时间", "纬度", "经度", "七有五性", "身份证号", "承办单位类型", "渠道", "备注"]
HOSTILE = [
    "", " ", "=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", "\t=1", "=HYPERLINK(\"http://x\",\"点\")", "'; DROP TABLE orders;--",
    "\"", "\"\"", "a,b", "行\n内换行", "\r", "\\.", "<script>alert(1)</script>", "\ufeff", "🙂", "NaN", "inf", "-inf",
    "1e308", "-1e308", "1e400", "9" * 400, "-0", "0x1F", "是", "否", "保留", "剔除", "满意", "基本满意", "投诉",
    "朝阳区", "海淀区", "建外街道", "北京市热力集团", "7天", "-3小时", "24", "39.9", "116.4", "91", "-181",
    "9999-12-31 23:59:59", "0001-01-01", "1900-01-01 00:00", "2024-02-30 10:00", "2024/3/5 14:03:00",
    "2024-03-05T14:03:00+08:00", "2024-03-05T14:03:00Z", "2024年3月5日", "13912345678", "110101199003071234",
    "张三", "长" * 100_000, "x" * 201,
]
DATE_FORMATS = ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"]
_FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz(examples: int) -> settings:
    """No deadline (the machine may be busy): the budget is the number of examples."""
    return settings(_FUZZ, max_examples=examples)

dates = st.builds(lambda d, f: d.strftime(f), st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
                  st.sampled_from(DATE_FORMATS))
numbers = st.one_of(st.integers(min_value=-10**30, max_value=10**30).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))
cells = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20), dates, numbers,
                  st.builds(lambda p, t: p + t, st.sampled_from("=+-@\t"), st.text(max_size=10)))


day_times = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2024, 5, 31))
# Cells that make sense in their column, so that most rows get as far as the database.
PLAUSIBLE = {
    "工单编号": st.integers(1, 60).map(lambda i: f"W{i}"),
    "来电时间": st.builds(lambda d, f: d.strftime(f), day_times, st.sampled_from(DATE_FORMATS[:3])),
    "办结时间": st.builds(lambda d: d.strftime("%Y/%m/%d %H:%M:%S"), day_times),
    "被反映区": st.sampled_from(["朝阳区", "海淀区", "西城区"]),
    "被反映街乡镇": st.sampled_from(["建外街道", "朝外街道", "万寿路街道", ""]),
    "是否联系": st.sampled_from(["是", "否", ""]), "是否解决": st.sampled_from(["是", "否", ""]),
    "是否满意": st.sampled_from(["满意", "基本满意", "不满意", ""]), "是否保留": st.sampled_from(["保留", "剔除"]),
}
REQUIRED = ["工单编号", "来电时间", "被反映区"]


@st.composite
def tables(draw) -> list[list[str]]:
    """A header (the required names, usually, among others, in any order) and rows of sensible and hostile
    cells, some rows shorter or longer than the header."""
    others = [h for h in HEADERS if h not in REQUIRED]
    chosen = draw(st.lists(st.sampled_from(others), unique=True, max_size=len(others)))
    names = draw(st.permutations([*REQUIRED[:draw(st.sampled_from([3, 3, 3, 2, 0]))], *chosen]))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = [draw(cells if draw(st.integers(0, 3)) == 0 else PLAUSIBLE.get(name, cells)) for name in names]
        if draw(st.integers(0, 9)) == 0:  # ragged
            row = row[:-1] if draw(st.booleans()) else [*row, draw(cells)]
        rows.append(row)
    return [names or ["备注"], *rows]


def _csv(table: list[list[str]]) -> str:
    def quoted(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell
    return "\r\n".join(",".join(quoted(c) for c in row) for row in table) + "\r\n"


@st.composite
def csv_files(draw) -> bytes:
    """The table in the encodings Excel writes, sometimes cut anywhere (mid-character) or holding a NUL."""
    data = _csv(draw(tables())).encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])))
    if draw(st.integers(0, 3)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" + data[at:]
    return data


xlsx_cells = st.one_of(
    cells.map(lambda c: ILLEGAL_CHARACTERS_RE.sub("", c)),  # characters XML cannot hold cannot be in a workbook
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
    st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**15, 10**15), st.booleans(), st.none())


@st.composite
def xlsx_files(draw) -> bytes:
    names = [*draw(tables())[0]]
    rows = draw(st.lists(st.lists(xlsx_cells, max_size=len(names) + 2), max_size=6))
    return workbook_bytes([names, *rows])


@pytest.fixture(scope="module", params=["none", "beijing"])
def engine(request, tmp_path_factory):
    """Units taken as written (most rows get as far as the database), or checked against Beijing's."""
    engine = connect(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}", profile=request.param)
    yield engine
    engine.dispose()


def _survives(engine, data: bytes, file_name: str) -> IngestResult | None:
    """The file ingested: a result whose rows add up, or a Chinese FileError that changed nothing."""
    before = _uploads(engine)
    try:
        result = ingest_file(engine, data, file_name, now=NOW)
    except FileError as exc:
        assert CHINESE.search(str(exc)), f"the message should be Chinese: {exc}"
        assert _uploads(engine) == before
        return None
    assert result.read == result.accepted + result.rejected
    if result.duplicate_of is None:
        assert result.problems["row"].nunique() == result.rejected
    _check_consistent(engine)
    return result


def _uploads(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(uploads)).scalar_one()


def _check_consistent(engine) -> None:
    """Every order came from an upload's new rows; the counts tables count every order once; every upload's
    rejected rows are in the quarantine; every upload's rows add up."""
    place = PLACE.table
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(orders)).scalar_one()
        inserted = conn.execute(select(func.coalesce(func.sum(uploads.c.inserted), 0))).scalar_one()
        counted = conn.execute(select(func.coalesce(func.sum(place.c.orders), 0)).where(place.c.basis == "received")
                               ).scalar_one()
        unbalanced = conn.execute(select(func.count()).select_from(uploads).where(
            uploads.c.rows_read != uploads.c.accepted + uploads.c.rejected)).scalar_one()
        rows = select(quarantine.c.upload_id, func.count(quarantine.c.row_number.distinct()).label("n")).group_by(
            quarantine.c.upload_id).subquery()
        unquarantined = conn.execute(select(func.count()).select_from(uploads.outerjoin(rows, rows.c.upload_id == uploads.c.id))
                                     .where(uploads.c.rejected != func.coalesce(rows.c.n, 0))).scalar_one()
    assert stored == inserted == counted
    assert unbalanced == 0 and unquarantined == 0


@fuzz(800)
@given(data=st.binary(max_size=400))
def test_random_bytes(engine, data):
    _survives(engine, data, "随机.csv")


@fuzz(300)
@given(data=st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b))
def test_random_bytes_named_xlsx(engine, data):
    _survives(engine, data, "随机.xlsx")


@fuzz(150)
@given(data=csv_files())
def test_hostile_csv(engine, data):
    _survives(engine, data, "工单.csv")


@fuzz(40)
@given(data=xlsx_files())
def test_hostile_xlsx(engine, data):
    _survives(engine, data, "工单.xlsx")


@fuzz(30)
@given(data=csv_files())
def test_the_upload_pages_preview_is_what_lands(engine, data):
    """The page checks a file (a dry run), the evaluator confirms, the file is written: the same rows accepted
    and rejected as previewed."""
    try:
        preview = prepared_file(engine, data, "工单.csv", now=NOW)
    except FileError as exc:
        assert CHINESE.search(str(exc))
        return
    if earlier_upload(engine, data) is not None:
        return
    result = committed(engine, preview, user="评价员")
    assert (result.read, result.accepted, result.rejected) == (preview.read, preview.accepted,
                                                             preview.problems["row"].nunique())
    _check_consistent(engine)


# A mapping as a hand-written TOML file may hold it: any TOML value where a setting is expected.
toml_values = st.recursive(st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False), st.booleans(),
                                     st.sampled_from(["工单编号", "来电时间", "被反映区", "%Y-%m-%d", "%Q", "满意"])),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                       max_size=3), max_leaves=6)
field_specs = st.one_of(st.sampled_from(["工单编号", "来电时间", "被反映区", "没有这列"]), toml_values,
                        st.fixed_dictionaries({}, optional={
                            "column": st.sampled_from(["工单编号", "来电时间", "被反映区"]) | toml_values,
                            "value": toml_values, "format": st.sampled_from(["%Y-%m-%d %H:%M", "%d/%m/%Y", "%Q"]),
                            "values": st.dictionaries(st.text(max_size=4), toml_values, max_size=3),
                            "invert": toml_values}))
mappings = st.fixed_dictionaries({}, optional={
    "name": toml_values, "day_first": toml_values, "aliases": toml_values, "personal": toml_values,
    "fields": st.dictionaries(st.sampled_from([*BY_NAME, "no_such_field"]), field_specs, max_size=5) | toml_values})


@fuzz(400)
@given(config=mappings)
def test_hostile_mappings(config):
    """A mapping of any shape: a Chinese FileError, or rows checked without an exception."""
    raw = pd.DataFrame({"工单编号": ["W1", "W2"], "来电时间": ["2024-03-05 10:00", "05/03/2024"],
                        "被反映区": ["朝阳区", "满意"], "_row": [2, 3]})
    try:
        mapping = resolve(config, [c for c in raw.columns if c != "_row"])
    except FileError as exc:
        assert CHINESE.search(str(exc))
        return
    checked = checked_orders(raw, mapping, load_profile("none"), NOW)
    assert len(checked.orders) + checked.problems["row"].nunique() == len(raw)


def test_the_generator_reaches_the_database(engine):
    """The fuzz is not only bouncing off the file checks: a hostile file of the same making lands rows
    (with the open profile) and rejects others, each counted."""
    header = ["工单编号", "来电时间", "被反映区", "标题", "办理时限", "纬度", "经度", "来电人电话"]
    rows = [["A1", "2024-03-05 10:00", "朝阳区", "=1+1", "7天", "39.9", "116.4", "13912345678"],
            ["A2", "9999-12-31 23:59:59", "朝阳区", "", "", "", "", ""],
            ["A3", "2024-03-05 10:00", "朝阳区", "长" * 100_000, "1e400", "", "", ""],
            ["A4", "2024-03-05 10:00"],
            ["x" * 201, "2024-03-05 10:00", "朝阳区", "", "", "", "", ""]]
    result = _survives(engine, _csv([header, *rows]).encode("gb18030"), "样例.csv")
    # A1 lands; A2 year 9999, A3 time limit, A4 ragged, the 201-character id: rejected.
    assert (result.read, result.accepted, result.rejected) == (5, 1, 4)
