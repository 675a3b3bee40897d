"""The full Mexico City constitution as one live document: load, sync, export, render, memory.

The constitution (../shared/data/cdmx/constitucion-politica-cdmx.txt, 1,611 units) is imported
into a fresh SQLite instance (`import_document`, as `constituent import` does). Then, each step
`--runs` times (median and fastest):

* **cold load from the store**: `UpdateStore.load` (snapshot + log into a pycrdt Doc), and a
  room opened on a fresh `Rooms` (load + worker start), as the first visitor after a restart
  or an eviction pays it;
* **sync step 2 for a new client**: the server's answer to an empty state vector
  (`Doc.get_update`) in-process, and through the server: a new client's `join` until its replica
  is synced (Socket.IO connect excluded);
* **AKN export** (`export_document`, validated against the OASIS schema) and **HTML render**
  (`render_document`), and reading + numbering the live text (`read_live`) they start from;
* **memory per open document**: in a fresh process, `--copies` copies of the constitution opened
  as rooms; RSS delta / copies (pycrdt's memory is Rust's, invisible to tracemalloc);
* **idle eviction**: those rooms closed by `Rooms.evict_idle` once idle; RSS afterwards (the
  allocator may keep freed pages: reported as measured);
* **compaction**: `--edits` single-character updates appended to the log, then
  `UpdateStore.compact`; log rows and snapshot bytes before and after, and the load time
  with the log vs after compaction.

Baseline: parsing the plain text into the unit tree (`import_text`), measured in the same run.

Run:  .venv/bin/python bench/big_document.py [--runs 5] [--copies 10] [--edits 1000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
from _common import ROOT  # noqa: E402

CDMX = ROOT.parent / "shared" / "data" / "cdmx" / "constitucion-politica-cdmx.txt"
SLUG = "cdmx"


def timed(runs: int, fn):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return result, {"median_ms": statistics.median(times) * 1000, "fastest_ms": min(times) * 1000, "runs": runs}


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def import_constitution(instance: Path) -> None:
    from editor import create_app
    from editor.accounts import add_user
    from editor.interchange import import_document

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    for email, role in common.ACCOUNTS.values():
        add_user(services.db, email, role, common.PASSWORD)
    import_document(services, CDMX.read_bytes(), "text", slug=SLUG, title=None, doctype="act", published=True)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


def memory_process(database: str, copies: int, out) -> None:
    """In a fresh process: open `copies` rooms of the constitution, then let them be evicted."""
    import gc

    from sqlalchemy import create_engine

    from crdt.room import RoomHooks
    from crdt.rooms import Rooms
    from crdt.store import UpdateStore

    engine = create_engine(database)
    store = UpdateStore(engine)
    state = store.load(SLUG).doc.get_update()
    for i in range(copies):
        if not store.exists(f"copy-{i}"):
            store.append(f"copy-{i}", [state])
    del state
    gc.collect()
    rooms = Rooms(store, RoomHooks(), idle_seconds=1.0)
    rooms.get("warm-up-empty")  # thread machinery and pycrdt loaded before the baseline
    time.sleep(0.5)
    before = rss_bytes()
    steps = []
    for i in range(copies):
        rooms.get(f"copy-{i}")
        steps.append(rss_bytes() - before)
    opened = rss_bytes()
    deadline = time.monotonic() + 30
    while any(n.startswith("copy-") for n in rooms.open_names()) and time.monotonic() < deadline:
        time.sleep(0.2)  # the reaper (every idle_seconds / 4) closes idle rooms on its own
        rooms.evict_idle()
    still_open = len([n for n in rooms.open_names() if n.startswith("copy-")])
    gc.collect()
    after = rss_bytes()
    trimmed = after
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        trimmed = rss_bytes()
    except (OSError, AttributeError):
        pass
    for i in range(copies):  # open them all again: freed memory is reused, RSS does not double
        rooms.get(f"copy-{i}")
    reopened = rss_bytes()
    out.put({
        "copies": copies,
        "rss_before": before,
        "rss_opened": opened,
        "rss_after_eviction": after,
        "rss_after_eviction_trimmed": trimmed,
        "rss_reopened": reopened,
        "per_document_bytes": (opened - before) / copies,
        "rss_steps": steps,
        "evicted": copies - still_open,
        "open_after_eviction": still_open,
    })
    rooms.close_all()
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--copies", type=int, default=10, help="copies opened for the memory figure")
    parser.add_argument("--edits", type=int, default=1000, help="logged updates before the compaction figure")
    args = parser.parse_args()
    if not CDMX.exists():
        print(f"the constitution is not at {CDMX}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    from pycrdt import Doc, XmlFragment
    from sqlalchemy import create_engine

    from akoma_ntoso.render import render_document
    from akoma_ntoso.text_import import import_text
    from crdt.room import RoomHooks
    from crdt.rooms import Rooms
    from crdt.store import UpdateStore

    source = CDMX.read_text(encoding="utf-8")
    _, t_parse = timed(args.runs, lambda: import_text(source))
    tmp = Path(tempfile.mkdtemp(prefix="constituent-bench-big-"))
    instance = tmp / "instance"
    instance.mkdir()
    figures: dict = {}
    try:
        started = time.perf_counter()
        import_constitution(instance)
        figures["import_seconds"] = time.perf_counter() - started
        database = f"sqlite:///{instance / 'constituent.sqlite3'}"
        engine = create_engine(database)
        store = UpdateStore(engine)

        loaded, t_load = timed(args.runs, lambda: store.load(SLUG))
        state = loaded.doc.get_update()

        def open_room():
            rooms = Rooms(store, RoomHooks())
            rooms.get(SLUG)
            return rooms

        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            rooms = open_room()
            times.append(time.perf_counter() - started)
            rooms.close_all()
        t_room = {"median_ms": statistics.median(times) * 1000, "fastest_ms": min(times) * 1000, "runs": args.runs}
        step2, t_step2 = timed(args.runs, lambda: loaded.doc.get_update(Doc().get_state()))

        # Reading, exporting and rendering, as the application does.
        from editor import create_app
        from editor.interchange import export_document
        from editor.livetext import read_live

        app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
        services = app.extensions["constituent"]
        with app.app_context():
            live, t_read = timed(args.runs, lambda: read_live(services, SLUG))
            akn, t_akn = timed(args.runs, lambda: export_document(services, SLUG, "akn", app.config))
            html, t_html = timed(args.runs, lambda: render_document(live.units, "Constitución"))
        services.db.remove()
        services.rooms.close_all()
        services.engine.dispose()

        # Through the server: a new client's sync.
        with common.BenchServer(instance=instance, seed=False) as server:
            from collab_client import CollabClient

            cookie = server.cookie(common.READER)
            syncs = []
            for _ in range(args.runs):
                client = CollabClient(server.url, cookie, name="newcomer").connect()
                started = time.perf_counter()
                ack = client.join(SLUG)
                syncs.append(time.perf_counter() - started)
                assert ack["ok"]
                with client.lock:
                    units_ok = len(client.body.children) > 0
                client.close()
            assert units_ok
        t_sync = {"median_ms": statistics.median(syncs) * 1000, "fastest_ms": min(syncs) * 1000, "runs": args.runs}

        # Memory per open document, and idle eviction, in a clean process.
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=memory_process, args=(database, args.copies, queue))
        proc.start()
        memory = queue.get(timeout=600)
        proc.join(60)

        # Compaction: a log of single-character edits, then one compaction.
        doc = Doc()
        doc.apply_update(state)
        body = doc.get("body", type=XmlFragment)

        target = common.first_text(body)
        updates = []
        subscription = doc.observe(lambda event: updates.append(event.update))  # noqa: F841
        for _ in range(args.edits):
            with doc.transaction():
                target.insert(0, "x")
        del subscription
        for k in range(0, len(updates), 100):
            store.append(SLUG, updates[k:k + 100])
        with_log_rows = store.log_length(SLUG)
        _, t_load_log = timed(args.runs, lambda: store.load(SLUG))
        started = time.perf_counter()
        folded = store.compact(SLUG)
        t_compact = (time.perf_counter() - started) * 1000
        after_rows = store.log_length(SLUG)
        _, t_load_compacted = timed(args.runs, lambda: store.load(SLUG))
        from sqlalchemy import func, select

        from crdt.store import crdt_snapshot

        with engine.connect() as conn:
            snapshot_bytes = conn.execute(select(func.length(crdt_snapshot.c.payload)).where(
                crdt_snapshot.c.document == SLUG)).scalar()
        engine.dispose()
    finally:
        if os.environ.get("BENCH_KEEP_INSTANCE") != "1":
            shutil.rmtree(tmp, ignore_errors=True)

    mb = 1024 * 1024

    def ms(t):
        return f"{t['median_ms']:8.1f} ms   (fastest {t['fastest_ms']:.1f})"

    rows = [
        ("baseline: plain text -> unit tree (import_text)", ms(t_parse)),
        ("cold load from the store (UpdateStore.load)", ms(t_load)),
        ("cold open of a room (load + worker)", ms(t_room)),
        ("sync step 2 for a new client, in-process", f"{ms(t_step2)}   {len(step2):,} bytes"),
        ("sync for a new client through the server (join -> synced)", ms(t_sync)),
        ("read_live (CRDT -> XML -> numbered units)", ms(t_read)),
        ("AKN export (export_document, schema-validated)", f"{ms(t_akn)}   {len(akn):,} bytes"),
        ("HTML render (render_document)", f"{ms(t_html)}   {len(html.encode()):,} bytes"),
        ("memory per open document (RSS delta / copies)",
         f"{memory['per_document_bytes'] / mb:.1f} MB   ({memory['copies']} copies: "
         f"{(memory['rss_opened'] - memory['rss_before']) / mb:.0f} MB)"),
        ("idle eviction: rooms closed / still open",
         f"{memory['evicted']} / {memory['open_after_eviction']}   RSS vs before opening: "
         f"{(memory['rss_after_eviction'] - memory['rss_before']) / mb:+.0f} MB, after malloc_trim "
         f"{(memory['rss_after_eviction_trimmed'] - memory['rss_before']) / mb:+.0f} MB, all reopened "
         f"{(memory['rss_reopened'] - memory['rss_before']) / mb:+.0f} MB"),
        (f"compaction of {args.edits:,} logged edits", f"{t_compact:8.1f} ms   log rows {with_log_rows:,} -> {after_rows:,}"
                                                        f" (folded {folded}), snapshot {snapshot_bytes:,} bytes"),
        ("load with that log / after compaction", f"{t_load_log['median_ms']:.1f} ms / {t_load_compacted['median_ms']:.1f} ms"),
        ("CRDT state of the document", f"{len(state):,} bytes"),
    ]
    print(common.table(rows, f"big_document: Mexico City constitution ({len(live.units)} top-level units), {args.runs} runs"))
    print(f"  (import into SQLite: {figures['import_seconds']:.1f} s; load average before/after: "
          f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")
    out = {
        "benchmark": "big_document",
        "parse": t_parse, "cold_load": t_load, "cold_room_open": t_room, "sync_step2_in_process": t_step2,
        "sync_step2_bytes": len(step2), "sync_through_server": t_sync, "read_live": t_read,
        "akn_export": t_akn, "akn_bytes": len(akn), "html_render": t_html, "html_bytes": len(html.encode()),
        "memory": memory, "memory_per_document_mb": memory["per_document_bytes"] / mb,
        "compaction": {"edits": args.edits, "ms": t_compact, "log_rows_before": with_log_rows,
                       "log_rows_after": after_rows, "snapshot_bytes": snapshot_bytes,
                       "load_with_log": t_load_log, "load_after": t_load_compacted},
        "state_bytes": len(state), "import_seconds": figures["import_seconds"],
        "machine": common.machine(), "load_average_before_after": [load_before[0], os.getloadavg()[0]],
    }
    path = common.write_results("big_document", out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
