"""``sanzi``: the command line. User-facing text is Chinese; errors name the file, row and column."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from pathlib import Path

from .masking import mask_text
from .web.auth import AuthError

EXIT_FATAL = 2


def _prefect_defaults() -> None:
    # At the edge, before Prefect is imported: a quiet, patient temporary server on a 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _clip(s: str, w: int) -> str:
    out, n = "", 0
    for ch in s:
        cw = _width(ch)
        if n + cw > w - 1 and _width(s) > w:
            return out + "…"
        out += ch
        n += cw
    return out


def table(headers: list[str], rows: list[list], max_width: int = 60) -> str:
    cells = [[_clip(str(c), max_width) for c in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(vals):
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(vals, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


# ---- commands ------------------------------------------------------------------------------------

def cmd_synth(a) -> int:
    from .config import load_config
    from .synth import SynthOptions, generate, truth_dir, write

    def progress(i, n):
        if i == n or i % max(1, n // 10) == 0:
            print(f"  生成村庄 {i}/{n}", file=sys.stderr)

    if a.counties:
        from .synth.province import write_province

        out = write_province(a.out, a.counties, a.villages, a.seed, progress=lambda m: print(f"  {m}", file=sys.stderr))
        print(f"省级数据源目录: {out}（{a.counties} 个县，配置 {out / 'province.yaml'}，跨县真值 {out / 'truth.csv'}）")
        return 0
    opts = SynthOptions(villages=a.villages, seed=a.seed, year=a.year, hard=a.hard, bank=a.bank,
                        registers=a.registers)
    config = load_config(a.config)
    res = generate(opts, config, progress=progress)
    out = write(res, a.out, messy=a.messy, seed=a.seed, fmt=a.format, config=config)
    rows = [[k, len(v)] for k, v in res.tables.items()]
    print(table(["表", "行数"], rows))
    print(f"注入疑点案例 {res.truth['case_id'].nunique()} 个（{truth_dir(out) / 'truth.csv'}），"
          f"相似但正常的记录 {len(res.lookalikes)} 条（{truth_dir(out) / 'lookalikes.csv'}）")
    print(f"数据源目录: {out}")
    if a.format != "canonical":
        print(f"县配置（含村级区划目录）: {out / '_county' / 'county.yaml'}\n"
              f"运行: sanzi run --source {out} --config {out / '_county' / 'county.yaml'}")
    return 0


def cmd_inspect(a) -> int:
    """What the reader makes of each file: family and profile, header, column mapping, village, rows."""
    from .config import load_config
    from .imports import reader

    config = load_config(a.config)
    settings = reader.ImportSettings.from_config(config)
    target = Path(a.path)
    if not target.exists():
        raise SourceArgError(f"路径不存在: {target}")
    if target.is_file():
        root, paths = target.parent, [target]
    else:
        root = target
        paths, other = reader.candidate_files(target, settings)
        for o in other:
            print(f"跳过（不是表格文件）: {o.relative_to(root)}")
    bad = 0
    _parts, reports = reader.read_paths(paths, root, settings)
    for rep in reports:
        print(f"\n■ {rep.path}（{rep.format or '?'}{'，' + rep.encoding if rep.encoding else ''}）")
        if rep.problem:
            print(f"  ✗ {rep.problem}")
            bad += 1
        for s in rep.sheets:
            print(f"  工作表“{s.sheet}”: " + (f"{s.profile_title}（{s.profile}）→ 表 {s.table}" if s.profile else "未识别"))
            for n in s.notes:
                print(f"    {n}")
            if s.problem:
                print(f"    ✗ {s.problem}")
                bad += 1
                for t in s.tried[: a.tried]:
                    print(f"      已尝试 {t}")
            if not s.profile:
                continue
            if s.header_rows:
                print(f"    表头: 第 {'、'.join(map(str, s.header_rows))} 行")
            print("    列: " + "；".join(f"{h} → {f}" for h, f in s.mapping.items()))
            if s.ignored:
                print(f"    未对应字段的列（原样保存在 extra 中）: {'、'.join(s.ignored)}")
            if s.duplicates:
                print(f"    重复的列（未使用）: {'、'.join(s.duplicates)}")
            print(f"    村: {s.village_code or '-'} {s.village_name or ''}（{s.village_how}）")
            layout = "，".join(f"{LAYOUT_LABELS.get(k, k)} {v}" for k, v in s.layout.items()) or "无"
            print(f"    数据行 {s.data_rows}；版式行: {layout}")
            for r in s.sample[: a.rows]:
                shown = {k: v for k, v in r.items() if v not in ("", None) and k != "extra"}
                print(f"    例: {mask_text(json.dumps(shown, ensure_ascii=False))}")
    print(f"\n共 {len(paths)} 个文件" + (f"，{bad} 处无法读取或无法确定村（见 ✗）" if bad else "，全部可读取"))
    return 1 if bad else 0


LAYOUT_LABELS = {"title": "标题行", "header": "表头行", "blank": "空行", "subtotal": "小计/合计行", "end": "以下空白",
                 "signature": "签字行", "section": "分类标题行"}


def _run(source: str, db: str | None, config: str | None, **limits):
    from . import store
    from .config import load_config
    from .sources import check_source

    check_source(source)  # user errors surface in a second, not after a server start
    load_config(config)
    store.check_run_lock(store.connect(db))
    _prefect_defaults()
    from .prefect_server import start_temporary_server

    start_temporary_server()  # before Prefect is imported: it reads PREFECT_API_URL then
    from .flows.nightly import nightly

    return nightly(source=source, db=db, config_path=config, **limits)


def print_summary(s) -> None:
    print(f"\n运行 #{s.run_id}: {'成功' if s.status == 'success' else '部分完成' if s.status == 'partial' else s.status}")
    rows = [[c.table, Path(c.file).name, c.read + c.unchanged, c.loaded, c.quarantined, c.warned, c.unchanged,
             getattr(c, "layout", 0)] for c in s.counts]
    print(table(["表", "文件", "读取", "入库", "隔离", "入库但有警告", "未变化（已跳过）", "版式行"], rows))
    if any(getattr(c, "layout", 0) for c in s.counts):
        print("  版式行: 标题、表头、小计/合计、空行、签字等不是数据的行，单独计数（每个数据行都已入库或隔离）")
    if s.scope:
        print(f"  范围: {s.scope}；范围外跳过的行: " + (", ".join(f"{k} {v}" for k, v in s.skipped.items()) or "无"))
    for p in s.problems:
        print(f"  问题: {p}")
    if s.quarantine_examples:
        print("  隔离的行（示例）:")
        for q in s.quarantine_examples:
            print(f"    {q}")
    for t in s.absent:
        print(f"  未提供可选表 {t}: 依赖它的检测器已跳过")
    for r in s.detectors:
        if r.status != "ran":
            print(f"  检测器 {r.name} {({'skipped': '已跳过', 'disabled': '已停用', 'failed': '失败'})[r.status]}: {r.reason}")
        elif r.reason:
            print(f"  检测器 {r.name} 说明: {r.reason}")
    carried = [r for r in s.detectors if r.status == "ran" and r.carried]
    if carried:
        whole = sum(r.carried == "all" for r in carried)
        part = [f"{r.name} {r.carried.split('/')[0]} 个村" for r in carried if r.carried != "all"]
        print(f"  检测: {whole} 个检测器的输入与上次相同，沿用上次结果" +
              (f"；只重新检测了数据有变化的村: {', '.join(part[:6])}{' 等' if len(part) > 6 else ''}" if part else ""))
    print(f"疑点线索 {s.leads_total} 条（新增 {s.leads_new}，更新 {s.leads_updated}，重新打开 {s.leads_reopened}，"
          f"因数据更正关闭 {s.leads_resolved}）；"
          f"各阶段耗时(秒): {json.dumps(s.stages, ensure_ascii=False)}")
    if s.feedback:
        per: dict[str, list[int]] = {}
        for f in s.feedback:
            agg = per.setdefault(f["detector"], [0, 0])
            agg[0] += f["reviewed"]
            agg[1] += f["confirmed"]
        print("  核查反馈（已给出结论的线索中属实/移交的比例）: " +
              "；".join(f"{d} {c}/{n}={c / n:.0%}" for d, (n, c) in sorted(per.items())))
    from .sources import safe_url

    print(f"审查库: {safe_url(s.db_url)}")
    if s.data_docs:
        print(f"数据校验报告 (Data Docs): {Path(s.data_docs).resolve().as_uri()}")


def cmd_run(a) -> int:
    import datetime as dt

    limits: dict = {}
    try:
        for k in ("period_start", "period_end"):
            if getattr(a, k):
                limits[k] = dt.date.fromisoformat(getattr(a, k))
    except ValueError as exc:
        raise SourceArgError(f"日期应为 2024-01-01 格式: {exc}") from exc
    if a.townships:
        limits["townships"] = [t.strip() for t in a.townships.replace("，", ",").split(",") if t.strip()]
        bad = [t for t in limits["townships"] if not (t.isdigit() and len(t) in (9, 12))]
        if bad:
            raise SourceArgError(f"--townships 应为 9 位乡镇代码或 12 位村代码: {', '.join(bad)}")
    if a.full:
        limits["full"] = True
    s = _run(a.source, a.db, a.config, **limits)
    print_summary(s)
    return 0


def cmd_province(a) -> int:
    from .province import load_province

    prov = load_province(a.config)  # a bad province or county config fails here, before any server starts
    for c in prov.counties:
        from .sources import check_source

        check_source(c.source)
    _prefect_defaults()
    from .prefect_server import start_temporary_server

    start_temporary_server()
    from .flows.province import run_province

    s = run_province(a.config)
    rows = [[c["name"], c["status"], f"{sum(c['rows'].values()):,}", c["leads"], c["seconds"], f"{c['peak_rss_mb']:,.0f}",
             c["message"]] for c in s["counties"]]
    print(f"省级运行 {s['province']}: {s['status']}，总耗时 {s['wall_seconds']} 秒")
    print(table(["县", "状态", "读取行数", "线索", "秒", "峰值内存MB", "说明"], rows))
    cc = s.get("cross_county") or {}
    if cc:
        print(f"跨县疑点 {cc['leads']} 条（新增 {cc['new']}），审查库: {prov.db}")
    return 0 if s["status"] != "failed" else 1


def cmd_leads(a) -> int:
    import sqlalchemy as sa

    from . import store

    engine = store.connect(a.db)
    q = sa.select(store.leads).where(store.leads.c.rank.is_not(None)).order_by(store.leads.c.rank).limit(a.top)
    if a.detector:
        q = q.where(store.leads.c.detector == a.detector)
    if a.village:
        q = q.where(store.leads.c.village_code == a.village)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    if not rows:
        print("没有当前的疑点线索。")
        return 0
    from .registry import detector_titles

    titles = detector_titles()
    names = store.place_names(engine)  # 新塘村, not 330599101200, where the night learned the name
    print(table(["排名", "检测器", "村", "分数", "涉及金额", "状态", "标题"],
                [[r["rank"], titles.get(r["detector"], r["detector"]), names.get(r["village_code"], r["village_code"]),
                  f"{r['score']:.2f}", f"{r['amount_at_risk']:,.0f}",
                  store.STATUS_LABELS.get(r["status"], r["status"]), r["title"]] for r in rows]))
    if a.explain:
        for r in rows:
            print(f"\n#{r['rank']} {r['title']}\n  {r['explanation']}")
    return 0


def cmd_demo(a) -> int:
    from .config import load_config
    from .synth import SynthOptions, generate, truth_dir, write

    base = Path(a.dir).resolve()
    src = base / "source"
    db = base / "sanzi.db"
    if db.exists():
        db.unlink()
    fmt = getattr(a, "format", "mixed")
    print(f"1/2 生成演示县数据（{a.villages} 个村，{'金蝶/用友/三资系统导出版式' if fmt != 'canonical' else '数据规范格式'}）…",
          file=sys.stderr)
    config = load_config()
    # the whole of what a county can send: books, rolls, registers, bank statements, decision records
    write(generate(SynthOptions(villages=a.villages, seed=a.seed, bank=True, registers=True), config), src,
          messy=fmt == "canonical",
          seed=a.seed, fmt=fmt, config=config)
    county = src / "_county" / "county.yaml"
    print("2/2 运行夜间流程（首次启动 Prefect 临时服务约需 15 秒）…", file=sys.stderr)
    s = _run(str(src), str(db), str(county) if county.exists() else None)
    print_summary(s)
    print("\n排名前 15 的疑点线索:")
    cmd_leads(argparse.Namespace(db=str(db), top=15, detector=None, village=None, explain=False))
    print(f"\n审查库（SQLite）: {db}\n查看更多: sanzi leads --db {db} --top 50 --explain\n"
          f"评估: sanzi eval --truth {truth_dir(src) / 'truth.csv'} --db {db}")
    return 0


def cmd_eval(a) -> int:
    import pandas as pd

    from . import store
    from .evaluate import evaluate

    truth = pd.read_csv(a.truth, dtype=str)
    ks = [int(k) for k in a.k.split(",")]
    look_path = Path(a.lookalikes) if a.lookalikes else Path(a.truth).with_name("lookalikes.csv")
    look = pd.read_csv(look_path, dtype=str) if look_path.exists() else None
    r = evaluate(store.connect(a.db), truth, ks, baseline=not a.no_baseline, lookalikes=look)
    base = {t.fraud_type: t for t in r.baseline_types}
    rows = []
    for t in r.types:
        b = base.get(t.fraud_type)
        rows.append([t.fraud_type, t.injected, t.found, f"{t.recall:.2f}", f"{t.recall_any:.2f}",
                     f"{b.recall:.2f}" if b else "-"])
    print(table(["疑点类型", "注入案例", "发现", "召回率", "宽松召回率", "基线召回率"], rows))
    print(table(["K", "precision@K", "前 K 条中的相似正常记录", "基线 precision@K"],
                [[k, f"{r.precision_at[k]:.2f}", r.lookalikes_at.get(k, "-"),
                  f"{r.baseline_precision_at.get(k, float('nan')):.2f}"] for k in ks]))
    if r.lookalike_kinds:
        print("  前 {} 条中的相似正常记录: {}".format(max(ks), "，".join(f"{k} {n}" for k, n in r.lookalike_kinds.items())))
    print(table(["检测器", "线索数", "命中注入记录的比例"], [[d, n, f"{p:.2f}"] for d, n, p in r.per_detector]))
    if r.claims_model:
        model = {t.fraud_type: t for t in r.claims_model}
        print(f"补贴类疑点：规则 vs PyOD ECOD 模型（模型单独运行，标记 {r.claims_flags[1]} 笔补贴；规则标记 {r.claims_flags[0]} 笔）")
        print(table(["疑点类型", "注入案例", "规则召回率", "模型召回率"],
                    [[t.fraud_type, t.injected, f"{t.recall:.2f}",
                      f"{model[t.fraud_type].recall:.2f}" if t.fraud_type in model else "-"] for t in r.claims_rules]))
    print(f"当前线索 {r.leads} 条。“发现”：同一条线索含该案至少 min(2, 案例记录数) 条记录；“宽松召回率”：任一线索含该案任一记录。"
          "定义见 docs/evaluation.md；基线为 PyOD IsolationForest（分录数值特征）。")
    return 0


def cmd_detectors(a) -> int:
    from .config import load_config
    from .registry import load_detectors, settings

    config = load_config(a.config) if getattr(a, "config", None) else load_config()
    classes = load_detectors()
    if a.names:
        unknown = [n for n in a.names if n not in classes]
        if unknown:
            print(f"没有这个检测器: {', '.join(unknown)}（sanzi detectors 列出全部）", file=sys.stderr)
            return 2
        classes = {n: classes[n] for n in a.names}
    for name, cls in classes.items():
        d = cls.describe()
        s = settings(config, name)
        state = f"权重 {s.weight:g}" + ("" if s.enabled else "，未启用")
        print(f"{name} {d['version']} — {d['title']}（{state}）\n  需要: {', '.join(d['requires']) or '-'}；"
              f"可选: {', '.join(d['uses']) or '-'}")
        if cls.basis:
            print(f"  依据: {cls.basis}")
        for p, v in d["params"].items():
            print(f"    {p} = {v['default']!r}  {v['description']}")
        if a.examples:
            _print_examples(cls, config)
    return 0


def _print_examples(cls, config) -> None:
    """Each worked example: what it shows, its rows, and what the detector makes of it, run now."""
    from .testing import run_example

    if not cls.examples:
        print("  （没有示例）")
    for ex in cls.examples:
        got = run_example(cls, ex, config)
        mark = "✓" if len(got) == ex.leads else "✗"
        print(f"  示例{'（应提示）' if ex.positive else '（不应提示）'}: {ex.label}  {mark} 实得 {len(got)} 条")
        for table, rows in ex.tables.items():
            for r in rows:
                shown = "，".join(f"{k}={v}" for k, v in r.items() if v is not None and k != "village_code")
                print(f"      {table}: {shown}")
        for ld in got[:3]:
            print(f"      → {ld.title}")


def cmd_db(a) -> int:
    from . import migrate, store

    url = store.resolve_url(a.db)
    engine = store.create_engine_for(url)
    try:
        before = migrate.current(engine)
        if a.action == "unlock":
            n = store.release_run_lock(engine, force=True)
            print("已清除运行锁" if n else "没有运行锁")
        elif a.action == "upgrade":
            migrate.upgrade(engine)
            print(f"审查库 {store.safe_url(url)}: {before or '（空）'} → {migrate.current(engine)}")
        else:
            print(f"审查库 {store.safe_url(url)}: 当前版本 {before or '（空）'}，程序需要 {migrate.head()}")
    finally:
        engine.dispose()
    return 0


def cmd_serve(a) -> int:
    import uvicorn

    from . import store
    from .web.app import create_app

    url = store.resolve_url(a.db)
    app = create_app(url, secure_cookie=a.secure_cookie)
    print(f"核查页面: http://{a.host}:{a.port}/ （审查库 {store.safe_url(url)}）；用 sanzi users add 创建账号")
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning")
    return 0


def _password(a, prompt: str = "密码: ") -> str:
    import getpass

    if a.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("再输入一次: ") != first:
        raise AuthError("两次输入的密码不一致")
    return first


def cmd_users(a) -> int:
    from . import store
    from .web import auth

    engine = store.connect(a.db)
    if a.action == "add":
        auth.add_user(engine, a.username, _password(a), a.role, a.scope, a.name, a.unmask)
        print(f"已创建用户 {a.username}（{auth.ROLES[a.role]}，范围 {a.scope}）")
    elif a.action == "disable":
        auth.set_disabled(engine, a.username, True)
        print(f"已停用用户 {a.username}")
    elif a.action == "enable":
        auth.set_disabled(engine, a.username, False)
        print(f"已启用用户 {a.username}")
    elif a.action == "reset":
        auth.reset_password(engine, a.username, _password(a, "新密码: "))
        print(f"已重置用户 {a.username} 的密码并解除锁定")
    else:
        rows = [[u["username"], u["display_name"], auth.ROLES.get(u["role"], u["role"]), ",".join(json.loads(u["scope"])),
                 "是" if u["can_unmask"] else "", "已停用" if u["disabled"] else ""] for u in auth.list_users(engine)]
        print(table(["用户名", "姓名", "角色", "范围", "可查看完整证件号", "状态"], rows))
    return 0


class SourceArgError(ValueError):
    """A command-line argument is malformed."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="sanzi", description="村级三资疑点线索夜间分析流程")
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("synth", help="生成带真值的合成县数据")
    s.add_argument("--out", required=True)
    s.add_argument("--villages", type=int, default=30)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--year", type=int, default=2024)
    s.add_argument("--messy", action="store_true", help="按数据规范写出，但像平台导出一样: GBK、中文表头、XLSX、千分位")
    s.add_argument("--format", default="canonical", choices=["canonical", "kingdee", "yonyou", "sanzi-system", "mixed"],
                   help="canonical: 数据规范格式（每表一个文件）; kingdee/yonyou/sanzi-system/mixed: 按金蝶、用友、三资系统"
                        "真实导出版式写出（乡镇/村文件夹、标题行、一卡通发放表等）")
    s.add_argument("--hard", action="store_true",
                   help="更难的县: 共用账户的不同名称拆分、无合同拆分、经应付款拆分、名称变体、无发票且措辞不同的重复支付、"
                        "亲属经营的店铺；以及相似但正常的分期付款、同一供应商的无关小工程、跨月的固定月付")
    s.add_argument("--bank", action="store_true",
                   help="同时写出各村基本户的银行流水（含账外收支、虚列支出、往返转账等疑点及相似但正常的情形）；"
                        "此时会计分录不再带收款账号，与真实账套一致")
    s.add_argument("--registers", action="store_true",
                   help="同时写出部门登记数据（财政供养人员、车辆、不动产、市场主体及其人员），并注入低保等救助的数据碰撞疑点、"
                        "干部亲属享受选择性救助、多种救助同享、一人多卡、亲属入股企业承揽工程，以及相似但正常的情形")
    s.add_argument("--config")
    s.add_argument("--counties", type=int, default=0, help="生成含 N 个县的省级数据（每县 --villages 个村）")
    s.set_defaults(fn=cmd_synth)

    ins = sub.add_parser("inspect", help="逐个文件说明读取方式: 格式、表头、列对应、所属村、数据行与版式行")
    ins.add_argument("path", help="导出文件所在目录，或单个文件")
    ins.add_argument("--config", help="县配置（含 region.village_directory、imports）")
    ins.add_argument("--rows", type=int, default=2, help="每个工作表显示的解析示例行数")
    ins.add_argument("--tried", type=int, default=3, help="无法识别时列出的已尝试导入格式数")
    ins.set_defaults(fn=cmd_inspect)

    pv = sub.add_parser("province", help="省级运行: 各县并行（Dask），再做跨县比对")
    pv.add_argument("--config", required=True, help="province.yaml")
    pv.set_defaults(fn=cmd_province)

    r = sub.add_parser("run", help="运行夜间流程")
    r.add_argument("--source", required=True, help="导出文件目录，或数据库 URL")
    r.add_argument("--db", help="审查库 SQLAlchemy URL 或 SQLite 文件路径（默认 $SANZI_DB_URL 或 ./sanzi.db）")
    r.add_argument("--config", help="地区配置文件 (YAML)")
    r.add_argument("--from", dest="period_start", help="补跑: 期间起始日期 2024-01-01（此前的行按期外隔离）")
    r.add_argument("--to", dest="period_end", help="补跑: 期间结束日期")
    r.add_argument("--townships", help="只处理这些乡镇（9 位）或村（12 位）代码，逗号分隔")
    r.add_argument("--full", action="store_true", help="全量重跑: 忽略已入库行的指纹，重新读取校验每一行")
    r.set_defaults(fn=cmd_run)

    d = sub.add_parser("demo", help="生成演示县并运行，打印排名靠前的线索")
    d.add_argument("--dir", default="demo")
    d.add_argument("--villages", type=int, default=30)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--format", default="mixed", choices=["canonical", "kingdee", "yonyou", "sanzi-system", "mixed"],
                   help="演示数据的导出版式（默认 mixed: 各村分别为金蝶、用友、三资系统导出）")
    d.set_defaults(fn=cmd_demo)

    ls = sub.add_parser("leads", help="列出当前排名靠前的疑点线索")
    ls.add_argument("--db")
    ls.add_argument("--top", type=int, default=20)
    ls.add_argument("--detector")
    ls.add_argument("--village")
    ls.add_argument("--explain", action="store_true", help="同时打印说明")
    ls.set_defaults(fn=cmd_leads)

    e = sub.add_parser("eval", help="用合成数据真值评估召回率与精确率")
    e.add_argument("--truth", required=True)
    e.add_argument("--lookalikes", help="相似但正常的记录（默认: 与 truth.csv 同目录的 lookalikes.csv）")
    e.add_argument("--db")
    e.add_argument("--k", default="50,100,200")
    e.add_argument("--no-baseline", action="store_true")
    e.set_defaults(fn=cmd_eval)

    db = sub.add_parser("db", help="审查库结构迁移（Alembic）")
    db.add_argument("action", choices=["upgrade", "current", "unlock"],
                    help="unlock: 清除运行锁（仅在确认上一次运行已终止时使用）")
    db.add_argument("--db")
    db.set_defaults(fn=cmd_db)

    sv = sub.add_parser("serve", help="启动核查网页（默认仅本机 127.0.0.1）")
    sv.add_argument("--db")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--secure-cookie", action="store_true", help="经 HTTPS 反向代理提供服务时使用")
    sv.set_defaults(fn=cmd_serve)

    us = sub.add_parser("users", help="管理核查网页账号")
    us.add_argument("action", choices=["add", "disable", "enable", "reset", "list"])
    us.add_argument("username", nargs="?")
    us.add_argument("--db")
    us.add_argument("--role", default="auditor", help="auditor 核查员 / supervisor 组长 / admin 管理员")
    us.add_argument("--scope", default="", help="可查看范围: 县 6 位 / 乡镇 9 位 / 村 12 位代码，逗号分隔；* 为全部")
    us.add_argument("--name", help="显示的姓名")
    us.add_argument("--unmask", action="store_true", help="允许查看完整证件号和账号（每次查看都会记录）")
    us.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（脚本用）")
    us.set_defaults(fn=cmd_users)

    dt_ = sub.add_parser("detectors", help="列出已安装的检测器及参数")
    dt_.add_argument("names", nargs="*", help="只列这些检测器")
    dt_.add_argument("--examples", action="store_true", help="同时运行并显示每个检测器自带的示例")
    dt_.add_argument("--config", help="县配置文件（显示该县的权重与启用情况）")
    dt_.set_defaults(fn=cmd_detectors)
    return ap


def main(argv: list[str] | None = None) -> int:
    from .config import ConfigError
    from .migrate import SchemaError
    from .registry import RegistryError
    from .sources import SourceError
    from .store import RunLockedError

    args = build_parser().parse_args(argv)
    if args.cmd == "users" and args.action != "list" and not args.username:
        print("错误: 需要用户名", file=sys.stderr)
        return EXIT_FATAL
    try:
        return args.fn(args)
    except (SourceError, ConfigError, RegistryError, SchemaError, RunLockedError, FileNotFoundError,
            AuthError, SourceArgError) as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
