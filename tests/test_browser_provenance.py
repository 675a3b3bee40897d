"""The "why this clause exists" panel of the live editor, in real Chromium: a committee member
links a clause to a petition from the panel, another sees it appear live, a reader sees the
links but cannot change them; the panel stacks below the text on a phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from conftest import ACCOUNTS, PASSWORD, PUBLISHED, LiveServer
from playwright.sync_api import expect
from test_links import add_sources

pytestmark = pytest.mark.browser

WATER_TEXT = "Toda persona tiene derecho al agua."
RIVERS = "Rescue Mexico City's rivers! Mexico City needs a comprehensive water policy"


@pytest.fixture
def live(instance):
    add_sources(instance)
    server = LiveServer(instance).start()
    yield server
    server.stop()


class Pages:
    """Browser contexts on the editor, each watched for console errors."""

    def __init__(self, browser, server) -> None:
        self.browser, self.server = browser, server
        self.errors: list[str] = []

    def open(self, who: str | None, width: int = 1280, height: int = 900, locale: str = "es-MX"):
        context = self.browser.new_context(viewport={"width": width, "height": height}, locale=locale)
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


def point_at(page, text: str, label: str) -> None:
    """Put the cursor in the clause holding `text`; the panel names it."""
    page.get_by_text(text).click()
    expect(page.locator("#provenance .prov-unit")).to_have_text(label)
    expect(page.locator("#provenance")).to_have_attribute("data-state", "ready")
    expect(page.locator("#provenance .prov-links")).to_be_visible()


def test_committee_links_a_clause_to_a_petition_and_everyone_sees_it_live(live, browser, tmp_path):
    pages = Pages(browser, live)
    ana = pages.open("ana")
    bruno = pages.open("bruno")
    vera = pages.open("vera")

    # Bruno and Vera look at the clause on water before anything is linked to it.
    for page in (bruno, vera):
        point_at(page, WATER_TEXT, "Artículo 1 A. 1.")
        expect(page.locator("#provenance .prov-links")).to_contain_text("aún no está vinculada")
    bruno.evaluate("() => { window.notReloaded = true }")

    # Ana puts her cursor in it and links it to the rivers petition, from the keyboard.
    point_at(ana, WATER_TEXT, "Artículo 1 A. 1.")
    panel = ana.locator("#provenance")
    expect(panel.get_by_label("Tipo de fuente")).to_be_visible()
    panel.get_by_label("Tipo de fuente").select_option("petition")
    source = panel.get_by_role("combobox", name="Fuente", exact=True)
    source.fill("rivers")
    option = panel.get_by_role("option", name=RIVERS, exact=False)
    expect(option).to_be_visible()
    assert "17,306" in option.inner_text() or "17 306" in option.inner_text() or "17306" in option.inner_text()
    source.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    source.press("Enter")
    expect(source).to_have_value(RIVERS)
    panel.get_by_label("Relación").select_option("incorporates")
    panel.get_by_label("Nota (opcional)").fill("Ríos y política hídrica")
    panel.get_by_role("button", name="Vincular", exact=True).click()

    link = panel.locator(".prov-links .prov-link")
    expect(link).to_have_count(1)
    expect(link).to_contain_text("Rescue Mexico City's rivers!")
    expect(link).to_contain_text("retoma su propuesta")
    expect(link).to_contain_text("Ríos y política hídrica")
    expect(panel.locator(".prov-form-status")).to_contain_text("Vínculo creado")

    # Bruno sees it appear without reloading; so does Vera, the reader.
    expect(bruno.locator("#provenance .prov-links .prov-link")).to_contain_text("Rescue Mexico City's rivers!")
    assert bruno.evaluate("() => window.notReloaded === true")
    expect(vera.locator("#provenance .prov-links .prov-link")).to_contain_text("Ríos y política hídrica")
    # The reader has no form, no suggestions and no buttons to change anything.
    expect(vera.locator("#provenance .prov-add")).to_be_hidden()
    expect(vera.locator("#provenance .prov-suggest")).to_be_hidden()
    assert vera.locator("#provenance button:visible").count() == 0
    # From the keyboard, the table of contents takes the reader (and the panel) to another article.
    vera.locator("#outline button", has_text="Animales").focus()
    vera.keyboard.press("Enter")
    expect(vera.locator("#provenance .prov-unit")).to_have_text("Artículo 3")
    expect(vera.locator("#provenance")).to_have_attribute("data-state", "ready")
    expect(vera.locator("#provenance .prov-links")).to_contain_text("aún no está vinculada")

    # The server has the link on the unit's GUID.
    guid = "00000000-0000-4000-8000-000000000003"
    [stored] = requests.get(f"{live.url}/api/v1/documents/{PUBLISHED}/units/{guid}/links", timeout=10).json()["links"]
    assert stored["relation"] == "incorporates" and stored["author"] == "Ana"

    # Bruno confirms a suggestion for the same clause: the water theme.
    suggestion = bruno.locator("#provenance .prov-suggestion", has_text="Agua")
    expect(suggestion).to_be_visible()
    suggestion.get_by_role("button", name="Confirmar: vincular con «Agua»").click()
    expect(ana.locator("#provenance .prov-links .prov-link")).to_have_count(2)
    expect(ana.locator("#provenance .prov-links")).to_contain_text("sugerido")

    ana.screenshot(path=str(tmp_path / "provenance-desktop.png"), full_page=True)
    shots = os.environ.get("PROVENANCE_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        ana.screenshot(path=str(Path(shots) / "desktop-editor.png"), full_page=False)
        vera.screenshot(path=str(Path(shots) / "desktop-viewer.png"), full_page=False)

    # Ana removes the petition link; it disappears for Bruno too.
    ana.locator("#provenance .prov-link", has_text="rivers").get_by_role("button", name="Quitar").click()
    expect(bruno.locator("#provenance .prov-links .prov-link")).to_have_count(1)
    expect(bruno.locator("#provenance .prov-links")).not_to_contain_text("rivers")

    assert pages.errors == []


def test_on_a_phone_the_panel_stacks_below_the_text_and_works_in_english(live, browser, tmp_path):
    pages = Pages(browser, live)
    phone = pages.open("ana", width=390, height=844, locale="en-GB")
    expect(phone.get_by_role("button", name="Español")).to_be_visible()  # an English page
    point_at(phone, "Los animales son seres sintientes.", "Artículo 3")  # the text is Spanish
    panel = phone.locator("#provenance")
    editor = phone.locator("#editor")
    panel_box, editor_box = panel.bounding_box(), editor.bounding_box()
    assert panel_box["y"] >= editor_box["y"] + editor_box["height"] - 1, (panel_box, editor_box)
    assert panel_box["width"] <= 390 and panel_box["x"] >= 0
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"

    expect(panel.locator("h2")).to_have_text("Why this clause exists")
    panel.get_by_role("combobox", name="Source", exact=True).fill("anim")
    panel.get_by_role("option", name="Animales").click()
    panel.get_by_role("button", name="Link", exact=True).click()
    expect(panel.locator(".prov-links .prov-link")).to_contain_text("Animales")
    expect(panel.locator(".prov-links")).to_contain_text("motivated by it")
    panel.scroll_into_view_if_needed()
    phone.screenshot(path=str(tmp_path / "provenance-phone.png"), full_page=True)
    shots = os.environ.get("PROVENANCE_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=str(Path(shots) / "phone.png"), full_page=False)
    assert pages.errors == []
