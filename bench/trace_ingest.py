"""Replay a real editing trace through the live server and compare with raw pycrdt.

Trace: ../shared/data/traces/automerge-paper.json.gz (the Automerge paper typed keystroke by
keystroke: 259,778 single-character edits). Format {startContent, endContent, txns:[{patches:
[[pos, del, ins]]}]}.

Baselines (this process, no network):
  A1  local edits: each edit in its own transaction on a pycrdt Text (one Y update per edit)
  A2  Doc.apply_update of those per-edit updates into a second Doc (what the server's room does)
  A3  Doc.apply_update of the updates the server run actually sent (XmlText inside the document
      body), into a Doc holding the document's initial state

Through the server (`python -m editor serve`, SQLite in a temporary instance, no per-connection
socket rate limit: CONSTITUENT_SOCKET_RATE=0, set for every benchmark server by _common):
  one writer client (a committee member) types every edit as its own update over Socket.IO;
  one reader client (a viewer) is joined to the same document. The server appends every update
  to the store before it broadcasts it, so an update the reader has received is durable.
  Durable rate = edits / (time from the writer's first edit until the reader holds the last one).
  The reader's text is then compared with the expected text, and the store (SQLite) is reloaded
  independently and compared too.

Run:  .venv/bin/python bench/trace_ingest.py [--edits N] [--timeout S]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402  (also puts the repo and tests/ on sys.path)
from _common import ROOT  # noqa: E402

from crdt.protocol import decode_state_vector  # noqa: E402

DEFAULT_EDITS = 50_000  # about 15 s through the server on the 2-CPU machine; --full for all
TRACE = ROOT.parent / "shared" / "data" / "traces" / "automerge-paper.json.gz"


def load_trace(path: Path, limit: int | None):
    data = json.loads(gzip.decompress(path.read_bytes()))
    edits = [(pos, dele, ins) for txn in data["txns"] for pos, dele, ins in txn["patches"]]
    total = len(edits)
    if limit is not None and limit < total:
        edits = edits[:limit]
    return data, edits, total


def clock_of(state_vector: bytes, client_id: int) -> int:
    """The clock a Yjs state vector holds for one client (0 if absent)."""
    return decode_state_vector(state_vector).get(client_id, 0)


def apply_edit(text, edit) -> None:
    pos, dele, ins = edit
    if dele:
        del text[pos : pos + dele]
    if ins:
        text.insert(pos, ins)


def baseline(edits, start: str):
    """A1 and A2: raw pycrdt, one transaction (one update) per edit."""
    from pycrdt import Doc, Text

    doc = Doc()
    text = doc.get("t", type=Text)
    if start:
        text += start
    initial = doc.get_update()
    updates: list[bytes] = []
    subscription = doc.observe(lambda event: updates.append(event.update))  # noqa: F841 - kept alive
    started = time.perf_counter()
    for edit in edits:
        with doc.transaction():
            apply_edit(text, edit)
    local_s = time.perf_counter() - started
    expected = str(text)

    replica = Doc()
    replica.apply_update(initial)
    started = time.perf_counter()
    for update in updates:
        replica.apply_update(update)
    apply_s = time.perf_counter() - started
    assert str(replica.get("t", type=Text)) == expected, "raw replica diverged"
    return expected, local_s, apply_s, updates


def apply_rate_of(initial: bytes, updates: list[bytes]) -> float:
    """A3: the same apply the room does, with the updates the writer really sent."""
    from pycrdt import Doc

    doc = Doc()
    doc.apply_update(initial)
    started = time.perf_counter()
    for update in updates:
        doc.apply_update(update)
    return time.perf_counter() - started


class Reader:
    """A joined viewer that notes when each sync message (update or step 2) was applied."""

    def __init__(self, url: str, cookie: str | None, kind):
        self.client = kind(url, cookie, name="reader")
        self.updates = 0  # sync update broadcasts received
        self.step2s = 0  # sync step 2 messages received (answers to its own step 1)
        self.last_at = 0.0
        original = self.client._on_y

        def on_y(slug, payload):
            original(slug, payload)
            if len(payload) > 1 and payload[0] == 0 and payload[1] in (1, 2):
                if payload[1] == 2:
                    self.updates += 1
                else:
                    self.step2s += 1
                self.last_at = time.perf_counter()

        self.client._on_y = on_y  # YjsClient's reader calls it
        self.client.sio.on("y", on_y, namespace="/collab")

    def text(self) -> str:
        from pycrdt import XmlFragment

        with self.client.lock:
            return str(common.p_text(self.client.doc.get("body", type=XmlFragment)))

    def clock_of(self, client_id: int) -> int:
        with self.client.lock:
            return clock_of(self.client.doc.get_state(), client_id)

    def length(self) -> int:
        from pycrdt import XmlFragment

        with self.client.lock:
            return len(common.p_text(self.client.doc.get("body", type=XmlFragment)))


def _connected(client) -> bool:
    closed = getattr(client, "closed", None)
    return not closed.is_set() if closed is not None else client.sio.connected


def through_server(edits, expected: str, start: str, timeout: float, progress_every: int, window: int,
                   transport: str = "collab"):
    from collab_client import CollabClient, YjsClient
    from pycrdt import XmlFragment

    kind = YjsClient if transport == "yjs" else CollabClient
    result: dict = {}
    with common.BenchServer(initial_text=start) as server:
        writer = kind(server.url, server.cookie(common.WRITER), name="writer").connect()
        reader = Reader(server.url, server.cookie(common.READER), kind)
        reader.client.connect()
        assert writer.join(common.SLUG)["ok"] and reader.client.join(common.SLUG)["ok"]
        text = common.p_text(writer.doc.get("body", type=XmlFragment))
        assert str(text) == start
        with writer.lock:
            initial = writer.doc.get_update()
        sent: list[bytes] = []
        subscription = writer.doc.observe(lambda event: sent.append(event.update))  # noqa: F841 - kept alive
        threads_before = server.os_threads()
        cpu_before = server.cpu_seconds()

        n = len(edits)
        print(f"  streaming {n:,} edits (one update each) ...", flush=True)
        progress: list[dict] = []
        started = time.perf_counter()
        writer_id = writer.doc.client_id
        throttled = 0.0
        for i, edit in enumerate(edits, 1):
            with writer.lock:
                with writer.doc.transaction():
                    apply_edit(text, edit)
            if window and i % 100 == 0:
                # Flow control: at most `window` inserted characters not yet at the reader.
                with writer.lock:
                    mine = clock_of(writer.doc.get_state(), writer_id)
                paused = time.perf_counter()
                while mine - reader.clock_of(writer_id) > window and _connected(writer):
                    time.sleep(0.005)
                throttled += time.perf_counter() - paused
            if i % progress_every == 0:
                now = time.perf_counter()
                progress.append({"t": round(now - started, 2), "sent": i, "reader_updates": reader.updates})
                print(f"    {now - started:7.1f} s  sent {i:>8,}   reader has received {reader.updates:>8,} updates",
                      flush=True)
        sent_at = time.perf_counter()

        # Done when the reader's replica holds the expected text. The server broadcasts only what it
        # has stored, so this is also the moment the store held every edit.
        deadline = sent_at + timeout
        last_report = time.perf_counter()
        done = False
        while time.perf_counter() < deadline:
            if reader.length() == len(expected) and reader.text() == expected:
                done = True
                break
            time.sleep(0.05)
            now = time.perf_counter()
            if now - last_report >= 10:
                last_report = now
                progress.append({"t": round(now - started, 2), "sent": n, "reader_updates": reader.updates})
                print(f"    {now - started:7.1f} s  waiting: reader has received {reader.updates:>8,} updates",
                      flush=True)
        done_at = reader.last_at if done else time.perf_counter()
        cpu_after = server.cpu_seconds()
        threads_during = server.os_threads()
        reader_text = reader.text()
        writer_errors, reader_errors = list(writer.errors), list(reader.client.errors)
        writer_connected, reader_connected = _connected(writer), _connected(reader.client)

        stored = common.store_check(server.database)
        writer.close()
        reader.client.close()

    result.update(
        edits=n,
        complete=done,
        writer_send_seconds=sent_at - started,
        writer_throttled_seconds=throttled,
        writer_connected_at_end=writer_connected,
        reader_connected_at_end=reader_connected,
        durable_seconds=done_at - started,
        reader_updates=reader.updates,
        reader_step2=reader.step2s,
        reader_text_ok=reader_text == expected,
        reader_text_length=len(reader_text),
        store_text_ok=stored.pop("text") == expected,
        store=stored,
        writer_errors=writer_errors[:10],
        reader_errors=reader_errors[:10],
        error_count=len(writer_errors) + len(reader_errors),
        server_cpu_seconds=(cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else None,
        server_os_threads=threads_during,
        server_os_threads_before=threads_before,
        progress=progress,
    )
    result["_sent_updates"] = sent
    result["_initial"] = initial
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=DEFAULT_EDITS,
                        help=f"replay only the first N edits (default {DEFAULT_EDITS:,}; --full for the whole trace)")
    parser.add_argument("--window", type=int, default=2000,
                        help="flow control: most typed characters the writer lets be in flight (0: no limit; "
                             "a writer that floods misses Engine.IO pings and is disconnected)")
    parser.add_argument("--full", action="store_true", help="replay the whole trace (259,778 edits)")
    parser.add_argument("--trace", type=Path, default=TRACE)
    parser.add_argument("--transport", choices=["collab", "yjs"], default="yjs",
                        help="the writer's and reader's endpoint: raw /yjs (the browser's) or Socket.IO /collab")
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds to wait, after the last edit is sent, for the reader to catch up")
    args = parser.parse_args()

    if not args.trace.exists():
        print(f"trace not found: {args.trace} (needs ../shared/data)", file=sys.stderr)
        return 2
    data, edits, total = load_trace(args.trace, None if args.full or args.edits <= 0 else args.edits)
    start = data["startContent"]
    n = len(edits)
    print(f"trace_ingest: {args.trace.name}, {n:,} of {total:,} single-edit transactions"
          + ("" if n == total else f"  (default --edits {DEFAULT_EDITS:,}; --full replays all)"), flush=True)
    load_before = os.getloadavg()

    print("  baseline: raw pycrdt in this process ...", flush=True)
    expected, local_s, apply_s, _raw_updates = baseline(edits, start)
    if n == total:
        assert expected == data["endContent"], "raw pycrdt replay does not give the trace's endContent"

    progress_every = max(1, n // 10)
    server = through_server(edits, expected, start, args.timeout, progress_every, args.window, args.transport)
    sent_updates = server.pop("_sent_updates")
    initial = server.pop("_initial")
    a3_s = apply_rate_of(initial, sent_updates)

    durable_rate = n / server["durable_seconds"] if server["complete"] else None
    a1_rate, a2_rate, a3_rate = n / local_s, n / apply_s, len(sent_updates) / a3_s

    def rate(x):
        return f"{x:,.0f} /s" if x is not None else "n/a (did not complete)"

    store = server["store"]
    errors = server["writer_errors"] + server["reader_errors"]
    rows = [
        ("edits replayed", f"{n:,} of {total:,}" + ("" if n == total else "  (--edits)")),
        ("endpoint (writer and reader)", "/yjs (raw y-protocols)" if args.transport == "yjs" else "Socket.IO /collab"),
        ("A1 raw pycrdt: edit -> update (Text)", f"{rate(a1_rate)}   ({local_s:.2f} s)"),
        ("A2 raw pycrdt: apply_update (Text)", f"{rate(a2_rate)}   ({apply_s:.2f} s)"),
        ("A3 raw pycrdt: apply_update (sent updates, XmlText)", f"{rate(a3_rate)}   ({a3_s:.2f} s)"),
        ("writer: all edits emitted after", f"{server['writer_send_seconds']:.2f} s   ({n / server['writer_send_seconds']:,.0f} /s)"),
        ("writer: flow-control window / time paused",
         f"{args.window:,} chars / {server['writer_throttled_seconds']:.1f} s" if args.window else "none"),
        ("writer / reader still connected at end", f"{server['writer_connected_at_end']} / {server['reader_connected_at_end']}"),
        ("server: reader holds every edit after", f"{server['durable_seconds']:.2f} s" + ("" if server["complete"] else "  (timed out)")),
        ("server: durable updates/s", rate(durable_rate)),
        ("ratio durable / A3 apply", f"{durable_rate / a3_rate:.4f}  (1/{a3_rate / durable_rate:,.0f})" if durable_rate else "n/a"),
        ("reader: update broadcasts / step-2 messages", f"{server['reader_updates']:,} / {server['reader_step2']:,}"),
        ("updates merged by out-of-order arrival (edits - broadcasts)",
         f"{n - server['reader_updates']:,}" + ("" if server["reader_step2"] <= 1 else "  (upper bound: resync step 2s also carry edits)")),
        ("reader text == expected", str(server["reader_text_ok"])),
        ("store reloaded independently == expected", str(server["store_text_ok"])),
        ("store: log rows / snapshot last_update_id", f"{store['log_rows']:,} / {store['snapshot_last_update_id']}"),
        ("store: rows per group commit (log since last compaction)",
         f"{store['log_rows'] / store['log_batches']:.1f}  ({store['log_rows']:,} rows in {store['log_batches']:,} commits)"
         if store["log_batches"] else "n/a"),
        ("store: reload time", f"{store['reload_seconds']:.3f} s"),
        ("server worker CPU during run", f"{server['server_cpu_seconds']:.1f} s" if server["server_cpu_seconds"] is not None else "n/a"),
        ("server: gunicorn gthread threads (configured)", str(common.gunicorn_threads())),
        ("server: OS threads in worker (at end)", str(server["server_os_threads"])),
        ("errors reported by the server",
         f"{server['error_count']}  (writer {len(server['writer_errors'])}, reader {len(server['reader_errors'])})"),
    ]
    print()
    print(common.table(rows, "trace_ingest: automerge-paper through the /collab server"))
    if errors:
        print("  first errors:", errors[:3])
    print("  (one process runs both clients; the server is a separate process on the same "
          f"{os.cpu_count()}-CPU machine; load average before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")

    out = {
        "benchmark": "trace_ingest",
        "trace": args.trace.name,
        "edits": n,
        "trace_edits": total,
        "window": args.window,
        "baseline": {
            "local_edit_rate_per_s": a1_rate,
            "apply_update_rate_per_s": a2_rate,
            "apply_update_sent_updates_rate_per_s": a3_rate,
            "local_seconds": local_s,
            "apply_seconds": apply_s,
            "apply_sent_seconds": a3_s,
        },
        "server": {**server, "durable_updates_per_s": durable_rate, "gunicorn_threads": common.gunicorn_threads()},
        "ratio_durable_to_apply": durable_rate / a3_rate if durable_rate else None,
        "machine": common.machine(),
        "load_average_before_after": [load_before[0], os.getloadavg()[0]],
    }
    path = common.write_results("trace_ingest", out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    if not server["complete"]:
        print("  WARNING: the reader never held the expected text (see the checks above)")
    if not server["store_text_ok"]:
        print("  WARNING: the store, reloaded on its own, does not hold the expected text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
