"""Typing on the whole Mexico City constitution in Chromium (issue 22): the text far below the
screen is rendered lazily (content-visibility) but stays in the page, findable and numbered;
typing keeps every label; a new article renumbers what follows it, as before."""

from __future__ import annotations

import pytest
from conftest import CDMX, LiveServer

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
