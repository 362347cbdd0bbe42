"""考评方案 (scoring scheme): the rules that turn counts into rates, scores and ranks.

A scheme is data (a TOML file under data/schemes/, read by metrics.config); this module only
validates it and gives it a content hash, so that every published result can say which rules
produced it.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

Denominator = Literal["callbacks", "answered", "orders"]
PeriodKind = Literal["month", "cycle", "closed_month"]

DENOMINATORS: dict[str, str] = {"callbacks": "有效回访量", "answered": "有回访结果的工单量", "orders": "受理量"}
PERIOD_KINDS: dict[str, str] = {
    "month": "自然月（按受理时间）",
    "cycle": "跨月考核周期（按受理时间，以结束月份命名）",
    "closed_month": "自然月（按办结时间）",
}


@dataclass(frozen=True)
class Weights:
    """综合得分 weights of 响应率 / 解决率 / 满意率, as fractions summing to 1."""

    response: float
    resolution: float
    satisfaction: float

    def __post_init__(self) -> None:
        values = (self.response, self.resolution, self.satisfaction)
        if any(not math.isfinite(w) or w < 0 for w in values):
            raise ValueError(f"权重必须是非负数：响应 {self.response}、解决 {self.resolution}、满意 {self.satisfaction}")
        if not math.isclose(sum(values), 1.0, abs_tol=1e-9):
            raise ValueError(
                f"三率权重之和必须为 1（例如 0.10 + 0.50 + 0.40），现为 "
                f"{self.response} + {self.resolution} + {self.satisfaction} = {sum(values):g}"
            )


@dataclass(frozen=True)
class Scheme:
    name: str  # the file stem, e.g. beijing_district_10_50_40
    title: str  # 中文名称
    note: str  # where the rules come from
    weights: Weights
    basic_satisfied_value: float  # 基本满意 counts this much of a 满意 in 满意率
    denominator: Denominator  # which count the three rates divide by
    exclude_removed: bool  # leave 剔除 orders out of the assessed basis
    confidence: float  # level of every interval
    period: PeriodKind
    cycle_start_day: int  # first day of a cycle period (19: 19th to the 18th)
    peer_groups: dict[str, str] = field(hash=False)  # unit type / handler type -> peer group
    unknown_group: str  # peer group of units whose type matches no key
    min_callbacks: int  # below this, 样本不足 instead of a rank
    top_n: int  # size of 红榜 / 黑榜 in each peer group ...
    top_n_by_group: dict[str, int] = field(hash=False)  # ... unless the group has its own
    ratio_excluded_types: tuple[str, ...]  # request types left out of 万人诉求比 / 基数诉求比

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.basic_satisfied_value <= 1:
            problems.append(f"基本满意折算值应在 0 到 1 之间，现为 {self.basic_satisfied_value}")
        if self.denominator not in DENOMINATORS:
            problems.append(f"分母应为 {'、'.join(DENOMINATORS)} 之一，现为 {self.denominator!r}")
        if not 0 < self.confidence < 1:
            problems.append(f"置信水平应在 0 与 1 之间（如 0.95），现为 {self.confidence}")
        if self.period not in PERIOD_KINDS:
            problems.append(f"考核周期应为 {'、'.join(PERIOD_KINDS)} 之一，现为 {self.period!r}")
        # 2..28 keeps every cycle inside two adjacent months and its label unambiguous.
        if self.period == "cycle" and not 2 <= self.cycle_start_day <= 28:
            problems.append(f"考核周期起始日应在 2 到 28 之间，现为 {self.cycle_start_day}")
        if self.min_callbacks < 0 or self.top_n < 0 or any(n < 0 for n in self.top_n_by_group.values()):
            problems.append("最少回访量与红黑榜人数不能为负数")
        if not self.peer_groups:
            problems.append("至少需要定义一个比较组（peer_groups）")
        if problems:
            raise ValueError(f"考评方案「{self.name}」有误：" + "；".join(problems))

    @property
    def day_basis(self) -> Literal["received", "closed"]:
        """Which date of an order assigns it to a period: ask the store for counts by this day."""
        return "closed" if self.period == "closed_month" else "received"

    @property
    def peer_group_order(self) -> tuple[str, ...]:
        """Peer groups in the order the scheme file lists them (the order reports show them in)."""
        return tuple(dict.fromkeys([*self.peer_groups.values(), self.unknown_group]))

    def peer_group_of(self, unit_type: object) -> str:
        """The peer group of a unit type (or handler type); a missing type gives the unknown group."""
        return self.peer_groups.get(unit_type, self.unknown_group) if isinstance(unit_type, str) else self.unknown_group

    def top_n_for(self, group: str) -> int:
        return self.top_n_by_group.get(group, self.top_n)

    def settings(self) -> dict[str, Any]:
        """Every value that changes a number; the name, title and note do not."""
        return {
            "weights": [self.weights.response, self.weights.resolution, self.weights.satisfaction],
            "basic_satisfied_value": self.basic_satisfied_value,
            "denominator": self.denominator,
            "exclude_removed": self.exclude_removed,
            "confidence": self.confidence,
            "period": self.period,
            "cycle_start_day": self.cycle_start_day if self.period == "cycle" else None,
            "peer_groups": self.peer_groups,
            "unknown_group": self.unknown_group,
            "min_callbacks": self.min_callbacks,
            "top_n": self.top_n,
            "top_n_by_group": self.top_n_by_group,
            "ratio_excluded_types": sorted(self.ratio_excluded_types),
        }

    @property
    def content_hash(self) -> str:
        """First 12 hex digits of the sha256 of the canonical JSON of settings().

        Canonical (sorted keys, parsed values) so that comments, spacing and key order in the file
        do not change it, while any rule that changes a number does.
        """
        text = json.dumps(self.settings(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# The TOML layout: table -> key -> Scheme field. Unknown keys are refused so a typo is not ignored.
_LAYOUT: dict[str, dict[str, str]] = {
    "": {"title": "title", "note": "note"},
    "weights": {"response": "response", "resolution": "resolution", "satisfaction": "satisfaction"},
    "rates": {"denominator": "denominator", "basic_satisfied_value": "basic_satisfied_value",
              "exclude_removed": "exclude_removed", "confidence": "confidence"},
    "period": {"kind": "period", "cycle_start_day": "cycle_start_day"},
    "ranking": {"min_callbacks": "min_callbacks", "top_n": "top_n", "top_n_by_group": "top_n_by_group",
                "peer_groups": "peer_groups", "unknown_group": "unknown_group"},
    "ratios": {"excluded_request_types": "ratio_excluded_types"},
}


def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A scheme file states only what differs from the default scheme; tables merge key by key,
    except the peer-group and top-N tables, which a file replaces whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key not in ("peer_groups", "top_n_by_group"):
            merged[key] = merge_settings(base[key], value)
        else:
            merged[key] = value
    return merged


def scheme_from_dict(name: str, data: dict[str, Any]) -> Scheme:
    """Build and validate a Scheme from a parsed (and merged) scheme file."""
    values: dict[str, Any] = {}
    for table, keys in _LAYOUT.items():
        section = data if table == "" else data.get(table, {})
        if table and not isinstance(section, dict):
            raise ValueError(f"考评方案「{name}」中 [{table}] 应是一个表")
        unknown = set(section) - set(keys) - (set(_LAYOUT) if table == "" else set())
        if unknown:
            raise ValueError(f"考评方案「{name}」中有无法识别的设置项：{'、'.join(sorted(unknown))}")
        for key, attr in keys.items():
            if key not in section:
                raise ValueError(f"考评方案「{name}」缺少设置项 {table + '.' if table else ''}{key}")
            values[attr] = section[key]
    weights = Weights(*(float(values.pop(k)) for k in ("response", "resolution", "satisfaction")))
    return Scheme(
        name=name, weights=weights,
        title=str(values["title"]), note=str(values["note"]),
        basic_satisfied_value=float(values["basic_satisfied_value"]),
        denominator=values["denominator"], exclude_removed=bool(values["exclude_removed"]),
        confidence=float(values["confidence"]), period=values["period"],
        cycle_start_day=int(values["cycle_start_day"]),
        peer_groups={str(k): str(v) for k, v in values["peer_groups"].items()},
        unknown_group=str(values["unknown_group"]),
        min_callbacks=int(values["min_callbacks"]), top_n=int(values["top_n"]),
        top_n_by_group={str(k): int(v) for k, v in values["top_n_by_group"].items()},
        ratio_excluded_types=tuple(values["ratio_excluded_types"]),
    )
