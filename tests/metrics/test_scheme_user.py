"""Schemes made in the dashboard: saved as TOML in the user folder, listed and loaded like the presets."""
from __future__ import annotations

import pytest

from metrics.config import DEFAULT_SCHEME, USER_SCHEMES_ENV, list_schemes, load_scheme, save_scheme, scheme_data
from metrics.scheme import merge_settings


@pytest.fixture(autouse=True)
def user_folder(tmp_path, monkeypatch):
    folder = tmp_path / "schemes"
    monkeypatch.setenv(USER_SCHEMES_ENV, str(folder))
    return folder


def _data(title: str = "区级考评 15/45/40", weights: tuple[float, float, float] = (0.15, 0.45, 0.40),
          base: str = "beijing_district_cycle19") -> dict:
    response, resolution, satisfaction = weights
    return merge_settings(scheme_data(base), {"title": title, "weights": {
        "response": response, "resolution": resolution, "satisfaction": satisfaction}})


def test_a_saved_scheme_is_listed_after_the_presets_and_loads_by_name(user_folder):
    saved = save_scheme("district_15_45_40", _data())
    assert (user_folder / "district_15_45_40.toml").is_file()
    names = [s.name for s in list_schemes()]
    assert names[0] == DEFAULT_SCHEME and names[-1] == "district_15_45_40"
    loaded = load_scheme("district_15_45_40")
    assert loaded == saved and loaded.content_hash == saved.content_hash
    # every setting is written, so the base's cycle period survives even if the default changes
    assert (loaded.period, loaded.cycle_start_day) == ("cycle", 19)
    assert (loaded.weights.response, loaded.weights.resolution, loaded.weights.satisfaction) == (0.15, 0.45, 0.40)


def test_any_title_survives_the_toml_file():
    title = '引号" 反斜杠\\ 换行\n制表\t删除\x7f 表情😀 =1+1'
    assert load_scheme(save_scheme("odd_title", _data(title)).name).title == title


@pytest.mark.parametrize(("name", "message"), [
    ("my scheme", "只能由英文字母、数字和下划线组成"),
    ("方案一", "只能由英文字母、数字和下划线组成"),
    ("../escape", "只能由英文字母、数字和下划线组成"),
    ("district_10_45_45", "已有名为「district_10_45_45」的考评方案"),
])
def test_bad_or_taken_names_are_refused(name, message, user_folder):
    with pytest.raises(ValueError, match=message):
        save_scheme(name, _data())
    assert not user_folder.exists()


def test_weights_that_do_not_sum_to_one_are_refused_in_chinese(user_folder):
    with pytest.raises(ValueError, match=r"三率权重之和必须为 1.*= 0\.9"):
        save_scheme("short", _data(weights=(0.1, 0.4, 0.4)))
    assert not user_folder.exists()


def test_the_rules_of_an_existing_scheme_under_a_new_name_are_refused():
    with pytest.raises(ValueError, match="完全相同"):
        save_scheme("copy_of_30_35_35", _data(weights=(0.30, 0.35, 0.35), base="district_30_35_35"))


def test_a_title_in_use_is_refused():
    with pytest.raises(ValueError, match="已有标题为"):
        save_scheme("same_title", _data(title=load_scheme("district_10_45_45").title))


def test_a_title_is_required():
    with pytest.raises(ValueError, match="请填写方案标题"):
        save_scheme("untitled", _data(title="  "))
