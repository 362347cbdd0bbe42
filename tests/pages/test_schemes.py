"""考评方案 under AppTest: the presets are listed with their hashes, a scheme whose weights do not sum to 1
is refused in Chinese, a valid one is saved and listed, and two schemes' rankings are compared."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from figures.overview import ranking
from metrics.config import USER_SCHEMES_ENV, list_schemes, load_scheme
from store.db import connect

PAGE = "pages/schemes.py"
PERIOD = "2025-12"  # the sidebar's default: the demo year's latest complete month


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    folder = tmp_path / "schemes"
    monkeypatch.setenv(USER_SCHEMES_ENV, str(folder))
    return folder


@pytest.fixture
def schemes_page(seeded_app, user_folder) -> AppTest:
    seeded_app.run()
    return seeded_app.switch_page(PAGE).run()


def _fill(at: AppTest, name: str, title: str, weights: tuple[float, float, float]) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(title)
    for box, weight in zip(at.number_input, weights):
        box.set_value(weight)
    return at.button[0].click().run()  # the form's submit button


def test_presets_are_listed_with_their_settings_and_hashes(schemes_page):
    at = schemes_page
    assert not at.exception
    settings = at.dataframe[0].value.set_index("设置项")
    presets = list_schemes()
    assert list(settings.columns) == [s.title for s in presets]
    assert settings.loc["方案指纹"].tolist() == [s.content_hash for s in presets]
    assert settings.loc["解决率权重"].tolist() == [f"{s.weights.resolution:.0%}" for s in presets]
    assert set(settings.loc["来源"]) == {"预置方案"}


def test_weights_summing_to_0_9_are_refused_in_chinese(schemes_page, user_folder):
    at = _fill(schemes_page, "short_weights", "权重不足", (0.1, 0.4, 0.4))
    assert not at.exception
    assert "三率权重之和必须为 1" in at.error[0].value and "= 0.9" in at.error[0].value
    assert not user_folder.exists()


def test_a_valid_scheme_is_saved_and_listed(schemes_page, user_folder):
    at = _fill(schemes_page, "district_15_45_40", "区级考评 15/45/40", (0.15, 0.45, 0.40))
    assert not at.exception and not at.error
    assert (user_folder / "district_15_45_40.toml").is_file()
    saved = load_scheme("district_15_45_40")
    assert "district_15_45_40" in at.success[0].value and saved.content_hash in at.success[0].value
    settings = at.dataframe[0].value.set_index("设置项")
    assert settings["区级考评 15/45/40"]["方案指纹"] == saved.content_hash
    assert settings["区级考评 15/45/40"]["来源"] == "自建方案"
    assert at.sidebar.selectbox[0].options[-1] == "区级考评 15/45/40"  # the sidebar offers it at once


def test_comparison_shows_each_units_ranks_and_move(schemes_page, seeded_url):
    at = schemes_page
    at.selectbox(key="compare-b").set_value("district_30_35_35")
    at.selectbox(key="compare-level").set_value("district")
    at.run()
    assert not at.exception
    shown = at.dataframe[1].value.set_index("单位")
    engine = connect(seeded_url)
    first = ranking(engine, load_scheme(), PERIOD, "district").set_index("unit")
    second = ranking(engine, load_scheme("district_30_35_35"), PERIOD, "district").set_index("unit")
    assert set(shown.index) == set(first.index)
    ranked = first.index[first["rank"].notna() & second["rank"].reindex(first.index).notna()]
    moves = (first.loc[ranked, "rank"] - second.loc[ranked, "rank"]).astype(int)
    expected = moves.map(lambda n: f"↑{n}" if n > 0 else f"↓{-n}" if n < 0 else "—")
    assert shown.loc[ranked, "名次变化"].tolist() == expected.tolist()
    assert (moves != 0).any()
    assert abs(moves).max() == abs(moves[shown.index[0]])  # the largest move leads
    changed = first["honour"] != second.loc[first.index, "honour"]
    assert (shown.loc[first.index, "榜单变化"] != "").tolist() == changed.tolist()
    assert any("名次变化" in m.value for m in at.markdown)


def test_empty_database_lists_the_presets_and_says_how_to_compare(empty_app, user_folder):
    at = empty_app.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("尚无数据" in i.value for i in at.info)
    settings = at.dataframe[0].value
    assert {s.title for s in list_schemes()} <= set(settings.columns)
