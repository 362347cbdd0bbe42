"""Column mappings: which source column feeds each canonical field, and how its values translate.

A mapping is a TOML file (presets in data/mappings/). Without one, headers are recognised by the
aliases in store.fields, so the Beijing export loads as it is. Format:

    name = "…"                       # shown to the user
    profile = "none"                 # optional: the city profile a new database adopts
    [fields]
    order_id = "Unique Key"          # a source column
    received_at = { column = "Created Date", format = "%m/%d/%Y %I:%M:%S %p" }
    handler_type = { value = "市级部门" }          # a constant
    satisfaction = { column = "Survey", values = { "Very satisfied" = "满意" } }
    [personal]                       # personal columns: hashed or dropped, never stored
    caller_phone = "Phone"
"""
from __future__ import annotations

import difflib
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from store.fields import BY_NAME, FIELDS, INVERTED_ALIASES, PERSONAL_ALIASES, REQUIRED, Field
from store.paths import MAPPINGS_DIR
from store.read import FileError

DEFAULT = "auto"
_KIND_WORDS = {str: "应为文本", bool: "应为 true 或 false", dict: "应为表（{ … }）", (str, int, float): "应为文本或数字"}
_TOP_KINDS = {"name": str, "profile": str, "day_first": bool, "aliases": bool, "fields": dict, "personal": dict}
_SPEC_KINDS = {"column": str, "value": (str, int, float), "format": str, "values": dict, "invert": bool}


@dataclass(frozen=True)
class FieldSource:
    column: str | None = None  # the source header, or None for a constant
    value: str | None = None  # a constant for every row
    format: str | None = None  # strptime format for dates
    values: dict[str, str] = field(default_factory=dict)  # extra value translations (normalised keys)
    inverted: bool = False  # yes/no means the opposite (是否保留 -> excluded)


@dataclass(frozen=True)
class Mapping:
    name: str
    fields: dict[str, FieldSource]
    personal: dict[str, str]  # caller_name / caller_phone / id_number / address -> source header
    profile: str | None = None
    day_first: bool = False


