"""The one place metrics/ reads files: scoring schemes, time limits and the 七有五性 catalogue in data/.

Everything else in metrics/ is pure and takes these objects as arguments.
"""
from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from metrics.scheme import Scheme, merge_settings, scheme_from_dict

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SCHEMES_DIR = DATA_DIR / "schemes"
USER_SCHEMES_ENV = "USER_SCHEMES_DIR"  # overrides where schemes made in the dashboard are kept
SCHEME_NAME = re.compile(r"[A-Za-z0-9_]+")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # TOML keys that need no quotes
TIME_LIMITS_FILE = DATA_DIR / "time_limits.toml"
QIYOU_CATALOGUE_FILE = DATA_DIR / "qiyou_wuxing.csv"
QIYOU_METHOD_FILE = DATA_DIR / "qiyou_wuxing_method.toml"
DEFAULT_SCHEME = "beijing_district_10_50_40"

QIYOU = ("幼有所育", "学有所教", "劳有所得", "病有所医", "老有所养", "住有所居", "弱有所扶")
WUXING = ("便利性", "宜居性", "多样性", "公正性", "安全性")
DIMENSIONS = QIYOU + WUXING


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"配置文件 {path.name} 格式有误：{err}") from err


def user_schemes_dir() -> Path:
    """Where schemes made in the dashboard are saved: data/local/schemes/ (never committed) unless
    $USER_SCHEMES_DIR says otherwise. Read at each call so that tests can point it elsewhere."""
    return Path(os.environ.get(USER_SCHEMES_ENV) or DATA_DIR / "local" / "schemes")


def _scheme_files() -> list[Path]:
    """The presets (the default first), then the user's schemes."""
    presets = sorted(SCHEMES_DIR.glob("*.toml"), key=lambda p: (p.stem != DEFAULT_SCHEME, p.stem))
    return [*presets, *sorted(user_schemes_dir().glob("*.toml"))]


def list_schemes() -> list[Scheme]:
    """Every scheme shipped in (or added to) data/schemes/, the default first, then the user's schemes."""
    return [load_scheme(path) for path in _scheme_files()]


def is_preset(name: str) -> bool:
    """True for a scheme shipped in data/schemes/, False for one made in the dashboard."""
    return (SCHEMES_DIR / f"{name}.toml").is_file()


