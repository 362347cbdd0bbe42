"""The canonical work-order record: every file, whatever its headers, is mapped onto these fields.

The README's schema table is written from this list; the database columns carry the same names.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    TEXT = "text"
    DATETIME = "datetime"
    BOOL = "bool"
    ENUM = "enum"
    NUMBER = "number"


@dataclass(frozen=True)
class Field:
    name: str  # database column
    zh: str  # the name users know
    en: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()  # headers recognised without a mapping file
    choices: tuple[str, ...] = ()  # for ENUM
    masked: bool = False  # free text in which phone and ID numbers are masked


REQUEST_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬", "其他")
HANDLER_TYPES = ("区", "街乡镇", "市级部门", "企业")
SATISFACTION = ("满意", "基本满意", "不满意")

FIELDS: tuple[Field, ...] = (
    Field("order_id", "工单编号", "order id", Kind.TEXT, True,
          ("工单号", "编号", "order_id", "id", "service_request_id", "unique key", "ticket id")),
    Field("received_at", "受理时间", "received at", Kind.DATETIME, True,
          ("来电时间", "派单时间", "创建时间", "received_at", "requested_datetime", "created date", "created")),
    Field("district", "区", "district", Kind.TEXT, True,
          ("被反映区", "所属区", "区县", "district", "borough")),
    Field("township", "街乡镇", "street / township", Kind.TEXT, False,
          ("被反映街乡镇", "街道", "街道乡镇", "街乡", "乡镇", "township", "street")),
    Field("community", "社区/村", "community / village", Kind.TEXT, False,
          ("村/社区", "社区", "村居", "community")),
    Field("handler", "承办单位", "handling unit", Kind.TEXT, False,
          ("主办单位", "办理单位", "责任单位", "handler", "agency", "agency_responsible")),
    Field("handler_type", "承办单位类型", "handling unit type", Kind.ENUM, False,
          ("单位类型", "承办单位类别", "handler_type"), HANDLER_TYPES),
    Field("request_type", "诉求类型", "request type", Kind.ENUM, False,
          ("工单类型", "诉求性质", "request_type", "type"), REQUEST_TYPES),
    Field("category1", "一级分类", "category, level 1", Kind.TEXT, False,
          ("问题分类", "一级", "category1", "complaint type", "service_name")),
    Field("category2", "二级分类", "category, level 2", Kind.TEXT, False,
          ("二级", "category2", "descriptor")),
    Field("category3", "三级分类", "category, level 3", Kind.TEXT, False, ("三级", "category3")),
    Field("channel", "渠道", "channel", Kind.TEXT, False,
          ("来源渠道", "受理渠道", "来源", "channel", "open data channel type")),
    Field("urgency", "紧急程度", "urgency", Kind.TEXT, False, ("紧急度", "urgency", "priority")),
    Field("time_limit_hours", "办理时限(小时)", "time limit, hours", Kind.NUMBER, False,
          ("办理时限", "时限", "time_limit_hours")),
    Field("deadline_at", "截止时间", "deadline", Kind.DATETIME, False,
          ("办理截止时间", "deadline", "due date", "expected_datetime")),
    Field("contacted_at", "联系时间", "first contact at", Kind.DATETIME, False,
          ("首次联系时间", "响应时间", "contacted_at")),
    Field("closed_at", "办结时间", "closed at", Kind.DATETIME, False,
          ("结案时间", "完成时间", "closed_at", "closed date", "updated_datetime")),
    Field("status", "工单状态", "status", Kind.TEXT, False, ("状态", "status")),
    Field("callback_valid", "是否有效回访", "valid callback", Kind.BOOL, False,
          ("有效回访", "callback_valid")),
    Field("contacted", "是否联系", "contacted", Kind.BOOL, False, ("联系情况", "contacted")),
    Field("resolved", "是否解决", "resolved", Kind.BOOL, False, ("解决情况", "resolved")),
    Field("satisfaction", "是否满意", "satisfaction", Kind.ENUM, False,
          ("满意度", "满意情况", "satisfaction"), SATISFACTION),
    Field("excluded", "是否剔除", "excluded from scoring", Kind.BOOL, False,
          ("剔除", "excluded")),
    Field("exclude_reason", "剔除原因", "exclusion reason", Kind.TEXT, False,
          ("剔除理由", "exclude_reason"), masked=True),
    Field("lat", "纬度", "latitude", Kind.NUMBER, False, ("lat", "latitude", "y")),
    Field("lon", "经度", "longitude", Kind.NUMBER, False, ("lon", "lng", "long", "longitude", "x")),
    Field("title", "标题", "title", Kind.TEXT, False, ("诉求标题", "title"), masked=True),
    Field("content", "主要内容", "content", Kind.TEXT, False,
          ("诉求内容", "内容", "content", "description"), masked=True),
    Field("reply", "办理结果", "handling result", Kind.TEXT, False,
          ("回复内容", "处理结果", "reply", "resolution description", "status_notes"), masked=True),
    Field("qiyou_tag", "七有五性", "七有五性 tag", Kind.TEXT, False, ("七有五性分类", "qiyou_tag")),
)

# Headers whose values are personal data: read only to mask and hash, never stored.
PERSONAL_ALIASES: dict[str, tuple[str, ...]] = {
    "caller_name": ("来电人", "来电人姓名", "诉求人", "姓名", "caller_name", "name"),
    "caller_phone": ("来电人电话", "来电号码", "联系电话", "电话", "手机号", "caller_phone", "phone"),
    "id_number": ("身份证号", "证件号码", "身份证", "id_number"),
    "address": ("详细地址", "地址", "incident address", "address"),
}

# 是否保留 carries the opposite sense of 是否剔除: 是 (kept) means not excluded.
INVERTED_ALIASES: dict[str, str] = {"是否保留": "excluded", "保留": "excluded"}

# Fields ingestion fills in when a file leaves them blank (see store.validate._fill_defaults).
DEFAULTED: tuple[str, ...] = ("handler", "handler_type", "callback_valid", "excluded")

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
REQUIRED: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
