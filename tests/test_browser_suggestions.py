"""Suggestion mode in the live editor, in real Chromium (issue 22): Ana, a committee member,
switches to "Sugerir", suggests a deletion and an insertion in Artículo 1; Bruno sees both live
in his editor and in the suggestions panel, accepts one and rejects the other; the text, the
audit and the unit's history show exactly the accepted change, Ana's, accepted by Bruno. Then Ana
suggests a new article, whose number Bruno sees as provisional."""

from __future__ import annotations

import re

import pytest
from conftest import PUBLISHED
from playwright.sync_api import expect
from test_audit import _entries, _user_id
from test_browser_comments import _PLACE, Pages
from test_suggestions import configure_suggesting_legal
from test_workspace import _shot

pytestmark = pytest.mark.browser

WATER = "00000000-0000-4000-8000-000000000003"


def _doc_text(page) -> str:
    return page.evaluate("() => window.constituent.view.state.doc.textContent")


def test_ana_suggests_bruno_accepts_one_and_rejects_the_other_live(browser, server):
    pages = Pages(browser, server)
    ana, bruno = pages.open("ana"), pages.open("bruno")
    ana_id, bruno_id = _user_id(server, "ana"), _user_id(server, "bruno")

    toggle = ana.locator("#toolbar button[data-command=suggest]")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(ana.locator("#constituent-editor")).to_have_attribute("data-suggesting", "true")

    # An insertion: typed after "agua".
    ana.get_by_text("derecho al agua", exact=False).first.click()
    assert ana.evaluate(_PLACE, ["agua", "after"])
    ana.keyboard.type(" potable")
    # A deletion: "Toda persona" selected and deleted.
    assert ana.evaluate(_PLACE, ["Toda persona", "select"])
    ana.keyboard.press("Delete")
    expect(ana.locator("ins.suggestion")).to_have_text(" potable")
    expect(ana.locator("del.suggestion")).to_have_text("Toda persona")

    # Bruno sees both live, attributed, in the text and in the panel.
    expect(bruno.locator("ins.suggestion")).to_have_text(" potable")
    expect(bruno.locator("del.suggestion")).to_have_text("Toda persona")
    expect(bruno.locator("ins.suggestion")).to_have_attribute("data-by", str(ana_id))
    items = bruno.locator("#suggestions .suggestion-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("ana", ignore_case=True)

    # He accepts the insertion and rejects the deletion.
    insertion = bruno.locator("#suggestions .suggestion-item", has=bruno.locator(".suggestion-quote-insert"))
    insertion.locator("button[data-decision=accept]").click()
    expect(items).to_have_count(1)
    bruno.locator("#suggestions .suggestion-item button[data-decision=reject]").click()
    expect(bruno.locator("#suggestions .suggestion-item")).to_have_count(0)
    for page in (ana, bruno):
        expect(page.locator("ins.suggestion, del.suggestion")).to_have_count(0)
        # (the live number, "1.", is drawn before the words)
        expect(page.locator(f"section[data-guid='{WATER}'] p")).to_have_text(
            re.compile(r"(^|\s)Toda persona tiene derecho al agua potable\.\s*$"))

    # The audit: Bruno accepted Ana's insertion and rejected her deletion.
    accepted = _entries(server.instance, "suggestion.accepted", PUBLISHED)
    rejected = _entries(server.instance, "suggestion.rejected", PUBLISHED)
    assert [(e["actor"], e["detail"]["author"], e["detail"]["text"]) for e in accepted] == [
        (f"user:{bruno_id}", ana_id, " potable")]
    assert [(e["actor"], e["detail"]["author"], e["detail"]["text"]) for e in rejected] == [
        (f"user:{bruno_id}", ana_id, "Toda persona")]
    # The unit's history: Ana's change, accepted by Bruno.
    session = server.login("bruno")
    history = session.get(f"{server.url}/d/{PUBLISHED}/units/{WATER}/history", timeout=10).text
    row = re.search(r'data-accepted-by="([^"]*)"[^>]*>(.*?)</span>', history, re.S)
    assert row and "bruno" in row.group(1).lower() and "ana" in row.group(2).lower()
    assert "potable" in history
    assert pages.errors == []


def test_a_suggested_article_shows_a_provisional_number_until_accepted(browser, server):
    pages = Pages(browser, server)
    ana, bruno = pages.open("ana"), pages.open("bruno")
    ana.locator("#toolbar button[data-command=suggest]").click()
    ana.get_by_text("Los animales son seres sintientes.").click()
    ana.locator("#toolbar button[data-command=insert-article]").click()
    ana.keyboard.type("Aire limpio")

    suggested = bruno.locator("section.unit-suggested[data-unit=article]")
    expect(suggested).to_have_count(1)
    expect(suggested).to_have_attribute("data-provisional", "true")
    expect(suggested.locator(".heading")).to_contain_text("Aire limpio")
    label = suggested.locator(".unit-label-text").first
    expect(label).to_contain_text("Artículo")
    after = label.evaluate("e => getComputedStyle(e, '::after').content")
    assert "provisional" in after
    # Not law yet: the public text does not have it.
    assert "Aire limpio" not in bruno.request.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text").text()

    item = bruno.locator("#suggestions .suggestion-item", has=bruno.locator(".suggestion-quote-unit"))
    expect(item).to_have_count(1)
    item.locator("button[data-decision=accept]").click()
    for page in (ana, bruno):
        expect(page.locator("section.unit-suggested")).to_have_count(0)
    assert "Aire limpio" in bruno.request.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text").text()
    assert pages.errors == [], pages.errors


def test_a_legal_adviser_who_may_only_suggest_types_suggestions(browser, server):
    configure_suggesting_legal(server)
    pages = Pages(browser, server)
    lucia, bruno = pages.open("lucia"), pages.open("bruno")
    toggle = lucia.locator("#toolbar button[data-command=suggest]")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_attribute("aria-disabled", "true")  # not hers to switch off
    expect(lucia.locator("#suggestions .suggestions-note")).to_be_visible()
    lucia.get_by_text("derecho al agua", exact=False).first.click()
    assert lucia.evaluate(_PLACE, ["agua", "after"])
    lucia.keyboard.type(" potable")
    expect(bruno.locator("ins.suggestion")).to_have_text(" potable")
    # She cannot decide: no buttons for her; Bruno has them.
    expect(lucia.locator("#suggestions .suggestion-item")).to_have_count(1)
    expect(lucia.locator("#suggestions button[data-decision]")).to_have_count(0)
    expect(bruno.locator("#suggestions .suggestion-item button[data-decision=accept]")).to_have_count(1)
    assert "potable" not in bruno.request.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text").text()
    expect(lucia.locator("#connection-status")).not_to_have_attribute("data-state", "error")
    assert pages.errors == [], pages.errors


ARTICLE_1 = "00000000-0000-4000-8000-000000000001"
ANIMALS = "00000000-0000-4000-8000-000000000005"  # Artículo 3


def _articles(page) -> list[str]:
    return page.evaluate("() => { const out = []; window.constituent.view.state.doc.descendants(n => {"
                         " if (n.type.name === 'article') out.push(n.attrs.guid); return n.type.name !== 'article' });"
                         " return out }")


def test_a_legal_adviser_suggests_moving_one_article_and_removing_another(browser, server):
    configure_suggesting_legal(server)
    pages = Pages(browser, server)
    lucia, bruno = pages.open("lucia"), pages.open("bruno")
    order = _articles(bruno)
    assert order[0] == ARTICLE_1 and order[-1] == ANIMALS

    # By keyboard: Artículo 1 one place down (Alt+↓), then Artículo 3 removed (the toolbar's ✕).
    lucia.locator(f"section[data-guid='{ARTICLE_1}'] > .heading").click()
    lucia.keyboard.press("Alt+ArrowDown")
    expect(lucia.locator("section.unit-moved-here")).to_have_count(1)
    lucia.get_by_text("Los animales son seres sintientes.").click()
    lucia.locator("#toolbar button[data-command=delete]").click()

    # Bruno sees them live: the two units still there, struck; the new place as a placeholder.
    expect(bruno.locator("section.unit-removal")).to_have_count(2)
    expect(bruno.locator(f"section.unit-removal[data-guid='{ARTICLE_1}']")).to_have_count(1)
    expect(bruno.locator(f"section.unit-removal[data-guid='{ANIMALS}']")).to_have_count(1)
    placeholder = bruno.locator(f"section.unit-moved-here[data-moved-from='{ARTICLE_1}']")
    expect(placeholder).to_have_attribute("contenteditable", "false")
    # Numbered as the public reads the text: the placeholder is provisional, the others keep theirs.
    expect(bruno.locator(f"section[data-guid='{ANIMALS}'] .unit-label-text").first).to_have_text(re.compile(r"^Artículo 3\b"))
    expect(placeholder.locator(".unit-label-text").first).to_have_text(re.compile(r"^Artículo 2\b"))
    items = bruno.locator("#suggestions .suggestion-item")
    expect(items).to_have_count(2)
    move = bruno.locator("#suggestions .suggestion-item", has=bruno.locator(".suggestion-quote-move"))
    expect(move).to_contain_text("Traslado")
    removal = bruno.locator("#suggestions .suggestion-item", has=bruno.locator(".suggestion-quote-remove"))
    expect(removal).to_contain_text("Supresión")
    expect(removal).to_contain_text("sintientes")
    _shot(bruno, "suggested-move-and-removal-es.png")
    # The server took them as suggestions: the adviser's connection is fine, the public text unchanged.
    expect(lucia.locator("#connection-status")).not_to_have_attribute("data-state", "error")
    public = bruno.request.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{ARTICLE_1}").json()
    assert public["label"].endswith(" 1"), public

    # He accepts the move and rejects the removal.
    move.locator("button[data-decision=accept]").click()
    expect(items).to_have_count(1)
    bruno.locator("#suggestions .suggestion-item button[data-decision=reject]").click()
    expect(items).to_have_count(0)
    want = [order[1], ARTICLE_1, *order[2:]]
    for page in (lucia, bruno):
        expect(page.locator("section.unit-removal, section.unit-moved-here")).to_have_count(0)
        page.wait_for_function("want => { const out = []; window.constituent.view.state.doc.descendants(n => {"
                               " if (n.type.name === 'article') out.push(n.attrs.guid); return n.type.name !== 'article' });"
                               " return out.join() === want.join() }", arg=want)
    moved = bruno.request.get(f"{server.url}/api/v1/documents/{PUBLISHED}/units/{ARTICLE_1}").json()
    assert moved["label"].endswith(" 2"), moved
    assert "sintientes" in bruno.request.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text").text()
    assert pages.errors == [], pages.errors
