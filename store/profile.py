"""City profiles: the districts, townships, populations and boundaries names are checked against.

A profile is a folder under data/profiles/ (see beijing/profile.toml). The open profile has no
units: a database for a city without a profile accepts whatever units its files name.
"""
from __future__ import annotations

import difflib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from store.paths import PROFILES_DIR

OPEN = "none"


@dataclass(frozen=True)
class CityProfile:
    key: str
    name: str
    districts: pd.DataFrame = field(repr=False)  # code, name, population
    townships: pd.DataFrame = field(repr=False)  # code, name, district, unit_type, population
    bbox: tuple[float, float, float, float] | None = None  # lon_min, lat_min, lon_max, lat_max
    population_source: str = ""
    folder: Path | None = None
    config: dict = field(default_factory=dict, repr=False)

    @property
    def is_open(self) -> bool:
        return self.key == OPEN

    def district_geojson(self) -> dict | None:
        name = self.config.get("district_boundaries")
        if not (self.folder and name):
            return None
        return json.loads((self.folder / name).read_text(encoding="utf-8"))


def open_profile() -> CityProfile:
    empty_d = pd.DataFrame({"code": [], "name": [], "population": []})
    empty_t = pd.DataFrame({"code": [], "name": [], "district": [], "unit_type": [], "population": []})
    return CityProfile(OPEN, "未设定城市（接受文件中出现的所有单位）", empty_d, empty_t)


def load_profile(key_or_path: str) -> CityProfile:
    """A shipped profile by name (e.g. "beijing"), a profile folder, or the open profile ("none")."""
    if key_or_path == OPEN:
        return open_profile()
    folder = Path(key_or_path)
    if not folder.is_dir():
        folder = PROFILES_DIR / key_or_path
    if not (folder / "profile.toml").is_file():
        known = ", ".join(sorted(p.name for p in PROFILES_DIR.iterdir() if p.is_dir()))
        raise ValueError(f"找不到城市档案「{key_or_path}」。可用：{known}，或 {OPEN}（不校验单位名称）")
    config = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
    read = lambda name: pd.read_csv(folder / config[name], dtype={"code": str})
    bbox = config.get("bbox")
    return CityProfile(
        key=folder.name, name=config["name"], districts=read("districts"), townships=read("townships"),
        bbox=tuple(bbox) if bbox else None, population_source=config.get("population_source", ""),
        folder=folder, config=config,
    )


def closest_name(name: str, known: list[str]) -> str | None:
    """The known name a user most likely meant: "朝阳" -> "朝阳区", "建外" -> "建外街道"."""
    starts = [k for k in known if k.startswith(name) or name.startswith(k)]
    if starts:
        return min(starts, key=lambda k: abs(len(k) - len(name)))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return close[0] if close else None
