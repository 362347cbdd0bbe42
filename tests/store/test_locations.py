"""The location cubes (orders per ~500 m grid cell, half-month and township; per ~1 km cell, half-month, district
and 一级分类) equal a direct count of the stored orders after uploads that move orders and their coordinates;
store.query.location_grid answers alike from them and from the orders, for the map's cells of 500 m and 1 km, by
district and township, in any scope, of every 一级分类 or one."""
from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

import store.query
from figures import maps
from metrics.config import load_scheme
from store.cubes import LOCATION_CUBES
from store.ingest import ingest_file
from store.query import location_grid
from tests.store.helpers import csv_bytes, half_month_start, stored_orders

NOW = pd.Timestamp("2026-01-20 12:00")
PLACES = [("朝阳区", "建外街道"), ("朝阳区", "朝外街道"), ("海淀区", "万寿路街道"), ("海淀区", "")]
COLUMNS = ["工单编号", "来电时间", "被反映区", "被反映街乡镇", "一级分类", "纬度", "经度", "是否保留"]


def _row(rng: random.Random, order_id: str) -> str:
    received = pd.Timestamp("2025-11-10") + timedelta(days=rng.randrange(60), hours=rng.randrange(8, 20))
    district, township = rng.choice(PLACES)
    # Near a few points, some exactly on a 500 m line (39.9 / 0.005 = 7980), some without coordinates.
    lat, lon = ("", "") if rng.random() < 0.15 else (
        f"{rng.choice([39.9, 39.91, 39.93]) + rng.choice([0, rng.random() * 0.02]):.6f}",
        f"{rng.choice([116.4, 116.45]) + rng.choice([0, rng.random() * 0.02]):.6f}")
    return ",".join([order_id, received.strftime("%Y-%m-%d %H:%M"), district, township,
                     rng.choice(["住房", "教育"]), lat, lon, rng.choice(["保留", "剔除"])])


@pytest.fixture
def located(engine):
    """300 orders over November and December 2025, then 120 of them again elsewhere (or without coordinates)."""
    rng = random.Random(11)
    for name, ids in (("首次.csv", range(300)), ("更正.csv", range(0, 360, 3))):
        text = "\n".join([",".join(COLUMNS)] + [_row(rng, f"L{i:03d}") for i in ids])
        ingest_file(engine, csv_bytes(text), name, now=NOW)
    return engine


@pytest.mark.parametrize("cube", LOCATION_CUBES, ids=lambda cube: cube.name)
def test_location_cube_equals_a_direct_count_of_the_orders(located, cube):
    o = stored_orders(located)
    lat, lon = pd.to_numeric(o["lat"]), pd.to_numeric(o["lon"])
    cell = LOCATION_CUBES[cube]
    assert lat.isna().any() and (lat / cell == (lat / cell).round()).any()  # missing and on-the-line coordinates
    days = pd.to_datetime(o["received_day"])
    places = [k for k in cube.keys if k not in ("lon_cell", "lat_cell")]
    direct = pd.DataFrame({
        "day": half_month_start(days), **{k: o[k].astype(str) for k in places},
        "lon_cell": [None if math.isnan(x) else math.floor(x / cell) for x in lon],
        "lat_cell": [None if math.isnan(x) else math.floor(x / cell) for x in lat],
        "excluded": o["excluded"].astype(bool), "orders": 1})
    with located.connect() as conn:
        stored = pd.DataFrame(conn.execute(select(cube.table)).mappings().all())
    assert (stored["basis"] == "received").all()
    stored = stored.assign(day=pd.to_datetime(stored["day"]), excluded=stored["excluded"].astype(bool),
                           **{k: stored[k].astype(str) for k in places})
    keys = ["day", *places, "lon_cell", "lat_cell", "excluded"]
    expected = direct.astype({"lon_cell": "Int64", "lat_cell": "Int64"}).groupby(keys, dropna=False)["orders"].sum()
    got = stored.astype({"lon_cell": "Int64", "lat_cell": "Int64"}).groupby(keys, dropna=False)["orders"].sum()
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_dtype=False, check_index_type=False)


def _grids(engine, start: date, end: date) -> dict[str, pd.DataFrame]:
    out = {}
    for by in ([], ["district"], ["district", "township"]):
        for cell in (0.005, 0.01):
            for district, township in ((None, None), ("朝阳区", None), ("朝阳区", "建外街道")):
                for category in (None, "住房"):
                    grid = location_grid(engine, start, end, by, cell, district, township, category)
                    out[f"{by} {cell} {district} {township} {category}"] = grid.sort_values([*by, "lon", "lat"],
                                                                                           ignore_index=True)
    return out


@pytest.mark.parametrize("start, end", [(date(2025, 12, 1), date(2025, 12, 31)), (date(2025, 11, 19),
                                                                                  date(2025, 12, 18))])
def test_location_grid_from_the_cube_equals_the_grid_of_the_orders(located, monkeypatch, start, end):
    read_from = []
    original = store.query._location_cells
    monkeypatch.setattr(store.query, "_location_cells", lambda e, cube, *a: read_from.append(cube.name) or original(e, cube, *a))
    fast = _grids(located, start, end)
    assert {"location", "location_category"} <= set(read_from)
    scheme = load_scheme()
    asked = {"city": {}, "city 住房": {"category1": "住房"}, "朝阳区": {"district": "朝阳区"},
             "朝阳区 住房": {"district": "朝阳区", "category1": "住房"}}
    heat = {name: maps.heat_cells(located, scheme, "2025-12", **a) for name, a in asked.items()}
    median = maps.median_locations(located, scheme, "2025-12", "street")
    monkeypatch.setattr(store.query, "LOCATION_CUBES", {})  # no cube: the orders are read
    read_from.clear()
    direct = _grids(located, start, end)
    assert not read_from
    assert direct["[] 0.005 None None None"]["orders"].sum() > 100
    assert 0 < direct["[] 0.01 None None 住房"]["orders"].sum() < direct["[] 0.01 None None None"]["orders"].sum()
    for name, expected in direct.items():
        pd.testing.assert_frame_equal(fast[name], expected, check_dtype=False, obj=name)
    for name, a in asked.items():
        pd.testing.assert_frame_equal(_sorted(heat[name]), _sorted(maps.heat_cells(located, scheme, "2025-12", **a)),
                                      obj=name)
    pd.testing.assert_frame_equal(median, maps.median_locations(located, scheme, "2025-12", "street"))


def _sorted(cells: pd.DataFrame) -> pd.DataFrame:
    return cells.sort_values(["lon", "lat"], ignore_index=True)
