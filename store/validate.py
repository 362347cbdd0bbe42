"""From raw strings to canonical, checked values; every problem named by row, column and reason.

Vectorised: each check is a boolean mask over the whole file, so a month of a city validates in seconds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.distinct import each_distinct
from store.fields import BY_NAME, DEFAULTED, FIELDS, Kind
from store.mapping import FieldSource, Mapping, normalise
from store.privacy import masked_text
from store.profile import CityProfile, closest_name
from store.tables import orders

_TRUE = {"是", "y", "yes", "true", "1", "1.0", "t", "有效", "已联系", "已解决", "解决", "联系", "√"}
_FALSE = {"否", "n", "no", "false", "0", "0.0", "f", "无效", "未联系", "未解决", "×"}
_LITERAL = {"excluded": {"剔除": True, "保留": False}}  # words that keep their sense when inverted
_ENUM_WORDS: dict[str, dict[str, str]] = {
    "satisfaction": {"非常满意": "满意", "very satisfied": "满意", "satisfied": "满意", "比较满意": "基本满意",
                     "somewhat satisfied": "基本满意", "basically satisfied": "基本满意",
                     "dissatisfied": "不满意", "unsatisfied": "不满意", "very dissatisfied": "不满意"},
    "request_type": {"consultation": "咨询", "inquiry": "咨询", "help": "求助", "service request": "求助",
                     "request": "求助", "complaint": "投诉", "report": "举报", "suggestion": "建议",
                     "praise": "表扬", "compliment": "表扬", "other": "其他"},
    "handler_type": {"街道": "街乡镇", "乡镇": "街乡镇", "镇": "街乡镇", "乡": "街乡镇", "地区": "街乡镇",
                     "区政府": "区", "区级部门": "区", "市直部门": "市级部门", "委办局": "市级部门",
                     "city agency": "市级部门", "agency": "市级部门", "国有企业": "企业",
                     "公共服务企业": "企业", "company": "企业"},
}
_DATE_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M",
                 "%Y/%m/%d", "%Y-%m-%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日",
                 "ISO8601")
_UTC_OFFSET = r"(?<=\d)\s*(?:Z|[+-]\d{2}:?\d{2})$"  # "…10:00+08:00", "…10:00Z"
EARLIEST = pd.Timestamp("2000-01-01")
FUTURE_TOLERANCE = pd.Timedelta(days=1)  # clock and time-zone differences between systems
_HOURS_PER_UNIT = {"": 1, "h": 1, "小时": 1, "时": 1, "d": 24, "天": 24, "日": 24, "工作日": 24}
COMPANY_WORDS = ("公司", "集团", "有限")
_NOT_A_NUMBER = "不是有效的数字"
_LONGEST_TIME_LIMIT_HOURS = 366 * 24  # a longer 办理时限 is a typing error, and would overflow deadlines
# The widths of the orders' text columns (String(n)): a field's values must fit.
_LENGTH_LIMITS = {c.name: c.type.length for c in orders.columns if c.name in BY_NAME and getattr(c.type, "length", None)}


@dataclass
class Checked:
    orders: pd.DataFrame  # canonical columns + "_row", valid rows only
    problems: pd.DataFrame  # row, column, value, reason (one line per problem; a row may have several)
    ids: pd.Series  # the order id of every row read, NA where empty


class Problems:
    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, rows: pd.Series, column: str, values: pd.Series, reason) -> None:
        if mask.any():
            self.parts.append(pd.DataFrame({
                "row": rows[mask], "column": column, "value": values[mask].astype(str),
                "reason": reason[mask] if isinstance(reason, pd.Series) else reason}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": [], "value": [], "reason": []})
        return pd.concat(self.parts, ignore_index=True).sort_values(["row", "column"], kind="stable")


# The row where each order id first appeared in earlier chunks of the same file (NA where it did not).
EarlierRows = Callable[[pd.Series], pd.Series]


def checked_orders(raw: pd.DataFrame, mapping: Mapping, profile: CityProfile,
                   now: pd.Timestamp | None = None, earlier_rows: EarlierRows | None = None) -> Checked:
    """`raw` is a whole file or one chunk of it; `earlier_rows` then says which ids the chunks before held."""
    now = now or pd.Timestamp.now()
    rows = raw["_row"].astype("int64")
    problems = Problems()
    out = pd.DataFrame(index=raw.index)
    texts: dict[str, pd.Series] = {}  # the cells as written, for messages
    for f in FIELDS:
        source = mapping.fields.get(f.name)
        if source is None:
            out[f.name] = pd.Series(pd.NA, index=raw.index, dtype=_dtype(f.kind))
            continue
        text = texts[f.name] = _source_text(raw, source)
        label = source.column or f.zh
        value, bad, reason = _converted(f.name, f.kind, text, source, mapping.day_first)
        problems.add(bad, rows, label, text, reason)
        if f.required:
            problems.add(text.isna(), rows, label, text.fillna(""), f"必填字段「{f.zh}」为空")
        out[f.name] = value
    _check_lengths(out, mapping, rows, problems)
    _check_dates(out, texts, mapping, rows, problems, now)
    _check_units(out, mapping, rows, problems, profile)
    _check_coordinates(out, mapping, rows, problems, profile)
    _check_duplicates(out, mapping, rows, problems, earlier_rows)
    _fill_defaults(out)
    found = _masked(problems.frame(), raw, mapping)
    good = ~rows.isin(found["row"])
    orders = out[good].copy()
    orders["_row"] = rows[good]
    return Checked(orders, found, out["order_id"])


def _masked(found: pd.DataFrame, raw: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """Problems quote cells as written: phone and ID numbers in them masked, and the row's caller name, as in
    the orders' text (a name or phone in the wrong column must not reach the quarantine, or a download, in clear)."""
    if found.empty:
        return found
    column = mapping.personal.get("caller_name")
    names = raw.set_index("_row")[column].reindex(found["row"]).set_axis(found.index) if column else None
    return found.assign(value=masked_text(found["value"], names), reason=masked_text(found["reason"], names))


