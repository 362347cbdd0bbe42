"""吹哨报到 records (哨单) into the database, and the frames the whistle metrics read.

A whistle file has one row per department called; the whistle's own fields (township, time, level,
source, closing...) repeat on each of its rows and must agree. Loading follows the orders' rules
(store.ingest): one transaction with an upload record; rows read = accepted + rejected; a rejected row
is kept in the quarantine table with its row number, column and reason; the very same file again
changes nothing; a later file updates a whistle (a blank cell keeps the stored value). Whistle files are
small (a district's year is thousands of rows), so a file is read whole (store.read.read_table).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, delete, distinct, func, insert, select, update

from metrics.whistles import DEPARTMENT_TYPES, LEVELS, SOURCES, STAGES
from store import audit, bulk
from store.db import active_profile, one_upload_at_a_time
from store.fields import PERSONAL_ALIASES, Kind
from store.ingest import IngestResult, quarantine_records, quarantined, with_ragged  # the orders' quarantine
from store.mapping import FieldSource, Mapping, normalise
from store.privacy import masked_text
from store.profile import CityProfile, closest_name
from store.read import FileError, RawTable, Source, read_table, sha256
from store.tables import WHISTLE_UPLOAD, orders, uploads, whistle_departments, whistle_escalations, whistles
from store.validate import (  # the orders' checks and words
    COMPANY_WORDS,
    EARLIEST,
    FUTURE_TOLERANCE,
    Problems,
    parsed_datetimes,
)

_STATION_ENDINGS = ("所", "中队", "大队", "站")  # 派出所、司法所、市场监管所、税务所、交通中队、供电站…
# Personal columns of a whistle file: the orders' ones and the township's contact person.
_PERSONAL = PERSONAL_ALIASES | {"caller_name": ("联系人", "联系人姓名", *PERSONAL_ALIASES["caller_name"]),
                                "caller_phone": ("联系人电话", *PERSONAL_ALIASES["caller_phone"])}
_YES = {"是", "y", "yes", "1", "true", "已报到", "报到", "已解决", "解决", "满意", "同意", "√"}
_NO = {"否", "n", "no", "0", "false", "未报到", "未解决", "不满意", "不同意", "×"}


@dataclass(frozen=True)
class WhistleField:
    name: str  # column in whistles / whistle_departments, or an escalation stage
    zh: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # for ENUM; a choice without its last character (普通 for 普通哨) is accepted
    of_whistle: bool = True  # repeated on every row of the whistle (False: the department's own)


FIELDS: tuple[WhistleField, ...] = (
    WhistleField("whistle_id", "哨单编号", Kind.TEXT, True, ("哨单号", "吹哨编号", "whistle_id")),
    WhistleField("district", "区", Kind.TEXT, False, ("所属区", "district")),
    WhistleField("township", "街乡镇", Kind.TEXT, True, ("吹哨街乡镇", "吹哨单位", "街道乡镇", "乡镇", "township")),
    WhistleField("blown_at", "吹哨时间", Kind.DATETIME, True, ("发哨时间", "blown_at")),
    WhistleField("level", "哨级", Kind.ENUM, True, ("吹哨级别", "哨单级别", "level"), LEVELS),
    WhistleField("source", "来源", Kind.ENUM, False, ("哨源", "问题来源", "source"), SOURCES),
    WhistleField("order_id", "工单编号", Kind.TEXT, False, ("热线工单编号", "12345工单编号", "order_id")),
    WhistleField("category", "问题分类", Kind.TEXT, False, ("问题类型", "事项分类", "category")),
    WhistleField("description", "问题描述", Kind.TEXT, False, ("问题内容", "内容", "description")),
    WhistleField("closed_at", "结案时间", Kind.DATETIME, False, ("办结时间", "closed_at")),
    WhistleField("agreed", "街乡同意结案", Kind.BOOL, False, ("是否同意结案", "同意结案", "agreed")),
    WhistleField("escalated_district", "升级区级时间", Kind.DATETIME, False, ("升级至区级时间", "区级统筹时间")),
    WhistleField("escalated_city", "升级市级时间", Kind.DATETIME, False, ("升级至市级时间", "市级协调时间")),
    WhistleField("department", "报到部门", Kind.TEXT, True, ("被吹哨部门", "报到单位", "department"), of_whistle=False),
    WhistleField("department_type", "部门类型", Kind.ENUM, False, ("报到部门类型", "department_type"),
                 DEPARTMENT_TYPES, of_whistle=False),
    WhistleField("reported_at", "报到时间", Kind.DATETIME, False, ("到场时间", "reported_at"), of_whistle=False),
    WhistleField("judged_reported", "是否报到", Kind.BOOL, False, ("报到评判",), of_whistle=False),
    WhistleField("judged_resolved", "是否解决", Kind.BOOL, False, ("解决评判",), of_whistle=False),
    WhistleField("judged_satisfied", "是否满意", Kind.BOOL, False, ("满意评判",), of_whistle=False),
)
BY_NAME = {f.name: f for f in FIELDS}
WHISTLE_COLUMNS = [f.name for f in FIELDS if f.of_whistle and f.name not in STAGES]
DEPARTMENT_COLUMNS = ["whistle_id", *(f.name for f in FIELDS if not f.of_whistle)]
_CHECKED_AFTER = {"reported_at": "报到时间早于吹哨时间", "closed_at": "结案时间早于吹哨时间",
                  **{stage: "升级时间早于吹哨时间" for stage in STAGES}}


class WhistleResult(IngestResult):
    """An upload's outcome as for orders; read and accepted count rows (department calls), inserted and
    updated count whistles."""

    def summary(self) -> str:
        if self.duplicate_of is not None:
            return super().summary()
        return (f"读取 {self.read} 行（每行一个报到部门）：接收 {self.accepted} 行，拒收 {self.rejected} 行；"
                f"哨单新增 {self.inserted} 张，更新 {self.updated} 张。")


@dataclass
class _Checked:
    rows: pd.DataFrame  # accepted rows, canonical columns + "_row"
    problems: pd.DataFrame  # row, column, value, reason
    mapping: Mapping  # the headers each field was read from, for the quarantine records


def ingest_whistles(engine: Engine, data: Source, file_name: str, user: str = "命令行",
                    now: pd.Timestamp | None = None) -> WhistleResult:
    """Load a whistle file in one transaction; FileError (nothing written) when it cannot be read at all."""
    digest = sha256(data)
    with engine.connect() as conn:
        if (earlier := _upload_of(conn, digest)) is not None:
            return earlier
    table = read_table(data, file_name)
    checked = checked_whistles(table.frame, active_profile(engine), now or pd.Timestamp.now())
    problems = with_ragged(checked.problems, table.ragged)
    read = len(table.frame) + len(table.ragged)
    result = WhistleResult(0, file_name, read, len(checked.rows), problems["row"].nunique(), mapping=WHISTLE_UPLOAD,
                           encoding=table.encoding, problems=problems)
    assert result.read == result.accepted + result.rejected, "rows read must equal accepted + rejected"
    try:
        with engine.begin() as conn:
            _written(conn, result, digest, checked, table, user)
    except _LoadedMeanwhile as loaded:  # the same file, committed by another upload while this one waited
        return loaded.earlier
    return result


class _LoadedMeanwhile(Exception):
    def __init__(self, earlier: WhistleResult) -> None:
        self.earlier = earlier


def _written(conn: Connection, result: WhistleResult, digest: str, checked: _Checked, table: RawTable,
             user: str) -> None:
    """The upload record, the merged whistles, the quarantined rows and the audit line, in the caller's transaction.

    The upload record is written first: that takes SQLite's write lock (PostgreSQL: the advisory lock the
    orders' uploads take too), so that an upload of the same file that committed meanwhile is seen here."""
    one_upload_at_a_time(conn)
    result.upload_id = conn.execute(insert(uploads).values(
        file_name=result.file_name, sha256=digest, mapping=WHISTLE_UPLOAD, rows_read=result.read,
        accepted=result.accepted, rejected=result.rejected, inserted=0, updated=0, uploaded_by=user,
        uploaded_at=datetime.now()).returning(uploads.c.id)).scalar_one()
    if (earlier := _upload_of(conn, digest)).upload_id != result.upload_id:
        raise _LoadedMeanwhile(earlier)
    result.inserted, result.updated = _merged(conn, checked.rows, result.upload_id)
    conn.execute(update(uploads).where(uploads.c.id == result.upload_id)
                 .values(inserted=result.inserted, updated=result.updated))
    problems = result.problems
    quarantined(conn, result.upload_id, problems, quarantine_records(table.frame, checked.mapping, problems))
    audit.record(conn, user, audit.UPLOAD, f"第 {result.upload_id} 次上传「{result.file_name}」（哨单）：{result.summary()}")


