"""An audience of live followers on one server process, and the public pages meanwhile (issue 16).

The Mexico City constitution is imported into a fresh SQLite instance and published; one
`constituent serve` (one gunicorn worker process) serves it. Then:

1. **baseline** (same run, no live connection): `--requests` sequential anonymous GETs of the
   document page `/d/cdmx` and of a clause page (`--clause`, default `/d/cdmx/art_16`), each after
   a few warm-up requests (the page cache serves anonymous readers), from this process;
2. one follower connects to `ws://127.0.0.1:<port>/yjs/cdmx` (the room opens, the document is
   loaded): the worker's RSS is read;
3. `--followers` more anonymous followers (default 2,000) connect from `--procs` Node processes
   (bench/node/clients.mjs `audience` mode: each sends sync step 1 with an empty state vector,
   receives the whole document in step 2, answers the server's step 1, then stays idle; they
   check step 2 arrived and count its bytes but build no Y.Doc). The worker's RSS again, after
   the followers are in and 2 s later: **memory per connection** = RSS growth / followers;
4. the same page requests again with all of them connected (idle), and the count of followers
   still connected at the end.

The page requests carry no cookie (first-time visitors) and run one at a time from this process,
which is neither the server nor a follower process. Target (issue 16): page p99 <= 100 ms with
2,000 followers connected.

If the /yjs endpoint does not answer, the scenario says "not available" (the page baseline is
still measured).

Run:  .venv/bin/python bench/audience.py [--followers 2000] [--procs 2] [--requests 200] [--clause /d/cdmx/art_16]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
import _node  # noqa: E402
from big_document import CDMX, SLUG, import_constitution  # noqa: E402
from live_room_yjs import document_state, yjs_endpoint_answers  # noqa: E402

MB = 2**20


def page_latencies(base: str, path: str, n: int, warmup: int = 5) -> dict:
    """`n` sequential anonymous GETs of `path` (after `warmup` unmeasured ones)."""
    import requests

    session = requests.Session()
    times, bad, size, cache = [], 0, 0, None
    for i in range(warmup + n):
        session.cookies.clear()
        started = time.perf_counter()
        response = session.get(base + path, timeout=30)
        elapsed = time.perf_counter() - started
        if i >= warmup:
            times.append(elapsed)
            bad += response.status_code != 200
        size = len(response.content)
        cache = response.headers.get("X-Constituent-Cache", cache)
    return {**common.summary_ms(times), "not_200": bad, "bytes": size, "cache_header": cache, "path": path}


def open_followers(url: str, origin: str, pid_fn, args, label: str, meanwhile=None) -> dict:
    """One follower, then `args.followers` more from `args.procs` Node processes; the server's RSS
    at each step; `meanwhile()` runs while they are all connected."""
    pid = pid_fn()
    out: dict = {"rss_mb_before": _node.proc_rss(pid) / MB}
    warm = _node.NodeClients({"mode": "audience", "connections": [{"name": "first", "url": url}],
                              "origin": origin, "deadline_s": 3600}, f"{label} first follower")
    procs: list[_node.NodeClients] = []
    try:
        first = warm.expect("READY", 120)
        time.sleep(1.0)
        rss_one = _node.proc_rss(pid)
        out["rss_mb_one_follower"] = rss_one / MB
        out["step2_bytes"] = first.get("step2_bytes")
        print(f"  {label}: one follower in (step 2: {first.get('step2_bytes')} bytes); server RSS "
              f"{rss_one / MB:.0f} MB; opening {args.followers} more from {args.procs} processes ...", flush=True)
        specs = [{"name": f"follower-{i:04d}", "url": url} for i in range(args.followers)]
        started = time.perf_counter()
        for k, group in enumerate(_node.split(specs, args.procs)):
            procs.append(_node.NodeClients({
                "mode": "audience", "connections": group, "origin": origin, "concurrency": args.concurrency,
                "sync_timeout_s": args.sync_timeout, "resend_step1_s": args.resend_step1,
                "progress_every": max(100, args.followers // args.procs // 5),
                "deadline_s": 3600}, f"{label} followers {k}"))
        readies = [p.expect("READY", 1800) for p in procs]
        opened_s = time.perf_counter() - started
        synced = sum(r["synced"] for r in readies)
        failures = [r["first_error"] for r in readies if r.get("first_error")]
        rss_in = _node.proc_rss(pid)
        time.sleep(2.0)
        rss_settled = _node.proc_rss(pid)
        print(f"  {label}: {synced} of {args.followers} followers synced in {opened_s:.1f} s"
              f"{'; first failure: ' + failures[0] if failures else ''}; server RSS {rss_settled / MB:.0f} MB", flush=True)
        if meanwhile is not None:
            meanwhile()
        ends = [p.results(120) for p in procs]
        warm.results(30)
    finally:
        for p in [warm, *procs]:
            p.kill()
    out.update(
        followers_synced=synced,
        followers_failed=sum(r["failed"] for r in readies),
        followers_step1_resent=sum(r.get("step1_resent", 0) for r in readies),
        first_failure=failures[0] if failures else None,
        open_and_sync_seconds=opened_s,
        last_follower_synced_seconds=max(r.get("last_synced_s") or 0 for r in readies),
        followers_closed_before_end=sum(e.get("closed_before_stop", 0) for e in ends),
        followers_step1_unanswered=sum(e.get("unanswered_step1", 0) for e in ends),
        first_close=next((e.get("first_close") for e in ends if e.get("first_close")), None),
        rss_mb_followers_in=rss_in / MB,
        rss_mb_settled=rss_settled / MB,
        memory_per_connection_kb=(rss_settled - rss_one) / max(1, synced) / 1024,
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=2000)
    parser.add_argument("--procs", type=int, default=2, help="Node processes holding the followers")
    parser.add_argument("--concurrency", type=int, default=25, help="connections opening at once per process")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per page and phase")
    parser.add_argument("--clause", default=f"/d/{SLUG}/art_16")
    parser.add_argument("--sync-timeout", type=float, default=60.0, help="seconds a follower may take to sync")
    parser.add_argument("--resend-step1", type=float, default=5.0,
                        help="a follower without step 2 this many seconds after its step 1 sends it again (0: never)")
    parser.add_argument("--no-y-websocket", dest="y_websocket", action="store_false",
                        help="skip the y-websocket memory baseline")
    args = parser.parse_args()
    if not CDMX.exists():
        print(f"the constitution is not at {CDMX}", file=sys.stderr)
        return 2
    _node.ensure_installed()
    load_before = os.getloadavg()
    pages = [f"/d/{SLUG}", args.clause]
    out: dict = {"benchmark": "audience", "followers": args.followers, "requests": args.requests,
                 "pages": pages, "node": _node.versions()}
    tmp = Path(tempfile.mkdtemp(prefix="constituent-bench-audience-"))
    instance = tmp / "instance"
    instance.mkdir()
    try:
        print("  importing the constitution ...", flush=True)
        import_constitution(instance)
        with common.BenchServer(instance=instance, seed=False) as server:
            pid = server.worker_pid()
            out["rss_mb_idle_no_room"] = _node.proc_rss(pid) / MB  # (before any follower: no room open)
            print(f"  baseline: {args.requests} requests of each page, no live connection ...", flush=True)
            out["baseline"] = {path: page_latencies(server.url, path, args.requests) for path in pages}
            url = server.url.replace("http://", "ws://") + f"/yjs/{SLUG}"
            ok, reason = yjs_endpoint_answers(url, timeout=30)
            out["available"] = ok
            if not ok:
                out["reason"] = reason
                print(f"  /yjs not available: {reason}", flush=True)
            else:
                def with_followers() -> None:
                    print(f"  {args.requests} requests of each page with them connected ...", flush=True)
                    out["with_followers"] = {path: page_latencies(server.url, path, args.requests) for path in pages}

                out.update(open_followers(url, server.url, server.worker_pid, args, "constituent", with_followers))
                out["server_os_threads"] = server.os_threads()
        if args.y_websocket:
            print("  baseline: the same followers on y-websocket 1.5.4 holding the same state ...", flush=True)
            state = document_state(instance, SLUG)
            with _node.YWebsocketServer() as yws:
                seeder = _node.NodeClients({"mode": "writer", "connections": [{
                    "name": "seeder", "url": yws.ws_url(SLUG), "seed": base64.b64encode(state).decode()}],
                    "rate": 1, "seconds": 0, "origin": yws.url, "deadline_s": 120}, "seeder")
                try:
                    seeder.expect("READY", 60)
                finally:
                    seeder.kill()
                out["y_websocket"] = open_followers(yws.ws_url(SLUG), yws.url, lambda: yws.pid, args, "y-websocket")
    finally:
        if os.environ.get("BENCH_KEEP_INSTANCE") != "1":
            shutil.rmtree(tmp, ignore_errors=True)

    def line(s: dict) -> str:
        return (f"p50 {s['p50_ms']:7.2f}   p99 {s['p99_ms']:7.2f}   max {s['max_ms']:7.2f} ms   "
                f"({s['n']} requests, {s['bytes']:,} bytes, {s['not_200']} not 200, cache {s['cache_header']})")

    rows = []
    for path in pages:
        rows.append((f"baseline: GET {path}, no live connection", line(out["baseline"][path])))
        if out.get("with_followers"):
            rows.append((f"GET {path} with {out['followers_synced']:,} followers", line(out["with_followers"][path])))
    if out["available"]:
        rows += [
            ("followers synced / failed / closed before the end",
             f"{out['followers_synced']:,} / {out['followers_failed']:,} / {out['followers_closed_before_end']:,}"),
            (f"followers that sent step 1 again (no step 2 within {args.resend_step1:g} s)",
             f"{out['followers_step1_resent']:,}   ({out['followers_step1_unanswered']:,} of them never got an answer to one)"),
            ("open + sync the followers (last one synced after)",
             f"{out['last_follower_synced_seconds']:.1f} s   (step 2: {out['step2_bytes']:,} bytes each; waited "
             f"{out['open_and_sync_seconds']:.0f} s in all)"),
            ("worker RSS: no room / one follower / all in / settled",
             f"{out['rss_mb_idle_no_room']:.0f} / {out['rss_mb_one_follower']:.0f} / {out['rss_mb_followers_in']:.0f} / "
             f"{out['rss_mb_settled']:.0f} MB"),
            ("memory per connection (settled - one follower) / followers", f"{out['memory_per_connection_kb']:.1f} KB"),
            ("worker OS threads with the followers", str(out["server_os_threads"])),
        ]
    else:
        rows.append(("followers", f"not available ({out.get('reason')})"))
    y = out.get("y_websocket")
    if y:
        rows += [
            ("baseline: y-websocket 1.5.4, followers synced / failed",
             f"{y['followers_synced']:,} / {y['followers_failed']:,}   (last one synced after "
             f"{y['last_follower_synced_seconds']:.1f} s)"),
            ("  y-websocket RSS: one follower / settled",
             f"{y['rss_mb_one_follower']:.0f} / {y['rss_mb_settled']:.0f} MB   "
             f"(memory per connection {y['memory_per_connection_kb']:.1f} KB)"),
        ]
    print()
    print(common.table(rows, f"audience: {args.followers:,} followers of /yjs/{SLUG} on one server process"))
    print(f"  ({os.cpu_count()} CPUs shared by the server, the follower processes and this one; load average "
          f"before/after {load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")
    return common.finish("audience", out, load_before)


if __name__ == "__main__":
    sys.exit(main())
