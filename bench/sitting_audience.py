"""An audience following a sitting's public view: polling the stamp against listening for it.

One server process (`constituent serve`, SQLite) holds the benchmark document in the assembly
stage with an open sitting and eight tabled amendments on its voting list. A load generator in
its own process plays `--readers` readers of the public view for `--seconds`, in one of two ways:

* **poll** (the page before, and its fallback now): every reader asks `…/estado` every 0.7 s;
* **listen** (the page now): every reader holds a WebSocket on `…/listen`, to which the server
  pushes the stamp when it changes (editor/assembly/watch.py).

Meanwhile the chair changes the sitting every 1.5 s (an item opened for debate, then declared
fallen: a new stamp each time). Reported per way: the server worker's CPU (user + system, as a
share of one core) over the window, the requests it served for the audience, and **notice**: the
time from the chair's change (its request answered) to each reader having the new stamp,
p50 / p95 over readers and changes. Both ways in the same run, against the same server.

Run:  .venv/bin/python bench/sitting_audience.py [--readers 300] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402

POLL_SECONDS = 0.7
CHANGE_SECONDS = 1.5
AMENDMENTS = 8


# --- the load generator (its own process) --------------------------------------------------------


def _poller(base: str, path: str, until: float, heard: dict, counts: dict, lock: threading.Lock) -> None:
    """One reader asking the stamp every 0.7 s (a thread: the page's fetch on a kept-alive connection)."""
    import random

    import requests

    http = requests.Session()
    time.sleep(random.random() * POLL_SECONDS)
    last = None
    while time.time() < until:
        started = time.monotonic()
        try:
            data = http.get(base + path + "/estado", timeout=30).json()
            with lock:
                counts["requests"] += 1
            if data["stamp"] != last:
                last = data["stamp"]
                heard.setdefault(last, time.time())
        except Exception:  # noqa: BLE001 - counted, not fatal: an overloaded server refuses
            with lock:
                counts["errors"] += 1
        time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - started)))


async def _listener(base: str, path: str, until: float, heard: dict, counts: dict) -> None:
    import websockets

    try:
        async with websockets.connect(base.replace("http://", "ws://", 1) + path + "/listen", open_timeout=60) as ws:
            counts["connected"] += 1
            while time.time() < until:
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=max(0.1, until - time.time()))
                except asyncio.TimeoutError:
                    break
                heard.setdefault(json.loads(message)["stamp"], time.time())
    except Exception:  # noqa: BLE001
        counts["errors"] += 1


async def _listeners(base: str, path: str, until: float, heard: list[dict], counts: dict) -> None:
    await asyncio.gather(*(_listener(base, path, until, h, counts) for h in heard))


def generator(args) -> int:
    until = time.time() + args.seconds
    counts = {"requests": 0, "errors": 0, "connected": 0}
    heard: list[dict] = [{} for _ in range(args.readers)]
    if args.mode == "poll":
        lock = threading.Lock()
        threads = [threading.Thread(target=_poller, args=(args.url, args.path, until, h, counts, lock), daemon=True)
                   for h in heard]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        asyncio.run(_listeners(args.url, args.path, until, heard, counts))
    json.dump({"counts": counts, "heard": heard}, sys.stdout)
    return 0


# --- the run ------------------------------------------------------------------------------------