def _upload_of(conn: Connection, digest: str) -> WhistleResult | None:
    """The first upload of these very bytes as a whistle file, if any: loading it again would change nothing."""
    earlier = conn.execute(select(uploads).where(uploads.c.sha256 == digest, uploads.c.mapping == WHISTLE_UPLOAD)
                           .order_by(uploads.c.id)).first()
    if earlier is None:
        return None
    return WhistleResult(earlier.id, earlier.file_name, earlier.rows_read, earlier.accepted, earlier.rejected,
                         duplicate_of=earlier.id, mapping=WHISTLE_UPLOAD)


# --- reading and checking -------------------------------------------------------------------------

def whistle_mapping(headers: list[str]) -> Mapping:
    """Which header feeds each field (its Chinese name, column name or an alias); FileError naming the
    required columns that are missing. Personal columns (联系人, 电话…) are read only to mask the text."""
    by_norm = {normalise(h): h for h in headers}
    found = {f.name: next((by_norm[normalise(n)] for n in (f.zh, *f.aliases) if normalise(n) in by_norm), None)
             for f in FIELDS}
    missing = [f"「{BY_NAME[n].zh}」" for n, column in found.items() if column is None and BY_NAME[n].required]
    if missing:
        raise FileError(f"哨单文件缺少必需的列：{'、'.join(missing)}。文件的表头为：{'、'.join(headers)}。")
    personal = {key: by_norm[normalise(a)] for key, aliases in _PERSONAL.items() for a in aliases
                if normalise(a) in by_norm and by_norm[normalise(a)] not in found.values()}
    return Mapping(WHISTLE_UPLOAD, {n: FieldSource(column=c) for n, c in found.items() if c}, personal)


