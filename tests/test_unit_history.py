"""A unit's history and its one-click revert to a version; stable addresses for renumbered and
moved units; pinned numbers that no longer fit (editor.stages.revert, editor.stages.addresses)."""

from __future__ import annotations

import re
import time

import requests
from conftest import PUBLISHED
from lxml import etree
from pycrdt import XmlElement, XmlFragment, XmlText
from test_audit import _entries, _user_id
from test_fuzz_api import signed_in

from akoma_ntoso import read_units
from editor.stages.addresses import misplaced_pins, pin_base

ARTICLE_1 = "00000000-0000-4000-8000-000000000001"  # Agua
MOBILITY = "00000000-0000-4000-8000-000000000004"  # Artículo 2, "Movilidad"
ANIMALS = "00000000-0000-4000-8000-000000000005"  # Artículo 3, "Animales"
INSERTED = "00000000-0000-4000-8000-0000000000bb"


def _element(parent, guid: str):
    for child in parent.children:
        if isinstance(child, XmlElement) and child.tag not in ("heading", "p"):
            if child.attributes.get("guid") == guid:
                return child
            found = _element(child, guid)
            if found is not None:
                return found
    return None


def _heading_text(body, guid: str) -> XmlText:
    unit = _element(body, guid)
    return next(c for c in unit.children if getattr(c, "tag", None) == "heading").children[0]


def _token(session: requests.Session, url: str) -> str:
    page = session.get(f"{url}/d/{PUBLISHED}/versions", timeout=10).text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def _api(server, who: str) -> requests.Session:
    session = server.login(who)
    session.headers["X-CSRFToken"] = _token(session, server.url)
    return session


# --- revert ------------------------------------------------------------------------------------------


def test_a_vandalised_unit_is_reverted_to_version_1_in_one_action_attributed_and_audited(server, client_factory):
    ana = client_factory("ana")
    bruno = client_factory("bruno")
    committee = _api(server, "ana")
    frozen = committee.post(f"{server.url}/api/v1/documents/{PUBLISHED}/versions", json={"name": "Original"},
                            timeout=30)
    assert frozen.status_code == 201 and frozen.json()["number"] == 1

    # An insider renames Artículo 2 "Gotham City" and rewrites its paragraph.
    def vandalise(body):
        heading = _heading_text(body, MOBILITY)
        del heading[0:len(str(heading))]
        heading.insert(0, "Gotham City")
        paragraph = next(c for c in _element(body, MOBILITY).children if getattr(c, "tag", None) == "p").children[0]
        paragraph.insert(len(str(paragraph)), " Salvo en Gotham City.")

    ana.edit(vandalise)
    assert bruno.wait_for(lambda c: "Gotham City" in c.xml())
    deadline = time.monotonic() + 30
    while "Gotham City" not in requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text:
        assert time.monotonic() < deadline, "the edit never reached the server"
        time.sleep(0.05)

    # The history page shows the version's wording with a revert button to those who may write.
    page = committee.get(f"{server.url}/d/{PUBLISHED}/units/{MOBILITY}/history", timeout=10)
    assert page.status_code == 200
    assert "Movilidad" in page.text and "Gotham City" in page.text
    assert page.text.count('class="revert-form"') == 1  # only version 1 differs from now
    # A reader sees the history, but no button, and is refused the revert (page and API).
    vera = _api(server, "vera")
    assert 'class="revert-form"' not in vera.get(f"{server.url}/d/{PUBLISHED}/units/{MOBILITY}/history",
                                                 timeout=10).text
    refused = vera.post(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{MOBILITY}/revert", json={"version": 1},
                        timeout=30)
    assert refused.status_code == 403
    refused = vera.post(f"{server.url}/d/{PUBLISHED}/units/{MOBILITY}/revert",
                        data={"version": "1", "csrf_token": vera.headers["X-CSRFToken"]}, allow_redirects=False,
                        timeout=30)
    assert refused.status_code == 403
    anonymous = requests.post(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{MOBILITY}/revert",
                              json={"version": 1}, timeout=30)
    assert anonymous.status_code in (400, 401)  # no CSRF token / not signed in
    assert "Gotham City" in requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text

    # Bruno reverts it in one action, from the page's button.
    bruno_web = _api(server, "bruno")
    bruno_web.headers["Accept-Language"] = "en"
    done = bruno_web.post(f"{server.url}/d/{PUBLISHED}/units/{MOBILITY}/revert",
                          data={"version": "1", "csrf_token": bruno_web.headers["X-CSRFToken"]}, timeout=30)
    assert done.status_code == 200 and "Artículo 2 now reads as in version 1." in done.text, done.text
    text = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text
    assert "Gotham City" not in text and "Movilidad" in text and "Toda persona tiene derecho a moverse." in text
    # Connected editors have it without reloading.
    assert ana.wait_for(lambda c: "Gotham City" not in c.xml() and "Movilidad" in c.xml())

    # Audited: a text.revert naming the unit and the version, in Bruno's name, and the room's own entry.
    bruno_id = _user_id(server, "bruno")
    reverts = _entries(server.instance, "text.revert", PUBLISHED)
    assert len(reverts) == 1
    assert reverts[0]["target"] == MOBILITY and reverts[0]["detail"]["version"] == 1
    assert reverts[0]["detail"]["unit"] == "art_2" and reverts[0]["actor"] == f"user:{bruno_id}"
    updates = [r for r in _entries(server.instance, "text.update", PUBLISHED) if r["actor"] == f"revert:{bruno_id}"]
    assert len(updates) == 1 and MOBILITY in updates[0]["detail"]["units"]

    # Reverting again changes nothing; the API says so. A version it did not exist in is refused.
    again = committee.post(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{MOBILITY}/revert", json={"version": 1},
                           timeout=30)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert committee.post(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{MOBILITY}/revert",
                          json={"version": 7}, timeout=30).status_code == 404
    assert committee.post(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{MOBILITY}/revert",
                          json={"version": "x"}, timeout=30).status_code == 400
    assert len(_entries(server.instance, "text.revert", PUBLISHED)) == 1
    # The unit's history names who reverted it (recorded once the change is durable).
    deadline = time.monotonic() + 30
    while True:
        steps = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{MOBILITY}/history",
                             timeout=10).json()["steps"]
        if any(e["by"] == "Bruno" for e in steps[-1]["edits"]):
            break
        assert time.monotonic() < deadline, steps[-1]["edits"]
        time.sleep(0.1)
    assert steps[-1]["unit"]["heading"] == "Movilidad"


