"""Published rankings and the scheme versions they used.

A publication keeps the scheme's full settings (not just its name), so that the published ranking can
be computed again with the very rules it was published with, even after the scheme file is edited.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, desc, insert, select

from metrics.scheme import Scheme, scheme_from_dict
from store import audit
from store.query import data_version
from store.tables import publications, scheme_versions

COLUMN_LABELS = {"id": "编号", "period": "考核周期", "scheme_name": "方案", "scheme_hash": "方案指纹",
                 "data_version": "发布时的上传编号", "published_by": "发布人", "published_at": "发布时间"}


def kept_version(conn: Connection, scheme: Scheme, content: dict[str, Any]) -> None:
    """The scheme's settings, once per (name, fingerprint): the history of every version used or made."""
    key = (scheme_versions.c.name == scheme.name) & (scheme_versions.c.content_hash == scheme.content_hash)
    if conn.execute(select(scheme_versions.c.name).where(key)).first() is None:
        conn.execute(insert(scheme_versions).values(
            name=scheme.name, content_hash=scheme.content_hash, recorded_at=datetime.now(),
            content=json.dumps(content, ensure_ascii=False, sort_keys=True)))


def publish(engine: Engine, period: str, name: str, content: dict[str, Any], user: str) -> int:
    """Publish the period's ranking under the scheme with these settings (a scheme file's, as read now)."""
    scheme = scheme_from_dict(name, content)
    uploads_so_far = data_version(engine)
    with engine.begin() as conn:
        kept_version(conn, scheme, content)
        publication_id = conn.execute(insert(publications).values(
            period=period, scheme_name=name, scheme_hash=scheme.content_hash, data_version=uploads_so_far,
            published_by=user, published_at=datetime.now()).returning(publications.c.id)).scalar_one()
        audit.record(conn, user, audit.PUBLISHED,
                     f"考核周期 {period}，方案 {scheme.title}（{name}，指纹 {scheme.content_hash}）")
    return publication_id


def publication_list(engine: Engine) -> pd.DataFrame:
    """Every publication, newest first."""
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(publications).order_by(desc(publications.c.id))).all(),
                            columns=list(publications.c.keys()))


def published_scheme(engine: Engine, publication_id: int) -> Scheme:
    """The scheme exactly as it was when the ranking was published."""
    query = (select(scheme_versions.c.name, scheme_versions.c.content)
             .join(publications, (publications.c.scheme_name == scheme_versions.c.name)
                   & (publications.c.scheme_hash == scheme_versions.c.content_hash))
             .where(publications.c.id == publication_id))
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise ValueError(f"没有编号为 {publication_id} 的排名发布记录")
    return scheme_from_dict(row.name, json.loads(row.content))
