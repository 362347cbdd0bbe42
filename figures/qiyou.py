"""Figures of the 七有五性 page: the 12 dimension scores of the scope's child units, one unit against
the scope's average, the categories behind a dimension, and the evaluator's external indicator file.

The children of a scope: the districts of the city, the townships of a district, the handling units
(承办单位) of a township.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from figures.overview import profile_units
from metrics.config import DIMENSIONS, QIYOU, load_qiyou_catalogue, load_qiyou_method
from metrics.periods import period_bounds
from metrics.qiyou import qiyou_indices, qiyou_scores, with_dimensions
from metrics.rates import total_counts, unit_rates
from metrics.report import UNNAMED
from metrics.scheme import Scheme
from store import query
from store.read import read_table

CHILD_LABELS: dict[str, str] = {"district": "区", "township": "街乡镇", "handler": "承办单位"}
GROUP_OF: dict[str, str] = {d: "七有" if d in QIYOU else "五性" for d in DIMENSIONS}
_PROFILE_LEVEL = {"district": "district", "township": "street", "handler": "unit"}
_CATEGORY_KEYS = ["category1", "category2", "qiyou_tag", "request_type"]  # what with_dimensions and 诉求量 need

# The upload's columns: English names or the Chinese ones an evaluator would type.
INDICATOR_COLUMNS: dict[str, str] = {"indicator": "指标", "unit": "单位", "period": "周期", "value": "值",
                                     "direction": "方向", "target": "目标", "dimension": "维度"}
_DIRECTIONS = {"1": 1, "+1": 1, "-1": -1, "越高越好": 1, "越低越好": -1}
_MAX_PROBLEMS = 10


def child_key(district: str | None, township: str | None) -> str:
    """The column that names the scope's children: district, township or handler."""
    return "handler" if township else "township" if district else "district"


def _scope_counts(engine: Engine, scheme: Scheme, period: str, by: list[str], district: str | None,
                  township: str | None) -> pd.DataFrame:
    """The period's counts of the scope by the keys and the columns with_dimensions and 诉求量 need, summed over
    the period in the database (a row per cell, not per cell and day)."""
    return query.period_counts(engine, [*by, *_CATEGORY_KEYS], [period_bounds(period, scheme)],
                               scheme.day_basis == "closed", district, township)


def _child_counts(engine: Engine, scheme: Scheme, period: str, district: str | None,
                  township: str | None) -> pd.DataFrame:
    """The scope's counts by child unit, named in a `unit` column."""
    key = child_key(district, township)
    counts = _scope_counts(engine, scheme, period, [key], district, township)
    return counts.assign(**{key: counts[key].fillna(UNNAMED)}).rename(columns={key: "unit"})


def _scores(counts: pd.DataFrame, engine: Engine, scheme: Scheme, period: str, district: str | None,
            township: str | None, indicators: pd.DataFrame | None) -> pd.DataFrame:
    units = profile_units(engine, _PROFILE_LEVEL[child_key(district, township)], district)
    population = None if units is None else units.rename(columns={"name": "unit"})[["unit", "population"]]
    return qiyou_scores(counts, ["unit"], scheme, load_qiyou_catalogue(), load_qiyou_method(), period,
                        population, indicators)