def normalise(text: str) -> str:
    """Header or value as compared: full-width folded, case and spaces ignored."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).strip().lower().split())


def _spec(raw: str | dict) -> dict:
    return {"column": raw} if isinstance(raw, str) else dict(raw)


def load_mapping(name_or_path: str | dict | None) -> dict:
    """The mapping's TOML as a dict: a preset name, a file path, a dict already (the upload page's
    edited mapping), or None for header aliases only."""
    if isinstance(name_or_path, dict):
        return name_or_path
    if not name_or_path or name_or_path == DEFAULT:
        return {"name": "自动识别表头"}
    path = Path(name_or_path)
    if not path.is_file():
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise FileError(f"找不到列映射「{name_or_path}」。可用预设：{'、'.join(preset_names())}，或一个 .toml 文件路径。")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FileError(f"列映射文件 {path.name} 格式错误：{exc}") from exc


def preset_names() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml"))


def resolve(config: dict, headers: list[str]) -> Mapping:
    """Match a mapping's config to a file's headers; missing required columns are a FileError."""
    _check_settings(config)
    by_norm = {normalise(h): h for h in headers}
    specs = {k: _spec(v) for k, v in config.get("fields", {}).items()}
    unknown = sorted(set(specs) - set(BY_NAME))
    if unknown:
        raise FileError(f"列映射中有未知字段：{'、'.join(unknown)}。")
    sources: dict[str, FieldSource] = {}
    for f in FIELDS:
        spec = specs.get(f.name)
        if spec is not None:
            source = _explicit_source(f, spec, by_norm)
        else:
            source = _aliased_source(f, by_norm, use_aliases=config.get("aliases", True))
        if source is not None:
            sources[f.name] = source
    missing = [name for name in REQUIRED if name not in sources]
    if missing:
        raise FileError(_missing_message(missing, headers))
    personal = {key: by_norm[normalise(col)] for key, col in config.get("personal", {}).items()
                if normalise(col) in by_norm}
    for key, aliases in PERSONAL_ALIASES.items():
        found = next((by_norm[normalise(a)] for a in aliases if normalise(a) in by_norm), None)
        if key not in personal and found and found not in {s.column for s in sources.values()}:
            personal[key] = found
    return Mapping(config.get("name", "自定义映射"), sources, personal, config.get("profile"),
                   bool(config.get("day_first", False)))


def _check_settings(config: dict) -> None:
    """A hand-written mapping with a setting of the wrong kind gets a sentence naming it, not a traceback."""
    wrong = [f"「{path}」{problem}" for path, problem in _setting_problems(config)]
    if wrong:
        raise FileError("列映射设置有误：" + "；".join(wrong[:5]) + "。格式见 data/mappings/ 中的预设。")


def _setting_problems(config: dict) -> list[tuple[str, str]]:
    """(setting, what is wrong) for each setting of the wrong kind, unknown, or unusable."""
    found = [(key, _KIND_WORDS[kind]) for key, kind in _TOP_KINDS.items()
             if key in config and not isinstance(config[key], kind)]
    if isinstance(config.get("fields"), dict):
        for name, spec in config["fields"].items():
            found += _spec_problems(f"fields.{name}", spec)
    if isinstance(config.get("personal"), dict):
        found += [(f"personal.{key}", _KIND_WORDS[str]) for key, column in config["personal"].items()
                  if not isinstance(column, str)]
    return found


def _spec_problems(path: str, spec: object) -> list[tuple[str, str]]:
    if isinstance(spec, str):
        return []
    if not isinstance(spec, dict):
        return [(path, "应为列名，或 { column = \"…\" } / { value = \"…\" }")]
    found = [(f"{path}.{key}", "不是可用的设置（可用：column、value、format、values、invert）")
             for key in spec if key not in _SPEC_KINDS]
    found += [(f"{path}.{key}", _KIND_WORDS[kind]) for key, kind in _SPEC_KINDS.items()
              if key in spec and not isinstance(spec[key], kind)]
    if "column" not in spec and "value" not in spec:
        found.append((path, "须有 column（列名）或 value（固定值）"))
    if isinstance(spec.get("values"), dict):
        found += [(f"{path}.values.{key}", _KIND_WORDS[str]) for key, value in spec["values"].items()
                  if not isinstance(value, (str, int, float))]
    if isinstance(spec.get("format"), str):
        try:
            pd.to_datetime(pd.Series(["2024-03-05"]), format=spec["format"], errors="coerce")
        except ValueError as exc:
            found.append((f"{path}.format", f"不是有效的日期格式（{exc}）"))
    return found


def _explicit_source(f: Field, spec: dict, by_norm: dict[str, str]) -> FieldSource | None:
    values = {normalise(k): str(v) for k, v in spec.get("values", {}).items()}
    if "value" in spec:
        return FieldSource(value=str(spec["value"]), values=values)
    column = by_norm.get(normalise(spec["column"]))
    if column is None:
        if f.required:
            raise FileError(f"列映射把「{f.zh}」指向列「{spec['column']}」，但文件中没有这一列。"
                            + _suggestion(spec["column"], list(by_norm.values())))
        return None
    return FieldSource(column=column, format=spec.get("format"), values=values,
                       inverted=bool(spec.get("invert", False)))


def _aliased_source(f: Field, by_norm: dict[str, str], use_aliases: bool) -> FieldSource | None:
    names = (f.zh, f.name, f.en) + (f.aliases if use_aliases else ())
    for name in names:
        if normalise(name) in by_norm:
            return FieldSource(column=by_norm[normalise(name)])
    for header, target in INVERTED_ALIASES.items():
        if target == f.name and normalise(header) in by_norm:
            return FieldSource(column=by_norm[normalise(header)], inverted=True)
    return None


def _missing_message(missing: list[str], headers: list[str]) -> str:
    parts = []
    for name in missing:
        f = BY_NAME[name]
        parts.append(f"「{f.zh}」" + _suggestion(f.zh, headers, f.aliases))
    return ("缺少必需的列：" + "；".join(parts)
            + "。请修改表头，或使用列映射（--mapping）指明对应的列。")


def _suggestion(wanted: str, headers: list[str], aliases: tuple[str, ...] = ()) -> str:
    candidates = [h for h in headers if h != "_row"]
    for name in (wanted, *aliases):
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.4)
        if close:
            return f"（最接近的列是「{close[0]}」）"
    return ""
