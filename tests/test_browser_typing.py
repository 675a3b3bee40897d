"""Typing on the whole Mexico City constitution in Chromium (issue 22): the text far below the
screen is rendered lazily (content-visibility) but stays in the page, findable and numbered;
typing keeps every label; a new article renumbers what follows it, as before."""

from __future__ import annotations

import time

import pytest
import requests
from conftest import CDMX, LiveServer
from pycrdt import Doc, XmlFragment

from crdt import protocol

pytestmark = pytest.mark.browser

# Body articles' labels, in order (transitory articles and schedules count apart).
ARTICLE_LABELS = """() => [...document.querySelectorAll('#editor section.unit-article')]
  .filter(s => !s.closest('section.unit-transitional, section.unit-attachment'))
  .map(s => s.querySelector(':scope > .heading .unit-label-text, :scope > p .unit-label-text')?.textContent || '')"""
ALL_LABELS = "() => [...document.querySelectorAll('#editor .unit-label-text')].map(e => e.textContent)"

# The cursor at the end of the first paragraph of the last body article; returns its text.
LAST_ARTICLE = """() => {
  const { view } = window.constituent
  let target = null
  view.state.doc.descendants((node, pos, parent) => {
    if (node.type.name === 'transitional' || node.type.name === 'attachment') return false
    if (node.type.name === 'p' && parent.type.name === 'article') target = { pos: pos + node.nodeSize - 1, text: node.textContent }
    return !node.isTextblock
  })
  const sel = view.state.selection.constructor.near(view.state.doc.resolve(target.pos))
  view.focus()
  view.dispatch(view.state.tr.setSelection(sel).scrollIntoView())
  return target.text
}"""


@pytest.fixture
def cdmx_live(cdmx_instance):
    live = LiveServer(cdmx_instance).start()
    yield live
    live.stop()


def open_editor(browser, server, who: str):
    """The constitution's editor, signed in with `who`'s session cookies."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-MX")
    context.add_cookies([{"name": name, "value": value, "url": server.url}
                         for name, _, value in (c.partition("=") for c in server.cookie(who).split("; "))])
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server.url}/d/{CDMX}/edit")
    page.wait_for_selector("body[data-synced=true]")
    page.wait_for_selector("#editor [contenteditable=true]")
    return page


def test_the_whole_constitution_is_in_the_page_numbered_and_keeps_its_labels_while_typing(browser, cdmx_live):
    page = open_editor(browser, cdmx_live, "ana")
    articles = page.evaluate(ARTICLE_LABELS)
    assert len(articles) > 60 and articles[0] == "Artículo 1"
    labels = page.evaluate(ALL_LABELS)

    # Off-screen articles are laid out lazily, yet their text is in the page: find in page reaches
    # the last article from the top of the document.
    assert page.evaluate("() => getComputedStyle(document.querySelector('#editor section.unit-article')).contentVisibility") == "auto"
    last_text = page.evaluate("""() => { const s = [...document.querySelectorAll('#editor section.unit-article')]
      .filter(s => !s.closest('section.unit-transitional, section.unit-attachment')).pop()
      return [...s.querySelectorAll('p')].pop().textContent }""")
    phrase = last_text.strip()[-30:]
    assert page.evaluate("(phrase) => { window.getSelection().removeAllRanges(); return window.find(phrase) }", phrase)

    # Typing in the last articles changes no label anywhere.
    page.evaluate(LAST_ARTICLE)
    page.keyboard.type(" Texto nuevo al final.")
    assert page.evaluate(ALL_LABELS) == labels

    # A new article after it (Ctrl-Enter) is numbered next, and nothing before it changes.
    page.keyboard.press("Control+Enter")
    page.keyboard.type("Artículo añadido.")
    after = page.evaluate(ARTICLE_LABELS)
    assert after == articles + [f"Artículo {len(articles) + 1}"]

    assert "Texto nuevo al final." in page.evaluate("() => window.constituent.view.state.doc.textContent")


def test_the_editor_page_gets_the_whole_text_at_once_and_edits_through_that_connection(browser, cdmx_live):
    """The editor page opens its live connection while it loads, asking with `?state=1` (web/src/
    connect.js): the server sends the whole constitution as soon as it has joined the connection,
    before the client has said anything. The editor takes that connection over: it shows the text
    numbered, and what the user types there is saved."""
    from websockets.sync.client import connect

    # What such a connection receives, without sending a thing.
    url = cdmx_live.url.replace("http://", "ws://") + f"/yjs/{CDMX}?events=1&state=1"
    with connect(url, additional_headers={"Cookie": cdmx_live.cookie("ana")}, max_size=None) as ws:
        deadline = time.monotonic() + 30
        state = None
        while state is None and time.monotonic() < deadline:
            try:
                message = protocol.decode(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            except protocol.ProtocolError:
                continue  # our editor's events (joined, …)
            if isinstance(message, protocol.SyncMessage) and message.step == protocol.SyncStep.STEP2:
                state = message.data
    assert state is not None, "no document came"
    doc = Doc()
    doc.apply_update(state)
    body = str(doc.get("body", type=XmlFragment))
    assert "Ciudad de México" in body and body.count("<article") > 60

    # The page: the editor took its early connection over, shows the text, and saves what is typed.
    page = open_editor(browser, cdmx_live, "ana")
    assert page.evaluate("() => window.__constituentEarlySocket") == "taken"
    assert page.evaluate(ARTICLE_LABELS)[0] == "Artículo 1"
    before = page.evaluate(LAST_ARTICLE)
    page.keyboard.type(" Conectada desde el principio.")
    assert page.evaluate("() => window.constituent.view.state.selection.$from.parent.textContent") == \
        before + " Conectada desde el principio."
    deadline = time.monotonic() + 20
    while "Conectada desde el principio." not in requests.get(
            f"{cdmx_live.url}/api/v1/documents/{CDMX}/text", timeout=10).text and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Conectada desde el principio." in requests.get(f"{cdmx_live.url}/api/v1/documents/{CDMX}/text",
                                                           timeout=10).text
    page.context.close()