def checked_whistles(raw: pd.DataFrame, profile: CityProfile, now: pd.Timestamp) -> _Checked:
    """Every cell converted and checked; a row with any problem is rejected whole."""
    mapping = whistle_mapping([c for c in raw.columns if c != "_row"])
    rows = raw["_row"].astype("int64")
    problems = Problems()
    out = pd.DataFrame(index=raw.index)
    texts: dict[str, pd.Series] = {}
    for f in FIELDS:
        source = mapping.fields.get(f.name)
        text = raw[source.column].astype("string").str.strip() if source else pd.Series(pd.NA, index=raw.index,
                                                                                          dtype="string")
        texts[f.name] = text = text.mask(text == "")
        value, bad, reason = _converted(f, text)
        problems.add(bad, rows, _label(mapping, f.name), text, reason)
        if f.required:
            problems.add(text.isna(), rows, _label(mapping, f.name), text.fillna(""), f"必填字段「{f.zh}」为空")
        out[f.name] = value
    _check_dates(out, texts, mapping, rows, problems, now)
    _check_places(out, mapping, rows, problems, profile)
    _check_repeats(out, texts, mapping, rows, problems)
    _fill_defaults(out, raw, mapping)
    found = problems.frame()
    good = ~rows.isin(found["row"])
    return _Checked(out[good].assign(_row=rows[good]).reset_index(drop=True), found, mapping)


