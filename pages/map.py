"""地图: districts or townships coloured by a metric, and where the orders come from (诉求热力图).

No base map by default: government networks are often closed to the internet, so the boundaries are
drawn on a plain background and the tiles are an option.
"""
from __future__ import annotations

import json
import math

import pandas as pd
import pydeck as pdk
import streamlit as st

from figures.maps import METRICS, NO_DATA_COLOUR, Choropleth, ColourClass, Metric, extent, heat_cell_degrees
from ui import data
from ui.filters import page_filters
from ui.format import count, download_button, number, pct

VIEWS = {"district": "各区着色", "street": "各街乡镇着色", "heat": "诉求热力图"}
ALL_CATEGORIES = "（全部分类）"
FORMATS = {"score": number, "rate": pct, "ratio": lambda v: number(v, 2), "count": count}
MAX_RADIUS_M = {"district": 8000, "street": 2000}  # circle of the unit with the most orders
MAP_HEIGHT, ASSUMED_WIDTH = 620, 900  # px; the width only sizes the first view
OUTLINE_COLOUR, SCOPE_COLOUR, LABEL_COLOUR = [110, 110, 110], [20, 20, 20], [40, 40, 40]

filters = page_filters("地图")


def view_state(bounds: tuple[float, float, float, float] | None) -> pdk.ViewState:
    """A view that fits the bounds (Web Mercator zoom for the map's size); the city centre when none."""
    if bounds is None:
        return pdk.ViewState(longitude=116.4, latitude=40.0, zoom=8)
    west, south, east, north = bounds
    mercator = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    # deck.gl's world is 512 px wide at zoom 0.
    zoom_x = math.log2(ASSUMED_WIDTH * 360 / (512 * max(east - west, 1e-3)))
    zoom_y = math.log2(MAP_HEIGHT * 2 * math.pi / (512 * max(mercator(north) - mercator(south), 1e-5)))
    return pdk.ViewState(longitude=(west + east) / 2, latitude=(south + north) / 2,
                         zoom=round(min(zoom_x, zoom_y) - 0.2, 2))


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain JSON values (NaN as null, which the browser can parse)."""
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def feature_collection(frame: pd.DataFrame) -> dict:
    """Rows with a geometry as GeoJSON features; the other columns become the properties."""
    rows = records(frame)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": row.pop("geometry"), "properties": row} for row in rows]}


def outline_layer(frame: pd.DataFrame, layer_id: str, colour: list[int], width: float) -> pdk.Layer:
    return pdk.Layer("GeoJsonLayer", feature_collection(frame[["geometry"]]), id=layer_id, filled=False,
                     stroked=True, get_line_color=colour, line_width_min_pixels=width, pickable=False)


def label_layer(frame: pd.DataFrame) -> pdk.Layer:
    """District names, so a map with no base map can still be read."""
    # Quoted: pydeck would read a bare string as an expression.
    return pdk.Layer("TextLayer", records(frame[["district", "lon", "lat"]]), id="district-names",
                     get_position=["lon", "lat"], get_text="district", get_size=14, get_color=LABEL_COLOUR,
                     character_set='"auto"', outline_width=4, outline_color=[255, 255, 255, 230],
                     font_settings={"sdf": True}, extensions=[{"@@type": "CollisionFilterExtension"}])


def framed(layers: list[pdk.Layer], outlines: pd.DataFrame, scope: pd.DataFrame, under: bool = True
           ) -> list[pdk.Layer]:
    """The layers between the district outlines (drawn in place of a base map; `under` False when the
    layers are the districts themselves) and, over them, the scope's district (if any) and the names."""
    frame = [outline_layer(outlines, "districts", OUTLINE_COLOUR, 1)] if under else []
    chosen = [outline_layer(scope, "scope", SCOPE_COLOUR, 3)] if len(scope) else []
    return [*frame, *layers, *chosen, label_layer(outlines)]


def unit_name(units: pd.DataFrame, level: str) -> pd.Series:
    if level == "district":
        return units["district"]
    return units["township"].astype(str) + "（" + units["district"].astype(str) + "）"


def tooltip_columns(units: pd.DataFrame, level: str, metric: Metric) -> pd.DataFrame:
    """What the tooltip shows, as text: name, the metric's value, 受理量 and 综合得分."""
    return pd.DataFrame({"name": unit_name(units, level), "value_text": units["value"].map(FORMATS[metric.kind]),
                         "orders_text": units["all_orders"].map(count), "score_text": units["score"].map(number)},
                        index=units.index)


