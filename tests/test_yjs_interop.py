"""Interoperability: the real `yjs` JavaScript library (node) edits alongside pycrdt clients.

The Yjs side is tests/yjs_client/client.mjs: a Y.Doc speaking y-protocols sync through
socket.io-client, driven over stdin/stdout with line-delimited JSON. `make test` installs its
pinned packages (`npm ci` in tests/yjs_client).
"""

from __future__ import annotations

import base64
import itertools
import json
import queue
import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest
from conftest import PUBLISHED, ROOT, require
from lxml import etree
from pycrdt import Doc, XmlFragment

from crdt.protocol import decode_state_vector
from crdt.xmltree import fragment_to_etree

CLIENT_DIR = ROOT / "tests" / "yjs_client"
TIMEOUT = 20.0

# The paragraph everybody types into: article 2 ("Movilidad") of the first title.
SENTENCE = "Toda persona tiene derecho a moverse."
MIDDLE = "derecho"  # "middle" inserts go right before this word
P_PATH = [0, 2, 1]  # body → title → (heading, article, *article*, article) → (heading, *p*)


def _canonical(body) -> str:
    return etree.tostring(fragment_to_etree(body), encoding="unicode")


def _doc_from_update(update: bytes) -> Doc:
    doc = Doc()
    doc.apply_update(update)
    return doc


