"""Two writers replaying a real concurrent editing trace against the server at the same time.

Trace: ../shared/data/traces/friendsforever.json.gz (two people writing one text together):
`{kind: "concurrent", numAgents: 2, endContent, txns: [{agent, parents, patches: [[pos, del, ins]]}]}`.
A transaction's positions are relative to the text at the version its `parents` name (the
transactions it had seen), not to the text just before it in the file.

1. In this process, the trace is turned into one Yjs update per transaction: each agent has its
   own replica (its own client id); before an agent's transaction, its replica receives exactly
   the other agent's transactions that the `parents` name, then the patches are applied.
   The merge of every update must give `endContent` (checked when the whole trace is replayed).
2. Two client processes (committee accounts) join the server's document. Each replays its
   agent's transactions in order; before each one it waits until the server has delivered the
   other agent's transactions that this one depends on (its replica's state vector), so the
   concurrency of the trace is the concurrency on the wire: transactions the trace made
   concurrently are sent concurrently. A writer keeps at most `--window` of its own transactions
   not yet received by the other writer.
3. Done when both replicas hold both agents' last transaction. Checks: the two replicas'
   texts are equal, equal to the offline merge (and to endContent), and the store reloaded on its
   own gives the same text.

Baselines (this process): generating the updates (local edits) and applying all of them to one
Doc (what the server's room does), both in transactions/s.

Run:  .venv/bin/python bench/concurrent_writers.py [--txns N] [--window 200] [--timeout 300]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import queue
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
from _common import ROOT  # noqa: E402

TRACE = ROOT.parent / "shared" / "data" / "traces" / "friendsforever.json.gz"
CLIENT_IDS = (7_000_001, 7_000_002)  # the two agents' Yjs client ids
WRITERS = ("ana", "bruno")  # both committee accounts


def load(path: Path, limit: int | None):
    data = json.loads(gzip.decompress(path.read_bytes()))
    txns = data["txns"]
    if data.get("numAgents") != 2:
        raise SystemExit(f"expected a two-agent trace, got numAgents={data.get('numAgents')}")
    if limit is not None and 0 < limit < len(txns):
        txns = txns[:limit]  # a prefix is closed under `parents` (parents come first)
    return data, txns


def prepare(initial: bytes, txns):
    """One update per transaction, and for each the other agent's clock it needs first."""
    from pycrdt import Doc, XmlFragment

    docs = [Doc(client_id=cid) for cid in CLIENT_IDS]
    for doc in docs:
        doc.apply_update(initial)
    texts = [common.p_text(doc.get("body", type=XmlFragment)) for doc in docs]
    # version[i] = how many transactions of each agent transaction i's text includes (with i itself).
    version: list[tuple[int, int]] = []
    own: list[list[int]] = [[], []]  # transaction indexes per agent, in order
    clocks: list[list[int]] = [[], []]  # the agent's Yjs clock after each of its transactions
    updates: list[bytes] = []
    needs: list[int] = []  # the other agent's clock the transaction needs
    applied = [[0, 0], [0, 0]]  # applied[a][b]: transactions of b in agent a's replica
    started = time.perf_counter()
    for i, txn in enumerate(txns):
        a, b = txn["agent"], 1 - txn["agent"]
        seen = [0, 0]
        for p in txn["parents"]:
            for k in (0, 1):
                seen[k] = max(seen[k], version[p][k])
        if seen[a] != len(own[a]):
            raise SystemExit(f"transaction {i}: agent {a} does not build on its own previous transaction")
        # Bring a's replica to exactly the parents' version: the other agent's missing transactions.
        if applied[a][b] > seen[b]:
            raise SystemExit(f"transaction {i}: agent {a} already holds more of agent {b} than its parents say")
        for j in own[b][applied[a][b]:seen[b]]:
            docs[a].apply_update(updates[j])
        applied[a][b] = seen[b]
        before = docs[a].get_state()
        with docs[a].transaction():
            for pos, dele, ins in txn["patches"]:
                if dele:
                    del texts[a][pos:pos + dele]
                if ins:
                    texts[a].insert(pos, ins)
        updates.append(docs[a].get_update(before))
        needs.append(clocks[b][seen[b] - 1] if seen[b] else 0)
        own[a].append(i)
        applied[a][a] += 1
        from crdt.protocol import decode_state_vector

        clocks[a].append(decode_state_vector(docs[a].get_state()).get(CLIENT_IDS[a], 0))
        seen[a] += 1
        version.append((seen[0], seen[1]))
    generate_s = time.perf_counter() - started

    merged = Doc()
    merged.apply_update(initial)
    started = time.perf_counter()
    for update in updates:
        merged.apply_update(update)
    apply_s = time.perf_counter() - started
    text = str(common.p_text(merged.get("body", type=XmlFragment)))
    plan = [[(updates[i], needs[i]) for i in own[a]] for a in (0, 1)]
    final_clocks = [clocks[a][-1] if clocks[a] else 0 for a in (0, 1)]
    return plan, final_clocks, text, generate_s, apply_s, clocks


