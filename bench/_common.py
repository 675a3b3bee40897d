"""Shared by the benchmarks: a real server subprocess over a fresh instance, clients, reporting.

The server is the one the tests use (`tests/conftest.py`'s LiveServer: `python -m editor serve`
under gunicorn's gthread worker, SQLite under a temporary instance folder). Clients are
`tests/collab_client.py`'s CollabClient: a pycrdt Doc speaking the /collab protocol.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from conftest import ACCOUNTS, PASSWORD, LiveServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SLUG = "bench-doc"
WRITER = "ana"  # committee: may write
READER = "vera"  # viewer: may read
ARTICLE_GUID = "00000000-0000-4000-8000-00000000b001"

# One article with one `p`; the p's only child is an (initially empty) XmlText: the target.
BENCH_BODY = f'<body><article guid="{ARTICLE_GUID}"><heading>Bench</heading><p>x</p></article></body>'.encode()


def seed_bench_instance(instance: Path, initial_text: str = "", database: str | None = None) -> None:
    """Accounts and one published document whose only article has one `p` holding `initial_text`."""
    from pycrdt import XmlFragment

    from akoma_ntoso.safexml import parse_xml
    from editor import create_app
    from editor.accounts import add_user
    from editor.documents import create_document

    overrides = {"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"}
    if database:
        overrides["DATABASE_URL"] = database
    app = create_app(overrides)
    services = app.extensions["constituent"]
    for email, role in ACCOUNTS.values():
        add_user(services.db, email, role, PASSWORD)
    create_document(services, SLUG, "Benchmark", parse_xml(BENCH_BODY), published=True)

    def set_text(doc):
        text = p_text(doc.get("body", type=XmlFragment))
        with doc.transaction():
            del text[0 : len(text)]
            if initial_text:
                text.insert(0, initial_text)

    services.rooms.call(SLUG, set_text)  # through the room, so it is in the store
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


def p_text(body):
    """The XmlText inside the only article's `p`."""
    from pycrdt import XmlElement

    def walk(node):
        for child in node.children:
            if isinstance(child, XmlElement):
                if child.tag == "p":
                    return child.children[0]
                found = walk(child)
                if found is not None:
                    return found
        return None

    found = walk(body)
    if found is None:
        raise LookupError("no <p> with text in the benchmark document")
    return found


#: What every benchmark server gets: no per-connection socket rate limit (it guards against abuse;
#: a benchmark writer is meant to go as fast as the server takes it).
BENCH_ENV = {"CONSTITUENT_SOCKET_RATE": "0"}


class ServerProcess(LiveServer):
    """conftest's LiveServer with `constituent serve` options (--threads, --database, --redis)."""

    def __init__(self, instance: Path, env_extra: dict | None = None, args: list[str] | None = None) -> None:
        super().__init__(instance, {**BENCH_ENV, **(env_extra or {})}, args)

    def start(self, timeout: float = 60) -> "ServerProcess":
        super().start(timeout)
        return self