def tooltip(metric: Metric) -> dict:
    lines = [f"{metric.label}：{{value_text}}", "受理量（全口径）：{orders_text}"]
    if metric != METRICS["score"]:
        lines.append("综合得分：{score_text}")
    return {"html": "<b>{name}</b><br/>" + "<br/>".join(lines),
            "style": {"backgroundColor": "white", "color": "#222", "fontSize": "13px", "border": "1px solid #bbb"}}


def choropleth_layers(shown: Choropleth, level: str, metric: Metric) -> list[pdk.Layer]:
    """Units with a boundary as filled polygons, the others as circles (area ∝ 受理量)."""
    units = pd.concat([shown.units, tooltip_columns(shown.units, level, metric)], axis=1)
    columns = ["name", "value", "value_text", "orders_text", "score_text", "fill"]
    polygons = units[units["geometry"].notna()]
    circles = units[units["geometry"].isna() & units["lon"].notna()].copy()
    layers = []
    if len(polygons):
        layers.append(pdk.Layer("GeoJsonLayer", feature_collection(polygons[["geometry", *columns]]),
                                id=f"{level}-polygons", get_fill_color="properties.fill", opacity=0.85,
                                stroked=True, get_line_color=[255, 255, 255], line_width_min_pixels=1,
                                pickable=True, auto_highlight=True))
    if len(circles):
        largest = max(float(units["all_orders"].max()), 1.0)
        circles["radius"] = MAX_RADIUS_M[level] * (circles["all_orders"] / largest) ** 0.5
        layers.append(pdk.Layer("ScatterplotLayer", records(circles[["lon", "lat", "radius", *columns]]),
                                id=f"{level}-circles", get_position=["lon", "lat"], get_radius="radius",
                                get_fill_color="fill", opacity=0.85, stroked=True, get_line_color=[90, 90, 90],
                                line_width_min_pixels=0.5, radius_min_pixels=2, pickable=True, auto_highlight=True))
    return layers


def legend(classes: tuple[ColourClass, ...], metric: Metric, circles: bool) -> str:
    swatch = lambda colour: (f'<span style="display:inline-block;width:0.9em;height:0.9em;margin-right:0.3em;'
                             f'vertical-align:-0.1em;border:1px solid #888;background:rgb{tuple(colour)}"></span>')
    write = FORMATS[metric.kind]
    items = [f"{swatch(c.colour)}{write(c.low)} – {write(c.high)}（{c.units} 个）" for c in classes]
    items.append(f"{swatch(NO_DATA_COLOUR)}灰色 = 无数据")
    items = [f'<span style="white-space:nowrap">{item}</span>' for item in items]
    shade = "颜色越深，数值越高" + ("（越好）" if metric.higher_is_better else "（诉求越多）")
    size = "；圆点面积与受理量（全口径）成正比" if circles else ""
    split = f"按分位数分为 {len(classes)} 档（括号内为单位数）；{shade}" if classes else "本期没有数据"
    return f"**图例 · {metric.label}**：{split}{size}。<br/>" + "&emsp;".join(items)


def deck(layers: list[pdk.Layer], bounds: tuple[float, float, float, float] | None, tip: dict | bool, basemap: bool) -> pdk.Deck:
    """map_provider=None draws no tiles at all (Streamlit would otherwise add its own online base map)."""
    provider = {"map_provider": "carto", "map_style": "light"} if basemap else {"map_provider": None}
    return pdk.Deck(layers=layers, initial_view_state=view_state(bounds), tooltip=tip, **provider)


def downloadable(units: pd.DataFrame, level: str, metric: Metric) -> pd.DataFrame:
    drawn = pd.Series("无位置", index=units.index).mask(units["lon"].notna(), "圆点").mask(units["geometry"].notna(), "边界")
    keys = {"district": "区"} if level == "district" else {"district": "区", "township": "街乡镇"}
    return pd.DataFrame({
        **{label: units[key] for key, label in keys.items()}, metric.label: units["value"],
        "受理量（全口径）": units["all_orders"], "综合得分": units["score"], "色档（1 最浅）": units["colour_class"],
        "绘制方式": drawn, "经度（GCJ-02）": units["lon"].round(5), "纬度（GCJ-02）": units["lat"].round(5)})


where = {"district": filters.district, "township": filters.township}
top = st.columns([3, 3, 2], vertical_alignment="bottom")
view = top[0].radio("显示", list(VIEWS), format_func=VIEWS.get, horizontal=True, key="map_view")
basemap = top[2].toggle("显示底图（需联网）", key="map_basemap",
                        help="默认不加载底图：在无法访问互联网的政务网络中，地图只画边界，照样可用。")