def _dtype(kind: Kind) -> str:
    return {Kind.DATETIME: "datetime64[ns]", Kind.BOOL: "boolean", Kind.NUMBER: "Float64"}.get(kind, "string")


def _source_text(raw: pd.DataFrame, source: FieldSource) -> pd.Series:
    if source.value is not None:
        return pd.Series(source.value, index=raw.index, dtype="string")
    text = raw[source.column].astype("string").str.strip()
    return text.mask(text == "")


def _converted(name: str, kind: Kind, text: pd.Series, source: FieldSource, day_first: bool
               ) -> tuple[pd.Series, pd.Series, str | pd.Series]:
    """The typed values, a mask of non-empty cells that failed, and the reason."""
    if kind is Kind.DATETIME:
        value = parsed_datetimes(text, source.format, day_first)
        return value, text.notna() & value.isna(), "无法识别的日期时间，应如 2024/3/5 14:03:00 或 2024-03-05 14:03"
    if kind is Kind.NUMBER and name == "time_limit_hours":
        value = _hours(text)
        too_long = (value > _LONGEST_TIME_LIMIT_HOURS).fillna(False)
        reason = pd.Series(_NOT_A_NUMBER, index=text.index).mask(too_long, "办理时限超过一年，疑为录入错误")
        value = value.mask(too_long)
        return value, text.notna() & value.isna(), reason
    if kind is Kind.NUMBER:
        value = pd.to_numeric(text, errors="coerce").astype("Float64")
        return value, text.notna() & value.isna(), _NOT_A_NUMBER
    if kind is Kind.BOOL:
        value = _booleans(name, text, source)
        return value, text.notna() & value.isna(), "应为 是/否"
    if kind is Kind.ENUM:
        choices = BY_NAME[name].choices
        words = {normalise(c): c for c in choices} | _ENUM_WORDS.get(name, {}) | source.values
        value = each_distinct(text, lambda t: words.get(normalise(t), pd.NA)).astype("string")
        return value, text.notna() & value.isna(), f"取值无效，应为：{'/'.join(choices)}"
    if source.values:
        text = each_distinct(text, lambda t: source.values.get(normalise(t), t)).astype("string")
    return text, pd.Series(False, index=text.index), ""


def parsed_datetimes(text: pd.Series, fmt: str | None, day_first: bool = False) -> pd.Series:
    """Datetimes in the one format that fits most cells (fast), the rest tried one by one."""
    try:
        return _datetimes(text, fmt, day_first)
    except (ValueError, TypeError):  # cells with different UTC offsets: each keeps its wall-clock time
        return _datetimes(text.str.replace(_UTC_OFFSET, "", regex=True), fmt, day_first)


def _datetimes(text: pd.Series, fmt: str | None, day_first: bool) -> pd.Series:
    present = text.dropna()
    if present.empty:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    best = fmt or _likeliest_format(present.head(1000))
    value = pd.to_datetime(text, format=best, errors="coerce")
    rest = text.notna() & value.isna()
    if rest.any() and not fmt:
        value[rest] = pd.to_datetime(text[rest], format="mixed", dayfirst=day_first, errors="coerce")
    if value.dt.tz is not None:
        value = value.dt.tz_localize(None)
    # Beyond what nanoseconds hold (years 1677-2262: "9999-12-31" placeholders) is no real date either.
    return value.where(value.between(pd.Timestamp.min, pd.Timestamp.max)).astype("datetime64[ns]")


