"""Fan-out latency in one live room: one writer, many readers, against the raw Socket.IO round trip.

A real server (`python -m editor serve`, SQLite in a temporary instance) serves one document.
One writer (a committee member), `--editors` other committee members and `--viewers` viewers
join it (the issue's room: 1 writer, 50 editors, 500 viewers). The writer types
`--rate` small inserts per second for `--seconds` seconds; each insert is one Y update carrying
a sequence marker "[n]". Every reader notes when each marker was applied to its replica.
Latency = reader apply time - writer send time, over all (update, reader) pairs; both times
are CLOCK_MONOTONIC on this machine, so readers in other processes are comparable.

Baselines, measured in the same run:
  * a raw Socket.IO echo round trip (emit with ack) against bench/echo_server.py: Flask-SocketIO on
    the same stack (threading, gunicorn gthread) that only echoes;
  and on the same server from one probe client:
  * `join` of a missing document: a Socket.IO call with ack (one SQL lookup, no room);
  * y sync step 1 -> step 2: a round trip through the document's room worker, without persisting,
    idle before the writer starts, and again while the writer runs (every 0.2 s).

Readers are real pycrdt clients (tests/collab_client.py) spread over `--procs` processes
(threads inside each); the writer and the probe live in the main process.

Run:  .venv/bin/python bench/live_room.py [--editors 50] [--viewers 500] [--rate 20] [--seconds 15] [--procs 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402  (also puts the repo and tests/ on sys.path)
from _common import ROOT  # noqa: E402

MARKER = re.compile(r"\[(\d+)\]")


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# --- readers (run in worker processes) ---------------------------------------------------------


class Receiver:
    def __init__(self, url: str, cookie: str | None, name: str):
        from collab_client import CollabClient
        from pycrdt import XmlFragment

        self.client = CollabClient(url, cookie, name=name)
        self.client.connect()
        ack = self.client.join(common.SLUG)
        if not ack.get("ok"):
            raise RuntimeError(f"{name} could not join: {ack}")
        self.arrivals: dict[int, float] = {}
        with self.client.lock:
            text = common.p_text(self.client.doc.get("body", type=XmlFragment))
            # pycrdt stops calling an observer once the type and the subscription are collected.
            self._watch = (text, text.observe(self._on_text))

    def _on_text(self, event) -> None:
        at = now()
        for op in event.delta:
            inserted = op.get("insert")
            if isinstance(inserted, str):
                for match in MARKER.finditer(inserted):
                    self.arrivals.setdefault(int(match.group(1)), at)


def reader_process(url, cookie, names, ready, stop, results) -> None:
    """`names`: (name, url, cookie) triples (or names, with `url` and `cookie` for all)."""
    receivers = []
    try:
        for item in names:
            name, at, who = item if isinstance(item, tuple) else (item, url, cookie)
            receivers.append(Receiver(at, who, name))
        ready.put(("ok", len(receivers)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        ready.put(("error", repr(exc)))
        return
    stop.wait()
    results.put([(r.client.name, r.arrivals, list(r.client.errors)) for r in receivers])
    for r in receivers:
        r.client.close()


# --- the probe: raw round trips -----------------------------------------------------------------


class Probe:
    def __init__(self, url: str, cookie: str | None):
        from collab_client import CollabClient

        self.client = CollabClient(url, cookie, name="probe")
        self.step2 = threading.Event()
        original = self.client._on_y

        def on_y(slug, payload):
            original(slug, payload)
            if len(payload) > 1 and payload[0] == 0 and payload[1] == 1:
                self.step2.set()

        self.client.sio.on("y", on_y, namespace="/collab")
        self.client.connect()

    def join_missing(self, n: int) -> list[float]:
        times = []
        for _ in range(n):
            started = now()
            ack = self.client.sio.call("join", {"document": "no-such-document"}, namespace="/collab", timeout=10)
            times.append(now() - started)
            assert ack.get("ok") is False
        return times

    def sync_round_trip(self) -> float:
        from crdt import protocol

        self.step2.clear()
        with self.client.lock:
            step1 = protocol.sync_step1(self.client.doc.get_state())
        started = now()
        self.client.send(step1)
        if not self.step2.wait(10):
            raise TimeoutError("no sync step 2 within 10 s")
        return now() - started


# --- main ---------------------------------------------------------------------------------------


def run_room(servers, args, label: str) -> dict:
    """The scenario against `servers` (BenchServer-likes sharing one document): the writer and the
    probe use servers[0]; receivers are dealt round-robin over all of them. Returns the figures."""
    from collab_client import CollabClient
    from pycrdt import XmlFragment

    receivers = args.editors + args.viewers
    procs = max(1, min(args.procs, receivers)) if receivers else 0
    updates = int(args.rate * args.seconds)
    home = servers[0]
    cookies = [(s.cookie(common.WRITER), s.cookie(common.READER)) for s in servers]
    plan = [(f"editor-{i:03d}", i) for i in range(args.editors)] + [(f"viewer-{i:03d}", i) for i in range(args.viewers)]
    triples = []
    for k, (name, _) in enumerate(plan):
        at = k % len(servers)
        writer_cookie, reader_cookie = cookies[at]
        triples.append((f"{name}@{at}", servers[at].url, writer_cookie if name.startswith("editor") else reader_cookie))

    ctx = mp.get_context("spawn")
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    workers = []
    for k in range(procs):
        p = ctx.Process(target=reader_process, args=(None, None, triples[k::procs], ready, stop, results))
        p.start()
        workers.append(p)
    joined = 0
    for _ in workers:
        status, value = ready.get(timeout=600)
        if status != "ok":
            stop.set()
            raise RuntimeError(f"a reader process failed: {value}")
        joined += value
    print(f"  {joined} receivers joined ({args.editors} editors, {args.viewers} viewers, {procs} processes)", flush=True)

    probe = Probe(home.url, cookies[0][1])
    probe.join_missing(5)
    join_times = probe.join_missing(args.probes)
    assert probe.client.join(common.SLUG)["ok"]
    for _ in range(5):
        probe.sync_round_trip()
    sync_idle = [probe.sync_round_trip() for _ in range(args.probes)]

    writer = CollabClient(home.url, cookies[0][0], name="writer").connect()
    assert writer.join(common.SLUG)["ok"]
    text = common.p_text(writer.doc.get("body", type=XmlFragment))

    sync_loaded: list[float] = []
    typing = threading.Event()

    def probe_under_load():
        while typing.is_set():
            try:
                sync_loaded.append(probe.sync_round_trip())
            except TimeoutError:
                sync_loaded.append(10.0)
            time.sleep(0.2)

    threads_before = home.os_threads() if hasattr(home, "os_threads") else None
    cpu_before = home.cpu_seconds() if hasattr(home, "cpu_seconds") else None
    sent: dict[int, float] = {}
    typing.set()
    prober = threading.Thread(target=probe_under_load, daemon=True)
    prober.start()
    started = now()
    late = 0.0
    for seq in range(updates):
        due = started + seq / args.rate
        delay = due - now()
        if delay > 0:
            time.sleep(delay)
        else:
            late = max(late, -delay)
        with writer.lock:
            sent[seq] = now()
            with writer.doc.transaction():
                text.insert(len(text), f"[{seq}]")
    typing.clear()
    threads_during = home.os_threads() if hasattr(home, "os_threads") else None
    prober.join(15)
    typed_for = now() - started
    cpu_after = home.cpu_seconds() if hasattr(home, "cpu_seconds") else None
    print(f"  writer done after {typed_for:.1f} s; collecting ...", flush=True)
    time.sleep(min(15.0, 3.0 + args.seconds / 3))  # let the tail arrive
    stop.set()
    collected = []
    for _ in workers:
        collected.extend(results.get(timeout=300))
    for p in workers:
        p.join(60)
    writer_errors = list(writer.errors)
    probe.client.close()
    writer.close()

    by_server: dict[int, list[float]] = {}
    missing_by_server: dict[int, int] = {}
    reader_errors = []
    per_reader_p99 = []
    for name, arrivals, errors in collected:
        at = int(name.rsplit("@", 1)[1])
        reader_errors.extend(errors)
        mine = []
        for seq, sent_at in sent.items():
            if seq in arrivals:
                mine.append(arrivals[seq] - sent_at)
            else:
                missing_by_server[at] = missing_by_server.get(at, 0) + 1
        by_server.setdefault(at, []).extend(mine)
        if mine:
            per_reader_p99.append(common.percentile(mine, 99))
    latencies = [x for values in by_server.values() for x in values]
    return {
        "label": label,
        "editors": args.editors,
        "viewers": args.viewers,
        "receivers": receivers,
        "receivers_joined": joined,
        "reader_processes": procs,
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "updates": len(sent),
        "latency": common.summary_ms(latencies) if latencies else None,
        "latency_by_server": {str(k): common.summary_ms(v) if v else None for k, v in sorted(by_server.items())},
        "missing_by_server": {str(k): missing_by_server.get(k, 0) for k in range(len(servers))},
        "pairs": len(latencies),
        "missing_pairs": sum(missing_by_server.values()),
        "worst_reader_p99_ms": max(per_reader_p99) * 1000 if per_reader_p99 else None,
        "baseline_join_missing": common.summary_ms(join_times),
        "baseline_sync_round_trip_idle": common.summary_ms(sync_idle),
        "sync_round_trip_while_writing": common.summary_ms(sync_loaded) if sync_loaded else None,
        "writer_max_lateness_ms": late * 1000,
        "typed_for_seconds": typed_for,
        "server_cpu_seconds_while_writing": (cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else None,
        "server_os_threads_idle": threads_before,
        "server_os_threads_writing": threads_during,
        "writer_errors": writer_errors[:10],
        "reader_errors": reader_errors[:10],
        "error_count": len(writer_errors) + len(reader_errors),
    }


def fmt(s) -> str:
    if s is None:
        return "n/a"
    return f"p50 {s['p50_ms']:7.2f}   p99 {s['p99_ms']:7.2f}   max {s['max_ms']:7.2f} ms   (n={s['n']:,})"


def add_arguments(parser) -> None:
    parser.add_argument("--editors", type=int, default=50, help="committee members in the room besides the writer")
    parser.add_argument("--viewers", type=int, default=500, help="viewers in the room")
    parser.add_argument("--receivers", type=int, default=None, help="(old name) viewers only, no editors")
    parser.add_argument("--rate", type=float, default=20.0, help="writer updates per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the writer types")
    parser.add_argument("--procs", type=int, default=4, help="processes the receivers are spread over")
    parser.add_argument("--probes", type=int, default=200, help="round trips per idle baseline")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args()
    if args.receivers is not None:
        args.editors, args.viewers = 0, args.receivers
    clients = args.editors + args.viewers
    load_before = os.getloadavg()
    print(f"live_room: 1 writer + {args.editors} editors + {args.viewers} viewers, "
          f"{args.rate:g} updates/s for {args.seconds:g} s", flush=True)

    with common.EchoServer() as echo:
        echo_idle = common.summary_ms(common.echo_round_trips(echo.url, args.probes))
    threads = max(common.gunicorn_threads(), clients + 50)  # one gthread thread per websocket
    with common.BenchServer(initial_text="Toda persona tiene derecho a la ciudad. ", threads=threads) as server:
        out = run_room([server], args, "one process")

    lat = out["latency"]
    rows = [
        ("writer -> receiver latency", fmt(lat)),
        ("  pairs (updates x receivers) / missing", f"{out['pairs']:,} / {out['missing_pairs']:,}"),
        ("  worst receiver's p99", f"{out['worst_reader_p99_ms']:.2f} ms" if out["worst_reader_p99_ms"] else "n/a"),
        ("baseline: raw Socket.IO echo round trip (echo server)", fmt(echo_idle)),
        ("baseline: join missing doc (ack)", fmt(out["baseline_join_missing"])),
        ("baseline: sync step1 -> step2, idle", fmt(out["baseline_sync_round_trip_idle"])),
        ("sync step1 -> step2 while writing", fmt(out["sync_round_trip_while_writing"])),
        ("writer: updates sent / at rate", f"{out['updates']} / {args.rate:g} per s over {out['typed_for_seconds']:.1f} s "
                                           f"(max lateness {out['writer_max_lateness_ms']:.1f} ms)"),
        ("server worker CPU while writing", f"{out['server_cpu_seconds_while_writing']:.2f} s of {out['typed_for_seconds']:.1f} s"
         if out["server_cpu_seconds_while_writing"] is not None else "n/a"),
        ("server: gunicorn gthread threads (configured)", str(threads)),
        ("server: OS threads in worker (idle / writing)", f"{out['server_os_threads_idle']} / {out['server_os_threads_writing']}"),
        ("errors reported by the server", str(out["error_count"])),
    ]
    print()
    print(common.table(rows, f"live_room: 1 writer, {args.editors} editors, {args.viewers} viewers, {args.rate:g} updates/s"))
    print(f"  receivers: pycrdt Socket.IO clients as threads in {out['reader_processes']} process(es); writer and probe in"
          " the main process;\n  server in its own process; all on one "
          f"{os.cpu_count()}-CPU machine (load average before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f}).")
    if out["writer_errors"] or out["reader_errors"]:
        print("  first errors:", (out["writer_errors"] + out["reader_errors"])[:3])
    out.update(benchmark="live_room", baseline_echo_round_trip=echo_idle, gunicorn_threads=threads,
               machine=common.machine(), load_average_before_after=[load_before[0], os.getloadavg()[0]])
    path = common.write_results("live_room", out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
