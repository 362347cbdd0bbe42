"""End to end in a real browser: `streamlit run app.py`, upload the sample through the page, see it on
the overview, the ranking and the map. Debian's Chromium, driven by Playwright; screenshots are kept
in test-artifacts/ for a person to look at."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from figures.overview import headline, ranking
from metrics.config import load_scheme
from store.db import connect
from store.demo import SAMPLE_PATH
from store.paths import ROOT
from ui.format import count

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--enable-unsafe-swiftshader"]

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = "Debian chromium is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed"
    if reason and os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: the browser test must run)")
    if reason:
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(tmp_path):
    """`streamlit run app.py` over an empty database on a free port; stopped after the test."""
    _require_browser()
    url = f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(port, server)
        yield f"http://127.0.0.1:{port}", url
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_until_healthy(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("streamlit exited:\n" + server.stdout.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("streamlit did not start within 60 s")


def _drawn_pixels(png: bytes) -> int:
    """How many distinct colours a screenshot holds: a blank canvas has one."""
    from PIL import Image

    return len(Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_upload_then_overview_ranking_and_map_in_a_real_browser(served_app):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a first render computes and caches every figure

    base, db_url = served_app
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.set_default_timeout(60_000)

        page.goto(f"{base}/")
        expect(page.get_by_text("尚无数据")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "e2e_0_empty.png", full_page=True)

        page.goto(f"{base}/shangchuan")
        page.locator("input[type=file]").first.set_input_files(str(SAMPLE_PATH))
        expect(page.get_by_text("可接收 290 行，将拒收 10 行")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "e2e_1_validated.png", full_page=True)
        page.get_by_role("button", name="第四步：确认导入 290 行").click()
        expect(page.get_by_text("接收 290 行（新增 290")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "e2e_2_uploaded.png", full_page=True)

        page.goto(f"{base}/")
        expected = headline(connect(db_url), load_scheme(), "2025-12").iloc[1]
        volume = page.get_by_test_id("stMetric").filter(has_text="受理量")
        expect(volume).to_contain_text(count(expected["all_orders"]))
        page.screenshot(path=ARTIFACTS / "e2e_3_overview.png", full_page=True)

        # The ranking: what the page shows is what its download holds; the uploaded districts are in it.
        page.goto(f"{base}/paiming")
        expect(page.get_by_role("tab").first).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("button", name="下载表格（CSV）").first.click()
        shown = pd.read_csv(download.value.path(), encoding="utf-8-sig")
        table = ranking(connect(db_url), load_scheme(), "2025-12", "district")
        expected = table[(table["status"] != "无数据").to_numpy()].set_index("unit")["orders"]
        assert len(expected) > 0 and expected.sum() > 0
        assert shown.set_index("单位")["受理量"].sort_index().to_dict() == expected.sort_index().to_dict()
        page.screenshot(path=ARTIFACTS / "e2e_4_ranking.png", full_page=True)

        # The map: deck.gl draws the 16 districts into a WebGL canvas, with no base map and no internet.
        page.goto(f"{base}/ditu")
        canvas = page.locator("canvas").first
        expect(canvas).to_be_visible(timeout=60_000)
        page.wait_for_timeout(3000)  # deck.gl draws after the canvas appears
        assert _drawn_pixels(canvas.screenshot()) > 10
        page.screenshot(path=ARTIFACTS / "e2e_5_map.png", full_page=True)
        browser.close()
