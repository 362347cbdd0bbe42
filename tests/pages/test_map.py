"""地图 under AppTest: the deck's district values are the ranking's, townships are circles until the
evaluator uploads boundaries, the heat map follows the category, and an empty database says what to do."""
from __future__ import annotations

import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from figures.overview import ranking
from metrics.config import load_scheme
from store.db import connect
from store.reference import load_boundaries

PAGE = "pages/map.py"


def _on_map(app: AppTest) -> AppTest:
    app.run()
    return app.switch_page(PAGE).run()


def _deck(at: AppTest) -> dict:
    """The JSON spec the browser receives for the page's one pydeck chart."""
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def _layers(at: AppTest) -> dict[str, dict]:
    return {layer["id"]: layer for layer in _deck(at)["layers"]}


def _square(lon: float, lat: float) -> dict:
    ring = [[lon, lat], [lon + 0.02, lat], [lon + 0.02, lat + 0.02], [lon, lat + 0.02], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_districts_are_coloured_by_the_rankings_values(seeded_app, seeded_url):
    at = _on_map(seeded_app)
    assert not at.exception
    at.selectbox(key="map_metric").set_value("resolution_rate").run()
    assert not at.exception
    period = at.sidebar.selectbox[1].value
    spec = _deck(at)
    features = _layers(at)["district-polygons"]["data"]["features"]
    shown = {f["properties"]["name"]: f["properties"]["value"] for f in features}
    table = ranking(connect(seeded_url), load_scheme(), period, "district")
    assert len(shown) == 16
    assert shown == pytest.approx(dict(zip(table["district"], table["resolution_rate"])))
    assert all(len(f["properties"]["fill"]) == 3 for f in features)
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec  # no tiles: works offline
    assert "解决率：{value_text}" in json.loads(at.get("deck_gl_json_chart")[0].proto.tooltip)["html"]
    assert any(period in c.value and "全市" in c.value for c in at.caption)
    assert any("灰色 = 无数据" in m.value and "解决率" in m.value for m in at.markdown)
    assert at.get("download_button")


def test_base_map_is_an_option(seeded_app):
    at = _on_map(seeded_app)
    at.toggle(key="map_basemap").set_value(True).run()
    assert not at.exception
    assert "cartocdn" in _deck(at)["mapStyle"]


def test_townships_are_circles_until_boundaries_are_uploaded(seeded_app, seeded_url, tmp_path, monkeypatch):
    at = _on_map(seeded_app)
    at.radio(key="map_view").set_value("street").run()
    assert not at.exception
    layers = _layers(at)
    assert "street-polygons" not in layers
    assert len(layers["street-circles"]["data"]) > 300  # of 343: nearly every township has located orders

    copy = tmp_path / "boundaries.sqlite"
    shutil.copy(seeded_url.removeprefix("sqlite:///"), copy)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{copy}")
    two = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "望京街道", "district": "朝阳区"}, "geometry": _square(116.46, 39.98)},
        # No district: matched by its name, which only one township has.
        {"type": "Feature", "properties": {"name": "建外街道"}, "geometry": _square(116.44, 39.90)}]}
    load_boundaries(connect(f"sqlite:///{copy}"), json.dumps(two).encode())
    at.run()  # the copy is a new database to the caches (their key holds the URL)
    assert not at.exception
    layers = _layers(at)
    polygons = layers["street-polygons"]["data"]["features"]
    assert sorted(f["properties"]["name"] for f in polygons) == ["建外街道（朝阳区）", "望京街道（朝阳区）"]
    assert not any(c["name"] in ("建外街道（朝阳区）", "望京街道（朝阳区）") for c in layers["street-circles"]["data"])


def test_per_capita_and_qiyou_metrics_draw_townships(seeded_app):
    at = _on_map(seeded_app)
    at.radio(key="map_view").set_value("street").run()
    for metric in ("per_10k", "住有所居"):
        at.selectbox(key="map_metric").set_value(metric).run()
        assert not at.exception
        values = [c["value"] for c in _layers(at)["street-circles"]["data"]]
        assert any(v is not None for v in values) and None in values  # few townships have a population / such orders


def test_heat_map_follows_the_category(seeded_app):
    at = _on_map(seeded_app)
    at.radio(key="map_view").set_value("heat").run()
    assert not at.exception
    total = sum(cell["orders"] for cell in _layers(at)["heat"]["data"])
    category = at.selectbox(key="map_category").options[1]
    at.selectbox(key="map_category").set_value(category).run()
    assert not at.exception
    some = sum(cell["orders"] for cell in _layers(at)["heat"]["data"])
    assert 0 < some < total
    assert any(category in c.value for c in at.caption)
