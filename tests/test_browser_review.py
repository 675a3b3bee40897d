"""Petitioner review in real Chromium: a committee member issues a petition's private link from the
dashboard, the petitioner opens it on a 375 px phone and approves with the keyboard alone, and
the committee's dashboard shows the approval."""

from __future__ import annotations

import pytest
from conftest import ACCOUNTS, PASSWORD, PUBLISHED, LiveServer
from playwright.sync_api import expect
from test_review import PETITIONER, WATER_TEXT, prepare

pytestmark = pytest.mark.browser



@pytest.fixture
def live(instance):
    ids = prepare(instance)
    server = LiveServer(instance).start()
    yield server, ids
    server.stop()


def _watch(page, errors: list[str], who: str) -> None:
    page.set_default_timeout(15_000)
    page.on("console", lambda m: m.type == "error" and errors.append(f"{who}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{who}: {e}"))


def test_a_petitioner_approves_through_their_link_and_the_committee_sees_it(live, browser):
    server, ids = live
    errors: list[str] = []
    water = ids["water"]

    # Ana, of the drafting committee, issues the link for the water petition from the dashboard.
    committee = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    ana = committee.new_page()
    _watch(ana, errors, "ana")
    ana.goto(server.url + "/login?lang=en")
    ana.fill("#email", ACCOUNTS["ana"][0])
    ana.fill("#password", PASSWORD)
    ana.click("main form button[type=submit]")
    ana.wait_for_url(server.url + "/")
    ana.goto(f"{server.url}/d/{PUBLISHED}/reviews?lang=en")
    row = ana.locator(f"#petition-{water}")
    expect(row.locator(".review-link-status")).to_have_attribute("data-status", "none")
    expect(row.locator(".review-outcome")).to_have_class("review-outcome pending")
    row.locator("summary").click()
    row.locator(f"#name-{water}").fill(PETITIONER[0])
    row.locator(f"#email-{water}").fill(PETITIONER[1])
    row.locator(f"#language-{water}").select_option("es")
    row.locator(f"#days-{water}").press("Enter")  # submits the form
    expect(ana.locator("#issued-url")).to_be_visible()
    url = ana.locator("#issued-url").input_value()
    assert url.startswith(server.url + "/review/")
    assert ana.locator(".review-issued a.button").get_attribute("href").startswith("mailto:" + PETITIONER[1])

    # The petitioner opens it on a phone, in Spanish.
    phone = browser.new_context(viewport={"width": 375, "height": 740}, locale="es-MX", is_mobile=True,
                                has_touch=True)
    carlo = phone.new_page()
    _watch(carlo, errors, "petitioner")
    carlo.goto(url)
    expect(carlo.locator("html")).to_have_attribute("lang", "es")
    expect(carlo.locator(".review-unit")).to_have_count(1)
    expect(carlo.locator(".review-unit .review-wording")).to_contain_text(WATER_TEXT)
    expect(carlo.locator(".review-decision")).to_have_attribute("data-decision", "none")
    assert carlo.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), \
        "the page scrolls sideways on a 375 px screen"
    # The comparison with the proposal opens from the keyboard too.
    carlo.locator(".review-vs-proposal summary").focus()
    carlo.keyboard.press("Enter")
    expect(carlo.locator(".review-vs-proposal del").first).to_be_visible()

    # Keyboard only: tab to the approval choice, select it, tab to the button, send.
    approve = carlo.locator("input[name=decision][value=approve]")
    for _ in range(60):
        if approve.evaluate("e => e === document.activeElement"):
            break
        carlo.keyboard.press("Tab")
    else:
        pytest.fail("the approval choice cannot be reached with the Tab key")
    carlo.keyboard.press("Space")
    expect(approve).to_be_checked()
    send = carlo.locator(".review-form button[type=submit]")
    for _ in range(5):
        if send.evaluate("e => e === document.activeElement"):
            break
        carlo.keyboard.press("Tab")
    carlo.keyboard.press("Enter")
    expect(carlo.locator(".review-decision")).to_have_attribute("data-decision", "approve")
    expect(carlo.locator(".flash")).to_be_visible()
    assert carlo.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")

    # The committee's dashboard shows the approval.
    ana.goto(f"{server.url}/d/{PUBLISHED}/reviews?lang=en")
    row = ana.locator(f"#petition-{water}")
    expect(row.locator(".review-outcome")).to_have_class("review-outcome approved")
    expect(row.locator(".review-link-status")).to_have_attribute("data-status", "active")
    expect(row.locator(".review-link-status")).to_contain_text("last opened")
    expect(ana.locator('[data-count="approved"]')).to_have_text("1")
    expect(ana.locator("#review-headline")).to_contain_text("1 of 2")

    assert not errors, errors
    phone.close()
    committee.close()
