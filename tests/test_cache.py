"""Public pages and exports served from a cache keyed by the document's state (editor/cache.py).

Every kind of change must show up on the very next public read: a live edit over the socket, a
provenance link written by another process, a petition's new signature count, a stage advance.
Signed-in users are never served from it, languages are never mixed, and each visitor keeps a
CSRF token of their own.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date, datetime, timezone

import requests
from conftest import ACCOUNTS, PUBLISHED, LiveServer
from pycrdt import XmlElement, XmlText

WATER = "00000000-0000-4000-8000-000000000003"  # subparagraph: "Toda persona tiene derecho al agua."
PAGE = f"/d/{PUBLISHED}/art_1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _get(server, path: str, session: requests.Session | None = None, **kwargs) -> requests.Response:
    response = (session or requests).get(server.url + path, timeout=30, **kwargs)
    assert response.status_code in (200, 304), (path, response.status_code, response.text[:300])
    return response


def _warm(server, path: str) -> requests.Response:
    """Read twice as the public: the second read comes from the cache."""
    _get(server, path)
    second = _get(server, path)
    assert second.headers.get("X-Constituent-Cache") == "hit", second.headers
    return second


def _text_of(client, guid: str) -> XmlText:
    def find(node):
        for child in node.children:
            if isinstance(child, XmlElement):
                if child.attributes.get("guid") == guid:
                    for inner in child.children:
                        if isinstance(inner, XmlElement) and inner.tag == "p":
                            return inner.children[0]
                found = find(child)
                if found is not None:
                    return found
        return None

    return find(client.body)


def _api(server, who: str) -> requests.Session:
    session = server.login(who)
    page = session.get(f"{server.url}/d/{PUBLISHED}/versions", timeout=10).text
    session.headers["X-CSRFToken"] = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    return session


def _other_process_app(instance):
    """The application over the same database, as another process (a CLI, a second server) has it."""
    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    return app, app.extensions["constituent"]


def _close(services) -> None:
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


# --- served from the cache, and only to the public ------------------------------------------


def test_public_pages_and_exports_come_from_the_cache_with_etags(server):
    for path in (f"/d/{PUBLISHED}", PAGE, f"/api/v1/documents/{PUBLISHED}/akn",
                 f"/api/v1/documents/{PUBLISHED}/html", f"/api/v1/documents/{PUBLISHED}/text"):
        first = _get(server, path)
        assert first.headers["X-Constituent-Cache"] == "miss"
        second = _warm(server, path)
        assert TOKEN.sub("", second.text) == TOKEN.sub("", first.text)  # the same page, its own token
        etag = second.headers["ETag"]
        if path.startswith("/api/"):
            assert second.content == first.content and first.headers["ETag"] == etag
            again = _get(server, path, headers={"If-None-Match": etag})
            assert again.status_code == 304 and not again.content
        assert "no-cache" in second.headers["Cache-Control"]

    # A page's ETag belongs to one visitor's session (its CSRF token is in the page).
    visitor = requests.Session()
    page = _get(server, PAGE, visitor)
    again = _get(server, PAGE, visitor, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and not again.content
    stranger = _get(server, PAGE, headers={"If-None-Match": page.headers["ETag"]})
    assert stranger.status_code == 200 and "Toda persona tiene derecho al agua." in stranger.text


def test_signed_in_readers_are_never_served_from_the_cache(server):
    _warm(server, PAGE)
    ana = server.login("ana")
    page = _get(server, PAGE, ana)
    assert "X-Constituent-Cache" not in page.headers
    assert "ETag" not in page.headers
    assert 'name="csrf-token"' in page.text  # her own page: signed-in header, her token
    public = _get(server, PAGE)
    assert public.headers["X-Constituent-Cache"] == "hit" and 'name="csrf-token"' not in public.text


def test_languages_are_never_shared_and_each_visitor_keeps_a_working_language_switch(server):
    spanish = _warm(server, PAGE)
    assert "Por qué existe esta cláusula" in spanish.text
    english = _get(server, PAGE + "?lang=en")
    assert "Why this clause exists" in english.text and "Por qué existe esta cláusula" not in english.text
    english = _get(server, PAGE + "?lang=en")
    assert english.headers["X-Constituent-Cache"] == "hit" and "Why this clause exists" in english.text
    assert "Why this clause exists" not in _get(server, PAGE).text

    # Two new visitors get the cached page, each with the token of their own session.
    tokens = []
    for _ in range(2):
        visitor = requests.Session()
        page = _get(server, PAGE, visitor)
        assert page.headers["X-Constituent-Cache"] == "hit"
        token = TOKEN.search(page.text).group(1)
        tokens.append(token)
        switched = visitor.post(server.url + "/lang/en", data={"csrf_token": token, "next": PAGE},
                                allow_redirects=False, timeout=10)
        assert switched.status_code == 302, switched.text[:300]
        assert "Why this clause exists" in _get(server, PAGE, visitor).text
    assert tokens[0] != tokens[1]


# --- every kind of change shows up on the next public read ----------------------------------


def test_a_live_edit_shows_on_the_next_public_read(server, client_factory):
    before = _warm(server, PAGE)
    export = _warm(server, f"/api/v1/documents/{PUBLISHED}/text")
    assert "derecho al agua potable" not in before.text
    writer = client_factory("ana")
    watcher = client_factory("vera")
    writer.edit(lambda body: _text_of(writer, WATER).insert(len("Toda persona tiene derecho al agua"), " potable"))
    # Once another client has it, it is durable (the server stores before it broadcasts).
    assert watcher.wait_for(lambda c: "agua potable" in str(_text_of(c, WATER)))
    after = _get(server, PAGE)
    assert "Toda persona tiene derecho al agua potable." in after.text
    assert after.headers["X-Constituent-Cache"] == "miss" and after.headers["ETag"] != before.headers["ETag"]
    text = _get(server, f"/api/v1/documents/{PUBLISHED}/text", headers={"If-None-Match": export.headers["ETag"]})
    assert text.status_code == 200 and "agua potable" in text.text
    assert _get(server, PAGE).headers["X-Constituent-Cache"] == "hit"


def test_a_provenance_link_made_by_another_process_shows_on_the_next_public_read(server, instance):
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.provenance.links import create_link
    from editor.provenance.models import CitizenEvent

    before = _warm(server, PAGE)
    document_page = _warm(server, f"/d/{PUBLISHED}")
    assert "Asamblea vecinal del agua" not in before.text
    app, services = _other_process_app(instance)
    try:
        with app.app_context():
            db = services.db
            document = get_document(db, PUBLISHED)
            event = CitizenEvent(document_id=document.id, title="Asamblea vecinal del agua", held_on=date(2016, 6, 4),
                                 conclusions="Agua para todas las colonias.")
            db.add(event)
            db.commit()
            units = read_live(services, PUBLISHED).units
            create_link(db, document, units, WATER, "event", event.id, "motivated", "", user=None)
            db.commit()
    finally:
        _close(services)
    after = _get(server, PAGE)
    assert "Asamblea vecinal del agua" in after.text
    assert after.headers["ETag"] != before.headers["ETag"]
    whole = _get(server, f"/d/{PUBLISHED}")
    assert whole.headers["X-Constituent-Cache"] == "miss" and whole.text != document_page.text


def test_a_petitions_new_signature_count_shows_on_the_next_public_read(server, instance):
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.petitions.models import Petition, SignatureCount
    from editor.provenance.links import create_link

    app, services = _other_process_app(instance)
    try:
        with app.app_context():
            db = services.db
            document = get_document(db, PUBLISHED)
            petition = Petition(document_id=document.id, key="agua-para-todos", title="Agua para todos")
            db.add(petition)
            db.flush()
            db.add(SignatureCount(petition_id=petition.id, signatures=4_321,
                                  counted_at=datetime(2016, 7, 1, tzinfo=timezone.utc)))
            create_link(db, document, read_live(services, PUBLISHED).units, WATER, "petition", petition.id,
                        "motivated", "", user=None)
            db.commit()
            petition_id = petition.id
        before = _warm(server, PAGE)
        assert "Agua para todos" in before.text
        assert re.search(r"4[,. \u00a0\u202f]?321", before.text), "the first count is not on the page"
        with app.app_context():
            # A row whose document is a parent away: it invalidates every document's pages.
            services.db.add(SignatureCount(petition_id=petition_id, signatures=12_345,
                                           counted_at=datetime(2016, 8, 1, tzinfo=timezone.utc)))
            services.db.commit()
    finally:
        _close(services)
    after = _get(server, PAGE)
    assert after.headers["X-Constituent-Cache"] == "miss"
    assert re.search(r"12[,. \u00a0\u202f]?345", after.text), "the new count is not on the page"


def test_a_stage_advance_shows_on_the_next_public_read(server):
    before = _warm(server, PAGE)
    akn = _warm(server, f"/api/v1/documents/{PUBLISHED}/akn")
    admin = _api(server, "admin")
    advanced = admin.post(f"{server.url}/api/v1/documents/{PUBLISHED}/stages/advance", json={}, timeout=60)
    assert advanced.status_code == 201, advanced.text
    version = advanced.json()["version"]["number"]
    after = _get(server, PAGE)
    assert after.headers["X-Constituent-Cache"] == "miss"
    assert f"v{version} ·" in after.text and f"v{version} ·" not in before.text
    export = _get(server, f"/api/v1/documents/{PUBLISHED}/akn", headers={"If-None-Match": akn.headers["ETag"]})
    assert export.status_code == 200 and export.content != akn.content
    assert advanced.json()["stage"].encode() in export.content


def test_two_processes_on_one_database_each_see_the_other_ones_edits(instance):
    """Scale-out: the key comes from the database, and with several processes a render reads the
    store, so process B never caches A's document older than the key says."""
    env = {"CONSTITUENT_PAGE_CACHE_READ": "store"}
    a, b = LiveServer(instance, env).start(), LiveServer(instance, env).start()
    from collab_client import CollabClient

    clients = []
    try:
        for live in (a, b):
            _warm(live, PAGE)
        writer = CollabClient(a.url, a.cookie("ana"), name="writer").connect()
        watcher = CollabClient(a.url, a.cookie("vera"), name="watcher").connect()
        clients += [writer, watcher]
        assert writer.join(PUBLISHED)["ok"] and watcher.join(PUBLISHED)["ok"]
        writer.edit(lambda body: _text_of(writer, WATER).insert(0, "Desde A: "))
        assert watcher.wait_for(lambda c: str(_text_of(c, WATER)).startswith("Desde A: "))
        page = _get(b, PAGE)
        assert "Desde A: Toda persona" in page.text and page.headers["X-Constituent-Cache"] == "miss"
        assert "Desde A: Toda persona" in _get(b, f"/api/v1/documents/{PUBLISHED}/text").text
    finally:
        for client in clients:
            client.close()
        a.stop()
        b.stop()


