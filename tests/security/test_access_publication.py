"""A published ranking is reproduced with the scheme version it was published with, after the scheme
file is edited; the CLI creates accounts and signs its exports in the audit log."""
from __future__ import annotations

import io

import pandas as pd
import pytest

import cli
from figures.overview import ranking
from figures.publications import published_ranking
from metrics.config import load_scheme, save_scheme, scheme_data
from metrics.scheme import merge_settings
from store import audit
from store.auth import LoginRefused, login, user_list
from store.db import connect
from store.demo import load_demo
from store.publications import publication_list, publish, published_scheme

PERIOD = "2025-06"
NAME = "test_15_45_40"


@pytest.fixture
def user_schemes(tmp_path, monkeypatch):
    monkeypatch.setenv("USER_SCHEMES_DIR", str(tmp_path / "schemes"))
    return tmp_path / "schemes"


def _edit_weights(folder, response: float, resolution: float, satisfaction: float) -> None:
    """Rewrite the saved scheme's weights in place, as an evaluator editing the file would."""
    path = folder / f"{NAME}.toml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("[weights]"), text.index("\n\n", text.index("[weights]"))
    path.write_text(text[:start] + f"[weights]\nresponse = {response}\nresolution = {resolution}\n"
                    f"satisfaction = {satisfaction}" + text[end:], encoding="utf-8")


def test_published_ranking_survives_an_edit_of_its_scheme(engine, user_schemes):
    load_demo(engine, 3000)
    base = scheme_data()
    saved = save_scheme(NAME, merge_settings(base, {
        "title": "测试 15/45/40", "weights": {"response": 0.15, "resolution": 0.45, "satisfaction": 0.4}}))
    number = publish(engine, PERIOD, NAME, scheme_data(NAME), "评价员甲")
    as_published = ranking(engine, load_scheme(NAME), PERIOD, "district")

    _edit_weights(user_schemes, 0.5, 0.25, 0.25)
    edited = load_scheme(NAME)
    assert edited.content_hash != saved.content_hash
    assert not ranking(engine, edited, PERIOD, "district")["score"].equals(as_published["score"])

    stored = published_scheme(engine, number)
    assert (stored.name, stored.content_hash) == (NAME, saved.content_hash)
    assert stored.weights.response == 0.15
    again = published_ranking(engine, edited, number, "district")  # the sidebar's (edited) scheme is ignored
    pd.testing.assert_frame_equal(again.drop(columns=["scheme_hash"], errors="ignore"),
                                  as_published.drop(columns=["scheme_hash"], errors="ignore"))
    assert set(again["scheme_hash"]) == {saved.content_hash}
    assert again.attrs["uploads_since"] == 0

    row = publication_list(engine).iloc[0]
    assert (row["period"], row["scheme_hash"], row["published_by"]) == (PERIOD, saved.content_hash, "评价员甲")
    entry = audit.audit_entries(engine, action=audit.PUBLISHED).iloc[0]
    assert entry["user_name"] == "评价员甲" and saved.content_hash in entry["detail"] and PERIOD in entry["detail"]


def test_two_versions_of_one_scheme_are_both_kept(sqlite_engine, user_schemes):
    load_demo(sqlite_engine, 1000)
    save_scheme(NAME, merge_settings(scheme_data(), {
        "title": "测试 15/45/40", "weights": {"response": 0.15, "resolution": 0.45, "satisfaction": 0.4}}))
    first = publish(sqlite_engine, PERIOD, NAME, scheme_data(NAME), "甲")
    _edit_weights(user_schemes, 0.3, 0.35, 0.35)
    second = publish(sqlite_engine, PERIOD, NAME, scheme_data(NAME), "甲")
    weights = [published_scheme(sqlite_engine, n).weights.response for n in (first, second)]
    assert weights == [0.15, 0.3]
    with pytest.raises(ValueError, match="没有编号为 99 的排名发布记录"):
        published_scheme(sqlite_engine, 99)


def test_cli_user_add_reads_the_password_and_checks_the_area(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert cli.main(["user", "add", "朝阳查看", "--role", "district", "--district", "朝阳区",
                     "--password-stdin", "--db", url]) == 0
    assert "区级查看，可查看 朝阳区" in capsys.readouterr().out
    engine = connect(url)
    assert login(engine, "朝阳查看", "a long password").district == "朝阳区"
    answers = iter(["first password", "other password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["user", "add", "乙", "--role", "admin", "--db", url]) == 2
    assert "两次输入的密码不一致" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert cli.main(["user", "add", "丙", "--role", "township", "--district", "朝阳区",
                     "--password-stdin", "--db", url]) == 2
    assert "同时指定区（--district）和街乡镇（--township）" in capsys.readouterr().err
    assert user_list(engine)["name"].tolist() == ["朝阳查看"]
    with pytest.raises(LoginRefused):
        login(engine, "乙", "first password")


def test_cli_report_is_in_the_audit_log(tmp_path):
    url = f"sqlite:///{tmp_path / 'report.sqlite'}"
    load_demo(connect(url), 1000)
    out = tmp_path / "通报.xlsx"
    assert cli.main(["report", "--period", PERIOD, "--out", str(out), "--db", url]) == 0
    entry = audit.audit_entries(connect(url), action=audit.EXPORTED).iloc[0]
    assert entry["user_name"] == "命令行" and "通报.xlsx" in entry["detail"]