def writer_process(url, cookie, agent, plan, final_clocks, window, progress, ready, start, done, timeout):
    """Replays one agent's transactions, each after the other agent's ones it depends on."""
    from collab_client import CollabClient
    from pycrdt import XmlFragment

    from crdt.protocol import decode_state_vector

    other = 1 - agent
    client = CollabClient(url, cookie, name=f"writer-{agent}").connect()
    ack = client.join(common.SLUG)
    ready.put(agent)
    if not ack.get("ok"):
        done.put((agent, "error", f"join refused: {ack}"))
        return

    def clock(client_id: int) -> int:
        with client.lock:
            return decode_state_vector(client.doc.get_state()).get(client_id, 0)

    start.wait()
    deadline = time.monotonic() + timeout
    waited = 0.0
    try:
        for n, (update, need) in enumerate(plan, 1):
            paused = time.perf_counter()
            while clock(CLIENT_IDS[other]) < need or (window and n - progress[other * 2 + 1] > window):
                if time.monotonic() > deadline or not client.sio.connected:
                    raise TimeoutError(f"writer {agent} stuck at transaction {n} of {len(plan)}")
                # Tell the other writer what has arrived here (it may be waiting on its window).
                progress[agent * 2 + 1] = _count_upto(clock(CLIENT_IDS[other]), other)
                time.sleep(0.001)
            waited += time.perf_counter() - paused
            with client.lock:
                client.doc.apply_update(update)  # a local change: the client sends it
            progress[agent * 2] = n
            # What this writer has received of the other's transactions (for the other's window).
            if n % 20 == 0:
                progress[agent * 2 + 1] = _count_upto(clock(CLIENT_IDS[other]), other)
        while clock(CLIENT_IDS[other]) < final_clocks[other] or clock(CLIENT_IDS[agent]) < final_clocks[agent]:
            progress[agent * 2 + 1] = _count_upto(clock(CLIENT_IDS[other]), other)
            if time.monotonic() > deadline or not client.sio.connected:
                raise TimeoutError(f"writer {agent} never received everything")
            time.sleep(0.005)
        progress[agent * 2 + 1] = 10**9
        finished = time.perf_counter()
        with client.lock:
            text = str(common.p_text(client.doc.get("body", type=XmlFragment)))
        done.put((agent, "ok", {"text": text, "finished": finished, "waited_s": waited, "errors": client.errors[:5]}))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        done.put((agent, "error", repr(exc)))
    finally:
        time.sleep(0.5)
        client.close()


_CLOCK_TABLES: dict[int, list[int]] = {}


def _count_upto(clock_value: int, agent: int) -> int:
    """How many of `agent`'s transactions a replica holding `clock_value` of its clock has."""
    import bisect

    return bisect.bisect_right(_CLOCK_TABLES.get(agent, []), clock_value)


def _init_tables(tables) -> None:
    _CLOCK_TABLES.update(tables)


