"""Accounts, roles and what each role may see; passwords hashed with argon2id, logins throttled.

Roles: 管理员 (accounts, schemes, everything an evaluator does), 评价人员 (uploads, publishes rankings),
区级查看 and 街乡镇查看 (the city-wide figures and rankings, and below the city only their own area).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select, update

from store import audit
from store.db import active_profile
from store.tables import users

ADMIN, EVALUATOR, DISTRICT, TOWNSHIP = "admin", "evaluator", "district", "township"
ROLE_LABELS = {ADMIN: "管理员", EVALUATOR: "评价人员", DISTRICT: "区级查看", TOWNSHIP: "街乡镇查看"}
EDITORS = (ADMIN, EVALUATOR)  # may upload and publish
MIN_PASSWORD = 10
MAX_FAILURES, LOCKOUT = 5, timedelta(minutes=15)  # 5 wrong passwords for a name lock it for 15 minutes
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB): memory-hard
# Verified when the name is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-password")


@dataclass(frozen=True)
class Access:
    """Who is using the dashboard and the area they may see below the city (None: everything)."""

    user: str
    role: str
    district: str | None = None
    township: str | None = None

    @property
    def is_viewer(self) -> bool:
        return self.role in (DISTRICT, TOWNSHIP)

    @property
    def area(self) -> str:
        """The area as a caption: 全市, 朝阳区, 朝阳区 建外街道."""
        return " ".join(p for p in (self.district, self.township) if p) if self.is_viewer else "全市"

    def allows(self, district: str | None, township: str | None) -> bool:
        """May this scope be shown? The city as a whole always; below it, only inside a viewer's area."""
        if not self.is_viewer or (district is None and township is None):
            return True
        return district == self.district and (self.role == DISTRICT or township == self.township)

    def allows_detail(self, district: str | None, township: str | None) -> bool:
        """May orders, their locations or a map below city level be shown for this scope? A viewer only
        inside the area: the city as a whole would show every district's orders."""
        return not self.is_viewer or (district is not None and self.allows(district, township))

    def visible_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of an order-level frame inside the area (a lookup by order number finds any order)."""
        if not self.is_viewer:
            return frame
        inside = frame["district"] == self.district
        if self.role == TOWNSHIP:
            inside &= frame["township"] == self.township
        return frame[inside.to_numpy()]


class AccountError(ValueError):
    """An account that cannot be created as asked, with the reason in Chinese."""


class LoginRefused(Exception):
    """A login that failed, with the message to show (it never says whether the name exists)."""


def has_accounts(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(users)).scalar_one() > 0


def add_user(engine: Engine, name: str, role: str, password: str, district: str | None = None,
             township: str | None = None, by: str = "命令行") -> Access:
    """A new account; the area must exist in the city profile and fit the role."""
    name = name.strip()
    access = Access(name, role, district or None, township or None)
    _check_account(engine, access)
    _check_password(password)
    with engine.begin() as conn:
        if conn.execute(select(users.c.name).where(users.c.name == name)).first():
            raise AccountError(f"已有名为「{name}」的账号")
        conn.execute(insert(users).values(name=name, role=role, district=access.district, township=access.township,
                                          password_hash=_HASHER.hash(password), created_at=datetime.now()))
        audit.record(conn, by, audit.ACCOUNT_ADDED, f"{name}（{ROLE_LABELS[role]} {access.area}）")
    return access


def _check_account(engine: Engine, access: Access) -> None:
    if not access.user or len(access.user) > 100:
        raise AccountError("账号名称不能为空，且不超过 100 个字符")
    if access.role not in ROLE_LABELS:
        raise AccountError(f"角色应为 {'、'.join(f'{k}（{v}）' for k, v in ROLE_LABELS.items())} 之一，"
                           f"现为「{access.role}」")
    wanted = {DISTRICT: (True, False), TOWNSHIP: (True, True)}.get(access.role, (False, False))
    if (access.district is not None, access.township is not None) != wanted:
        raise AccountError({DISTRICT: "区级查看账号须指定区（--district），不指定街乡镇",
                            TOWNSHIP: "街乡镇查看账号须同时指定区（--district）和街乡镇（--township）"}.get(
            access.role, f"{ROLE_LABELS[access.role]}账号可查看全市，不指定区和街乡镇"))
    profile = active_profile(engine)
    if profile.is_open:
        return
    if access.district and access.district not in set(profile.districts["name"]):
        raise AccountError(f"城市档案中没有「{access.district}」这个区")
    townships = profile.townships
    here = townships.loc[townships["district"] == access.district, "name"]
    if access.township and access.township not in set(here):
        raise AccountError(f"城市档案中{access.district}没有「{access.township}」这个街乡镇")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")


def set_password(engine: Engine, name: str, password: str, by: str) -> None:
    _check_password(password)
    with engine.begin() as conn:
        changed = conn.execute(update(users).where(users.c.name == name)
                               .values(password_hash=_HASHER.hash(password))).rowcount
        if not changed:
            raise AccountError(f"没有名为「{name}」的账号")
        audit.record(conn, by, audit.PASSWORD_RESET, name)


def remove_user(engine: Engine, name: str, by: str) -> None:
    with engine.begin() as conn:
        if not conn.execute(delete(users).where(users.c.name == name)).rowcount:
            raise AccountError(f"没有名为「{name}」的账号")
        audit.record(conn, by, audit.ACCOUNT_REMOVED, name)


def user_list(engine: Engine) -> pd.DataFrame:
    """The accounts without their password hashes."""
    cols = [users.c.name, users.c.role, users.c.district, users.c.township, users.c.created_at]
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(*cols).order_by(users.c.name)).all(), columns=[c.name for c in cols])


def account(engine: Engine, name: str) -> Access | None:
    """The account's current role and area (re-read on every page run: a change applies at once)."""
    with engine.connect() as conn:
        row = conn.execute(select(users.c.role, users.c.district, users.c.township)
                           .where(users.c.name == name)).first()
    return None if row is None else Access(name, row.role, row.district, row.township)


