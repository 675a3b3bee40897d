"""Fan-out latency in one live room: one writer, many readers, against the raw Socket.IO round trip.

A real server (`python -m editor serve`, SQLite in a temporary instance) serves one document.
One writer (a committee member) and `--receivers` readers (viewers) join it. The writer types
`--rate` small inserts per second for `--seconds` seconds; each insert is one Y update carrying
a sequence marker "[n]". Every reader notes when each marker was applied to its replica.
Latency = reader apply time - writer send time, over all (update, reader) pairs; both times
are CLOCK_MONOTONIC on this machine, so readers in other processes are comparable.

Baselines, measured in the same run on the same server from one probe client:
  * `join` of a missing document: a Socket.IO call with ack (one SQL lookup, no room);
  * y sync step 1 -> step 2: a round trip through the document's room worker, without persisting,
    idle before the writer starts, and again while the writer runs (every 0.2 s).

Readers are real pycrdt clients (tests/collab_client.py) spread over `--procs` processes
(threads inside each); the writer and the probe live in the main process.

Run:  .venv/bin/python bench/live_room.py [--receivers 20] [--rate 20] [--seconds 15] [--procs 2]
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
        from pycrdt import XmlFragment

        from collab_client import CollabClient

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


def reader_process(url: str, cookie: str | None, names: list[str], ready, stop, results) -> None:
    receivers = []
    try:
        for name in names:
            receivers.append(Receiver(url, cookie, name))
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receivers", type=int, default=20, help="connected readers besides the writer")
    parser.add_argument("--rate", type=float, default=20.0, help="writer updates per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the writer types")
    parser.add_argument("--procs", type=int, default=2, help="processes the readers are spread over")
    parser.add_argument("--probes", type=int, default=200, help="round trips per idle baseline")
    args = parser.parse_args()
    procs = max(1, min(args.procs, args.receivers)) if args.receivers else 0
    updates = int(args.rate * args.seconds)
    load_before = os.getloadavg()
    print(f"live_room: 1 writer + {args.receivers} readers ({procs} reader processes), "
          f"{args.rate:g} updates/s for {args.seconds:g} s = {updates} updates", flush=True)

    ctx = mp.get_context("spawn")
    with common.BenchServer(initial_text="Toda persona tiene derecho a la ciudad. ") as server:
        writer_cookie, reader_cookie = server.cookie(common.WRITER), server.cookie(common.READER)

        # Readers first, so that they are all in the room before anything is typed.
        ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        names = [f"reader-{i:02d}" for i in range(args.receivers)]
        workers = []
        for k in range(procs):
            chunk = names[k::procs]
            p = ctx.Process(target=reader_process, args=(server.url, reader_cookie, chunk, ready, stop, results))
            p.start()
            workers.append(p)
        joined = 0
        for _ in workers:
            status, value = ready.get(timeout=120)
            if status != "ok":
                raise RuntimeError(f"a reader process failed: {value}")
            joined += value
        print(f"  {joined} readers joined", flush=True)

        # Baselines, idle.
        probe = Probe(server.url, reader_cookie)
        probe.join_missing(5)  # warm-up
        join_times = probe.join_missing(args.probes)
        assert probe.client.join(common.SLUG)["ok"]
        for _ in range(5):
            probe.sync_round_trip()
        sync_idle = [probe.sync_round_trip() for _ in range(args.probes)]
        print(f"  baselines measured ({args.probes} round trips each)", flush=True)

        from pycrdt import XmlFragment

        from collab_client import CollabClient

        writer = CollabClient(server.url, writer_cookie, name="writer").connect()
        assert writer.join(common.SLUG)["ok"]
        text = common.p_text(writer.doc.get("body", type=XmlFragment))

        # Round trips while the writer types.
        sync_loaded: list[float] = []
        typing = threading.Event()

        def probe_under_load():
            while typing.is_set():
                sync_loaded.append(probe.sync_round_trip())
                time.sleep(0.2)

        threads_before = server.os_threads()
        cpu_before = server.cpu_seconds()
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
        threads_during = server.os_threads()
        prober.join(15)
        typed_for = now() - started
        cpu_after = server.cpu_seconds()
        print(f"  writer done after {typed_for:.1f} s; collecting ...", flush=True)

        time.sleep(min(10.0, 2.0 + args.seconds / 3))  # let the tail arrive
        stop.set()
        collected = []
        for _ in workers:
            collected.extend(results.get(timeout=60))
        for p in workers:
            p.join(30)
        writer_errors = list(writer.errors)
        probe.client.close()
        writer.close()

    latencies: list[float] = []
    missing = 0
    reader_errors = []
    per_reader_p99 = []
    for _name, arrivals, errors in collected:
        reader_errors.extend(errors)
        mine = []
        for seq, sent_at in sent.items():
            if seq in arrivals:
                mine.append(arrivals[seq] - sent_at)
            else:
                missing += 1
        latencies.extend(mine)
        if mine:
            per_reader_p99.append(common.percentile(mine, 99))

    lat = common.summary_ms(latencies) if latencies else None
    join_s, idle_s = common.summary_ms(join_times), common.summary_ms(sync_idle)
    loaded_s = common.summary_ms(sync_loaded) if sync_loaded else None

    def fmt(s):
        if s is None:
            return "n/a"
        return f"p50 {s['p50_ms']:7.2f}   p99 {s['p99_ms']:7.2f}   max {s['max_ms']:7.2f} ms   (n={s['n']:,})"

    rows = [
        ("writer -> reader latency", fmt(lat)),
        ("  pairs (updates x readers) / missing", f"{len(latencies):,} / {missing:,}"),
        ("  worst reader's p99", f"{max(per_reader_p99) * 1000:.2f} ms" if per_reader_p99 else "n/a"),
        ("baseline: join missing doc (ack)", fmt(join_s)),
        ("baseline: sync step1 -> step2, idle", fmt(idle_s)),
        ("sync step1 -> step2 while writing", fmt(loaded_s)),
        ("writer: updates sent / at rate", f"{len(sent)} / {args.rate:g} per s over {typed_for:.1f} s (max lateness {late * 1000:.1f} ms)"),
        ("server worker CPU while writing", f"{cpu_after - cpu_before:.2f} s of {typed_for:.1f} s" if cpu_before is not None else "n/a"),
        ("server: gunicorn gthread threads (configured)", str(common.gunicorn_threads())),
        ("server: OS threads in worker (idle / writing)", f"{threads_before} / {threads_during}"),
        ("errors reported by the server", f"writer {len(writer_errors)}, readers {len(reader_errors)}"),
    ]
    print()
    print(common.table(rows, f"live_room: 1 writer, {args.receivers} readers, {args.rate:g} updates/s"))
    print(f"  readers: {args.receivers} pycrdt Socket.IO clients as threads in {procs} process(es); writer and probe in"
          " the main process;\n  server in its own process; all on one "
          f"{os.cpu_count()}-CPU machine (load average before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f}).")
    if writer_errors or reader_errors:
        print("  first errors:", (writer_errors + reader_errors)[:3])

    out = {
        "benchmark": "live_room",
        "receivers": args.receivers,
        "reader_processes": procs,
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "updates": len(sent),
        "latency": lat,
        "pairs": len(latencies),
        "missing_pairs": missing,
        "worst_reader_p99_ms": max(per_reader_p99) * 1000 if per_reader_p99 else None,
        "baseline_join_missing": join_s,
        "baseline_sync_round_trip_idle": idle_s,
        "sync_round_trip_while_writing": loaded_s,
        "writer_max_lateness_ms": late * 1000,
        "server_cpu_seconds_while_writing": (cpu_after - cpu_before) if cpu_before is not None else None,
        "gunicorn_threads": common.gunicorn_threads(),
        "server_os_threads_idle": threads_before,
        "server_os_threads_writing": threads_during,
        "writer_errors": writer_errors[:10],
        "reader_errors": reader_errors[:10],
        "machine": common.machine(),
        "load_average_before_after": [load_before[0], os.getloadavg()[0]],
    }
    path = common.write_results("live_room", out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
