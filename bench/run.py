"""Run every scenario of the benchmark suite (issue 7) and print one table.

Each scenario is its own script (run in a subprocess, its full output shown as it goes) that
writes bench/results/<name>.json; this runner then reads those files and prints, per scenario,
the figure, the target from the issue, and the baseline measured in the same run. The table is
also written to bench/results/summary.json. Targets are reported, never asserted.

  1 trace_ingest        durable updates/s through the server vs raw pycrdt apply
  2 live_room           1 writer at 20/s, 50 editors, 500 viewers: p50/p99 vs raw Socket.IO echo
  3 concurrent_writers  friendsforever replayed by two writers at once: equal results, throughput
  4 big_document        the Mexico City constitution: cold load, sync, export, render, memory
  5 two_processes       the live room over two processes on PostgreSQL + Redis: cross-process p99
  6 public_reads        the public clause page under load, cached vs uncached

Run:  .venv/bin/python bench/run.py [--quick] [--only 1,4] [--extra]
      --quick   smaller scale (about 3 minutes here): fewer edits, clients and seconds
      --extra   also the older figure scripts (akn_cdmx, survey_bench, provenance_page, versions_cdmx)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"

SCENARIOS = [
    # (number, name, script, full-scale arguments, quick arguments)
    (1, "trace_ingest", "trace_ingest.py", [], ["--edits", "20000"]),
    (2, "live_room", "live_room.py", [], ["--editors", "10", "--viewers", "100", "--seconds", "8", "--probes", "100"]),
    (3, "concurrent_writers", "concurrent_writers.py", [], ["--txns", "8000"]),
    (4, "big_document", "big_document.py", [], ["--runs", "3", "--copies", "5"]),
    (5, "two_processes", "two_processes.py", [],
     ["--editors", "10", "--viewers", "100", "--seconds", "8", "--probes", "100"]),
    (6, "public_reads", "public_reads.py", [], ["--seconds", "5"]),
]
EXTRA = [
    ("akn_cdmx.py", []), ("survey_bench.py", ["--runs", "1"]), ("provenance_page.py", []), ("versions_cdmx.py", []),
]


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _ms(summary: dict | None, key: str = "p99_ms") -> str:
    return f"{summary[key]:.1f} ms" if summary and summary.get(key) is not None else "n/a"


def rows_for(name: str, data: dict | None) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, baseline) rows for one scenario's JSON."""
    if data is None:
        return [(name, "no result", "", "")]
    if name == "trace_ingest":
        server = data["server"]
        rate = server.get("durable_updates_per_s")
        a3 = data["baseline"]["apply_update_sent_updates_rate_per_s"]
        return [(f"trace ingest: durable updates/s ({data['edits']:,} of {data['trace_edits']:,} edits)",
                 f"{rate:,.0f} /s" if rate else "did not complete", ">= 10,000 /s",
                 f"raw pycrdt apply {a3:,.0f} /s"),
                ("  text == expected (reader / store reload)",
                 f"{server['reader_text_ok']} / {server['store_text_ok']}", "True", "")]
    if name == "live_room":
        lat = data.get("latency")
        echo = data.get("baseline_echo_round_trip")
        clients = data.get("receivers", 0) + 1
        return [(f"live room: writer -> receiver p50 ({clients} clients)", _ms(lat, "p50_ms"), "", f"echo p50 {_ms(echo, 'p50_ms')}"),
                (f"  live room: writer -> receiver p99 ({clients} clients)", _ms(lat), "<= 50 ms with 550 clients",
                 f"echo p99 {_ms(echo)}"),
                ("  missing pairs / errors", f"{data['missing_pairs']:,} / {data['error_count']}", "0 / 0", "")]
    if name == "concurrent_writers":
        rate = data.get("throughput_txn_per_s")
        return [(f"concurrent writers: throughput ({data['transactions']:,} of {data['trace_transactions']:,} txns)",
                 f"{rate:,.0f} txn/s" if rate else "did not complete", "",
                 f"raw apply {data['baseline_apply_txn_per_s']:,.0f} txn/s"),
                ("  both equal / == endContent / store equal",
                 f"{data['texts_equal']} / {data['equals_end_content']} / {data['store_equal']}", "True / True / True", "")]
    if name == "big_document":
        return [("big document: cold load from the store", f"{data['cold_load']['median_ms']:.1f} ms", "<= 100 ms",
                 f"text -> unit tree {data['parse']['median_ms']:.0f} ms"),
                ("  cold open of a room (load + worker)", f"{data['cold_room_open']['median_ms']:.1f} ms", "", ""),
                ("  sync step 2, new client (in-process / through server)",
                 f"{data['sync_step2_in_process']['median_ms']:.1f} / {data['sync_through_server']['median_ms']:.1f} ms",
                 "", f"{data['sync_step2_bytes']:,} bytes"),
                ("  AKN export / HTML render", f"{data['akn_export']['median_ms']:.0f} / {data['html_render']['median_ms']:.0f} ms",
                 "", f"read_live {data['read_live']['median_ms']:.0f} ms"),
                ("  memory per open constitution", f"{data['memory_per_document_mb']:.1f} MB", "<= 20 MB",
                 f"CRDT state {data['state_bytes'] / 1e6:.2f} MB"),
                ("  idle eviction: rooms closed / still open",
                 f"{data['memory']['evicted']} / {data['memory']['open_after_eviction']}", "all / 0", ""),
                (f"  compaction of {data['compaction']['edits']:,} logged edits",
                 f"{data['compaction']['ms']:.0f} ms", "",
                 f"load {data['compaction']['load_with_log']['median_ms']:.1f} -> "
                 f"{data['compaction']['load_after']['median_ms']:.1f} ms")]
    if name == "two_processes":
        if not data.get("available"):
            return [("two processes: cross-process p99", f"not available ({data.get('reason', '?')})", "<= 100 ms", "")]
        cross = data.get("cross_process")
        same = data["latency_by_server"].get("0")
        echo = data.get("baseline_echo_round_trip")
        clients = data.get("receivers", 0) + 1
        return [(f"two processes: cross-process p99 ({clients} clients, PG + Redis)", _ms(cross), "<= 100 ms",
                 f"same-process p99 {_ms(same)}, echo p99 {_ms(echo)}"),
                ("  missing pairs on A / B", f"{data['missing_by_server']['0']:,} / {data['missing_by_server']['1']:,}",
                 "0 / 0", "")]
    if name == "public_reads":
        cached, uncached = data["cached"], data["uncached"]
        return [(f"public clause page {data['path']}: cached", f"{cached['requests_per_s']:,.0f} req/s, p99 "
                 f"{cached['p99_ms']:.0f} ms", ">= 1,000 req/s",
                 f"uncached {uncached['requests_per_s']:,.0f} req/s, p99 {uncached['p99_ms']:.0f} ms"),
                ("  load generator", cached["generator"], "", "")]
    return [(name, "?", "", "")]


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    heads = ("figure", "measured", "target", "baseline (same run)")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller scale")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers or names")
    parser.add_argument("--extra", action="store_true", help="also the older figure scripts")
    parser.add_argument("--table-only", action="store_true", help="print the table from the last results, run nothing")
    args = parser.parse_args()
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    chosen = [s for s in SCENARIOS if not wanted or str(s[0]) in wanted or s[1] in wanted]
    load_before = os.getloadavg()
    statuses: dict[str, str] = {}
    started = time.perf_counter()
    if not args.table_only:
        for number, name, script, full, quick in chosen:
            argv = [sys.executable, str(BENCH / script), *(quick if args.quick else full)]
            print(f"\n=== {number}. {name}: {' '.join(argv[1:])}", flush=True)
            (RESULTS / f"{name}.json").unlink(missing_ok=True)  # no stale figure in the table
            t0 = time.perf_counter()
            code = subprocess.run(argv, cwd=ROOT).returncode
            statuses[name] = f"exit {code} after {time.perf_counter() - t0:.0f} s"
        if args.extra:
            for script, extra in EXTRA:
                print(f"\n=== extra: {script}", flush=True)
                subprocess.run([sys.executable, str(BENCH / script), *extra], cwd=ROOT)
    rows: list[tuple[str, str, str, str]] = []
    summary = {}
    for number, name, *_ in chosen:
        data = _load(name)
        got = rows_for(name, data)
        rows += [(f"{number}. {got[0][0]}", *got[0][1:]), *got[1:]]
        summary[name] = {"rows": got, "status": statuses.get(name, "not run now (last results)")}
    print(f"\n=== summary ({'quick' if args.quick else 'full'} scale; {os.cpu_count()} CPUs; load average before/after "
          f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f}; {time.perf_counter() - started:.0f} s)\n")
    print_table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps(
        {"scale": "quick" if args.quick else "full", "scenarios": summary,
         "load_average_before_after": [load_before[0], os.getloadavg()[0]]}, indent=2, ensure_ascii=False) + "\n")
    print(f"\n  results: {(RESULTS / 'summary.json').relative_to(ROOT)} (and one JSON per scenario)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
