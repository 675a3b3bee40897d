"""Fuzzing the JSON API from its own OpenAPI document (schemathesis + hypothesis).

Every operation of `GET /api/v1/openapi.json` gets requests generated from its schema, valid
and invalid ("negative" mode), in-process against the WSGI application, once per caller: the
public, a member of the drafting committee, an administrator, and an assembly member on a
document in the assembly stage. Path parameters are either generated or taken from what
exists (the seeded documents, their units by GUID and eId, petitions, a comment, a link, an
amendment), so that requests get past "no such document" into the handlers. Signed-in or not,
every request carries the session's CSRF token in X-CSRFToken, so state-changing calls reach
the handlers too (and change the instance: that is part of the fuzzing).

Asserted for every response: no 5xx (and no exception escapes a view), and its status code is
one the OpenAPI document declares for that operation. Rate limits are off here: a fuzzer is a
flood by design (the limits have their own tests). Examples are derandomized, so CI runs the
same requests every time; the failures of a run are listed together, one line per kind.
"""

from __future__ import annotations

import itertools
import os
import re
import traceback
from collections import Counter

import pytest
import schemathesis
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED, ROOT
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from test_amendments import assembly_template  # noqa: F401 - the fixture, for the assembly caller
from test_links import ANIMALS, MOBILITY, add_sources

EXAMPLES = 8  # per operation and caller: 46 operations × 4 callers ≈ 1,500 requests
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


# --- the application, its callers and what exists ------------------------------------------------


def _app(instance):
    from editor import create_app

    return create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False})


def _close(app) -> None:
    services = app.extensions["constituent"]
    services.rooms.close_all()
    services.db.remove()
    services.engine.dispose()


def signed_in(app, who: str | None):
    """A Flask test client for `who` (None: the public) and the CSRF token of its session."""
    client = app.test_client()
    token = CSRF_FIELD.search(client.get("/login").get_data(as_text=True)).group(1)
    if who is None:
        return client, token
    response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"{who} could not sign in"
    # The session may be new after signing in: take the token it has now.
    page = client.get(f"/d/{PUBLISHED}/edit").get_data(as_text=True)
    return client, re.search(r'data-csrf="([^"]+)"', page).group(1)


def _units(outline: list[dict]):
    for unit in outline:
        yield unit
        yield from _units(unit["children"])


def seed(app, instance_sources: dict[str, int], assembly: bool) -> dict[str, list]:
    """Make one of each thing the API addresses by number, and return the known path values."""
    ana, ana_token = signed_in(app, "ana")
    admin, admin_token = signed_in(app, "admin")
    api = f"/api/v1/documents/{PUBLISHED}"
    made = [
        ana.post(f"{api}/comments", json={"unit": MOBILITY, "body": "¿Y las bicicletas?"}, headers={"X-CSRFToken": ana_token}),
        admin.post(f"{api}/links", json={"unit": MOBILITY, "source_kind": "petition",
                                          "source_id": instance_sources["mobility"]}, headers={"X-CSRFToken": admin_token}),
        admin.post(f"{api}/versions", json={"name": "antes del fuzzing"}, headers={"X-CSRFToken": admin_token}),
    ]
    if assembly:
        asa, asa_token = signed_in(app, "asa")
        made.append(asa.post(f"{api}/amendments", json={"kind": "deletion", "units": [ANIMALS], "justification": "x"},
                             headers={"X-CSRFToken": asa_token}))
    assert [r.status_code for r in made] == [201] * len(made), [r.get_data(as_text=True) for r in made]
    units = list(_units(ana.get(api).get_json()["outline"]))
    # An open questionnaire, for the tablets' sync API.
    from editor.documents import get_document
    from editor.survey.questionnaire import create_questionnaire, demo_definition, publish

    db = app.extensions["constituent"].db
    questionnaire = create_questionnaire(db, get_document(db, PUBLISHED), demo_definition())
    publish(db, questionnaire)
    db.commit()
    return {
        "slug": [PUBLISHED, DRAFT],
        "key": [u["guid"] for u in units] + [u["eId"] for u in units if u["eId"]],
        "number": [1], "comment_id": [1], "link_id": [1], "token": ["not-a-token"], "notification_id": [1],
        "petition_id": [instance_sources["rivers"], instance_sources["mobility"]],
        "kind": ["petition", "theme", "event"],
        "source_id": sorted(instance_sources.values()),
        "survey_id": [questionnaire.id, questionnaire.id + 1000],
        "suggestion": ["s-none"],  # notes on a suggestion (none is pending in the seeded text)
    }


