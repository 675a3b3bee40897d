"""Public reads under concurrent load: the public clause page, served from the cache and rendered.

The Mexico City constitution is imported into a fresh SQLite instance and published. The server
(`constituent serve`, one gunicorn gthread process) is started twice on it:

* **cached**: the default (editor/cache.py: an in-process LRU keyed by the document's state);
* **uncached** (baseline, same run): `CONSTITUENT_PAGE_CACHE_BYTES=0`, so every request renders
  the page (reads the live text, numbers it, loads the provenance and history, renders the
  template). The key is still computed (one SQL query) for the ETag.

The load generator is `wrk` when installed (`apt-get install wrk`), else a Python one (processes
× threads with keep-alive `requests` sessions); the table says which. Requests are anonymous
and carry no cookie, like first-time visitors: each gets its own CSRF token in the page.
The generator runs on the same 2-CPU machine as the server, so they compete for the CPUs.

Run:  .venv/bin/python bench/public_reads.py [--path /d/cdmx/art_16] [--connections 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
from _common import ROOT  # noqa: E402
from big_document import CDMX, import_constitution  # noqa: E402

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def run_wrk(url: str, connections: int, seconds: float, threads: int) -> dict:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s", url],
        capture_output=True, text=True, timeout=seconds + 60,
    ).stdout
    percentiles = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)\s*$", out, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"generator": f"wrk ({threads} threads, {connections} connections)", "requests_per_s": rps,
            "requests": total, "p50_ms": percentiles.get(50), "p99_ms": percentiles.get(99),
            "non_2xx": int(bad.group(1)) if bad else 0, "socket_errors": errors.group(1) if errors else "", "raw": out}


def _py_worker(url: str, threads: int, seconds: float, out) -> None:
    import threading

    import requests

    latencies: list[float] = []
    bad = [0]
    stop_at = time.perf_counter() + seconds

    def loop():
        session = requests.Session()
        mine = []
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = session.get(url, timeout=10)
            mine.append(time.perf_counter() - started)
            session.cookies.clear()  # a first-time visitor each time, as with wrk
            if response.status_code != 200:
                bad[0] += 1
        latencies.extend(mine)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, bad[0]))


def run_python(url: str, connections: int, seconds: float, procs: int) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    per = max(1, connections // procs)
    workers = [ctx.Process(target=_py_worker, args=(url, per, seconds, out)) for _ in range(procs)]
    for w in workers:
        w.start()
    latencies, bad = [], 0
    for _ in workers:
        got, b = out.get(timeout=seconds + 120)
        latencies.extend(got)
        bad += b
    for w in workers:
        w.join(30)
    summary = common.summary_ms(latencies)
    return {"generator": f"python requests ({procs} processes x {per} threads)", "requests_per_s": len(latencies) / seconds,
            "requests": len(latencies), "p50_ms": summary["p50_ms"], "p99_ms": summary["p99_ms"], "non_2xx": bad,
            "socket_errors": ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default="/d/cdmx/art_16", help="the public page to load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    if not CDMX.exists():
        print(f"the constitution is not at {CDMX}", file=sys.stderr)
        return 2
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="constituent-bench-reads-"))
    instance = tmp / "instance"
    instance.mkdir()
    results = {}
    try:
        import_constitution(instance)
        import requests

        for mode, env in (("uncached", {"CONSTITUENT_PAGE_CACHE_BYTES": "0"}), ("cached", {})):
            with common.BenchServer(instance=instance, seed=False, env_extra=env) as server:
                url = server.url + args.path
                first = requests.get(url, timeout=60)
                assert first.status_code == 200, (first.status_code, first.text[:200])
                started = time.perf_counter()
                again = requests.get(url, timeout=60)
                single_ms = (time.perf_counter() - started) * 1000
                state = again.headers.get("X-Constituent-Cache")
                print(f"  {mode}: {len(again.content):,}-byte page, one request {single_ms:.1f} ms "
                      f"(X-Constituent-Cache: {state}); loading for {args.seconds:g} s ...", flush=True)
                if use_wrk:
                    figures = run_wrk(url, args.connections, args.seconds, threads=2)
                else:
                    figures = run_python(url, args.connections, args.seconds, procs=2)
                figures.update(page_bytes=len(again.content), single_request_ms=single_ms, cache_header=state)
                results[mode] = figures
    finally:
        if os.environ.get("BENCH_KEEP_INSTANCE") != "1":
            shutil.rmtree(tmp, ignore_errors=True)

    def line(f):
        return (f"{f['requests_per_s']:8,.0f} req/s   p50 {f['p50_ms']:7.2f} ms   p99 {f['p99_ms']:7.2f} ms"
                f"   ({f['requests']:,} requests, {f['non_2xx']} not 200"
                f"{', socket errors ' + f['socket_errors'] if f['socket_errors'] else ''})")

    cached, uncached = results["cached"], results["uncached"]
    rows = [
        ("load generator", cached["generator"]),
        (f"baseline: uncached {args.path}", line(uncached)),
        (f"cached {args.path}", line(cached)),
        ("cached / uncached throughput", f"{cached['requests_per_s'] / uncached['requests_per_s']:.1f} x"),
        ("page size", f"{cached['page_bytes']:,} bytes"),
    ]
    print()
    print(common.table(rows, "public_reads: the public clause page under concurrent load"))
    print(f"  (server and load generator share the {os.cpu_count()} CPUs; load average before/after: "
          f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f})")
    for figures in results.values():
        figures.pop("raw", None)
    out = {"benchmark": "public_reads", "path": args.path, "connections": args.connections, "seconds": args.seconds,
           "cached": cached, "uncached": uncached, "machine": common.machine(),
           "load_average_before_after": [load_before[0], os.getloadavg()[0]]}
    path = common.write_results("public_reads", out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
