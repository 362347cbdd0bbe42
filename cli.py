"""接诉即办考评看板 — 命令行：与看板同一套核心（导入、示例数据、指标）。

    python cli.py ingest FILE [--mapping PRESET_OR_TOML] [--db URL] [--json] [--max-mb N]
    python cli.py demo [--orders N] [--seed S] [--db URL]
    python cli.py population FILE [--db URL]
    python cli.py boundaries FILE.geojson [--db URL]
    python cli.py metrics --period YYYY-MM --level district|street|unit [--scheme NAME] [--json]
    python cli.py report --period YYYY-MM --out FILE.xlsx [--html FILE.html] [--scheme NAME]
    python cli.py whistles ingest FILE | demo [--whistles N] | report --year YYYY --out FILE.xlsx
    python cli.py user add NAME --role admin|evaluator|district|township [--district D] [--township T]
    python cli.py alerts --period YYYY-MM [--district NAME] [--json]
    python cli.py daily --date YYYY-MM-DD [--week] [--out FILE.xlsx]
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date
from pathlib import Path

from store.auth import ROLE_LABELS, AccountError, add_user
from store.db import connect
from store.ingest import IngestResult, ingest_file
from store.mapping import load_mapping
from store.read import FileError, check_size
from store.reference import load_boundaries, load_population


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except FileError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"错误：找不到文件「{exc.filename}」。", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description="接诉即办考评看板 命令行")
    commands = parser.add_subparsers(required=True, metavar="命令")

    ingest = commands.add_parser("ingest", help="导入工单文件（CSV/XLSX）")
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--mapping", help="列映射：预设名（beijing12345、nyc311、open311）或 .toml 路径")
    ingest.add_argument("--profile", help="新数据库采用的城市档案（默认 beijing；none 表示不校验单位）")
    ingest.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    # No limit by default: the command line streams a file of any size (a city's year) in bounded memory; the
    # page's limit guards the server's memory, which holds an uploaded file whole.
    ingest.add_argument("--max-mb", type=int, help="拒收大于此大小（MB）的文件（默认不限，网页上传另有上限）")
    ingest.set_defaults(run=_ingest)

    demo = commands.add_parser("demo", help="生成并导入一年的合成示例数据（北京）")
    demo.add_argument("--orders", type=int, default=200_000)
    demo.add_argument("--seed", type=int, default=2025)
    demo.set_defaults(run=_demo)

    population = commands.add_parser("population", help="导入人口表（区、街乡镇、人口）")
    population.add_argument("file", type=Path)
    population.set_defaults(run=_population)

    bounds = commands.add_parser("boundaries", help="导入街乡镇边界（GeoJSON）")
    bounds.add_argument("file", type=Path)
    bounds.add_argument("--name-property", default="name")
    bounds.set_defaults(run=_boundaries)

    metrics = commands.add_parser("metrics", help="某考核周期的三率、得分与排名")
    metrics.add_argument("--period", required=True, help="考核周期，如 2025-03")
    metrics.add_argument("--level", choices=["district", "street", "unit"], default="district",
                         help="district 区；street 街乡镇；unit 承办单位")
    metrics.add_argument("--scheme", help="考评方案（data/schemes/ 中的文件名；默认为默认方案）")
    metrics.add_argument("--json", action="store_true", help="每个单位输出一行 JSON")
    metrics.set_defaults(run=_metrics)

    monthly = commands.add_parser("report", help="某考核周期的排名通报：Excel 工作簿，另可生成可打印的网页")
    monthly.add_argument("--period", required=True, help="考核周期，如 2025-03")
    monthly.add_argument("--out", required=True, type=Path, help="Excel 文件（.xlsx）")
    monthly.add_argument("--html", type=Path, help="另存可打印的网页（.html，图表内嵌，无需联网）")
    monthly.add_argument("--scheme", help="考评方案（data/schemes/ 中的文件名或自建方案名；默认为默认方案）")
    monthly.set_defaults(run=_report)

    user = commands.add_parser("user", help="看板账号")
    user_commands = user.add_subparsers(required=True, metavar="操作")
    add = user_commands.add_parser("add", help="新建账号（密码在提示符下输入两次，或用 --password-stdin 从标准输入读取）")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=list(ROLE_LABELS),
                     help="、".join(f"{k} {v}" for k, v in ROLE_LABELS.items()))
    add.add_argument("--district", help="区级、街乡镇查看账号的区")
    add.add_argument("--township", help="街乡镇查看账号的街乡镇")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    add.add_argument("--db", help="数据库 URL（覆盖环境变量 DATABASE_URL）")
    add.set_defaults(run=_user_add)

    alerts = commands.add_parser("alerts", help="某考核周期的预警：受理量异常升高的 街乡镇 × 一级分类")
    alerts.add_argument("--period", required=True, help="考核周期，如 2025-03")
    alerts.add_argument("--district", help="只看一个区")
    alerts.add_argument("--scheme", help="考评方案（决定考核周期的划分；默认为默认方案）")
    alerts.add_argument("--json", action="store_true", help="每条预警输出一行 JSON")
    alerts.set_defaults(run=_alerts)

    daily = commands.add_parser("daily", help="日通报（--week：截至该日的 7 天周汇总）：文本，另可存为 Excel")
    daily.add_argument("--date", required=True, type=_day, help="日期，如 2025-03-05")
    daily.add_argument("--week", action="store_true", help="周汇总：截至该日的 7 天")
    daily.add_argument("--out", type=Path, help="另存为 Excel 文件（.xlsx）")
    daily.add_argument("--scheme", help="考评方案（默认为默认方案）")
    daily.set_defaults(run=_daily)

    whistles = commands.add_parser("whistles", help="吹哨报到：导入哨单文件、示例数据、年度双考评表")
    whistle_commands = whistles.add_subparsers(required=True, metavar="子命令")
    whistle_ingest = whistle_commands.add_parser("ingest", help="导入哨单文件（CSV/XLSX，每行一个报到部门）")
    whistle_ingest.add_argument("file", type=Path)
    whistle_ingest.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    whistle_ingest.set_defaults(run=_whistles_ingest)
    whistle_demo = whistle_commands.add_parser("demo", help="生成并导入延庆区一年的吹哨报到合成示例数据")
    whistle_demo.add_argument("--whistles", type=int, default=1200)
    whistle_demo.add_argument("--seed", type=int, default=2025)
    whistle_demo.add_argument("--year", type=int, default=2025)
    whistle_demo.set_defaults(run=_whistles_demo)
    whistle_report = whistle_commands.add_parser("report", help="年度双考评表（.xlsx：部门、街乡镇）")
    whistle_report.add_argument("--year", required=True, type=int)
    whistle_report.add_argument("--out", required=True, type=Path, help="Excel 文件（.xlsx）")
    whistle_report.set_defaults(run=_whistles_report)
    for sub in (whistle_ingest, whistle_demo, whistle_report):
        sub.add_argument("--db", help="数据库 URL（覆盖环境变量 DATABASE_URL）")

    for sub in (ingest, demo, population, bounds, metrics, monthly, alerts, daily):
        sub.add_argument("--db", help="数据库 URL（覆盖环境变量 DATABASE_URL）")
    return parser


def _user_add(args) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("密码：")
        if getpass.getpass("再次输入密码：") != password:
            print("错误：两次输入的密码不一致。", file=sys.stderr)
            return 2
    try:
        access = add_user(connect(args.db), args.name, args.role, password, args.district, args.township)
    except AccountError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"已新建账号「{access.user}」（{ROLE_LABELS[access.role]}，可查看 {access.area}）。看板从此需要登录。")
    return 0


def _ingest(args) -> int:
    profile = args.profile or load_mapping(args.mapping).get("profile")
    if args.max_mb:
        check_size(args.file, args.max_mb)
    result = ingest_file(connect(args.db, profile), args.file, args.file.name, args.mapping)
    _print_result(result, args.json)
    return 0


def _print_result(result: IngestResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"read": result.read, "accepted": result.accepted, "rejected": result.rejected,
                          "upload_id": result.upload_id, "inserted": result.inserted, "updated": result.updated,
                          "duplicate_of": result.duplicate_of}, ensure_ascii=False))
        return
    print(result.summary())
    for p in result.problems.head(20).itertuples(index=False):
        print(f"  第 {p.row} 行「{p.column}」：{p.reason}（{p.value}）")
    if len(result.problems) > 20:
        print(f"  …… 共 {len(result.problems)} 处问题，完整清单可在看板「数据上传」页下载。")


def _demo(args) -> int:
    from store.demo import load_demo  # the generator is only needed here

    result = load_demo(connect(args.db), args.orders, args.seed)
    print("已载入合成示例数据（非真实工单）：" + result.summary())
    return 0


def _population(args) -> int:
    count = load_population(connect(args.db), args.file.read_bytes(), args.file.name)
    print(f"已导入 {count} 个单位的人口。")
    return 0


def _boundaries(args) -> int:
    count = load_boundaries(connect(args.db), args.file.read_bytes(), args.name_property)
    print(f"已导入 {count} 个街乡镇边界。")
    return 0


_METRIC_COLUMNS = ["peer_group", "unit", "district", "township", "handler_type", "handler", "status",
                   "orders", "closed", "callbacks", "contacted", "resolved", "satisfied", "basic_satisfied",
                   "response_rate", "response_low", "response_high", "resolution_rate", "resolution_low",
                   "resolution_high", "satisfaction_rate", "satisfaction_low", "satisfaction_high",
                   "score", "score_low", "score_high", "rank", "tied", "rank_change", "honour",
                   "period", "scheme", "scheme_hash"]


def _print_json_lines(table) -> None:
    """One JSON object a row, Chinese as written."""
    for record in json.loads(table.to_json(orient="records", force_ascii=False)):
        print(json.dumps(record, ensure_ascii=False))


def _with_scheme(args, compute):
    """(scheme, compute(engine, scheme)) for the command's --scheme and --db; None when a ValueError (a period or
    scheme the user wrote wrong) was printed as a Chinese message."""
    from metrics import load_scheme  # pandas-heavy modules load only for the commands that compute

    try:
        scheme = load_scheme(args.scheme) if args.scheme else load_scheme()
        return scheme, compute(connect(args.db), scheme)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return None


def _metrics(args) -> int:
    from figures.overview import ranking
    from metrics import COLUMN_LABELS

    computed = _with_scheme(args, lambda engine, scheme: ranking(engine, scheme, args.period, args.level))
    if computed is None:
        return 2
    scheme, table = computed
    table = table[[c for c in _METRIC_COLUMNS if c in table.columns]]
    if args.json:
        _print_json_lines(table)
        return 0
    print(f"考核周期 {args.period} · 考评方案 {scheme.title}（{scheme.content_hash}）")
    shown = table[["peer_group", "unit", "orders", "callbacks", "response_rate", "resolution_rate",
                   "satisfaction_rate", "score", "rank", "status"]].rename(columns=COLUMN_LABELS)
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _report(args) -> int:
    from metrics import load_scheme  # metrics, workbook and chart libraries load only for this command
    from report import build_report
    from report.html import page
    from report.xlsx import workbook
    from store.audit import EXPORTED, record_now

    try:
        scheme = load_scheme(args.scheme) if args.scheme else load_scheme()
        engine = connect(args.db)
        built = build_report(engine, scheme, args.period)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    args.out.write_bytes(workbook(built))
    written = [args.out]
    if args.html:
        args.html.write_text(page(built), encoding="utf-8")
        written.append(args.html)
    record_now(engine, "命令行", EXPORTED, f"{'、'.join(p.name for p in written)}（方案指纹 {scheme.content_hash}）")
    print(f"考核周期 {args.period} · 考评方案 {scheme.title}（{scheme.content_hash}）：已写入 "
          + "、".join(map(str, written)))
    if built.synthetic:
        print("注意：数据库中为合成示例数据，并非真实工单。")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"日期应写作“年-月-日”，如 2025-03-05，现为「{text}」") from err


_ALERT_COLUMNS = {"district": "区", "township": "街乡镇", "category1": "一级分类", "orders": "受理量",
                  "expected": "预期", "ratio": "倍数", "q_value": "q 值", "strength": "强度"}


def _alerts(args) -> int:
    from figures.alerts import alerts, missing_history
    from store.query import day_range

    def computed_alerts(engine, scheme):
        first_day = (day_range(engine) or (date.min, None))[0]  # an empty database: no alerts, no complaint
        reason = missing_history(first_day, scheme, period=args.period)
        return reason, None if reason else alerts(engine, scheme, args.period, args.district)

    computed = _with_scheme(args, computed_alerts)
    if computed is None:
        return 2
    reason, found = computed[1]
    if reason:
        print(reason, file=sys.stderr)  # nothing on standard output: no alert lines, --json or not
        return 0
    table = found[[*_ALERT_COLUMNS, "history", "slot_label"]].rename(columns={"slot_label": "period"})
    if args.json:
        _print_json_lines(table)
        return 0
    print(f"考核周期 {args.period} · 范围 {args.district or '全市'} · 预警 {len(table)} 条（按强度排序）")
    if len(table):
        shown = table[list(_ALERT_COLUMNS)].rename(columns=_ALERT_COLUMNS)
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0


def _daily(args) -> int:
    from figures.bulletin import bulletin
    from report.daily import bulletin_text, bulletin_workbook

    computed = _with_scheme(args, lambda engine, scheme: bulletin(engine, scheme, args.date, 7 if args.week else 1))
    if computed is None:
        return 2
    built = computed[1]
    print(bulletin_text(built))
    if args.out:
        args.out.write_bytes(bulletin_workbook(built))
        print(f"已写入 {args.out}")
    return 0


def _whistles_ingest(args) -> int:
    from store.whistles import ingest_whistles

    _print_result(ingest_whistles(connect(args.db), args.file.read_bytes(), args.file.name), args.json)
    return 0


def _whistles_demo(args) -> int:
    from store.whistle_demo import load_whistle_demo

    result = load_whistle_demo(connect(args.db), args.whistles, args.seed, args.year)
    print("已载入吹哨报到合成示例数据（非真实哨单）：" + result.summary())
    return 0


def _whistles_report(args) -> int:
    from datetime import datetime

    from figures.whistles import department_ranking, load_whistle_scheme, township_ranking
    from metrics import load_scheme
    from report.whistles import about, workbook
    from store.db import setting

    engine, scheme, rules = connect(args.db), load_scheme(), load_whistle_scheme()
    book = workbook(department_ranking(engine, scheme, args.year), township_ranking(engine, scheme, args.year),
                    about(args.year, rules, setting(engine, "synthetic") == "1", datetime.now()))
    args.out.write_bytes(book)
    print(f"{args.year} 年吹哨报到双考评（{rules.title}，{rules.content_hash}）：已写入 {args.out}")
    return 0




if __name__ == "__main__":
    sys.exit(main())
