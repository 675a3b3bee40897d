"""Versions and redlines in real Chromium: a committee member saves a version, edits the live
text, and reads the redline between the version and the live text (also on a phone)."""

from __future__ import annotations

import os

import pytest
from conftest import ACCOUNTS, PASSWORD, PUBLISHED
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WATER_TEXT = "Toda persona tiene derecho al agua."
SHOTS = os.environ.get("CONSTITUENT_SCREENSHOTS")


def _signed_in(browser, server, who: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-MX")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/login")
    page.fill("#email", ACCOUNTS[who][0])
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(server.url + "/")
    return page, errors


def test_a_committee_member_saves_a_version_edits_and_reads_the_redline(server, browser):
    page, errors = _signed_in(browser, server, "ana")
    page.goto(f"{server.url}/d/{PUBLISHED}/versions")
    page.get_by_label("Guardar el texto vivo como una versión llamada").fill("Antes de la sesión del jueves")
    page.get_by_role("button", name="Guardar versión").click()
    expect(page.locator(".flash-success")).to_contain_text("Versión 1")
    expect(page.locator("#v1")).to_contain_text("Antes de la sesión del jueves")

    page.goto(f"{server.url}/d/{PUBLISHED}/edit")
    page.wait_for_selector("body[data-synced=true]")
    page.get_by_text(WATER_TEXT).click()
    page.keyboard.press("End")
    page.keyboard.type(" Potable y asequible.")
    expect(page.get_by_text("Potable y asequible.")).to_be_visible()

    page.goto(f"{server.url}/d/{PUBLISHED}/versions")
    page.select_option("#from", "1")
    page.select_option("#to", "live")
    page.locator("#to").focus()
    page.keyboard.press("Tab")  # the next control is the button: the keyboard submits the comparison
    expect(page.get_by_role("button", name="Ver los cambios")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/compare?*")
    changed = page.locator(".diff-unit")
    expect(changed).to_have_count(1)
    expect(changed.locator("ins")).to_contain_text("Potable y asequible.")
    expect(changed.locator(".badge.status-changed")).to_be_visible()
    expect(page.locator(".diff-summary")).to_contain_text("modificada: 1")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "compare-1280.png"), full_page=True)

    phone, _ = _signed_in(browser, server, "bruno", width=375)
    phone.goto(f"{server.url}/d/{PUBLISHED}/compare?from=1&to=live")
    expect(phone.locator(".diff-unit ins")).to_contain_text("Potable y asequible.")
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the redline scrolls sideways on a phone by {overflow}px"
    if SHOTS:
        phone.screenshot(path=os.path.join(SHOTS, "compare-375.png"), full_page=True)
    assert errors == []
