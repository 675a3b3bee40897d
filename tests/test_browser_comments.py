"""Comments in the live editor, in real Chromium: a committee member comments on a few words of
a clause, a legal adviser sees it appear live and finds it from its highlight; text typed right
before and right after the words leaves both highlights on exactly those words; she replies and
resolves; words deleted under a comment leave its quote marked as no longer present; a reader
sees no comments at all."""

from __future__ import annotations

import os

import pytest
import requests
from conftest import ACCOUNTS, PASSWORD, PUBLISHED, LiveServer
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WATER_TEXT = "Toda persona tiene derecho al agua."
ANIMALS_TEXT = "Los animales son seres sintientes."
WORDS = "derecho al agua"


class Pages:
    """Browser contexts on the editor, each watched for console errors."""

    def __init__(self, browser, server) -> None:
        self.browser, self.server = browser, server
        self.errors: list[str] = []

    def open(self, who: str | None, width: int = 1280, height: int = 900):
        context = self.browser.new_context(viewport={"width": width, "height": height}, locale="es-MX")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"{who}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"{who}: {e}"))
        if who:
            page.goto(self.server.url + "/login")
            page.fill("#email", ACCOUNTS[who][0])
            page.fill("#password", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_url(self.server.url + "/")
        page.goto(f"{self.server.url}/d/{PUBLISHED}/edit")
        page.wait_for_selector("body[data-synced=true]")
        return page


_PLACE = """([words, where]) => {
  // Find the words in the document (a remote caret may split their DOM text), then set the
  // browser's own selection there, as a mouse or the arrow keys would.
  const view = window.constituent.view
  let at = null
  view.state.doc.descendants((node, pos) => {
    if (at !== null) return false
    if (!node.isTextblock) return true
    const i = node.textContent.indexOf(words)
    if (i >= 0) at = pos + 1 + i
    return false
  })
  if (at === null) return false
  const from = where === 'after' ? at + words.length : at
  const to = where === 'before' ? at : at + words.length
  const a = view.domAtPos(from)
  const b = view.domAtPos(to)
  const range = document.createRange()
  range.setStart(a.node, a.offset)
  range.setEnd(b.node, b.offset)
  const selection = window.getSelection()
  selection.removeAllRanges()
  selection.addRange(range)
  return true
}"""


def select_words(page, words: str) -> None:
    """Select `words` in the text as a user does with the mouse (the editor has the focus)."""
    page.get_by_text(words, exact=False).first.click()
    assert page.evaluate(_PLACE, [words, "select"]), f"{words!r} is not in the text"
    page.wait_for_function("(w) => { const s = window.constituent.view.state; "
                           "return s.doc.textBetween(s.selection.from, s.selection.to) === w }", arg=words)


def caret(page, words: str, where: str) -> None:
    """Put the caret right before or right after `words`."""
    page.get_by_text(words, exact=False).first.click()
    assert page.evaluate(_PLACE, [words, where])
    page.wait_for_function("([w, where]) => { const s = window.constituent.view.state; const p = s.selection.from; "
                           "return s.selection.empty && (where === 'before' ? s.doc.textBetween(p, p + w.length) "
                           ": s.doc.textBetween(p - w.length, p)) === w }", arg=[words, where])


def expect_highlight(page, words: str, active: bool = False) -> None:
    """The text highlighted as commented (or as the comment in focus) is exactly `words`
    (a remote caret may cut the highlight into several pieces)."""
    selector = "#editor .cmt-range" + (".cmt-active" if active else "")
    page.wait_for_function("([s, w]) => { const parts = document.querySelectorAll(s); return parts.length > 0 && "
                           "Array.from(parts).map(e => e.textContent).join('') === w }", arg=[selector, words])


def _shot(page, tmp_path, name: str) -> None:
    """A screenshot in the test's folder (and in $COMMENTS_SHOTS, to look at)."""
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("COMMENTS_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["COMMENTS_SHOTS"], name), full_page=True)


def test_comment_on_words_live_to_another_adviser_reply_and_resolve(server, browser, tmp_path):
    pages = Pages(browser, server)
    ana = pages.open("ana")
    lucia = pages.open("lucia")
    vera = pages.open("vera")
    lucia.evaluate("() => { window.notReloaded = true }")

    panel = ana.locator("#comments")
    expect(panel.locator(".cmt-count")).to_have_text("No hay comentarios abiertos en el documento")
    expect(lucia.locator("#comments .cmt-count")).to_have_text("No hay comentarios abiertos en el documento")
    # A reader has no comments panel, and nothing of the comments API.
    expect(vera.locator("#comments")).to_have_count(0)

    # Ana selects a few words of the clause on water and comments on them with the shortcut.
    form = panel.locator("form.cmt-form")
    expect(form).to_be_hidden()
    select_words(ana, WORDS)
    ana.keyboard.press("Control+Alt+KeyM")
    expect(form).to_be_visible()
    expect(form.locator(".cmt-target")).to_contain_text("Artículo 1 A. 1.")
    expect(form.locator(".cmt-target q")).to_have_text(WORDS)
    expect(panel.get_by_label("Comentario", exact=True)).to_be_focused()
    expect(ana.locator("#editor .cmt-pending")).to_have_text(WORDS)  # what is being commented stays visible
    ana.keyboard.type("¿Agua potable, o también saneamiento?")
    panel.get_by_role("button", name="Publicar").click()

    thread = panel.locator(".cmt-thread")
    expect(thread).to_have_count(1)
    expect(thread).to_contain_text("¿Agua potable, o también saneamiento?")
    expect(thread.locator(".cmt-quote")).to_have_text(WORDS)
    expect(thread).to_have_attribute("data-anchor", "anchor")
    expect(panel.locator(".cmt-status")).to_have_text("Comentario publicado.")
    expect(form).to_be_hidden()
    expect(ana.locator("#editor .cmt-pending")).to_have_count(0)
    expect(panel.locator(".cmt-count")).to_have_text("1 comentario abierto en el documento")
    expect_highlight(ana, WORDS)

    # Lucia sees it live, highlighted on the same words; a click on the highlight brings it forward.
    expect(lucia.locator("#comments .cmt-count")).to_have_text("1 comentario abierto en el documento")
    expect_highlight(lucia, WORDS)
    lucia.locator("#editor .cmt-range").first.click()
    lucia_thread = lucia.locator("#comments .cmt-thread")
    expect(lucia_thread).to_have_count(1)
    expect(lucia_thread).to_have_class("cmt-thread cmt-active")
    expect(lucia_thread).to_contain_text("¿Agua potable, o también saneamiento?")
    expect(lucia_thread).to_contain_text("Ana")
    expect_highlight(lucia, WORDS, active=True)

    # Ana types right before the words and right after them: both still highlight exactly them.
    caret(ana, WORDS, "before")
    ana.keyboard.type("pleno ")
    caret(ana, WORDS, "after")
    ana.keyboard.type(" potable")
    for page in (ana, lucia):
        expect(page.locator("#editor")).to_contain_text("Toda persona tiene pleno derecho al agua potable.")
        expect_highlight(page, WORDS)

    # Lucia replies, from the keyboard; Ana sees the reply arrive.
    reply_box = lucia_thread.get_by_label("Su respuesta")
    reply_box.fill("Ambos: el artículo debe nombrar el saneamiento.")
    lucia_thread.get_by_role("button", name="Responder").click()
    expect(lucia_thread.locator(".cmt-replies li")).to_have_count(1)
    expect(thread.locator(".cmt-replies li")).to_contain_text("Ambos: el artículo debe nombrar el saneamiento.")
    expect(thread.locator(".cmt-replies li")).to_contain_text("Lucia")
    _shot(lucia, tmp_path, "comments-reply.png")

    # Lucia resolves it: the highlight goes away in both editors, the count drops.
    lucia_thread.get_by_role("button", name="Resolver").click()
    for page in (lucia, ana):
        expect(page.locator("#comments .cmt-count")).to_have_text("No hay comentarios abiertos en el documento")
        expect(page.locator("#editor .cmt-range")).to_have_count(0)
    expect(lucia_thread).to_contain_text("Resuelto por Lucia")
    expect(lucia_thread.get_by_role("button", name="Reabrir")).to_be_visible()
    assert lucia.evaluate("() => window.notReloaded === true")

    # The server has it: on the unit's GUID, with the reply, resolved by Lucia.
    session = server.login("bruno")
    [stored] = session.get(f"{server.url}/api/v1/documents/{PUBLISHED}/comments?include=resolved", timeout=10).json()["comments"]
    assert stored["unit"] == "00000000-0000-4000-8000-000000000003" and stored["anchor"]["quote"] == WORDS
    assert stored["status"] == "resolved" and stored["resolved_by"] == "Lucia"
    assert [r["author"] for r in stored["replies"]] == ["Lucia"]
    assert requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/comments", timeout=10).status_code == 401

    # Words deleted under a comment: the comment keeps its quote, marked as no longer present.
    select_words(ana, "seres sintientes")
    panel.get_by_role("button", name="Comentar la selección").click()
    panel.get_by_label("Comentario", exact=True).fill("¿Todos los animales?")
    panel.get_by_role("button", name="Publicar").click()
    gone = panel.locator(".cmt-thread", has_text="¿Todos los animales?")
    expect(gone).to_have_attribute("data-anchor", "anchor")
    select_words(ana, "seres sintientes")
    ana.keyboard.press("Backspace")
    expect(ana.locator("#editor")).to_contain_text("Los animales son .")
    expect(gone).to_have_attribute("data-anchor", "gone")
    expect(gone.locator(".cmt-gone")).to_have_text("Texto ya no presente: las palabras comentadas se eliminaron.")
    expect(gone.locator(".cmt-quote")).to_have_text("seres sintientes")
    expect(ana.locator("#editor .cmt-range")).to_have_count(0)
    # Lucia, pointing at that clause, sees the same.
    lucia.get_by_text("Los animales son").click()
    lucia_gone = lucia.locator("#comments .cmt-thread", has_text="¿Todos los animales?")
    expect(lucia_gone).to_have_attribute("data-anchor", "gone")

    _shot(ana, tmp_path, "comments-gone.png")
    assert pages.errors == []


def test_the_panel_works_from_the_keyboard_and_on_a_phone(server, browser, tmp_path):
    pages = Pages(browser, server)
    lucia = pages.open("lucia", width=375, height=800)
    # No selection: the comment is on the whole clause at the cursor.
    lucia.get_by_text("Toda persona tiene derecho a moverse.").click()
    panel = lucia.locator("#comments")
    expect(panel.locator(".cmt-unit")).to_have_text("Artículo 2")
    button = panel.get_by_role("button", name="Comentar la selección")
    button.focus()
    lucia.keyboard.press("Enter")
    expect(panel.locator(".cmt-target")).to_have_text("Sobre toda la cláusula Artículo 2")
    lucia.keyboard.type("Revisar la redacción completa.")
    lucia.keyboard.press("Control+Enter")
    thread = panel.locator(".cmt-thread")
    expect(thread).to_contain_text("Revisar la redacción completa.")
    expect(thread.locator(".cmt-whole")).to_have_text("Sobre toda la cláusula Artículo 2")
    expect(thread).to_be_focused()
    expect(panel.locator("form.cmt-form")).to_be_hidden()
    expect(lucia.locator("#editor section.cmt-unit-commented")).to_have_count(1)
    # A comment on words of the clause, then the clause is moved above the first one: the editor
    # re-creates it, so the positions are lost; the quoted text finds the words again.
    select_words(lucia, "derecho a moverse")
    lucia.keyboard.press("Control+Alt+KeyM")
    lucia.keyboard.type("¿Incluye el transporte público?")
    lucia.keyboard.press("Control+Enter")
    moved = panel.locator(".cmt-thread", has_text="¿Incluye el transporte público?")
    expect(moved).to_have_attribute("data-anchor", "anchor")
    expect_highlight(lucia, "derecho a moverse")
    lucia.get_by_text("Toda persona tiene derecho a moverse.").click()
    lucia.keyboard.press("Alt+ArrowUp")
    expect(lucia.locator("#outline")).to_contain_text("Artículo 1 Movilidad")
    expect(moved).to_have_attribute("data-anchor", "quote")
    expect(moved.locator(".cmt-note")).to_have_text("Ubicado por el texto citado.")
    expect_highlight(lucia, "derecho a moverse")
    [stored] = [c for c in lucia.evaluate("() => window.constituent.comments.threads") if c["anchor"]]
    assert stored["unit"] == "00000000-0000-4000-8000-000000000004"

    # Below the text on a phone, and nothing wider than the screen.
    text_box = lucia.locator("#editor").bounding_box()
    panel_box = panel.bounding_box()
    assert panel_box["y"] >= text_box["y"] + text_box["height"] - 1
    assert lucia.evaluate("() => document.documentElement.scrollWidth") <= 375
    _shot(lucia, tmp_path, "comments-phone.png")
    assert pages.errors == []


@pytest.fixture
def closed_for_advisers(instance):
    """The document in its consultation stage: legal advisers may no longer write the text."""
    from sqlalchemy import select

    from editor import create_app
    from editor.documents import get_document
    from editor.models import User
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        admin = db.scalar(select(User).where(User.email == ACCOUNTS["admin"][0]))
        while current_stage(db, document).key != "consultation":
            advance(services, document, admin)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    server = LiveServer(instance).start()
    yield server
    server.stop()


def test_a_legal_adviser_comments_on_words_of_a_text_she_may_not_edit(closed_for_advisers, browser):
    pages = Pages(browser, closed_for_advisers)
    lucia = pages.open("lucia")
    expect(lucia.locator("#constituent-editor")).to_have_attribute("data-mode", "viewer")
    select_words(lucia, "seres sintientes")
    panel = lucia.locator("#comments")
    panel.get_by_role("button", name="Comentar la selección").click()
    expect(panel.locator(".cmt-target q")).to_have_text("seres sintientes")
    panel.get_by_label("Comentario", exact=True).fill("Definir «seres sintientes».")
    panel.get_by_role("button", name="Publicar").click()
    expect(panel.locator(".cmt-thread")).to_contain_text("Definir «seres sintientes».")
    expect_highlight(lucia, "seres sintientes")
    assert pages.errors == []
