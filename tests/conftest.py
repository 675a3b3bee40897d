"""Shared fixtures: a real server in a subprocess, accounts, documents, logged-in sessions."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def _shared_data() -> Path:
    """The shared real data: $CONSTITUENT_SHARED_DATA, else `../shared/data` beside this checkout,
    else beside the repository it was cloned from (a CI clone in /tmp keeps finding it)."""
    if os.environ.get("CONSTITUENT_SHARED_DATA"):
        return Path(os.environ["CONSTITUENT_SHARED_DATA"])
    beside = ROOT.parent / "shared" / "data"
    if beside.is_dir():
        return beside
    try:
        origin = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin and Path(origin).is_dir():
        cloned_from = Path(origin).resolve().parent / "shared" / "data"
        if cloned_from.is_dir():
            return cloned_from
    return beside


SHARED_DATA = _shared_data()
if SHARED_DATA.is_dir():  # the product finds the real survey files there too, in subprocesses as well
    os.environ["CONSTITUENT_SHARED_DATA"] = str(SHARED_DATA)
CHROMIUM = "/usr/bin/chromium"
#: Chromium flags for tests: no sandbox (containers), nothing phoning home.
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct horse battery"

ACCOUNTS = {
    "ana": ("ana@example.org", "committee"),
    "bruno": ("bruno@example.org", "committee"),
    "vera": ("vera@example.org", "viewer"),
    "lucia": ("lucia@example.org", "legal"),
    "asa": ("asa@example.org", "assembly"),
    "abel": ("abel@example.org", "assembly"),
    "admin": ("admin@example.org", "admin"),
    "marta": ("marta@example.org", "volunteer"),
}

PUBLISHED = "constitucion-prueba"
DRAFT = "borrador-reservado"


def require(condition: bool, reason: str) -> None:
    """Skip when a part of the machine is missing, unless CI demands everything."""
    if condition:
        return
    if os.environ.get("CONSTITUENT_REQUIRE_ALL") == "1":
        pytest.fail(f"required but missing: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMALL_BODY = b"""<body>
  <title><heading>De los derechos</heading>
    <article guid="00000000-0000-4000-8000-000000000001"><heading>Agua</heading>
      <paragraph guid="00000000-0000-4000-8000-000000000002"><heading>Acceso</heading>
        <subparagraph guid="00000000-0000-4000-8000-000000000003"><p>Toda persona tiene derecho al agua.</p></subparagraph>
      </paragraph>
    </article>
    <article guid="00000000-0000-4000-8000-000000000004"><heading>Movilidad</heading><p>Toda persona tiene derecho a moverse.</p></article>
    <article guid="00000000-0000-4000-8000-000000000005"><heading>Animales</heading><p>Los animales son seres sintientes.</p></article>
  </title>
