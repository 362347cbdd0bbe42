"""store.mapping: which column feeds each canonical field, from header aliases or a mapping file."""
from __future__ import annotations

import pytest

from store.mapping import load_mapping, normalise, preset_names, resolve
from store.read import FileError
from tests.store.helpers import BEIJING_HEADERS

AUTO = load_mapping(None)


def _columns(mapping) -> dict[str, str]:
    return {name: source.column for name, source in mapping.fields.items()}


def test_beijing_export_headers_need_no_mapping():
    mapping = resolve(AUTO, BEIJING_HEADERS)
    assert _columns(mapping) == {
        "order_id": "工单编号", "request_type": "工单类型", "category1": "一级分类", "category2": "二级分类",
        "category3": "三级分类", "title": "标题", "content": "主要内容", "status": "工单状态",
        "received_at": "来电时间", "district": "被反映区", "township": "被反映街乡镇", "community": "村/社区",
        "handler": "主办单位", "reply": "办理结果", "closed_at": "办结时间", "contacted": "是否联系",
        "resolved": "是否解决", "satisfaction": "是否满意", "callback_valid": "是否有效回访",
        "excluded": "是否保留", "deadline_at": "截止时间", "urgency": "紧急程度",
    }
    assert mapping.fields["excluded"].inverted is True  # 是否保留: 是 means kept, not excluded
    assert mapping.personal == {"caller_name": "来电人", "caller_phone": "来电人电话"}


def test_the_beijing_preset_says_what_the_aliases_find():
    preset = resolve(load_mapping("beijing12345"), BEIJING_HEADERS)
    assert _columns(preset) == _columns(resolve(AUTO, BEIJING_HEADERS))
    assert preset.profile == "beijing"
    assert preset.personal == {"caller_name": "来电人", "caller_phone": "来电人电话"}


def test_english_headers_are_recognised():
    headers = ["Order ID", "Received At", "District", "Street / Township", "Handling Unit", "Satisfaction",
               "Resolved", "Contacted", "Closed At", "Latitude", "Longitude", "Phone"]
    mapping = resolve(AUTO, headers)
    assert _columns(mapping) == {
        "order_id": "Order ID", "received_at": "Received At", "district": "District",
        "township": "Street / Township", "handler": "Handling Unit", "satisfaction": "Satisfaction",
        "resolved": "Resolved", "contacted": "Contacted", "closed_at": "Closed At", "lat": "Latitude",
        "lon": "Longitude"}
    assert mapping.personal == {"caller_phone": "Phone"}


@pytest.mark.parametrize("field, header", [
    ("received_at", "来电时间"), ("received_at", "受理时间"), ("district", "被反映区"), ("district", "区"),
    ("satisfaction", "是否满意"), ("satisfaction", "满意度"), ("township", "街道"), ("order_id", "工单号"),
])
def test_aliases(field, header):
    headers = {"order_id": "工单编号", "received_at": "来电时间", "district": "区"}
    headers[field] = header
    mapping = resolve(AUTO, list(headers.values()))
    assert mapping.fields[field].column == header


def test_full_width_and_spacing_differences_in_headers_are_ignored():
    mapping = resolve(AUTO, ["工单编号 ", "ＲＥＣＥＩＶＥＤ  ＡＴ", "区"])
    assert mapping.fields["received_at"].column == "ＲＥＣＥＩＶＥＤ  ＡＴ"
    assert normalise(" Ａ  b ") == "a b"


def test_missing_required_columns_are_named_with_the_closest_header():
    with pytest.raises(FileError) as caught:
        resolve(AUTO, ["工单编号", "来电日期", "区名", "主要内容"])
    message = str(caught.value)
    assert message.startswith("缺少必需的列：")
    assert "「受理时间」（最接近的列是「来电日期」）" in message
    assert "「区」（最接近的列是「区名」）" in message
    assert "工单编号" not in message.split("。")[0]  # present, so not reported missing


def test_missing_required_column_without_anything_close():
    with pytest.raises(FileError) as caught:
        resolve(AUTO, ["来电时间", "被反映区", "XYZ"])
    assert "缺少必需的列：「工单编号」" in str(caught.value)
    assert "最接近" not in str(caught.value)


def test_presets_are_listed():
    assert {"beijing12345", "nyc311", "open311"} <= set(preset_names())


def test_unknown_preset_is_a_file_error_listing_the_presets():
    with pytest.raises(FileError) as caught:
        load_mapping("shanghai")
    assert "找不到列映射「shanghai」" in str(caught.value)
    assert "nyc311" in str(caught.value)


def test_a_mapping_file_with_constants_formats_and_value_translations(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('''
name = "某区导出"
day_first = true
[fields]
order_id = "流水号"
received_at = { column = "登记时间", format = "%d.%m.%Y %H:%M" }
district = { value = "朝阳区" }
satisfaction = { column = "评价", values = { "好评" = "满意", "差评" = "不满意" } }
[personal]
caller_phone = "手机"
''', encoding="utf-8")
    mapping = resolve(load_mapping(str(path)), ["流水号", "登记时间", "评价", "手机", "来电人"])
    assert mapping.name == "某区导出"
    assert mapping.day_first is True
    assert mapping.fields["order_id"].column == "流水号"
    assert mapping.fields["received_at"].format == "%d.%m.%Y %H:%M"
    assert mapping.fields["district"].value == "朝阳区" and mapping.fields["district"].column is None
    assert mapping.fields["satisfaction"].values == {"好评": "满意", "差评": "不满意"}
    assert mapping.personal == {"caller_phone": "手机", "caller_name": "来电人"}


def test_a_mapping_pointing_at_a_missing_required_column_suggests_one(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[fields]\norder_id = "Ticket Number"\n', encoding="utf-8")
    with pytest.raises(FileError) as caught:
        resolve(load_mapping(str(path)), ["Ticket No", "来电时间", "区"])
    assert "「工单编号」指向列「Ticket Number」" in str(caught.value)
    assert "「Ticket No」" in str(caught.value)


def test_a_mapping_with_an_unknown_field_is_a_file_error(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[fields]\norder_id = "id"\nweather = "天气"\n', encoding="utf-8")
    with pytest.raises(FileError, match="未知字段：weather"):
        resolve(load_mapping(str(path)), ["id", "来电时间", "区"])


def test_a_broken_mapping_file_is_a_file_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('[fields\norder_id = ', encoding="utf-8")
    with pytest.raises(FileError, match="格式错误"):
        load_mapping(str(path))


def test_open311_preset_uses_its_own_columns_only():
    headers = ["service_request_id", "requested_datetime", "zipcode", "区", "address", "description"]
    mapping = resolve(load_mapping("open311"), headers)
    assert mapping.fields["district"].column == "zipcode"  # aliases = false: "区" is not taken
    assert mapping.fields["handler_type"].value == "市级部门"
    assert mapping.personal == {"address": "address"}
