"""Stored XSS renders inert in real Chromium, and the pages and the live editor run under the strict
Content-Security-Policy without a single violation.

Hostile text goes where users can put text: a document's title and headings, a petition's title,
petitioners, proposal and address (a `javascript:` URL), a citizen event, a survey answer, a
borough and a theme name, comments and replies, a petitioner's name on a review link, an account's
display name, and a heading typed live in the editor. Every page that shows them is opened: no
dialog opens, `window.__xss` stays undefined, no element carries an event handler, no link leads to
`javascript:`, no `securitypolicyviolation` fires (escaping leaves the policy nothing to block), and
the payload reads literally on the page."""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape

import pytest
import requests
from conftest import ACCOUNTS, PASSWORD, LiveServer, login
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
SVG = '"><svg onload=alert(1)>'
JS_URL = "javascript:window.__xss=1;alert(document.cookie)"
TYPED = "<img src=y onerror=alert(2)>"  # typed into a heading in the live editor

SLUG = "xss-prueba"
TITLE = f"Constitución {IMG}"
ARTICLE, PARAGRAPH, SUBPARAGRAPH, MOBILITY = (f"00000000-0000-4000-8000-00000000010{n}" for n in (1, 2, 3, 4))
BODY = f"""<body>
  <title><heading>{escape(SCRIPT)}</heading>
    <article guid="{ARTICLE}"><heading>{escape(IMG)}</heading>
      <paragraph guid="{PARAGRAPH}"><heading>{escape(SVG)}</heading>
        <subparagraph guid="{SUBPARAGRAPH}"><p>Toda persona tiene derecho al agua. {escape(SCRIPT)}</p></subparagraph>
      </paragraph>
    </article>
    <article guid="{MOBILITY}"><heading>Movilidad</heading><p>Toda persona tiene derecho a moverse.</p></article>
  </title>
</body>"""

PETITION_TITLE = f"Agua potable {IMG} {SCRIPT}"
PETITIONERS = f"Colectivo {SVG}"
PROPOSAL = f"Toda persona tiene derecho al agua potable. {SCRIPT} {IMG}"
EVENT_TITLE = f"Foro vecinal {SVG}"
EVENT_PLACE = f"Casa de Cultura {IMG}"
ANSWER = f"Que haya agua en mi colonia {SCRIPT} {IMG}"
BOROUGH = f"Xochimilco {SVG}"
THEME_NAME = f"Agua limpia {IMG}"
REVIEWER = f"Carlo {SVG}"
HOSTILE_NAME = f"Mal {IMG}"  # a committee member's display name
COMMENT = f"Revisar esto {IMG} {SCRIPT}"
REPLY = f"De acuerdo {SVG}"