def test_revert_keeps_sub_units_and_inline_marks(app):
    """Only the unit's own wording goes back: its sub-units keep today's wording; the version's
    inline marks (here bold) come back with it."""
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.models import User
    from editor.stages.revert import revert_unit
    from editor.stages.versions import freeze

    services = app.extensions["constituent"]
    water = "00000000-0000-4000-8000-000000000003"

    def mark(doc):
        body = doc.get("body", type=XmlFragment)
        with doc.transaction(origin="someone"):
            text = next(c for c in _element(body, MOBILITY).children if getattr(c, "tag", None) == "p").children[0]
            text.format(0, len("Toda".encode()), {"b": {}})

    services.rooms.call(PUBLISHED, mark)
    with app.test_request_context():
        document = get_document(services.db, PUBLISHED)
        ana = services.db.query(User).filter_by(email="ana@example.org").one()
        freeze(services, document, ana, name="con negrita")

        def change(doc):
            body = doc.get("body", type=XmlFragment)
            with doc.transaction(origin="someone"):
                article = _element(body, ARTICLE_1)
                heading = next(c for c in article.children if getattr(c, "tag", None) == "heading").children[0]
                heading.insert(len(str(heading)), " potable")
                water_text = next(c for c in _element(body, water).children if getattr(c, "tag", None) == "p").children[0]
                water_text.insert(0, "Hoy: ")
                mobility = _element(body, MOBILITY)
                index = next(i for i, c in enumerate(mobility.children) if getattr(c, "tag", None) == "p")
                del mobility.children[index]
                mobility.children.insert(index, XmlElement("p", None, [XmlText("Otra cosa.")]))

        services.rooms.call(PUBLISHED, change)
        done = revert_unit(services, document, ana, ARTICLE_1, 1)
        assert done.changed and done.after.heading == "Agua"
        units = read_live(services, PUBLISHED).units
        water_unit = next(u for u in units[0].children[0].children[0].children if u.guid == water)
        assert water_unit.text.startswith("Hoy: ")  # the sub-unit keeps today's wording
        revert_unit(services, document, ana, MOBILITY, 1)
        body = read_live(services, PUBLISHED).body
        mobility = next(e for e in body.iter("article") if e.get("guid") == MOBILITY)
        assert etree.tostring(mobility.find("p"), encoding="unicode") == \
            "<p><b>Toda</b> persona tiene derecho a moverse.</p>"
        assert len(mobility.findall("p")) == 1


