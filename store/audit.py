"""The audit log: who logged in (or failed to), uploaded, changed a scheme, published or exported what.

Rows are written in the transaction of what they record where there is one (an upload, a new account),
so that an action and its record stand or fall together.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, desc, func, insert, select

from store.tables import audit_log

LOGIN, LOGIN_FAILED, LOGIN_LOCKED, LOGOUT = "登录", "登录失败", "登录受限", "退出"
UPLOAD, SCHEME_ADDED, PUBLISHED, EXPORTED, DOWNLOADED = "上传", "新建方案", "发布排名", "导出报告", "下载表格"
ACCOUNT_ADDED, ACCOUNT_REMOVED, PASSWORD_RESET = "新建账号", "删除账号", "重设密码"
COLUMN_LABELS = {"id": "编号", "at": "时间", "user_name": "账号", "action": "操作", "detail": "内容"}


def record(conn: Connection, user: str, action: str, detail: str, at: datetime | None = None) -> None:
    """One row, inside the caller's transaction."""
    conn.execute(insert(audit_log).values(at=at or datetime.now(), user_name=user[:100], action=action,
                                          detail=detail))


def record_now(engine: Engine, user: str, action: str, detail: str, at: datetime | None = None) -> None:
    """One row in its own transaction: for actions that write nothing else (a login, an export)."""
    with engine.begin() as conn:
        record(conn, user, action, detail, at)


def recent_failures(engine: Engine, user: str, limit: int) -> list[datetime]:
    """Times of the name's last `limit` failed logins since its last successful login, newest first."""
    last_login = (select(func.max(audit_log.c.at))
                  .where(audit_log.c.user_name == user, audit_log.c.action == LOGIN).scalar_subquery())
    query = (select(audit_log.c.at)
             .where(audit_log.c.user_name == user, audit_log.c.action == LOGIN_FAILED,
                    audit_log.c.at > func.coalesce(last_login, datetime.min))
             .order_by(desc(audit_log.c.at)).limit(limit))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def audit_entries(engine: Engine, action: str | None = None, user: str | None = None,
                  limit: int = 5000) -> pd.DataFrame:
    """The newest entries first, optionally of one action or one account."""
    query = select(audit_log).order_by(desc(audit_log.c.id)).limit(limit)
    if action:
        query = query.where(audit_log.c.action == action)
    if user:
        query = query.where(audit_log.c.user_name == user)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=list(audit_log.c.keys()))