</body>"""


def seed_instance(instance: Path, database_url: str | None = None) -> None:
    """Accounts and two documents (one published, one draft) in a fresh instance folder (or in the
    database at `database_url`)."""
    from akoma_ntoso.safexml import parse_xml
    from editor import create_app
    from editor.accounts import add_user
    from editor.documents import create_document

    overrides = {"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"}
    if database_url:
        overrides["DATABASE_URL"] = database_url
    app = create_app(overrides)
    services = app.extensions["constituent"]
    for email, role in ACCOUNTS.values():
        add_user(services.db, email, role, PASSWORD)
    create_document(services, PUBLISHED, "Constitución de prueba", parse_xml(SMALL_BODY), published=True)
    create_document(services, DRAFT, "Borrador reservado", parse_xml(SMALL_BODY), published=False)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


class LiveServer:
    """`constituent serve` in a subprocess over a given instance folder."""

    def __init__(self, instance: Path, env_extra: dict | None = None, args: list[str] | None = None) -> None:
        self.instance = instance
        self.args = list(args or [])  # more `constituent serve` options (--threads, --database, --redis)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CONSTITUENT_INSTANCE": str(instance),
            "SECRET_KEY": "test-secret",
            "CONSTITUENT_INSECURE_COOKIES": "1",
            **(env_extra or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "LiveServer":
        log = open(self.instance / "server.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "editor", "serve", "--port", str(self.port), *self.args],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + (self.instance / "server.log").read_text()[-3000:])
            try:
                if requests.get(self.url + "/api/v1/documents", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process and self.process.poll() is None:
            # gunicorn: kill the whole process group we started (arbiter and worker).
            for pid in _children(self.process.pid) + [self.process.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def login(self, who: str) -> requests.Session:
        return login(self.url, ACCOUNTS[who][0])

    def cookie(self, who: str | None) -> str | None:
        if who is None:
            return None
        session = self.login(who)
        return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def login(base_url: str, email: str, password: str = PASSWORD) -> requests.Session:
    import re

    session = requests.Session()
    # One connection per request: gunicorn closes a kept-alive connection after 2 s idle, and a
    # request sent on it at that instant fails (browsers retry it; requests does not, for a POST).
    session.headers["Connection"] = "close"
    page = session.get(base_url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    assert token, "login form has no CSRF token"
    response = session.post(
        base_url + "/login", data={"email": email, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False, timeout=10,
    )
    assert response.status_code == 302, f"login failed for {email}: {response.status_code}"
    return session


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    instance = tmp_path_factory.mktemp("template-instance")
    seed_instance(instance)
    return instance


@pytest.fixture
def instance(seeded_template, tmp_path) -> Path:
    target = tmp_path / "instance"
    shutil.copytree(seeded_template, target)
    return target


def open_files() -> int:
    """How many files and sockets this process holds open (0 where /proc is not there)."""
    return len(os.listdir(f"/proc/{os.getpid()}/fd")) if os.path.isdir(f"/proc/{os.getpid()}/fd") else 0


def close_app(app) -> None:
    """Stop what an in-process application started (its bus, rooms, sessions, engine)."""
    app.extensions["constituent"].close()


@pytest.fixture
def app(instance):
    """The application in this process, over a fresh seeded instance (test files may override)."""
    from editor import create_app

    made = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    yield made
    close_app(made)


@pytest.fixture
def server(instance):
    live = LiveServer(instance).start()
    yield live
    live.stop()


@pytest.fixture
def client_factory(server):
    from collab_client import CollabClient

    clients = []

    def make(who: str | None, slug: str = PUBLISHED, join: bool = True):
        client = CollabClient(server.url, server.cookie(who), name=who or "anonymous").connect()
        clients.append(client)
        if join:
            ack = client.join(slug)
            assert ack["ok"], ack
        return client

    yield make
    for client in clients:
        client.close()


CDMX = "cdmx"
CDMX_TEXT = SHARED_DATA / "cdmx" / "constitucion-politica-cdmx.txt"


@pytest.fixture(scope="session")
def cdmx_template(seeded_template, tmp_path_factory) -> Path:
    """A seeded instance that also holds the Mexico City constitution, imported and published
    under the slug `cdmx` (the text in force, from ../shared/data)."""
    require(CDMX_TEXT.exists(), f"the Mexico City constitution is not at {CDMX_TEXT}")
    from editor import create_app
    from editor.interchange import import_document

    instance = tmp_path_factory.mktemp("cdmx-instance")
    shutil.copytree(seeded_template, instance, dirs_exist_ok=True)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    import_document(services, CDMX_TEXT.read_bytes(), "text", slug=CDMX, title=None, doctype="act", published=True)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    return instance


@pytest.fixture
def cdmx_instance(cdmx_template, tmp_path) -> Path:
    """A private copy of `cdmx_template` for one test."""
    target = tmp_path / "cdmx-instance"
    shutil.copytree(cdmx_template, target)
    return target


@pytest.fixture
def browser():
    """Debian's Chromium through Playwright, one per test (the tests fail without it under
    CONSTITUENT_REQUIRE_ALL=1)."""
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        yield instance
        instance.close()
