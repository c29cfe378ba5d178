"""Reading real exports: seconds per million ledger lines, and calamine against openpyxl.

    .venv/bin/python bench/read_bench.py --villages 300 --keep /tmp/readbench --write bench/read_results.md

Writes one synthetic county in the contract (canonical CSV) and in real layouts (``--formats``, default mixed and
kingdee: XLSX and HTML-as-xls ledgers, 一卡通 rolls, registers), then times ``sources.extract`` on each in a fresh
process (wall seconds, peak RSS), and reads one 100,000-line XLSX with calamine and with openpyxl. Prints a table;
``--write`` also saves it. Figures, not assertions: the tests check correctness, this measures it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _one(src: str, config: str | None) -> dict:
    from sanzi_audit.config import load_config
    from sanzi_audit.pipeline import peak_rss_mb
    from sanzi_audit.sources import extract

    cfg = load_config(config) if config else load_config()
    t = time.perf_counter()
    ex = extract(src, config=cfg)
    secs = time.perf_counter() - t
    rows = {k: v.rows_read for k, v in ex.tables.items()}
    return dict(seconds=round(secs, 2), rows=rows, files=len(ex.files) or len(ex.tables),
                problems=len(ex.problems), peak_mb=round(peak_rss_mb()), layout=ex.layout)


def _child(src: Path, config: Path | None) -> dict:
    args = [sys.executable, __file__, "--one", str(src), str(config or "")]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def engines(work: Path, n: int = 100_000) -> dict:
    """One n-line XLSX of text cells (a 凭证列表), read with calamine and with openpyxl (read-only)."""
    import xlsxwriter

    path = work / f"engines_{n}.xlsx"
    if not path.exists():
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        ws = wb.add_worksheet("凭证列表#2024年第1期")
        ws.write_row(0, 0, ["日期", "凭证字号", "摘要", "科目", "借方金额", "贷方金额", "制单人", "审核人"])
        for i in range(1, n + 1):
            ws.write_row(i, 0, ["2024-01-02", f"记-{i // 2}", "支付城关建材店材料款", "121001 库存物资_材料",
                                "1200.00" if i % 2 else "", "" if i % 2 else "1200.00", "会计", "未审核"])
        wb.close()
    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    cal = time.perf_counter() - t
    t = time.perf_counter()
    wb = load_workbook(path, read_only=True, data_only=True)
    m = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    opx = time.perf_counter() - t
    return dict(lines=n, calamine=round(cal, 2), openpyxl=round(opx, 2), ratio=round(opx / cal, 1),
                rows_read=(len(rows), m))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, default=300)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--formats", nargs="+", default=["mixed", "kingdee"])
    ap.add_argument("--keep", help="work folder (kept and reused)")
    ap.add_argument("--write", help="also write the table to this markdown file")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(_one(a.one[0], a.one[1] or None)))
        return
    import tempfile

    from sanzi_audit.config import load_config
    from sanzi_audit.synth import SynthOptions, generate, write

    work = Path(a.keep or tempfile.mkdtemp(prefix="readbench"))
    work.mkdir(parents=True, exist_ok=True)
    config = load_config()
    result = None
    rows = []
    for fmt in ["canonical", *a.formats]:
        src = work / f"county-{a.villages}-{fmt}"
        t_write = None
        if not (src / "_truth" / "truth.csv").exists():
            result = result or generate(SynthOptions(villages=a.villages, seed=a.seed), config)
            t = time.perf_counter()
            write(result, src, fmt=fmt, seed=a.seed, config=config)
            t_write = round(time.perf_counter() - t, 1)
        cfg = src / "_county" / "county.yaml"
        r = _child(src, cfg if cfg.exists() else None)
        lines = r["rows"].get("ledger", 0)
        rows.append([fmt, r["files"], lines, sum(r["rows"].values()), sum(r["layout"].values()), r["seconds"],
                     round(r["seconds"] / max(1, sum(r["rows"].values())) * 1e6, 1), r["peak_mb"], r["problems"],
                     t_write if t_write is not None else "-"])
        print(rows[-1], file=sys.stderr)
    eng = engines(work)
    head = ["format", "files", "ledger lines", "rows (all tables)", "layout rows", "extract s", "s per 1M rows",
            "peak MB", "problems", "write s"]
    out = [f"Reading a {a.villages}-village county (seed {a.seed}), 2 cores; extract in a fresh process.", "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    out += ["", f"One {eng['lines']:,}-line XLSX (凭证列表, text cells): calamine {eng['calamine']} s, openpyxl (read-only) "
                f"{eng['openpyxl']} s: {eng['ratio']}× (rows read {eng['rows_read']})."]
    text = "\n".join(out)
    print(text)
    if a.write:
        Path(a.write).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
