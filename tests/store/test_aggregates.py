"""The counts tables always equal a direct count of the stored orders, whatever sequence of uploads,
re-uploads and late callbacks made them; and store.query.counts answers alike from either."""
from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pandas as pd
import polars as pl
import pytest
from sqlalchemy import Integer, func, inspect, select

import store.aggregates
import store.cubes
import store.db
import store.query
import store.read
from metrics.rates import COUNT_COLUMNS
from store.aggregates import order_frame
from store.cubes import BASES, COUNT_CUBES, HALF_MONTHS, declared
from store.db import connect
from store.demo import load_demo
from store.ingest import ingest_file
from store.query import counts, period_counts
from store.tables import meta, orders
from tests.store.helpers import NOW, csv_bytes, half_month_start, made_schema_2, stored_orders

CUBES = {c.name: c for c in COUNT_CUBES}
PLACES = [("朝阳区", "建外街道"), ("朝阳区", "朝外街道"), ("海淀区", "万寿路街道"), ("西城区", "")]
HANDLERS = ["", "", "朝阳区城管委", "北京市热力集团", "市交通委"]
COLUMNS = ["工单编号", "来电时间", "办结时间", "被反映区", "被反映街乡镇", "主办单位", "工单类型", "一级分类", "渠道",
           "是否联系", "是否解决", "是否满意", "是否有效回访", "是否保留"]
OPTIONAL = ["主办单位", "渠道", "是否有效回访", "是否保留"]  # a later export may lack these columns
FIRST_DAY = date(2024, 2, 10)  # the days cross the 19th of February, March and April: cycles cut months


def _cell(rng: random.Random, *choices: str) -> str:
    return rng.choice(choices)


def _row(rng: random.Random, order_id: str) -> dict[str, str]:
    received = pd.Timestamp(FIRST_DAY + timedelta(days=rng.randrange(75))) + pd.Timedelta(hours=rng.randrange(8, 20))
    closed = received + pd.Timedelta(hours=rng.randrange(1, 24 * 12)) if rng.random() < 0.7 else None
    district, township = rng.choice(PLACES)
    answered = closed is not None and rng.random() < 0.8
    return {
        "工单编号": order_id, "来电时间": received.strftime("%Y-%m-%d %H:%M"),
        "办结时间": closed.strftime("%Y/%m/%d %H:%M:%S") if closed is not None else "",
        "被反映区": district, "被反映街乡镇": township, "主办单位": rng.choice(HANDLERS),
        "工单类型": _cell(rng, "投诉", "求助", "咨询", ""), "一级分类": _cell(rng, "城乡建设", "公共服务", ""),
        "渠道": _cell(rng, "12345热线", "微信", ""),
        "是否联系": _cell(rng, "是", "否", "") if answered else "",
        "是否解决": _cell(rng, "是", "否", "") if answered else "",
        "是否满意": _cell(rng, "满意", "基本满意", "不满意", "") if answered else "",
        "是否有效回访": _cell(rng, "是", "否", "", "") if answered else "",
        "是否保留": _cell(rng, "保留", "剔除", "", "保留"),
    }


def _file(rng: random.Random, pool: list[str]) -> str:
    columns = [c for c in COLUMNS if c not in OPTIONAL or rng.random() < 0.7]
    rows = [_row(rng, rng.choice(pool)) for _ in range(rng.randrange(1, 12))]
    return "\n".join([",".join(columns)] + [",".join(r[c] for c in columns) for r in rows])


def direct_counts(engine, keys: tuple[str, ...], basis: str) -> pd.DataFrame:
    """Counts per (day, *keys, excluded) worked out here from the stored orders, independently of the store."""
    o = stored_orders(engine)
    o = o[o[BASES[basis]].notna()]
    valid = o["callback_valid"].eq(True)
    flags = pd.DataFrame({
        "orders": 1, "closed": o["closed_at"].notna(), "callbacks": valid,
        "answered": o["contacted"].notna() | o["resolved"].notna() | o["satisfaction"].notna(),
        "contacted": valid & o["contacted"].eq(True), "resolved": valid & o["resolved"].eq(True),
        "satisfied": valid & o["satisfaction"].eq("满意"), "basic_satisfied": valid & o["satisfaction"].eq("基本满意"),
        "dissatisfied": valid & o["satisfaction"].eq("不满意")}, index=o.index).astype("int64")
    frame = pd.concat([o[list(keys)].assign(day=pd.to_datetime(o[BASES[basis]]), excluded=o["excluded"].astype(bool)),
                       flags], axis=1)
    return _canonical(frame.groupby(["day", *keys, "excluded"], dropna=False)[list(COUNT_COLUMNS)].sum().reset_index(),
                      keys)