def scheme_data(name_or_path: str | Path = DEFAULT_SCHEME) -> dict[str, Any]:
    """A scheme file's settings (by name or path) merged over the default's: a file states only what differs."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = next((p for p in _scheme_files() if p.stem == str(name_or_path)), path)
    if not path.is_file():
        known = "、".join(p.stem for p in _scheme_files())
        raise ValueError(f"找不到考评方案「{name_or_path}」。可用的方案：{known}")
    data = read_toml(path)
    if path.stem != DEFAULT_SCHEME:
        data = merge_settings(read_toml(SCHEMES_DIR / f"{DEFAULT_SCHEME}.toml"), data)
    return data


def load_scheme(name_or_path: str | Path = DEFAULT_SCHEME) -> Scheme:
    """A scheme by name (a preset in data/schemes/ or a user scheme) or by path; unstated settings
    come from the default."""
    return scheme_from_dict(Path(name_or_path).stem, scheme_data(name_or_path))


def save_scheme(name: str, data: dict[str, Any]) -> Scheme:
    """Validate a scheme made in the dashboard and write all its settings to the user folder, so that
    it does not change when the default does. A name or title in use, or rules identical to another
    scheme's, are refused: a published ranking must name its rules unambiguously."""
    if not SCHEME_NAME.fullmatch(name):
        raise ValueError(f"方案名称只能由英文字母、数字和下划线组成，现为「{name}」")
    if any(p.stem == name for p in _scheme_files()):
        raise ValueError(f"已有名为「{name}」的考评方案，请换一个名称")
    if not str(data.get("title", "")).strip():
        raise ValueError("请填写方案标题")
    scheme = scheme_from_dict(name, data)
    for other in list_schemes():
        if other.title == scheme.title:
            raise ValueError(f"已有标题为「{scheme.title}」的考评方案，请换一个标题")
        if other.content_hash == scheme.content_hash:
            raise ValueError(f"该方案的设置与「{other.title}」完全相同（方案指纹 {scheme.content_hash}），无需另存")
    folder = user_schemes_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# 在看板中新建的考评方案。写出了全部设置，因此不随默认方案的修改而变化。", "", *_toml_lines(data)]
    (folder / f"{name}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return scheme


def _toml_lines(table: dict[str, Any], path: tuple[str, ...] = ()) -> list[str]:
    """A scheme's settings as TOML: plain keys first, then each sub-table under its header."""
    lines = [f"[{'.'.join(map(_toml_key, path))}]"] if path else []
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for key, sub in table.items():
        if isinstance(sub, dict):
            lines += ["", *_toml_lines(sub, (*path, key))]
    return lines


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    """A string, number, boolean or list of them in JSON is valid TOML once DEL, which JSON leaves
    raw and TOML forbids, is escaped."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


@dataclass(frozen=True)
class TimeLimits:
    """Default handling limits (hours) for orders that carry no deadline of their own."""

    levels: dict[str, float]  # level name -> hours
    default_level: str
    by_urgency: dict[str, str]  # 紧急程度 -> level
    by_category: dict[str, str]  # 一级 or 二级 category -> level
    contact_hours: float | None  # first-contact limit; None: contact by the handling deadline

    def __post_init__(self) -> None:
        named = {self.default_level, *self.by_urgency.values(), *self.by_category.values()}
        missing = named - set(self.levels)
        if missing:
            raise ValueError(f"办理时限配置中引用了未定义的时限级别：{'、'.join(sorted(missing))}")

    @property
    def default_hours(self) -> float:
        return self.levels[self.default_level]


def load_time_limits(path: Path = TIME_LIMITS_FILE) -> TimeLimits:
    data = read_toml(path)
    return TimeLimits(
        levels={k: float(v) for k, v in data["levels"].items()},
        default_level=data["default_level"],
        by_urgency=dict(data.get("urgency", {})),
        by_category=dict(data.get("category", {})),
        contact_hours=data.get("contact", {}).get("max_hours"),
    )


def load_qiyou_catalogue(path: Path = QIYOU_CATALOGUE_FILE) -> pd.DataFrame:
    """The category -> dimension catalogue: columns category1, category2 (NA: the whole 一级), dimension."""
    raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig").rename(
        columns={"一级分类": "category1", "二级分类": "category2", "维度": "dimension"})
    missing = {"category1", "category2", "dimension"} - set(raw.columns)
    if missing:
        raise ValueError(f"七有五性目录 {path.name} 缺少列：一级分类、二级分类、维度")
    catalogue = raw[["category1", "category2", "dimension"]].apply(lambda s: s.str.strip())
    wrong = catalogue[~catalogue["dimension"].isin(DIMENSIONS)]
    if len(wrong):
        row = wrong.index[0] + 2  # +1 for the header, +1 for counting from 1
        raise ValueError(f"七有五性目录第 {row} 行的维度「{wrong['dimension'].iloc[0]}」不是七有五性之一：{'、'.join(DIMENSIONS)}")
    return catalogue


@dataclass(frozen=True)
class QiyouMethod:
    """How a dimension's resolution, satisfaction and volume become one 0–100 score."""

    method: Literal["rates", "target", "minmax"]
    weights: dict[str, float]  # resolution, satisfaction, volume
    targets: dict[str, float]
    min_callbacks: int

    def __post_init__(self) -> None:
        if self.method not in ("rates", "target", "minmax"):
            raise ValueError(f"七有五性计分方法应为 rates、target 或 minmax，现为 {self.method!r}")
        if set(self.weights) != {"resolution", "satisfaction", "volume"}:
            raise ValueError("七有五性计分权重应包含 resolution、satisfaction、volume 三项")
        if abs(sum(self.weights.values()) - 1) > 1e-9 or min(self.weights.values()) < 0:
            raise ValueError(f"七有五性计分权重须为非负数且之和为 1，现为 {self.weights}")
        if self.method == "rates" and self.weights["volume"] > 0:
            raise ValueError("rates 方法下万人诉求量没有 0–1 尺度，其权重须为 0；请改用 target 或 minmax")


def load_qiyou_method(path: Path = QIYOU_METHOD_FILE) -> QiyouMethod:
    data = read_toml(path)
    return QiyouMethod(
        method=data["method"],
        weights={k: float(v) for k, v in data["weights"].items()},
        targets={k: float(v) for k, v in data.get("targets", {}).items()},
        min_callbacks=int(data.get("min_callbacks", 0)),
    )
