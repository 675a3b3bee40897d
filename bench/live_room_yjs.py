"""The live room over raw y-protocols WebSockets (issue 16), against y-websocket's own server in the same run.

One document; one writer, `--editors` committee members and `--followers` anonymous followers
(the issue's room: 1 writer at 20 updates/s, 50 editors, 500 followers, ~15 s). `--settle`
seconds after the last listener synced, the writer sends `--warmup` seconds of unmeasured
updates, then inserts the marker "[n]" at the end of the document's text `--rate` times a second
for `--seconds`, noting each send time; every other client applies every update to its own Y.Doc
(Yjs) and notes when each marker appears in its replica's text (in a Yjs observer, inside the
apply). Latency = apply time - send time over all (update, listener) pairs; **delivered** = the
share of those pairs whose marker arrived. Both times are CLOCK_MONOTONIC (Node's
process.hrtime = libuv's uv_hrtime), the same clock in every process of the machine.

The same client program (bench/node/clients.mjs: node `ws`, y-protocols, one Y.Doc per
connection) runs against:

* **Constituent**: `constituent serve` (one gunicorn process, SQLite in a temporary instance),
  endpoint `ws://127.0.0.1:<port>/yjs/<slug>`. The document is published; the writer (`ana`)
  and the editors (`--editors` committee accounts created for the run) send their session
  cookie (they signed in by POST /login); followers send none (anonymous: read-only).
* **baseline: y-websocket 1.5.4's own server** (`node_modules/y-websocket/bin/server.js`:
  in memory, no persistence, no auth), seeded by the writer with exactly the state Constituent's
  document starts from.

Also reported: server step 1s the listeners received while typing (Constituent's periodic
resync, every CONSTITUENT_ROOM_RESYNC_SECONDS) and the "permission denied" messages they got.

Clients live in their own processes: the writer in one, the listeners dealt over `--procs`
processes (default 3). Server, clients and the rest of the machine share its CPUs: the
clients' own decoding and applying (11,000 updates/s at full scale) is part of what is measured,
equally for both servers.

If Constituent's /yjs endpoint does not answer (sync step 1 within 5 s), its figures are "not
available" and the baseline is still measured.

Run:  .venv/bin/python bench/live_room_yjs.py [--editors 50] [--followers 500] [--rate 20] [--seconds 15] [--procs 3]
      [--settle 3] [--warmup 2] [--tail 5] [--resend-step1 5] [--only constituent|y-websocket]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
import _node  # noqa: E402

INITIAL_TEXT = "Toda persona tiene derecho a la ciudad. "


def editor_email(i: int) -> str:
    return f"bench-editor-{i:03d}@example.org"


def add_accounts(instance: Path, emails: list[str], role: str = "committee") -> None:
    from editor import create_app
    from editor.accounts import add_user

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    for email in emails:
        add_user(services.db, email, role, common.PASSWORD)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


def document_state(instance: Path, slug: str = common.SLUG) -> bytes:
    """The document's whole CRDT state as the store holds it (what a new replica syncs to)."""
    from sqlalchemy import create_engine

    from crdt.store import UpdateStore

    engine = create_engine(f"sqlite:///{instance / 'constituent.sqlite3'}")
    try:
        return UpdateStore(engine).load(slug).doc.get_update()
    finally:
        engine.dispose()


def session_cookie(base_url: str, email: str) -> str:
    from conftest import login

    session = login(base_url, email)
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def yjs_endpoint_answers(ws_url: str, cookie: str | None = None, timeout: float = 5.0) -> tuple[bool, str]:
    """A connection to `ws_url` receives a y-protocols sync step 1 within `timeout`."""
    import websocket  # websocket-client

    try:
        ws = websocket.create_connection(ws_url, timeout=timeout, cookie=cookie or None)
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return False, f"{ws_url}: {type(exc).__name__}: {exc}"[:200]
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            opcode, data = ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_BINARY and data[:2] == b"\x00\x00":
                return True, ""
        return False, "no sync step 1"
    except Exception as exc:  # noqa: BLE001
        return False, f"{ws_url}: no sync step 1 ({type(exc).__name__}: {exc})"[:200]
    finally:
        ws.close()


