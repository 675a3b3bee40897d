"""The drafting workspace (issue 22): the editor as the hub of the document's places, a version
saved without leaving the editor, a read-only editor that says why and what to do next, and the
amendment form's searchable unit picker (which still works without script).

The browser tests run in English: the new interface strings are in the catalogue's English until
they are translated (their Spanish is given with the change)."""

from __future__ import annotations

import os
import re

import test_amendments
from conftest import PUBLISHED, require
from lxml import html
from playwright.sync_api import expect
from test_accessibility import AXE, BLOCKING, _describe, run_axe
from test_amendments import ANIMALS, MOBILITY, Member

# The published test constitution in the assembly stage (the fixtures of test_amendments).
assembly_template = test_amendments.assembly_template
assembly = test_amendments.assembly

SHOTS = os.environ.get("CONSTITUENT_SCREENSHOTS")
EDIT = f"/d/{PUBLISHED}/edit"


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def _signed_in(browser, server, who: str | None, width: int = 1280, locale: str = "en-GB"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if who:
        page.goto(server.url + "/login")
        page.fill("#email", who + "@example.org")
        page.fill("#password", "correct horse battery")
        page.click("main form button[type=submit]")
        page.wait_for_url(server.url + "/")
    return page, errors


def _editor_page(server, who: str | None):
    member = Member(server, who)
    response = member.session.get(server.url + EDIT, timeout=15)
    assert response.status_code == 200
    return html.fromstring(response.text)


def _places(tree) -> set[str]:
    return {a.get("data-place") for a in tree.xpath("//nav[contains(@class,'doc-tabs')]/a[@data-place]")}


def _reason(tree) -> str | None:
    found = tree.xpath("//section[contains(@class,'reading-notice')]/@data-reason")
    return found[0] if found else None


# --- the browser: an assembly member on a phone ------------------------------------------------------


def test_an_assembly_member_on_a_phone_proposes_an_amendment_from_the_read_only_notice(assembly, browser):
    page, errors = _signed_in(browser, assembly, "asa", width=375)
    page.goto(assembly.url + EDIT)
    page.wait_for_selector("body[data-synced=true]")

    notice = page.locator(".reading-notice")
    expect(notice.get_by_role("heading")).to_have_text("The “Assembly” stage does not allow editing the text directly.")
    expect(notice).to_contain_text("the text changes only through amendments adopted by the assembly")
    propose = page.get_by_role("link", name="Propose an amendment to this provision")
    expect(propose).to_be_visible()
    # The hub: the document's other places are links on the editor page.
    tabs = page.get_by_role("navigation", name="Sections of this document")
    for name in ("Text", "Petitions", "Stages and versions", "Amendments"):
        expect(tabs.get_by_role("link", name=name, exact=True)).to_be_visible()
    _shot(page, "workspace-editor-assembly-375-en.png")

    # By keyboard: Artículo 2 chosen in the table of contents.
    page.locator(f"#outline button[data-guid='{MOBILITY}']").focus()
    page.keyboard.press("Enter")
    expect(propose).to_have_attribute("href", re.compile(re.escape(f"unit={MOBILITY}") + "$"))
    # The cursor in Artículo 3: the link follows it.
    page.get_by_text("Los animales son seres sintientes.").click()
    expect(propose).to_have_attribute("href", re.compile(re.escape(f"unit={ANIMALS}") + "$"))
    expect(page.locator("#propose-unit")).to_contain_text("Provision: Artículo 3")
    # The history panel follows the same unit: its wording in every version (no revert here).
    history = page.locator("#unit-history")
    expect(history).to_have_text("History of Artículo 3")
    expect(history).to_have_attribute("href", f"/d/{PUBLISHED}/units/{ANIMALS}/history")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the editor scrolls sideways on a phone by {overflow}px"

    propose.click()
    page.wait_for_url(re.compile(r".*/amendments/new\?unit="))
    chips = page.locator(".unit-picker-chips li")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Artículo 3")
    assert page.eval_on_selector("#unit", "s => [...s.selectedOptions].map(o => o.value)") == [ANIMALS]

    # Another unit, by keyboard, through the filter.
    page.get_by_label("Find units by number or heading").fill("movilidad")
    expect(page.get_by_role("option")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("listbox", name="Units of the text")).to_be_focused()
    page.keyboard.press("Space")
    expect(chips).to_have_count(2)
    expect(page.get_by_role("option", name=re.compile("Artículo 2"))).to_have_attribute("aria-selected", "true")
    assert sorted(page.eval_on_selector("#unit", "s => [...s.selectedOptions].map(o => o.value)")) == sorted(
        [MOBILITY, ANIMALS])
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the amendment form scrolls sideways on a phone by {overflow}px"
    _shot(page, "workspace-picker-375-en.png")

    # A chip's button removes its unit; the form goes on with what is chosen.
    page.get_by_role("button", name=re.compile("Remove Artículo 3")).click()
    expect(chips).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile("Remove Artículo 2"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(chips).to_have_count(0)
    # Nothing chosen: the form says so and stays.
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_have_text("Choose at least one unit.")
    expect(page.get_by_label("Find units by number or heading")).to_be_focused()
    # Enter in the filter chooses the unit it finds.
    page.keyboard.press("Enter")
    expect(chips).to_have_count(1)
    expect(page.get_by_role("alert")).to_be_hidden()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("fieldset.amendment-unit legend")).to_have_text(["Artículo 2"])
    assert errors == []


def test_a_committee_member_saves_a_version_without_leaving_the_editor(server, browser):
    page, errors = _signed_in(browser, server, "ana")
    page.goto(server.url + EDIT)
    page.wait_for_selector("body[data-synced=true]")
    expect(page.locator(".reading-notice")).to_have_count(0)  # the committee writes in drafting
    page.get_by_label("Version name").fill("Antes del jueves")
    page.get_by_role("button", name="Save version").click()
    status = page.locator(".save-version-status")
    expect(status).to_contain_text("Version 1 was saved as “Antes del jueves”.")
    expect(status.get_by_role("link", name="See it in the versions")).to_have_attribute(
        "href", f"/d/{PUBLISHED}/versions#v1")
    assert page.url == server.url + EDIT
    expect(page.get_by_label("Version name")).to_have_value("")
    versions = Member(server, "ana").session.get(f"{server.url}/api/v1/documents/{PUBLISHED}/versions", timeout=10)
    assert [(v["number"], v["name"]) for v in versions.json()["versions"]] == [(1, "Antes del jueves")]
    _shot(page, "workspace-editor-committee-1280-en.png")
    assert errors == []


def test_the_notice_and_the_picker_pass_axe(assembly, browser):
    """WCAG 2.1 A/AA (axe, as tests/test_accessibility.py): the assembly member's editor with its
    notice (a unit pointed at) and the amendment form with the picker in use, at 1280 and 375 px."""
    require(AXE.exists(), f"axe-core is not installed: cd tests/a11y && npm ci ({AXE} is missing)")
    for width in (1280, 375):
        page, errors = _signed_in(browser, assembly, "asa", width=width)
        page.goto(assembly.url + EDIT)
        page.wait_for_selector("body[data-synced=true]")
        page.get_by_text("Los animales son seres sintientes.").click()
        expect(page.locator("#propose-unit")).to_contain_text("Artículo 3")
        blocking = [v for v in run_axe(page, assembly) if v["impact"] in BLOCKING]
        assert not blocking, f"editor at {width}px:\n{_describe(blocking)}"
        page.get_by_role("link", name="Propose an amendment to this provision").click()
        page.get_by_label("Find units by number or heading").fill("art")
        page.keyboard.press("ArrowDown")
        blocking = [v for v in run_axe(page, assembly) if v["impact"] in BLOCKING]
        assert not blocking, f"amendment form at {width}px:\n{_describe(blocking)}"
        page.context.close()
        assert errors == []


# --- HTTP: the hub per role, the notice's reasons, the form without script ------------------------


def test_the_editor_links_the_places_each_role_may_open_and_says_why_it_is_read_only(assembly):
    always = {"editor", "amendments"}
    expected = {
        None: (always, "signed-out"),
        "vera": (always, "account"),
        "marta": (always, "account"),
        "asa": (always, "amendments"),
        "lucia": (always | {"comments"}, "amendments"),
        "ana": (always | {"comments", "reviews"}, "amendments"),
        "admin": (always | {"comments", "reviews"}, "amendments"),
    }
    for who, (places, reason) in expected.items():
        tree = _editor_page(assembly, who)
        assert _places(tree) == places, who
        assert _reason(tree) == reason, who
        hrefs = tree.xpath("//nav[contains(@class,'doc-tabs')]/a/@href")
        for path in ("", "/petitions", "/versions", "/amendments"):
            assert f"/d/{PUBLISHED}{path}" in hrefs, (who, path)
        proposing = tree.xpath("//a[@id='propose-amendment']/@href")
        assert proposing == ([f"/d/{PUBLISHED}/amendments/new"] if who == "asa" else []), who
        saving = tree.xpath("//form[contains(@class,'save-version')]")
        assert bool(saving) == (who in ("lucia", "ana", "admin")), who
        if saving:
            assert saving[0].get("action") == f"/d/{PUBLISHED}/versions"
            assert saving[0].get("data-api") == f"/api/v1/documents/{PUBLISHED}/versions"
    # The presiding administrator is sent to the amendments; the public to the sign-in page.
    admin = _editor_page(assembly, "admin")
    assert admin.xpath("//section[contains(@class,'reading-notice')]//a/@href") == [f"/d/{PUBLISHED}/amendments"]
    public = _editor_page(assembly, None)
    assert public.xpath("//section[contains(@class,'reading-notice')]//a/@href")[0].startswith("/login?next=")


def test_in_drafting_writers_see_no_notice_and_the_others_learn_who_edits(server):
    for who in ("ana", "lucia", "admin"):
        assert _reason(_editor_page(server, who)) is None, who
    asa = _editor_page(server, "asa")
    assert _reason(asa) == "stage"
    text = asa.xpath("string(//section[contains(@class,'reading-notice')])")
    assert "does not let assembly members edit the text" in text
    assert "administrator, drafting committee, legal adviser" in text
    assert "propose amendments when the document reaches a stage that takes them" in text
    assert _reason(_editor_page(server, "vera")) == "account"
    # The reading pages share the same tabs, with the editor among them.
    page = Member(server, "ana").session.get(f"{server.url}/d/{PUBLISHED}/versions", timeout=10).text
    tabs = html.fromstring(page).xpath("//nav[contains(@class,'doc-tabs')]/a/@data-place")
    assert tabs == ["editor", "amendments", "comments", "reviews"]


def test_the_amendment_form_works_without_script_and_preselects_the_unit(assembly):
    asa = Member(assembly, "asa")
    first = asa.session.get(f"{assembly.url}/d/{PUBLISHED}/amendments/new?unit={ANIMALS}", timeout=10)
    assert first.status_code == 200
    tree = html.fromstring(first.text)
    select = tree.xpath("//select[@id='unit']")[0]
    assert select.get("name") == "unit" and select.get("multiple") is not None
    assert select.xpath("option[@selected]/@value") == [ANIMALS]
    assert len(select.xpath("option")) > 3 and all(o.get("data-depth") for o in select.xpath("option"))
    assert tree.xpath("//script[contains(@src,'unit_picker.js')]")
    # The plain form goes on: both units, then the wording, then a draft.
    second = asa.session.get(f"{assembly.url}/d/{PUBLISHED}/amendments/new",
                             params={"kind": "deletion", "unit": [ANIMALS, MOBILITY]}, timeout=10)
    assert second.status_code == 200 and 'name="justification"' in second.text
    assert "unit_picker.js" not in second.text  # the second step has no unit list
    posted = asa.session.post(f"{assembly.url}/d/{PUBLISHED}/amendments/new", data={
        "csrf_token": asa.token, "kind": "deletion", "unit": [ANIMALS, MOBILITY], "justification": "Sobran.",
        "submit": "draft"}, allow_redirects=False, timeout=15)
    assert posted.status_code == 303, posted.text
    assert asa.get("/1").json()["units"] == [ANIMALS, MOBILITY]