def cube_rows(engine, cube: str, basis: str) -> pd.DataFrame:
    table = CUBES[cube].table
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.basis == basis)).mappings().all()
    frame = pd.DataFrame(rows, columns=list(table.c.keys())).drop(columns="basis")
    return _canonical(frame.assign(day=pd.to_datetime(frame["day"]), excluded=frame["excluded"].astype(bool)),
                      CUBES[cube].keys)


def _canonical(frame: pd.DataFrame, keys) -> pd.DataFrame:
    columns = ["day", *keys, "excluded", *COUNT_COLUMNS]
    frame = frame[columns].astype({c: "int64" for c in COUNT_COLUMNS}).astype({k: object for k in keys})
    frame[list(keys)] = frame[list(keys)].where(frame[list(keys)].notna(), None)
    return frame.sort_values(["day", *keys, "excluded"], key=lambda s: s.astype(str)).reset_index(drop=True)


def assert_cubes_agree(engine) -> None:
    """Every count cube holds what a direct count of the stored orders gives, cell by cell."""
    for cube in COUNT_CUBES:
        for basis in BASES:
            expected = direct_counts(engine, cube.keys, basis)
            if cube.starts:  # the days summed into their half-month cells
                assert cube.starts == HALF_MONTHS
                expected = _canonical(expected.assign(day=half_month_start(expected["day"])).groupby(
                    ["day", *cube.keys, "excluded"], dropna=False)[list(COUNT_COLUMNS)].sum().reset_index(), cube.keys)
            pd.testing.assert_frame_equal(cube_rows(engine, cube.name, basis), expected,
                                          obj=f"{cube.name} by {basis} day")


def assert_counts_agree(engine) -> None:
    assert_cubes_agree(engine)
    cycle = (date(2024, 2, 19), date(2024, 3, 18))  # 2024-03 of a scheme whose cycle starts on the 19th
    for by, district in ((["district", "township"], None), (["handler_type", "handler"], None),
                         (["request_type"], "朝阳区"), (["category1"], None), (["channel"], None), ([], "海淀区")):
        for by_closed in (False, True):
            got = counts(engine, by, *cycle, by_closed, district)
            expected = direct_counts(engine, tuple(dict.fromkeys([*by, "district"])), "closed" if by_closed else "received")
            expected = expected[expected["day"].between(*map(pd.Timestamp, cycle))]
            if district:
                expected = expected[expected["district"] == district]
            expected = expected.groupby(["day", *by, "excluded"], dropna=False)[list(COUNT_COLUMNS)].sum()
            got = got.groupby(["day", *by, "excluded"], dropna=False)[list(COUNT_COLUMNS)].sum()
            pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index(), check_index_type=False,
                                          obj=f"counts by {by} in {district}, closed days {by_closed}")
            whole = period_counts(engine, by, [cycle], by_closed, district)  # the cycle summed in one row a key
            assert (whole["day"] == pd.Timestamp(cycle[0])).all()
            pd.testing.assert_frame_equal(
                whole.groupby([*by, "excluded"], dropna=False)[list(COUNT_COLUMNS)].sum().sort_index(),
                expected.groupby([*by, "excluded"], dropna=False).sum().sort_index(), check_index_type=False,
                obj=f"the cycle's counts by {by} in {district}, closed days {by_closed}")


