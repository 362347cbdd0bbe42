"""Reference data the evaluator supplies because it is not public: township populations and boundaries."""
from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import Engine, delete, insert, select

from store.db import active_profile, set_setting, setting
from store.mapping import normalise
from store.read import FileError, read_table
from store.tables import boundaries, unit_population

_POPULATION_HEADERS = {"district": ("区", "district", "所属区"), "unit": ("街乡镇", "单位", "unit", "名称", "name"),
                       "population": ("人口", "常住人口", "population")}


def load_population(engine: Engine, data: bytes, file_name: str, source: str = "评价人员上传") -> int:
    """A CSV/XLSX of (区, 街乡镇, 人口) rows; a row without 街乡镇 is a district. Replaces earlier values."""
    raw = read_table(data, file_name).frame
    cols = {key: next((c for c in raw.columns if normalise(c) in map(normalise, names)), None)
            for key, names in _POPULATION_HEADERS.items()}
    if cols["population"] is None or (cols["unit"] is None and cols["district"] is None):
        raise FileError("人口表须有「人口」列，以及「街乡镇」或「区」列。")
    frame = pd.DataFrame({
        "district": raw[cols["district"]].str.strip() if cols["district"] else "",
        "unit": raw[cols["unit"]].str.strip() if cols["unit"] else "",
        "population": pd.to_numeric(raw[cols["population"]].str.replace(",", ""), errors="coerce"),
        "row": raw["_row"]})
    bad = frame[~frame["population"].between(0, float("inf"), inclusive="neither")]  # missing, <= 0, or 1e400
    if not bad.empty:
        row = bad.iloc[0]
        raise FileError(f"第 {row['row']} 行「{cols['population']}」不是正数，人口表未导入。")
    repeated = frame[frame.duplicated(["district", "unit"])]  # would break the table's primary key
    if not repeated.empty:
        raise FileError(f"第 {repeated.iloc[0]['row']} 行与前面某行是同一单位，人口表未导入。")
    _check_units(frame, engine)
    frame["level"] = frame["unit"].map(lambda u: "township" if u else "district")
    frame.loc[frame["level"] == "district", "unit"] = frame["district"]
    frame.loc[frame["level"] == "district", "district"] = ""
    records = frame.drop(columns="row").assign(source=source).to_dict("records")
    with engine.begin() as conn:
        for level in frame["level"].unique():
            names = frame.loc[frame["level"] == level, "unit"].tolist()
            conn.execute(delete(unit_population).where(unit_population.c.level == level,
                                                       unit_population.c.unit.in_(names)))
        conn.execute(insert(unit_population), records)
    _bump_reference_version(engine)
    return len(records)


def _check_units(frame: pd.DataFrame, engine: Engine) -> None:
    profile = active_profile(engine)
    if profile.is_open:
        return
    known = set(zip(profile.townships["district"], profile.townships["name"]))
    for row in frame.itertuples():
        if row.unit and (row.district, row.unit) not in known:
            raise FileError(f"第 {row.row} 行：{row.district}没有名为「{row.unit}」的街乡镇，人口表未导入。")
        if not row.unit and row.district not in set(profile.districts["name"]):
            raise FileError(f"第 {row.row} 行：未知的区「{row.district}」，人口表未导入。")


def load_boundaries(engine: Engine, data: bytes, name_property: str = "name",
                    district_property: str = "district") -> int:
    """A GeoJSON FeatureCollection of township polygons; each feature names its township (and district)."""
    try:
        collection = json.loads(data.decode("utf-8-sig"))
        features = collection["features"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise FileError("不是有效的 GeoJSON FeatureCollection 文件。") from exc
    rows = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            raise FileError(f"第 {number} 个要素不是 GeoJSON 对象，边界未导入。")
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        if not props.get(name_property) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise FileError(f"第 {number} 个要素缺少属性「{name_property}」或不是多边形，边界未导入。")
        rows.append({"level": "township", "name": str(props[name_property]),
                     "district": str(props.get(district_property, "")), "geometry": json.dumps(geometry)})
    if not rows:
        raise FileError("文件中没有任何要素，边界未导入。")
    keys = [(r["district"], r["name"]) for r in rows]  # the table's primary key
    if len(set(keys)) < len(keys):
        raise FileError("同一街乡镇出现在多个要素中：请合并为一个 MultiPolygon 要素，边界未导入。")
    with engine.begin() as conn:
        conn.execute(delete(boundaries).where(boundaries.c.level == "township"))
        conn.execute(insert(boundaries), rows)
    _bump_reference_version(engine)
    return len(rows)


def township_boundaries(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(boundaries).where(boundaries.c.level == "township")).mappings().all()
    return [{"type": "Feature", "geometry": json.loads(r["geometry"]),
             "properties": {"name": r["name"], "district": r["district"]}} for r in rows]


def reference_version(engine: Engine) -> int:
    """Changes after every population or boundary upload: with query.data_version, the cache key of pages."""
    return int(setting(engine, "reference_version") or 0)


def _bump_reference_version(engine: Engine) -> None:
    set_setting(engine, "reference_version", str(reference_version(engine) + 1))
