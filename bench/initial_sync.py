"""Initial sync of the full Mexico City constitution for a new follower (issue 16).

A new anonymous follower sends sync step 1 with an empty state vector; the server answers with
sync step 2 holding the whole document (about 0.6 MB). Measured, first request vs the following
ones (the room keeps the encoded full state until the document changes):

(a) **server time, in-process**: the constitution imported into a fresh SQLite instance, its room
    opened with `crdt.rooms.Rooms` (the class the server uses) and test hooks; a connection joins
    (read-only), then the time from `Room.receive(step 1)` until the room hands step 2 to its
    `send` hook, i.e. queue + worker + encoding, without any network. Then after one small edit
    (which invalidates the cached state) once more.
(b) **through the server**: `constituent serve` on the same instance; for each probe a new
    anonymous connection to `ws://127.0.0.1:<port>/yjs/cdmx` (bench/node/clients.mjs
    `syncprobe`); once the server's own step 1 has arrived (the connection is in the room), the
    round trip from sending step 1 to having received all of step 2. The first probe is the first
    request after the server started.

Baselines in the same run: pycrdt's `Doc.get_update()` of the whole document (the encoding
alone, uncached), and y-websocket 1.5.4's own server holding the same state (seeded by a
client), probed the same way as (b).

Target (issue 16): <= 5 ms server time.

Run:  .venv/bin/python bench/initial_sync.py [--runs 20]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
import _node  # noqa: E402
from big_document import CDMX, SLUG, import_constitution  # noqa: E402
from live_room_yjs import yjs_endpoint_answers  # noqa: E402


def summary(ms: list[float]) -> dict | None:
    if not ms:
        return None
    return {"n": len(ms), "median_ms": statistics.median(ms), "p99_ms": common.percentile(ms, 99),
            "min_ms": min(ms), "max_ms": max(ms)}


def first_and_rest(ms: list[float]) -> dict:
    return {"first_ms": ms[0] if ms else None, "subsequent": summary(ms[1:])}


def in_process(database: str, runs: int) -> dict:
    """(a): the room path itself, no network."""
    from pycrdt import Doc, XmlFragment
    from sqlalchemy import create_engine

    from crdt import protocol
    from crdt.room import RoomHooks
    from crdt.rooms import Rooms
    from crdt.store import UpdateStore

    class Hooks(RoomHooks):
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.got: dict[str, list[tuple[float, bytes]]] = {}
            self.events: dict[str, threading.Event] = {}

        def expect(self, connection: str) -> threading.Event:
            with self.lock:
                self.got[connection] = []
                self.events[connection] = threading.Event()
                return self.events[connection]

        def send(self, room, connection, payload) -> None:
            at = time.perf_counter()
            with self.lock:
                if connection in self.got:
                    self.got[connection].append((at, payload))
                    self.events[connection].set()

    engine = create_engine(database)
    store = UpdateStore(engine)
    hooks = Hooks()
    rooms = Rooms(store, hooks)
    started = time.perf_counter()
    room = rooms.get(SLUG)
    open_ms = (time.perf_counter() - started) * 1000
    step1 = protocol.sync_step1(protocol.EMPTY_STATE_VECTOR)

    def probe(name: str) -> tuple[float, int]:
        joined = hooks.expect(name)
        room.join(name, False)
        if not joined.wait(30):
            raise TimeoutError("no step 1 from the room")
        time.sleep(0.01)  # let the join's other messages (presence) go out
        hooks.expect(name)
        started = time.perf_counter()
        room.receive(name, step1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with hooks.lock:
                for at, payload in hooks.got[name]:
                    if payload[:2] == b"\x00\x01":
                        room.leave(name)
                        return (at - started) * 1000, len(payload)
            time.sleep(0.0005)
        raise TimeoutError("no step 2 from the room")

    times, size = [], 0
    for i in range(runs):
        ms, size = probe(f"follower-{i}")
        times.append(ms)

    # One small edit by a writer (it invalidates the cached full state), then a new follower.
    state = room.call(lambda doc: doc.get_update())
    replica = Doc()
    replica.apply_update(state)

    updates: list[bytes] = []
    subscription = replica.observe(lambda event: updates.append(event.update))  # noqa: F841
    with replica.transaction():
        common.first_text(replica.get("body", type=XmlFragment)).insert(0, "x")
    hooks.expect("writer")
    room.join("writer", True)
    room.receive("writer", protocol.sync_update(updates[0]))
    room.call(lambda doc: None)  # the edit has been applied (and stored) before the next probe
    after_edit = [probe(f"after-edit-{i}")[0] for i in range(2)]

    # The encoding alone: pycrdt's whole-document update, every time computed afresh.
    encode = []
    for _ in range(max(5, runs // 2)):
        started = time.perf_counter()
        room.call(lambda doc: doc.get_update())
        encode.append((time.perf_counter() - started) * 1000)
    compute = []
    for _ in range(max(5, runs // 2)):
        compute.append(room.call(lambda doc: _timed(doc.get_update)))
    rooms.close_all()
    engine.dispose()
    return {"room_open_ms": open_ms, "step2_bytes": size, **first_and_rest(times),
            "after_edit_first_ms": after_edit[0], "after_edit_second_ms": after_edit[1],
            "baseline_get_update_in_worker": summary(compute), "baseline_get_update_call_round_trip": summary(encode)}


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def probe_server(ws_url: str, origin: str, runs: int) -> dict:
    clients = _node.NodeClients({"mode": "syncprobe", "connections": [{"name": "probe", "url": ws_url}],
                                 "origin": origin, "probes": runs, "verify": True, "pause_ms": 20,
                                 "deadline_s": 600}, "sync probe")
    try:
        clients.process.wait(620)
    except Exception:  # noqa: BLE001
        pass
    got = clients.results(30)
    probes = got.get("probes", [])
    errors = [p["error"] for p in probes if "error" in p]
    ms = [p["ms"] for p in probes if "ms" in p]
    return {**first_and_rest(ms), "step2_bytes": next((p["bytes"] for p in probes if "bytes" in p), None),
            "errors": errors[:5], "error_count": len(errors), "verified": got.get("verified"),
            "client_error": got.get("error")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="probes (new followers) per measurement")
    args = parser.parse_args()
    if not CDMX.exists():
        print(f"the constitution is not at {CDMX}", file=sys.stderr)
        return 2
    _node.ensure_installed()
    load_before = os.getloadavg()
    out: dict = {"benchmark": "initial_sync", "runs": args.runs, "node": _node.versions()}
    tmp = Path(tempfile.mkdtemp(prefix="constituent-bench-sync-"))
    instance = tmp / "instance"
    instance.mkdir()
    try:
        print("  importing the constitution ...", flush=True)
        import_constitution(instance)
        database = f"sqlite:///{instance / 'constituent.sqlite3'}"
        print("  (a) in-process, through the room ...", flush=True)
        out["in_process"] = in_process(database, args.runs)

        print("  (b) through the server ...", flush=True)
        with common.BenchServer(instance=instance, seed=False) as server:
            url = server.url.replace("http://", "ws://") + f"/yjs/{SLUG}"
            ok, reason = yjs_endpoint_answers(url, timeout=30)
            if ok:
                out["through_server"] = {"available": True, **probe_server(url, server.url, args.runs)}
            else:
                out["through_server"] = {"available": False, "reason": reason}
                print(f"  /yjs not available: {reason}", flush=True)

        print("  baseline: y-websocket 1.5.4 holding the same state ...", flush=True)
        from sqlalchemy import create_engine

        from crdt.store import UpdateStore

        engine = create_engine(database)
        state = UpdateStore(engine).load(SLUG).doc.get_update()
        engine.dispose()
        with _node.YWebsocketServer() as yws:
            seeder = _node.NodeClients({"mode": "writer", "connections": [{
                "name": "seeder", "url": yws.ws_url(SLUG), "seed": base64.b64encode(state).decode()}],
                "rate": 1, "seconds": 0, "origin": yws.url, "deadline_s": 120}, "seeder")
            try:
                # The writer waits for "go" after syncing; its step 2 carried the state to the server.
                seeder.expect("READY", 60)
                out["y_websocket"] = probe_server(yws.ws_url(SLUG), yws.url, args.runs)
            finally:
                seeder.kill()
    finally:
        if os.environ.get("BENCH_KEEP_INSTANCE") != "1":
            shutil.rmtree(tmp, ignore_errors=True)

    def med(s) -> str:
        return "n/a" if not s else f"median {s['median_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms (n={s['n']})"

    a = out["in_process"]
    b = out["through_server"]
    y = out["y_websocket"]
    rows = [
        ("(a) in-process: step 1 -> step 2 handed to send, first", f"{a['first_ms']:.2f} ms   ({a['step2_bytes']:,} bytes)"),
        ("    subsequent (cached)", med(a["subsequent"])),
        ("    first / second after an edit", f"{a['after_edit_first_ms']:.2f} / {a['after_edit_second_ms']:.2f} ms"),
        ("    baseline: Doc.get_update() of the whole document", med(a["baseline_get_update_in_worker"])),
    ]
    if b.get("available"):
        rows += [
            ("(b) through the server: round trip, first", f"{b['first_ms']:.2f} ms   ({b['step2_bytes']:,} bytes)"
             if b["first_ms"] is not None else "n/a"),
            ("    subsequent", med(b["subsequent"])),
            ("    errors / replica built from step 2", f"{b['error_count']} / {b['verified']}"),
        ]
    else:
        rows.append(("(b) through the server", f"not available ({b.get('reason')})"))
    rows += [
        ("baseline: y-websocket 1.5.4 round trip, first", f"{y['first_ms']:.2f} ms   ({y['step2_bytes']:,} bytes)"
         if y["first_ms"] is not None else f"n/a ({y['errors'][:1]})"),
        ("    subsequent", med(y["subsequent"])),
    ]
    print()
    print(common.table(rows, "initial_sync: the whole Mexico City constitution for a new follower"))
    print(f"  (load average before/after {load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")
    return common.finish("initial_sync", out, load_before)


if __name__ == "__main__":
    sys.exit(main())
