"""The Node side of the benchmarks: y-websocket's own server (the baseline) and the y-protocols clients.

`bench/node/` holds its own package.json and package-lock.json (y-websocket 1.5.4, yjs, ws,
y-protocols and lib0 pinned exactly); `ensure_installed()` runs `npm ci` there when its
node_modules is missing or older than the lock file. `bench/node/clients.mjs` is the one client
program for both servers (see its header); `NodeClients` runs it in a subprocess and talks to it
over stdin/stdout lines.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import _common as common  # noqa: E402 - bench/ is on sys.path for every benchmark script

NODE_DIR = Path(__file__).resolve().parent / "node"
CLIENTS = NODE_DIR / "clients.mjs"
STAMP = NODE_DIR / "node_modules" / ".installed"


def now() -> float:
    """CLOCK_MONOTONIC seconds: the clock the Node clients read (process.hrtime = uv_hrtime)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def ensure_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("node and npm are needed for the y-protocols benchmarks")
    lock = NODE_DIR / "package-lock.json"
    if STAMP.exists() and STAMP.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("  npm ci in bench/node ...", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True, timeout=600)
    STAMP.touch()


def versions() -> dict:
    out = {"node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()}
    for name in ("y-websocket", "yjs", "ws", "y-protocols", "lib0"):
        try:
            out[name] = json.loads((NODE_DIR / "node_modules" / name / "package.json").read_text())["version"]
        except (OSError, ValueError):
            out[name] = None
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_rss(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class YWebsocketServer:
    """y-websocket 1.5.4's own server (`bin/server.js`: in-memory documents, no persistence, no
    auth) in a Node process on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="y-websocket-", suffix=".log", delete=False)

    def ws_url(self, slug: str) -> str:
        return f"{self.ws_base}/{slug}"

    def __enter__(self) -> "YWebsocketServer":
        ensure_installed()
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port)}
        env.pop("YPERSISTENCE", None)
        env.pop("CALLBACK_URL", None)
        self.process = subprocess.Popen(
            ["node", str(NODE_DIR / "node_modules" / "y-websocket" / "bin" / "server.js")],
            cwd=NODE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("y-websocket server exited: " + Path(self.log.name).read_text()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("y-websocket server did not start")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __exit__(self, *exc) -> None:
        common.stop_process(self.process)
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


class NodeClients:
    """One `node clients.mjs` process. `config` is its JSON config (mode, connections, ...)."""

    def __init__(self, config: dict, label: str = "clients") -> None:
        ensure_installed()
        self.label = label
        self.dir = Path(tempfile.mkdtemp(prefix="bench-node-"))
        self.config = {"deadline_s": 900, **config, "out": str(self.dir / "out.json")}
        (self.dir / "config.json").write_text(json.dumps(self.config))
        self.process = subprocess.Popen(
            ["node", "--max-old-space-size=4096", str(CLIENTS), str(self.dir / "config.json")],
            cwd=NODE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self._lines: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "LOG":
                print(f"    [{self.label}] {rest}", flush=True)
                continue
            try:
                data = json.loads(rest) if rest else {}
            except ValueError:
                data = {"raw": rest}
            self._lines.put((kind, data))
        self._lines.put(("EOF", {}))

    def _read_err(self) -> None:
        for line in self.process.stderr:
            if len(self.stderr) < 50:
                self.stderr.append(line.rstrip("\n"))

    def expect(self, kind: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.label}: no {kind} within {timeout:.0f} s")
            try:
                got, data = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if got == kind:
                return data
            if got == "EOF" or got == "DONE":
                raise RuntimeError(f"{self.label} ended before {kind}: {data} {' | '.join(self.stderr[-5:])}")

    def send(self, command: str) -> None:
        try:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def results(self, timeout: float = 120) -> dict:
        """Tell the process to stop (if it waits for that), wait for it, read its results."""
        self.send("stop")
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        try:
            return json.loads((self.dir / "out.json").read_text())
        except (OSError, ValueError):
            return {"error": f"no results ({' | '.join(self.stderr[-5:])})"}
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def split(items: list, parts: int) -> list[list]:
    """`items` dealt round-robin into `parts` non-empty lists."""
    parts = max(1, min(parts, len(items)))
    return [items[k::parts] for k in range(parts)]