outlines = data.figure("maps.district_outlines", filters.scheme)
scope_outline = outlines[outlines["district"] == filters.district]  # empty city-wide

if view == "heat":
    categories = data.figure("overview.breakdown", filters.scheme, period=filters.period, by=("category1",), **where)
    names = categories.loc[(categories["orders"] > 0) & categories["category1"].notna(), "category1"].tolist()
    category = top[1].selectbox("一级分类", [ALL_CATEGORIES, *names], key="map_category")
    chosen = None if category == ALL_CATEGORIES else category
    cells = data.figure("maps.heat_cells", filters.scheme, period=filters.period, category1=chosen, **where)
    st.caption(filters.caption() + f" · 诉求热力图：{category}")
    if cells.empty:
        st.info("本期所选范围内没有带经纬度的工单，画不出热力图：请在侧栏换一个考核周期或范围、换一个分类，"
                "或上传带「纬度」「经度」列的工单。")
    heat = pdk.Layer("HeatmapLayer", records(cells), id="heat", get_position=["lon", "lat"], get_weight="orders",
                     radius_pixels=30, aggregation="SUM", opacity=0.8)
    layers = framed([heat], outlines, scope_outline)
    st.pydeck_chart(deck(layers, extent(scope_outline) or extent(cells), False, basemap), height=MAP_HEIGHT)
    st.markdown(f"**图例**：颜色由浅黄到深红，工单越密集；按受理日期，以约 {heat_cell_degrees(filters.district) * 100:g} "
                f"公里的网格计数，共 {count(cells['orders'].sum())} 条带经纬度的工单。")
    download_button(cells.rename(columns={"lon": "经度（GCJ-02）", "lat": "纬度（GCJ-02）", "orders": "工单数"}),
                    f"诉求热力图_{category}_{filters.period}_{filters.scope}.csv", "下载热力图数据（CSV）")
else:
    metric_key = top[1].selectbox("着色指标", list(METRICS), format_func=lambda m: METRICS[m].label, key="map_metric")
    metric = METRICS[metric_key]
    level = view
    # Districts are compared city-wide (the scope's district is outlined); townships within the scope's district.
    shown = data.figure("maps.choropleth", filters.scheme, period=filters.period, level=level, metric=metric_key,
                        district=filters.district if level == "street" else None)
    units = shown.units
    st.caption(filters.caption() + f" · 着色：{metric.label}（{VIEWS[level].removesuffix('着色')}）")
    if units["value"].isna().all():
        st.info(f"本期所选范围内没有可用于「{metric.label}」的数据，地图全部显示为灰色：请在侧栏换一个考核周期或范围"
                + ("；万人诉求比需要人口数据，可在「数据上传」页上传人口表。" if metric_key == "per_10k" else "。"))
    circles = bool((units["geometry"].isna() & units["lon"].notna()).any())
    if level == "street" and units["geometry"].isna().all() and not circles:
        st.info("本期工单没有经纬度，也没有上传街乡镇边界，画不出街乡镇：请在「数据上传」页上传街乡镇边界（GeoJSON）。")
    if shown.unmatched:
        st.warning(f"以下上传的边界与{filters.district or '全市'}的街乡镇名称对不上，未画出：{'、'.join(shown.unmatched)}。"
                   "请检查边界文件中要素的 name（街乡镇名）和 district（区名）属性。")
    layers = framed(choropleth_layers(shown, level, metric), outlines, scope_outline, under=level != "district")
    bounds = extent(units) if level == "district" else extent(scope_outline) or extent(units)
    st.pydeck_chart(deck(layers, bounds, tooltip(metric), basemap), height=MAP_HEIGHT)
    st.markdown(legend(shown.classes, metric, circles), unsafe_allow_html=True)
    if level == "street":
        st.caption("有上传边界的街乡镇画为多边形；其余画为圆点，位于该街乡镇本期工单位置的中位数（按约 500 米网格）。")
    download_button(downloadable(units, level, metric),
                    f"地图_{metric.label}_{VIEWS[level]}_{filters.period}_{filters.scope}.csv", "下载地图数据（CSV）")

st.caption("边界与工单坐标均为 GCJ-02（国测局坐标，与国内地图一致）。不加载底图时两者自洽；开启的底图为 WGS-84 坐标，"
           "边界与底图之间可能偏移约 0.5 公里。")
