"""Figures for issue 20: volunteers' tablets collecting answers offline.

One `constituent serve` (gunicorn, one worker process, SQLite in a temporary instance) holds an
open questionnaire (the demo's) and a volunteer. Then:

(a) **the collecting app's first load on a throttled "3G" profile**: Debian's Chromium in its own
    process, with a fresh profile (empty HTTP cache, no service worker), driven over the DevTools
    protocol (flatten sessions: every page and service worker target is throttled before it runs,
    with `Network.emulateNetworkConditions`: `--down` kbit/s, `--up` kbit/s, `--latency` ms). The
    volunteer's session cookie is set first (signing in is not part of the load). Measured: the
    bytes on the wire (the page's requests and the service worker's, `encodedDataLength`: headers
    and bodies), the time to the first contentful paint, to the `load` event, and until the page
    says it is ready to work offline (service worker installed: the page and its assets kept);
    then a second visit (the worker installed: the page from the network, assets from the cache)
    and a reload with the network off (everything from the worker's cache).
(b) **sync of `--answers` offline answers through the real server**: `--answers` captures (varied
    answers, as collect.js keeps them) posted by this process (not the server's) to
    `POST /api/surveys/<id>/responses` in batches of at most 500 with the volunteer's session:
    time and answers/s; then the same batch again (all "already": nothing added). The same
    captures end to end from a real page as well: put into the tablet's IndexedDB, "Send now"
    clicked, until the page says they were sent (Playwright, unthrottled).
    Baseline in the same run: `answering.submit` of the same captures in one process, no HTTP
    (a copy of the instance's database, one transaction each, as the API does), i.e. the storing cost
    the API adds its checks and transport to.

Results: bench/results/survey_offline.json. Run:
    .venv/bin/python bench/survey_offline.py [--answers 500] [--down 750] [--up 250] [--latency 100]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402
from conftest import BROWSER_ARGS, CHROMIUM, PASSWORD, free_port, login  # noqa: E402

VOLUNTEER = "volunteer@example.org"
WORDS = ["agua", "tráfico", "inseguridad", "parques", "ruido", "transporte", "basura", "vivienda", "empleo",
         "contaminación", "bicicletas", "mercados", "cultura", "escuelas", "luz"]


def seed(instance: Path) -> int:
    """An open questionnaire on the benchmark document, and a volunteer; the questionnaire's id."""
    from editor import create_app
    from editor.accounts import add_user
    from editor.documents import get_document
    from editor.survey.questionnaire import create_questionnaire, demo_definition, publish

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    try:
        with app.app_context():
            db = app.extensions["constituent"].db
            survey = create_questionnaire(db, get_document(db, common.SLUG), demo_definition())
            publish(db, survey)
            add_user(db, VOLUNTEER, "volunteer", PASSWORD)
            db.commit()
            return survey.id
    finally:
        app.extensions["constituent"].close()


def captures(n: int, seed_value: int = 20) -> list[dict]:
    """`n` respondents' answers as a tablet keeps them (capture times over the last hours)."""
    from editor.survey.questionnaire import demo_places
    from editor.survey.service import new_receipt_code

    rng = random.Random(seed_value)
    places = demo_places()
    now = datetime.now(timezone.utc)
    out = []
    for i in range(n):
        borough = rng.choice(sorted(places))
        words = rng.sample(WORDS, 3)
        out.append({
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "captured_at": (now - timedelta(seconds=30 * (n - i))).isoformat(),
            "code": new_receipt_code(),
            "answers": {
                "place": {"borough": borough, "neighbourhood": rng.choice(places[borough])},
                "age": rng.choice(["18-29", "30-44", "45-64", "65-mas"]),
                "safety": str(rng.randint(1, 5)),
                "words": ", ".join(words),
                "future": f"Una ciudad con {words[0]} para todos y menos {words[1]}; que {words[2]} mejore en mi colonia.",
                "challenge": rng.choice(["inseguridad", "agua", "movilidad", "contaminacion", "vivienda"]),
                "rights": rng.sample(["agua", "movilidad", "vivienda", "seguridad", "medio-ambiente"], 2),
            },
        })
    return out


# --- (a) the first load, throttled, over the DevTools protocol -----------------------------------