class Chair:
    """The administrator, over the JSON API: sets up the sitting, then changes it."""

    def __init__(self, server, slug: str) -> None:
        self.api = f"{server.url}/api/v1/documents/{slug}"
        self.admin = self._session(server, "admin")
        self.member = self._session(server, "asa")

    @staticmethod
    def _session(server, who: str):
        session = server.live.login(who)
        page = session.get(f"{server.url}/", timeout=30).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page)
        assert token, "no CSRF token on the account page"
        session.headers["X-CSRFToken"] = token.group(1)
        return session

    def call(self, session, method: str, path: str, body: dict | None = None) -> dict:
        response = session.request(method, self.api + path, json=body, timeout=60)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text[:300]}"
        return response.json()

    def set_up(self) -> list[int]:
        while self.call(self.admin, "GET", "/stages")["current"] != "assembly":
            self.call(self.admin, "POST", "/stages/advance", {})
        numbers = [self.call(self.member, "POST", "/amendments", {
            "kind": "substitution", "units": [common.ARTICLE_GUID], "table": True,
            "text": f"Texto alternativo {n}."})["number"] for n in range(AMENDMENTS)]
        self.call(self.admin, "PUT", "/assembly", {"quorum": {"kind": "count", "count": 1}, "majority": "simple"})
        self.call(self.admin, "POST", "/sittings", {"day": "2016-09-15", "title": "Sesión"})
        self.call(self.admin, "POST", "/sittings/1/actions", {"action": "open"})
        self.call(self.admin, "POST", "/sittings/1/agenda", {"amendments": numbers})
        return numbers

    def changes(self, numbers: list[int]):
        for number in numbers:
            for action in ("start", "fall"):
                data = self.call(self.admin, "POST", "/sittings/1/actions", {"action": action, "amendment": number})
                yield time.time(), data


def stamp_now(server, slug: str) -> str:
    import requests

    return requests.get(f"{server.url}/d/{slug}/sesion/1/estado", timeout=30).json()["stamp"]


def measure(server, chair: Chair, numbers: list[int], mode: str, readers: int, seconds: float) -> dict:
    path = f"/d/{common.SLUG}/sesion/1"
    process = subprocess.Popen(
        [sys.executable, __file__, "--generator", "--mode", mode, "--url", server.url, "--path", path,
         "--readers", str(readers), "--seconds", str(seconds)], stdout=subprocess.PIPE, text=True)
    time.sleep(min(5.0, seconds / 4))  # the audience arrives
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    made: dict[str, float] = {}
    stop_at = time.time() + seconds - min(5.0, seconds / 4) - 3.0
    changes = chair.changes(numbers)
    while time.time() < stop_at:
        try:
            when, _data = next(changes)
        except StopIteration:
            break
        made[stamp_now(server, common.SLUG)] = when
        time.sleep(CHANGE_SECONDS)
    cpu_after, wall_after = server.cpu_seconds(), time.monotonic()
    out, _ = process.communicate(timeout=seconds + 120)
    result = json.loads(out)
    delays = [heard[stamp] - at for heard in result["heard"] for stamp, at in made.items() if stamp in heard]
    missed = sum(1 for heard in result["heard"] for stamp in made if stamp not in heard)
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) / (wall_after - wall_before)
    return {"mode": mode, "readers": readers, "changes": len(made), "cpu_share": cpu,
            "requests": result["counts"]["requests"], "errors": result["counts"]["errors"],
            "connected": result["counts"]["connected"], "notices": len(delays), "missed": missed,
            "notice": {**common.summary_ms(delays), "p95_ms": round(common.percentile(delays, 95) * 1000, 1)}
            if delays else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--generator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("poll", "listen"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generator:
        return generator(args)

    load_before = os.getloadavg()
    results = {}
    for mode in ("poll", "listen"):
        # A fresh server and sitting for each way, so that both start from the same state.
        with common.BenchServer() as server:
            chair = Chair(server, common.SLUG)
            numbers = chair.set_up()
            results[mode] = measure(server, chair, numbers, mode, args.readers, args.seconds)
    rows = []
    for mode, name in (("poll", "polling …/estado every 0.7 s (baseline)"), ("listen", "listening on …/listen")):
        r = results[mode]
        notice = r["notice"] or {}
        rows += [
            (f"{name}: {r['readers']} readers, {r['changes']} changes", ""),
            ("  server CPU (share of one core)", f"{r['cpu_share']:.0%}" if r["cpu_share"] is not None else "?"),
            ("  requests served for the audience / errors", f"{r['requests']} / {r['errors']}"),
            ("  notice p50 / p95 (change -> reader has it)",
             f"{notice.get('p50_ms', float('nan')):.0f} / {notice.get('p95_ms', float('nan')):.0f} ms"),
            ("  notices / missed", f"{r['notices']} / {r['missed']}"),
        ]
    print(common.table(rows, "an audience following a sitting"))
    return common.finish("sitting_audience", {"readers": args.readers, "seconds": args.seconds, **results},
                         load_before)


if __name__ == "__main__":
    sys.exit(main())
