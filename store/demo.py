"""The synthetic demo city: a deterministic year of Beijing 12345 work orders, shaped like an export.

`demo_orders` fills an empty database (`python cli.py demo`, or the app on first start); it returns
strings under the export's own Chinese headers so that it goes through the same ingestion as a real
file. `demo_upload_sample` is a small export with a handful of deliberately bad rows for trying the
upload (data/samples/README.md says which). Every person, phone number and order here is invented.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from string import Formatter

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine

from store.db import set_setting
from store.ingest import IngestResult, ingest_file
from store.paths import DATA_DIR
from store.profile import CityProfile, load_profile

HEADERS: tuple[str, ...] = (
    "工单编号", "工单类型", "一级分类", "二级分类", "三级分类", "标题", "主要内容", "工单状态", "来电人",
    "来电人电话", "来电时间", "被反映区", "被反映街乡镇", "村/社区", "主办单位", "承办单位类型", "渠道", "紧急程度",
    "联系时间", "办结时间", "截止时间", "是否有效回访", "是否联系", "是否解决", "是否满意", "是否保留", "剔除原因",
    "纬度", "经度",
)
DEMO_ID_PREFIX = "DEMO"  # demo orders never collide with a real export's numbers, and are recognisable
_SAMPLE_ID_PREFIX = "GD"  # nor with the upload sample's, so trying the sample on the demo adds orders
SAMPLE_PATH = DATA_DIR / "samples" / "beijing_upload_sample.csv"
_CATEGORIES_PATH = DATA_DIR / "taxonomy" / "categories.csv"
_SAMPLE_YEAR = 2025
_SAMPLE_ROWS = 300

# Month multipliers, January first; each is rescaled to a mean of 1 so a topic's share is its yearly share.
_FLAT = (1.0,) * 12
_HEATING = (3.2, 2.4, 1.2, 0.3, 0.05, 0.02, 0.02, 0.02, 0.05, 0.4, 2.2, 3.2)  # season 11-15 to 03-15
_SUMMER = (0.6, 0.6, 0.8, 1.0, 1.2, 1.5, 1.6, 1.5, 1.2, 1.0, 0.7, 0.6)
_ENROLMENT = (0.3, 0.3, 0.6, 1.6, 2.0, 2.0, 2.0, 1.8, 0.8, 0.3, 0.3, 0.3)
_BEFORE_SPRING_FESTIVAL = (2.2, 1.2, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 0.9, 1.4, 2.2)


@dataclass(frozen=True)
class _Topic:
    """How orders of one 二级分类 behave: volume, season, who handles them, how hard they are to solve."""

    share: float  # percent of a year's orders
    department: str  # the city department that takes some of them
    issues: tuple[tuple[str, str], ...]  # (三级分类, what the caller says)
    company: str = ""  # the public-service company that takes some of them
    company_pull: float = 1.0  # relative to the other company topics
    hardness: float = 0.0  # shift of the log-odds of being solved
    urgent: tuple[float, float] = (0.005, 0.06)  # chance of 特急, of 紧急
    season: tuple[float, ...] = _FLAT


_UTILITY = (0.03, 0.35)
_TOPICS: dict[str, _Topic] = {
    "物业管理": _Topic(9, "市住房城乡建设委", (("电梯维修", "小区电梯频繁故障，物业公司维修不及时"),
                                           ("物业收费", "物业公司收费标准不透明，公共收益不公开")), hardness=-0.7),
    "房屋中介": _Topic(2.5, "市住房城乡建设委", (("押金退还", "租房到期后中介公司拒不退还押金"),
                                            ("虚假房源", "中介公司发布虚假房源信息")), hardness=-0.4),
    "产权证办理": _Topic(2, "市规划自然资源委", (("办证进度", "购房多年仍未办理不动产权证"),
                                           ("材料审核", "办理不动产权证的材料多次被退回")), hardness=-0.6),
    "老旧小区改造": _Topic(2.5, "市住房城乡建设委", (("施工进度", "老旧小区改造工程进度缓慢"),
                                               ("加装电梯", "老楼加装电梯协调困难")), hardness=-0.3),
    "供暖": _Topic(7, "市城市管理委", (("室温不达标", "家中暖气不热，室温低于十八度"),
                                   ("管道漏水", "暖气管道漏水，影响楼下住户")),
                 company="北京市热力集团", urgent=_UTILITY, season=_HEATING),
    "供水": _Topic(3, "市水务局", (("停水", "小区突然停水，事先没有通知"), ("水质", "自来水发黄、有异味")),
                 company="北京自来水集团", hardness=0.4, urgent=_UTILITY),
    "供电": _Topic(2.5, "市城市管理委", (("停电", "小区频繁停电"), ("线路老化", "楼道电线老化，存在隐患")),
                 company="国网北京市电力公司", hardness=0.4, urgent=_UTILITY),
    "燃气": _Topic(1.5, "市城市管理委", (("燃气异味", "楼道内闻到燃气异味"), ("充值缴费", "燃气表无法充值，影响做饭")),
                 company="北京燃气集团", hardness=0.4, urgent=(0.10, 0.35)),
    "公交": _Topic(3, "市交通委", (("站点设置", "公交站离小区较远，出行不便"), ("发车间隔", "公交车发车间隔过长")),
                 company="北京公交集团", hardness=0.2),
    "道路设施": _Topic(4, "市交通委", (("道路破损", "路面坑洼破损"), ("井盖缺失", "路边井盖缺失，存在安全隐患")),
                   urgent=(0.02, 0.10)),
    "施工扰民": _Topic(4, "市住房城乡建设委", (("夜间施工", "附近工地夜间施工，噪音扰民"),
                                            ("施工扬尘", "工地未采取降尘措施，扬尘严重")),
                   hardness=-0.3, season=_SUMMER),
    "违法建设": _Topic(3, "市规划自然资源委", (("私搭乱建", "有住户在楼顶私搭乱建"),
                                            ("占用绿地", "有人占用公共绿地搭建房屋")), hardness=-0.5),
    "垃圾清运": _Topic(3, "市城市管理委", (("清运不及时", "小区垃圾清运不及时，气味难闻"),
                                        ("桶站设置", "垃圾分类桶站设置不合理")), hardness=0.1),
    "停车管理": _Topic(5, "市交通委", (("停车难", "小区周边停车位紧张"), ("占用通道", "车辆长期占用消防通道")),
                   hardness=-0.4),
    "交通秩序": _Topic(3, "市公安局公安交通管理局", (("信号灯", "路口信号灯配时不合理，早晚高峰拥堵"),
                                                ("违法停车", "路口违法停车，影响通行"))),
    "预付卡退费": _Topic(3, "市市场监管局", (("商家关店", "健身房突然关店，预付卡余额无法退还"),
                                          ("退费难", "理发店拒绝退还预付卡余额")), hardness=-1.2),
    "食品安全": _Topic(2, "市市场监管局", (("过期食品", "超市销售过期食品"), ("餐饮卫生", "餐馆后厨卫生条件差")),
                   urgent=(0.01, 0.08)),
    "消费纠纷": _Topic(5, "市市场监管局", (("商品质量", "买到的商品有质量问题，商家拒绝退换"),
                                        ("话费争议", "手机话费被多扣，客服一直未解决")),
                   company="北京移动", company_pull=0.25),
    "欠薪": _Topic(4, "市人力资源社会保障局", (("拖欠工资", "单位拖欠工资数月未发"),
                                          ("农民工工资", "工地拖欠农民工工资")),
                 hardness=-0.8, season=_BEFORE_SPRING_FESTIVAL),
    "社保医保": _Topic(3, "市人力资源社会保障局", (("社保缴纳", "单位未按规定缴纳社会保险"),
                                              ("医保报销", "医保报销进度慢")), hardness=0.2),
    "就业服务": _Topic(1.5, "市人力资源社会保障局", (("职业培训", "职业技能培训报名渠道不清楚"),
                                                ("失业登记", "办理失业登记遇到困难")), hardness=0.2),
    "医院服务": _Topic(3, "市卫生健康委", (("挂号难", "医院专家号难挂"), ("服务态度", "医院工作人员服务态度差"))),
    "疫苗接种": _Topic(1, "市卫生健康委", (("接种预约", "社区卫生服务中心疫苗接种预约困难"),
                                        ("接种安排", "儿童疫苗接种时间安排不合理")), hardness=0.3),
    "入学入园": _Topic(2.5, "市教委", (("就近入学", "孩子入学学位紧张，无法就近入学"),
                                    ("入园名额", "附近普惠性幼儿园名额不足")),
                   hardness=-0.2, season=_ENROLMENT),
    "校外培训": _Topic(1.5, "市教委", (("培训退费", "校外培训机构拒绝退还剩余课时费"),
                                    ("违规培训", "培训机构违规开展学科类培训")), hardness=-0.6),
    "噪音扰民": _Topic(4, "市生态环境局", (("生活噪音", "楼上住户长期深夜制造噪音"), ("商业噪音", "底商音响声音过大")),
                   hardness=-0.2, season=_SUMMER),
    "治安隐患": _Topic(2, "市公安局", (("消防隐患", "楼道堆放杂物，存在消防隐患"),
                                    ("电动车充电", "有居民在楼道内给电动自行车充电")), urgent=(0.08, 0.15)),
    "养老服务": _Topic(2, "市民政局", (("养老驿站", "社区养老驿站服务项目少"), ("老年助餐", "老年餐桌供餐不稳定"))),
    "困难救助": _Topic(1.5, "市民政局", (("低保审核", "申请低保审核时间过长"), ("残疾人补贴", "残疾人补贴未按时发放"))),
    "大气污染": _Topic(2, "市生态环境局", (("烧烤油烟", "露天烧烤油烟扰民"), ("刺鼻异味", "附近工厂排放刺鼻异味")),
                   hardness=-0.1),
    "园林绿化": _Topic(2.5, "市园林绿化局", (("树木修剪", "树木遮挡采光，需要修剪"), ("绿地养护", "小区绿地缺乏养护")),
                   hardness=0.2),
}
# A category an evaluator adds to categories.csv still gets orders, handled by the hotline's own office.
_OTHER_TOPIC = _Topic(1, "市政务服务和数据局", (("其他", "遇到的问题一直没有解决"),))

_REQUEST_TYPE_MIX = {"求助": 0.45, "投诉": 0.38, "咨询": 0.06, "举报": 0.05, "建议": 0.05, "表扬": 0.01}
_HANDLER_TYPE_MIX = {"区": 0.03, "街乡镇": 0.80, "市级部门": 0.10, "企业": 0.07}
_CHANNEL_MIX = {"12345热线": 0.74, "微信": 0.09, "APP": 0.07, "网站": 0.05, "人民网留言板": 0.03, "微博": 0.02}
_EXCLUSION_REASON_MIX = {"转110/119/120": 0.15, "涉诉涉访": 0.15, "重复诉求无新情况": 0.35, "超出职责范围": 0.25,
                         "恶意诉求": 0.10}
_URGENCY_HOURS = {"特急": 2, "紧急": 24, "一般": 7 * 24}
_COMPLEX_HOURS = 15 * 24

# (标题, 主要内容) for each request type.
_WORDING: dict[str, tuple[str, str]] = {
    "求助": ("反映{sub}问题", "{place}居民来电反映：{issue}，希望尽快协调解决。"),
    "投诉": ("投诉{sub}问题", "{place}居民来电投诉：{issue}，此前已多次反映未果，要求尽快处理并答复。"),
    "举报": ("举报{sub}问题", "{place}居民来电举报：{issue}，请相关部门核实查处。"),
    "咨询": ("咨询{topic}政策", "{place}居民来电咨询{topic}方面的政策和办理流程，希望得到答复。"),
    "建议": ("关于{sub}的建议", "{place}居民来电建议：针对{issue}的情况，加强日常管理和巡查。"),
    "表扬": ("表扬{handler}", "{place}居民来电表扬{handler}工作人员，此前反映的{topic}问题处理及时、态度热情。"),
}
_HOUR_WEIGHTS = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.5, 5.0, 5.2, 4.6,
                          3.2, 3.8, 4.6, 4.6, 4.2, 3.6, 2.8, 2.6, 2.4, 1.8, 1.0, 0.5])
_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海宁晨旭东鹏飞雪梅琳浩宇欣怡轩佳")
_MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + [f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)] + [
    "166", "173", "177", "180", "181", "185", "186", "187", "188", "189", "198", "199"]
_COMMUNITY_STEMS = ("和平里", "幸福", "光明", "建设", "花园", "新华", "东风", "团结", "胜利", "长青", "康乐", "兴华",
                    "向阳", "育新", "永安", "富强", "民主", "金台", "青年", "紫竹", "安华", "双榆")

_RESOLVED_LOGIT_JANUARY, _RESOLVED_LOGIT_DECEMBER = 1.7, 3.1  # ≈ 80 % and ≈ 93 % city-wide
_REPEAT_SHARE = 0.15  # of orders, made by callers who call about the same thing several times
_CALLS_PER_REPEATER = 4


def demo_orders(n: int = 200_000, seed: int = 2025, year: int = 2025, profile: CityProfile | None = None
                ) -> pd.DataFrame:
    """A synthetic year of work orders: one string column per export header, "" where a value is missing.

    The same arguments give the same frame. For the current year the orders stop before today.
    """
    return _orders(n, seed, year, profile or load_profile("beijing"), DEMO_ID_PREFIX)


def demo_order_chunks(n: int, chunk: int = 1_000_000, seed: int = 2025, year: int = 2025, distinct: int = 4,
                      months: int = 12) -> Iterator[pd.DataFrame]:
    """`n` demo orders for benchmarks of city scale: copies of up to `distinct` generated frames of `chunk`
    orders (seeds seed, seed + 1, …; a year of 24 million generated afresh would take an hour), each copy
    under its own order ids, yielded month by month as an export sorted by time is. With months < 12 the
    orders fall in the year's last `months` months (a generated month m moves to month 12 - months + 1 +
    (m - 1) % months, its times shifted by whole days): the same orders, denser, as a city of 1–2 million
    orders a month exports one month."""
    sizes = [min(chunk, n - start) for start in range(0, n, chunk)]
    frames = [demo_orders(size, seed + k, year) for k, size in enumerate(sizes[:distinct])]
    months_of = [_parsed_times(f["来电时间"]).dt.month.to_numpy() for f in frames]
    first, numbered = 12 - months + 1, [0] * len(sizes)
    for target in range(first, 13):
        for copy, size in enumerate(sizes):
            source = months_of[copy % distinct][:size]
            rows = np.flatnonzero((source - 1) % months == target - first)
            frame = _moved_to_month(frames[copy % distinct].iloc[rows], source[rows], target, year)
            frame["来电人电话"] = _callers_of_copy(frame["来电人电话"], copy // distinct)
            frame = frame.iloc[np.argsort(_parsed_times(frame["来电时间"]).to_numpy(), kind="stable")]
            # Numbered in the order of receipt, as a hotline numbers its orders.
            serial = pd.Series(np.arange(numbered[copy] + 1, numbered[copy] + len(frame) + 1)).astype(str).str.zfill(8)
            frame["工单编号"] = f"{DEMO_ID_PREFIX}{year}{copy:04d}" + serial.to_numpy()
            numbered[copy] += len(frame)
            yield frame


def _callers_of_copy(phones: pd.Series, copy: int) -> pd.Series:
    """The callers of the `copy`-th copy of a generated frame (0: the frame's own): each number's last 8 digits
    moved by the same step, so that a copied order is another caller's, not a repeat call of its original."""
    if copy == 0:
        return phones
    numbers = phones.astype("int64")
    suffix = (numbers % 10**8 + copy * 12_345_679) % 10**8
    return (numbers - numbers % 10**8 + suffix).astype(str).astype(object)


def _moved_to_month(frame: pd.DataFrame, source_months: np.ndarray, target: int, year: int) -> pd.DataFrame:
    """Orders of other months moved into month `target`, every time of an order by the same whole days."""
    frame = frame.copy()
    if (source_months == target).all():
        return frame
    starts = pd.to_datetime(pd.DataFrame({"year": year, "month": source_months, "day": 1}))
    shift = pd.Timestamp(year, target, 1) - pd.DatetimeIndex(starts)
    for column in ("来电时间", "联系时间", "办结时间", "截止时间"):
        times = _parsed_times(frame[column]) + shift
        seconds = (times - pd.Timestamp(1970, 1, 1)).dt.total_seconds().fillna(0).to_numpy(dtype="int64")
        frame[column] = _export_times(seconds, times.notna().to_numpy())
    return frame


def _parsed_times(export: pd.Series) -> pd.Series:
    return pd.to_datetime(export, format="%Y/%m/%d %H:%M:%S", errors="coerce")


def demo_upload_sample(seed: int = 7) -> pd.DataFrame:
    """A small export for trying the upload: clean rows and ten deliberately bad ones, each wrong in its own way."""
    return _with_defects(_orders(_SAMPLE_ROWS, seed, _SAMPLE_YEAR, load_profile("beijing"), _SAMPLE_ID_PREFIX))


def write_upload_sample(path: Path = SAMPLE_PATH, seed: int = 7) -> Path:
    """The upload sample as Excel writes a CSV in China: GB18030 (a superset of GBK), CRLF line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    demo_upload_sample(seed).to_csv(path, index=False, encoding="gb18030", lineterminator="\r\n")
    return path


# --- the city -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _City:
    """What the generator knows of the city, with each unit's stable random traits."""

    districts: np.ndarray  # names
    district_codes: np.ndarray
    population: np.ndarray
    towns: np.ndarray  # township names
    town_district: np.ndarray  # district index of each township
    town_rural: np.ndarray  # a 镇 or 乡: villages rather than communities
    town_weight: np.ndarray  # share of its district's orders
    shapes: list[shapely.Geometry]  # district polygons, in the order of `districts`
    centres: tuple[np.ndarray, np.ndarray]  # lon, lat of each township's centre
    units: pd.DataFrame  # every possible handler: name, type, quality (a shift of the log-odds of solving)
    categories: pd.DataFrame  # 一级分类, 二级分类
    specs: list[_Topic]  # one per category


def _city(profile: CityProfile, rng: np.random.Generator) -> _City:
    towns = profile.townships.reset_index(drop=True)
    districts = profile.districts["name"].to_numpy(dtype=object)
    town_district = towns["district"].map({d: i for i, d in enumerate(districts)}).to_numpy()
    categories = pd.read_csv(_CATEGORIES_PATH, dtype=str)
    specs = [_TOPICS.get(sub, _OTHER_TOPIC) for sub in categories["二级分类"]]
    weight = rng.lognormal(0, 0.6, len(towns))  # township populations are mostly unknown
    shapes = _district_shapes(profile)
    return _City(
        districts=districts, district_codes=profile.districts["code"].to_numpy(dtype=object),
        population=profile.districts["population"].to_numpy(dtype=float),
        towns=towns["name"].to_numpy(dtype=object), town_district=town_district,
        town_rural=towns["unit_type"].isin(["镇", "乡"]).to_numpy(),
        town_weight=weight / np.bincount(town_district, weight)[town_district],
        shapes=shapes, centres=_centres(rng, shapes, town_district),
        units=_units(rng, towns["name"], districts, specs), categories=categories, specs=specs,
    )


def _district_shapes(profile: CityProfile) -> list[shapely.Geometry]:
    geojson = profile.district_geojson()
    if geojson is None:
        raise ValueError(f"城市档案「{profile.name}」没有区界（district_boundaries），无法生成演示坐标。")
    by_name = {f["properties"]["name"]: shape(f["geometry"]) for f in geojson["features"]}
    shapes = [by_name[name] for name in profile.districts["name"]]
    shapely.prepare(shapes)
    return shapes


def _centres(rng: np.random.Generator, shapes: list[shapely.Geometry], town_district: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """A random point inside its district for each township, around which its orders cluster."""
    lon, lat = np.zeros(len(town_district)), np.zeros(len(town_district))
    for d, area in enumerate(shapes):
        here = town_district == d
        lon[here], lat[here] = _points_within(rng, area, here.sum())
    return lon, lat


def _points_within(rng: np.random.Generator, area: shapely.Geometry, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` uniform random points inside `area`, at 6 decimals."""
    x0, y0, x1, y1 = area.bounds
    xs, ys = np.empty(0), np.empty(0)
    while len(xs) < count:
        x, y = np.round(rng.uniform(x0, x1, 4 * count), 6), np.round(rng.uniform(y0, y1, 4 * count), 6)
        inside = shapely.contains_xy(area, x, y)
        xs, ys = np.concatenate([xs, x[inside]]), np.concatenate([ys, y[inside]])
    return xs[:count], ys[:count]


def _units(rng: np.random.Generator, towns: pd.Series, districts: np.ndarray, specs: list[_Topic]) -> pd.DataFrame:
    """Every unit that can handle an order, in the blocks 街乡镇, 区, 市级部门, 企业, each with its own quality."""
    departments = sorted({s.department for s in specs})
    companies = sorted({s.company for s in specs if s.company})
    blocks = {"街乡镇": list(towns), "区": list(districts), "市级部门": departments, "企业": companies}
    spread = {"街乡镇": 0.55, "区": 0.3, "市级部门": 0.4, "企业": 0.4}  # townships differ most
    units = pd.DataFrame([(name, kind) for kind, names in blocks.items() for name in names], columns=["name", "type"])
    units["quality"] = rng.normal(0, 1, len(units)) * units["type"].map(spread).to_numpy()
    return units


# --- the orders ---------------------------------------------------------------------------------------------

def _orders(n: int, seed: int, year: int, profile: CityProfile, id_prefix: str) -> pd.DataFrame:
    # The city's traits come from their own stream, so a township keeps its weight and quality whatever n is.
    city = _city(profile, np.random.default_rng([seed, 0]))
    rng = np.random.default_rng([seed, 1])
    start, cutoff = _period(year)
    source = _repeat_sources(rng, n)
    town, topic, received = _calls(rng, city, source, start, cutoff)
    handler = _handlers(rng, city, topic, town)
    quality = city.units["quality"].to_numpy()[handler]
    timing, closed = _timeline(rng, city, topic, received, quality, cutoff)
    columns = {
        **_requests(rng, city, source, town, topic, handler),
        "来电时间": _export_times(received),
        **timing,
        **_callbacks(rng, closed, _resolution_logit(city, topic, received, quality, start)),
        **_exclusions(rng, n),
        **_coordinates(rng, city, town),
    }
    order = np.argsort(received, kind="stable")  # numbers are handed out as calls come in
    columns = {name: np.asarray(values)[order] for name, values in columns.items()}
    columns["工单编号"] = id_prefix + (year * 10**8 + np.arange(1, n + 1)).astype(str).astype(object)
    return pd.DataFrame({h: columns[h] for h in HEADERS})


def _period(year: int) -> tuple[int, int]:
    """Start of the year and the cut (its end, or today if sooner), in seconds since 1970, local time."""
    epoch = date(1970, 1, 1)
    start, end = date(year, 1, 1), min(date(year + 1, 1, 1), date.today())
    if end <= start:
        raise ValueError(f"{year} 年尚未开始，无法生成该年的演示数据。")
    return (start - epoch).days * 86400, (end - epoch).days * 86400


def _months(seconds: np.ndarray) -> np.ndarray:
    """Month index 0–11 of each time."""
    return seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12


def _draws(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of `weights`, drawn in proportion to that row (rows need not sum to 1)."""
    cumulative = weights.cumsum(axis=1)
    u = rng.random(len(weights)) * cumulative[:, -1]
    return (u[:, None] >= cumulative).sum(axis=1)


def _pick(rng: np.random.Generator, weighted: dict[str, float], n: int) -> np.ndarray:
    return np.array(list(weighted), dtype=object)[rng.choice(len(weighted), n, p=list(weighted.values()))]


def _seasons(specs: list[_Topic]) -> np.ndarray:
    """Months × topics: expected orders per topic in each month, in percent of a year's orders."""
    season = np.array([s.season for s in specs]).T
    return season / season.mean(axis=0) * np.array([s.share for s in specs])


def _repeat_sources(rng: np.random.Generator, n: int) -> np.ndarray:
    """For each row, the row whose caller, place and issue it shares: itself, or a repeat caller's first call."""
    repeats = round(n * _REPEAT_SHARE)
    firsts = repeats // _CALLS_PER_REPEATER
    source = np.arange(n)
    if firsts:
        source[firsts:repeats] = rng.integers(0, firsts, repeats - firsts)
    return source


def _calls(rng: np.random.Generator, city: _City, source: np.ndarray, start: int, cutoff: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Township, topic and call time of each order; a repeat call is about its first call's place and topic."""
    n = len(source)
    share = city.population[city.town_district] / city.population.sum() * city.town_weight
    town = rng.choice(len(share), n, p=share / share.sum())[source]
    own_time = _call_times(rng, n, start, cutoff, city.specs)
    topic = _draws(rng, _seasons(city.specs)[_months(own_time)])[source]
    repeat = source != np.arange(n)
    received = np.where(repeat, _later_call(rng, own_time[source], own_time, start, cutoff), own_time)
    return town, topic, received


def _call_times(rng: np.random.Generator, n: int, start: int, cutoff: int, specs: list[_Topic]) -> np.ndarray:
    """Call times: more calls in months with more seasonal topics, fewer at weekends, mostly office hours."""
    days = np.arange(start // 86400, cutoff // 86400)
    weekend = (days + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    weight = _seasons(specs).sum(axis=1)[_months(days * 86400)] * np.where(weekend, 0.8, 1.0)
    day = days[rng.choice(len(days), n, p=weight / weight.sum())]
    hour = rng.choice(24, n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return day * 86400 + hour * 3600 + rng.integers(0, 3600, n)


def _later_call(rng: np.random.Generator, first: np.ndarray, own: np.ndarray, start: int, cutoff: int
                ) -> np.ndarray:
    """A repeat call 1–45 days from the first call (before it if after would pass the cut), at its own hour."""
    offset = rng.integers(1, 46, len(first)) * 86400
    first_day = first // 86400 * 86400
    day = np.where(first_day + offset >= cutoff, first_day - offset, first_day + offset)
    return np.clip(day, start, cutoff - 86400) + own % 86400


def _handlers(rng: np.random.Generator, city: _City, topic: np.ndarray, town: np.ndarray) -> np.ndarray:
    """Unit index of each order's handler, one that fits its topic, in the mix of _HANDLER_TYPE_MIX."""
    share = np.array(list(_HANDLER_TYPE_MIX.values()))
    company_share = _HANDLER_TYPE_MIX["企业"]
    pull = np.array([s.company_pull if s.company else 0.0 for s in city.specs])
    # Companies take only their own topics; scaling by those topics' volume keeps the companies' share exact.
    company = np.minimum(company_share * pull / max(pull[topic].mean(), 1e-9), 1.0)
    weights = np.column_stack([share[:3] * (1 - company[:, None]) / (1 - company_share), company])
    kind = _draws(rng, weights[topic])  # in the order of _HANDLER_TYPE_MIX: 区, 街乡镇, 市级部门, 企业
    index = {name: i for i, name in enumerate(city.units["name"])}  # department and company names are unique
    department = np.array([index[s.department] for s in city.specs])
    company_unit = np.array([index.get(s.company, -1) for s in city.specs])
    district_unit = len(city.towns) + city.town_district
    return np.choose(kind, [district_unit[town], town, department[topic], company_unit[topic]])


def _timeline(rng: np.random.Generator, city: _City, topic: np.ndarray, received: np.ndarray,
              quality: np.ndarray, cutoff: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """紧急程度, the handling times and 工单状态; and which orders are closed by the cut."""
    n = len(topic)
    urgent = np.array([[*s.urgent, 1 - sum(s.urgent)] for s in city.specs])
    urgency = _draws(rng, urgent[topic])  # in the order of _URGENCY_HOURS: 特急, 紧急, 一般
    limit_h = np.array(list(_URGENCY_HOURS.values()))[urgency]
    limit_h = np.where((urgency == 2) & (rng.random(n) < 0.05), _COMPLEX_HOURS, limit_h)
    contact_h = np.clip(rng.lognormal(np.log(1.5), 0.9, n), 0.05, 0.25 * limit_h)
    on_time_h = contact_h + (limit_h - contact_h) * rng.beta(2, 3, n)
    late = rng.random(n) < 1 / (1 + np.exp(2.9 + 0.8 * quality))  # ≈ 5 %, more at weaker units
    close_h = np.where(late, limit_h * (1 + rng.exponential(0.5, n)), on_time_h)
    contacted_at = received + (contact_h * 3600).astype(np.int64)
    closed_at = received + (close_h * 3600).astype(np.int64)
    backlog = (received >= cutoff - 30 * 86400) & (rng.random(n) < 0.25)  # hard recent cases still open
    closed = (closed_at < cutoff) & ~backlog
    return {
        "紧急程度": np.array(list(_URGENCY_HOURS), dtype=object)[urgency],
        "工单状态": np.where(closed, "已办结", "办理中").astype(object),
        "联系时间": _export_times(contacted_at, contacted_at < cutoff),
        "办结时间": _export_times(closed_at, closed),
        "截止时间": _export_times(received + limit_h * 3600),
    }, closed


def _resolution_logit(city: _City, topic: np.ndarray, received: np.ndarray, quality: np.ndarray, start: int
                      ) -> np.ndarray:
    """Log-odds that an order is solved: the city improves through the year; units and topics differ."""
    year_fraction = (received - start) / (365 * 86400)
    trend = _RESOLVED_LOGIT_JANUARY + (_RESOLVED_LOGIT_DECEMBER - _RESOLVED_LOGIT_JANUARY) * year_fraction
    return trend + quality + np.array([s.hardness for s in city.specs])[topic]


def _callbacks(rng: np.random.Generator, closed: np.ndarray, logit: np.ndarray) -> dict[str, np.ndarray]:
    """The callback columns: a valid callback for most closed orders, its answers driven by `logit`."""
    n = len(closed)
    valid = closed & (rng.random(n) < 0.88)
    contacted = rng.random(n) < 0.98
    resolved = rng.random(n) < 1 / (1 + np.exp(-(logit - 1.5 * ~contacted)))
    # Satisfaction follows the outcome: solved → mostly 满意, unsolved → mostly 不满意.
    satisfaction = np.where(resolved, _pick(rng, {"满意": 0.86, "基本满意": 0.12, "不满意": 0.02}, n),
                            _pick(rng, {"满意": 0.35, "基本满意": 0.25, "不满意": 0.40}, n))
    return {
        "是否有效回访": _yes_no(valid, closed),
        "是否联系": _yes_no(contacted, valid),
        "是否解决": _yes_no(resolved, valid),
        "是否满意": np.where(valid, satisfaction, ""),
    }


def _yes_no(flag: np.ndarray, asked: np.ndarray) -> np.ndarray:
    """是/否 where the question was asked, "" elsewhere."""
    return np.where(asked, np.where(flag, "是", "否"), "").astype(object)


def _exclusions(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    excluded = rng.random(n) < 0.03
    return {
        "是否保留": np.where(excluded, "剔除", "保留").astype(object),
        "剔除原因": np.where(excluded, _pick(rng, _EXCLUSION_REASON_MIX, n), ""),
    }


def _requests(rng: np.random.Generator, city: _City, source: np.ndarray, town: np.ndarray, topic: np.ndarray,
              handler: np.ndarray) -> dict[str, np.ndarray]:
    """Who called about what where, and who handles it: the columns that describe the request."""
    n = len(source)
    kind = _pick(rng, _REQUEST_TYPE_MIX, n)
    sub, said = _issues(city.specs, topic, rng.random(n)[source])
    category = city.categories["二级分类"].to_numpy(dtype=object)[topic]
    community = _communities(city, town, rng.integers(0, 5, n)[source])
    handler_name = city.units["name"].to_numpy(dtype=object)[handler]
    values = {"sub": sub, "issue": said, "topic": category, "place": city.towns[town] + community,
              "handler": handler_name}
    names, phones = _callers(rng, n)
    return {
        "工单类型": kind,
        "一级分类": city.categories["一级分类"].to_numpy(dtype=object)[topic],
        "二级分类": category,
        "三级分类": np.where(rng.random(n) < 0.1, "", sub),  # not every export fills the third level
        "标题": _fill(0, kind, values),
        "主要内容": _with_personal_numbers(rng, _fill(1, kind, values), phones[source],
                                       city.district_codes[city.town_district[town]]),
        "来电人": names[source],
        "来电人电话": phones[source],
        "被反映区": city.districts[city.town_district[town]],
        "被反映街乡镇": city.towns[town],
        "村/社区": community,
        "主办单位": handler_name,
        "承办单位类型": city.units["type"].to_numpy(dtype=object)[handler],
        "渠道": _pick(rng, _CHANNEL_MIX, n),
    }


def _issues(specs: list[_Topic], topic: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """三级分类 and the caller's words for each order: one of its topic's issues."""
    flat = [issue for s in specs for issue in s.issues]
    count = np.array([len(s.issues) for s in specs])
    first = np.concatenate([[0], count.cumsum()[:-1]])
    pick = first[topic] + (u * count[topic]).astype(int)
    return np.array([sub for sub, _ in flat], dtype=object)[pick], np.array([w for _, w in flat], dtype=object)[pick]


def _communities(city: _City, town: np.ndarray, u: np.ndarray) -> np.ndarray:
    """村/社区: five per township, villages in 镇/乡 and communities elsewhere."""
    stem = np.array(_COMMUNITY_STEMS, dtype=object)[(town * 7 + u) % len(_COMMUNITY_STEMS)]
    return stem + np.where(city.town_rural[town], "村", "社区").astype(object)


def _fill(part: int, kind: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
    """标题 (part 0) or 主要内容 (part 1) of each order, from its request type's template in _WORDING."""
    out = np.full(len(kind), "", dtype=object)
    for request_type, templates in _WORDING.items():
        rows = kind == request_type
        text = np.full(rows.sum(), "", dtype=object)
        for literal, field, _, _ in Formatter().parse(templates[part]):
            text = text + literal + (values[field][rows] if field else "")
        out[rows] = text
    return out


def _callers(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A made-up name and a distinct made-up mobile number per row."""
    surnames, given = np.array(_SURNAMES, dtype=object), np.array(_GIVEN, dtype=object)
    names = (surnames[rng.integers(0, len(surnames), n)] + given[rng.integers(0, len(given), n)]
             + np.where(rng.random(n) < 0.6, given[rng.integers(0, len(given), n)], ""))
    # An odd multiplier not divisible by 5 is invertible modulo 10^8, so distinct rows get distinct numbers.
    suffix = (np.arange(n, dtype=np.int64) * 7_654_321 + int(rng.integers(0, 10**8))) % 10**8
    prefix = np.array(_MOBILE_PREFIXES, dtype=np.int64)[rng.integers(0, len(_MOBILE_PREFIXES), n)]
    return names, (prefix * 10**8 + suffix).astype(str).astype(object)


def _with_personal_numbers(rng: np.random.Generator, content: np.ndarray, phones: np.ndarray,
                           district_codes: np.ndarray) -> np.ndarray:
    """About 2 % of contents quote the caller's phone or an ID number, as real ones do, for masking to catch."""
    chosen = np.flatnonzero(rng.random(len(content)) < 0.02)
    born = np.datetime64("1950-01-01") + rng.integers(0, 55 * 365, len(chosen)).astype("timedelta64[D]")
    ids = (district_codes[chosen] + np.char.replace(born.astype(str), "-", "").astype(object)
           + np.char.zfill(rng.integers(0, 1000, len(chosen)).astype(str), 3).astype(object)
           + np.array(list("0123456789X"), dtype=object)[rng.integers(0, 11, len(chosen))])
    number = np.where(rng.random(len(chosen)) < 0.5, "身份证号" + ids, "联系电话" + phones[chosen])
    out = content.copy()
    out[chosen] = content[chosen] + "来电人留下" + number + "。"
    return out


def _coordinates(rng: np.random.Generator, city: _City, town: np.ndarray) -> dict[str, np.ndarray]:
    """纬度/经度 inside the order's district, scattered around its township's centre."""
    lon, lat = city.centres[0][town], city.centres[1][town]
    district = city.town_district[town]
    for d, area in enumerate(city.shapes):
        rows = district == d
        spread = 0.3 * np.sqrt(area.area / np.sum(city.town_district == d))  # about a township's radius
        lon[rows], lat[rows] = _scatter(rng, area, lon[rows], lat[rows], spread)
    return {"纬度": lat.astype(str).astype(object), "经度": lon.astype(str).astype(object)}


def _scatter(rng: np.random.Generator, area: shapely.Geometry, cx: np.ndarray, cy: np.ndarray, spread: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Points normally scattered around the centres, redrawn until inside `area` (else the centre itself)."""
    x, y = cx.copy(), cy.copy()
    outside = np.ones(len(cx), dtype=bool)
    for _ in range(30):
        k = outside.sum()
        if not k:
            break
        x[outside] = np.round(cx[outside] + rng.normal(0, spread, k), 6)
        y[outside] = np.round(cy[outside] + rng.normal(0, spread, k), 6)
        outside[outside] = ~shapely.contains_xy(area, x[outside], y[outside])
    x[outside], y[outside] = cx[outside], cy[outside]
    return x, y


# --- export formatting --------------------------------------------------------------------------------------

@cache
def _clock() -> np.ndarray:
    """Every second of a day as Excel writes it: " 9:03:00"."""
    return np.array([f" {s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)], dtype=object)


def _export_times(seconds: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Times as Excel writes them, "2025/3/5 9:03:00"; "" where not present."""
    present = np.ones(len(seconds), dtype=bool) if present is None else present
    out = np.full(len(seconds), "", dtype=object)
    if present.any():
        day, second = np.divmod(seconds[present], 86400)
        first = int(day.min())
        dates = [date(1970, 1, 1) + timedelta(days=d) for d in range(first, int(day.max()) + 1)]
        calendar = np.array([f"{d.year}/{d.month}/{d.day}" for d in dates], dtype=object)
        out[present] = calendar[day - first] + _clock()[second]
    return out


# --- the upload sample's bad rows ---------------------------------------------------------------------------

def _with_defects(sample: pd.DataFrame) -> pd.DataFrame:
    """The sample with ten rows broken, one per kind of mistake (data/samples/README.md lists them)."""
    f = sample.copy()
    taken: set[int] = set()
    called_back = f["是否有效回访"].eq("是").to_numpy()

    def row(start: int, suits: np.ndarray | None = None) -> int:
        """The first row from `start` on that suits the mistake and is not broken already."""
        r = next(i for i in range(start, len(f)) if (suits is None or suits[i]) and i not in taken)
        taken.add(r)
        return r

    f.loc[row(10), "来电时间"] = "2025/2/30 10:15:00"  # there is no 30 February
    r = row(40)  # a typo in the year; the order is still open so that only the call time is wrong
    f.loc[r, "来电时间"] = f.loc[r, "来电时间"].replace(f"{_SAMPLE_YEAR}/", "2052/", 1)
    f.loc[r, ["工单状态", "联系时间", "办结时间", "截止时间", "是否有效回访", "是否联系", "是否解决", "是否满意"]] = [
        "办理中", "", "", "", "", "", "", ""]
    r = row(70, called_back)
    received = pd.to_datetime(f.loc[r, "来电时间"], format="%Y/%m/%d %H:%M:%S")
    f.loc[r, "办结时间"] = _export_times(np.array([int(received.timestamp()) - 86400]))[0]  # a day before the call
    f.loc[row(100, f["被反映区"].eq("朝阳区").to_numpy()), "被反映区"] = "朝阳"
    f.loc[row(130, f["被反映区"].eq("海淀区").to_numpy()), "被反映街乡镇"] = "望京街道"  # it is in 朝阳区
    r = row(160)
    f.loc[r, ["纬度", "经度"]] = f.loc[r, ["经度", "纬度"]].to_numpy()  # swapped columns land far outside
    f.loc[row(190, called_back), "是否满意"] = "很好"
    f.loc[row(220), "工单编号"] = f.loc[5, "工单编号"]  # row 5 itself stays clean
    f.loc[row(250), "工单编号"] = ""
    f.loc[row(280, called_back), "是否解决"] = "待定"
    return f


DEFAULT_ORDERS = 200_000


def load_demo(engine: Engine, n: int = DEFAULT_ORDERS, seed: int = 2025) -> IngestResult:
    """The demo year loaded through the same ingestion as a real upload; the database is marked synthetic."""
    csv = demo_orders(n, seed).to_csv(index=False).encode("utf-8")
    result = ingest_file(engine, csv, f"合成示例数据_{n}条_seed{seed}.csv", user="示例数据（合成）")
    set_setting(engine, "synthetic", "1")
    return result