def locked_until(engine: Engine, name: str, now: datetime) -> datetime | None:
    """When a name's lock ends, or None: MAX_FAILURES failed logins since its last login, all within
    LOCKOUT, lock it until LOCKOUT after the last of them. Counted from the audit log, so a restart keeps it."""
    failures = audit.recent_failures(engine, name, MAX_FAILURES)
    if len(failures) < MAX_FAILURES or failures[0] - failures[-1] > LOCKOUT:
        return None
    until = failures[0] + LOCKOUT
    return until if now < until else None


def login(engine: Engine, name: str, password: str, now: datetime | None = None) -> Access:
    """The account's access if the password is right; raises LoginRefused otherwise (and while locked)."""
    now = now or datetime.now()
    name = name.strip()
    until = locked_until(engine, name, now)
    if until is not None:
        audit.record_now(engine, name, audit.LOGIN_LOCKED, f"锁定至 {until:%H:%M}", now)
        raise LoginRefused(f"该账号连续 {MAX_FAILURES} 次密码错误，已暂停登录，请于 {until:%H:%M} 后再试。")
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar_one_or_none()
    if not _verified(stored or _DUMMY_HASH, password) or stored is None:
        audit.record_now(engine, name, audit.LOGIN_FAILED, "用户名或密码错误", now)
        raise LoginRefused("用户名或密码错误。")
    if _HASHER.check_needs_rehash(stored):  # parameters raised since the password was set
        with engine.begin() as conn:
            conn.execute(update(users).where(users.c.name == name).values(password_hash=_HASHER.hash(password)))
    audit.record_now(engine, name, audit.LOGIN, "", now)
    access = account(engine, name)
    assert access is not None
    return access


def _verified(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