# --- stable addresses --------------------------------------------------------------------------------


def _insert_article_before_animals(doc) -> None:
    body = doc.get("body", type=XmlFragment)
    with doc.transaction(origin="someone"):
        title = body.children[0]
        index = next(i for i, c in enumerate(title.children)
                     if isinstance(c, XmlElement) and c.attributes.get("guid") == ANIMALS)
        title.children.insert(index, XmlElement("article", {"guid": INSERTED}, [
            XmlElement("heading", None, [XmlText("Vivienda")]),
            XmlElement("p", None, [XmlText("Toda persona tiene derecho a una vivienda.")])]))


def test_old_addresses_lead_to_the_unit_they_named_and_the_current_unit_wins(app):
    services = app.extensions["constituent"]
    admin, token = signed_in(app, "admin")
    public = app.test_client()
    assert admin.post(f"/api/v1/documents/{PUBLISHED}/versions", json={"name": "v1"},
                      headers={"X-CSRFToken": token}).status_code == 201
    services.rooms.call(PUBLISHED, _insert_article_before_animals)

    # Today's Artículo 4 is the old Artículo 3 (Animales).
    assert "Los animales son seres sintientes." in public.get(f"/d/{PUBLISHED}/art_4").get_data(as_text=True)
    # The rule: art_3 is today's Artículo 3 (the current unit wins), and the page says that in
    # version 1 it was another article, linking to it.
    page = public.get(f"/d/{PUBLISHED}/art_3", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Toda persona tiene derecho a una vivienda." in html
    assert "In version 1, this address named another provision: Artículo 3, today" in html
    assert f'href="/d/{PUBLISHED}/art_4">Artículo 4</a>' in html
    # The old address from a version redirects to the article's new address.
    # Permanently to the unit's GUID address (it never changes), which sends on to today's eId.
    old = public.get(f"/d/{PUBLISHED}/art_3?version=1")
    assert old.status_code == 301 and old.headers["Location"].endswith(f"/d/{PUBLISHED}/{ANIMALS}")
    onward = public.get(old.headers["Location"])
    assert onward.status_code == 302 and onward.headers["Location"].endswith(f"/d/{PUBLISHED}/art_4")
    assert public.get(f"/d/{PUBLISHED}/art_3?version=9").status_code == 404
    assert public.get(f"/d/{PUBLISHED}/art_3?version=x").status_code == 404

    # Version 2 knows Animales as art_4; then Artículo 1 is removed: art_4 names nothing today
    # and redirects to where Animales is now (art_3).
    assert admin.post(f"/api/v1/documents/{PUBLISHED}/versions", json={"name": "v2"},
                      headers={"X-CSRFToken": token}).status_code == 201

    def remove_first(doc):
        body = doc.get("body", type=XmlFragment)
        with doc.transaction(origin="someone"):
            title = body.children[0]
            index = next(i for i, c in enumerate(title.children)
                         if isinstance(c, XmlElement) and c.attributes.get("guid") == ARTICLE_1)
            del title.children[index]

    services.rooms.call(PUBLISHED, remove_first)
    moved = public.get(f"/d/{PUBLISHED}/art_4")
    # Not permanently: art_4 may name a unit again after the next renumbering.
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/d/{PUBLISHED}/art_3")
    # A sub-unit's old address too: Artículo 1's apartado is gone with it (404), never guessed.
    assert public.get(f"/d/{PUBLISHED}/art_1__para_A").status_code == 404
    # An eId that never existed is still 404.
    assert public.get(f"/d/{PUBLISHED}/art_99").status_code == 404
    assert public.get(f"/d/{PUBLISHED}/nothing_like_an_eid").status_code == 404


PINS = b"""<body>
  <title guid="10000000-0000-4000-8000-000000000001"><heading>Uno</heading>
    <article guid="10000000-0000-4000-8000-000000000002"><heading>A</heading></article>
    <article guid="10000000-0000-4000-8000-000000000003"><heading>B</heading></article>
    <article guid="10000000-0000-4000-8000-000000000004" pin="2 Bis"><heading>B bis</heading></article>
    <article guid="10000000-0000-4000-8000-000000000005" pin="2 Ter"><heading>B ter</heading></article>
    <article guid="10000000-0000-4000-8000-000000000006"><heading>C</heading></article>
  </title>
  <title guid="10000000-0000-4000-8000-000000000007"><heading>Dos</heading>
    <article guid="10000000-0000-4000-8000-000000000008" pin="3 Bis"><heading>moved</heading></article>
    <article guid="10000000-0000-4000-8000-000000000009"><heading>D</heading>
      <paragraph guid="10000000-0000-4000-8000-00000000000a" pin="A Bis"><p>x</p></paragraph>
    </article>
    <article guid="10000000-0000-4000-8000-00000000000b" pin="16"><heading>E</heading></article>
  </title>
</body>"""


def test_a_pinned_number_that_no_longer_fits_is_flagged():
    assert pin_base("3 Bis") == "3" and pin_base("16-ter") == "16" and pin_base("16A") == "16"
    assert pin_base("16") is None and pin_base("-") is None
    units = read_units(etree.fromstring(PINS), {"language": "spa"})
    flagged = misplaced_pins(units)
    # "2 Bis" after Artículo 2 and "2 Ter" after "2 Bis" fit; "3 Bis" opens the second title but
    # still comes right after Artículo 3 (articles are counted across titles), so it fits too.
    # "A Bis" is the first apartado of its article: nothing numbered A comes before it.
    labels = {m.unit.guid: (m.base, m.after.label if m.after else None) for m in flagged}
    assert "10000000-0000-4000-8000-000000000004" not in labels
    assert "10000000-0000-4000-8000-000000000005" not in labels
    assert "10000000-0000-4000-8000-000000000008" not in labels
    assert labels["10000000-0000-4000-8000-00000000000a"] == ("A", None)
    assert "10000000-0000-4000-8000-00000000000b" not in labels  # a whole-number pin is the drafters'
    # "3 Bis" moved to the start of the document: it follows nothing numbered 3.
    moved = PINS.replace(b'<article guid="10000000-0000-4000-8000-000000000008" pin="3 Bis"><heading>moved</heading>'
                         b'</article>', b"")
    moved = moved.replace(b'<heading>Uno</heading>', b'<heading>Uno</heading><article guid="10000000-0000-4000-8000-'
                          b'000000000008" pin="3 Bis"><heading>moved</heading></article>'
                          b'<article guid="10000000-0000-4000-8000-00000000000c"><heading>Z</heading></article>', 1)
    flagged = {m.unit.guid: m for m in misplaced_pins(read_units(etree.fromstring(moved), {"language": "spa"}))}
    assert flagged["10000000-0000-4000-8000-000000000008"].after is None
    assert flagged["10000000-0000-4000-8000-000000000008"].base == "3"


def test_misplaced_pins_are_shown_to_editors_and_answered_by_the_api(app):
    services = app.extensions["constituent"]

    def pin_and_move(doc):
        body = doc.get("body", type=XmlFragment)
        with doc.transaction(origin="someone"):
            _element(body, ARTICLE_1).attributes["pin"] = "3 Bis"  # first article, pinned as if after Art. 3

    services.rooms.call(PUBLISHED, pin_and_move)
    public = app.test_client()
    data = public.get(f"/api/v1/documents/{PUBLISHED}/pins").get_json()
    assert [(m["guid"], m["pin"], m["follows"], m["after"]) for m in data["misplaced"]] == [
        (ARTICLE_1, "3 Bis", "3", None)]
    ana, _token_ = signed_in(app, "ana")
    overview = ana.get(f"/d/{PUBLISHED}/versions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Pinned numbers that no longer fit where their units stand" in overview
    unit_page = ana.get(f"/d/{PUBLISHED}/art_3_Bis", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The pinned number 3 Bis no longer fits here" in unit_page
    assert f"/d/{PUBLISHED}/units/{ARTICLE_1}/history" in unit_page
    # Readers are not shown the editors' warning.
    reader = public.get(f"/d/{PUBLISHED}/versions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Pinned numbers that no longer fit" not in reader
