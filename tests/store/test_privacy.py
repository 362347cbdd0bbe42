"""Personal data: the caller's name, phone and ID number never reach the database in clear."""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from store.privacy import hash_key, masked_text, phone_digits, phone_hashes
from store.tables import metadata
from tests.store.helpers import ingest, stored_orders, stored_quarantine

# P4 is rejected (district 朝阳): its row is kept in the quarantine table, which must be masked as well.
PII_EXPORT = """
工单编号,来电人,来电人电话,来电时间,被反映区,标题,主要内容,办理结果
P1,张三丰,13812345678,2024/3/5 14:03:00,朝阳区,张三丰反映漏水,我是张三丰，身份证号110105199001011234，电话13812345678，楼上漏水,已回复张三丰
P2,李四光,+86 138-1234-5678,2024/3/5 15:00:00,朝阳区,噪音,李四光反映噪音，座机010-65001234,已处理
P3,王五福,13900001111,2024/3/5 16:00:00,海淀区,证件,王五福的身份证11010519850203123X,
P4,赵六顺,13700002222,2024/3/5 17:00:00,朝阳,求助,我是赵六顺，身份证110105197707071234，手机13700002222,
"""
SECRETS = ["张三丰", "李四光", "王五福", "赵六顺", "13812345678", "138-1234-5678", "13900001111", "13700002222",
           "110105199001011234", "11010519850203123X", "110105197707071234", "65001234"]


def _database_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def test_no_personal_data_in_the_sqlite_file(sqlite_engine):
    result = ingest(sqlite_engine, PII_EXPORT)
    assert (result.accepted, result.rejected) == (3, 1)
    path = Path(sqlite_engine.url.database)
    sqlite_engine.dispose()
    data = _database_bytes(path)
    assert "张**".encode() in data  # the masked text did reach the file: the check reads the right bytes
    for secret in SECRETS:
        assert secret.encode("utf-8") not in data, secret


def test_no_personal_data_in_any_table(engine):
    ingest(engine, PII_EXPORT)
    with engine.connect() as conn:
        text = "\n".join(str(row) for table in metadata.sorted_tables for row in conn.execute(select(table)))
    assert "P4" in text and "110105********1234" in text
    for secret in SECRETS:
        assert secret not in text, secret


def test_free_text_is_masked_and_the_callers_name_reduced_to_the_surname(engine):
    ingest(engine, PII_EXPORT)
    stored = stored_orders(engine)
    assert stored.loc["P1", "content"] == "我是张**，身份证号110105********1234，电话138****5678，楼上漏水"
    assert stored.loc["P1", "title"] == "张**反映漏水"
    assert stored.loc["P1", "reply"] == "已回复张**"
    assert stored.loc["P2", "content"] == "李**反映噪音，座机010****1234"
    assert stored.loc["P3", "content"] == "王**的身份证110105********123X"
    record = stored_quarantine(engine).set_index("row_number").loc[5, "record"]
    assert "我是赵**，身份证110105********1234，手机137****2222" in record


def test_phone_hash_is_the_same_for_the_same_phone_and_differs_for_another(engine):
    ingest(engine, PII_EXPORT)
    hashes = stored_orders(engine)["phone_hash"]
    assert hashes["P1"] == hashes["P2"]  # 13812345678 and +86 138-1234-5678
    assert hashes["P1"] != hashes["P3"]
    assert len(hashes["P1"]) == 64 and hashes["P1"] != hashlib.sha256(b"13812345678").hexdigest()


def test_orders_without_a_phone_column_have_no_hash(engine):
    ingest(engine, "工单编号,来电时间,被反映区\nA1,2024-03-05 08:00,朝阳区\n")
    assert stored_orders(engine)["phone_hash"].tolist() == [None]


@pytest.mark.parametrize("text, masked", [
    ("身份证110105199001011234", "身份证110105********1234"),
    ("证件号11010519850203123x。", "证件号110105********123x。"),
    ("手机13812345678", "手机138****5678"),
    ("手机 +86 138 1234 5678 谢谢", "手机 138****5678 谢谢"),
    ("电话0086-13812345678", "电话0086-138****5678"),
    ("座机010-65001234", "座机010****1234"),
    ("座机010-6500-1234", "座机010****1234"),
    ("座机(0571)88001234", "座机0571****1234"),
    ("座机 010 6500 1234。", "座机 010****1234。"),
    ("工单号20240305000123，金额1500元，2024年3月5日", "工单号20240305000123，金额1500元，2024年3月5日"),
])
def test_masked_text(text, masked):
    assert masked_text(pd.Series([text])).tolist() == [masked]


def test_masked_text_reduces_the_callers_own_name_only():
    texts = pd.Series(["张三丰说李四光也来过", "王五来电", None, "无名氏"])
    names = pd.Series(["张三丰", "王五", "李四光", "赵"])
    out = masked_text(texts, names)
    assert out.tolist()[:2] == ["张**说李四光也来过", "王*来电"]
    assert pd.isna(out.iloc[2])
    assert out.iloc[3] == "无名氏"  # a one-character "name" is not masked


def test_phone_hashes_ignore_formatting_and_depend_on_the_key():
    phones = pd.Series(["13812345678", "+86 138-1234-5678", "8613812345678", "13900001111", "", None])
    hashed = phone_hashes(phones, b"k1").tolist()
    assert hashed[0] == hashed[1] == hashed[2]
    assert hashed[3] != hashed[0]
    assert pd.isna(hashed[4]) and pd.isna(hashed[5])
    assert phone_hashes(phones, b"k2").tolist()[0] != hashed[0]
    assert hashed[0] == hmac.new(b"k1", b"13812345678", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("phone, digits", [
    ("+86 138-1234-5678", "13812345678"), ("8613812345678", "13812345678"), ("010-6500 1234", "01065001234"),
    ("008613812345678", "008613812345678"),  # only a bare 86 before a mobile number is a country code
    ("861381234567", "861381234567"),  # one digit short of a mobile: kept whole
    ("１３８１２３４５６７８", "１３８１２３４５６７８"),  # full-width digits are digits, as Python's \d says
    ("无", None), ("", None), (None, None)])
def test_phone_digits(phone, digits):
    got = phone_digits(pd.Series([phone], dtype=object)).iloc[0]
    assert got == digits if digits else pd.isna(got)


def test_the_hash_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PII_HASH_KEY", "another-key")
    assert hash_key() == b"another-key"
