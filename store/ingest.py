"""An evaluator's file into the database: read -> map -> validate -> mask -> upsert, in one transaction.

Nothing is lost: rows read = rows accepted + rows rejected, and rejected rows are kept in the
quarantine table with their row number, column and reason. A file that cannot be read changes nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import Column, Connection, Engine, MetaData, Table, case, exists, func, insert, select, update

from store.db import active_profile
from store.fields import DEFAULTED, FIELDS
from store.mapping import Mapping, load_mapping, resolve
from store.privacy import hash_key, masked_text, phone_hashes
from store.read import RawTable, read_table
from store.tables import ORDER_COLUMNS, orders, quarantine, uploads
from store.validate import checked_orders

_WHOLE_ROW = "（整行）"
_MASKED = [f.name for f in FIELDS if f.masked]
# Values a later file may leave blank without erasing what an earlier one said (callbacks arrive late).
_MERGED = [c for c in ORDER_COLUMNS if c not in ("order_id", "row_hash", "upload_id", "received_day")]
_BATCH = 20_000


@dataclass
class IngestResult:
    upload_id: int
    file_name: str
    read: int
    accepted: int
    rejected: int
    inserted: int = 0
    updated: int = 0
    duplicate_of: int | None = None  # the earlier upload of the very same file
    mapping: str = ""
    encoding: str = ""
    problems: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def unchanged(self) -> int:
        return self.accepted - self.inserted - self.updated

    def summary(self) -> str:
        if self.duplicate_of is not None:
            return f"文件「{self.file_name}」与第 {self.duplicate_of} 次上传完全相同，数据库未做任何更改。"
        return (f"读取 {self.read} 行：接收 {self.accepted} 行（新增 {self.inserted}，更新 {self.updated}，"
                f"未变 {self.unchanged}），拒收 {self.rejected} 行。")


@dataclass
class Prepared:
    """A file read, mapped, validated and masked, not yet written: what the upload page previews."""

    file_name: str
    sha256: str
    raw: RawTable = field(repr=False)
    mapping: Mapping = field(repr=False)
    rows: pd.DataFrame = field(repr=False)  # as the orders table will hold them
    problems: pd.DataFrame = field(repr=False)

    def result(self) -> IngestResult:
        read = len(self.raw.frame) + len(self.raw.ragged)
        result = IngestResult(0, self.file_name, read, len(self.rows), self.problems["row"].nunique(),
                              mapping=self.mapping.name, encoding=self.raw.encoding, problems=self.problems)
        assert result.read == result.accepted + result.rejected, "rows read must equal accepted + rejected"
        return result


def ingest_file(engine: Engine, data: bytes, file_name: str, mapping: str | dict | None = None,
                user: str = "命令行", now: pd.Timestamp | None = None) -> IngestResult:
    """Load one file; raises FileError (nothing written) when the file cannot be read at all."""
    earlier = earlier_upload(engine, data)
    if earlier is not None:
        return earlier
    return committed(engine, prepared_file(engine, data, file_name, mapping, now), user)


def earlier_upload(engine: Engine, data: bytes) -> IngestResult | None:
    """The earlier upload of these very bytes, if any: loading it again would change nothing."""
    sha = hashlib.sha256(data).hexdigest()
    with engine.connect() as conn:
        row = conn.execute(select(uploads).where(uploads.c.sha256 == sha).order_by(uploads.c.id)).first()
    if row is None:
        return None
    return IngestResult(row.id, row.file_name, row.rows_read, row.accepted, row.rejected, duplicate_of=row.id,
                        mapping=row.mapping)


def prepared_file(engine: Engine, data: bytes, file_name: str, mapping: str | dict | None = None,
                  now: pd.Timestamp | None = None) -> Prepared:
    """Everything short of writing: raises FileError when the file cannot be read at all."""
    raw = read_table(data, file_name)
    resolved = resolve(load_mapping(mapping), [c for c in raw.frame.columns if c != "_row"])
    checked = checked_orders(raw.frame, resolved, active_profile(engine), now)
    return Prepared(file_name, hashlib.sha256(data).hexdigest(), raw, resolved,
                    _stored_rows(checked.orders, raw.frame, resolved), _all_problems(raw, checked.problems))


def committed(engine: Engine, prepared: Prepared, user: str) -> IngestResult:
    """The prepared upload written in one transaction: upload record, merged orders, quarantined rows."""
    result = prepared.result()
    rows = prepared.rows.copy()
    with engine.begin() as conn:
        result.upload_id = conn.execute(insert(uploads).values(
            file_name=prepared.file_name, sha256=prepared.sha256, mapping=result.mapping, rows_read=result.read,
            accepted=result.accepted, rejected=result.rejected, inserted=0, updated=0,
            uploaded_by=user, uploaded_at=datetime.now()).returning(uploads.c.id)).scalar_one()
        rows["upload_id"] = result.upload_id
        result.inserted, result.updated = _merged(conn, rows)
        records = _quarantine_records(prepared.raw, prepared.mapping, prepared.problems)
        _quarantined(conn, result.upload_id, prepared.problems, records)
        conn.execute(update(uploads).where(uploads.c.id == result.upload_id)
                     .values(inserted=result.inserted, updated=result.updated))
    return result


def _stored_rows(checked: pd.DataFrame, raw: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """The rows as the orders table holds them: personal data hashed or masked, derived columns added."""
    rows = checked.drop(columns="_row")
    personal = raw.loc[rows.index]
    phone, name = mapping.personal.get("caller_phone"), mapping.personal.get("caller_name")
    rows["phone_hash"] = phone_hashes(personal[phone], hash_key()) if phone else None
    names = personal[name] if name else None
    for column in _MASKED:
        rows[column] = masked_text(rows[column], names)
    rows["received_day"] = rows["received_at"].dt.date
    rows["closed_day"] = rows["closed_at"].dt.date
    fingerprint = pd.util.hash_pandas_object(rows[[f.name for f in FIELDS] + ["phone_hash"]], index=False)
    rows["row_hash"] = fingerprint.to_numpy().view("int64")
    return rows


def _all_problems(raw: RawTable, problems: pd.DataFrame) -> pd.DataFrame:
    ragged = pd.DataFrame(raw.ragged, columns=["row", "reason"]).assign(column=_WHOLE_ROW, value="")
    return pd.concat([problems, ragged[problems.columns]], ignore_index=True) if raw.ragged else problems


def _merged(conn: Connection, rows: pd.DataFrame) -> tuple[int, int]:
    """Upsert through a staging table: (inserted, updated). Unchanged rows (same fingerprint) are left alone."""
    stage = Table("upload_stage", MetaData(), *(Column(c.name, c.type) for c in orders.columns),
                  prefixes=["TEMPORARY"])
    stage.create(conn)
    try:
        _staged(conn, rows[list(ORDER_COLUMNS)])
        changed = orders.c.row_hash != stage.c.row_hash
        updated = conn.execute(
            update(orders).where(orders.c.order_id == stage.c.order_id, changed).values(
                {**{c: _merged_value(stage, c) for c in _MERGED if not c.startswith("given_")},
                 **{f"given_{c}": stage.c[f"given_{c}"] | orders.c[f"given_{c}"] for c in DEFAULTED},
                 "row_hash": stage.c.row_hash, "upload_id": stage.c.upload_id,
                 "received_day": stage.c.received_day})).rowcount
        new = select(*(stage.c[c] for c in ORDER_COLUMNS)).where(
            ~exists().where(orders.c.order_id == stage.c.order_id))
        # Without preserve_rowcount SQLAlchemy 2.1 reports -1 for INSERT ... SELECT (psycopg at least).
        inserted = conn.execute(insert(orders).from_select(ORDER_COLUMNS, new)
                                .execution_options(preserve_rowcount=True)).rowcount
    finally:
        stage.drop(conn)
    return inserted, updated


def _merged_value(stage: Table, column: str):
    """The later file's value where it has one; for a defaulted field, an inferred value replaces only
    an inferred one, never a value an earlier file stated."""
    later_first = func.coalesce(stage.c[column], orders.c[column])
    if column not in DEFAULTED:
        return later_first
    stated_before = orders.c[f"given_{column}"] & ~stage.c[f"given_{column}"]
    return case((stated_before, orders.c[column]), else_=later_first)


def _staged(conn: Connection, rows: pd.DataFrame) -> None:
    """Rows into the staging table by each engine's bulk path: COPY on PostgreSQL, executemany on SQLite."""
    columns = ", ".join(rows.columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY upload_stage ({columns}) FROM STDIN") as copy:
            for row in _python_values(rows):
                copy.write_row(row)
        return
    placeholders = ", ".join("?" * len(rows.columns))
    values = _python_values(_sqlite_storage(rows))
    for start in range(0, len(values), _BATCH):
        conn.exec_driver_sql(f"INSERT INTO upload_stage ({columns}) VALUES ({placeholders})",
                             values[start:start + _BATCH])


def _sqlite_storage(rows: pd.DataFrame) -> pd.DataFrame:
    """Values as SQLAlchemy itself stores them in SQLite (so its own reads and comparisons agree)."""
    out = rows.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    for column in ("received_day", "closed_day"):
        out[column] = out[column].astype("string")
    return out


def _python_values(rows: pd.DataFrame) -> list[tuple]:
    """Rows as DBAPI parameters: pandas' missing values become None."""
    columns = [rows[c].astype(object).where(rows[c].notna(), None).tolist() for c in rows.columns]
    return list(zip(*columns))


def _quarantine_records(raw: RawTable, mapping: Mapping, problems: pd.DataFrame) -> dict[int, str]:
    """Each rejected row as JSON for the evaluator to correct: mapped columns only, numbers masked."""
    columns = list(dict.fromkeys(s.column for s in mapping.fields.values() if s.column))
    bad = raw.frame[raw.frame["_row"].isin(problems["row"])]
    name = mapping.personal.get("caller_name")  # the caller's own name, reduced to the surname as in orders
    masked = bad[columns].apply(masked_text, names=bad[name] if name else None)
    return {int(r): json.dumps(rec, ensure_ascii=False)
            for r, rec in zip(bad["_row"], masked.astype(object).where(masked.notna(), "").to_dict("records"))}


def _quarantined(conn: Connection, upload_id: int, problems: pd.DataFrame, records: dict[int, str]) -> None:
    if problems.empty:
        return
    conn.execute(insert(quarantine), [
        {"upload_id": upload_id, "row_number": int(p.row), "column_name": p.column,
         "value": str(masked_text(pd.Series([p.value])).iloc[0])[:500], "reason": p.reason,
         "record": records.get(int(p.row), "{}")}
        for p in problems.itertuples(index=False)])