def _converted(f: WhistleField, text: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """The typed values, a mask of non-empty cells that failed, and the reason."""
    if f.kind is Kind.DATETIME:
        value = parsed_datetimes(text, None)
        return value, text.notna() & value.isna(), "无法识别的日期时间，应如 2025/3/5 14:03 或 2025-03-05 14:03:00"
    if f.kind is Kind.BOOL:
        key = text.map(normalise, na_action="ignore")
        value = key.map(lambda k: True if k in _YES else False if k in _NO else pd.NA, na_action="ignore")
        return value.astype("boolean"), text.notna() & value.isna(), "应为 是/否"
    if f.kind is Kind.ENUM:
        words = {normalise(c): c for c in f.choices} | {normalise(c[:-1]): c for c in f.choices}
        value = text.map(lambda t: words.get(normalise(t), pd.NA), na_action="ignore").astype("string")
        return value, text.notna() & value.isna(), f"取值无效，应为：{'/'.join(f.choices)}"
    return text, pd.Series(False, index=text.index), ""


def _label(mapping: Mapping, name: str) -> str:
    source = mapping.fields.get(name)
    return source.column if source else BY_NAME[name].zh


def _check_dates(out: pd.DataFrame, texts: dict[str, pd.Series], mapping: Mapping, rows: pd.Series,
                 problems: Problems, now: pd.Timestamp) -> None:
    for f in FIELDS:
        if f.kind is Kind.DATETIME:
            label, value = _label(mapping, f.name), out[f.name]
            problems.add(value > now + FUTURE_TOLERANCE, rows, label, texts[f.name], "日期晚于当前时间")
            problems.add(value < EARLIEST, rows, label, texts[f.name], "日期早于 2000 年，疑为录入错误")
    for name, reason in _CHECKED_AFTER.items():
        problems.add(out[name] < out["blown_at"], rows, _label(mapping, name), texts[name], reason)


def _check_places(out: pd.DataFrame, mapping: Mapping, rows: pd.Series, problems: Problems,
                  profile: CityProfile) -> None:
    """A township of the city profile (of the 区 column's district when there is one); the 区 is filled in
    from the profile when the file leaves it out. Without a profile every name is taken as written."""
    if profile.is_open:
        return
    pairs = profile.townships[["district", "name"]]
    named = out["township"].notna()
    district_of = pairs.drop_duplicates("name", keep=False).set_index("name")["district"]
    out["district"] = out["district"].fillna(out["township"].map(district_of)).astype("string")
    here = pd.MultiIndex.from_arrays([out["district"].fillna(""), out["township"].fillna("")])
    bad = named & ~here.isin(pd.MultiIndex.from_frame(pairs))
    if bad.any():
        names = pairs["name"].tolist()
        reasons = out.loc[bad].apply(lambda r: _place_reason(r["district"], r["township"], names, pairs), axis=1)
        problems.add(bad, rows, _label(mapping, "township"), out["township"], reasons.reindex(out.index))


def _place_reason(district, township: str, names: list[str], pairs: pd.DataFrame) -> str:
    elsewhere = pairs.loc[pairs["name"] == township, "district"].tolist()
    if elsewhere and pd.notna(district):
        return f"「{township}」属于{'、'.join(elsewhere)}，不属于{district}"
    if elsewhere:
        return f"「{township}」在{'、'.join(elsewhere)}都有，请填写「区」列"
    hint = closest_name(township, names)
    return f"未知的街乡镇「{township}」" + (f"，是否应为「{hint}」？" if hint else "")


def _check_repeats(out: pd.DataFrame, texts: dict[str, pd.Series], mapping: Mapping, rows: pd.Series,
                   problems: Problems) -> None:
    """The whistle's fields agree on all its rows (a blank cell states nothing); a department once per whistle."""
    ids = out["whistle_id"]
    for f in FIELDS:
        if not f.of_whistle or f.name == "whistle_id":
            continue
        value = out[f.name]
        stated = value.groupby(ids).transform("first")  # the first stated value of the whistle
        stated_row = rows.where(value.notna()).groupby(ids).transform("first")
        differs = (value.notna() & stated.notna() & (value != stated)).fillna(False)
        reason = ("与同一哨单第 " + stated_row.astype("Int64").astype("string") + " 行的「" + f.zh + "」不一致（那一行为「"
                  + texts[f.name].groupby(ids).transform("first").fillna("") + "」）")
        problems.add(differs, rows, _label(mapping, f.name), texts[f.name], reason)
    repeated = ids.notna() & out[["whistle_id", "department"]].duplicated(keep="first") & out["department"].notna()
    first_call = rows.groupby([ids, out["department"]]).transform("first")
    problems.add(repeated, rows, _label(mapping, "department"), out["department"],
                 "同一哨单的同一报到部门与第 " + first_call.astype("Int64").astype("string") + " 行重复")


def _fill_defaults(out: pd.DataFrame, raw: pd.DataFrame, mapping: Mapping) -> None:
    """A whistle carrying an order id came from the hotline; a department's type follows its name when the
    file leaves it out; the description is masked (phone and ID numbers, the named person's name)."""
    out["source"] = out["source"].mask(out["source"].isna() & out["order_id"].notna(), SOURCES[0])
    name = out["department"].fillna("")
    inferred = pd.Series(DEPARTMENT_TYPES[0], index=out.index, dtype="string")
    inferred[name.str.endswith(_STATION_ENDINGS)] = DEPARTMENT_TYPES[1]
    inferred[name.str.contains("|".join(COMPANY_WORDS))] = DEPARTMENT_TYPES[2]
    out["department_type"] = out["department_type"].fillna(inferred)
    person = mapping.personal.get("caller_name")
    out["description"] = masked_text(out["description"], raw[person] if person else None)


# --- writing --------------------------------------------------------------------------------------

def _merged(conn: Connection, rows: pd.DataFrame, upload_id: int) -> tuple[int, int]:
    """The file's whistles merged with the stored ones (the file's value where it has one, else the stored
    one; departments and escalations the file does not name are kept) and written where they changed:
    (whistles inserted, whistles updated)."""
    if rows.empty:
        return 0, 0
    later_w = rows.groupby("whistle_id", sort=False)[[*WHISTLE_COLUMNS[1:], *STAGES]].first()
    later_d = rows[DEPARTMENT_COLUMNS].set_index(["whistle_id", "department"])
    ids = later_w.index.tolist()
    stored_w, stored_d = _stored(conn, ids, later_w, later_d)
    merged_w = later_w.fillna(stored_w.reindex(later_w.index)[later_w.columns])
    merged_d = later_d.fillna(stored_d.reindex(later_d.index))
    merged_d = pd.concat([merged_d, stored_d[~stored_d.index.isin(merged_d.index)]]).sort_index()
    hashes = _fingerprints(merged_w, merged_d)
    before = stored_w["row_hash"].reindex(merged_w.index)
    new, changed = before.isna(), before.notna() & (before != hashes)
    if changed.any():
        gone = changed.index[changed].tolist()
        for table in (whistle_departments, whistle_escalations, whistles):
            conn.execute(delete(table).where(bulk.among(conn, table.c.whistle_id, gone)))
    written = merged_w[(new | changed).to_numpy()]
    # hashes taken for the written rows only: assigning a longer Series to an empty frame would add its rows
    bulk.inserted(conn, whistles, written[WHISTLE_COLUMNS[1:]].assign(row_hash=hashes[written.index],
                                                                        upload_id=upload_id).reset_index())
    calls = merged_d[merged_d.index.get_level_values("whistle_id").isin(written.index)].reset_index()
    bulk.inserted(conn, whistle_departments, calls[DEPARTMENT_COLUMNS])
    stages = written[list(STAGES)].rename(columns=STAGES).reset_index().melt(
        "whistle_id", var_name="stage", value_name="escalated_at").dropna(subset=["escalated_at"])
    bulk.inserted(conn, whistle_escalations, stages)
    return int(new.sum()), int(changed.sum())


def _stored(conn: Connection, ids: list[str], like_w: pd.DataFrame, like_d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored whistles (with row_hash and a column per escalation stage) and their departments, indexed
    and typed as the file's frames."""
    joined, stage_columns = _with_stages()
    found = conn.execute(select(whistles, *stage_columns).select_from(joined)
                         .where(bulk.among(conn, whistles.c.whistle_id, ids))).mappings().all()
    stored_w = pd.DataFrame(found, columns=[*whistles.c.keys(), *STAGES], dtype=object).set_index("whistle_id")
    stored_w = stored_w.astype({c: like_w[c].dtype for c in like_w.columns} | {"row_hash": "Int64"})
    calls = conn.execute(select(whistle_departments)
                         .where(bulk.among(conn, whistle_departments.c.whistle_id, ids))).mappings().all()
    stored_d = pd.DataFrame(calls, columns=DEPARTMENT_COLUMNS, dtype=object).set_index(["whistle_id", "department"])
    return stored_w, stored_d.astype({c: like_d[c].dtype for c in like_d.columns})


def _fingerprints(merged_w: pd.DataFrame, merged_d: pd.DataFrame) -> pd.Series:
    """A 64-bit fingerprint of each whistle with its departments: equal when nothing changed."""
    calls = merged_d.reset_index()
    call_text = _joined(calls).groupby(calls["whistle_id"].to_numpy()).agg("\n".join)
    text = _joined(merged_w) + "\n" + call_text.reindex(merged_w.index).fillna("")
    return text.map(lambda t: int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "big",
                                             signed=True)).astype("Int64")


def _joined(frame: pd.DataFrame) -> pd.Series:
    """Each row's values as one text (a blank cell as nothing)."""
    return frame.astype("string").fillna("").agg("|".join, axis=1)


# --- reading back ---------------------------------------------------------------------------------

def _with_stages():
    """whistles outer-joined with one escalation row per stage, and the stages' times as columns."""
    joined, columns = whistles, []
    for column, stage in STAGES.items():
        escalation = whistle_escalations.alias(column)
        joined = joined.outerjoin(escalation, (escalation.c.whistle_id == whistles.c.whistle_id)
                                  & (escalation.c.stage == stage))
        columns.append(escalation.c.escalated_at.label(column))
    return joined, columns


def _blown_between(start: date, end: date):
    return whistles.c.blown_at.between(pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1, microseconds=-1))


