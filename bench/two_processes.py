"""The live room split across two server processes on PostgreSQL and Redis: cross-process latency.

Two `constituent serve --database postgresql://… --redis redis://…` processes (A and B) on one
fresh PostgreSQL database serve the same document. The writer and the probe are on A; the
editors and viewers are dealt alternately to A and B (bench/live_room.py's `run_room`).
Figures: writer → receiver latency for receivers on A (same process as the writer) and on B
(the update crosses Redis to B, whose room applies it and sends it on): the cross-process p99.

Before measuring, a check: a marker typed on A must reach a client of B within 10 s. If it does
not (no fan-out), the scenario prints "not available" and no latency.

Baselines in the same run: the raw Socket.IO echo round trip (bench/echo_server.py) and the
sync round trip on A (see live_room.py).

Needs PostgreSQL (`--postgres`, default postgresql://postgres@127.0.0.1:5432/postgres; a database
`constituent_bench_<pid>` is created and dropped) and Redis (`--redis`, default db 13).

Run:  .venv/bin/python bench/two_processes.py [--editors 50] [--viewers 500] [--seconds 15] [--procs 4]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
import live_room  # noqa: E402
from _common import ROOT  # noqa: E402


def _admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def fan_out_works(a, b) -> tuple[bool, str]:
    """A marker typed through A reaches a client of B."""
    from collab_client import CollabClient
    from pycrdt import XmlFragment

    writer = CollabClient(a.url, a.cookie(common.WRITER), name="check-writer").connect()
    reader = CollabClient(b.url, b.cookie(common.READER), name="check-reader").connect()
    try:
        if not (writer.join(common.SLUG)["ok"] and reader.join(common.SLUG)["ok"]):
            return False, "join refused"
        writer.edit(lambda body: common.p_text(body).insert(0, "[fan-out check]"))
        ok = reader.wait_for(lambda c: "[fan-out check]" in str(common.p_text(c.doc.get("body", type=XmlFragment))), 10)
        return ok, "" if ok else "a marker typed on A did not reach B within 10 s"
    finally:
        writer.close()
        reader.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    live_room.add_arguments(parser)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13"))
    args = parser.parse_args()
    if args.receivers is not None:
        args.editors, args.viewers = 0, args.receivers
    load_before = os.getloadavg()
    name = f"constituent_bench_{os.getpid()}"
    out: dict = {"benchmark": "two_processes", "available": False}
    try:
        admin = _admin(args.postgres)
        admin.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        print(f"two_processes: not available: PostgreSQL at {args.postgres}: {exc}")
        out["reason"] = f"PostgreSQL: {exc}"
        common.write_results("two_processes", out)
        return 0
    database = args.postgres.rsplit("/", 1)[0] + "/" + name
    try:
        import redis

        redis.Redis.from_url(args.redis).ping()
    except Exception as exc:  # noqa: BLE001
        print(f"two_processes: not available: Redis at {args.redis}: {exc}")
        out["reason"] = f"Redis: {exc}"
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        common.write_results("two_processes", out)
        return 0

    clients = args.editors + args.viewers
    threads = max(common.gunicorn_threads(), clients // 2 + 50)
    print(f"two_processes: A and B on PostgreSQL ({name}) + Redis; 1 writer on A, {args.editors} editors and "
          f"{args.viewers} viewers dealt to A and B", flush=True)
    with common.EchoServer() as echo:
        echo_idle = common.summary_ms(common.echo_round_trips(echo.url, args.probes))
    a = common.BenchServer(initial_text="Toda persona tiene derecho a la ciudad. ", threads=threads,
                           database=database, redis=args.redis)
    b = common.BenchServer(instance=a.instance, seed=False, threads=threads, database=database, redis=args.redis)
    try:
        a.live.start()
        b.live.start()
        ok, why = fan_out_works(a, b)
        if not ok:
            print(f"two_processes: not available: {why} (cross-process fan-out is not working)")
            out["reason"] = why
        else:
            figures = live_room.run_room([a, b], args, "two processes")
            out.update(figures, available=True)
    finally:
        b.live.stop()
        a.stop()
        try:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        except Exception:  # noqa: BLE001
            pass

    out.update(baseline_echo_round_trip=echo_idle, gunicorn_threads=threads, database="postgresql", redis=args.redis,
               machine=common.machine(), load_average_before_after=[load_before[0], os.getloadavg()[0]])
    if out["available"]:
        same, cross = out["latency_by_server"].get("0"), out["latency_by_server"].get("1")
        fmt = live_room.fmt
        rows = [
            ("writer (A) -> receivers on A (same process)", fmt(same)),
            ("writer (A) -> receivers on B (cross-process)", fmt(cross)),
            ("  missing pairs on A / on B", f"{out['missing_by_server']['0']:,} / {out['missing_by_server']['1']:,}"),
            ("baseline: raw Socket.IO echo round trip (echo server)", fmt(echo_idle)),
            ("baseline: sync step1 -> step2 on A, idle", fmt(out["baseline_sync_round_trip_idle"])),
            ("sync step1 -> step2 on A while writing", fmt(out["sync_round_trip_while_writing"])),
            ("writer: updates sent", f"{out['updates']} at {args.rate:g}/s (max lateness {out['writer_max_lateness_ms']:.1f} ms)"),
            ("errors reported by the servers", str(out["error_count"])),
        ]
        print()
        print(common.table(rows, f"two_processes: {args.editors} editors + {args.viewers} viewers over A and B"))
        out["cross_process"] = cross
    print(f"  (everything on one {os.cpu_count()}-CPU machine; load average before/after: "
          f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")
    path = common.write_results("two_processes", out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