class BenchServer:
    """A server over a fresh, seeded temporary instance; removed on stop.

    `threads`: gunicorn's pool (one thread per websocket: more clients need more); `database`: a
    SQLAlchemy URL instead of the instance's SQLite file; `seed=False`: the caller seeds it."""

    def __init__(self, initial_text: str = "", env_extra: dict | None = None, threads: int | None = None,
                 database: str | None = None, redis: str | None = None, seed: bool = True,
                 instance: Path | None = None) -> None:
        if instance is None:
            self.tmp = Path(tempfile.mkdtemp(prefix="constituent-bench-"))
            self.instance = self.tmp / "instance"
            self.instance.mkdir()
        else:
            self.tmp, self.instance = None, instance
        if seed:
            seed_bench_instance(self.instance, initial_text, database)
        args = []
        if threads:
            args += ["--threads", str(threads)]
        if database:
            args += ["--database", database]
        if redis:
            args += ["--redis", redis]
        self.live = ServerProcess(self.instance, env_extra, args)

    def __enter__(self) -> "BenchServer":
        self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.live.url

    def cookie(self, who: str | None) -> str | None:
        return self.live.cookie(who)

    def stop(self) -> None:
        self.live.stop()
        if self.tmp is None:
            return
        if os.environ.get("BENCH_KEEP_INSTANCE") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print(f"(instance kept at {self.instance})")

    @property
    def database(self) -> Path:
        return self.instance / "constituent.sqlite3"

    def worker_pid(self) -> int | None:
        """gunicorn's worker process (the arbiter's child), where the rooms live."""
        if not self.live.process:
            return None
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.live.process.pid)], capture_output=True, text=True
        ).stdout.split()
        return int(out[0]) if out else None

    def os_threads(self) -> int | None:
        """Threads alive right now in the worker process (gunicorn's pool threads start on demand)."""
        pid = self.worker_pid()
        if pid is None:
            return None
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("Threads:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float | None:
        """User+system CPU seconds used so far by the worker process."""
        return proc_cpu_seconds(self.worker_pid())


def gunicorn_threads() -> int:
    """The gthread pool size `constituent serve` configures (its --threads default; LiveServer passes none)."""
    from editor.cli import serve

    return next(p.default for p in serve.params if p.name == "threads")


def store_check(database: Path, slug: str = SLUG):
    """Read the SQLite store directly: log rows, snapshot presence, and the text it reloads to."""
    from pycrdt import XmlFragment
    from sqlalchemy import create_engine, func, select

    from crdt.store import UpdateStore, crdt_snapshot, crdt_update

    engine = create_engine(f"sqlite:///{database}")
    try:
        store = UpdateStore(engine)
        rows = store.log_length(slug)
        with engine.connect() as conn:
            # Rows of one group commit share created_at: distinct values = batches still in the log.
            batches = conn.execute(
                select(func.count(func.distinct(crdt_update.c.created_at))).where(crdt_update.c.document == slug)
            ).scalar_one()
            snapshot = conn.execute(
                select(crdt_snapshot.c.last_update_id, func.length(crdt_snapshot.c.payload)).where(
                    crdt_snapshot.c.document == slug
                )
            ).first()
        started = time.perf_counter()
        loaded = store.load(slug)
        load_seconds = time.perf_counter() - started
        text = str(p_text(loaded.doc.get("body", type=XmlFragment)))
    finally:
        engine.dispose()
    return {
        "log_rows": rows,
        "log_batches": batches,
        "snapshot_last_update_id": snapshot[0] if snapshot else None,
        "snapshot_bytes": snapshot[1] if snapshot else None,
        "reload_seconds": round(load_seconds, 3),
        "text": text,
    }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def machine() -> dict:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "pycrdt": version("pycrdt"),
        "python-socketio": version("python-socketio"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def first_text(node):
    """The first XmlText under a pycrdt node (depth first), or None."""
    from pycrdt import XmlElement, XmlText

    for child in node.children:
        if isinstance(child, XmlText):
            return child
        if isinstance(child, XmlElement):
            found = first_text(child)
            if found is not None:
                return found
    return None


def stop_process(process) -> None:
    """Terminate a subprocess, and kill it if it does not go within 10 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def finish(name: str, out: dict, load_before) -> int:
    """Record the machine and the load average with a scenario's results, write them, say where."""
    out.update(machine=machine(), load_average_before_after=[load_before[0], os.getloadavg()[0]])
    path = write_results(name, out)
    print(f"\n  results: {path.relative_to(ROOT)}")
    return 0


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def table(rows: list[tuple[str, str]], title: str | None = None) -> str:
    width = max(len(label) for label, _ in rows)
    lines = [title, "-" * len(title)] if title else []
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)


class EchoServer:
    """bench/echo_server.py in a subprocess: the raw Socket.IO round-trip baseline."""

    def __init__(self, threads: int = 50) -> None:
        from conftest import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.threads = threads
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "EchoServer":
        import socket

        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "echo_server.py"), str(self.port), str(self.threads)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("echo server did not start")

    def __exit__(self, *exc) -> None:
        stop_process(self.process)


def echo_round_trips(url: str, n: int, payload: bytes = b"\x00\x02" + b"x" * 16) -> list[float]:
    """`n` Socket.IO round trips (emit with ack, a small binary payload like a y update) to an EchoServer."""
    import socketio

    client = socketio.Client(reconnection=False)
    client.connect(url, transports=["websocket"], namespaces=["/echo"], wait_timeout=10)
    try:
        for _ in range(10):
            client.call("echo", payload, namespace="/echo", timeout=10)
        times = []
        for _ in range(n):
            started = time.perf_counter()
            client.call("echo", payload, namespace="/echo", timeout=10)
            times.append(time.perf_counter() - started)
        return times
    finally:
        client.disconnect()


def proc_cpu_seconds(pid: int | None) -> float | None:
    """User+system CPU seconds a process has used so far (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