def whistle_frame(engine: Engine, start: date, end: date) -> pd.DataFrame:
    """The whistles blown from start to end (days, inclusive): their fields and escalation times."""
    joined, stage_columns = _with_stages()
    columns = [whistles.c[c] for c in WHISTLE_COLUMNS]
    query = select(*columns, *stage_columns).select_from(joined).where(_blown_between(start, end))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query.order_by(whistles.c.blown_at, whistles.c.whistle_id)).all(),
                             columns=[*WHISTLE_COLUMNS, *STAGES])
    times = ["blown_at", "closed_at", *STAGES]
    return frame.astype({c: "datetime64[ns]" for c in times} | {"agreed": "boolean"})


def call_frame(engine: Engine, start: date, end: date) -> pd.DataFrame:
    """The department calls of those whistles: the whistle's id, township, time and level, whether it was
    escalated, and the department's type, 报到 time and the township's three judgements."""
    joined, stage_columns = _with_stages()
    keys = [whistles.c[c] for c in ("township", "blown_at", "level")]
    departments = [whistle_departments.c[c] for c in DEPARTMENT_COLUMNS]
    query = (select(*departments, *keys, *stage_columns)
             .select_from(joined.join(whistle_departments, whistle_departments.c.whistle_id == whistles.c.whistle_id))
             .where(_blown_between(start, end)).order_by(whistles.c.blown_at, *departments[:2]))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=[*DEPARTMENT_COLUMNS, "township", "blown_at",
                                                                   "level", *STAGES])
    frame["escalated"] = frame[list(STAGES)].notna().any(axis=1)
    judged = ["judged_reported", "judged_resolved", "judged_satisfied"]
    return (frame.drop(columns=list(STAGES))
            .astype({"blown_at": "datetime64[ns]", "reported_at": "datetime64[ns]"} | dict.fromkeys(judged, "boolean")))


