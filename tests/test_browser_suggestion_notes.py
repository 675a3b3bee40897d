"""Notes on a suggestion in the live editor, in real Chromium (issue 22): Ana, a committee member
who reads in English, suggests " potable" in Artículo 1; Bruno opens the suggestion's notes in the
suggestions panel and writes "@Ana ¿por qué?"; the panel shows the note and tells him whom it
notified. Ana gets a notification that reads in English, and an e-mail through the outbox; its
link opens her editor on that suggestion's notes, where she answers, and Bruno sees her answer
arrive in the notes he has open. Keyboard only for the notes."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import ACCOUNTS, PUBLISHED
from playwright.sync_api import expect
from test_browser_comments import _PLACE, Pages

pytestmark = pytest.mark.browser


def _set_language(server, who: str, language: str) -> None:
    with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
        db.execute("UPDATE user_account SET language = ? WHERE email = ?", (language, ACCOUNTS[who][0]))


def _mails(server, to: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(server.instance / "constituent.sqlite3") as db:
        return db.execute("SELECT event, subject, body FROM outbox_message WHERE kind = 'email' AND recipient = ? "
                          "ORDER BY id", (to,)).fetchall()


def test_bruno_asks_ana_about_her_suggestion_in_a_note_and_she_is_told_in_english(browser, server):
    _set_language(server, "ana", "en")
    pages = Pages(browser, server)
    ana, bruno = pages.open("ana"), pages.open("bruno")

    # Ana suggests " potable" after "agua".
    ana.locator("#toolbar button[data-command=suggest]").click()
    ana.get_by_text("derecho al agua", exact=False).first.click()
    assert ana.evaluate(_PLACE, ["agua", "after"])
    ana.keyboard.type(" potable")
    expect(ana.locator("ins.suggestion")).to_have_text(" potable")

    # Bruno's panel: the suggestion, with its notes closed and none yet.
    item = bruno.locator("#suggestions .suggestion-item")
    expect(item).to_have_count(1)
    summary = item.locator("summary.suggestion-notes-summary")
    expect(summary).to_have_text("Notas (0)")
    # By keyboard: the disclosure opens with Enter; the text box is labelled; Ctrl+Enter adds the note.
    summary.focus()
    bruno.keyboard.press("Enter")
    expect(item.locator("details.suggestion-notes")).to_have_attribute("open", "")
    expect(item.locator(".suggestion-notes-empty")).to_have_text("Todavía no hay notas.")
    box = item.get_by_label("Nota", exact=True)
    box.focus()
    bruno.keyboard.type("@Ana ¿por qué?")
    bruno.keyboard.press("Control+Enter")
    status = bruno.locator("#suggestions .suggestions-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_contain_text("Nota añadida.")
    expect(status).to_contain_text("Ana")
    note = item.locator(".suggestion-note")
    expect(note).to_have_count(1)
    expect(note.locator(".suggestion-note-body")).to_have_text("@Ana ¿por qué?")
    expect(note.locator(".cmt-mention")).to_have_text("@Ana")
    expect(note.locator(".suggestion-note-who")).to_contain_text("Bruno")
    expect(summary).to_have_text("Notas (1)")
    expect(box).to_have_value("")
    expect(box).to_be_focused()

    # Ana: a notification in English (her language), linked to the suggestion, and an e-mail.
    session = server.login("ana")
    notes = session.get(f"{server.url}/api/v1/notifications", headers={"Accept-Language": "en"}, timeout=10).json()
    [told] = notes["notifications"]
    suggestion = item.get_attribute("data-suggestion")
    assert told["kind"] == "mention"
    assert told["text"] == "Bruno mentioned you in a note on a suggestion in Artículo 1 A. 1.: “@Ana ¿por qué?”"
    assert told["url"] == f"/d/{PUBLISHED}/edit?suggestion={suggestion}"
    [(event, subject, body)] = _mails(server, "ana@example.org")
    assert event == "notification.mention"
    assert "Bruno mentioned you in a note on a suggestion" in body and f"edit?suggestion={suggestion}" in body

    # She follows it: her editor opens on that suggestion's notes, with Bruno's note; she answers.
    ana.goto(f"{server.url}/notifications")
    link = ana.locator("li[data-kind=mention] a").first
    expect(link).to_contain_text("Bruno")
    link.click()
    ana.wait_for_url(f"**/d/{PUBLISHED}/edit?suggestion={suggestion}")
    opened = ana.locator(f"#suggestions details.suggestion-notes[data-suggestion='{suggestion}']")
    expect(opened).to_have_attribute("open", "")
    expect(opened.locator(".suggestion-note-body")).to_have_text(["@Ana ¿por qué?"])
    opened.get_by_label("Nota", exact=True).fill("Porque el agua de uso humano debe ser potable.")
    opened.get_by_role("button", name="Añadir nota").click()
    expect(opened.locator(".suggestion-note")).to_have_count(2)
    # Bruno sees her answer live, in the notes he has open, and the count with it.
    bruno_details = item.locator("details.suggestion-notes")
    expect(bruno_details).to_have_attribute("open", "")
    expect(bruno_details.locator(".suggestion-note")).to_have_count(2)
    expect(summary).to_have_text("Notas (2)")
    assert pages.errors == [], pages.errors


def test_the_notes_fit_a_phone_screen(browser, server):
    pages = Pages(browser, server)
    ana = pages.open("ana")
    ana.locator("#toolbar button[data-command=suggest]").click()
    ana.get_by_text("derecho al agua", exact=False).first.click()
    assert ana.evaluate(_PLACE, ["agua", "after"])
    ana.keyboard.type(" potable")
    phone = pages.open("bruno", width=375, height=740)
    details = phone.locator("#suggestions details.suggestion-notes")
    details.locator("summary").click()
    box = details.get_by_label("Nota", exact=True)
    expect(box).to_be_visible()
    for part in (box, details.get_by_role("button", name="Añadir nota"), details.locator("summary")):
        part.scroll_into_view_if_needed()
        where = part.bounding_box()
        assert where and where["x"] >= 0 and where["x"] + where["width"] <= 375, where
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 375
    assert pages.errors == [], pages.errors