def _likeliest_format(sample: pd.Series) -> str:
    """The first of _DATE_FORMATS that reads the most of the sample: tried in order, and the first to read it all
    wins at once (an export writes one format: most chunks need one try, not ten)."""
    best, most = _DATE_FORMATS[0], -1
    for candidate in _DATE_FORMATS:
        read = int(pd.to_datetime(sample, format=candidate, errors="coerce").notna().sum())
        if read > most:
            best, most = candidate, read
        if read == len(sample):
            break
    return best


def _hours(text: pd.Series) -> pd.Series:
    """办理时限 as hours: "24", "24小时", "7天", "2h" all accepted."""
    parts = text.str.extract(r"^\s*(\d+(?:\.\d+)?)\s*(h|小时|时|d|天|日|工作日)?\s*$")
    units = parts[1].fillna("").map(_HOURS_PER_UNIT)
    return (pd.to_numeric(parts[0], errors="coerce") * units).astype("Float64")


def _booleans(name: str, text: pd.Series, source: FieldSource) -> pd.Series:
    literal = _LITERAL.get(name, {})
    extra = {k: normalise(v) in _TRUE for k, v in source.values.items()}

    def one(t):
        key = normalise(t)
        if key in extra:
            return extra[key]
        if t in literal:
            return literal[t]
        if key in _TRUE or key in _FALSE:
            return (key in _TRUE) != source.inverted
        return pd.NA

    return each_distinct(text, one).astype("boolean")


def _check_lengths(out: pd.DataFrame, mapping: Mapping, rows: pd.Series, problems: Problems) -> None:
    """Text longer than its column holds is the row's problem (PostgreSQL would refuse the whole upload);
    such an id is left out of the duplicate checks, which keep ids in a column of the same width."""
    for name, limit in _LENGTH_LIMITS.items():
        too_long = (out[name].str.len() > limit).fillna(False)
        if too_long.any():
            problems.add(too_long, rows, _label(mapping, name), out[name].str.slice(0, 40) + "…",
                         f"超过 {limit} 个字符，疑为错列或录入错误")
            out[name] = out[name].mask(too_long)


def _check_dates(out: pd.DataFrame, texts: dict[str, pd.Series], mapping: Mapping, rows: pd.Series,
                 problems: Problems, now: pd.Timestamp) -> None:
    for name in ("received_at", "contacted_at", "closed_at"):
        value, label, text = out[name], _label(mapping, name), texts.get(name)
        problems.add(value > now + FUTURE_TOLERANCE, rows, label, text, "日期晚于当前时间")
        problems.add(value < EARLIEST, rows, label, text, "日期早于 2000 年，疑为录入错误")
    received = out["received_at"]
    for name, reason in (("closed_at", "办结时间早于受理时间"), ("contacted_at", "联系时间早于受理时间")):
        problems.add(out[name] < received, rows, _label(mapping, name), texts.get(name), reason)


def _check_units(out: pd.DataFrame, mapping: Mapping, rows: pd.Series, problems: Problems,
                 profile: CityProfile) -> None:
    if profile.is_open:
        return
    districts = list(profile.districts["name"])
    district = out["district"]
    unknown = district.notna() & ~district.isin(districts)
    problems.add(unknown, rows, _label(mapping, "district"), district,
                 each_distinct(district.where(unknown), lambda d: _unknown_reason("区", d, districts)))
    township, pairs = out["township"], profile.townships
    known_pair = pd.MultiIndex.from_frame(pairs[["district", "name"]])
    here = pd.MultiIndex.from_arrays([district.fillna(""), township.fillna("")])
    bad = township.notna() & ~unknown & ~here.isin(known_pair)
    if bad.any():
        by_district = pairs.groupby("district")["name"].apply(list).to_dict()
        reasons = pd.Series([_township_reason(d, t, by_district, pairs) for d, t in
                             zip(district[bad], township[bad])], index=township[bad].index)
        problems.add(bad, rows, _label(mapping, "township"), township, reasons.reindex(township.index))


def _unknown_reason(level: str, name, known: list[str]) -> str:
    hint = closest_name(str(name), known)
    return f"未知的{level}「{name}」" + (f"，是否应为「{hint}」？" if hint else "")


def _township_reason(district: str, township: str, by_district: dict, pairs: pd.DataFrame) -> str:
    elsewhere = pairs.loc[pairs["name"] == township, "district"].tolist()
    if elsewhere:
        return f"「{township}」属于{'、'.join(elsewhere)}，不属于{district}"
    return _unknown_reason(f"街乡镇（{district}）", township, by_district.get(district, []))


