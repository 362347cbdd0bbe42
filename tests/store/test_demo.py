"""The synthetic demo city and the upload sample (store/demo.py), checked on the frames themselves."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from store.demo import DEMO_ID_PREFIX, HEADERS, SAMPLE_PATH, demo_order_chunks, demo_orders, demo_upload_sample
from store.profile import CityProfile, load_profile

TIME = "%Y/%m/%d %H:%M:%S"
EVENT_TIMES = ["来电时间", "联系时间", "办结时间"]
N = 20_000


@pytest.fixture(scope="module")
def profile() -> CityProfile:
    return load_profile("beijing")


@pytest.fixture(scope="module")
def orders(profile: CityProfile) -> pd.DataFrame:
    return demo_orders(N, profile=profile)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return demo_upload_sample()


def times(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column, format=TIME, errors="coerce")


def callbacks(orders: pd.DataFrame) -> pd.DataFrame:
    valid = orders[orders["是否有效回访"] == "是"]
    return valid.assign(month=times(valid["来电时间"]).dt.month, solved=valid["是否解决"] == "是")


def mistakes(frame: pd.DataFrame, profile: CityProfile) -> dict[str, list[int]]:
    """Rows an upload must reject, by kind of mistake: what the demo never does and the sample does once each."""
    received, closed = times(frame["来电时间"]), times(frame["办结时间"])
    known_district = frame["被反映区"].isin(profile.districts["name"])
    towns = set(zip(profile.townships["district"], profile.townships["name"]))
    foreign_town = np.array([pair not in towns for pair in zip(frame["被反映区"], frame["被反映街乡镇"])])
    lon_min, lat_min, lon_max, lat_max = profile.bbox
    inside = frame["纬度"].astype(float).between(lat_min, lat_max) & frame["经度"].astype(float).between(lon_min, lon_max)
    checks = {
        "必填项为空": frame[["工单编号", "来电时间", "被反映区"]].eq("").any(axis=1),
        "时间无法识别": received.isna() & frame["来电时间"].ne(""),
        "时间在未来": received > pd.Timestamp.now(),
        "办结早于来电": closed < received,
        "区名不在档案中": ~known_district,
        "街乡镇不属于该区": known_district & foreign_town,
        "坐标在北京以外": ~inside,
        "是否满意取值无效": ~frame["是否满意"].isin(["", "满意", "基本满意", "不满意"]),
        "是否取值无效": ~frame[["是否有效回访", "是否联系", "是否解决"]].isin(["", "是", "否"]).all(axis=1),
        "工单编号重复": frame["工单编号"].duplicated() & frame["工单编号"].ne(""),
    }
    return {kind: np.flatnonzero(rows).tolist() for kind, rows in checks.items() if rows.any()}


# --- the demo year ------------------------------------------------------------------------------------------

def test_columns_are_the_exports_headers_holding_strings_only(orders: pd.DataFrame) -> None:
    assert tuple(orders.columns) == HEADERS
    assert all(pd.api.types.is_string_dtype(orders[c]) for c in orders)
    assert not orders.isna().any().any()
    assert len(orders) == N


def test_same_seed_gives_the_same_year_and_another_seed_another(profile: CityProfile) -> None:
    first = demo_orders(2_000, seed=11, profile=profile)
    pd.testing.assert_frame_equal(first, demo_orders(2_000, seed=11, profile=profile))
    other = demo_orders(2_000, seed=12, profile=profile)
    assert (first["被反映街乡镇"] != other["被反映街乡镇"]).mean() > 0.5


def test_every_demo_row_is_valid(orders: pd.DataFrame, profile: CityProfile) -> None:
    assert mistakes(orders, profile) == {}
    assert orders["工单编号"].str.startswith(f"{DEMO_ID_PREFIX}2025").all()
    for column in ["联系时间", "办结时间", "截止时间"]:
        filled = orders[column] != ""
        assert times(orders.loc[filled, column]).notna().all(), column


def test_district_volumes_follow_population(orders: pd.DataFrame, profile: CityProfile) -> None:
    population = profile.districts.set_index("name")["population"]
    volume = orders["被反映区"].value_counts(normalize=True).reindex(population.index, fill_value=0)
    assert (volume > 0).all()
    assert (volume - population / population.sum()).abs().max() < 0.01


def test_heating_is_a_winter_topic(orders: pd.DataFrame) -> None:
    month = times(orders["来电时间"]).dt.month
    heating = (orders["二级分类"] == "供暖").groupby(month).mean()
    assert heating[1] > 0.1
    assert heating[1] > 20 * heating[7]


def test_resolution_improves_from_about_80_to_about_93_percent(orders: pd.DataFrame) -> None:
    solved = callbacks(orders).groupby("month")["solved"].mean()
    assert 0.75 < solved[1] < 0.85
    assert 0.90 < solved[12] < 0.96
    assert solved[12] - solved[1] > 0.08


def test_townships_differ_in_quality_beyond_chance(orders: pd.DataFrame) -> None:
    towns = callbacks(orders[orders["承办单位类型"] == "街乡镇"]).groupby("主办单位")["solved"].agg(["mean", "size"])
    towns = towns[towns["size"] >= 30]
    p = towns["mean"].mean()
    chance = (p * (1 - p) / towns["size"]).mean()  # the spread equal rates would show
    assert towns["mean"].var() > 1.5 * chance


def test_hard_topics_are_solved_less_often(orders: pd.DataFrame) -> None:
    solved = callbacks(orders).groupby("二级分类")["solved"].mean()
    assert solved["预付卡退费"] < solved["供水"] - 0.1


def test_type_handler_and_outcome_mixes(orders: pd.DataFrame) -> None:
    request_type = orders["工单类型"].value_counts(normalize=True)
    assert abs(request_type["求助"] - 0.45) < 0.02 and abs(request_type["投诉"] - 0.38) < 0.02
    assert abs(request_type["表扬"] - 0.01) < 0.005
    handler_type = orders["承办单位类型"].value_counts(normalize=True)
    for kind, share in {"街乡镇": 0.80, "市级部门": 0.10, "企业": 0.07, "区": 0.03}.items():
        assert abs(handler_type[kind] - share) < 0.015, kind
    closed = orders[orders["工单状态"] == "已办结"]
    assert 0.02 < 1 - len(closed) / N < 0.045
    assert abs((closed["是否有效回访"] == "是").mean() - 0.88) < 0.02
    assert 0.02 < (orders["是否保留"] == "剔除").mean() < 0.04
    valid = callbacks(orders)
    assert 0.10 < (valid["是否满意"] == "基本满意").mean() < 0.15
    assert (valid["是否联系"] == "是").mean() > 0.96


def test_handlers_fit_their_topic_and_place(orders: pd.DataFrame) -> None:
    by_company = orders[orders["承办单位类型"] == "企业"]
    assert set(by_company.loc[by_company["二级分类"] == "供暖", "主办单位"]) == {"北京市热力集团"}
    assert "欠薪" not in set(by_company["二级分类"])
    by_town = orders[orders["承办单位类型"] == "街乡镇"]
    assert (by_town["主办单位"] == by_town["被反映街乡镇"]).all()
    by_district = orders[orders["承办单位类型"] == "区"]
    assert (by_district["主办单位"] == by_district["被反映区"]).all()


def test_coordinates_lie_in_their_district(orders: pd.DataFrame, profile: CityProfile) -> None:
    shapes = {f["properties"]["name"]: shape(f["geometry"]) for f in profile.district_geojson()["features"]}
    for district, rows in orders.groupby("被反映区"):
        lon, lat = rows["经度"].astype(float).to_numpy(), rows["纬度"].astype(float).to_numpy()
        assert shapely.contains_xy(shapes[district], lon, lat).all(), district
    # Clustered by township: a township's orders lie much closer together than its district's.
    lat = orders["纬度"].astype(float)
    assert lat.groupby(orders["被反映街乡镇"]).std().median() < 0.5 * lat.groupby(orders["被反映区"]).std().median()


def test_times_stay_in_the_year_and_deadlines_follow_urgency(orders: pd.DataFrame) -> None:
    for column in EVENT_TIMES:
        assert times(orders[column]).max() < pd.Timestamp("2026-01-01"), column
    hours = (times(orders["截止时间"]) - times(orders["来电时间"])) / pd.Timedelta(hours=1)
    assert set(hours[orders["紧急程度"] == "特急"]) == {2}
    assert set(hours[orders["紧急程度"] == "紧急"]) == {24}
    assert set(hours[orders["紧急程度"] == "一般"]) == {168, 360}
    closed = orders["工单状态"] == "已办结"
    late = times(orders.loc[closed, "办结时间"]) > times(orders.loc[closed, "截止时间"])
    assert 0.02 < late.mean() < 0.12
    assert (times(orders["联系时间"]) >= times(orders["来电时间"])).where(orders["联系时间"] != "", True).all()


def test_open_orders_have_no_closing_and_no_callback(orders: pd.DataFrame) -> None:
    still_open = orders[orders["工单状态"] == "办理中"]
    assert (still_open[["办结时间", "是否有效回访", "是否解决", "是否满意"]] == "").all().all()
    assert times(still_open["来电时间"]).dt.month.min() >= 11


def test_the_current_year_stops_before_today(profile: CityProfile) -> None:
    year = (date.today() - timedelta(days=2)).year  # on 1 and 2 January, last year: today has no past yet
    orders = demo_orders(2_000, year=year, profile=profile)
    today = pd.Timestamp(date.today())
    for column in EVENT_TIMES:
        assert times(orders[column]).max() < today, column


def test_some_callers_call_again_about_the_same_place(orders: pd.DataFrame) -> None:
    repeated = orders[orders["来电人电话"].duplicated(keep=False)]
    assert 0.1 < len(repeated) / N < 0.2
    assert (repeated.groupby("来电人电话")["被反映街乡镇"].nunique() == 1).all()
    assert (repeated.groupby("来电人电话")["来电人"].nunique() == 1).all()


def test_some_contents_quote_a_phone_or_id_number(orders: pd.DataFrame) -> None:
    quoting = orders["主要内容"].str.contains(r"1[3-9]\d{9}|\d{17}[\dX]")
    assert 0.01 < quoting.mean() < 0.03


# --- the upload sample --------------------------------------------------------------------------------------

def test_sample_has_exactly_one_bad_row_of_each_documented_kind(sample: pd.DataFrame, profile: CityProfile) -> None:
    assert len(sample) == 300
    assert mistakes(sample, profile) == {
        "时间无法识别": [10], "时间在未来": [40], "办结早于来电": [70], "区名不在档案中": [112],
        "街乡镇不属于该区": [130], "坐标在北京以外": [160], "是否满意取值无效": [190], "工单编号重复": [220],
        "必填项为空": [250], "是否取值无效": [280],
    }
    assert sample.loc[112, "被反映区"] == "朝阳"
    assert (sample["工单编号"] == sample.loc[220, "工单编号"]).sum() == 2
    assert sample.loc[190, "是否满意"] == "很好"


def test_sample_file_is_the_sample_as_excel_saves_it(sample: pd.DataFrame) -> None:
    raw = SAMPLE_PATH.read_bytes()
    assert raw.count(b"\r\n") == len(sample) + 1
    pd.testing.assert_frame_equal(
        pd.read_csv(SAMPLE_PATH, encoding="gb18030", dtype=str, keep_default_na=False), sample)


def test_sample_readme_names_every_bad_line(sample: pd.DataFrame, profile: CityProfile) -> None:
    readme = (SAMPLE_PATH.parent / "README.md").read_text(encoding="utf-8")
    for kind, rows in mistakes(sample, profile).items():
        assert f"第 {rows[0] + 2} 行" in readme, kind


def _frame_of(chunks) -> pd.DataFrame:
    frame = pd.concat(list(chunks), ignore_index=True)
    for column in ("来电时间", "办结时间"):
        frame[column] = pd.to_datetime(frame[column].replace("", None), format="%Y/%m/%d %H:%M:%S")
    return frame


def test_benchmark_orders_of_one_month_are_the_year_moved_into_december():
    year = _frame_of(demo_order_chunks(3000, chunk=1000, distinct=2))
    month = _frame_of(demo_order_chunks(3000, chunk=1000, distinct=2, months=1))
    assert len(month) == len(year) == 3000 and month["工单编号"].is_unique
    assert set(year["来电时间"].dt.month) == set(range(1, 13))
    assert (month["来电时间"].dt.strftime("%Y-%m") == "2025-12").all()
    for _, copy in month.groupby(month["工单编号"].str[:-8]):  # each copy an export sorted by time, numbered as received
        assert copy["来电时间"].is_monotonic_increasing and copy["工单编号"].is_monotonic_increasing
    # Every time of an order moved by the same days: how long orders took is unchanged.
    took = [sorted((f["办结时间"] - f["来电时间"]).dropna()) for f in (year, month)]
    assert took[0] == took[1]


def test_the_city_bbox_holds_every_district_boundary(profile):
    """Coordinates inside a district are never rejected as outside the city (the demo scatters points up to the
    boundary: one just below 41.0608° N once fell outside a bbox ending at 41.06)."""
    lon_min, lat_min, lon_max, lat_max = profile.bbox
    shapes = [shape(f["geometry"]) for f in profile.district_geojson()["features"]]
    west, south, east, north = shapely.total_bounds(shapes)
    assert lon_min <= west and lat_min <= south and east <= lon_max and north <= lat_max


def test_a_copy_of_a_generated_frame_has_callers_of_its_own():
    """Benchmark copies are other people's orders: were their callers the originals', every copied order would
    be a repeat call (0 days after its original) and 重复诉求 would count the copies."""
    frame = pd.concat(list(demo_order_chunks(3000, chunk=1000, distinct=2)), ignore_index=True)
    copies = {key: rows.set_index(rows["工单编号"].str[-8:]) for key, rows in frame.groupby(frame["工单编号"].str[:-8])}
    original, copy = (copies[k] for k in sorted(copies)[0::2])  # copies 0 and 2: the same generated frame
    assert original["标题"].tolist() == copy["标题"].tolist()  # the same orders, row for row
    assert (original["来电人电话"] != copy["来电人电话"]).all()
    # one number for one number: the frame's own repeat callers stay repeat callers in the copy
    assert pd.crosstab(original["来电人电话"], copy["来电人电话"]).astype(bool).sum().eq(1).all()
    assert copy["来电人电话"].nunique() == original["来电人电话"].nunique() < len(copy)
    assert (original["来电人电话"].str[:3] == copy["来电人电话"].str[:3]).all()  # the same kind of mobile number