#: Registered before any script of each page: every CSP violation is kept in window.__violations.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push([e.effectiveDirective, e.blockedURI, (e.sourceFile || '') + ':' + e.lineNumber, e.sample].join(' '));
}, true);
"""

#: The scripts the site's pages load, all its own: the editor bundle, the questionnaire's script.
OUR_SCRIPTS = {"/static/dist/editor.js", "/static/dist/connect.js", "/static/survey.js", "/static/participation.js", "/static/collect.js",
               "/static/workspace.js", "/static/unit_picker.js"}

STATE = r"""() => ({
  xss: typeof window.__xss,
  violations: window.__violations || ['the watcher did not run'],
  handlers: Array.from(document.querySelectorAll('*'))
    .filter((e) => Array.from(e.attributes).some((a) => /^on/i.test(a.name)))
    .map((e) => e.outerHTML.slice(0, 160)),
  badUrls: Array.from(document.querySelectorAll('a[href], area[href], form[action], iframe, embed, object'))
    .map((e) => e.getAttribute('href') || e.getAttribute('action') || e.getAttribute('src') || e.getAttribute('data') || '')
    .filter((u) => /^\s*(javascript|vbscript|data):/i.test(u)),
  scripts: Array.from(document.scripts).map((s) => s.src ? new URL(s.src).pathname : 'inline: ' + s.textContent.slice(0, 80)),
  text: document.body ? document.body.innerText : ''
})"""


def prepare(instance) -> dict:
    """The hostile document and everything around it, written before the server opens the instance:
    in the consultation stage, with a review link issued for the petition."""
    from datetime import date

    from sqlalchemy import select

    from akoma_ntoso.safexml import parse_xml
    from editor import create_app
    from editor.accounts import add_user
    from editor.documents import create_document, get_document
    from editor.livetext import read_live
    from editor.models import User
    from editor.petitions.models import Petition
    from editor.provenance.links import create_link
    from editor.provenance.models import CitizenEvent
    from editor.review.service import issue_link
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance
    from editor.survey import coder
    from editor.survey.service import import_survey

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.test_request_context():
        db = services.db
        add_user(db, "mal@example.org", "committee", PASSWORD, name=HOSTILE_NAME)
        create_document(services, SLUG, TITLE, parse_xml(BODY.encode()), published=True)
        document = get_document(db, SLUG)
        units = read_live(services, SLUG).units
        petition = Petition(document_id=document.id, key="agua-xss", title=PETITION_TITLE, petitioners=PETITIONERS,
                            proposal=PROPOSAL, url=JS_URL, final_text_refs=SVG)
        event = CitizenEvent(document_id=document.id, title=EVENT_TITLE, held_on=date(2016, 5, 14), place=EVENT_PLACE,
                             organiser=SCRIPT, conclusions=f"{SCRIPT}\n{IMG}", url=JS_URL)
        db.add_all([petition, event])
        db.flush()
        survey = {
            "title": f"Encuesta {SCRIPT}",
            "questions": [{"text": "¿En qué delegación?", "widget": "select"},
                          {"text": "¿Qué otro reto tienes en mente?", "widget": "textarea"}],
            "respondents": [{"id": "R1", "borough": BOROUGH, "neighbourhood": "SAN LUCAS",
                             "responded_at": "2016-03-15T10:00:00-06:00",
                             "answers": {"¿En qué delegación?": BOROUGH, "2": ANSWER}}],
        }
        result = import_survey(db, document, json.dumps(survey, ensure_ascii=False).encode(), "json")
        theme = coder.add_theme(db, document, THEME_NAME, ["agua"])
        coder.code_survey(db, result.survey)
        create_link(db, document, units, SUBPARAGRAPH, "petition", petition.id, "incorporates", note=IMG)
        create_link(db, document, units, ARTICLE, "event", event.id, "motivated", note=SCRIPT)
        create_link(db, document, units, ARTICLE, "theme", theme.id, "addresses")
        db.commit()
        admin = db.scalar(select(User).where(User.email == ACCOUNTS["admin"][0]))
        ana = db.scalar(select(User).where(User.email == ACCOUNTS["ana"][0]))
        while current_stage(db, document).key != "consultation":
            advance(services, document, admin)
        _link, token = issue_link(db, document, petition, ana, REVIEWER, "carlo@example.net")
        ids = {"petition": petition.id, "event": event.id, "theme": theme.key, "token": token,
               "receipt": dict(result.receipts)["R1"]}
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    return ids


def _comment(session: requests.Session, url: str, path: str, payload: dict) -> dict:
    page = session.get(f"{url}/d/{SLUG}/edit", timeout=10)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    response = session.post(f"{url}/api/v1/documents/{SLUG}/{path}", json=payload,
                            headers={"X-CSRFToken": token}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def live(instance):
    ids = prepare(instance)
    server = LiveServer(instance).start()
    # Comments through the JSON API, as the editor's comments panel sends them.
    thread = _comment(login(server.url, "mal@example.org"), server.url, "comments", {"unit": SUBPARAGRAPH, "body": COMMENT})
    _comment(login(server.url, ACCOUNTS["ana"][0]), server.url, f"comments/{thread['comment']['id']}/replies",
             {"body": REPLY})
    yield server, ids
    server.stop()


class Browser:
    """Contexts whose pages are watched for dialogs, console errors and CSP violations."""

    def __init__(self, browser, server) -> None:
        self.browser, self.server = browser, server
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def page(self, who: str | None = None, email: str | None = None, width: int = 1280):
        context = self.browser.new_context(viewport={"width": width, "height": 900}, locale="es-MX")
        context.add_init_script(WATCH)
        page = context.new_page()
        page.set_default_timeout(15_000)
        label = who or email or "public"

        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{label}: {dialog.type} {dialog.message!r} on {page.url}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        # Failed loads are reported with their address below (a standalone page such as the HTML
        # export makes the browser ask for /favicon.ico, which the site does not serve).
        page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
                and self.errors.append(f"{label}: {m.text} on {page.url}"))
        page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
                and self.errors.append(f"{label}: {r.status} for {r.url}"))
        page.on("pageerror", lambda e: self.errors.append(f"{label}: {e} on {page.url}"))
        if who or email:
            page.goto(self.server.url + "/login")
            page.fill("#email", email or ACCOUNTS[who][0])
            page.fill("#password", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_url(self.server.url + "/")
        return page

    def check(self, page, *literal: str) -> dict:
        """The page is inert and shows each of `literal` as text."""
        state = page.evaluate(STATE)
        where = page.url
        assert state["xss"] == "undefined", f"script ran on {where}"
        assert not state["violations"], f"CSP violations on {where}: {state['violations']}"
        assert not state["handlers"], f"event-handler attributes on {where}: {state['handlers']}"
        assert not state["badUrls"], f"script URLs on {where}: {state['badUrls']}"
        assert set(state["scripts"]) <= OUR_SCRIPTS, f"unexpected scripts on {where}: {state['scripts']}"
        text = state["text"].lower()  # headings may be drawn in capitals (text-transform)
        for expected in literal:
            assert expected.lower() in text, f"{expected!r} is not shown literally on {where}"
        assert not self.dialogs, self.dialogs
        return state


def _eids(server) -> dict[str, str]:
    """GUID → eId of every unit, from the public outline."""
    found = {}

    def walk(units):
        for unit in units:
            found[unit["guid"]] = unit["eId"]
            walk(unit["children"])

    walk(requests.get(f"{server.url}/api/v1/documents/{SLUG}", timeout=10).json()["outline"])
    return found


def test_stored_xss_renders_inert_on_every_page_that_shows_it(live, browser):
    server, ids = live
    b = Browser(browser, server)
    eid = _eids(server)
    base = f"{server.url}/d/{SLUG}"

    public = b.page()
    for path, literal in [
        ("", (TITLE, SCRIPT, IMG, SVG, "Toda persona tiene derecho al agua. " + SCRIPT)),
        (f"/{eid[ARTICLE]}", (IMG, SVG, EVENT_TITLE, THEME_NAME)),
        (f"/{eid[SUBPARAGRAPH]}", (PETITION_TITLE,)),
        ("/petitions", (PETITION_TITLE,)),
        (f"/petitions/{ids['petition']}", (PETITION_TITLE, PROPOSAL)),
        ("/themes", (THEME_NAME,)),
        (f"/themes/{ids['theme']}", (THEME_NAME,)),
        ("/events", (EVENT_TITLE,)),
        (f"/events/{ids['event']}", (EVENT_TITLE, EVENT_PLACE, SCRIPT, IMG)),
        ("/coverage", (TITLE,)),
    ]:
        response = public.goto(base + path)
        assert response.status == 200, path
        b.check(public, *literal)
    # The petition's stored address is a javascript: URL: nothing links to it.
    public.goto(f"{base}/petitions/{ids['petition']}")
    expect(public.get_by_role("link", name=re.compile("plataforma|platform", re.I))).to_have_count(0)

    # The standalone HTML export: its own hashed stylesheet applies, the headings are text.
    public.goto(f"{server.url}/api/v1/documents/{SLUG}/html")
    b.check(public, SCRIPT, IMG, SVG)
    assert public.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none", \
        "the export's stylesheet was blocked"

    # A respondent's receipt shows their answer, their borough and the theme literally.
    public.goto(server.url + "/receipt")
    public.fill("#code", ids["receipt"])
    public.click("main form button[type=submit]")
    public.wait_for_selector("#receipt-result")
    b.check(public, ANSWER, BOROUGH, THEME_NAME)

    # The petitioner's private review page.
    petitioner = b.page(width=375)
    assert petitioner.goto(f"{server.url}/review/{ids['token']}").status == 200
    b.check(petitioner, PETITION_TITLE, REVIEWER, PROPOSAL, IMG, SVG)
    petitioner.locator(".review-vs-proposal summary").first.click()  # the redline of proposal and wording
    b.check(petitioner)

    # The committee's pages.
    ana = b.page("ana")
    for path, literal in [
        ("/petitions/manage", (PETITION_TITLE,)),
        (f"/petitions/{ids['petition']}/manage", (PETITION_TITLE, PETITIONERS, JS_URL)),
        ("/reviews", (PETITION_TITLE, PETITIONERS, REVIEWER)),
        ("/survey", (THEME_NAME, BOROUGH)),
        ("/survey/answers", (ANSWER,)),
        ("/survey/themes", (THEME_NAME,)),
        ("/versions", ()),
        ("/amendments", ()),
    ]:
        response = ana.goto(base + path)
        assert response.status == 200, path
        b.check(ana, *literal)
    for path in ("/", "/import", "/notifications"):
        assert ana.goto(server.url + path).status == 200, path
        b.check(ana, *([TITLE] if path == "/" else []))
    ana.goto(f"{base}/petitions/{ids['petition']}/manage")
    ana.locator(".petition-proposal summary").click()
    b.check(ana, PROPOSAL)
    expect(ana.locator(f'a[href="{JS_URL}"]')).to_have_count(0)
    expect(ana.locator("code.unsafe-url")).to_have_text(JS_URL)

    # The live editor, with the comments on the clause open in its panel.
    ana.goto(f"{base}/edit")
    ana.wait_for_selector("body[data-synced=true]")
    ana.get_by_text("Toda persona tiene derecho al agua.").click()
    comments = ana.locator("#comments")
    expect(comments).to_contain_text(COMMENT)
    expect(comments).to_contain_text(REPLY)
    expect(ana.locator("#provenance")).to_contain_text(PETITION_TITLE)
    b.check(ana, TITLE, SCRIPT, IMG, SVG, COMMENT, REPLY, HOSTILE_NAME)

    assert not b.errors, b.errors


def test_the_live_editor_runs_under_the_strict_policy(live, browser):
    """Two committee members and a reader in the editor (one with a hostile display name): typing, remote carets
    and selections, presence, the comments and provenance panels, the structure toolbar, undo, and
    pasting rich HTML from another program all run without a CSP violation or console error; a
    heading typed live is shown as text on the public page."""
    server, _ids = live
    b = Browser(browser, server)
    ana = b.page("ana")
    mal = b.page(email="mal@example.org")
    vera = b.page("vera")  # a reader: the same editor, read-only
    for page in (ana, mal, vera):
        page.goto(f"{server.url}/d/{SLUG}/edit")
        page.wait_for_selector("body[data-synced=true]")

    # Mal types in the water clause and selects a word: Ana sees his caret and selection.
    mal.get_by_text("Toda persona tiene derecho al agua.").click()
    mal.keyboard.press("End")
    mal.keyboard.type(" Y al saneamiento.")
    mal.keyboard.press("Shift+ArrowLeft")
    expect(ana.locator("#editor .ProseMirror-yjs-cursor")).to_have_count(1)
    expect(ana.locator("#editor .ProseMirror-yjs-selection")).not_to_have_count(0)
    expect(ana.locator("#editor")).to_contain_text("Y al saneamiento")
    expect(ana.locator("#presence")).to_contain_text(HOSTILE_NAME)

    # Ana rewrites the heading "Movilidad" with a payload, uses the toolbar and undoes it.
    heading = ana.locator("#editor .heading", has_text="Movilidad")
    heading.click()
    ana.keyboard.press("End")
    for _ in range(len("Movilidad")):
        ana.keyboard.press("Backspace")
    ana.keyboard.type(TYPED)
    expect(mal.locator("#editor")).to_contain_text(TYPED)
    expect(mal.locator("#editor .ProseMirror-yjs-cursor")).to_have_count(1)
    ana.wait_for_timeout(700)  # Yjs merges edits less than 500 ms apart into one undo step
    ana.get_by_text("Toda persona tiene derecho a moverse.").click()
    ana.keyboard.press("Enter")
    ana.keyboard.type("Texto nuevo.")
    ana.keyboard.press("Control+z")
    expect(ana.locator("#editor")).not_to_contain_text("Texto nuevo.")
    expect(ana.locator("#editor")).to_contain_text(TYPED)

    # Pasting from a word processor: style sheets, style attributes and handlers are dropped
    # before ProseMirror reads the HTML; the words arrive.
    ana.get_by_text("Toda persona tiene derecho a moverse.").click()
    ana.keyboard.press("End")
    ana.evaluate("""() => {
      const data = new DataTransfer()
      data.setData('text/html', '<meta charset="utf-8"><style>p { color: red }</style>' +
        '<p class="MsoNormal" style="margin:0"><span style="font-weight:bold">Pegado desde Word</span></p>' +
        '<img src=x onerror="window.__xss=1">')
      data.setData('text/plain', 'Pegado desde Word')
      const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
      document.querySelector('#editor .ProseMirror').dispatchEvent(event)
    }""")
    expect(ana.locator("#editor")).to_contain_text("Pegado desde Word")
    expect(mal.locator("#editor")).to_contain_text("Pegado desde Word")

    # The comments panel: Ana replies from the editor.
    ana.get_by_text("Toda persona tiene derecho al agua.").click()
    expect(ana.locator("#comments")).to_contain_text(COMMENT)

    expect(vera.locator("#editor")).to_contain_text("Pegado desde Word")
    expect(vera.locator("#editor .ProseMirror-yjs-cursor")).to_have_count(2)
    for page in (ana, mal, vera):
        b.check(page, TYPED, "Pegado desde Word")

    # The public page shows the typed heading as text.
    public = b.page()
    public.goto(f"{server.url}/d/{SLUG}")
    b.check(public, TYPED, "Pegado desde Word")
    assert not b.errors, b.errors
