import dataclasses

import pytest

from metrics.config import DEFAULT_SCHEME, SCHEMES_DIR, list_schemes, load_scheme
from metrics.scheme import Weights


def test_default_scheme_values():
    s = load_scheme()
    assert s.name == DEFAULT_SCHEME == "beijing_district_10_50_40"
    assert (s.weights.response, s.weights.resolution, s.weights.satisfaction) == (0.10, 0.50, 0.40)
    assert s.basic_satisfied_value == 0.9
    assert s.denominator == "callbacks"
    assert s.exclude_removed is True
    assert s.period == "month" and s.day_basis == "received"
    assert s.ratio_excluded_types == ("咨询",)
    assert s.note  # every scheme says where it comes from


def test_presets_ship_with_their_weights_and_inherit_the_rest():
    weights = {s.name: (s.weights.response, s.weights.resolution, s.weights.satisfaction) for s in list_schemes()}
    assert next(iter(weights)) == DEFAULT_SCHEME
    assert weights["district_10_45_45"] == (0.10, 0.45, 0.45)
    assert weights["district_20_40_40"] == (0.20, 0.40, 0.40)
    assert weights["district_30_35_35"] == (0.30, 0.35, 0.35)
    preset = load_scheme("district_10_45_45")
    assert preset.basic_satisfied_value == 0.9 and preset.min_callbacks == load_scheme().min_callbacks
    cycle = load_scheme("beijing_district_cycle19")
    assert (cycle.period, cycle.cycle_start_day) == ("cycle", 19)


def test_load_by_path_equals_load_by_name():
    assert load_scheme(SCHEMES_DIR / "district_20_40_40.toml") == load_scheme("district_20_40_40")


@pytest.mark.parametrize("weights", [(0.1, 0.5, 0.5), (0.2, 0.2, 0.2), (1.1, -0.05, -0.05)])
def test_weights_must_sum_to_one(weights):
    with pytest.raises(ValueError, match="权重"):
        Weights(*weights)


def test_hash_identifies_the_rules_not_the_wording():
    s = load_scheme()
    assert len(s.content_hash) == 12 and int(s.content_hash, 16) >= 0
    reworded = dataclasses.replace(s, name="copy", title="另一个标题", note="另一个说明")
    assert reworded.content_hash == s.content_hash
    reweighted = dataclasses.replace(s, weights=Weights(0.2, 0.4, 0.4))
    assert reweighted.content_hash != s.content_hash
    assert len({x.content_hash for x in list_schemes()}) == len(list_schemes())


def test_comments_and_key_order_do_not_change_the_hash(tmp_path):
    text = (SCHEMES_DIR / "district_30_35_35.toml").read_text(encoding="utf-8")
    shuffled = "# 一行注释\n" + text.replace("response = 0.30\n", "").replace(
        "satisfaction = 0.35", "satisfaction = 0.35\nresponse = 0.3")
    (tmp_path / "mine.toml").write_text(shuffled, encoding="utf-8")
    assert load_scheme(tmp_path / "mine.toml").content_hash == load_scheme("district_30_35_35").content_hash


def test_bad_files_give_chinese_messages(tmp_path):
    with pytest.raises(ValueError, match="找不到考评方案"):
        load_scheme("no_such_scheme")
    (tmp_path / "typo.toml").write_text('[weights]\nresponce = 0.1\n', encoding="utf-8")
    with pytest.raises(ValueError, match="无法识别的设置项：responce"):
        load_scheme(tmp_path / "typo.toml")
    (tmp_path / "sum.toml").write_text('[weights]\nresponse = 0.5\n', encoding="utf-8")
    with pytest.raises(ValueError, match="之和必须为 1"):
        load_scheme(tmp_path / "sum.toml")
    (tmp_path / "cycle.toml").write_text('[period]\nkind = "cycle"\ncycle_start_day = 31\n', encoding="utf-8")
    with pytest.raises(ValueError, match="起始日"):
        load_scheme(tmp_path / "cycle.toml")


def test_peer_groups_from_the_scheme():
    s = load_scheme()
    assert [s.peer_group_of(t) for t in ("街道", "镇", "乡", "地区", "区", "市级部门", "企业")] == [
        "街道", "乡镇/地区", "乡镇/地区", "乡镇/地区", "区", "市级部门", "企业"]
    assert s.peer_group_of("街乡镇") == "街乡镇"
    assert s.peer_group_of(None) == s.peer_group_of(float("nan")) == s.peer_group_of("开发区") == "其他单位"
    assert s.top_n_for("区") == 3 and s.top_n_for("街道") == 10
