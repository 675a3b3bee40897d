"""A resident's comment in real Chromium, from a phone, to the committee's editor panel, live.

The resident opens Art. 1, apartado A on a phone, signs in with the code e-mailed to her, quotes
words of the clause and comments; under pre-moderation the committee member's panel in the editor
(a moderator) shows it waiting, the legal adviser's does not; the committee member approves it in
the moderation queue and it appears in the legal adviser's panel without a reload, and on the
public page. Screenshots go to $PARTICIPATION_SHOTS when it is set."""

from __future__ import annotations

import os

import pytest
from conftest import PUBLISHED
from playwright.sync_api import expect
from test_browser_comments import Pages
from test_participation import ART_1_A, WATER_WORDS, _delivered_code, serve_in_consultation

pytestmark = pytest.mark.browser

RESIDENT = "rosa@example.net"
COMMENT = "¿Y el saneamiento? El apartado debería decirlo."


@pytest.fixture
def consultation_server(instance):
    yield from serve_in_consultation(instance)


def _shot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("PARTICIPATION_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["PARTICIPATION_SHOTS"], name), full_page=True)


def _at(page, path: str):
    """The same browser, somewhere else on the site."""
    page.goto(page.url.split("/d/", 1)[0] + path)
    return page


def _select_in_clause(page, words: str) -> None:
    """Select `words` in the clause's text, as with a mouse."""
    assert page.evaluate("""(words) => {
      const walker = document.createTreeWalker(document.querySelector('.legal-text'), NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent.indexOf(words)
        if (at < 0) continue
        const range = document.createRange()
        range.setStart(node, at)
        range.setEnd(node, at + words.length)
        const selection = window.getSelection()
        selection.removeAllRanges()
        selection.addRange(range)
        return true
      }
      return false
    }""", words)


def test_a_residents_comment_from_a_phone_reaches_the_committees_panel_live_once_approved(
        consultation_server, browser, tmp_path):
    server = consultation_server
    pages = Pages(browser, server)
    ana = pages.open("ana")  # drafting committee: a moderator
    lucia = pages.open("lucia")  # legal adviser: comments, does not moderate
    for page in (ana, lucia):
        page.wait_for_selector("#public-comments[data-state=ready]")
    lucia.evaluate("() => { window.notReloaded = true }")
    panel, lucia_panel = ana.locator("#public-comments"), lucia.locator("#public-comments")
    expect(panel.locator(".pub-empty")).to_have_count(1)
    expect(lucia_panel.locator("#pub-state option[value=pending]")).to_be_disabled()
    panel.locator("#pub-state").select_option("pending")

    # The resident, on a phone: the clause's page, sign in with the e-mailed code, choose a name.
    rosa = _at(pages.open(None, width=375, height=812), f"/d/{PUBLISHED}/{ART_1_A}")
    _shot(rosa, tmp_path, "unit-phone-signed-out.png")
    rosa.click("#public-comments .pc-sign-in a")
    rosa.fill("#pc-email", RESIDENT)
    _shot(rosa, tmp_path, "sign-in-phone.png")
    rosa.press("#pc-email", "Enter")
    rosa.wait_for_url("**/participate/code")
    rosa.fill("#pc-code", _delivered_code(server, RESIDENT))
    _shot(rosa, tmp_path, "code-phone.png")
    rosa.press("#pc-code", "Enter")
    rosa.wait_for_url("**/participate/account**")
    rosa.fill("#pc-name", "Rosa Martínez")
    rosa.press("#pc-name", "Enter")
    rosa.wait_for_url(f"**/d/{PUBLISHED}/{ART_1_A}")

    # She quotes words of the clause and comments, by keyboard from the quote on.
    _select_in_clause(rosa, WATER_WORDS)
    rosa.click(".pc-quote-selection")
    expect(rosa.locator("#pc-quote")).to_have_value(WATER_WORDS)
    expect(rosa.locator("#pc-body")).to_be_focused()
    rosa.keyboard.type(COMMENT)
    rosa.keyboard.press("Tab")
    rosa.keyboard.press("Enter")
    mine = rosa.locator("#public-comments .pc-comment.pc-pending")
    expect(mine).to_contain_text(COMMENT)
    expect(mine.locator(".pc-quote")).to_have_text(WATER_WORDS)
    assert rosa.evaluate("document.documentElement.scrollWidth") <= 375, "the page is wider than the phone"
    _shot(rosa, tmp_path, "unit-phone-waiting.png")

    # The committee member's panel shows it waiting, live; the legal adviser's shows nothing.
    waiting = panel.locator(".pub-item.pub-pending")
    expect(waiting).to_contain_text(COMMENT)
    expect(waiting.locator(".pub-quote")).to_have_text(WATER_WORDS)
    expect(waiting.locator(".pub-goto")).to_have_text("Artículo 1 A.")
    expect(lucia_panel.locator(".pub-item")).to_have_count(0)
    _shot(ana, tmp_path, "editor-panel-waiting.png")

    # She approves it in the moderation queue.
    queue = ana.context.new_page()
    queue.goto(f"{server.url}/d/{PUBLISHED}/moderation")
    item = queue.locator(".mq-item", has_text=COMMENT)
    expect(item).to_have_count(1)
    _shot(queue, tmp_path, "moderation-queue-desktop.png")
    item.locator("button[value=approve]").click()
    expect(queue.locator(".mq-item", has_text=COMMENT)).to_have_count(0)

    # Published: in the legal adviser's panel without a reload, gone from "waiting", and public.
    published = lucia_panel.locator(".pub-item.pub-published")
    expect(published).to_contain_text(COMMENT)
    expect(published.locator(".pub-by strong")).to_have_text("Rosa Martínez")
    assert lucia.evaluate("() => window.notReloaded === true")
    expect(panel.locator(".pub-item")).to_have_count(0)
    # The committee member goes to the clause from the panel, by keyboard.
    lucia_panel.locator("#pub-here").check()
    expect(lucia_panel.locator(".pub-empty")).to_have_count(1)
    lucia_panel.locator("#pub-here").uncheck()
    lucia_panel.locator(".pub-goto").focus()
    lucia.keyboard.press("Enter")
    lucia_panel.locator("#pub-here").check()
    expect(lucia_panel.locator(".pub-item")).to_contain_text(COMMENT)
    _shot(lucia, tmp_path, "editor-panel-published.png")

    reader = _at(pages.open(None), f"/d/{PUBLISHED}/{ART_1_A}")
    expect(reader.locator("#public-comments .pc-comment.pc-published")).to_contain_text(COMMENT)
    _shot(reader, tmp_path, "unit-desktop-published.png")
    phone_queue = _at(pages.open("admin", width=375, height=812), f"/d/{PUBLISHED}/moderation")
    assert phone_queue.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(phone_queue, tmp_path, "moderation-queue-phone.png")
    assert pages.errors == []
