"""Fuzzing the HTML side: every form that the public, a petitioner, a committee member and an
administrator can reach by following the site's own links, and the query strings of the pages.

A crawler signs in as each caller and follows links from the home page and a few entry points
(at most PER_ENDPOINT pages of each kind), collecting every <form> it meets: its method,
action, encoding and fields, and every query parameter that a link carries. Each form is then
sent EXAMPLES times with values drawn by hypothesis: what the page offered, empty, numbers
beyond 64 bits, digits that are not ASCII ("²", "١٢"), weeks and dates out of range, control and
bidi characters, markup, invalid UTF-8, long text. The session's CSRF token goes with every
request, so each one reaches its handler, and the fuzzing changes the instance as a user would.

Asserted for every response: no 5xx, and no exception logged with a traceback, in the request
or in the background work it started (a view that catches its own exception and still answers
hides a bug). Rate limits are off: a fuzzer is a flood by design. Examples are derandomized,
so CI sends the same requests every time; the failures of a run are listed together.
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote_from_bytes, urljoin, urlsplit

import lxml.html
import pytest
from conftest import ACCOUNTS, DRAFT, PUBLISHED, close_app
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_fuzz_api import signed_in
from test_links import ANIMALS, MOBILITY, add_sources
from test_survey import _json
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

EXAMPLES = 10  # per form and caller
PER_ENDPOINT = 2  # pages of each kind the crawler reads
#: Pages not crawled: PDFs take seconds each (they have their own tests), the socket is not HTML.
NOT_CRAWLED = {"report.document_pdf", "report.pdf", "live.yjs", "static", "public.favicon"}
#: Forms not sent: they end the caller's own session, which would stop the crawl half-way.
NOT_SENT = {"accounts.logout", "accounts.logout_everywhere"}

NASTY = [
    "", " ", "0", "-1", "1.5", "²", "١٢", "9" * 30, "1" * 5000, "1e309", "NaN", "-0", "0x1F",
    "0001-W01", "9999-W53", "2016-W99", "0001-01-01", "9999-12-31", "2016-02-30", "2016-13-01T25:61",
    "\u202eevil\u202c", "a\x00b", "a\x05b", "\ufffe", "<script>alert(1)</script>", "' OR 1=1 --",
    "../../etc/passwd", "//evil.example", "/\t/evil.example", "javascript:alert(1)", "=HYPERLINK(\"x\")",
    "x" * 20_000, "%", "%00", "\r\n\r\n", "true", "null", "[]", "{}", "ñ" * 300, "🏛" * 50,
    "committee", "admin", "assembly", "petition", "theme", "event", "art_1", "title_1__art_1",
]
VALUES = st.one_of(
    st.sampled_from(NASTY).map(str.encode),
    st.text(max_size=40).map(lambda text: text.encode("utf-8", "surrogatepass")),  # lone surrogates: invalid UTF-8
    st.binary(max_size=24),
)


@dataclass
class Form:
    method: str
    action: str  # a concrete path, with its query string
    endpoint: str
    multipart: bool
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> the values the page offered
    files: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return self.method, self.endpoint, tuple(sorted(self.fields)), tuple(sorted(self.files))


# --- the site, its callers and what they can reach ------------------------------------------------


def _seed(instance, stage: str) -> dict[str, str]:
    """Petitions, themes, an event, a small survey and a petitioner's review link, the published
    document moved on to `stage`; returns the entry points only a link from outside reaches (the
    petitioner's review page)."""
    from editor import create_app
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.models import User
    from editor.petitions.models import Petition
    from editor.provenance.links import create_link
    from editor.review.service import issue_link
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance
    from editor.survey.coder import code_survey
    from editor.survey.service import import_survey

    sources = add_sources(instance)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    try:
        services = app.extensions["constituent"]
        db = services.db
        with app.test_request_context():
            document = get_document(db, PUBLISHED)
            create_link(db, document, read_live(services, PUBLISHED).units, MOBILITY, "petition", sources["rivers"],
                        "incorporates")
            result = import_survey(db, document, _json(), "json")
            code_survey(db, result.survey)
            db.commit()
            _link, token = issue_link(db, document, db.get(Petition, sources["rivers"]), None, "Carlo",
                                      "carlo@example.org")
            db.commit()
            admin = db.scalar(select(User).where(User.email == ACCOUNTS["admin"][0]))
            while current_stage(db, document).key != stage:
                advance(services, document, admin)
            db.remove()
    finally:
        close_app(app)
    return {"review": f"/review/{token}"}


def _client(app, who: str | None):
    return signed_in(app, who)[0]


def _endpoint(app, method: str, url: str) -> str | None:
    parts = urlsplit(url)
    try:
        endpoint, _args = app.url_map.bind("localhost").match(parts.path, method=method)
    except RequestRedirect:
        return None
    except HTTPException:
        return None
    return endpoint


def crawl(app, client, entries: list[str]) -> tuple[list[Form], int]:
    """Follow the site's links from `entries`; the forms met (one of each kind) and pages read."""
    queue, seen, per_endpoint, forms = deque(entries), set(), Counter(), {}
    read = 0
    while queue:
        url = queue.popleft()
        endpoint = _endpoint(app, "GET", url)
        if url in seen or endpoint is None or endpoint in NOT_CRAWLED or per_endpoint[endpoint] >= PER_ENDPOINT:
            continue
        seen.add(url)
        per_endpoint[endpoint] += 1
        response = client.get(url, headers={"Accept-Language": "en"})
        read += 1
        assert response.status_code < 500, f"crawling {url}: {response.status_code}"
        if not response.content_type.startswith("text/html"):
            continue
        page = lxml.html.fromstring(response.get_data(as_text=True))
        for link in page.xpath("//a[@href]"):
            href = link.get("href").split("#")[0]
            if href.startswith("/") and not href.startswith("//"):
                queue.append(href)
                if "?" in href:  # a query string on a link: fuzzed as a GET form
                    _add(forms, _link_form(app, href))
        for element in page.forms:
            _add(forms, _form_of(app, element, url))
    return list(forms.values()), read


def _add(forms: dict, form: Form | None) -> None:
    if form is not None and form.endpoint not in NOT_SENT:
        forms.setdefault(form.key, form)


def _link_form(app, href: str) -> Form | None:
    endpoint = _endpoint(app, "GET", href)
    if endpoint is None or endpoint in NOT_CRAWLED:
        return None
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(urlsplit(href).query, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return Form("GET", urlsplit(href).path, endpoint, False, fields)


def _form_of(app, element, page_url: str) -> Form | None:
    method = (element.get("method") or "get").upper()
    action = urljoin(page_url, element.get("action") or "").split("#")[0]
    if urlsplit(action).netloc:
        action = urlsplit(action)._replace(scheme="", netloc="").geturl()
    endpoint = _endpoint(app, method, action)
    if endpoint is None or endpoint in NOT_CRAWLED:
        return None
    form = Form(method, action if method == "POST" else urlsplit(action).path, endpoint,
                (element.get("enctype") or "").startswith("multipart/"))
    for control in element.inputs:
        name = control.get("name")
        if not name:
            continue
        kind = (control.get("type") or "").lower()
        if control.tag == "input" and kind == "file":
            form.files.append(name)
            continue
        if control.tag == "select":
            offered = [option.get("value", option.text or "") for option in control.xpath(".//option")]
        else:
            offered = [control.get("value") or (control.text or "")]
        form.fields.setdefault(name, []).extend(offered or [""])
    return form


# --- sending ----------------------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Every record logged with an exception while the fuzzing runs, from any thread."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


def _body(form: Form, values: dict[str, bytes], files: dict[str, bytes]) -> dict:
    if form.multipart or form.files:
        data: dict = {name: value.decode("utf-8", "replace") for name, value in values.items()}
        data.update({name: (io.BytesIO(content), "fuzz.txt") for name, content in files.items()})
        return {"data": data, "content_type": "multipart/form-data"}
    encoded = "&".join(f"{quote_from_bytes(name.encode())}={quote_from_bytes(value)}" for name, value in values.items())
    if form.method == "GET":
        return {"query_string": encoded}
    return {"data": encoded, "content_type": "application/x-www-form-urlencoded"}


def fuzz(client, forms: list[Form]) -> tuple[int, Counter, dict[str, list]]:
    """Every form, EXAMPLES cases each; returns (requests, statuses, failures)."""
    run = _Run(client)
    logging.getLogger().addHandler(run.errors)
    try:
        for form in forms:
            run.fuzz(form)
        time.sleep(0.5)  # what the requests started in the background (the event bus) has run
        for record in run.errors.records:
            if id(record) not in run.attributed:
                _fail(run.failures, f"in the background: {record.exc_info[0].__name__}", {}, record.getMessage()[:200])
    finally:
        logging.getLogger().removeHandler(run.errors)
    return run.sent, run.statuses, run.failures


class _Run:
    def __init__(self, client) -> None:
        self.client = client
        self.sent, self.statuses, self.failures = 0, Counter(), {}
        self.errors, self.attributed = ErrorLog(), set()

    def fuzz(self, form: Form) -> None:
        strategies = {name: st.one_of(st.sampled_from([v.encode() for v in offered]), VALUES)
                      for name, offered in sorted(form.fields.items()) if not name.endswith("csrf_token")}
        files = {name: st.one_of(VALUES, st.just("Ley\n\nArtículo 1. Texto.".encode())) for name in form.files}
        csrf = {name: offered[0].encode() for name, offered in form.fields.items() if name.endswith("csrf_token")}

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(values=st.fixed_dictionaries(strategies), files=st.fixed_dictionaries(files))
        def send(values, files):
            self.send(form, {**values, **csrf}, files)

        send()

    def send(self, form: Form, values: dict[str, bytes], files: dict[str, bytes]) -> None:
        before = len(self.errors.records)
        response = self.client.open(form.action, method=form.method, headers={"Accept-Language": "en"},
                                    **_body(form, values, files))
        self.sent += 1
        self.statuses[response.status_code] += 1
        what = f"{form.method} {form.endpoint}"
        if response.status_code >= 500:
            _fail(self.failures, f"{what}: {response.status_code}", values, response.get_data(as_text=True)[:200])
        for record in self.errors.records[before:]:
            self.attributed.add(id(record))
            _fail(self.failures, f"{what}: logged {record.exc_info[0].__name__}", values, record.getMessage()[:200])


def _fail(failures: dict, kind: str, values: dict, detail: str) -> None:
    found = failures.setdefault(kind, [0, detail, {k: v[:80] for k, v in values.items() if not k.endswith("csrf_token")}])
    found[0] += 1


def _report(failures: dict) -> str:
    return "\n".join(f"- {kind} ({count}×): {detail}\n    {values}" for kind, (count, detail, values) in failures.items())


# --- the tests ----------------------------------------------------------------------------------------


CALLERS = {
    # who (in turn, on one instance), the published document's stage, the pages they start from,
    # and forms that must have been reached (so that the crawl is not vacuous)
    "public": ([None], "consultation", ["/", "/receipt", "/login", "{review}"],
               {"survey.receipt", "review.submit", "accounts.login", "search.search_page"}),
    "committee": (["ana"], "drafting", ["/", "/account", "/notifications", f"/d/{PUBLISHED}/petitions/manage",
                                        f"/d/{PUBLISHED}/survey", f"/d/{PUBLISHED}/reviews", f"/d/{PUBLISHED}/versions"],
                  {"petitions.manage", "survey.themes", "survey.recode", "provenance.new_event", "petitions.hearing"}),
    "admin": (["admin"], "drafting", ["/", "/admin/users", "/admin/audit", "/import", f"/d/{PUBLISHED}/members",
                                      f"/d/{PUBLISHED}/stages/configure", f"/d/{PUBLISHED}/petitions/thresholds",
                                      f"/d/{DRAFT}"],
              {"admin.invite", "admin.update_user", "admin.assign", "importing.import_page", "stages.configure_stages",
               "petitions.thresholds", "admin.audit_log", "stages.advance_stage"}),
    # The assembly: a member drafts and tables, another votes, the administrator runs the debate.
    "assembly": (["asa", "abel", "admin", "vera"], "assembly", ["/", f"/d/{PUBLISHED}/amendments"],
                 {"amendments.new", "amendments.edit", "amendments.state", "amendments.cast"}),
}


@pytest.mark.parametrize("caller", list(CALLERS))
def test_fuzzing_the_forms_and_query_strings_finds_no_server_error(instance, caller):
    from editor import create_app

    whos, stage, starts, expected = CALLERS[caller]
    entries = _seed(instance, stage)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False})
    try:
        if stage == "assembly":
            _amendments(app)
        reached: set[str] = set()
        for who in whos:
            reached |= _fuzz_as(app, who, [start.format(**entries) for start in starts], caller)
        assert expected <= reached, f"the crawl did not reach {sorted(expected - reached)}"
    finally:
        close_app(app)


