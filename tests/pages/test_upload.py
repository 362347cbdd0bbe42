"""数据上传 under AppTest: preview, validation summary, confirm, history, a file that cannot be read."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from store.db import connect
from store.demo import SAMPLE_PATH
from store.tables import orders, uploads
from ui.auth import LOCAL_USER  # local single-user mode: uploads are signed by the local user

PAGE = "pages/upload.py"


@pytest.fixture
def upload_app(seeded_app, seeded_url, tmp_path, monkeypatch):
    """The app over a private copy of the seeded database, so that uploads do not leak into other tests."""
    copy = tmp_path / "upload.sqlite"
    shutil.copy(seeded_url.removeprefix("sqlite:///"), copy)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{copy}")
    at = seeded_app.run()
    at.switch_page(PAGE).run()
    return at, connect(f"sqlite:///{copy}")


def _order_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(orders)).scalar_one()


def test_sample_file_is_validated_before_anything_is_written(upload_app):
    at, engine = upload_app
    before = _order_count(engine)
    at.file_uploader[0].set_value((SAMPLE_PATH.name, SAMPLE_PATH.read_bytes(), "text/csv")).run()
    assert not at.exception
    summary = " ".join(m.value for m in at.markdown)
    assert "读取 300 行，可接收 290 行，将拒收 10 行" in summary
    problems = at.dataframe[1].value  # [0] is the preview
    assert len(problems) == 10
    assert "未知的区「朝阳」，是否应为「朝阳区」？" in set(problems["原因"])
    assert _order_count(engine) == before  # nothing written until the evaluator confirms

    confirm = next(b for b in at.button if b.label.startswith("第四步"))
    confirm.click().run()
    assert not at.exception
    assert any("接收 290 行（新增 290" in s.value for s in at.success)
    assert _order_count(engine) == before + 290
    with engine.connect() as conn:
        last = conn.execute(select(uploads).order_by(uploads.c.id.desc())).first()
    assert (last.rows_read, last.accepted, last.rejected, last.uploaded_by) == (300, 290, 10, LOCAL_USER)


def test_preview_hides_personal_columns(upload_app):
    at, _ = upload_app
    at.file_uploader[0].set_value((SAMPLE_PATH.name, SAMPLE_PATH.read_bytes(), "text/csv")).run()
    preview = at.dataframe[0].value
    assert "来电人" not in preview.columns and "来电人电话" not in preview.columns
    assert "工单编号" in preview.columns


def test_unreadable_file_changes_nothing_and_says_why(upload_app):
    at, engine = upload_app
    before = _order_count(engine)
    at.file_uploader[0].set_value(("坏文件.csv", "编号,时间\n1,2\n".encode("gbk"), "text/csv")).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "缺少必需的列" in errors and "数据库未做任何更改" in errors
    assert _order_count(engine) == before


def test_empty_database_offers_the_demo(empty_app):
    at = empty_app.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any(b.label == "载入示例数据" for b in at.button)