class YjsClient:
    """One node process running client.mjs, joined to one document."""

    _ids = itertools.count(1)

    def __init__(self, url: str, cookie: str | None, slug: str, name: str) -> None:
        self.name = name
        command = ["node", str(CLIENT_DIR / "client.mjs"), "--url", url, "--document", slug, "--max-seconds", "240"]
        if cookie:
            command += ["--cookie", cookie]
        self.process = subprocess.Popen(
            command, cwd=CLIENT_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._pending: dict[int, dict] = {}
        threading.Thread(target=self._pump, args=(self.process.stdout, self._lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, self._stderr.append), daemon=True).start()
        self.ready = self._next_line(TIMEOUT, "the ready line")
        assert self.ready.get("ready"), f"{self.name}: the Yjs client did not join: {self.ready}{self.diagnostics()}"
        self.role = self.ready["role"]

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line.rstrip("\n"))
        sink(None)

    def diagnostics(self) -> str:
        lines = [line for line in self._stderr if line is not None][-30:]
        return ("\n--- node stderr ---\n" + "\n".join(lines)) if lines else ""

    def _next_line(self, timeout: float, what: str) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.name}: no answer within {timeout} s for {what}{self.diagnostics()}") from None
        if line is None:
            self._lines.put(None)
            self.process.poll()
            raise AssertionError(
                f"{self.name}: node exited (code {self.process.returncode}) before {what}{self.diagnostics()}")
        return json.loads(line)

    def request(self, cmd: str, **fields) -> int:
        """Send a command without waiting for its result."""
        ident = next(self._ids)
        self.process.stdin.write(json.dumps({"id": ident, "cmd": cmd, **fields}) + "\n")
        self.process.stdin.flush()
        return ident

    def result(self, ident: int, timeout: float = TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while ident not in self._pending:
            answer = self._next_line(max(0.01, deadline - time.monotonic()), f"command #{ident}")
            self._pending[answer.get("id")] = answer
        answer = self._pending.pop(ident)
        assert answer["ok"], f"{self.name}: command #{ident} failed: {answer['error']}{self.diagnostics()}"
        return answer

    def call(self, cmd: str, timeout: float = TIMEOUT, **fields) -> dict:
        return self.result(self.request(cmd, timeout=timeout, **fields), timeout + 5)

    # --- views of the Yjs replica ---
    def state(self) -> bytes:
        return base64.b64decode(self.call("state")["state"])

    def xml(self) -> str:
        """The Yjs replica, rendered by the same code as the pycrdt replicas (via its encoded state)."""
        return _canonical(_doc_from_update(self.state()).get("body", type=XmlFragment))

    def own_xml(self) -> str:
        """The Yjs replica as Yjs itself prints it (body.toString()), normalised through lxml."""
        return etree.tostring(etree.fromstring("<body>" + self.call("xml")["xml"] + "</body>"), encoding="unicode")

    def errors(self) -> list[dict]:
        return self.call("errors")["errors"]

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.request("quit")
                self.process.wait(3)
        except Exception:  # noqa: BLE001 - the kill below is what matters
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(10)
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                try:
                    stream.close()
                except Exception:  # noqa: BLE001
                    pass


@pytest.fixture(autouse=True)
def _node_and_yjs():
    """Checked before the server starts (autouse fixtures come first)."""
    require(shutil.which("node") is not None and (CLIENT_DIR / "node_modules").exists(),
            "needs node and tests/yjs_client/node_modules (make tests/yjs_client/node_modules/.installed)")


@pytest.fixture
def yjs_factory(server):
    clients: list[YjsClient] = []

    def make(who: str | None, slug: str = PUBLISHED) -> YjsClient:
        client = YjsClient(server.url, server.cookie(who), slug, name=f"yjs({who})")
        clients.append(client)
        client.call("wait_synced")
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()


def _p_text(client):
    title = client.body.children[0]
    article = [c for c in title.children if getattr(c, "tag", None) == "article"][1]
    return [c for c in article.children if c.tag == "p"][0].children[0]


def _python_insert(client, where: str, marker: str) -> None:
    def change(body):
        text = _p_text(client)
        current = str(text)
        index = {"start": 0, "middle": current.find(MIDDLE), "end": len(current)}[where]
        assert index >= 0, current
        text.insert(index, marker)
    client.edit(change)


YJS_INDEX = {"start": 0, "middle": {"before": MIDDLE}, "end": "end"}
WHERE = ("start", "middle", "end")


def _wait(predicate, timeout: float = TIMEOUT, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def test_yjs_and_pycrdt_clients_converge_on_concurrent_edits(server, client_factory, yjs_factory):
    ana, bruno = client_factory("ana"), client_factory("bruno")
    yjs = yjs_factory("bruno")  # a third connection, with a committee member's session
    assert yjs.role == "editor"
    assert yjs.call("text", path=P_PATH)["text"] == SENTENCE
    assert yjs.xml() == ana.xml() == bruno.xml(), "the initial sync gave the Yjs client a different document"

    rounds = 20
    new_guid = str(uuid.uuid4())
    markers = {"A": [], "B": [], "Y": []}
    placed = {"start": [], "middle": [], "end": []}
    for r in range(rounds):
        # Each round, the three clients type at three different places of the same paragraph,
        # rotating, without waiting for each other: their updates cross on the wire.
        plan = {who: WHERE[(r + k) % 3] for k, who in enumerate("AYB")}
        marker = {who: f"[{who}{r:02d}]" for who in "AYB"}
        pending = [yjs.request("insert", path=P_PATH, index=YJS_INDEX[plan["Y"]], text=marker["Y"])]
        if r == rounds // 2:
            # One structural edit from Yjs while the others type: a new article before "Animales".
            pending.append(yjs.request("insert_element", path=[0], index=3, node={
                "tag": "article", "attrs": {"guid": new_guid}, "children": [
                    {"tag": "heading", "children": [{"text": "Interoperabilidad"}]},
                    {"tag": "p", "children": [{"text": "Un cliente Yjs escribió este artículo."}]},
                ]}))
        _python_insert(ana, plan["A"], marker["A"])
        _python_insert(bruno, plan["B"], marker["B"])
        for ident in pending:
            yjs.result(ident)
        for who in "AYB":
            markers[who].append(marker[who])
            placed[plan[who]].append(marker[who])

    everything = [m for ms in markers.values() for m in ms]

    def converged():
        yjs.call("sync")  # a round trip through the server: whatever it had is now here
        views = {"ana": ana.xml(), "bruno": bruno.xml(), "yjs": yjs.xml()}
        complete = all(view.count(m) == 1 for view in views.values() for m in everything)
        return views if complete and len(set(views.values())) == 1 else None

    views = _wait(converged)
    if views is None:
        views = {"ana": ana.xml(), "bruno": bruno.xml(), "yjs": yjs.xml()}
        pytest.fail("replicas did not converge within %.0f s:\n%s" % (
            TIMEOUT, "\n".join(f"{name}: {xml}" for name, xml in views.items())))

    xml = views["ana"]
    tree = etree.fromstring(xml)
    # Every marker from every client is there exactly once, where its client put it.
    text = tree.xpath("string(title/article[@guid='00000000-0000-4000-8000-000000000004']/p)")
    for m in everything:
        assert text.count(m) == 1, f"marker {m} appears {text.count(m)} times in {text!r}"
    assert re.sub(r"\[[AYB]\d\d\]", "", text) == SENTENCE, f"the original sentence was damaged: {text!r}"
    head, rest = text.split("Toda persona tiene ", 1)
    middle, tail = rest.split("derecho a moverse.", 1)
    assert sorted(re.findall(r"\[[AYB]\d\d\]", head)) == sorted(placed["start"]), text
    assert sorted(re.findall(r"\[[AYB]\d\d\]", middle)) == sorted(placed["middle"]), text
    assert sorted(re.findall(r"\[[AYB]\d\d\]", tail)) == sorted(placed["end"]), text
    # Each client's own inserts at one place keep the order it typed them in: at the start a
    # later one goes before its earlier ones; in the middle and at the end, after them.
    for who in "AYB":
        for part, newest_first in ((head, True), (middle, False), (tail, False)):
            own = [m for m in re.findall(r"\[[AYB]\d\d\]", part) if m[1] == who]
            assert own == sorted(own, reverse=newest_first), f"{who}'s inserts out of order in {part!r}"

    # The Yjs client's structural edit landed intact, with its GUID, before "Animales".
    articles = tree.findall("title/article")
    assert [a.get("guid") for a in articles] == [
        "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000004",
        new_guid, "00000000-0000-4000-8000-000000000005"], xml
    assert articles[2].findtext("heading") == "Interoperabilidad"
    assert articles[2].findtext("p") == "Un cliente Yjs escribió este artículo."

    # Yjs's own rendering of its replica agrees with pycrdt's rendering of it.
    assert yjs.own_xml() == xml, "Yjs prints a different document than pycrdt decodes from its state"

    # Identical state, not only identical text: same clients and clocks everywhere.
    yjs_doc = _doc_from_update(yjs.state())
    vectors = {"ana": decode_state_vector(ana.doc.get_state()), "bruno": decode_state_vector(bruno.doc.get_state()),
               "yjs": decode_state_vector(yjs_doc.get_state())}
    assert vectors["ana"] == vectors["bruno"] == vectors["yjs"], vectors
    assert yjs.ready["clientID"] in vectors["yjs"], "the Yjs client's own edits are missing"

    # What the server stored: a fresh reader gets the same document and the same state.
    reader = client_factory("vera")
    assert reader.xml() == xml, f"the server stored something else:\n{reader.xml()}\n!=\n{xml}"
    assert decode_state_vector(reader.doc.get_state()) == vectors["yjs"]

    # Nobody was refused anything along the way.
    assert yjs.errors() == [] and ana.errors == [] and bruno.errors == [], (yjs.errors(), ana.errors, bruno.errors)


def test_yjs_viewer_edits_are_refused(server, client_factory, yjs_factory):
    ana = client_factory("ana")
    before = ana.xml()
    vera = yjs_factory("vera")
    assert vera.role == "viewer"
    assert vera.xml() == before

    vera.call("insert", path=P_PATH, index=0, text="GOTHAM ")
    assert vera.call("text", path=P_PATH)["text"].startswith("GOTHAM ")  # only in its own replica

    refused = _wait(lambda: [e for e in vera.errors() if e.get("code") == "read-only"])
    assert refused, f"no read-only error for the viewer's edit; errors: {vera.errors()}"
    assert refused[0]["document"] == PUBLISHED and refused[0]["message"]

    time.sleep(0.3)
    assert ana.xml() == before, "the viewer's edit reached an editor"
    fresh = client_factory("bruno")
    assert "GOTHAM" not in fresh.xml() and fresh.xml() == before, "the server stored the viewer's edit"