def joined_role(ws_url: str, cookie: str | None, timeout: float = 10.0) -> str | None:
    """The role Constituent gives a connection (its `joined` panel event, asked for with ?events=1)."""
    import json

    import websocket  # websocket-client

    from crdt.protocol import _Reader

    try:
        ws = websocket.create_connection(ws_url + "?events=1", timeout=timeout, cookie=cookie or None)
    except Exception:  # noqa: BLE001
        return None
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            opcode, data = ws.recv_data()
            if data[:1] == b"\x64":  # message type 100: a JSON [event, data]
                reader = _Reader(bytes(data))
                reader.varuint()
                event, body = json.loads(reader.var_bytes())
                if event == "joined":
                    return body.get("role")
        return None
    except Exception:  # noqa: BLE001
        return None
    finally:
        ws.close()


def run_room(label: str, writer_spec: dict, listener_specs: list[dict], args, origin: str,
             server_pid_fn) -> dict:
    """Writer + listeners against one server; returns the figures."""
    writer = _node.NodeClients({"mode": "writer", "connections": [writer_spec], "rate": args.rate,
                                "seconds": args.seconds, "warmup_s": args.warmup, "origin": origin,
                                "resend_step1_s": args.resend_step1, "deadline_s": 600}, f"{label} writer")
    listeners: list[_node.NodeClients] = []
    try:
        ready = writer.expect("READY", 90)
        if not ready.get("ok"):
            return {"available": False, "reason": f"writer could not sync: {ready}"}
        groups = _node.split(listener_specs, args.procs)
        started = time.perf_counter()
        for k, group in enumerate(groups):
            listeners.append(_node.NodeClients({"mode": "listeners", "connections": group, "origin": origin,
                                                "concurrency": args.concurrency, "sync_timeout_s": 60,
                                                "resend_step1_s": args.resend_step1, "deadline_s": 600}, f"{label} listeners {k}"))
        readies = [p.expect("READY", 400) for p in listeners]
        synced = sum(r["synced"] for r in readies)
        resent = sum(r.get("step1_resent", 0) for r in readies)
        connect_s = time.perf_counter() - started
        failures = [r["first_error"] for r in readies if r.get("first_error")]
        print(f"  {label}: {synced} of {len(listener_specs)} listeners synced in {connect_s:.1f} s "
              f"({len(groups)} processes){'; first failure: ' + failures[0] if failures else ''}", flush=True)
        time.sleep(args.settle)  # what joining left to do (audit, presence, GC) is done before typing
        pid = server_pid_fn()
        cpu_before, rss_before = common.proc_cpu_seconds(pid), _node.proc_rss(pid)
        # The server process's CPU use, sampled every 0.5 s while typing (a stall shows there).
        sampling = threading.Event()
        cpu_samples: list[tuple[float, float | None]] = []

        def sample() -> None:
            t0 = time.monotonic()
            while not sampling.wait(0.5):
                cpu_samples.append((round(time.monotonic() - t0, 2), common.proc_cpu_seconds(pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        writer.send("go")
        try:
            typed = writer.expect("TYPED", args.warmup + args.seconds + 120)
        finally:
            sampling.set()
            sampler.join(5)
        cpu_after, rss_after = common.proc_cpu_seconds(pid), _node.proc_rss(pid)
        print(f"  {label}: writer sent {typed['updates']} updates in {typed['seconds']:.1f} s; waiting "
              f"{args.tail:g} s for the tail ...", flush=True)
        time.sleep(args.tail)
        collected = [p.results(120) for p in listeners]
        wrote = writer.results(60)
    finally:
        for p in [writer, *listeners]:
            p.kill()

    sent = {int(k): v for k, v in wrote.get("sent", {}).items()}
    latencies: list[float] = []
    by_role: dict[str, list[float]] = {"editor": [], "follower": []}
    missing = 0
    not_synced = 0
    closed = []
    errors = []
    denied = 0
    unanswered = 0
    denied_examples: list[str] = []
    per_listener_p99 = []
    peers = [peer for part in collected for peer in part.get("peers", [])]
    lost_processes = [part.get("error") for part in collected if "peers" not in part]
    for peer in peers:
        role = "editor" if peer["name"].startswith("editor") else "follower"
        arrivals = peer["arrivals"]
        if not peer["synced"]:
            not_synced += 1
        if peer.get("closed"):
            closed.append(peer["closed"])
        errors += peer.get("errors", [])
        if peer.get("step1_resent") and peer.get("counts", {}).get("step2", 0) < 1 + peer["step1_resent"]:
            unanswered += 1  # fewer step 2s than step 1s sent: one went unanswered
        # y-websocket's "permission denied" auth messages, counted apart from errors. (A follower
        # answers each server step 1, on join and at every periodic resync, with its step 2, as
        # the y-websocket provider does; Yjs puts the whole delete set in every step 2.)
        denied += peer.get("counts", {}).get("denied", 0)
        if peer.get("denied") and len(denied_examples) < 3:
            denied_examples.append(peer["denied"][0])
        mine = []
        for seq, at in sent.items():
            got = arrivals.get(str(seq))
            if got is None:
                missing += 1
            else:
                mine.append((got - at) / 1e9)
        latencies += mine
        by_role[role] += mine
        if mine:
            per_listener_p99.append(common.percentile(mine, 99))
    # Server step 1s that reached listeners while the measured updates were sent (after their
    # join's): the server's periodic state-vector resync, which every listener answers.
    resyncs = []
    if sent:
        first, last = min(sent.values()), max(sent.values()) + args.tail * 1e9
        for peer in peers:
            resyncs += [t for t in peer.get("step1_times", [])[1:] if first <= t <= last]
    # Latency over time: p50 / p99 of the updates sent in each second of typing.
    timeline = []
    if sent:
        per_second: dict[int, list[float]] = {}
        rate = max(1, int(round(args.rate)))
        for peer in peers:
            for seq, at in sent.items():
                got = peer["arrivals"].get(str(seq))
                if got is not None:
                    per_second.setdefault(seq // rate, []).append((got - at) / 1e6)
        for second in sorted(per_second):
            values = per_second[second]
            timeline.append([second, round(common.percentile(values, 50), 2), round(common.percentile(values, 99), 2)])
    # Listeners whose process produced nothing count as entirely missing.
    unreported = len(listener_specs) - len(peers)
    missing += unreported * len(sent)
    pairs_expected = len(sent) * len(listener_specs)
    return {
        "available": True,
        "listeners": len(listener_specs),
        "listeners_synced": synced,
        "listeners_not_synced": not_synced,
        "listeners_step1_resent": resent,
        "writer_step1_resent": ready.get("step1_resent", 0),
        "listeners_step1_unanswered": unanswered,
        "listener_processes": len(listeners),
        "connect_and_sync_seconds": connect_s,
        "updates": len(sent),
        "pairs_expected": pairs_expected,
        "pairs_delivered": len(latencies),
        "missing_pairs": missing,
        "delivered_pct": 100.0 * len(latencies) / pairs_expected if pairs_expected else None,
        "latency": common.summary_ms(latencies) if latencies else None,
        "latency_editors": common.summary_ms(by_role["editor"]) if by_role["editor"] else None,
        "latency_followers": common.summary_ms(by_role["follower"]) if by_role["follower"] else None,
        "timeline_p50_p99_ms_by_second": timeline,
        "worst_listener_p99_ms": max(per_listener_p99) * 1000 if per_listener_p99 else None,
        "writer_max_lateness_ms": wrote.get("max_lateness_ms"),
        "typed_for_seconds": wrote.get("typed_for_s"),
        "writer_closed": wrote.get("closed"),
        "writer_errors": wrote.get("errors", [])[:5],
        "listeners_closed_during_run": len(closed),
        "first_close": closed[0] if closed else None,
        "client_errors": errors[:10],
        "client_error_count": len(errors),
        "permission_denied_messages": denied,
        "server_resync_step1_during_run": len(resyncs),
        "server_resync_first_at_s": round((min(resyncs) - min(sent.values())) / 1e9, 2) if resyncs else None,
        "permission_denied_examples": denied_examples,
        "lost_listener_processes": lost_processes,
        "server_cpu_seconds_while_typing": (cpu_after - cpu_before) if None not in (cpu_before, cpu_after) else None,
        "server_cpu_share_by_half_second": [
            [t1, round((c1 - c0) / (t1 - t0), 2)] for (t0, c0), (t1, c1) in zip(cpu_samples, cpu_samples[1:], strict=False)
            if c0 is not None and c1 is not None],
        "server_rss_mb": [None if r is None else round(r / 2**20, 1) for r in (rss_before, rss_after)],
    }


def specs(ws_url: str, editors: int, followers: int, editor_cookies: list[str | None]) -> list[dict]:
    out = [{"name": f"editor-{i:03d}", "url": ws_url, "cookie": editor_cookies[i]} for i in range(editors)]
    out += [{"name": f"follower-{i:03d}", "url": ws_url, "cookie": None} for i in range(followers)]
    return out


def fmt(s) -> str:
    if s is None:
        return "n/a"
    return f"p50 {s['p50_ms']:7.2f}   p99 {s['p99_ms']:7.2f}   max {s['max_ms']:8.2f} ms   (n={s['n']:,})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--editors", type=int, default=50, help="logged-in committee members besides the writer")
    parser.add_argument("--followers", type=int, default=500, help="anonymous followers")
    parser.add_argument("--rate", type=float, default=20.0, help="writer updates per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the writer types")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds of unmeasured updates at the same rate before the measured ones")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds between the last listener's sync and the first update")
    parser.add_argument("--procs", type=int, default=3, help="Node processes the listeners are spread over")
    parser.add_argument("--concurrency", type=int, default=20, help="connections opening at once per process")
    parser.add_argument("--tail", type=float, default=5.0, help="seconds to wait for late markers after the last send")
    parser.add_argument("--resend-step1", type=float, default=5.0,
                        help="a client without step 2 this many seconds after its step 1 sends it again (0: never)")
    parser.add_argument("--only", choices=("constituent", "y-websocket"), default=None)
    args = parser.parse_args()
    _node.ensure_installed()
    load_before = os.getloadavg()
    print(f"live_room_yjs: 1 writer + {args.editors} editors + {args.followers} followers, "
          f"{args.rate:g} updates/s for {args.seconds:g} s", flush=True)

    out: dict = {"benchmark": "live_room_yjs", "editors": args.editors, "followers": args.followers,
                 "rate_per_s": args.rate, "seconds": args.seconds, "node": _node.versions()}
    # One instance for the whole run: its document's state also seeds the y-websocket baseline.
    tmp = Path(tempfile.mkdtemp(prefix="constituent-bench-yjs-"))
    instance = tmp / "instance"
    instance.mkdir()
    try:
        common.seed_bench_instance(instance, INITIAL_TEXT)
        add_accounts(instance, [editor_email(i) for i in range(args.editors)])
        state = document_state(instance)
        out["document_state_bytes"] = len(state)

        if args.only in (None, "y-websocket"):
            with _node.YWebsocketServer() as yws:
                url = yws.ws_url(common.SLUG)
                writer = {"name": "writer", "url": url, "cookie": None, "seed": base64.b64encode(state).decode()}
                out["y_websocket"] = run_room("y-websocket", writer, specs(url, args.editors, args.followers,
                                                                           [None] * args.editors),
                                              args, yws.url, lambda: yws.pid)
                out["y_websocket"]["server"] = "y-websocket 1.5.4 bin/server.js (node, one process)"

        if args.only in (None, "constituent"):
            with common.BenchServer(instance=instance, seed=False) as server:
                url = server.url.replace("http://", "ws://") + f"/yjs/{common.SLUG}"
                ok, reason = yjs_endpoint_answers(url)
                if not ok:
                    print(f"  constituent: /yjs not available ({reason})", flush=True)
                    out["constituent"] = {"available": False, "reason": reason}
                else:
                    t0 = time.perf_counter()
                    cookies = [session_cookie(server.url, editor_email(i)) for i in range(args.editors)]
                    writer_cookie = server.cookie(common.WRITER)
                    print(f"  constituent: {args.editors + 1} accounts signed in ({time.perf_counter() - t0:.1f} s)",
                          flush=True)
                    roles = {"writer": joined_role(url, writer_cookie), "editor": joined_role(url, cookies[0]),
                             "follower": joined_role(url, None)} if args.editors else {}
                    print(f"  constituent: roles given (?events=1 'joined'): {roles}", flush=True)
                    writer = {"name": "writer", "url": url, "cookie": writer_cookie}
                    out["constituent"] = run_room("constituent", writer,
                                                  specs(url, args.editors, args.followers, cookies),
                                                  args, server.url, server.worker_pid)
                    out["constituent"]["server"] = "constituent serve (gunicorn, one worker process), SQLite"
                    out["constituent"]["roles_given"] = roles
    finally:
        if os.environ.get("BENCH_KEEP_INSTANCE") != "1":
            shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    for key, name in (("constituent", "Constituent /yjs"), ("y_websocket", "baseline: y-websocket 1.5.4")):
        data = out.get(key)
        if data is None:
            continue
        if not data.get("available"):
            rows.append((f"{name}", f"not available ({data.get('reason')})"))
            continue
        rows += [
            (f"{name}: writer -> listener", fmt(data["latency"])),
            ("  editors / followers p99", " / ".join(
                f"{s['p99_ms']:.2f} ms" if s else "n/a" for s in (data["latency_editors"], data["latency_followers"]))),
            ("  delivered (pairs)", f"{data['delivered_pct']:.2f} %   ({data['pairs_delivered']:,} of "
                                    f"{data['pairs_expected']:,}; missing {data['missing_pairs']:,})"),
            ("  listeners synced / closed during run",
             f"{data['listeners_synced']} of {data['listeners']} / {data['listeners_closed_during_run']}"),
            (f"  clients that sent step 1 again (no step 2 within {args.resend_step1:g} s)",
             f"{data['listeners_step1_resent']} listeners ({data['listeners_step1_unanswered']} of them never got an "
             f"answer to one), writer {data['writer_step1_resent']}"),
            ("  writer: updates / max lateness", f"{data['updates']} / {data['writer_max_lateness_ms']:.1f} ms"),
            ("  server CPU while typing", f"{data['server_cpu_seconds_while_typing']:.2f} s of "
                                          f"{data['typed_for_seconds']:.1f} s" if data["server_cpu_seconds_while_typing"]
                                          is not None else "n/a"),
            ("  client errors / 'permission denied' messages received",
             f"{data['client_error_count']} / {data['permission_denied_messages']}"),
            ("  server resync step 1s received while typing", f"{data['server_resync_step1_during_run']}"
             + (f" (first {data['server_resync_first_at_s']:.1f} s after the first measured update)"
                if data["server_resync_first_at_s"] is not None else "")),
        ]
    print()
    print(common.table(rows, f"live_room_yjs: 1 writer, {args.editors} editors, {args.followers} followers, "
                             f"{args.rate:g} updates/s, {args.seconds:g} s"))
    print(f"  clients: bench/node/clients.mjs (ws {out['node']['ws']}, yjs {out['node']['yjs']}), writer in one "
          f"process, listeners in {args.procs}; {os.cpu_count()} CPUs shared with the server "
          f"(load average before/after {load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")
    return common.finish("live_room_yjs", out, load_before)


if __name__ == "__main__":
    sys.exit(main())
