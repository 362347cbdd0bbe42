"""Figures of the map page: units coloured by a metric (polygons where boundaries are known, circles at
the median location of their orders elsewhere), district outlines, and the cells of the order heat map.

Boundaries and the orders' coordinates are both GCJ-02; nothing here converts them (see data/SOURCES.md).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine

from figures.overview import profile_units, ranking
from metrics import levels
from metrics.config import DIMENSIONS, load_qiyou_catalogue, load_qiyou_method
from metrics.periods import period_bounds
from metrics.qiyou import qiyou_scores
from metrics.rates import RATES
from metrics.ratios import per_10k_ratio
from metrics.scheme import Scheme
from store import query
from store.db import active_profile
from store.reference import township_boundaries

LEVELS = levels.LEVELS
LOCATION_CELL_DEGREES = 0.005  # about 500 m: fine enough for a township's median location
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Metric:
    label: str
    kind: str  # how the page writes it: score, rate, ratio or count
    higher_is_better: bool  # picks the palette: more demand (万人诉求比, 受理量) is not "better"


METRICS: dict[str, Metric] = {
    "score": Metric("综合得分", "score", True),
    **{f"{rate}_rate": Metric(label, "rate", True) for rate, label in RATES.items()},
    "per_10k": Metric("万人诉求比", "ratio", False),
    "all_orders": Metric("受理量（全口径）", "count", False),
    **{dimension: Metric(f"七有五性·{dimension}", "score", True) for dimension in DIMENSIONS},
}

# ColorBrewer YlGnBu and YlOrRd, five classes each, without their palest step (too close to a plain background).
PALETTES: dict[bool, tuple[Colour, ...]] = {
    True: ((199, 233, 180), (127, 205, 187), (65, 182, 196), (44, 127, 184), (37, 52, 148)),
    False: ((254, 217, 118), (254, 178, 76), (253, 141, 60), (240, 59, 32), (189, 0, 38)),
}
NO_DATA_COLOUR: Colour = (210, 210, 210)


@dataclass(frozen=True)
class ColourClass:
    low: float
    high: float
    colour: Colour
    units: int  # how many units fall in it


def colour_classes(values: pd.Series, palette: Sequence[Colour], k: int = 5) -> tuple[ColourClass, ...]:
    """Up to k classes split at the quantiles of the known values, so each holds about as many units
    (a ranking reads by position); fewer when values repeat. Empty when no value is known."""
    known = values.dropna().to_numpy(dtype=float)
    if not len(known):
        return ()
    edges = np.unique(np.quantile(known, np.linspace(0, 1, k + 1)))
    edges = edges if len(edges) > 1 else np.repeat(edges, 2)
    n = len(edges) - 1
    members = np.bincount(_class_positions(known, edges), minlength=n)
    steps = np.linspace(0, len(palette) - 1, n).round().astype(int)  # spread over the palette's range
    return tuple(ColourClass(float(edges[i]), float(edges[i + 1]), palette[steps[i]], int(members[i]))
                 for i in range(n))


def _class_positions(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0-based class of each value: a value on an inner edge belongs to the upper class, the maximum to the last."""
    return np.searchsorted(edges[1:-1], values, side="right")


def class_numbers(values: pd.Series, classes: Sequence[ColourClass]) -> pd.Series:
    """1-based class of each value; NA where the value is unknown."""
    if not classes:
        return pd.Series(pd.NA, index=values.index, dtype="Int64")
    edges = np.array([c.low for c in classes] + [classes[-1].high])
    positions = pd.Series(_class_positions(values.fillna(0).to_numpy(dtype=float), edges) + 1, index=values.index)
    return positions.astype("Int64").mask(values.isna())


def fill_colours(numbers: pd.Series, classes: Sequence[ColourClass]) -> pd.Series:
    """[r, g, b] of each class number; grey where there is none."""
    return numbers.map(lambda n: list(NO_DATA_COLOUR if pd.isna(n) else classes[n - 1].colour))