def _amendments(app) -> None:
    """Two amendments drafted by asa, one of them tabled and opened to debate (and votes) by the
    administrator."""
    asa, asa_token = signed_in(app, "asa")
    admin, admin_token = signed_in(app, "admin")
    api = f"/api/v1/documents/{PUBLISHED}/amendments"
    for body in ({"kind": "deletion", "units": [ANIMALS], "justification": "Se repite en otro artículo."},
                 {"kind": "substitution", "units": [MOBILITY], "heading": "Movilidad",
                  "text": "Toda persona tiene derecho a la movilidad.", "justification": "Más claro."}):
        assert asa.post(api, json=body, headers={"X-CSRFToken": asa_token}).status_code == 201
    for client, token, action in ((asa, asa_token, "table"), (admin, admin_token, "debate")):
        response = client.post(f"{api}/1/state", json={"action": action}, headers={"X-CSRFToken": token})
        assert response.status_code == 200, (action, response.get_data(as_text=True)[:300])


def _fuzz_as(app, who: str | None, starts: list[str], caller: str) -> set[str]:
    client = _client(app, who)
    forms, read = crawl(app, client, starts)
    sent, statuses, failures = fuzz(client, forms)
    print(f"\nform fuzzing ({caller}) as {who or 'the public'}: {read} pages crawled, {len(forms)} forms, {sent} requests, "
          f"statuses {dict(sorted(statuses.items()))}")
    assert not failures, f"{len(failures)} kinds of failure in {sent} requests:\n{_report(failures)}"
    assert sent >= len(forms)
    assert sum(count for status, count in statuses.items() if status < 400) > 0, "nothing got through to a handler"
    return {form.endpoint for form in forms}