def scores(engine: Engine, scheme: Scheme, period: str, district: str | None = None, township: str | None = None,
           indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per child unit with orders in the period (named in `unit`) and dimension (all 12):
    counts, rates, order score, number of external indicators, dimension score (NaN: 无数据)."""
    counts = _child_counts(engine, scheme, period, district, township)
    return _scores(counts, engine, scheme, period, district, township, indicators)


def heat_table(engine: Engine, scheme: Scheme, period: str, district: str | None = None,
               township: str | None = None, indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per child unit: unit, orders (全口径, in any dimension or none), the 12 dimension
    scores (columns named by dimension), qiyou_index, wuxing_index; NaN where there is no data.
    Largest units first."""
    counts = _child_counts(engine, scheme, period, district, township)
    long = _scores(counts, engine, scheme, period, district, township, indicators)
    wide = long.pivot(index="unit", columns="dimension", values="dimension_score").reindex(columns=list(DIMENSIONS))
    indices = qiyou_indices(long, ["unit"]).set_index("unit")[["qiyou_index", "wuxing_index"]]
    orders = total_counts(counts, ["unit"]).set_index("unit")[["orders"]]
    table = orders.join(wide).join(indices).reset_index()
    return table.sort_values(["orders", "unit"], ascending=[False, True], ignore_index=True)


def unit_profile(engine: Engine, scheme: Scheme, period: str, unit: str, district: str | None = None,
                 township: str | None = None, indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per dimension: its group (七有 / 五性), the unit's dimension score and the scope's
    average: the plain mean over the child units with data (each unit weighs the same, so a big
    unit does not set the yardstick), with how many units that was."""
    long = scores(engine, scheme, period, district, township, indicators)
    per_dimension = long.groupby("dimension")["dimension_score"]
    mine = long[(long["unit"] == unit).to_numpy()].set_index("dimension")["dimension_score"]
    out = pd.DataFrame({"group": list(GROUP_OF.values()), "dimension": list(GROUP_OF)})
    out["unit_score"] = out["dimension"].map(mine)
    out["average_score"] = out["dimension"].map(per_dimension.mean())
    out["units_with_data"] = out["dimension"].map(per_dimension.count()).fillna(0).astype("int64")
    return out


def dimension_categories(engine: Engine, scheme: Scheme, period: str, dimension: str, district: str | None = None,
                         township: str | None = None) -> pd.DataFrame:
    """The categories (一级/二级) whose orders count in a dimension in the scope: orders and the
    three rates on the assessed basis (as the dimension score counts them) and each category's
    share of the dimension's orders; most orders first."""
    counts = _scope_counts(engine, scheme, period, [], district, township)
    rows = with_dimensions(counts, load_qiyou_catalogue())
    rows = rows[(rows["dimension"] == dimension).to_numpy()]
    for column in ("category1", "category2"):
        rows[column] = rows[column].fillna(UNNAMED)
    table = unit_rates(rows, ["category1", "category2"], scheme)
    table["share"] = table["orders"] / table["orders"].sum()
    return table.sort_values(["orders", "category1", "category2"], ascending=[False, True, True], ignore_index=True)


def indicator_template(period: str, units: list[str]) -> pd.DataFrame:
    """An example external indicator file for the period and the first units, with Chinese headers."""
    examples = [("养老机构床位达标率（%）", 92.0, 1, 100.0, "老有所养"),
                ("PM2.5 月均浓度（微克/立方米）", 38.0, -1, 35.0, "宜居性")]
    rows = [(name, unit, period, value, direction, target, dimension)
            for unit in units[:2] for name, value, direction, target, dimension in examples]
    return pd.DataFrame(rows, columns=list(INDICATOR_COLUMNS.values()))


def parse_indicators(data: bytes, file_name: str) -> pd.DataFrame:
    """The evaluator's external indicator file (CSV or XLSX; columns indicator, unit, period, value,
    direction, target, dimension, or their Chinese names) as a typed frame with those columns.

    Raises ValueError saying in Chinese which row and column is wrong (row 1 is the header)."""
    raw = read_table(data, file_name)
    english = {zh: en for en, zh in INDICATOR_COLUMNS.items()}
    frame = raw.frame.rename(columns=lambda c: english.get(c, c.lower()))
    missing = [f"{zh}（{en}）" for en, zh in INDICATOR_COLUMNS.items() if en not in frame.columns]
    if missing:
        raise ValueError(f"外部指标文件缺少列：{'、'.join(missing)}。第 1 行应为列名。")
    cells = frame[list(INDICATOR_COLUMNS)].apply(lambda s: s.str.strip()).assign(_row=frame["_row"])
    typed = pd.DataFrame({
        "indicator": cells["indicator"], "unit": cells["unit"], "period": _period_labels(cells["period"]),
        "value": pd.to_numeric(cells["value"], errors="coerce"), "direction": cells["direction"].map(_DIRECTIONS),
        "target": pd.to_numeric(cells["target"], errors="coerce"), "dimension": cells["dimension"],
    })
    problems = [f"第 {row} 行：{reason}" for row, reason in raw.ragged] + _indicator_problems(cells, typed)
    if problems:
        more = f"（另有 {len(problems) - _MAX_PROBLEMS} 处问题）" if len(problems) > _MAX_PROBLEMS else ""
        raise ValueError("外部指标文件未载入：" + "；".join(problems[:_MAX_PROBLEMS]) + more + "。")
    return typed.astype({"value": float, "direction": "int64", "target": float}).reset_index(drop=True)


def _period_labels(cells: pd.Series) -> pd.Series:
    """2025-03, 2025-3 or 2025/03 as the period label 2025-03; NaN when not a month."""
    months = pd.to_datetime(cells.str.replace("/", "-") + "-01", format="%Y-%m-%d", errors="coerce")
    return months.dt.strftime("%Y-%m")


def _indicator_problems(cells: pd.DataFrame, typed: pd.DataFrame) -> list[str]:
    """Every wrong cell of the indicator file, by row and column, then repeated rows."""
    wrong = {
        "indicator": cells["indicator"] == "",
        "unit": cells["unit"] == "",
        "period": typed["period"].isna(),
        "value": typed["value"].isna(),
        "direction": typed["direction"].isna(),
        "target": ~(typed["target"] > 0),
        "dimension": ~typed["dimension"].isin(DIMENSIONS),
    }
    expected = {"period": "应写作“年-月”，如 2025-03", "value": "应为数字",
                "direction": "应为 1（越高越好）或 -1（越低越好）", "target": "应为大于 0 的数字",
                "dimension": f"应为七有五性之一：{'、'.join(DIMENSIONS)}"}
    found = []
    for position, (column, mask) in enumerate(wrong.items()):
        for row, value in zip(cells.loc[mask.to_numpy(), "_row"], cells.loc[mask.to_numpy(), column]):
            said = "为空" if value == "" else f"为「{value}」，{expected[column]}"
            found.append((row, position, f"第 {row} 行「{INDICATOR_COLUMNS[column]}」列{said}"))
    repeated = typed.duplicated(["indicator", "unit", "period"]) & typed["period"].notna()
    found += [(row, len(wrong), f"第 {row} 行与前面某行的指标、单位、周期都相同")
              for row in cells.loc[repeated.to_numpy(), "_row"]]
    return [text for _, _, text in sorted(found)]