@dataclass(frozen=True)
class Choropleth:
    units: pd.DataFrame  # keys, value, all_orders, score, colour_class, fill, geometry (GeoJSON or None), lon, lat
    classes: tuple[ColourClass, ...]
    unmatched: tuple[str, ...]  # uploaded boundaries whose name matches no unit of the scope


def choropleth(engine: Engine, scheme: Scheme, period: str, level: str, metric: str,
               district: str | None = None) -> Choropleth:
    """Every district or township (level "district" or "street") of the scope with the metric's value and
    fill colour. A unit is drawn as its polygon when a boundary is known (profile districts, uploaded
    townships), else as a circle at the median location of its orders (lon, lat; NaN when none has one);
    for a polygon, lon/lat is a point inside it where its label goes."""
    keys = LEVELS[level]
    units = unit_values(engine, scheme, period, level, metric, district)
    units, unmatched = _with_boundaries(units, _boundaries(engine, level), keys, district)
    inside = units["geometry"].map(lambda g: shape(g).representative_point() if g else None)
    units["lon"] = inside.map(lambda p: p.x if p else np.nan).astype(float)
    units["lat"] = inside.map(lambda p: p.y if p else np.nan).astype(float)
    if units["geometry"].isna().any():
        located = median_locations(engine, scheme, period, level, district)
        units = units.merge(located, on=keys, how="left", suffixes=("", "_orders"))
        for axis in ("lon", "lat"):
            units[axis] = units[axis].fillna(units.pop(f"{axis}_orders"))
    classes = colour_classes(units["value"], PALETTES[METRICS[metric].higher_is_better])
    units["colour_class"] = class_numbers(units["value"], classes)
    units["fill"] = fill_colours(units["colour_class"], classes)
    return Choropleth(units, classes, unmatched)


def unit_values(engine: Engine, scheme: Scheme, period: str, level: str, metric: str,
                district: str | None = None) -> pd.DataFrame:
    """Every unit of the level in scope (as the ranking lists them) with the metric's value, its 受理量
    (全口径) and 综合得分: columns keys, value, all_orders, score. Rates and scores are the ranking's own."""
    if metric not in METRICS:
        raise ValueError(f"地图没有「{metric}」这一指标")
    keys = LEVELS[level]
    table = ranking(engine, scheme, period, level, district)
    units = table[[*keys, "all_orders", "score"]].copy()
    if metric in table.columns:
        units["value"] = table[metric]
        return units
    counts = _period_counts(engine, scheme, period, keys, district, metric)
    population = levels.profile_units(profile_units(engine, level, district), level)[[*keys, "population"]]
    if metric == "per_10k":
        values = per_10k_ratio(counts, population, keys, scheme).rename(columns={"per_10k": "value"})
    else:
        # As figures/qiyou.py scores them: the units shown are compared with each other, no peer groups.
        scores = qiyou_scores(counts, keys, scheme, load_qiyou_catalogue(), load_qiyou_method(), period, population)
        values = scores[(scores["dimension"] == metric).to_numpy()].rename(columns={"dimension_score": "value"})
    return units.merge(values[[*keys, "value"]], on=keys, how="left")


def _period_counts(engine: Engine, scheme: Scheme, period: str, keys: list[str], district: str | None,
                   metric: str) -> pd.DataFrame:
    """The period's counts with what the metric needs: request types for 万人诉求比 (咨询 may be left
    out), categories and tags for a 七有五性 dimension."""
    extra = ["request_type"] if metric == "per_10k" else ["category1", "category2", "qiyou_tag", "request_type"]
    return query.period_counts(engine, [*keys, *extra], [period_bounds(period, scheme)], scheme.day_basis == "closed",
                               district)


def _boundaries(engine: Engine, level: str) -> pd.DataFrame:
    """Polygons known for the level: the profile's districts, the townships the evaluator uploaded.
    Columns: the level's keys and geometry; an uploaded township may name no district ("")."""
    if level == "district":
        geojson = active_profile(engine).district_geojson()
        rows = [{"district": f["properties"]["name"], "geometry": f["geometry"]}
                for f in (geojson or {}).get("features", [])]
    else:
        rows = [{"district": f["properties"]["district"], "township": f["properties"]["name"],
                 "geometry": f["geometry"]} for f in township_boundaries(engine)]
    return pd.DataFrame(rows, columns=[*LEVELS[level], "geometry"])


