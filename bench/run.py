"""Run every scenario of the benchmark suite (issues 7 and 16) and print one table.

Each scenario is its own script (run in a subprocess, its full output shown as it goes) that
writes bench/results/<name>.json; this runner then reads those files and prints, per scenario,
the figure, the target from the issue, and the baseline measured in the same run. The table is
also written to bench/results/summary.json. Targets are reported, never asserted.

  1 trace_ingest        durable updates/s through the server vs raw pycrdt apply
  2 live_room_yjs       /yjs: 1 writer at 20/s, 50 editors, 500 followers: p50/p99, % delivered vs y-websocket
  3 concurrent_writers  friendsforever replayed by two writers at once: equal results, throughput
  4 big_document        the Mexico City constitution: cold load, sync, export, render, memory
  5 two_processes       the live room over two processes on PostgreSQL + Redis: cross-process p99
  6 public_reads        the public clause page under load, cached vs uncached
  7 audience            2,000 idle followers on one process: page p99 and memory per connection
  8 initial_sync        the whole constitution for a new follower: server time, first vs cached
  9 live_room           the Socket.IO (/collab) live room: p50/p99 vs raw Socket.IO echo

Scenarios 2, 7 and 8 run Node (bench/node: y-websocket 1.5.4 and the y-protocols clients; `npm ci`
there on first use).

Run:  .venv/bin/python bench/run.py [--quick] [--only 2,7] [--extra]
      --quick   smaller scale (a few minutes here): fewer edits, clients and seconds
      --extra   also the older figure scripts (akn_cdmx, akn_fidelity, survey_bench, provenance_page, versions_cdmx,
                editor_typing, sitting_audience)
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
    (2, "live_room_yjs", "live_room_yjs.py", [], ["--editors", "10", "--followers", "90", "--seconds", "8"]),
    (3, "concurrent_writers", "concurrent_writers.py", [], ["--txns", "8000"]),
    (4, "big_document", "big_document.py", [], ["--runs", "3", "--copies", "5"]),
    (5, "two_processes", "two_processes.py", [],
     ["--editors", "10", "--viewers", "100", "--seconds", "8", "--probes", "100"]),
    (6, "public_reads", "public_reads.py", [], ["--seconds", "5"]),
    (7, "audience", "audience.py", [], ["--followers", "300", "--requests", "100"]),
    (8, "initial_sync", "initial_sync.py", [], ["--runs", "10"]),
    (9, "live_room", "live_room.py", [], ["--editors", "10", "--viewers", "100", "--seconds", "8", "--probes", "100"]),
]
EXTRA = [
    ("akn_cdmx.py", []), ("akn_fidelity.py", []), ("survey_bench.py", ["--runs", "1"]), ("provenance_page.py", []),
    ("versions_cdmx.py", []), ("editor_typing.py", []), ("sitting_audience.py", []),
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
    if name == "live_room_yjs":
        ours, theirs = data.get("constituent") or {}, data.get("y_websocket") or {}
        listeners = data["editors"] + data["followers"]

        def pct(d):
            return f"{d['delivered_pct']:.2f} %" if d.get("available") and d.get("delivered_pct") is not None else "n/a"

        if not ours.get("available"):
            return [(f"live room /yjs ({listeners} listeners): p99", f"not available ({ours.get('reason', 'not run')})",
                     "<= y-websocket p99, 100 % delivered", f"y-websocket p99 {_ms(theirs.get('latency'))}, "
                                                             f"{pct(theirs)} delivered")]
        return [(f"live room /yjs: writer -> listener p50 ({listeners} listeners)", _ms(ours.get("latency"), "p50_ms"), "",
                 f"y-websocket p50 {_ms(theirs.get('latency'), 'p50_ms')}"),
                (f"  live room /yjs: writer -> listener p99 ({listeners} listeners)", _ms(ours.get("latency")),
                 "<= y-websocket p99", f"y-websocket p99 {_ms(theirs.get('latency'))}"),
                ("  delivered (update, listener) pairs", pct(ours), "100 %", f"y-websocket {pct(theirs)}"),
                ("  listeners synced / step 1 unanswered / closed / client errors",
                 f"{ours['listeners_synced']} of {ours['listeners']} / {ours.get('listeners_step1_unanswered', 0)} / "
                 f"{ours['listeners_closed_during_run']} / {ours['client_error_count']}", "all / 0 / 0 / 0",
                 f"y-websocket {theirs.get('listeners_synced', 'n/a')} of {theirs.get('listeners', 'n/a')}"),
                ("  server resync step 1s while typing / 'permission denied' received",
                 f"{ours.get('server_resync_step1_during_run', 'n/a')} / {ours.get('permission_denied_messages', 'n/a')}",
                 "", "y-websocket sends none")]
    if name == "audience":
        pages = data["pages"]
        rows = []
        if not data.get("available"):
            rows.append((f"audience: {data['followers']:,} followers", f"not available ({data.get('reason', '?')})",
                         "", ""))
        for k, path in enumerate(pages):
            base = data["baseline"][path]
            loaded = (data.get("with_followers") or {}).get(path)
            label = f"audience: GET {path} p99 with {data.get('followers_synced', 0):,} followers"
            rows.append((label if k == 0 else "  " + label.split(": ", 1)[1], _ms(loaded), "<= 100 ms",
                         f"no connection: p99 {_ms(base)}"))
        if data.get("available"):
            y = data.get("y_websocket") or {}
            rows += [("  memory per follower connection (server RSS growth / followers)",
                      f"{data['memory_per_connection_kb']:.1f} KB", "report",
                      f"y-websocket {y['memory_per_connection_kb']:.1f} KB" if y else ""),
                     ("  followers synced / failed / step 1 unanswered / dropped",
                      f"{data['followers_synced']:,} / {data['followers_failed']:,} / "
                      f"{data.get('followers_step1_unanswered', 0):,} / {data['followers_closed_before_end']:,}",
                      f"{data['followers']:,} / 0 / 0 / 0",
                      f"y-websocket {y['followers_synced']:,} / {y['followers_failed']:,}" if y else "")]
        return rows
    if name == "initial_sync":
        a, b, y = data["in_process"], data.get("through_server") or {}, data.get("y_websocket") or {}

        def med(s):
            return f"{s['median_ms']:.2f} ms" if s else "n/a"

        rows = [(f"initial sync of the constitution ({a['step2_bytes'] / 1e3:,.0f} KB): server time first / cached",
                 f"{a['first_ms']:.2f} ms / {med(a['subsequent'])}", "<= 5 ms",
                 f"Doc.get_update {med(a['baseline_get_update_in_worker'])}")]
        if b.get("available"):
            rows.append(("  through the server: round trip first / subsequent",
                         f"{b['first_ms']:.2f} ms / {med(b['subsequent'])}" if b.get("first_ms") is not None else "n/a", "",
                         f"y-websocket {y['first_ms']:.2f} ms / {med(y['subsequent'])}" if y.get("first_ms") is not None
                         else ""))
        else:
            rows.append(("  through the server", f"not available ({b.get('reason', '?')})", "", ""))
        return rows
    if name == "live_room":
        lat = data.get("latency")
        echo = data.get("baseline_echo_round_trip")
        clients = data.get("receivers", 0) + 1
        return [(f"live room (Socket.IO /collab): writer -> receiver p50 ({clients} clients)", _ms(lat, "p50_ms"), "",
                 f"echo p50 {_ms(echo, 'p50_ms')}"),
                (f"  live room (Socket.IO): writer -> receiver p99 ({clients} clients)", _ms(lat), "<= 50 ms with 550 clients",
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
