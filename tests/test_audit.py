"""The audit log: every change attributed (who, when, what, from where), refused writes from
read-only connections logged, and a hash chain that names the row someone tampered with."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import pytest
import requests
from conftest import ACCOUNTS, DRAFT, PUBLISHED, ROOT, LiveServer, require
from test_stages import WATER, _api, _append

from crdt import protocol

AUDIT_PATH = "/admin/audit"


def _cli(instance, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONSTITUENT_INSTANCE": str(instance), "SECRET_KEY": "test-secret", **(env or {})}
    return subprocess.run([sys.executable, "-m", "editor", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _entries(instance, action: str, document: str | None = None) -> list[dict]:
    args = ["audit", "list", "--action", action, "--limit", "1000"]
    if document:
        args += ["--document", document]
    listed = _cli(instance, *args)
    assert listed.returncode == 0, listed.stderr
    rows = []
    for line in listed.stdout.splitlines():
        id_, at, actor, role, ip, action_, doc, target, detail = line.split("\t")
        rows.append({"id": int(id_), "at": at, "actor": actor, "role": role, "ip": ip, "action": action_,
                     "document": doc, "target": target, "detail": json.loads(detail)})
    return rows


def _user_id(server, who: str) -> int:
    with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
        return db.execute("SELECT id FROM user_account WHERE email = ?", (ACCOUNTS[who][0],)).fetchone()[0]


def _live_text(server, slug: str = PUBLISHED, who: str = "ana") -> str:
    session = server.login(who)
    return session.get(f"{server.url}/api/v1/documents/{slug}/text", timeout=10).text


def _wait(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_read_only_connections_cannot_change_the_text_by_any_path_and_each_attempt_is_logged(
        server, client_factory, instance):
    before = _live_text(server)
    vera = client_factory("vera", join=False)  # a reader's account
    public = client_factory(None, join=False)  # nobody signed in: what a petitioner's browser is too
    assert vera.join(PUBLISHED)["role"] == "viewer"
    assert public.join(PUBLISHED)["role"] == "viewer"

    for client, words in ((vera, " GOTHAM-CITY-1"), (public, " GOTHAM-CITY-2")):
        # 1. an update message, as a normal editor would send
        _append(client, WATER, words)
        assert client.wait_for(lambda c: any(e["code"] == "read-only" for e in c.errors))
        # 2. a whole state as sync step 2 (the answer to the server's step 1)
        client.errors.clear()
        client.send(protocol.sync_step2(client.state()))
        assert client.wait_for(lambda c: any(e["code"] == "read-only" for e in c.errors))

    # 3. a draft the public may not see: joining is refused, and so is writing to it blindly
    ack = public.join(DRAFT)
    assert ack["ok"] is False
    public.errors.clear()
    public.sio.emit("y", (DRAFT, protocol.sync_update(public.state())), namespace="/collab")
    assert public.wait_for(lambda c: any(e["code"] == "not-joined" for e in c.errors))

    # 4. the HTTP ways of making text: importing (API and form) and adopting an amendment
    reader = _api(server, "vera")
    refused = reader.post(f"{server.url}/api/v1/documents", data={"text": "Artículo 1. Gotham City.", "slug": "gotham"},
                          timeout=10)
    assert refused.status_code == 403
    anonymous = requests.post(f"{server.url}/import", data={"text": "Artículo 1. Gotham City."}, timeout=10)
    assert anonymous.status_code in (400, 401, 403) or "/login" in anonymous.url

    after = _live_text(server)
    assert after == before and "GOTHAM" not in after
    assert requests.get(f"{server.url}/d/gotham", timeout=10).status_code == 404

    vera.close()
    public.close()
    vera_id = _user_id(server, "vera")
    refused_rows = _wait(lambda: [r for r in _entries(instance, "text.refused") if r["document"] == PUBLISHED
                                  and r["actor"] in (f"user:{vera_id}", "public")])
    by_actor = {r["actor"] for r in refused_rows}
    assert by_actor == {f"user:{vera_id}", "public"}, refused_rows
    vera_rows = [r for r in refused_rows if r["actor"] == f"user:{vera_id}"]
    assert vera_rows[0]["role"] == "viewer" and vera_rows[0]["ip"] == "127.0.0.1"
    # the first refusal is logged at once, the following ones counted when the connection left
    assert sum(1 + r["detail"].get("more", 0) - (1 if "more" in r["detail"] else 0) for r in vera_rows) >= 2
    blind = [r for r in _entries(instance, "text.refused", DRAFT) if r["detail"]["why"] == "not-joined"]
    assert blind and blind[0]["actor"] == "public"
    assert any(r["document"] == DRAFT for r in _entries(instance, "collab.join_denied"))
    denied = _entries(instance, "denied.")
    assert any(r["action"] == "denied.api.create" and r["actor"] == f"user:{vera_id}" for r in denied), denied
    assert any(r["action"].startswith("denied.") and r["actor"] == "public" for r in denied), denied


def test_every_live_edit_is_attributed_to_the_account_behind_its_connection(server, client_factory, instance):
    ana = client_factory("ana")
    bruno = client_factory("bruno")
    _append(ana, WATER, " Y al saneamiento.")
    assert bruno.wait_for(lambda c: "saneamiento" in c.xml())
    ana_id = _user_id(server, "ana")
    rows = _wait(lambda: [r for r in _entries(instance, "text.update", PUBLISHED) if r["actor"] == f"user:{ana_id}"])
    assert rows, "no audit entry for ana's edit"
    entry = rows[0]
    assert entry["role"] == "committee" and entry["ip"] == "127.0.0.1"
    assert WATER in entry["detail"]["units"]
    assert entry["detail"]["updates"] >= 1 and len(entry["detail"]["sha256"]) == 64
    # Bruno only read: nothing is attributed to him.
    bruno_id = _user_id(server, "bruno")
    assert not [r for r in _entries(instance, "text.update", PUBLISHED) if r["actor"] == f"user:{bruno_id}"]
    # The committee sees who wrote a unit on the unit's page.
    committee = server.login("bruno")
    eid = committee.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{WATER}", timeout=10).json()["eId"]
    unit = committee.get(f"{server.url}/d/{PUBLISHED}/{eid}", timeout=10)
    assert unit.status_code == 200 and "Ana" in unit.text


def test_state_changes_over_http_are_logged_with_who_and_what(server, instance):
    bruno = _api(server, "bruno")
    moved = bruno.post(f"{server.url}/api/v1/documents/{PUBLISHED}/stages/advance",
                       json={"expect": "legal_review", "note": "listo para revisión"}, timeout=30)
    assert moved.status_code == 201
    bruno_id = _user_id(server, "bruno")
    rows = _entries(instance, "http.stages_api.advance", PUBLISHED)
    assert len(rows) == 1
    assert rows[0]["actor"] == f"user:{bruno_id}" and rows[0]["role"] == "committee"
    assert rows[0]["detail"]["json"]["expect"] == "legal_review"
    logins = [r for r in _entries(instance, "account.login") if r["actor"] == f"user:{bruno_id}"]
    assert logins and logins[0]["action"] == "account.login"
    # passwords never reach the log, even from a failed sign-in
    requests.Session().post(f"{server.url}/login", data={"email": "ana@example.org", "password": "wrong-secret!"},
                            timeout=10)
    assert "wrong-secret" not in _cli(instance, "audit", "list", "--limit", "1000").stdout


def _seed_audit(instance, entries: int) -> None:
    from editor import audit, create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    engine = app.extensions["constituent"].engine
    for i in range(entries):
        audit.record(engine, "test.event", actor=audit.Actor(id=1, label="user:1", role="committee", ip="10.0.0.1"),
                     document=PUBLISHED, target=f"unit:{i}", detail={"n": i, "texto": "acentuación ñ"})
    app.extensions["constituent"].rooms.close_all()
    engine.dispose()


def test_tampering_with_one_audit_row_is_detected_and_named(instance):
    _seed_audit(instance, 12)
    intact = _cli(instance, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout

    database = instance / "constituent.sqlite3"
    with sqlite3.connect(database) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM audit_event ORDER BY id")]
        target = ids[5]
        # The database itself refuses to rewrite the log…
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE audit_event SET detail = '{}' WHERE id = ?", (target,))
    # …so an intruder with the database file drops the trigger first; the chain still shows it.
    with sqlite3.connect(database) as db:
        db.execute("DROP TRIGGER audit_event_no_update")
        db.execute("UPDATE audit_event SET target = 'unit:999' WHERE id = ?", (target,))
    broken = _cli(instance, "audit", "verify")
    assert broken.returncode == 1
    assert f"entry {target}" in broken.stderr and "altered" in broken.stderr


def test_removing_audit_rows_is_detected(instance):
    _seed_audit(instance, 6)
    database = instance / "constituent.sqlite3"
    with sqlite3.connect(database) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM audit_event ORDER BY id")]
        db.execute("DROP TRIGGER audit_event_no_delete")
        db.execute("DELETE FROM audit_event WHERE id = ?", (ids[2],))
    broken = _cli(instance, "audit", "verify")
    assert broken.returncode == 1 and f"entry {ids[3]}" in broken.stderr and "removed" in broken.stderr
    with sqlite3.connect(database) as db:  # removing from the end instead: the head row knows
        db.execute("DROP TRIGGER audit_event_no_delete")  # every start of the app puts it back
        db.execute("DELETE FROM audit_event WHERE id >= ?", (ids[2],))
    truncated = _cli(instance, "audit", "verify")
    assert truncated.returncode == 1 and "removed from the end" in truncated.stderr


def test_a_published_head_catches_a_truncated_log_and_a_rewritten_chain(instance):
    """Whoever saved the head from /audit/head can prove that nothing before it was removed or
    rewritten, even by an intruder who drops the triggers, deletes the last rows and rewinds the
    head, or alters a row and re-hashes the chain forward (the chain then checks out by itself)."""
    import requests

    from editor import audit

    _seed_audit(instance, 8)
    server = LiveServer(instance).start()
    try:
        published = requests.get(f"{server.url}/audit/head", timeout=10).json()
        # The same head on a public page, linked from every page, in the reader's language.
        page = requests.get(f"{server.url}/audit", timeout=10, headers={"Accept-Language": "es"})
        assert page.status_code == 200 and "La cabeza de la cadena ahora" in page.text
        assert published["hash"] in page.text and "N.º 8" in page.text and published["at"] in page.text
        home = requests.get(f"{server.url}/", timeout=10).text
        assert 'href="/audit"' in home
    finally:
        server.stop()
    assert published["last_id"] == 8 and len(published["hash"]) == 64 and published["at"]
    assert _cli(instance, "audit", "verify", "--against", published["hash"]).returncode == 0
    database = instance / "constituent.sqlite3"
    with sqlite3.connect(database) as db:
        # The database refuses to rewind the head…
        with pytest.raises(sqlite3.DatabaseError, match="only moves forward"):
            db.execute("UPDATE audit_head SET last_id = 5")
        with pytest.raises(sqlite3.DatabaseError, match="only moves forward"):
            db.execute("DELETE FROM audit_head")
    # …so the intruder drops the triggers, removes rows 6-8 and rewinds the head to row 5.
    with sqlite3.connect(database) as db:
        for trigger in ("audit_event_no_delete", "audit_head_forward"):
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DELETE FROM audit_event WHERE id > 5")
        last_hash = db.execute("SELECT hash FROM audit_event WHERE id = 5").fetchone()[0]
        db.execute("UPDATE audit_head SET last_id = 5, hash = ?", (last_hash,))
    assert _cli(instance, "audit", "verify").returncode == 0  # consistent by itself
    caught = _cli(instance, "audit", "verify", "--against", published["hash"])
    assert caught.returncode == 1 and "is not in the chain" in caught.stderr

    # A rewritten row, the chain re-hashed forward from it and the head updated to match: first
    # by an intruder without the key (plain SHA-256, or a key of their own), then with the key.
    for forger in (None, audit.ChainKey(b"a key the intruder made up"), audit.key_from_config({"SECRET_KEY": "test-secret"})):
        _rehash_forward(database, forger, rewritten_id=3)
        verdict = _cli(instance, "audit", "verify")
        if forger is None or forger.secret == b"a key the intruder made up":
            # Without the key the rewrite shows by itself, at the row that was rewritten.
            assert verdict.returncode == 1 and "entry 1:" in verdict.stderr, verdict.stderr
            assert ("hashed without the chain's key" if forger is None else "does not match its hash") in verdict.stderr
        else:
            # With the key (the server's configuration was stolen too) it is consistent by itself…
            assert verdict.returncode == 0, verdict.stderr
            # …but not with the head published before the rewrite.
            rewritten = _cli(instance, "audit", "verify", "--against", last_hash)
            assert rewritten.returncode == 1 and "is not in the chain" in rewritten.stderr


def test_a_log_from_before_the_keyed_chain_verifies_up_to_the_row_the_operator_names(instance):
    """A deployment upgraded from the unkeyed chain (plain SHA-256) keeps its old rows: the
    operator names the last of them in the configuration, where a forger cannot move it."""
    _seed_audit(instance, 4)
    _rehash_forward(instance / "constituent.sqlite3", None, rewritten_id=0)  # as the old code wrote them
    refused = _cli(instance, "audit", "verify")
    assert refused.returncode == 1 and "AUDIT_UNKEYED_UNTIL" in refused.stderr
    upgraded = {"CONSTITUENT_AUDIT_UNKEYED_UNTIL": "4"}
    assert _cli(instance, "audit", "verify", env=upgraded).returncode == 0
    _seed_audit(instance, 2)  # rows 5 and 6, keyed
    assert _cli(instance, "audit", "verify", env=upgraded).returncode == 0
    _rehash_forward(instance / "constituent.sqlite3", None, rewritten_id=6)  # the whole chain, without the key
    forged = _cli(instance, "audit", "verify", env=upgraded)
    assert forged.returncode == 1 and "at entry 5:" in forged.stderr and "without the chain's key" in forged.stderr


def _rehash_forward(database, key, rewritten_id: int) -> None:
    """What an intruder with write access to the database does: drop the triggers, rewrite one
    row's detail and re-hash every row, updating the head to match."""
    from editor import audit

    with sqlite3.connect(database) as db:
        for trigger in ("audit_event_no_update", "audit_head_forward"):
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        rows = db.execute("SELECT id, at, actor_id, actor, role, ip, action, document, target, detail "
                          "FROM audit_event ORDER BY id").fetchall()
        previous = audit.GENESIS
        names = ("id", "at", "actor_id", "actor", "role", "ip", "action", "document", "target", "detail")
        for values in rows:
            forged = SimpleNamespace(**dict(zip(names, values, strict=True)))
            if forged.id == rewritten_id:
                forged.detail = '{"n":99,"texto":"reescrito"}'
            new_hash = audit.unkeyed_hash(previous, forged) if key is None else audit.row_hash(key, previous, forged)
            db.execute("UPDATE audit_event SET detail = ?, prev_hash = ?, hash = ? WHERE id = ?",
                       (forged.detail, previous, new_hash, forged.id))
            previous = new_hash
        db.execute("UPDATE audit_head SET hash = ?", (previous,))