# --- the cache itself -------------------------------------------------------------------------


def test_the_cache_keeps_to_its_byte_budget_and_drops_the_least_recently_used():
    from editor.cache import Entry, PageCache

    cache = PageCache(budget=10_000)
    for i in range(40):
        cache.put(("k", i), Entry(b"x" * 1_000, "text/html"))
        assert cache.bytes <= cache.budget
        if i >= 2:
            assert cache.get(("k", 0)) is not None  # read often: kept
    assert cache.get(("k", 0)) is not None and cache.get(("k", 1)) is None
    assert cache.evictions > 0 and len(cache) < 40
    cache.put(("big",), Entry(b"y" * 5_000, "text/html"))  # over a quarter of the budget: not kept
    assert cache.get(("big",)) is None


def test_concurrent_misses_for_one_key_render_once():
    from flask import Response

    from editor.cache import Entry, PageCache

    cache = PageCache(budget=1_000_000)
    renders = []

    def render():
        renders.append(1)
        time.sleep(0.3)
        return Entry(b"page", "text/html"), Response(b"page")

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.fetch(("k",), render)[0])) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(renders) == 1 and len(results) == 8 and all(r.body == b"page" for r in results)


def test_every_relational_change_to_a_document_bumps_its_generation_in_the_same_commit(seeded_template, tmp_path):
    import shutil

    from editor.cache import state_of
    from editor.documents import get_document
    from editor.models import User
    from editor.petitions.models import Petition, Threshold

    target = tmp_path / "instance"
    shutil.copytree(seeded_template, target)
    app, services = _other_process_app(target)
    try:
        with app.app_context():
            db = services.db
            document = get_document(db, PUBLISHED)
            seen = [state_of(db, document)]

            def changed() -> bool:
                db.commit()
                seen.append(state_of(db, document))
                return seen[-1] != seen[-2]

            db.add(Petition(document_id=document.id, key="k1", title="Una petición"))
            assert changed()
            db.add(Threshold(document_id=document.id, signatures=5_000, action="review"))
            assert changed()
            document.title = "Constitución de prueba (2)"
            assert changed()
            assert not changed()  # nothing written, nothing invalidated
            user = db.query(User).filter_by(email=ACCOUNTS["ana"][0]).one()
            user.name = "Ana Renombrada"  # names appear in clause histories
            assert changed()
            db.rollback()
            assert not changed()
            db.add(Petition(document_id=document.id, key="k2", title="Otra"))
            db.rollback()  # rolled back: nothing to invalidate
            assert not changed()
    finally:
        _close(services)


def test_a_page_cached_for_one_host_name_is_not_served_to_another(server):
    """Pages print their own absolute address: a forged Host header must not end up in everyone's copy."""
    forged = requests.get(server.url + PAGE, headers={"Host": "evil.example"}, timeout=30)
    assert forged.status_code == 200 and "evil.example" in forged.text
    page = _get(server, PAGE)
    assert "evil.example" not in page.text
