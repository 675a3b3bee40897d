"""Accessibility: axe-core (from npm, tests/a11y) finds no serious or critical WCAG 2.1 A/AA
violation on the public pages, the weekly report and the editor's chrome, at 1280 px and on a
375 px phone; and the document page works with the keyboard alone (skip link, visible focus,
language switch).

axe runs under the site's real Content-Security-Policy (script-src 'self'): the test serves
axe.min.js at a same-origin address through Playwright's request routing and adds it as
`<script src>`, so nothing is bypassed (no `bypass_csp`, no inline script).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests
from conftest import BROWSER_ARGS, CHROMIUM, require

from editor.demo import DEMO_SLUG

pytest_plugins = ("demo_site",)  # its fixtures: demo_template, demo_server

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__test__/axe.min.js"  # never a route of the application: answered by the test itself
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

#: (name, path, who is signed in). The petition page's path is found on the petitions list.
PAGES = [
    ("index", "/", None),
    ("login", "/login", None),
    ("document", f"/d/{DEMO_SLUG}", None),
    ("unit", f"/d/{DEMO_SLUG}/art_1", None),
    ("unit-history", f"/d/{DEMO_SLUG}/units/art_1/history", "ana"),  # with its revert buttons
    ("petition", None, None),
    ("search", "/search?q=agua", None),
    ("audit", "/audit", None),
    ("report", f"/d/{DEMO_SLUG}/report", "ana"),
    ("editor", f"/d/{DEMO_SLUG}/edit", "ana"),
    ("editor-reader", f"/d/{DEMO_SLUG}/edit", None),
]
WIDTHS = [1280, 375]


@pytest.fixture(scope="module")
def chromium():
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    require(AXE.exists(), f"axe-core is not installed: cd tests/a11y && npm ci ({AXE} is missing)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        yield browser
        browser.close()


def _context(browser, server, who: str | None, width: int, locale: str = "es-MX"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale,
                                  extra_http_headers={"Accept-Language": locale})
    if who:
        session = server.login(who)
        context.add_cookies([{"name": c.name, "value": c.value, "url": server.url} for c in session.cookies])
    return context


def _petition_path(server) -> str:
    listing = requests.get(f"{server.url}/d/{DEMO_SLUG}/petitions", timeout=10).text
    return re.search(rf'href="(/d/{DEMO_SLUG}/petitions/\d+)"', listing).group(1)


def run_axe(page, server) -> list[dict]:
    """axe's WCAG 2.1 A/AA violations on the page as it is now."""
    script = AXE.read_text(encoding="utf-8")
    page.route(server.url + AXE_PATH, lambda route: route.fulfill(
        status=200, body=script, content_type="application/javascript; charset=utf-8"))
    page.add_script_tag(url=server.url + AXE_PATH)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG)
    return result["violations"]


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:5])
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])}×: {targets})")
    return "\n".join(lines)


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name,path,who", PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_or_critical_violations(chromium, demo_server, name, path, who, width):
    path = path or _petition_path(demo_server)
    context = _context(chromium, demo_server, who, width)
    try:
        page = context.new_page()
        response = page.goto(demo_server.url + path)
        assert response.status == 200, f"{path} answered {response.status}"
        if name.startswith("editor"):
            page.wait_for_selector(".ProseMirror", timeout=15_000)
            page.wait_for_function("() => !/Conectando|Connecting/.test(document.querySelector('#connection-status').textContent)",
                                   timeout=15_000)
        if name == "search":  # a search that finds something: results are on the page
            assert "Derecho al agua" in page.inner_text("main")
        violations = run_axe(page, demo_server)
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, f"{name} at {width}px:\n{_describe(blocking)}\n(others: {_describe(violations)})"
    finally:
        context.close()


def _focused(page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement, box = el.getBoundingClientRect(), style = getComputedStyle(el);
        return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, text: (el.textContent || '').trim(),
                left: box.left, top: box.top, width: box.width, height: box.height,
                outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
                innerWidth: window.innerWidth};
    }""")


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_document_page_works_with_the_keyboard_alone(chromium, demo_server, width):
    context = _context(chromium, demo_server, None, width)
    try:
        page = context.new_page()
        page.goto(f"{demo_server.url}/d/{DEMO_SLUG}")
        assert page.get_attribute("html", "lang") == "es"
        # The first Tab reaches the skip link, which shows itself on screen.
        page.keyboard.press("Tab")
        first = _focused(page)
        assert "skip-link" in first["cls"] and first["text"] == "Ir al contenido"
        assert 0 <= first["left"] < first["innerWidth"] and first["width"] > 0 and first["top"] >= 0
        assert first["outline"] != "none" and first["outlineWidth"] >= 2  # visible focus
        # Enter skips the header: focus lands on the main content, the next Tab inside it.
        page.keyboard.press("Enter")
        assert _focused(page)["id"] == "main"
        page.keyboard.press("Tab")
        inside = _focused(page)
        assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
        assert inside["outline"] != "none" and inside["outlineWidth"] >= 2, inside

        # From the top again: the language switch is reachable by Tab and works with Enter.
        page.goto(f"{demo_server.url}/d/{DEMO_SLUG}")
        for _ in range(30):
            page.keyboard.press("Tab")
            here = _focused(page)
            assert here["outline"] != "none", here  # every stop on the way shows where it is
            if here["text"] == "English":
                break
        else:
            pytest.fail("the language switch cannot be reached with Tab")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{demo_server.url}/d/{DEMO_SLUG}"  # still the same page
        assert page.get_attribute("html", "lang") == "en"
        assert page.inner_text(".toc h2") == "Contents"
        # The legal text keeps its own language.
        assert page.get_attribute("article.legal-text", "lang") == "es"
        assert "Derecho al agua" in page.inner_text("article.legal-text")
        # And back to Spanish, still with the keyboard alone.
        for _ in range(30):
            page.keyboard.press("Tab")
            if _focused(page)["text"] == "Español":
                break
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.get_attribute("html", "lang") == "es"
    finally:
        context.close()
