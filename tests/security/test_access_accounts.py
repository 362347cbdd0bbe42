"""Accounts on both engines: argon2 hashes (never the password), roles tied to a real area, login
throttled per name and kept across a restart, every login and failure in the audit log."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from store import audit
from store.auth import (
    DISTRICT,
    EVALUATOR,
    LOCKOUT,
    MAX_FAILURES,
    TOWNSHIP,
    AccountError,
    LoginRefused,
    add_user,
    has_accounts,
    locked_until,
    login,
    remove_user,
    set_password,
    user_list,
)
from store.db import connect
from store.tables import users

PASSWORD = "correct horse battery"
NOW = datetime(2026, 3, 1, 9, 0)


def test_password_is_stored_as_argon2id_only(engine):
    assert not has_accounts(engine)
    add_user(engine, "王评价", EVALUATOR, PASSWORD)
    assert has_accounts(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "password_hash" not in user_list(engine).columns
    assert login(engine, "王评价", PASSWORD, NOW).role == EVALUATOR


@pytest.mark.parametrize("role, district, township, message", [
    ("viewer", None, None, "角色应为"),
    (DISTRICT, None, None, "须指定区"),
    (DISTRICT, "不存在区", None, "没有「不存在区」这个区"),
    (TOWNSHIP, "朝阳区", None, "同时指定区"),
    (TOWNSHIP, "朝阳区", "西长安街街道", "朝阳区没有「西长安街街道」"),  # 西长安街 is in 西城区
    (EVALUATOR, "朝阳区", None, "不指定区和街乡镇"),
])
def test_an_account_must_fit_its_role_and_the_city(sqlite_engine, role, district, township, message):
    with pytest.raises(AccountError, match=message):
        add_user(sqlite_engine, "某人", role, PASSWORD, district, township)
    assert not has_accounts(sqlite_engine)


def test_short_password_and_duplicate_name_are_refused(sqlite_engine):
    with pytest.raises(AccountError, match="至少 10 个字符"):
        add_user(sqlite_engine, "甲", EVALUATOR, "short")
    add_user(sqlite_engine, "甲", DISTRICT, PASSWORD, "朝阳区")
    with pytest.raises(AccountError, match="已有名为「甲」的账号"):
        add_user(sqlite_engine, "甲", EVALUATOR, PASSWORD)


def test_wrong_password_and_unknown_name_get_the_same_answer(engine):
    add_user(engine, "甲", EVALUATOR, PASSWORD)
    for name, password in (("甲", "wrong password"), ("乙", PASSWORD)):
        with pytest.raises(LoginRefused, match="^用户名或密码错误。$"):
            login(engine, name, password, NOW)
    log = audit.audit_entries(engine)
    assert log["action"].tolist()[:2] == [audit.LOGIN_FAILED, audit.LOGIN_FAILED]
    assert set(log["user_name"][:2]) == {"甲", "乙"}


def test_five_failures_lock_the_name_for_15_minutes_even_after_a_restart(db_url):
    engine = connect(db_url)
    add_user(engine, "甲", EVALUATOR, PASSWORD)
    add_user(engine, "乙", EVALUATOR, PASSWORD)
    for minute in range(MAX_FAILURES):
        with pytest.raises(LoginRefused, match="用户名或密码错误"):
            login(engine, "甲", "wrong password", NOW + timedelta(minutes=minute))
    engine.dispose()
    engine = connect(db_url)  # a restart: the lock is in the database
    last = NOW + timedelta(minutes=MAX_FAILURES - 1)
    assert locked_until(engine, "甲", last) == last + LOCKOUT
    with pytest.raises(LoginRefused, match="已暂停登录"):
        login(engine, "甲", PASSWORD, last + LOCKOUT - timedelta(seconds=1))  # even the right password
    assert login(engine, "乙", PASSWORD, last).user == "乙"  # per name: others are not locked
    assert login(engine, "甲", PASSWORD, last + LOCKOUT).user == "甲"
    engine.dispose()


def test_a_successful_login_resets_the_count(sqlite_engine):
    add_user(sqlite_engine, "甲", EVALUATOR, PASSWORD)
    for minute in range(MAX_FAILURES - 1):
        with pytest.raises(LoginRefused):
            login(sqlite_engine, "甲", "wrong password", NOW + timedelta(minutes=minute))
    login(sqlite_engine, "甲", PASSWORD, NOW + timedelta(minutes=5))
    with pytest.raises(LoginRefused, match="用户名或密码错误"):  # the 5th failure, but the 1st since the login
        login(sqlite_engine, "甲", "wrong password", NOW + timedelta(minutes=6))
    assert locked_until(sqlite_engine, "甲", NOW + timedelta(minutes=6)) is None


def test_reset_password_and_removal_are_audited(sqlite_engine):
    add_user(sqlite_engine, "甲", EVALUATOR, PASSWORD, by="管理员A")
    set_password(sqlite_engine, "甲", "another long password", by="管理员A")
    with pytest.raises(LoginRefused):
        login(sqlite_engine, "甲", PASSWORD, NOW)
    assert login(sqlite_engine, "甲", "another long password", NOW).user == "甲"
    remove_user(sqlite_engine, "甲", by="管理员A")
    with pytest.raises(LoginRefused):
        login(sqlite_engine, "甲", "another long password", NOW)
    by_admin = audit.audit_entries(sqlite_engine, user="管理员A")
    assert by_admin["action"].tolist() == [audit.ACCOUNT_REMOVED, audit.PASSWORD_RESET, audit.ACCOUNT_ADDED]
    assert "评价人员" in by_admin["detail"].iloc[-1]
