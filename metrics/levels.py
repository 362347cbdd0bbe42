"""The levels units are reported at, and the key columns that name a unit at each level."""
from __future__ import annotations

import pandas as pd

LEVELS: dict[str, list[str]] = {
    "city": [],
    "district": ["district"],
    "street": ["district", "township"],
    "unit": ["handler_type", "handler"],  # the handling unit, whatever its kind
}
LEVEL_LABELS: dict[str, str] = {"city": "全市", "district": "区", "street": "街乡镇", "unit": "承办单位"}


def profile_units(units: pd.DataFrame, level: str) -> pd.DataFrame:
    """A city-profile frame (districts: name, population; townships: name, district, unit_type,
    population) with its name column renamed to the level's key, so it joins the count frames."""
    if level not in ("district", "street"):
        raise ValueError(f"城市档案只列出区和街乡镇，没有「{LEVEL_LABELS.get(level, level)}」层级")
    return units.rename(columns={"name": LEVELS[level][-1]})