def _check_coordinates(out: pd.DataFrame, mapping: Mapping, rows: pd.Series, problems: Problems,
                       profile: CityProfile) -> None:
    lat, lon = out["lat"], out["lon"]
    label = _label(mapping, "lat")
    if (half := lat.isna() != lon.isna()).any():
        problems.add(half, rows, label, lat.astype("string").fillna(""), "经度、纬度须同时填写")
    lon_min, lat_min, lon_max, lat_max = profile.bbox or (-180, -90, 180, 90)

    def inside(la: pd.Series, lo: pd.Series) -> pd.Series:
        return (la.between(lat_min, lat_max) & lo.between(lon_min, lon_max)).fillna(True)

    outside = ~inside(lat, lon) & lat.notna() & lon.notna()  # one of the two missing is reported above
    if not outside.any():
        return
    lat, lon, rows = lat[outside], lon[outside], rows[outside]
    where = f"{profile.name}范围" if profile.bbox else "有效经纬度范围"
    reason = pd.Series(f"坐标不在{where}内", index=lat.index).mask(inside(lon, lat), f"坐标不在{where}内（纬度、经度可能填反了）")
    problems.add(outside[outside], rows, label, "纬度 " + lat.astype("string") + "，经度 " + lon.astype("string"), reason)


def _check_duplicates(out: pd.DataFrame, mapping: Mapping, rows: pd.Series, problems: Problems,
                      earlier_rows: EarlierRows | None) -> None:
    ids = out["order_id"]
    first_row = rows.groupby(ids, dropna=False).transform("first")  # NA ids would make it float
    repeated = ids.notna() & ids.duplicated(keep="first")
    if earlier_rows is not None:
        earlier = earlier_rows(ids)
        first_row = earlier.fillna(first_row).astype("int64")
        repeated |= earlier.notna()
    if repeated.any():
        reason = "与第 " + first_row.astype(str) + " 行的工单编号重复"
        problems.add(repeated, rows, _label(mapping, "order_id"), ids, reason)


def _fill_defaults(out: pd.DataFrame) -> None:
    """What an export may leave implicit: who handled the order, whether its callback counts.

    given_<field> records which values the file stated, so that an inferred value never replaces one
    an earlier upload stated (a later export without 是否保留 must not un-exclude an order). A type
    inferred from a stated handler counts as stated: it follows the handler.
    """
    for name in DEFAULTED:
        out[f"given_{name}"] = out[name].notna()
    out["given_handler_type"] |= out["given_handler"]
    out["handler"] = out["handler"].fillna(out["township"]).fillna(out["district"])
    out["handler_type"] = out["handler_type"].fillna(_inferred_handler_type(out, out["given_handler"]))
    # An answered callback counts as valid; an unanswered one stays unknown (not "invalid"), so that a
    # later file without answers cannot undo what an earlier one recorded.
    answered = out[["contacted", "resolved"]].notna().any(axis=1) | out["satisfaction"].notna()
    out["callback_valid"] = out["callback_valid"].mask(out["callback_valid"].isna() & answered, True)
    out["excluded"] = out["excluded"].fillna(False)


def _inferred_handler_type(out: pd.DataFrame, handler_given: pd.Series) -> pd.Series:
    """A named handler is a township, district, company or city department by its name; none means the place."""
    handler = out["handler"].fillna("")
    kinds = np.select(
        [~handler_given & out["township"].notna(), ~handler_given,
         _contains(handler, out["township"]), _contains(handler, out["district"]),
         handler.str.contains("|".join(COMPANY_WORDS))],
        ["街乡镇", "区", "街乡镇", "区", "企业"], default="市级部门")
    return pd.Series(kinds, index=out.index, dtype="string")


def _contains(texts: pd.Series, parts: pd.Series) -> pd.Series:
    """Whether each text holds its row's part, worked out once per distinct pair (a handful of units)."""
    pairs = pd.DataFrame({"text": texts, "part": parts})
    group = pairs.groupby(["text", "part"], dropna=False, sort=False).ngroup().to_numpy()
    distinct = pairs.drop_duplicates()  # in the order ngroup numbers the groups
    found = np.array([pd.notna(p) and p in t for t, p in zip(distinct["text"], distinct["part"])], dtype=bool)
    return pd.Series(found[group], index=texts.index)


def _label(mapping: Mapping, name: str) -> str:
    source = mapping.fields.get(name)
    return source.column if source is not None and source.column else BY_NAME[name].zh
