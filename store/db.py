"""The engine, from DATABASE_URL or an embedded SQLite file, and automatic, versioned schema creation."""
from __future__ import annotations

import json
import os

from sqlalchemy import Connection, Engine, bindparam, create_engine, delete, event, select, update

from metrics.rates import COUNT_COLUMNS
from metrics.repeats import REPEAT_KEYS, repeat_keys
from store.aggregates import cube_signature, rebuilt, signature
from store.bulk import order_pages
from store.cubes import BASES, CUBES
from store.paths import LOCAL_DIR
from store.profile import CityProfile, load_profile
from store.tables import SCHEMA_VERSION, meta, metadata, orders

DEFAULT_PROFILE = "beijing"
_UPLOAD_LOCK = 12345  # the advisory lock key of uploads on PostgreSQL


def database_url(url: str | None = None) -> str:
    """The explicit URL, else $DATABASE_URL, else a SQLite file under data/local/."""
    if url:
        return url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{LOCAL_DIR / 'dashboard.sqlite'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets pages read while an upload writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: index upkeep of millions of orders
    cursor.close()


def connect(url: str | None = None, profile: str | None = None) -> Engine:
    """An engine with the schema in place. `profile` is adopted only by a new database."""
    engine = create_engine(database_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    with engine.begin() as conn:
        metadata.create_all(conn)
        rows = dict(conn.execute(select(meta.c.key, meta.c.value)).all())
        if not rows:
            conn.execute(meta.insert(), [
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                {"key": "profile", "value": profile or DEFAULT_PROFILE},
            ])
        elif int(rows["schema_version"]) > SCHEMA_VERSION:
            raise RuntimeError(f"数据库结构版本 {rows['schema_version']} 高于本程序支持的 {SCHEMA_VERSION}，请升级程序。")
        elif int(rows["schema_version"]) < SCHEMA_VERSION:
            _upgraded(conn, int(rows["schema_version"]))
        _with_new_indexes(conn)  # after the upgrade, which adds the columns they index
        _with_cubes_built(conn, rows.get("cubes"))
    return engine


def _with_new_indexes(conn: Connection) -> None:
    # create_all adds indexes only with a new table: an index declared later reaches existing databases here.
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _upgraded(conn: Connection, version: int) -> None:
    """An older database brought to SCHEMA_VERSION. 1 -> 2: the orders' count flags and the counts tables (created
    just now) filled from the orders; the index by handler goes, as the counts tables answer those queries.
    2 -> 3: each order's repeat key, from its stored caller hash, categories and township; the day index is made
    again with it (ix_orders_day_place)."""
    if version < 2:
        conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN counted SMALLINT NOT NULL DEFAULT 0")
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_orders_handler")
    if version < 3:
        conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN repeat_key BIGINT")
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_orders_day_unit")
        _with_repeat_keys(conn)
    if version < 2:
        rebuilt(conn, CUBES, recount_bits=True)
    conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))


def _with_repeat_keys(conn: Connection) -> None:
    """orders.repeat_key worked out for the stored orders with a caller, a page of them at a time."""
    for rows in order_pages(conn, ["order_id", *REPEAT_KEYS], orders.c.phone_hash.is_not(None)):
        conn.execute(update(orders).where(orders.c.order_id == bindparam("id")).values(repeat_key=bindparam("key")),
                     [{"id": i, "key": int(k)} for i, k in zip(rows["order_id"], repeat_keys(rows))])


# The counts tables of a database from before meta "cubes" recorded them (schema 2 until 2026-11-21).
_CUBES_BEFORE_RECORD = {name: signature(keys, COUNT_COLUMNS, tuple(BASES)) for name, keys in {
    "place": ("district", "township"), "unit": ("handler_type", "handler"),
    "channel": ("district", "township", "channel"), "request": ("district", "township", "request_type"),
    "topic": ("district", "township", "category1", "category2")}.items()}


def _with_cubes_built(conn: Connection, recorded: str | None) -> None:
    """A cube declared (or declared differently) since the database was last opened is built from its orders.
    meta "cubes" records what each table holds (a new database: nothing to build from)."""
    built = json.loads(recorded) if recorded else _CUBES_BEFORE_RECORD
    signatures = {c.name: cube_signature(c) for c in CUBES}
    stale = tuple(c for c in CUBES if built.get(c.name) != signatures[c.name])
    if stale:
        rebuilt(conn, stale)
    gone = set(built) - set(signatures)  # no longer declared (e.g. timeliness cubes of former time limits)
    for name in gone:
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "counts_{name}"')
    if stale or gone or recorded is None:
        conn.execute(delete(meta).where(meta.c.key == "cubes"))
        conn.execute(meta.insert().values(key="cubes", value=json.dumps(signatures, ensure_ascii=False)))


def one_upload_at_a_time(conn: Connection) -> None:
    """Makes the connection's transaction the only upload running (orders or whistles): an upload merges into,
    and recounts the days of, what the previous one committed; two at once would clash on shared ids and
    miscount. PostgreSQL: an advisory lock, released at commit or rollback. SQLite has one writer anyway:
    wait for it (up to an hour) rather than fail after 5 seconds."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPLOAD_LOCK})")
    else:
        conn.exec_driver_sql("PRAGMA busy_timeout = 3600000")


def setting(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()


def active_profile(engine: Engine) -> CityProfile:
    return load_profile(setting(engine, "profile") or DEFAULT_PROFILE)


def set_setting(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        if conn.execute(select(meta.c.key).where(meta.c.key == key)).first():
            conn.execute(meta.update().where(meta.c.key == key).values(value=value))
        else:
            conn.execute(meta.insert().values(key=key, value=value))
