"""Scale-out: several server processes on one PostgreSQL database, sharing live documents through Redis.

Every test runs real `constituent serve` processes (gunicorn) on different ports, a fresh
PostgreSQL database, and Redis (the machine's, under a key prefix of its own, or a private
redis-server that the test stops and restarts).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from conftest import PUBLISHED, LiveServer, free_port, require, seed_instance
from test_accounts_security import _form_token
from test_stages import MOBILITY, WATER, _advance, _api, _append

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means no usable server
        return False


def _redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def pg_database():
    require(_postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    import psycopg

    name = f"constituent_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


class PrivateRedis:
    """A redis-server of the test's own, so that it can be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _redis_ping(self.url):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()  # nothing saved: the streams are gone, as after a crash
            self.process.wait(10)


@pytest.fixture
def shared_redis():
    url = "redis://127.0.0.1:6379/0"
    require(_redis_ping(url), "Redis on 127.0.0.1:6379")
    return url


@pytest.fixture
def private_redis(tmp_path):
    require(shutil.which("redis-server") is not None, "redis-server (Debian package redis-server)")
    redis = PrivateRedis(tmp_path).start()
    yield redis
    redis.stop()


class Cluster:
    """Two (or more) server processes on one database and one Redis."""

    def __init__(self, tmp_path: Path, database: str, redis_url: str) -> None:
        self.tmp_path = tmp_path
        self.env = {"DATABASE_URL": database, "REDIS_URL": redis_url,
                    "CONSTITUENT_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:8]}"}
        seed_instance(tmp_path / "seed", database)
        self.servers: list[LiveServer] = []
        self.clients = []

    def server(self, name: str) -> LiveServer:
        folder = self.tmp_path / name
        folder.mkdir()
        live = LiveServer(folder, self.env).start()
        self.servers.append(live)
        return live

    def client(self, server: LiveServer, who: str | None, slug: str = PUBLISHED, transport: str = "collab"):
        """A replica over Socket.IO /collab, or over the raw /yjs endpoint."""
        from collab_client import CollabClient, YjsClient

        kind = YjsClient if transport == "yjs" else CollabClient
        client = kind(server.url, server.cookie(who), name=f"{who}@{server.port}").connect()
        self.clients.append(client)
        assert client.join(slug)["ok"]
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for live in self.servers:
            live.stop()


@pytest.fixture
def cluster(tmp_path, pg_database, shared_redis):
    made = Cluster(tmp_path, pg_database, shared_redis)
    yield made
    made.close()


@pytest.mark.parametrize("transport", ["collab", "yjs"])
def test_two_processes_share_a_document_and_converge(cluster, transport):
    a, b = cluster.server("a"), cluster.server("b")
    ana = cluster.client(a, "ana", transport=transport)  # a committee member on process A
    bruno = cluster.client(b, "bruno", transport=transport)  # another on process B
    vera = cluster.client(b, "vera", transport=transport)  # a reader on process B
    for i in range(20):  # both type at once, in two articles
        _append(ana, WATER, f" a{i}")
        _append(bruno, MOBILITY, f" b{i}")
    for client in (ana, bruno, vera):
        assert client.wait_for(lambda c: " a19" in c.xml() and " b19" in c.xml(), timeout=20), client.name
    assert ana.wait_for(lambda c: c.xml() == bruno.xml() == vera.xml(), timeout=10)
    assert vera.received_updates, "B's reader saw A's edits live, as updates"

    late = cluster.client(b, "vera", transport=transport)  # joins process B afterwards: sees what was typed on A
    assert all(f" a{i}" in late.xml() for i in range(20))
    assert late.xml() == ana.xml()
    # The public pages of both processes show the same text.
    for live in (a, b):
        page = requests.get(f"{live.url}/d/{PUBLISHED}", timeout=10).text
        assert "a19" in page and "b19" in page