def test_the_audit_log_is_append_only_on_postgresql_too():
    import sqlalchemy

    from editor import audit
    from editor.db import make_engine

    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"constituent_audit_{uuid.uuid4().hex[:10]}"
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        require(False, f"PostgreSQL not reachable at 127.0.0.1:5432 as postgres: {exc}")
    engine = make_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        audit.create_schema(engine)
        audit.create_schema(engine)  # twice: idempotent
        audit.use_key(engine, audit.ChainKey(b"the deployment's audit key"))
        for i in range(3):
            audit.record(engine, "test.event", actor=audit.Actor(label="cli:test"), detail={"n": i})
        assert audit.verify(engine).ok and audit.verify(engine).checked == 3
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text("UPDATE audit_event SET target = 'x' WHERE id = 2"))
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text("DELETE FROM audit_event WHERE id = 3"))
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
            conn.execute(sqlalchemy.text("UPDATE audit_event SET detail = :forged WHERE id = 2"), {"forged": '{"n":7}'})
        verdict = audit.verify(engine)
        assert not verdict.ok and verdict.bad_id == 2
        # The head only moves forward, on PostgreSQL too.
        for statement in ("UPDATE audit_head SET last_id = 1", "DELETE FROM audit_head"):
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="only moves forward"):
                with engine.begin() as conn:
                    conn.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def test_the_administrator_reads_and_verifies_the_log_and_nobody_else_does(server):
    _api(server, "bruno").post(f"{server.url}/api/v1/documents/{PUBLISHED}/stages/advance",
                               json={"expect": "legal_review"}, timeout=30)
    admin = server.login("admin")
    page = admin.get(f"{server.url}{AUDIT_PATH}?action=http.&verify=1", timeout=10)
    assert page.status_code == 200
    assert "http.stages_api.advance" in page.text and 'id="audit-verdict"' in page.text
    assert "flash-info" in page.text.split('id="audit-verdict"')[0].rsplit("<p", 1)[1]
    for who in ("ana", "lucia", "vera", "asa"):
        assert server.login(who).get(f"{server.url}{AUDIT_PATH}", timeout=10).status_code == 403
    anonymous = requests.get(f"{server.url}{AUDIT_PATH}", timeout=10, allow_redirects=False)
    assert anonymous.status_code in (302, 401) and "login" in anonymous.headers.get("Location", "login")