# Changes held until the end of each upload (written straight into days a cube has no rows of, merged into the
# others), or reaching the staging tables during the upload too, summed again before they do.
@pytest.mark.parametrize("seed, pending_bytes", [(1, 1_000), (2, 10**9)])
def test_counts_tables_follow_any_sequence_of_uploads(engine, monkeypatch, seed, pending_bytes):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 200)  # a few rows a chunk: an upload's days span chunks
    monkeypatch.setattr(store.aggregates, "_PENDING_BYTES", pending_bytes)
    monkeypatch.setattr(store.aggregates, "_SUM_AGAIN_ROWS", 3)
    rng = random.Random(seed)
    pool = [f"R{i}" for i in range(14)]
    sent: list[bytes] = []
    for step in range(6):
        action = rng.random()
        if sent and action < 0.2:
            data = rng.choice(sent)  # the very same bytes again: nothing changes
        elif sent and action < 0.3:
            data = rng.choice(sent).decode().encode("gb18030")  # the same orders in another encoding
        else:
            data = csv_bytes(_file(rng, pool))
            sent.append(data)
        ingest_file(engine, data, f"第{step}次.csv", now=NOW)
        assert_counts_agree(engine)


def test_a_callback_file_moves_orders_between_cells(engine):
    ingest_file(engine, csv_bytes("""
工单编号,来电时间,被反映区,被反映街乡镇,办结时间,是否满意,是否保留
A1,2024-03-18 09:00,朝阳区,建外街道,,,保留
A2,2024-03-19 09:00,朝阳区,建外街道,,,保留
"""), "首次.csv", now=NOW)
    ingest_file(engine, csv_bytes("""
工单编号,来电时间,被反映区,被反映街乡镇,办结时间,是否满意,是否保留
A1,2024-03-19 10:00,朝阳区,朝外街道,2024-03-20 10:00,满意,剔除
A2,2024-03-19 09:00,朝阳区,建外街道,2024-03-19 18:00,不满意,保留
"""), "回访.csv", now=NOW)
    assert_counts_agree(engine)
    place = cube_rows(engine, "place", "received")
    assert place[["township", "orders", "satisfied", "dissatisfied"]].values.tolist() == [
        ["建外街道", 1, 0, 1], ["朝外街道", 1, 1, 0]]  # A1 left 03-18 and 建外街道 for 03-19 and 朝外街道


def test_a_schema_1_database_is_upgraded(tmp_path, monkeypatch):
    monkeypatch.setenv("PII_HASH_KEY", "test-key")
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = connect(url)
    rng = random.Random(5)
    for step in range(3):
        ingest_file(engine, csv_bytes(_file(rng, [f"R{i}" for i in range(10)])), f"{step}.csv", now=NOW)
    made_schema_2(engine)
    with engine.begin() as conn:  # what schema 1 had: no count flags, no counts tables
        for cube in COUNT_CUBES:
            cube.table.drop(conn)
        conn.exec_driver_sql("ALTER TABLE orders DROP COLUMN counted")
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value="1"))
    engine.dispose()
    engine = connect(url)
    assert_counts_agree(engine)
    with engine.connect() as conn:
        assert conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one() == "3"
        assert conn.execute(select(orders.c.counted).where(orders.c.counted > 0)).first() is not None


def _hours_to_close(rows: pl.DataFrame) -> pl.DataFrame:
    """A derived key: whole days from 受理 to 办结 (-1 while open), with the orders and the satisfied."""
    days = (pl.col("closed_at") - pl.col("received_at")).dt.total_seconds() // 86400
    return rows.select("district", days_open=days.fill_null(-1), orders=pl.lit(1),
                       satisfied=(pl.col("satisfaction") == "满意").fill_null(False).cast(pl.Int64))


DAYS_OPEN = declared("test_days_open", ("district", "days_open"), ("orders", "satisfied"), _hours_to_close,
                     bases=("received",), key_types={"days_open": Integer()},
                     reads=("district", "received_at", "closed_at", "satisfaction"))