@pytest.mark.parametrize("transport", ["collab", "yjs"])
def test_killing_a_process_and_reconnecting_its_clients_to_the_other_loses_nothing(cluster, transport):
    a, b = cluster.server("a"), cluster.server("b")
    ana = cluster.client(a, "ana", transport=transport)
    watcher = cluster.client(b, "vera", transport=transport)
    for i in range(30):
        _append(ana, WATER, f" w{i}")
    # Acknowledged: a client of the other process has it (durable before it was published).
    assert watcher.wait_for(lambda c: " w29" in c.xml(), timeout=20)
    for i in range(30, 40):  # typed right before the crash: maybe stored, maybe not
        _append(ana, WATER, f" w{i}")
    a.kill()  # kill -9: no shutdown code runs
    assert ana.reconnect(b.url)["ok"]
    _append(ana, MOBILITY, " after")
    for client in (ana, watcher):
        assert client.wait_for(lambda c: " w39" in c.xml() and " after" in c.xml(), timeout=20), client.name
    fresh = cluster.client(b, "bruno", transport=transport)
    assert all(f" w{i}" in fresh.xml() for i in range(40))
    # And it is in the database: a new process started from the store alone has every word.
    c = cluster.server("c")
    reader = cluster.client(c, None, transport=transport)
    assert all(f" w{i}" in reader.xml() for i in range(40)) and " after" in reader.xml()


def test_a_stage_change_made_in_one_process_reaches_connections_in_the_other(cluster):
    a, b = cluster.server("a"), cluster.server("b")
    ana_on_b = cluster.client(b, "ana")
    seen: list[dict] = []
    ana_on_b.sio.on("stage", lambda data: seen.append(data), namespace="/collab")
    assert _advance(_api(a, "bruno"), a).status_code == 201
    assert ana_on_b.wait_for(lambda c: seen and seen[-1]["stage"] == "legal_review", timeout=15), seen


def test_signing_out_everywhere_on_one_process_closes_live_connections_on_the_other(cluster):
    a, b = cluster.server("a"), cluster.server("b")
    ana_on_b = cluster.client(b, "ana")
    phone = a.login("ana")
    token = _form_token(phone, f"{a.url}/d/{PUBLISHED}")
    assert phone.post(f"{a.url}/logout/everywhere", data={"csrf_token": token}, timeout=10).status_code == 200
    assert ana_on_b.wait_for(lambda c: not c.sio.connected, timeout=15)


def test_redis_restarting_mid_session_processes_reconnect_and_converge(tmp_path, pg_database, private_redis):
    cluster = Cluster(tmp_path, pg_database, private_redis.url)
    try:
        a, b = cluster.server("a"), cluster.server("b")
        ana = cluster.client(a, "ana")
        bruno = cluster.client(b, "bruno")
        _append(ana, WATER, " before")
        assert bruno.wait_for(lambda c: " before" in c.xml(), timeout=15)

        private_redis.stop()  # Redis dies; every stream it held is gone
        _append(ana, WATER, " during-a")  # each process keeps serving its own clients
        _append(bruno, MOBILITY, " during-b")
        time.sleep(1.0)
        private_redis.start()  # back, empty
        for client in (ana, bruno):  # the processes reconnect and heal from the store
            assert client.wait_for(lambda c: " during-a" in c.xml() and " during-b" in c.xml(), timeout=30), \
                client.name
        _append(bruno, MOBILITY, " after")  # and the fan-out works again
        assert ana.wait_for(lambda c: " after" in c.xml(), timeout=15)
        assert ana.wait_for(lambda c: c.xml() == bruno.xml(), timeout=10)
    finally:
        cluster.close()


@pytest.mark.parametrize("proxies, expected", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_behind_nginx_the_audit_log_records_the_clients_address(tmp_path, proxies, expected):
    """With CONSTITUENT_PROXIES=1 (one nginx in front) the client's address comes from
    X-Forwarded-For; without it the header is not trusted (anyone could write it)."""
    from editor import audit, create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret", "PROXIES": proxies,
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"email": "nobody@example.org", "password": "wrong"},
                headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    failed = audit.events(app.extensions["constituent"].engine, action="account.login_failed")
    assert [event.ip for event in failed] == [expected]
    app.extensions["constituent"].rooms.close_all()


