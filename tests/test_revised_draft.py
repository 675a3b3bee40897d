"""Loading a revised draft into an existing document, and comparing texts by content.

The demo constitution is loaded, then a revised plain-text draft written from its own text
export, in which one article moved (Protección a los animales, to the end of title 2), one was
split in two (Transparencia: its second numeral became an article of its own), one was
reworded (Participación ciudadana: ninety days became sixty) and the rest untouched. The
matching keeps the GUIDs (and so a provenance link) of what it recognises, and the comparison
names exactly those changes; the pages let a committee member preview, correct and confirm,
and refuse a reader.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import ACCOUNTS, CDMX_TEXT, PASSWORD, require
from sqlalchemy import select

from akoma_ntoso import iter_units
from akoma_ntoso.text_import import import_text
from editor.audit import events as audit_events
from editor.demo import sample_body
from editor.documents import create_document, get_document
from editor.interchange import export_document
from editor.livetext import read_live
from editor.models import User
from editor.provenance.links import create_link, links_by_unit
from editor.provenance.models import CitizenEvent
from editor.stages.diff import compare
from editor.stages.versions import resolve, versions_of

SLUG = "constitucion-los-rios"
TITLE = "Constitución de Los Ríos"


def revise(text: str) -> str:
    """The demo's text export, revised: Art. 4 moved to the end of title 2, Art. 6 split (its
    numeral 2 becomes an article), Art. 7 reworded, the articles renumbered as a drafter would."""
    head, sep, tail = text.partition("\n\nTRANSITORIOS\n")
    blocks = head.split("\n\n")
    start = blocks.index("Artículo 4\nProtección a los animales")
    end = next(i for i in range(start + 1, len(blocks)) if re.match(r"(Artículo|CAPÍTULO|TÍTULO) ", blocks[i]))
    moved = blocks[start:end]
    del blocks[start:end]
    blocks += moved
    at = blocks.index("Artículo 6\nTransparencia")
    assert blocks[at + 2].startswith("2. Los contratos")
    blocks[at + 2] = "Artículo 6\nDatos abiertos\n\n" + blocks[at + 2][len("2. "):]
    revised = "\n\n".join(blocks) + sep + tail
    assert "plazo máximo de noventa días naturales" in revised
    revised = revised.replace("plazo máximo de noventa días naturales", "plazo máximo de sesenta días naturales")
    count = 0

    def renumber(found: re.Match) -> str:
        nonlocal count
        count += 1
        return f"Artículo {count}\n"

    return re.sub(r"^Artículo \d+\n", renumber, revised, flags=re.M)


def _by_heading(units, heading: str):
    return next(u for u in iter_units(units) if u.kind == "article" and u.heading == heading)


def _shape(units) -> list[tuple[str, str, str, str]]:
    """What a reader sees of a text, unit by unit, with each unit's identity."""
    return [(u.guid, u.label, u.heading, u.text) for u in iter_units(units)]


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _signed_in(app, who: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


@pytest.fixture
def demo(app):
    """The demo constitution as a live document, with a citizen event linked to the article that
    will move."""
    services = app.extensions["constituent"]
    with app.test_request_context():
        create_document(services, SLUG, TITLE, sample_body(), published=True)
        document = get_document(services.db, SLUG)
        units = read_live(services, SLUG).units
        event = CitizenEvent(document_id=document.id, title="Foro sobre los animales", held_on=date(2016, 4, 9),
                             place="Casa de Cultura", organiser="Vecinos", conclusions="Trato digno.")
        services.db.add(event)
        services.db.flush()
        create_link(services.db, document, units, _by_heading(units, "Protección a los animales").guid, "event",
                    event.id, "motivated")
        services.db.commit()
        text = export_document(services, SLUG, "text").decode("utf-8")
    return services, text, units


def _assert_exactly_the_four_changes(comparison, old_units, new_units):
    old, new = {u.guid: u for u in iter_units(old_units)}, {u.guid: u for u in iter_units(new_units)}
    real = [c for c in comparison.changes if c.statuses != ["renumbered"]]
    # (Renumbering aside: every article after the moved one was renumbered.)
    found = {(c.old or c.new).heading or (c.old or c.new).text[:30]: [s for s in c.statuses if s != "renumbered"]
             for c in real}
    animals, transparency = _by_heading(old_units, "Protección a los animales"), _by_heading(old_units, "Transparencia")
    participation = _by_heading(old_units, "Participación ciudadana")
    reworded = next(c for c in real if "changed" in c.statuses)
    assert reworded.old.guid in {u.guid for u in iter_units(participation.children)}
    assert found == {
        "Protección a los animales": ["moved"],
        "Transparencia": ["split"],
        reworded.old.text[:30]: ["changed"],
    }, found
    split = next(c for c in real if "split" in c.statuses)
    assert [u.heading for u in split.parts] == ["Transparencia", "Datos abiertos"]
    assert [c.text.strip() for c in reworded.text if c.op != 0] == ["noventa", "sesenta"]
    moved = next(c for c in real if "moved" in c.statuses)
    assert moved.old.heading == animals.heading == moved.new.heading
    counts = comparison.counts()
    assert (counts["moved"], counts["split"], counts["changed"], counts["added"], counts["removed"],
            counts["merged"]) == (1, 1, 1, 0, 0, 0)
    # Everything else is renumbered at most (articles after the move and the split).
    assert all(set(c.statuses) <= {"renumbered"} for c in comparison.changes if c not in real)
    assert transparency.guid in old and (transparency.guid in new or split.old_guid == transparency.guid)


def test_two_separately_imported_drafts_compare_by_content(demo):
    _, text, _ = demo
    old = import_text(text, language="spa", title=TITLE)
    new = import_text(revise(text), language="spa", title=TITLE)
    assert not {u.guid for u in iter_units(old.units)} & {u.guid for u in iter_units(new.units)}
    comparison = compare(old.units, new.units)
    _assert_exactly_the_four_changes(comparison, old.units, new.units)


def test_a_committee_member_previews_corrects_and_loads_a_revised_draft(app, demo):
    services, text, before = demo
    revised = revise(text)
    water, animals = _by_heading(before, "Derecho al agua"), _by_heading(before, "Protección a los animales")
    transparency, participation = _by_heading(before, "Transparencia"), _by_heading(before, "Participación ciudadana")
    ana = _signed_in(app, "ana")

    # The upload page, then the preview: each unit that is not the same shows what it takes over.
    page = ana.get(f"/d/{SLUG}/revision")
    assert page.status_code == 200
    preview = ana.post(f"/d/{SLUG}/revision", data={"csrf_token": _csrf(page.get_data(as_text=True)),
                                                    "text": revised, "format": "text"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "Check the matching before loading the revised draft" in html
    assert "Split into Artículo 5, Artículo 6." in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    selects = dict(re.findall(r'<select id="(m-\d+)" name="m-\d+">.*?<option value="([^"]+)"[^>]*selected', html, re.S))
    assert len(selects) >= 4  # the moved, the two parts of the split, the reworded numeral
    data_abiertos = re.search(r'<label for="(m-\d+)">Artículo 6 takes over</label>', html).group(1)
    assert selects[data_abiertos] == "new"

    # A correction that cannot be: the new article "Datos abiertos" takes over Art. 1 (taken by
    # Art. 1 itself, shown nowhere, so it gives it up) — and then the water article is new.
    check = ana.post(f"/d/{SLUG}/revision/confirm", data={"csrf_token": _csrf(html), "token": token, "action": "check",
                                                         **selects, data_abiertos: water.guid})
    checked = check.get_data(as_text=True)
    assert check.status_code == 200, checked
    assert "Derecho al agua" in checked and re.search(rf'<option value="{water.guid}" selected', checked)
    # The correction is undone (back to "a new unit"), and the preview reads as at first.
    check = ana.post(f"/d/{SLUG}/revision/confirm", data={"csrf_token": _csrf(html), "token": token, "action": "check",
                                                         **selects})
    assert check.status_code == 200
    assert "Split into Artículo 5, Artículo 6." in check.get_data(as_text=True)
    # Two new units cannot take over the same old one: a clear error, nothing changed.
    assert animals.guid in selects.values()
    clash = ana.post(f"/d/{SLUG}/revision/confirm", data={"csrf_token": _csrf(html), "token": token, "action": "load",
                                                         **selects, data_abiertos: animals.guid})
    assert clash.status_code == 400
    assert "Artículo 6 and Artículo 8 both take over Artículo 4; choose one of them." in clash.get_data(as_text=True)
    assert _shape(read_live(services, SLUG).units) == _shape(before)

    # Confirmed as proposed: one change to the live text, a version saved first.
    done = ana.post(f"/d/{SLUG}/revision/confirm", data={"csrf_token": _csrf(html), "token": token, "action": "load",
                                                        "save_before": "1", **selects})
    assert done.status_code == 302, done.get_data(as_text=True)
    after = read_live(services, SLUG).units
    assert _by_heading(after, "Derecho al agua").guid == water.guid  # untouched
    moved = _by_heading(after, "Protección a los animales")
    assert moved.guid == animals.guid and moved.eid == "art_8"  # moved to the end, same identity
    assert [u.guid for u in moved.children] == [u.guid for u in animals.children]
    assert _by_heading(after, "Transparencia").guid == transparency.guid
    assert _by_heading(after, "Datos abiertos").guid not in {u.guid for u in iter_units(before)}
    assert _by_heading(after, "Participación ciudadana").children[1].guid == participation.children[1].guid
    assert "sesenta días" in _by_heading(after, "Participación ciudadana").children[1].text
    with app.test_request_context():
        document = get_document(services.db, SLUG)
        links = links_by_unit(services.db, document)
        assert [link.source_kind for link in links.get(animals.guid, [])] == ["event"]  # still on the moved article
        versions = versions_of(services.db, document)
        assert len(versions) == 1 and _shape(resolve(services, document, "1").units) == _shape(before)
        comparison = compare(resolve(services, document, "1").units, resolve(services, document, "live").units)
    _assert_exactly_the_four_changes(comparison, before, after)
    # The compare page the committee lands on says so.
    page = ana.get(done.headers["Location"]).get_data(as_text=True)
    assert "split: 1" in page and "moved: 1" in page and "changed: 1" in page and "Split into Artículo 5, Artículo 6." in page
    # Recorded in the committee member's name, and the preview cannot be loaded twice.
    ana_id = services.db.scalar(select(User.id).where(User.email == ACCOUNTS["ana"][0]))
    entries = audit_events(services.engine, document=SLUG)
    assert any(e.action == "text.revision" and e.actor_id == ana_id for e in entries)
    assert any(e.action == "text.update" and e.actor == f"revision:{ana_id}" for e in entries)
    again = ana.post(f"/d/{SLUG}/revision/confirm", data={"csrf_token": _csrf(html), "token": token, "action": "load",
                                                         **selects})
    assert again.status_code == 400 and _shape(read_live(services, SLUG).units) == _shape(after)


def test_a_reader_is_refused_and_bad_input_changes_nothing(app, demo):
    services, text, before = demo
    vera = _signed_in(app, "vera")
    assert vera.get(f"/d/{SLUG}/revision").status_code == 403
    token = _csrf(vera.get("/login").get_data(as_text=True))
    refused = vera.post(f"/d/{SLUG}/revision", data={"csrf_token": token, "text": revise(text), "format": "text"})
    assert refused.status_code == 403
    assert app.test_client().get(f"/d/{SLUG}/revision").status_code == 302  # the public: to the sign-in page
    ana = _signed_in(app, "ana")
    token = _csrf(ana.get(f"/d/{SLUG}/revision").get_data(as_text=True))
    for data, message in (({"text": "   ", "format": "text"}, "Paste the revised text or choose a file."),
                          ({"text": "<akn", "format": "akn"}, "could not be read"),
                          ({"text": "hola", "format": "nonsense"}, "Unknown format")):
        response = ana.post(f"/d/{SLUG}/revision", data={"csrf_token": token, **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    forged = ana.post(f"/d/{SLUG}/revision/confirm", data={"csrf_token": token, "token": "forged", "action": "load"})
    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    no_csrf = ana.post(f"/d/{SLUG}/revision", data={"text": revise(text), "format": "text"})
    assert no_csrf.status_code == 400
    assert _shape(read_live(services, SLUG).units) == _shape(before)


def test_matching_the_mexico_city_constitution_to_a_separate_import_of_itself():
    require(CDMX_TEXT.exists(), f"the Mexico City constitution is not at {CDMX_TEXT}")
    text = CDMX_TEXT.read_text(encoding="utf-8")
    old, new = import_text(text, language="spa"), import_text(text, language="spa")
    comparison = compare(old.units, new.units)
    assert comparison.changes == []
    assert len(comparison.matching.pairs) == len(list(iter_units(old.units))) > 1500


def test_the_command_line_shows_the_matching_then_loads_it(instance, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from editor import create_app
    from editor.cli import main

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.test_request_context():
        create_document(services, SLUG, TITLE, sample_body(), published=True)
        text = export_document(services, SLUG, "text").decode("utf-8")
        animals = _by_heading(read_live(services, SLUG).units, "Protección a los animales")
    services.close()
    draft = tmp_path / "revisado.txt"
    draft.write_text(revise(text), encoding="utf-8")
    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(instance))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    runner = CliRunner()
    shown = runner.invoke(main, ["revise", SLUG, str(draft)])
    assert shown.exit_code == 0, shown.output
    assert "split: Artículo 5 · Transparencia" in shown.output and "nothing changed" in shown.output
    loaded = runner.invoke(main, ["revise", SLUG, str(draft), "--apply"])
    assert loaded.exit_code == 0, loaded.output
    assert "the text as it stood is version 1" in loaded.output
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    try:
        after = read_live(services, SLUG).units
        assert _by_heading(after, "Protección a los animales").guid == animals.guid
        assert _by_heading(after, "Datos abiertos").eid == "art_6"
        assert runner.invoke(main, ["revise", SLUG, str(tmp_path / "missing.txt")]).exit_code != 0
        # A draft with no unit: the service's refusal, in the command line's English like the rest.
        empty = tmp_path / "vacio.txt"
        empty.write_text("Sin artículos, solo una frase.\n", encoding="utf-8")
        refused = runner.invoke(main, ["revise", SLUG, str(empty)])
        assert refused.exit_code != 0
        assert refused.output.startswith("Error: The revised text could not be read: no title"), refused.output
    finally:
        services.close()


def test_an_editor_connected_to_the_document_sees_the_revised_draft_arrive(server, client_factory):
    """The change goes through the document's room: a connected editor receives it, with the
    GUIDs kept (the reworded article is still 00…04)."""
    from conftest import PUBLISHED

    editor = client_factory("lucia")  # a legal adviser editing the text live
    assert "Toda persona tiene derecho a moverse." in editor.xml()
    ana = server.login("ana")
    text = ana.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text").text
    assert "Toda persona tiene derecho a moverse." in text
    revised = text.replace("Toda persona tiene derecho a moverse.", "Toda persona tiene derecho a moverse libremente.")
    token = _csrf(ana.get(f"{server.url}/d/{PUBLISHED}/revision").text)
    preview = ana.post(f"{server.url}/d/{PUBLISHED}/revision", data={"csrf_token": token, "text": revised,
                                                                    "format": "text"})
    assert preview.status_code == 200, preview.text
    held = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    done = ana.post(f"{server.url}/d/{PUBLISHED}/revision/confirm", data={"csrf_token": token, "token": held,
                                                                          "action": "load"}, allow_redirects=False)
    assert done.status_code == 302, done.text
    assert editor.wait_for(lambda c: "moverse libremente." in c.xml())
    assert 'guid="00000000-0000-4000-8000-000000000004"' in editor.xml()
    assert 'guid="00000000-0000-4000-8000-000000000003"' in editor.xml()


def test_the_api_answers_the_matching_takes_corrections_and_loads(app, demo):
    services, text, before = demo
    animals = _by_heading(before, "Protección a los animales")
    ana = _signed_in(app, "ana")
    token = _csrf(ana.get(f"/d/{SLUG}/revision").get_data(as_text=True))
    url = f"/api/v1/documents/{SLUG}/revision"
    assert url.replace(SLUG, "{slug}") in ana.get("/api/v1/openapi.json").get_json()["paths"]
    shown = ana.post(url, data={"text": revise(text), "format": "text"}, headers={"X-CSRFToken": token})
    assert shown.status_code == 200, shown.get_data(as_text=True)
    answer = shown.get_json()
    assert answer["applied"] is False
    assert {c["guid"]: [s for s in c["statuses"] if s != "renumbered"] for c in answer["changes"]
            if c["statuses"] != ["renumbered"]}[animals.guid] == ["moved"]
    new = [u for u in answer["units"] if u["takes_over"] == "new"]
    assert [u["label"] for u in new] == ["Artículo 6"]  # "Datos abiertos", the split's second part
    # A correction: the unit it names takes over the old one, which its automatic match gives up.
    moved_index = next(u["index"] for u in answer["units"] if u["takes_over"] == animals.guid)
    corrected = ana.post(url, data={"text": revise(text), "corrections": f'{{"{new[0]["index"]}": "{animals.guid}"}}'},
                         headers={"X-CSRFToken": token}).get_json()
    assert corrected["applied"] is False
    assert (corrected["units"][new[0]["index"]]["takes_over"], corrected["units"][new[0]["index"]]["how"]) == \
        (animals.guid, "corrected")
    assert corrected["units"][moved_index]["takes_over"] == "new"
    # Two units of the revised text cannot take over one old unit: refused, nothing changes.
    clash = ana.post(url, data={"text": revise(text), "format": "text", "apply": "1",
                                "corrections": f'{{"{new[0]["index"]}": "{animals.guid}", "{moved_index}": "{animals.guid}"}}'},
                     headers={"X-CSRFToken": token})
    assert clash.status_code == 400 and "both take over" in clash.get_json()["error"]
    assert ana.post(url, data={"text": revise(text), "corrections": "[1]"},
                    headers={"X-CSRFToken": token}).status_code == 400
    assert _shape(read_live(services, SLUG).units) == _shape(before)
    loaded = ana.post(url, data={"text": revise(text), "format": "text", "apply": "1", "save_before": "1"},
                      headers={"X-CSRFToken": token})
    assert loaded.status_code == 200 and loaded.get_json()["applied"] is True
    assert loaded.get_json()["version_before"] == 1
    assert _by_heading(read_live(services, SLUG).units, "Protección a los animales").guid == animals.guid
    vera = _signed_in(app, "vera")
    refused = vera.post(url, data={"text": revise(text)}, headers={"X-CSRFToken": _csrf(vera.get("/login").get_data(as_text=True))})
    assert refused.status_code == 403


def _by_guid(units, guid):
    return next(u for u in iter_units(units) if u.guid == guid)


def test_a_revised_akn_draft_carrying_guids_keeps_a_unit_marked_new_apart_from_the_live_one(app, demo):
    """An Akoma Ntoso export carries the units' GUIDs. Loaded back as a revised draft, a unit the
    committee marks as new must not keep the live unit's GUID (its links and comments), and a
    correction must never leave two units of the plan with one GUID."""
    services, _text, before = demo
    akn = export_document(services, SLUG, "akn").decode()
    animals = _by_heading(before, "Protección a los animales")
    ana = _signed_in(app, "ana")
    token = _csrf(ana.get(f"/d/{SLUG}/revision").get_data(as_text=True))
    url = f"/api/v1/documents/{SLUG}/revision"
    shown = ana.post(url, data={"text": akn, "format": "akn"}, headers={"X-CSRFToken": token}).get_json()
    index = next(u["index"] for u in shown["units"] if u["takes_over"] == animals.guid)
    # A later article takes over the animals' article, which is marked new: one GUID each in the plan.
    later = next(u for u in shown["units"][index + 1:] if u["kind"] == "article")
    corrected = ana.post(url, data={"text": akn, "format": "akn",
                                    "corrections": f'{{"{index}": "new", "{later["index"]}": "{animals.guid}"}}'},
                         headers={"X-CSRFToken": token}).get_json()
    guids = [u["guid"] for u in corrected["units"]]
    assert len(guids) == len(set(guids))
    assert corrected["units"][later["index"]]["guid"] == animals.guid
    # Marked new and loaded: the article gets an identity of its own.
    loaded = ana.post(url, data={"text": akn, "format": "akn", "apply": "1", "corrections": f'{{"{index}": "new"}}'},
                      headers={"X-CSRFToken": token})
    assert loaded.status_code == 200, loaded.get_data(as_text=True)
    live = list(iter_units(read_live(services, SLUG).units))
    assert len({u.guid for u in live}) == len(live)
    now = next(u for u in live if u.heading == "Protección a los animales")
    assert now.guid != animals.guid and animals.guid not in {u.guid for u in live}
