"""A synthetic year of 延庆区 吹哨报到, shaped like the district's system: its 18 townships (names from the
city profile), 74 district departments, 57 local stations and 20 public-service companies. Invented
numbers, deterministic for a seed; loaded through the same ingestion as an uploaded whistle file, so
the demo also exercises validation. Whistles from the hotline name real order ids of the demo city.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from metrics.whistles import DEPARTMENT_TYPES, LEVELS, SOURCES
from store.db import set_setting
from store.profile import load_profile
from store.whistles import WhistleResult, hotline_order_ids, ingest_whistles

DISTRICT = "延庆区"
DEFAULT_WHISTLES = 1200
DEFAULT_YEAR = 2025  # the year of the order demo (store.demo), so that hotline whistles link to its orders

_DISTRICT_DEPARTMENTS = (
    "发展改革委", "教委", "科委", "经济信息化局", "公安分局", "民政局", "司法局", "财政局", "人力社保局", "规划自然资源分局", "生态环境局", "住房城乡建设委",
    "城市管理委", "交通局", "水务局", "农业农村局", "商务局", "文化和旅游局", "卫生健康委", "退役军人事务局", "应急管理局", "审计局", "国资委", "市场监管局", "统计局",
    "园林绿化局", "城管执法局", "医保局", "体育局", "政务服务局", "信访办", "民族宗教办", "残联", "妇联", "团委", "总工会", "红十字会", "科协", "气象局",
    "消防救援支队", "公安交通支队", "税务局", "人防办", "档案馆", "融媒体中心", "住房保障中心", "房屋管理中心", "供销社", "机关事务局", "粮食和物资储备局", "金融办",
    "投资促进局", "冬奥办", "世园局", "长城保护办", "乡村振兴局", "地震局", "城市运行中心", "网格化服务中心", "疾控中心", "不动产登记中心", "征收办", "重点工程办",
    "停车管理中心", "公路分局", "河长办", "林长办", "防汛办", "食品药品安全办", "流动人口管理办", "社会工作部", "营商环境办", "老龄办", "农业服务中心",
)
_STATIONS = ("派出所", "司法所", "市场监管所")  # one of each per township: 54, and 3 tax offices
_COMPANIES = (
    "国网北京延庆供电公司", "延庆区自来水公司", "延庆区燃气公司", "延庆区热力公司", "中国移动延庆分公司", "中国联通延庆分公司", "中国电信延庆分公司", "歌华有线延庆分公司",
    "北京公交集团延庆客运分公司", "延庆区排水公司", "延庆区环卫集团", "延庆区城市建设投资公司", "延庆区物业管理公司", "北京铁塔延庆分公司", "延庆区邮政分公司", "延庆区交通运输集团",
    "延庆区清洁能源公司", "延庆区水务投资公司", "延庆区园林绿化工程公司", "中石化延庆石油分公司",
)
_PACE_HOURS = {"普通哨": 24, "重点哨": 2, "疑难哨": 12}  # the demo's own pace; the configured limits judge it
# Problem category -> the type of department first called for it.
_CATEGORIES = {"环境卫生": 0, "违法建设": 0, "市政设施": 0, "道路交通": 0, "农村管理": 0, "物业管理": 0,
               "治安秩序": 1, "市场监管": 1, "矛盾纠纷": 1, "供水": 2, "供电": 2, "供暖": 2, "燃气": 2, "通信": 2}


def departments(townships: list[str]) -> pd.DataFrame:
    """The demo's 151 departments: name, department_type, township (stations only)."""
    short = [t.removesuffix("街道").removesuffix("镇").removesuffix("乡") for t in townships]
    rows = [(f"区{d}", DEPARTMENT_TYPES[0], None) for d in _DISTRICT_DEPARTMENTS]
    rows += [(f"{s}{kind}", DEPARTMENT_TYPES[1], t) for t, s in zip(townships, short) for kind in _STATIONS]
    rows += [(f"区税务局第{n}税务所", DEPARTMENT_TYPES[1], None) for n in "一二三"]
    rows += [(c, DEPARTMENT_TYPES[2], None) for c in _COMPANIES]
    return pd.DataFrame(rows, columns=["name", "department_type", "township"])