def _with_boundaries(units: pd.DataFrame, shapes: pd.DataFrame, keys: list[str],
                     district: str | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The units with a geometry column (None where no boundary matches), and the names of the
    boundaries in scope that match no unit (a misspelt name shows here rather than vanishing)."""
    if "township" in keys:
        # A boundary without its district is matched by name, when the name is that of one township only.
        single = units.drop_duplicates("township", keep=False).set_index("township")["district"]
        missing = shapes["district"].fillna("") == ""
        shapes.loc[missing, "district"] = shapes.loc[missing, "township"].map(single)
        shapes = shapes.drop_duplicates(keys)  # a township given both with and without its district
    joined = units.merge(shapes, on=keys, how="left")
    joined["geometry"] = joined["geometry"].astype(object).where(joined["geometry"].notna(), None)
    found = shapes.merge(units[keys], on=keys, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    in_scope = shapes["district"].isna() | (district is None) | (shapes["district"] == district)
    unmatched = shapes.loc[~found & in_scope.to_numpy(), keys[-1]]
    return joined, tuple(unmatched.astype(str))


def median_locations(engine: Engine, scheme: Scheme, period: str, level: str,
                     district: str | None = None) -> pd.DataFrame:
    """Each unit's median order location in the period (lon and lat separately, from ~500 m grid cells
    weighted by their orders): columns keys, lon, lat. Units without located orders are absent."""
    keys = LEVELS[level]
    start, end = period_bounds(period, scheme)
    grid = query.location_grid(engine, start, end, keys, LOCATION_CELL_DEGREES, district)
    grid = grid.dropna(subset=keys)
    if grid.empty:
        return pd.DataFrame(columns=[*keys, "lon", "lat"])
    return (grid.groupby(keys, sort=True)
            .apply(lambda cells: pd.Series({axis: _weighted_median(cells[axis], cells["orders"])
                                            for axis in ("lon", "lat")}), include_groups=False)
            .reset_index())


def _weighted_median(values: pd.Series, weights: pd.Series) -> float:
    order = np.argsort(values.to_numpy())
    cumulative = weights.to_numpy()[order].cumsum()
    return float(values.to_numpy()[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def district_outlines(engine: Engine, scheme: Scheme) -> pd.DataFrame:
    """The profile's district polygons, drawn under the other layers in place of a base map:
    columns district, geometry, lon, lat (a point inside, for the name). Empty without a profile map."""
    shapes = _boundaries(engine, "district")
    inside = [shape(g).representative_point() for g in shapes["geometry"]]
    return shapes.assign(lon=[p.x for p in inside], lat=[p.y for p in inside])


def heat_cells(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
               township: str | None = None, category1: str | None = None) -> pd.DataFrame:
    """Orders with coordinates received in the period, per heat-map cell: columns lon, lat, orders.
    category1 keeps one 一级分类."""
    start, end = period_bounds(period, scheme)
    grid = query.location_grid(engine, start, end, [], heat_cell_degrees(district), district, township, category1)
    return grid[["lon", "lat", "orders"]]


def heat_cell_degrees(district: str | None) -> float:
    """Heat-map cells: about 1 km across the city, 500 m within a district."""
    return 0.01 if district is None else LOCATION_CELL_DEGREES


def extent(frame: pd.DataFrame) -> tuple[float, float, float, float] | None:
    """lon_min, lat_min, lon_max, lat_max of a frame's geometries (if any) and lon/lat points; None when empty."""
    geometries = [shape(g) for g in frame.get("geometry", pd.Series(dtype=object)).dropna()]
    points = frame[["lon", "lat"]].dropna().to_numpy(dtype=float)
    everything = shapely.GeometryCollection([*geometries, *shapely.points(points)])
    return None if everything.is_empty else tuple(float(b) for b in everything.bounds)
