"""The database tables (SQLAlchemy Core). Order columns come from store.fields, one source of truth."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from store.fields import DEFAULTED, FIELDS, Kind

SCHEMA_VERSION = 3  # 2: orders.counted and the counts_* tables; 3: orders.repeat_key, ix_orders_day_place

metadata = MetaData()

_SQL_TYPE = {Kind.TEXT: Text, Kind.DATETIME: DateTime, Kind.BOOL: Boolean, Kind.ENUM: String(16),
             Kind.NUMBER: Float}
_SHORT_TEXT = {"order_id", "district", "township", "community", "handler", "category1", "category2",
               "category3", "channel", "urgency", "status", "qiyou_tag"}


def _order_columns() -> list[Column]:
    cols = []
    for f in FIELDS:
        sql_type = String(200) if f.name in _SHORT_TEXT else _SQL_TYPE[f.kind]
        cols.append(Column(f.name, sql_type, primary_key=f.name == "order_id", nullable=not f.required,
                           comment=f.zh))
    return cols


def _derived_columns() -> list[Column]:
    return [
        Column("received_day", Date, nullable=False, comment="受理日期：按日聚合与考核周期划分"),
        Column("closed_day", Date, comment="办结日期：按办结时间划分考核周期时使用"),
        Column("phone_hash", String(64), comment="来电号码的带密钥哈希（重复诉求分析），不可还原"),
        Column("repeat_key", BigInteger, comment="重复诉求键：来电号码哈希、一级/二级分类与街乡镇的指纹；无来电号码时为空"),
        Column("row_hash", BigInteger, nullable=False, comment="行内容指纹：识别重复上传"),
        Column("counted", SmallInteger, nullable=False, comment="本单计入哪些计数（位：见 store.cubes.COUNT_BITS）"),
        Column("upload_id", Integer, ForeignKey("uploads.id"), nullable=False, comment="最近一次写入本行的上传"),
        # Whether a file stated these values or ingestion inferred them: a stated value is never replaced by
        # an inferred one from a later file.
        *(Column(f"given_{name}", Boolean, nullable=False, default=False) for name in DEFAULTED),
    ]


meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

WHISTLE_UPLOAD = "吹哨报到哨单"  # uploads.mapping of a whistle file (store.whistles): tells its uploads from the orders'

uploads = Table(
    "uploads", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("mapping", Text, nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("uploaded_by", Text, nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
)

orders = Table("orders", metadata, *_order_columns(), *_derived_columns())
# By day and place; with the repeat key, the keys of a period's possible repeat requests are read from the index alone.
Index("ix_orders_day_place", orders.c.received_day, orders.c.district, orders.c.township, orders.c.repeat_key)
Index("ix_orders_closed_day", orders.c.closed_day)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("upload_id", Integer, ForeignKey("uploads.id"), nullable=False, index=True),
    Column("row_number", Integer, nullable=False, comment="文件中的行号（表头为第 1 行）"),
    Column("column_name", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("record", Text, nullable=False, comment="该行内容（JSON，个人信息已去除）"),
)

# Evaluator-supplied reference data that the public profile lacks.
unit_population = Table(
    "unit_population", metadata,
    Column("level", String(16), primary_key=True),  # district | township
    Column("district", String(200), primary_key=True),
    Column("unit", String(200), primary_key=True),
    Column("population", Float, nullable=False),
    Column("source", Text, nullable=False),
)

boundaries = Table(
    "boundaries", metadata,
    Column("level", String(16), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("district", String(200), primary_key=True),
    Column("geometry", Text, nullable=False),  # GeoJSON geometry
)

# 吹哨报到 (store.whistles): a township's whistle, the departments it called (one row each, with the 报到
# time and the township's three judgements) and the whistle's escalations. Uploads and rejected rows go to
# `uploads` and `quarantine` like those of orders.
whistles = Table(
    "whistles", metadata,
    Column("whistle_id", String(200), primary_key=True, comment="哨单编号"),
    Column("district", String(200), comment="区"),
    Column("township", String(200), nullable=False, comment="吹哨街乡镇"),
    Column("blown_at", DateTime, nullable=False, comment="吹哨时间"),
    Column("level", String(16), nullable=False, comment="哨级：普通哨/重点哨/疑难哨"),
    Column("source", String(16), comment="来源：热线工单/网格巡查/街乡自查/其他"),
    Column("order_id", String(200), index=True, comment="来自热线工单时的工单编号"),
    Column("category", String(200), comment="问题分类"),
    Column("description", Text, comment="问题描述（打码）"),
    Column("closed_at", DateTime, comment="结案时间"),
    Column("agreed", Boolean, comment="街乡是否同意结案"),
    Column("row_hash", BigInteger, nullable=False, comment="内容指纹：识别未变的哨单"),
    Column("upload_id", Integer, ForeignKey("uploads.id"), nullable=False, comment="最近一次写入本行的上传"),
)
Index("ix_whistles_blown_at", whistles.c.blown_at)

whistle_departments = Table(
    "whistle_departments", metadata,
    Column("whistle_id", String(200), ForeignKey("whistles.whistle_id"), primary_key=True),
    Column("department", String(200), primary_key=True, comment="报到部门"),
    Column("department_type", String(16), nullable=False, comment="区级部门/派驻机构/公共服务企业"),
    Column("reported_at", DateTime, comment="报到时间"),
    Column("judged_reported", Boolean, comment="街乡评判：是否报到"),
    Column("judged_resolved", Boolean, comment="街乡评判：是否解决"),
    Column("judged_satisfied", Boolean, comment="街乡评判：是否满意"),
)

whistle_escalations = Table(
    "whistle_escalations", metadata,
    Column("whistle_id", String(200), ForeignKey("whistles.whistle_id"), primary_key=True),
    Column("stage", String(16), primary_key=True, comment="升级到：区级/市级"),
    Column("escalated_at", DateTime, nullable=False, comment="升级时间"),
)

# Early warnings and special topics (预警与专题, store.analysis): alerts the evaluator has marked as seen, and the
# 每月一题 themes with their problems (sets of categories and/or keywords) and the day each problem's work began.
alert_seen = Table(
    "alert_seen", metadata,
    Column("alert_key", String(400), primary_key=True, comment="粒度|时段|区|街乡镇|一级分类"),
    Column("seen_by", Text, nullable=False),
    Column("seen_at", DateTime, nullable=False),
)

themes = Table(
    "themes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False, comment="每月一题的月份 YYYY-MM"),
    Column("title", Text, nullable=False),
    Column("note", Text, nullable=False, default=""),
)

theme_problems = Table(
    "theme_problems", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("theme_id", Integer, ForeignKey("themes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("categories", Text, nullable=False, comment="JSON：[“一级分类”或“一级分类/二级分类”, …]"),
    Column("keywords", Text, nullable=False, comment="JSON：标题或内容中的关键词"),
    Column("start_day", Date, nullable=False, comment="治理开始日期：之前与之后对比"),
)

# Access and accountability (issue 6): who may log in and what they may see (store.auth), what was done
# by whom (store.audit), and which scheme version each published ranking used (store.publications).
users = Table(
    "users", metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(16), nullable=False, comment="admin | evaluator | district | township"),
    Column("district", String(200), comment="区级、街乡镇查看账号的区"),
    Column("township", String(200), comment="街乡镇查看账号的街乡镇"),
    Column("password_hash", Text, nullable=False, comment="argon2id 哈希，不可还原"),
    Column("created_at", DateTime, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_name", String(100), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)
# Login throttling counts a name's recent failures.
Index("ix_audit_log_user_action", audit_log.c.user_name, audit_log.c.action, audit_log.c.at)

scheme_versions = Table(
    "scheme_versions", metadata,
    Column("name", String(100), primary_key=True),
    Column("content_hash", String(12), primary_key=True),
    Column("content", Text, nullable=False, comment="方案全部设置（JSON），可据此重建方案"),
    Column("recorded_at", DateTime, nullable=False),
)

publications = Table(
    "publications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("period", String(16), nullable=False),
    Column("scheme_name", String(100), nullable=False),
    Column("scheme_hash", String(12), nullable=False),
    Column("data_version", Integer, nullable=False, comment="发布时最后一次上传的编号"),
    Column("published_by", String(100), nullable=False),
    Column("published_at", DateTime, nullable=False),
    ForeignKeyConstraint(["scheme_name", "scheme_hash"], ["scheme_versions.name", "scheme_versions.content_hash"]),
)

# Columns a staging copy of an upload carries: everything an order row holds.
ORDER_COLUMNS: tuple[str, ...] = tuple(c.name for c in orders.columns)