class DevTools:
    """A raw DevTools-protocol connection to a browser, flatten sessions. Every page and service
    worker target is attached as it is created, paused until it is throttled."""

    def __init__(self, ws_url: str, conditions: dict) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=120, suppress_origin=True)
        self.conditions = conditions
        self.next_id = 0
        self.replies: dict[int, dict] = {}
        self.events: list[dict] = []
        self.sessions: dict[str, str] = {}  # session id → target type
        self._pending: list[dict] = []
        self._attaching = False

    def close(self) -> None:
        self.ws.close()

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        ident = self.next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while ident not in self.replies:
            self._read()
        reply = self.replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_for(self, method: str, session: str | None = None, since: int = 0, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events[since:]:
                if event["method"] == method and (session is None or event.get("sessionId") == session):
                    return event
            since = len(self.events)
            self._read()
        raise TimeoutError(method)

    def _read(self) -> None:
        data = json.loads(self.ws.recv())
        if "id" in data:
            self.replies[data["id"]] = data
            return
        self.events.append(data)
        if data["method"] == "Target.attachedToTarget":
            self._pending.append(data["params"])
        if not self._attaching:
            self._attach_pending()

    def _attach_pending(self) -> None:
        self._attaching = True
        try:
            while self._pending:
                params = self._pending.pop(0)
                session, kind = params["sessionId"], params["targetInfo"]["type"]
                self.sessions[session] = kind
                if kind in ("page", "service_worker"):
                    self.send("Network.enable", session=session)
                    self.send("Network.emulateNetworkConditions", self.conditions, session=session)
                if params.get("waitingForDebugger"):
                    self.send("Runtime.runIfWaitingForDebugger", session=session)
        finally:
            self._attaching = False

    def throttle(self, conditions: dict) -> None:
        self.conditions = conditions
        for session, kind in self.sessions.items():
            if kind in ("page", "service_worker"):
                try:
                    self.send("Network.emulateNetworkConditions", conditions, session=session)
                except RuntimeError:
                    pass  # a worker that has gone

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def wire_bytes(self, since: int = 0) -> dict[str, int]:
        """Bytes received per kind of target (page, service_worker) since event `since`."""
        out: dict[str, int] = {}
        for event in self.events[since:]:
            if event["method"] == "Network.loadingFinished":
                kind = self.sessions.get(event.get("sessionId"), "?")
                out[kind] = out.get(kind, 0) + int(event["params"]["encodedDataLength"])
        return out

    def requests(self, since: int = 0) -> list[tuple[str, str, bool]]:
        """(target kind, URL path, served by the service worker) of the responses since `since`."""
        out = []
        for event in self.events[since:]:
            if event["method"] == "Network.responseReceived":
                response = event["params"]["response"]
                path = "/" + response["url"].split("/", 3)[-1]
                out.append((self.sessions.get(event.get("sessionId"), "?"), path,
                            bool(response.get("fromServiceWorker"))))
        return out


#: The first contentful paint (null when the page paints nothing within 5 s).
PAINT = """new Promise(resolve => {
  const seen = entries => entries.getEntriesByName('first-contentful-paint')[0];
  const observer = new PerformanceObserver(list => { const e = seen(list); if (e) { observer.disconnect(); resolve(e.startTime); } });
  observer.observe({type: 'paint', buffered: true});
  setTimeout(() => resolve(null), 5000);
})"""

#: Times since the navigation started: first paint, DOMContentLoaded, load, and (first visit)
#: the page saying it is ready to work offline (its service worker active, the page kept).
TIMINGS = """(async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  const root = document.getElementById('collect');
  const ready = WAIT_READY ? await new Promise(r => { const t = () => root.dataset.offlineReady
      ? r(performance.now()) : setTimeout(t, 10); t(); }) : null;
  return {fcp_ms: await PAINT, dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
          ready_offline_ms: ready};
})()""".replace("PAINT", PAINT)


def first_load(server_url: str, page_path: str, cookies: dict, args) -> dict:
    """The collecting page in a fresh Chromium, throttled: bytes and times (see the docstring)."""
    import requests

    profile = Path(tempfile.mkdtemp(prefix="constituent-bench-chromium-"))
    port = free_port()
    chromium = subprocess.Popen(
        [CHROMIUM, "--headless=new", f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
         *BROWSER_ARGS, "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tools = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ws_url = requests.get(f"http://127.0.0.1:{port}/json/version", timeout=1).json()["webSocketDebuggerUrl"]
                break
            except (requests.RequestException, ValueError, KeyError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        conditions = {"offline": False, "latency": args.latency,
                      "downloadThroughput": args.down * 1000 / 8, "uploadThroughput": args.up * 1000 / 8}
        tools = DevTools(ws_url, conditions)
        tools.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True})
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        while not any(k == "page" for k in tools.sessions.values()):
            tools._read()
        page = next(s for s, k in tools.sessions.items() if k == "page")
        tools.send("Page.enable", session=page)
        tools.send("Page.bringToFront", session=page)  # a background tab reports no paint timings
        for name, value in cookies.items():
            tools.send("Network.setCookie", {"name": name, "value": value, "url": server_url}, session=page)
        out: dict = {"profile": {"down_kbit_s": args.down, "up_kbit_s": args.up, "latency_ms": args.latency}}

        def visit(label: str, expression: str, navigate=True) -> None:
            mark = len(tools.events)
            started = time.perf_counter()
            if navigate:
                tools.send("Page.navigate", {"url": server_url + page_path}, session=page)
            else:
                tools.send("Page.reload", {"ignoreCache": False}, session=page)
            tools.wait_for("Page.loadEventFired", session=page, since=mark)
            timings = tools.evaluate(page, expression)
            wall = time.perf_counter() - started
            byte_counts = tools.wire_bytes(mark)
            seen = tools.requests(mark)
            out[label] = {
                **{k: (round(v) if isinstance(v, float) else v) for k, v in timings.items()},
                "wall_s": round(wall, 2),
                "bytes_page": byte_counts.get("page", 0),
                "bytes_service_worker": byte_counts.get("service_worker", 0),
                "bytes_total": sum(byte_counts.values()),
                "requests_page": sum(1 for kind, _p, _sw in seen if kind == "page"),
                "requests_from_service_worker_cache": sum(1 for kind, _p, sw in seen if kind == "page" and sw),
                "requests_service_worker": sum(1 for kind, _p, _sw in seen if kind == "service_worker"),
                "responses": [f"{kind}{' (worker)' if sw else ''} {path}" for kind, path, sw in seen],
            }

        visit("first_load", TIMINGS.replace("WAIT_READY", "true"))
        visit("second_visit", TIMINGS.replace("WAIT_READY", "false"))
        tools.throttle({"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        visit("offline_reload", TIMINGS.replace("WAIT_READY", "false"), navigate=False)
        tools.send("Target.closeTarget", {"targetId": target})
        return out
    finally:
        if tools is not None:
            tools.close()
        common.stop_process(chromium)
        shutil.rmtree(profile, ignore_errors=True)


# --- (b) syncing ----------------------------------------------------------------------------------


def sync_through_api(server_url: str, survey_id: int, items: list[dict]) -> dict:
    session = login(server_url, VOLUNTEER)
    url = f"{server_url}/api/surveys/{survey_id}/responses"

    def post_all() -> tuple[float, dict]:
        started = time.perf_counter()
        token = session.get(url, timeout=30).json()["csrf_token"]
        totals: dict = {}
        for i in range(0, len(items), 500):
            response = session.post(url, json={"responses": items[i:i + 500]}, headers={"X-CSRFToken": token},
                                    timeout=600)
            response.raise_for_status()
            for status in ("stored", "already", "refused"):
                totals[status] = totals.get(status, 0) + response.json()[status]
        return time.perf_counter() - started, totals

    first, first_totals = post_all()
    again, again_totals = post_all()
    return {"answers": len(items), "request_bytes": len(json.dumps({"responses": items[:500]})),
            "first_s": round(first, 3), "first_answers_per_s": round(len(items) / first, 1), "first": first_totals,
            "again_s": round(again, 3), "again": again_totals}


def page_sync(server_url: str, page_path: str, items: list[dict]) -> dict:
    """Time from "Send now" until the page says the captures were sent (they are put in offline)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        try:
            context = browser.new_context()
            session = login(server_url, VOLUNTEER)
            context.add_cookies([{"name": c.name, "value": c.value, "url": server_url} for c in session.cookies])
            page = context.new_page()
            page.set_default_timeout(600_000)
            page.goto(server_url + page_path)
            page.wait_for_selector("#collect[data-offline-ready=true]")
            survey, user = int(page.get_attribute("#collect", "data-survey")), int(page.get_attribute("#collect", "data-user"))
            page.evaluate("""([items, survey, user]) => new Promise((resolve, reject) => {
                const open = indexedDB.open('constituent-collect', 1);
                open.onsuccess = () => {
                  const tx = open.result.transaction('captures', 'readwrite');
                  for (const item of items) tx.objectStore('captures').put({...item, survey, collector: user, state: 'waiting'});
                  tx.oncomplete = () => resolve();
                  tx.onerror = () => reject(tx.error);
                };
            })""", [items, survey, user])
            started = time.perf_counter()
            page.click("#collect-send")
            page.wait_for_selector("#collect-last[data-kind=sent]")
            elapsed = time.perf_counter() - started
            stored = int(page.get_attribute("#collect-last", "data-stored"))
            waiting = int(page.get_attribute("#collect", "data-waiting"))
            return {"answers": len(items), "s": round(elapsed, 3), "answers_per_s": round(len(items) / elapsed, 1),
                    "stored": stored, "left_waiting": waiting}
        finally:
            browser.close()


def baseline_submit(database: Path, survey_id: int, items: list[dict]) -> dict:
    """`answering.submit` of the captures in this process, no HTTP, on a copy of the database."""
    from editor import create_app
    from editor.accounts import authenticate
    from editor.survey import answering
    from editor.survey.models import Survey

    folder = Path(tempfile.mkdtemp(prefix="constituent-bench-baseline-"))
    try:
        for suffix in ("", "-wal", "-shm"):
            if Path(str(database) + suffix).exists():
                shutil.copy(str(database) + suffix, folder / ("constituent.sqlite3" + suffix))
        app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "test-secret"})
        try:
            with app.app_context():
                db = app.extensions["constituent"].db
                survey = db.get(Survey, survey_id)
                collector = authenticate(db, VOLUNTEER, PASSWORD).id
                secret = answering.answer_secret(app.config)
                started = time.perf_counter()
                for item in items:
                    answering.submit(db, survey, item["answers"], channel="tablet", secret=secret,
                                     captured_at=datetime.fromisoformat(item["captured_at"]),
                                     client_id=item["client_id"], collector_id=collector, code=item["code"])
                    db.commit()
                elapsed = time.perf_counter() - started
        finally:
            app.extensions["constituent"].close()
        return {"answers": len(items), "s": round(elapsed, 3), "answers_per_s": round(len(items) / elapsed, 1)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def count_tablet_rows(database: Path, survey_id: int) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM respondent WHERE survey_id = :s AND channel = 'tablet'"),
                                {"s": survey_id}).scalar_one()
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--down", type=float, default=750, help="download kbit/s")
    parser.add_argument("--up", type=float, default=250, help="upload kbit/s")
    parser.add_argument("--latency", type=float, default=100, help="added round-trip latency, ms")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print(f"Chromium is not at {CHROMIUM}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    out: dict = {"benchmark": "survey_offline"}
    bench = common.BenchServer()
    survey_id = seed(bench.instance)
    page_path = f"/d/{common.SLUG}/survey/{survey_id}/collect"
    with bench as server:
        cookies = {c.name: c.value for c in login(server.url, VOLUNTEER).cookies}
        print("  (a) first load of the collecting app, throttled ...", flush=True)
        out["load"] = first_load(server.url, page_path, cookies, args)
        print(f"  (b) sync of {args.answers} answers through the API ...", flush=True)
        items = captures(args.answers)
        out["sync_api"] = sync_through_api(server.url, survey_id, items)
        out["sync_api"]["rows_after"] = count_tablet_rows(bench.database, survey_id)
        print(f"      ... and from a page (\"Send now\", {args.answers} other answers) ...", flush=True)
        out["sync_page"] = page_sync(server.url, page_path, captures(args.answers, seed_value=21))
        out["sync_page"]["rows_after"] = count_tablet_rows(bench.database, survey_id)
        print("  baseline: answering.submit in one process, no HTTP (the server idle) ...", flush=True)
        out["baseline_submit"] = baseline_submit(bench.database, survey_id, captures(args.answers, seed_value=22))
    report(out)
    return common.finish("survey_offline", out, load_before)


def report(out: dict) -> None:
    load, api, page, base = out["load"], out["sync_api"], out["sync_page"], out["baseline_submit"]
    profile = load["profile"]
    rows = []
    for label, key in (("first load", "first_load"), ("second visit", "second_visit"), ("offline reload", "offline_reload")):
        v = load[key]
        rows.append((f"{label}: bytes (page + worker)", f"{v['bytes_total']:,} ({v['bytes_page']:,} + {v['bytes_service_worker']:,}),"
                                                         f" {v['requests_page']} page requests"
                                                         f" ({v['requests_from_service_worker_cache']} from the worker),"
                                                         f" {v['requests_service_worker']} by the worker"))
        rows.append((f"{label}: first paint / load", f"{v['fcp_ms']} ms / {v['load_ms']} ms"))
    rows.append(("first load: ready to work offline", f"{load['first_load']['ready_offline_ms']} ms"))
    rows.append((f"sync {api['answers']} via API (first)", f"{api['first_s']} s, {api['first_answers_per_s']} answers/s, {api['first']}"))
    rows.append(("the same again", f"{api['again_s']} s, {api['again']}; tablet rows after: {api['rows_after']}"))
    rows.append((f"sync {page['answers']} from the page", f"{page['s']} s, {page['answers_per_s']} answers/s, stored "
                                                        f"{page['stored']}, left waiting {page['left_waiting']}"))
    rows.append(("baseline: submit() in-process", f"{base['s']} s, {base['answers_per_s']} answers/s"))
    print()
    print(common.table(rows, f"Volunteers' tablets ({profile['down_kbit_s']:g}/{profile['up_kbit_s']:g} kbit/s, "
                             f"{profile['latency_ms']:g} ms)"))


if __name__ == "__main__":
    sys.exit(main())