def whistle_years(engine: Engine) -> list[int]:
    """The years with whistles, newest first (empty: no whistles yet)."""
    with engine.connect() as conn:
        span = conn.execute(select(func.min(whistles.c.blown_at), func.max(whistles.c.blown_at))).one()
    if span[0] is None:
        return []
    first, last = (pd.Timestamp(t).year for t in span)
    return list(range(last, first - 1, -1))


def linked_orders(engine: Engine, start: date, end: date) -> pd.DataFrame:
    """The hotline orders that led to the whistles blown from start to end, each once: the columns the
    counts are made of (store.aggregates.order_counts) and excluded."""
    linked = select(whistles.c.order_id).where(_blown_between(start, end), whistles.c.order_id.is_not(None)).distinct()
    columns = ["order_id", "callback_valid", "contacted", "resolved", "satisfaction", "closed_at", "excluded"]
    query = select(*(orders.c[c] for c in columns)).where(orders.c.order_id.in_(linked))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)


def linked_order_ids(engine: Engine, start: date, end: date) -> int:
    """How many distinct order ids those whistles name (some may not be in the orders table)."""
    query = select(func.count(distinct(whistles.c.order_id))).where(_blown_between(start, end))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def hotline_order_ids(engine: Engine, district: str, start: date, end: date) -> list[str]:
    """The ids of a district's orders received from start to end, in id order (the demo links whistles to them)."""
    query = (select(orders.c.order_id).where(orders.c.district == district,
                                             orders.c.received_day.between(start, end)).order_by(orders.c.order_id))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())
