"""Small helpers shared by the store tests: literal CSV files, table counts, reading rows back."""
from __future__ import annotations

import io

import openpyxl
import pandas as pd
from sqlalchemy import Engine, func, select

from store.ingest import IngestResult, ingest_file
from store.tables import meta, metadata, orders, quarantine, uploads

# A fixed "now" so that date checks do not depend on the day the tests run.
NOW = pd.Timestamp("2024-06-01 12:00:00")

# The headers of a Beijing district's own export (DOMAIN.md, "What an export looks like"), in order.
BEIJING_HEADERS = [
    "工单编号", "工单类型", "一级分类", "二级分类", "三级分类", "标签", "标题", "主要内容", "工单状态", "来电人",
    "来电人电话", "来电时间", "被反映区", "被反映街乡镇", "村/社区", "主办单位", "办理结果", "回复内容", "办结时间",
    "是否联系", "是否解决", "是否满意", "是否有效回访", "是否保留", "截止时间", "紧急程度",
]


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """A literal CSV written the way Excel writes it (CRLF line ends), in the given encoding."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def workbook_bytes(rows: list[list[object]]) -> bytes:
    """An .xlsx file of one sheet holding these rows (the first is the header), as openpyxl saves it."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ingest(engine: Engine, text: str, name: str = "工单.csv", encoding: str = "utf-8", **kwargs) -> IngestResult:
    kwargs.setdefault("now", NOW)
    return ingest_file(engine, csv_bytes(text, encoding), name, **kwargs)


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every table the store owns."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


def half_month_start(days: pd.Series) -> pd.Series:
    """The first day of each day's half-month cell (store.cubes.HALF_MONTHS), worked out independently:
    2024-03-05 -> 2024-03-01, 2024-03-19 -> 2024-03-19, 2024-02-25 -> 2024-02-19."""
    first = days.dt.to_period("M").dt.start_time + pd.to_timedelta((days.dt.day >= 19) * 18, unit="D")
    return first.astype(days.dtype)


def made_schema_2(engine: Engine) -> None:
    """The database as schema 2 had it: no repeat key, the day index without it (ix_orders_day_unit)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_orders_day_place")
        conn.exec_driver_sql("ALTER TABLE orders DROP COLUMN repeat_key")
        conn.exec_driver_sql("CREATE INDEX ix_orders_day_unit ON orders (received_day, district, township)")
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value="2"))


def stored_orders(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(orders).order_by(orders.c.order_id)).mappings().all()
    # dtype=object: values as the database driver returns them (None stays None, not NaN).
    return pd.DataFrame(rows, columns=list(orders.c.keys()), dtype=object).set_index("order_id", drop=False)


def stored_quarantine(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(quarantine).order_by(quarantine.c.id)).mappings().all()
    return pd.DataFrame(rows, columns=list(quarantine.c.keys()), dtype=object)


def stored_uploads(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(uploads).order_by(uploads.c.id)).mappings().all()
    return pd.DataFrame(rows, columns=list(uploads.c.keys()), dtype=object)


def problems_by_row(result_or_frame) -> dict[int, list[tuple[str, str]]]:
    """{row: [(column, reason), ...]} from an IngestResult's problems or a quarantine frame."""
    frame = getattr(result_or_frame, "problems", result_or_frame)
    row, column = ("row", "column") if "row" in frame.columns else ("row_number", "column_name")
    out: dict[int, list[tuple[str, str]]] = {}
    for r, c, reason in zip(frame[row], frame[column], frame["reason"]):
        out.setdefault(int(r), []).append((c, reason))
    return out