# --- the fuzzing ----------------------------------------------------------------------------------


def _documented(schema, operation) -> set[int]:
    responses = schema.raw_schema["paths"][operation.path][operation.method.lower()]["responses"]
    return {int(code) for code in responses}


def _strategy(operation, known: dict[str, list]):
    """Generated cases, half of them aimed at things that exist (known path values)."""
    names = [p.name for p in operation.path_parameters]
    strategies = [operation.as_strategy(mode) for mode in MODES]
    if names:
        combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*(known[n] for n in names))]
        cache: dict = {}

        def aimed(choice):
            if choice not in cache:
                index, mode = choice
                cache[choice] = operation.as_strategy(mode, path_parameters=combos[index])
            return cache[choice]

        strategies.append(st.tuples(st.integers(0, len(combos) - 1), st.sampled_from(MODES)).flatmap(aimed))
        strategies.append(strategies[-1])
    return st.one_of(strategies)


def fuzz(app, who: str | None, known: dict[str, list]) -> tuple[int, Counter, dict[str, list]]:
    """Every operation, EXAMPLES cases each, as `who`; returns (requests, statuses, failures)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    client, token = signed_in(app, who)
    headers = {"X-CSRFToken": token, "Accept-Language": "en"}
    sent, statuses, failures = 0, Counter(), {}

    def fail(kind: str, operation, case, detail: str) -> None:
        found = failures.setdefault(f"{operation.label}: {kind}", [0, detail, case.as_curl_command()])
        found[0] += 1

    for result in schema.get_all_operations():
        operation = result.ok()
        documented = _documented(schema, operation)

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, known))
        def send(case):
            nonlocal sent
            sent += 1
            try:
                response = case.call(session=client, headers=headers)
            except Exception as exc:  # noqa: BLE001 - a view raised: the finding
                where = traceback.extract_tb(exc.__traceback__)[-1]
                fail(f"{type(exc).__name__} raised", operation, case,
                     f"{exc} (at {os.path.relpath(where.filename, ROOT)}:{where.lineno})")
                return
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                fail(f"{response.status_code}", operation, case, response.text[:200])
            elif response.status_code not in documented:
                fail(f"undocumented {response.status_code} (documented: {sorted(documented)})", operation, case,
                     response.text[:200])

        send()
    print(f"\nAPI fuzzing as {who or 'the public'}: {sent} requests, statuses {dict(sorted(statuses.items()))}")
    return sent, statuses, failures


def _report(failures: dict[str, list]) -> str:
    return "\n".join(f"- {what} ({count}×): {detail}\n    {curl[:400]}" for what, (count, detail, curl) in failures.items())


@pytest.fixture
def drafting_site(instance):
    sources = add_sources(instance)
    app = _app(instance)
    known = seed(app, sources, assembly=False)
    yield app, known
    _close(app)


@pytest.fixture
def assembly_site(assembly_template, tmp_path):  # noqa: F811 - the fixture imported above
    import shutil

    instance = tmp_path / "assembly"
    shutil.copytree(assembly_template, instance)
    sources = add_sources(instance)
    app = _app(instance)
    known = seed(app, sources, assembly=True)
    yield app, known
    _close(app)


# --- the tests ------------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_describes_every_api_route(drafting_site):
    app, _known = drafting_site
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.validate()  # against the OpenAPI 3.1 meta-schema
    operations = [result.ok() for result in schema.get_all_operations()]  # each one loads and resolves
    documented = {(o.method.upper(), o.path) for o in operations}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - documented == set(), "API routes missing from the OpenAPI document (so never fuzzed)"
    assert documented - routes == set(), "the OpenAPI document describes routes that do not exist"
    for operation in operations:
        assert operation.definition.raw.get("responses"), f"{operation.label} documents no responses"


@pytest.mark.parametrize("who", [None, "ana", "admin"], ids=["public", "committee", "admin"])
def test_fuzzing_the_api_finds_no_server_error_and_no_undocumented_status(drafting_site, who):
    app, known = drafting_site
    sent, statuses, failures = fuzz(app, who, known)
    assert not failures, f"{len(failures)} kinds of failure in {sent} requests:\n{_report(failures)}"
    assert sent >= EXAMPLES * 40
    assert statuses[200] + statuses[201] > 0, "nothing got through to a handler"


def test_fuzzing_the_api_in_the_assembly_stage_as_an_assembly_member(assembly_site):
    app, known = assembly_site
    sent, statuses, failures = fuzz(app, "asa", known)
    assert not failures, f"{len(failures)} kinds of failure in {sent} requests:\n{_report(failures)}"
    assert sent >= EXAMPLES * 40
    assert statuses[200] + statuses[201] > 0, "nothing got through to a handler"


# --- inputs that broke the API once: each gets a 4xx naming what is wrong, and changes nothing ---

_NEWLINE_FIELD = (b"--b\r\nContent-Disposition: form-data; name=\"a\nb\"\r\n\r\nx\r\n"
                  b"--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nArt\xc3\xadculo 1\r\n--b--\r\n")
_HUGE = "9" * 25  # beyond SQLite's (and PostgreSQL's) 64-bit integers

REGRESSIONS = [
    # editor/problems.py (fixed): JSON "\ud800" escapes (lone surrogates) reached the database.
    ("surrogate-comment", "ana", "POST", "/comments", {"json": {"unit": MOBILITY, "body": "\ud800"}}, 400, "\\ud800"),
    ("surrogate-link-note", "admin", "POST", "/links",
     {"json": {"unit": MOBILITY, "source_kind": "petition", "source_id": "{rivers}", "note": "x\udfff"}}, 400, "\\udfff"),
    ("surrogate-version-name", "admin", "POST", "/versions", {"json": {"name": "\ud83d"}}, 400, "\\ud83d"),
    ("surrogate-stage-note", "admin", "POST", "/stages/advance", {"json": {"note": "\udc00"}}, 400, "\\udc00"),
    # editor/provenance/links_api.py (fixed): "²" passes str.isdigit() but not int(); 5,000 digits neither.
    ("superscript-limit", "ana", "GET", "/sources?limit=%C2%B2", {}, 400, "limit"),
    ("long-limit", "ana", "GET", "/sources?limit=" + "1" * 5000, {}, 400, "limit"),
    ("superscript-suggestions-limit", "ana", "GET", "/units/art_2/suggestions?limit=%C2%B2", {}, 400, "limit"),
    ("superscript-source-id", "admin", "POST", "/links",
     {"json": {"unit": MOBILITY, "source_kind": "petition", "source_id": "²"}}, 400, "source_id"),
    # editor/stages/versions.py (for the lead): the same "²" as a version number.
    ("superscript-diff-version", None, "GET", "/diff?from=%C2%B2&to=live", {}, 404, "version"),
    ("superscript-akn-version", None, "GET", "/akn?version=v%C2%B2", {}, 404, "version"),
    # The application's int converter (for the lead): numbers beyond 64 bits reached the database.
    ("huge-comment-id", "ana", "GET", f"/comments/{_HUGE}", {}, 404, None),
    ("huge-amendment-number", None, "GET", f"/amendments/{_HUGE}", {}, 404, None),
    ("huge-link-id", "admin", "DELETE", f"/links/{_HUGE}", {}, 404, None),
    ("huge-source-id", None, "GET", f"/sources/petition/{_HUGE}/suggestions", {}, 404, None),
    ("huge-petition-id", "admin", "POST", f"/reviews/{_HUGE}/link/revoke", {}, 404, None),
    # Flask-WTF's CSRF check (for the lead): a form field named with a newline has no name at all.
    ("newline-form-field", "ana", "POST", "/api/v1/documents",
     {"data": _NEWLINE_FIELD, "content_type": "multipart/form-data; boundary=b"}, 400, None),
    ("newline-form-field-anonymous", None, "POST", "/login",
     {"data": _NEWLINE_FIELD, "content_type": "multipart/form-data; boundary=b"}, 400, None),
]


@pytest.mark.parametrize("who,method,path,request_kwargs,status,named",
                         [r[1:] for r in REGRESSIONS], ids=[r[0] for r in REGRESSIONS])
def test_inputs_that_broke_the_api_get_a_clear_refusal(drafting_site, who, method, path, request_kwargs, status, named):
    app, known = drafting_site
    client, token = signed_in(app, who)
    rivers = known["petition_id"][0]
    url = path if path.startswith("/api/") or path == "/login" else f"/api/v1/documents/{PUBLISHED}{path}"
    kwargs = dict(request_kwargs)
    if "json" in kwargs:
        kwargs["json"] = {k: (rivers if v == "{rivers}" else v) for k, v in kwargs["json"].items()}
    before = {p: client.get(f"/api/v1/documents/{PUBLISHED}{p}").get_json() for p in ("/versions", "/stages")}
    response = client.open(url, method=method, headers={"X-CSRFToken": token, "Accept-Language": "en"}, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if named is not None:
        assert named in response.get_json()["error"]
    after = {p: client.get(f"/api/v1/documents/{PUBLISHED}{p}").get_json() for p in ("/versions", "/stages")}
    assert after == before
    comments = client.get(f"/api/v1/documents/{PUBLISHED}/comments").get_json()
    assert comments is None or comments.get("open", 0) <= 1  # only the seeded comment, if the caller may see it


def test_the_openapi_document_declares_the_refusals_of_the_link_picker(drafting_site):
    app, _known = drafting_site
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/documents/{slug}/sources", "/api/v1/documents/{slug}/units/{key}/suggestions",
                 "/api/v1/documents/{slug}/sources/{kind}/{source_id}/suggestions"):
        operation = paths[path]["get"]
        assert "400" in operation["responses"], path
        assert "limit" in [p["name"] for p in operation["parameters"]], path


AMENDMENT_REGRESSIONS = [
    # editor/amendments/service.py (for the lead): co-sponsors "²" and numbers beyond 64 bits.
    ("superscript-cosponsor", ["²"]),
    ("huge-cosponsor", [10**30]),
    ("huge-cosponsor-text", [" " + _HUGE + " "]),
]


@pytest.mark.parametrize("cosponsors", [r[1] for r in AMENDMENT_REGRESSIONS], ids=[r[0] for r in AMENDMENT_REGRESSIONS])
def test_unknown_cosponsors_are_named_not_a_crash(assembly_site, cosponsors):
    app, _known = assembly_site
    client, token = signed_in(app, "asa")
    api = f"/api/v1/documents/{PUBLISHED}/amendments"
    response = client.post(api, json={"kind": "deletion", "units": [MOBILITY], "cosponsors": cosponsors},
                           headers={"X-CSRFToken": token, "Accept-Language": "en"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "not an assembly member" in response.get_json()["error"]
    assert client.get(api).get_json()["counts"]["draft"] == 1  # only the seeded one


def test_an_empty_document_is_refused_export_and_freezing_with_409_not_503(drafting_site):
    """Found while fuzzing: text with no recognisable unit imports as an empty document (or the
    committee deletes every article); its Akoma Ntoso export and freezing a version (also when
    closing a stage) then failed the schema and answered 503, as if the server were broken."""
    from lxml import etree

    from editor.documents import create_document

    app, _known = drafting_site
    admin, token = signed_in(app, "admin")
    headers = {"X-CSRFToken": token, "Accept-Language": "en"}
    # Importing such a text is refused now (nothing to import); the committee can still delete
    # every article of a document, which leaves the same empty body.
    refused = admin.post("/api/v1/documents", data={"text": "hola", "format": "text", "slug": "vacio"}, headers=headers)
    assert refused.status_code == 400 and "nothing was imported" in refused.get_json()["error"]
    with app.app_context():
        create_document(app.extensions["constituent"], "vacio", "Vacío", etree.Element("body"))
    assert admin.get("/api/v1/documents/vacio").get_json()["outline"] == []
    api = "/api/v1/documents/vacio"
    for method, path, body in (("GET", "/akn", None), ("POST", "/versions", {"name": "v1"}),
                               ("POST", "/stages/advance", {})):
        response = admin.open(api + path, method=method, json=body, headers=headers)
        assert response.status_code == 409, (path, response.get_data(as_text=True)[:300])
        assert "no titles, chapters or articles yet" in response.get_json()["error"]
    assert admin.get(api + "/versions").get_json()["versions"] == []
    assert admin.get(api + "/stages").get_json()["current"] == "drafting"
    assert admin.get(api + "/text").status_code == 200  # what can be exported still is


@pytest.mark.parametrize("field,value", [("justification", "por\x05que"), ("heading", "Movilidad\uffff"),
                                         ("text", "Toda persona\x00")], ids=["control", "non-character", "nul"])
def test_amendment_text_that_xml_cannot_carry_is_refused(assembly_site, field, value):
    """Found while fuzzing: a justification with a control character was stored, and the
    amendment's Akoma Ntoso document then failed (500) for everyone who opened it."""
    app, _known = assembly_site
    client, token = signed_in(app, "asa")
    api = f"/api/v1/documents/{PUBLISHED}/amendments"
    body = {"kind": "substitution", "units": [MOBILITY], "heading": "Movilidad", "text": "Toda persona.", field: value}
    response = client.post(api, json=body, headers={"X-CSRFToken": token, "Accept-Language": "en"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]
    patched = client.patch(f"{api}/1", json=body, headers={"X-CSRFToken": token, "Accept-Language": "en"})
    assert patched.status_code == 400, patched.get_data(as_text=True)[:300]
    assert client.get(f"{api}/1/akn").status_code == 200