def _writer_entry(tables, *args) -> None:
    _init_tables(tables)
    writer_process(*args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--txns", type=int, default=0, help="replay only the first N transactions (default: all)")
    parser.add_argument("--window", type=int, default=200,
                        help="most own transactions a writer lets be ahead of what the other writer received")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--trace", type=Path, default=TRACE)
    args = parser.parse_args()
    if not args.trace.exists():
        print(f"trace not found: {args.trace} (needs ../shared/data)", file=sys.stderr)
        return 2
    data, txns = load(args.trace, args.txns or None)
    whole = len(txns) == len(data["txns"])
    load_before = os.getloadavg()
    print(f"concurrent_writers: {args.trace.name}, {len(txns):,} of {len(data['txns']):,} transactions, "
          f"2 writers in 2 processes", flush=True)

    with common.BenchServer(initial_text="") as server:
        from collab_client import CollabClient

        probe = CollabClient(server.url, server.cookie(common.READER), name="reader").connect()
        assert probe.join(common.SLUG)["ok"]
        with probe.lock:
            initial = probe.doc.get_update()
        plan, final_clocks, expected, generate_s, apply_s, tables = prepare(initial, txns)
        print(f"  offline: {len(txns):,} updates generated in {generate_s:.2f} s, merged in {apply_s:.2f} s", flush=True)
        if whole:
            assert expected == data["endContent"], "the offline merge does not give the trace's endContent"
        ctx = mp.get_context("spawn")
        progress = ctx.Array("q", 4, lock=False)
        ready, start, done = ctx.Queue(), ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_writer_entry, args=(dict(enumerate(tables)), server.url, server.cookie(WRITERS[a]),
                                                         a, plan[a], final_clocks, args.window, progress, ready, start,
                                                         done, args.timeout))
                 for a in (0, 1)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=120)
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        start.set()
        outcome = {}
        last = time.monotonic()
        while len(outcome) < 2:
            try:
                agent, status, value = done.get(timeout=1)
                outcome[agent] = (status, value)
            except queue.Empty:
                if time.monotonic() - last > 10:
                    last = time.monotonic()
                    print(f"    {time.perf_counter() - started:6.1f} s  sent {progress[0]:,} + {progress[2]:,}", flush=True)
                if time.perf_counter() - started > args.timeout + 30:
                    break
        cpu_after = server.cpu_seconds()
        for p in procs:
            p.join(30)
        stored = common.store_check(server.database)
        probe.close()

    ok = all(status == "ok" for status, _ in outcome.values()) and len(outcome) == 2
    texts = [outcome[a][1]["text"] for a in (0, 1)] if ok else []
    elapsed = max(outcome[a][1]["finished"] for a in (0, 1)) - started if ok else None
    n = len(txns)
    rows = [
        ("transactions replayed", f"{n:,} of {len(data['txns']):,}  (agent 0: {len(plan[0]):,}, agent 1: {len(plan[1]):,})"),
        ("baseline: generate updates (local edits)", f"{n / generate_s:,.0f} txn/s"),
        ("baseline: apply all updates to one Doc", f"{n / apply_s:,.0f} txn/s"),
        ("through the server: both writers hold everything after", f"{elapsed:.2f} s" if ok else "n/a (did not complete)"),
        ("through the server: throughput", f"{n / elapsed:,.0f} txn/s" if ok else "n/a"),
        ("writers waiting on dependencies / window (s)",
         " / ".join(f"{outcome[a][1]['waited_s']:.1f}" for a in (0, 1)) if ok else "n/a"),
        ("final texts equal (writer 0 == writer 1)", str(ok and texts[0] == texts[1])),
        ("final text == offline merge", str(ok and texts[0] == expected)),
        ("final text == trace endContent", str(ok and texts[0] == data["endContent"]) if whole else "n/a (prefix)"),
        ("store reloaded independently == final text", str(ok and stored["text"] == texts[0])),
        ("server worker CPU", f"{cpu_after - cpu_before:.1f} s" if cpu_before is not None and cpu_after is not None else "n/a"),
    ]
    if not ok:
        rows.append(("errors", "; ".join(f"writer {a}: {v}" for a, (s, v) in outcome.items() if s != "ok") or "timeout"))
    print()
    print(common.table(rows, "concurrent_writers: friendsforever, two writers at once"))
    print(f"  (load average before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")
    out = {
        "benchmark": "concurrent_writers",
        "transactions": n,
        "trace_transactions": len(data["txns"]),
        "complete": ok,
        "seconds": elapsed,
        "throughput_txn_per_s": n / elapsed if ok else None,
        "baseline_generate_txn_per_s": n / generate_s,
        "baseline_apply_txn_per_s": n / apply_s,
        "texts_equal": ok and texts[0] == texts[1],
        "equals_offline_merge": ok and texts[0] == expected,
        "equals_end_content": (ok and texts[0] == data["endContent"]) if whole else None,
        "store_equal": ok and stored["text"] == texts[0],
        "errors": {a: v for a, (s, v) in outcome.items() if s != "ok"},
        "machine": common.machine(),
        "load_average_before_after": [load_before[0], os.getloadavg()[0]],
    }
    path = common.write_results("concurrent_writers", out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