def _days_open_direct(engine) -> pd.DataFrame:
    o = stored_orders(engine)
    days = (pd.to_datetime(o["closed_at"]) - pd.to_datetime(o["received_at"])).dt.days.fillna(-1).astype("int64")
    frame = pd.DataFrame({"day": pd.to_datetime(o["received_day"]), "district": o["district"], "days_open": days,
                          "excluded": o["excluded"].astype(bool), "orders": 1, "satisfied": o["satisfaction"].eq("满意")})
    return frame.groupby(["day", "district", "days_open", "excluded"], dropna=False)[["orders", "satisfied"]].sum()


def _days_open_stored(engine) -> pd.DataFrame:
    table = DAYS_OPEN.table
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(select(table)).mappings().all(), columns=list(table.c.keys()))
    frame = frame.assign(day=pd.to_datetime(frame["day"]), excluded=frame["excluded"].astype(bool))
    return frame.groupby(["day", "district", "days_open", "excluded"], dropna=False)[["orders", "satisfied"]].sum()


def test_a_cube_declared_later_is_built_from_the_orders_and_then_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("PII_HASH_KEY", "test-key")
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 200)
    url = f"sqlite:///{tmp_path / 'later.sqlite'}"
    rng = random.Random(9)
    pool = [f"R{i}" for i in range(12)]
    engine = connect(url)
    for step in range(3):
        ingest_file(engine, csv_bytes(_file(rng, pool)), f"{step}.csv", now=NOW)
    engine.dispose()
    with_it = (*store.cubes.CUBES, DAYS_OPEN)
    monkeypatch.setattr(store.cubes, "CUBES", with_it)
    monkeypatch.setattr(store.aggregates, "CUBES", with_it)
    monkeypatch.setattr(store.db, "CUBES", with_it)
    engine = connect(url)  # the new cube is built here, from the orders already stored
    built = _days_open_stored(engine)
    assert built["orders"].sum() == len(stored_orders(engine)) > 0
    pd.testing.assert_frame_equal(built.sort_index(), _days_open_direct(engine).sort_index(), check_dtype=False)
    for step in range(3, 7):  # uploads and re-uploads move orders between its cells
        ingest_file(engine, csv_bytes(_file(rng, pool)), f"{step}.csv", now=NOW)
        pd.testing.assert_frame_equal(_days_open_stored(engine).sort_index(), _days_open_direct(engine).sort_index(),
                                      check_dtype=False)
    assert_counts_agree(engine)


HALF = declared("test_half_months", ("district", "township", "category1"), starts=HALF_MONTHS)


def test_a_cube_of_half_months_is_exact_and_serves_whole_periods_only(engine, monkeypatch):
    monkeypatch.setattr(store.read, "CHUNK_BYTES", 200)
    with_it = (*store.cubes.CUBES, HALF)
    for module in (store.cubes, store.aggregates, store.db):
        monkeypatch.setattr(module, "CUBES", with_it)
    monkeypatch.setattr(store.query, "COUNT_CUBES", (HALF, *COUNT_CUBES))  # the first choice wherever it serves
    read_from = []
    original = store.query.counts_from_cube
    monkeypatch.setattr(store.query, "counts_from_cube", lambda cube, *a: read_from.append(cube.name) or original(cube, *a))
    rng = random.Random(4)
    pool = [f"R{i}" for i in range(14)]
    for step in range(4):
        ingest_file(engine, csv_bytes(_file(rng, pool)), f"{step}.csv", now=NOW)
        direct = direct_counts(engine, HALF.keys, "received")
        direct["day"] = half_month_start(direct["day"])
        expected = direct.groupby(["day", *HALF.keys, "excluded"], dropna=False)[list(COUNT_COLUMNS)].sum()
        with engine.connect() as conn:
            stored = pd.DataFrame(conn.execute(select(HALF.table).where(HALF.table.c.basis == "received")).mappings().all())
        stored = stored.assign(day=pd.to_datetime(stored["day"]), excluded=stored["excluded"].astype(bool))
        pd.testing.assert_frame_equal(
            stored.groupby(["day", *HALF.keys, "excluded"], dropna=False)[list(COUNT_COLUMNS)].sum().sort_index(),
            expected.sort_index(), check_dtype=False, check_index_type=False)
        read_from.clear()
        assert_counts_agree(engine)  # days from the day cubes, the 19th–18th cycle from either
        assert "test_half_months" in read_from
    assert HALF.holds(date(2024, 2, 19), date(2024, 3, 18)) and HALF.holds(date(2024, 3, 1), date(2024, 3, 31))
    assert not HALF.holds(date(2024, 3, 2), date(2024, 3, 31)) and not HALF.holds(date(2024, 3, 1), date(2024, 3, 7))


