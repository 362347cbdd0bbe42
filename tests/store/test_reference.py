"""store.reference: the evaluator's populations and township boundaries, checked before anything is written."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from store.query import populations
from store.read import FileError
from store.reference import load_boundaries, load_population, reference_version, township_boundaries
from tests.store.helpers import csv_bytes, ingest, table_counts

POPULATION = """
区,街乡镇,人口
朝阳区,建外街道,"12,345"
朝阳区,朝外街道,23456
海淀区,,3200000
"""


def test_population_file_loads_townships_and_districts(engine):
    assert load_population(engine, csv_bytes(POPULATION, "gbk"), "人口.csv") == 3
    districts, townships = populations(engine)
    by_district = districts.set_index("name")["population"]
    assert by_district["海淀区"] == 3200000  # uploaded
    assert by_district["朝阳区"] == 3452460  # the profile's census figure, not replaced
    assert len(districts) == 16
    by_township = townships.set_index(["district", "name"])["population"]
    assert by_township[("朝阳区", "建外街道")] == 12345
    assert by_township[("朝阳区", "朝外街道")] == 23456
    assert pd.isna(by_township[("朝阳区", "三里屯街道")])
    assert len(townships) == 343


def test_a_later_population_file_replaces_the_units_it_names(engine):
    load_population(engine, csv_bytes(POPULATION), "人口.csv")
    assert load_population(engine, csv_bytes("district,unit,population\n朝阳区,建外街道,20000\n"), "pop.csv") == 1
    _, townships = populations(engine)
    by_township = townships.set_index(["district", "name"])["population"]
    assert by_township[("朝阳区", "建外街道")] == 20000
    assert by_township[("朝阳区", "朝外街道")] == 23456
    assert table_counts(engine)["unit_population"] == 3


BAD_POPULATION = {
    "no population column": ("区,街乡镇,户数\n朝阳区,建外街道,100\n", "人口表须有「人口」列"),
    "no unit column": ("名称2,人口\n建外街道,100\n", "人口表须有「人口」列，以及「街乡镇」或「区」列"),
    "zero": ("区,街乡镇,人口\n朝阳区,建外街道,100\n朝阳区,朝外街道,0\n", "第 3 行「人口」不是正数"),
    "words": ("区,街乡镇,常住人口\n朝阳区,建外街道,很多\n", "第 2 行「常住人口」不是正数"),
    "unknown township": ("区,街乡镇,人口\n朝阳区,建外,100\n", "第 2 行：朝阳区没有名为「建外」的街乡镇"),
    "township of another district": ("区,街乡镇,人口\n海淀区,建外街道,100\n", "海淀区没有名为「建外街道」的街乡镇"),
    "unknown district": ("区,街乡镇,人口\n朝阳,,100\n", "第 2 行：未知的区「朝阳」"),
    "same unit twice": ("区,街乡镇,人口\n朝阳区,建外街道,100\n朝阳区,建外街道,200\n", "第 3 行"),
    "header only": ("区,街乡镇,人口\n", "只有表头"),
}


@pytest.mark.parametrize("text, words", BAD_POPULATION.values(), ids=BAD_POPULATION.keys())
def test_a_bad_population_file_changes_nothing(engine, text, words):
    load_population(engine, csv_bytes(POPULATION), "人口.csv")
    before = table_counts(engine)
    with pytest.raises(FileError) as caught:
        load_population(engine, csv_bytes(text), "人口.csv")
    assert words in str(caught.value)
    assert table_counts(engine) == before
    assert populations(engine)[1].set_index("name")["population"]["建外街道"] == 12345


def test_population_for_a_city_without_a_profile(open_engine):
    ingest(open_engine, "Unique Key,Created Date,Borough\n1,2024-03-05 08:00,BROOKLYN\n2,2024-03-05 09:00,QUEENS\n"
                        "3,2024-03-05 10:00,BRONX\n")
    data = csv_bytes("区,人口\nBROOKLYN,2736074\nQUEENS,2405464\n")
    assert load_population(open_engine, data, "p.csv") == 2  # accepted: an open profile takes any unit name
    districts, _ = populations(open_engine)
    # ... so the populations uploaded for those units must reach 万人诉求比, not be dropped as unknown.
    by_district = districts.set_index("name")["population"]
    assert by_district[["BROOKLYN", "QUEENS"]].tolist() == [2736074, 2405464]
    assert pd.isna(by_district["BRONX"])


def _square(lon: float, lat: float) -> list:
    return [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]]


def _collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()


def _feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


JIANWAI = _feature({"name": "建外街道", "district": "朝阳区"}, {"type": "Polygon", "coordinates": _square(116.44, 39.90)})
CHAOWAI = _feature({"name": "朝外街道", "district": "朝阳区"},
                   {"type": "MultiPolygon", "coordinates": [_square(116.43, 39.92)]})


def test_boundaries_load_and_replace_earlier_ones(engine):
    assert load_boundaries(engine, b"\xef\xbb\xbf" + _collection(JIANWAI, CHAOWAI)) == 2
    features = sorted(township_boundaries(engine), key=lambda f: f["properties"]["name"])
    assert [f["properties"] for f in features] == [{"name": "建外街道", "district": "朝阳区"},
                                                   {"name": "朝外街道", "district": "朝阳区"}]
    assert features[0]["geometry"] == JIANWAI["geometry"]
    assert features[1]["geometry"]["type"] == "MultiPolygon"
    assert load_boundaries(engine, _collection(CHAOWAI)) == 1
    assert [f["properties"]["name"] for f in township_boundaries(engine)] == ["朝外街道"]


def test_boundaries_with_another_name_property(engine):
    feature = _feature({"NAME": "三里屯街道", "QX": "朝阳区"}, JIANWAI["geometry"])
    assert load_boundaries(engine, _collection(feature), name_property="NAME", district_property="QX") == 1
    assert township_boundaries(engine)[0]["properties"] == {"name": "三里屯街道", "district": "朝阳区"}


BAD_BOUNDARIES = {
    "not json": (b"name,geometry\n", "不是有效的 GeoJSON FeatureCollection 文件"),
    "a list": (b"[1, 2]", "不是有效的 GeoJSON FeatureCollection 文件"),
    "gbk": (_collection(JIANWAI).decode().encode("gbk"), "不是有效的 GeoJSON FeatureCollection 文件"),
    "no name": (_collection(JIANWAI, _feature({"district": "朝阳区"}, JIANWAI["geometry"])),
                "第 2 个要素缺少属性「name」或不是多边形"),
    "a point": (_collection(_feature({"name": "建外街道"}, {"type": "Point", "coordinates": [116.4, 39.9]})),
                "第 1 个要素缺少属性「name」或不是多边形"),
    "no features": (_collection(), "边界未导入"),
    "same township twice": (_collection(JIANWAI, CHAOWAI, JIANWAI), "同一街乡镇出现在多个要素中"),
}


@pytest.mark.parametrize("data, words", BAD_BOUNDARIES.values(), ids=BAD_BOUNDARIES.keys())
def test_bad_boundaries_change_nothing(engine, data, words):
    load_boundaries(engine, _collection(JIANWAI, CHAOWAI))
    with pytest.raises(FileError) as caught:
        load_boundaries(engine, data)
    assert words in str(caught.value)
    assert len(township_boundaries(engine)) == 2


def test_reference_uploads_change_the_reference_version(engine):
    assert reference_version(engine) == 0
    load_population(engine, "区,街乡镇,人口\n朝阳区,建外街道,85000\n".encode(), "人口.csv")
    assert reference_version(engine) == 1
    feature = {"type": "Feature", "properties": {"name": "建外街道", "district": "朝阳区"},
               "geometry": {"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.5, 39.9], [116.5, 40.0],
                                                                [116.4, 39.9]]]}}
    load_boundaries(engine, json.dumps({"type": "FeatureCollection", "features": [feature]}).encode())
    assert reference_version(engine) == 2
