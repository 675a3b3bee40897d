"""Figures for issue 3: import, export and validation of the full Mexico City constitution.

No server: the conversions are pure functions. Each step runs `--runs` times (default 5); the
table shows the median and the fastest run, and the size of the Akoma Ntoso file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from akoma_ntoso import iter_units  # noqa: E402
from akoma_ntoso.akn import Expression, Work, export_akn, import_akn, to_bytes, validate  # noqa: E402
from akoma_ntoso.render import render_document, render_text  # noqa: E402
from akoma_ntoso.text_import import import_text  # noqa: E402

CDMX = ROOT.parent / "shared" / "data" / "cdmx" / "constitucion-politica-cdmx.txt"
RESULTS = ROOT / "bench" / "results"


def timed(runs: int, fn):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not CDMX.exists():
        print(f"the constitution is not at {CDMX}", file=sys.stderr)
        return 2
    source = CDMX.read_text(encoding="utf-8")
    work = Work(place="mx-cmx", doctype="act", date="2017-02-05", number="constitucion", title="Constitución")
    expression = Expression(language="spa", date="2023-03-24")

    built, t_import, f_import = timed(args.runs, lambda: import_text(source))
    root, t_export, f_export = timed(args.runs, lambda: export_akn(built.units, work, expression))
    errors, t_validate, f_validate = timed(args.runs, lambda: validate(root))
    data, t_bytes, f_bytes = timed(args.runs, lambda: to_bytes(root))
    _, t_reimport, f_reimport = timed(args.runs, lambda: import_akn(data))
    html, t_html, _ = timed(args.runs, lambda: render_document(built.units, "Constitución"))
    text, t_text, _ = timed(args.runs, lambda: render_text(built.units, "Constitución"))
    units = sum(1 for _ in iter_units(built.units))
    assert errors == [], errors[:3]

    rows = [
        ("plain text → live body (import_text)", t_import, f_import),
        ("unit tree → AKN tree (export_akn)", t_export, f_export),
        ("OASIS schema validation (strict)", t_validate, f_validate),
        ("AKN tree → bytes", t_bytes, f_bytes),
        ("AKN bytes → live body (import_akn, lenient schema check included)", t_reimport, f_reimport),
        ("unit tree → standalone HTML", t_html, t_html),
        ("unit tree → plain text", t_text, t_text),
    ]
    print(f"Mexico City constitution: {len(source):,} characters of text, {units:,} units, "
          f"{len(built.findings)} import findings; {args.runs} runs each")
    print(f"{'step':66} {'median':>9} {'fastest':>9}")
    for name, median, fastest in rows:
        print(f"{name:66} {median * 1000:7.1f}ms {fastest * 1000:7.1f}ms")
    print(f"AKN file: {len(data):,} bytes ({len(data) / 1024:.0f} KiB); HTML {len(html.encode()):,} bytes; "
          f"text {len(text.encode()):,} bytes (source {len(source.encode()):,} bytes)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "akn_cdmx.json").write_text(json.dumps({
        "units": units, "akn_bytes": len(data),
        "median_seconds": {name: median for name, median, _ in rows},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