def test_comments_links_and_adopted_amendments_made_on_one_process_reach_live_clients_on_the_other(cluster, pg_database):
    """Panel events are domain events whose subscribers run in every process: a comment, a
    provenance link and an amendment's adoption made on A reach a live (/yjs) client on B, each
    within a second, and a reader on B is not told of the comment (readers cannot see comments)."""
    from test_amendments import Member, adopt
    from test_links import MOBILITY, Api, add_sources

    sources = add_sources(cluster.tmp_path / "seed", database_url=pg_database)
    a, b = cluster.server("a"), cluster.server("b")
    ana_on_b = cluster.client(b, "ana", transport="yjs")  # a committee member's editor on process B
    vera_on_b = cluster.client(b, "vera", transport="yjs")  # a reader on process B

    def heard(client, event: str, since: float) -> None:
        """`client` is told of `event` about the document, pushed to it (fails after 10 s)."""
        deadline = since + 10
        while time.monotonic() < deadline:
            if any(name == event and data.get("document") == PUBLISHED for name, data in list(client.events)):
                return
            time.sleep(0.005)
        raise AssertionError(f"{client.name} never heard {event!r}: {client.events}")

    lucia_on_a = Api(a, "lucia")
    started = time.monotonic()
    made = lucia_on_a.post("/comments", {"unit": MOBILITY, "body": "¿Incluye a las bicicletas?"})
    assert made.status_code == 201, made.text
    heard(ana_on_b, "comments", started)
    assert ("comments", {"document": PUBLISHED, "unit": MOBILITY}) in ana_on_b.events

    started = time.monotonic()
    linked = Api(a, "bruno").post("/links", {"unit": MOBILITY, "source_kind": "petition", "source_id": sources["mobility"]})
    assert linked.status_code == 201, linked.text
    heard(ana_on_b, "provenance", started)
    assert ("provenance", {"document": PUBLISHED, "unit": MOBILITY}) in ana_on_b.events

    admin_on_a = _api(a, "admin")
    while requests.get(f"{a.url}/api/v1/documents/{PUBLISHED}/stages", timeout=10).json()["current"] != "assembly":
        assert _advance(admin_on_a, a).status_code == 201
    asa, abel, admin = Member(a, "asa"), Member(a, "abel"), Member(a, "admin")
    asa.create(kind="substitution", units=[MOBILITY], heading="Movilidad", text="Toda persona tiene derecho a moverse libremente.")
    # Timed from the adoption's answer: adopting takes several requests (table, debate, votes,
    # close), whose own time on a loaded machine is not what this measures.
    assert adopt(asa, admin, abel, 1).json()["state"] == "adopted"
    heard(ana_on_b, "amendment", time.monotonic())
    assert ("amendment", {"document": PUBLISHED, "number": 1, "state": "adopted"}) in ana_on_b.events
    # The adopted wording reached B's replicas too, as text.
    for client in (ana_on_b, vera_on_b):
        assert client.wait_for(lambda c: "moverse libremente" in c.xml(), timeout=10), client.name
    assert not [data for name, data in vera_on_b.events if name == "comments"], "a reader heard of a comment"


def test_a_role_changed_from_the_command_line_reaches_open_editors(cluster):
    """`constituent users role` publishes the change on the deployment's Redis: a reader's open
    editor on a running server becomes an editor at once, without reconnecting."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    a = cluster.server("a")
    vera = cluster.client(a, "vera", transport="yjs")  # a reader
    env = {**os.environ, **cluster.env, "CONSTITUENT_INSTANCE": str(cluster.tmp_path / "cli"), "SECRET_KEY": "test-secret"}
    changed = subprocess.run([sys.executable, "-m", "editor", "users", "role", "vera@example.org", "committee"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert changed.returncode == 0, changed.stderr
    assert vera.wait_for(lambda c: any(name == "stage" and data.get("role") == "editor" for name, data in list(c.events)),
                         timeout=10), vera.events
    _append(vera, WATER, " Ahora escribe.")
    fresh = cluster.client(a, "ana", transport="yjs")
    assert fresh.wait_for(lambda c: "Ahora escribe." in c.xml(), timeout=10)