def demo_whistles(n: int = DEFAULT_WHISTLES, seed: int = 2025, year: int = DEFAULT_YEAR,
                  order_ids: list[str] | None = None) -> pd.DataFrame:
    """A whistle file as the district's system would export it: one row per department called."""
    rng = np.random.default_rng(seed)
    profile = load_profile("beijing").townships
    townships = profile.loc[profile["district"] == DISTRICT, "name"].tolist()
    units = departments(townships)
    skill = {name: rng.uniform(0.55, 0.98, 3) for name in units["name"]}  # on time, resolves, satisfies
    start = pd.Timestamp(year, 1, 1)
    shares = rng.uniform(0.5, 2.0, len(townships))  # the urban streets and big towns blow more
    pools = _pools(units)
    rows = []
    for i in range(n):
        township = townships[rng.choice(len(townships), p=shares / shares.sum())]
        blown = start + pd.Timedelta(minutes=int(rng.integers(0, 365 * 24 * 60)))
        level = LEVELS[rng.choice(3, p=[0.7, 0.2, 0.1])]
        source = SOURCES[rng.choice(3, p=[0.4, 0.35, 0.25])]
        category = list(_CATEGORIES)[rng.integers(len(_CATEGORIES))]
        order_id = order_ids[rng.integers(len(order_ids))] if source == SOURCES[0] and order_ids else ""
        district_at = blown + pd.Timedelta(days=float(rng.uniform(1, 5)))
        escalated = rng.random() < (0.35 if level == LEVELS[2] else 0.02)
        to_city = escalated and rng.random() < 0.25
        closed = rng.random() < 0.92
        whistle = {
            "哨单编号": f"YQ{year}{i + 1:05d}", "街乡镇": township, "吹哨时间": f"{blown:%Y-%m-%d %H:%M}",
            "哨级": level, "来源": source, "工单编号": order_id, "问题分类": category,
            "问题描述": f"{township}{category}问题，需相关部门协同处置"
                        + ("，联系人电话13912345678" if rng.random() < 0.05 else ""),
            "升级区级时间": f"{district_at:%Y-%m-%d %H:%M}" if escalated else "",
            "升级市级时间": f"{district_at + pd.Timedelta(days=3):%Y-%m-%d %H:%M}" if to_city else "",
            "结案时间": f"{blown + pd.Timedelta(days=float(rng.uniform(1, 30))):%Y-%m-%d %H:%M}" if closed else "",
            "街乡同意结案": ("是" if rng.random() < 0.9 else "否") if closed else "",
        }
        for name, kind in _called(rng, pools, category, township):
            on_time, resolves, satisfies = skill[name]
            limit = _PACE_HOURS[level]
            late = rng.random() > on_time
            reported = None if rng.random() < 0.03 else blown + pd.Timedelta(
                hours=limit * float(rng.uniform(1.1, 3) if late else rng.uniform(0.1, 1)))
            judged = rng.random() > 0.05  # the township has not judged every call
            solved = rng.random() < resolves
            rows.append(whistle | {
                "报到部门": name, "部门类型": kind, "报到时间": f"{reported:%Y-%m-%d %H:%M}" if reported else "",
                "是否报到": _yes(reported is not None) if judged else "",
                "是否解决": _yes(solved) if judged else "",
                "是否满意": _yes(solved and rng.random() < satisfies + 0.05) if judged else "",
            })
    return pd.DataFrame(rows)


def _pools(units: pd.DataFrame) -> dict[str, list[str]]:
    """Department names by type; under a township's name its own stations and the tax offices serving all."""
    pools = {kind: rows["name"].tolist() for kind, rows in units.groupby("department_type")}
    shared = units.loc[(units["department_type"] == DEPARTMENT_TYPES[1]) & units["township"].isna(), "name"].tolist()
    by_township = units.dropna(subset=["township"]).groupby("township")["name"]
    return pools | {t: [*names, *shared] for t, names in by_township.agg(list).items()}


def _called(rng: np.random.Generator, pools: dict[str, list[str]], category: str,
            township: str) -> list[tuple[str, str]]:
    """One to three departments: first one of the category's type (a station of the whistle's own township),
    then district departments."""
    kind = DEPARTMENT_TYPES[_CATEGORIES[category]]
    first = pools[township if kind == DEPARTMENT_TYPES[1] else kind]
    district = pools[DEPARTMENT_TYPES[0]]
    extra = rng.choice(len(district), size=int(rng.choice(3, p=[0.45, 0.4, 0.15])), replace=False)
    called = [(first[rng.integers(len(first))], kind), *((district[j], DEPARTMENT_TYPES[0]) for j in extra)]
    return list(dict.fromkeys(called))


def _yes(value: bool) -> str:
    return "是" if value else "否"


def load_whistle_demo(engine: Engine, n: int = DEFAULT_WHISTLES, seed: int = 2025,
                      year: int = DEFAULT_YEAR) -> WhistleResult:
    """The demo year loaded through the same ingestion as an uploaded file; the database is marked synthetic."""
    ids = hotline_order_ids(engine, DISTRICT, date(year, 1, 1), date(year, 12, 31))
    csv = demo_whistles(n, seed, year, ids).to_csv(index=False).encode("utf-8-sig")
    result = ingest_whistles(engine, csv, f"吹哨报到合成示例_{DISTRICT}_{year}_{n}张_seed{seed}.csv", user="示例数据（合成）")
    set_setting(engine, "synthetic", "1")
    return result