def test_a_database_from_before_the_cube_record_gets_the_cubes_declared_since(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.sqlite'}"
    engine = connect(url)
    rng = random.Random(6)
    for step in range(3):
        ingest_file(engine, csv_bytes(_file(rng, [f"R{i}" for i in range(10)])), f"{step}.csv", now=NOW)
    newer = [c for c in store.cubes.CUBES if c.name not in ("place", "unit", "channel", "request", "topic")]
    assert newer, "cubes declared after the record began"
    with engine.begin() as conn:  # what such a database held: the five first counts tables, no record
        for cube in newer:
            cube.table.drop(conn)
        conn.execute(meta.delete().where(meta.c.key == "cubes"))
    engine.dispose()
    engine = connect(url)
    assert_counts_agree(engine)  # the count cubes among them are built from the orders, not left empty
    with engine.connect() as conn:
        for cube in newer:
            received = select(func.sum(cube.table.c.orders)).where(cube.table.c.basis == "received")
            assert conn.execute(received).scalar_one() == len(stored_orders(engine)), cube.name


def test_the_table_of_a_cube_no_longer_declared_goes(tmp_path):
    url = f"sqlite:///{tmp_path / 'gone.sqlite'}"
    engine = connect(url)
    with engine.begin() as conn:  # as left by a cube of former time limits
        conn.exec_driver_sql('CREATE TABLE "counts_timeliness_unit_00000000" (day DATE)')
        recorded = json.loads(conn.execute(select(meta.c.value).where(meta.c.key == "cubes")).scalar_one())
        conn.execute(meta.update().where(meta.c.key == "cubes").values(
            value=json.dumps({**recorded, "timeliness_unit_00000000": "[]"})))
    engine.dispose()
    engine = connect(url)
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        assert "counts_timeliness_unit_00000000" not in names and "counts_place" in names
        assert "timeliness_unit_00000000" not in conn.execute(select(meta.c.value).where(meta.c.key == "cubes")).scalar_one()


def test_each_cube_reads_only_the_columns_it_declares(engine):
    """A cube built from the stored orders (store.db.connect) fetches only its `reads`: its contributions from
    those columns equal those from every column, for orders with and without their own deadline (without, the
    time limit follows urgency and categories)."""
    load_demo(engine, 2_000)
    rows = stored_orders(engine).reset_index(drop=True)
    rows.loc[rows.index % 2 == 0, ["deadline_at", "time_limit_hours"]] = None
    assert rows[["urgency", "category2", "title", "lon", "deadline_at"]].notna().any().all()
    every = order_frame(rows, set(rows.columns))
    for cube in store.cubes.CUBES:
        assert cube.contributions(order_frame(rows, set(cube.reads))).equals(cube.contributions(every)), cube.name


def test_a_ranking_period_is_summed_from_the_half_month_cubes(engine, monkeypatch):
    ingest_file(engine, csv_bytes(_file(random.Random(8), [f"R{i}" for i in range(12)])), "0.csv", now=NOW)
    read_from = []
    original = store.query.counts_from_cube
    monkeypatch.setattr(store.query, "counts_from_cube", lambda cube, *a: read_from.append(cube.name) or original(cube, *a))
    month, cycle, days = (date(2024, 3, 1), date(2024, 3, 31)), (date(2024, 2, 19), date(2024, 3, 18)), (
        date(2024, 3, 2), date(2024, 3, 31))
    for by, half, day in ((["district", "township"], "place_half", "place"), (["handler_type", "handler"], "unit_half", "unit")):
        read_from.clear()
        period_counts(engine, by, [month, cycle, days])
        assert read_from == [half, half, day], by  # 3/2–3/31 is not whole half months: the day cube
