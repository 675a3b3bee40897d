"""Security headers on every kind of response (a page, the JSON API, an error page, a static file,
the standalone HTML export), the strict Content-Security-Policy, HSTS only behind HTTPS, and the
rule that only http(s) addresses become links."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from conftest import PUBLISHED, ROOT

from editor.security import web_url

TEMPLATES = ROOT / "web" / "templates"


def _app(instance, **config):
    from editor import create_app

    return create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", **config})


def _close(app) -> None:
    services = app.extensions["constituent"]
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


@pytest.fixture
def app(instance):
    application = _app(instance, SESSION_COOKIE_SECURE=True)
    yield application
    _close(application)


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            assert words[0] not in out, f"directive {words[0]} given twice"
            out[words[0]] = words[1:]
    return out


def _responses(client) -> dict[str, object]:
    return {
        "page": client.get(f"/d/{PUBLISHED}"),
        "json": client.get("/api/v1/documents"),
        "error page": client.get("/d/no-such-document"),
        "json error": client.get("/api/v1/documents/no-such-document"),
        "refused form": client.post("/login", data={"email": "ana@example.org"}),  # no CSRF token
        "static file": client.get("/static/site.css"),
        "editor bundle": client.get("/static/dist/editor.js"),
    }


def test_every_kind_of_response_carries_the_security_headers(app):
    responses = _responses(app.test_client())
    expected_status = {"page": 200, "json": 200, "error page": 404, "json error": 404, "refused form": 400,
                       "static file": 200, "editor bundle": 200}
    for kind, response in responses.items():
        assert response.status_code == expected_status[kind], kind
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Referrer-Policy"] == "same-origin", kind
        assert headers["X-Frame-Options"] == "DENY", kind
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", kind
        assert headers["Cross-Origin-Resource-Policy"] == "same-origin", kind
        features = dict(item.strip().split("=") for item in headers["Permissions-Policy"].split(","))
        for feature in ("camera", "microphone", "geolocation"):
            assert features[feature] == "()", (kind, feature)
        assert headers["Strict-Transport-Security"].startswith("max-age="), kind
        assert int(re.search(r"max-age=(\d+)", headers["Strict-Transport-Security"]).group(1)) >= 180 * 86400
        policy = _directives(headers["Content-Security-Policy"])
        assert policy["frame-ancestors"] == ["'none'"], kind
    assert responses["json"].mimetype == "application/json"
    assert responses["static file"].mimetype == "text/css"


def test_the_content_security_policy_allows_no_inline_script_or_style(app):
    policy = _directives(app.test_client().get(f"/d/{PUBLISHED}").headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    # Styles: our stylesheets, and one hashed <style> block (the HTML export's); no inline styles,
    # no style attributes: nothing weakens it for attributes or elements either.
    assert policy["style-src"][0] == "'self'"
    assert all(s.startswith("'sha256-") for s in policy["style-src"][1:])
    for directive, sources in policy.items():
        for forbidden in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:"):
            if directive == "img-src" and forbidden == "data:":
                continue
            assert forbidden not in sources, f"{directive} allows {forbidden}"
    assert "style-src-attr" not in policy and "style-src-elem" not in policy and "script-src-attr" not in policy


def test_the_html_export_keeps_its_stylesheet_under_the_policy(app):
    response = app.test_client().get(f"/api/v1/documents/{PUBLISHED}/html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    blocks = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(blocks) == 1
    digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
    policy = _directives(response.headers["Content-Security-Policy"])
    assert f"'sha256-{digest}'" in policy["style-src"], "the export's own <style> would be blocked"
    assert " style=" not in html


def test_no_strict_transport_security_over_plain_http(instance):
    application = _app(instance, SESSION_COOKIE_SECURE=False)
    try:
        response = application.test_client().get(f"/d/{PUBLISHED}")
        assert response.status_code == 200
        assert "Strict-Transport-Security" not in response.headers
        assert "Content-Security-Policy" in response.headers
    finally:
        _close(application)


def test_no_template_has_a_style_attribute_style_element_or_inline_script():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        # Jinja tags blanked out (keeping line numbers): `{% if only == 1 %}` is no attribute.
        text = re.sub(r"\{([%{#]).*?[%}#]\}", lambda m: re.sub(r"[^\n]", " ", m.group(0)),
                      path.read_text(encoding="utf-8"), flags=re.S)
        for pattern in (r"<[a-z][^<>]*\sstyle\s*=", r"<style\b", r"<script(?![^>]*\bsrc=)[^>]*>",
                        r"<[a-z][^<>]*\son[a-z]+\s*=", r"javascript:"):
            for match in re.finditer(pattern, text, re.I):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0).strip()}")
    assert not found, "refused by the Content-Security-Policy:\n" + "\n".join(found)


@pytest.mark.parametrize("value", [
    "https://www.change.org/p/agua-para-todas", "http://example.org", "HTTPS://Example.org/a?b=c#d",
    "https://example.org/ruta con espacio".replace(" ", "%20"),
])
def test_web_addresses_become_links(value):
    assert web_url(value) == value


@pytest.mark.parametrize("value", [
    None, "", "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "javascript://example.org/%0Aalert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
    "//evil.example/x", "/d/x", "https://", "https:///path", "https://ex ample.org", "https://example.org\nx",
    "https://user@evil.example", "https:\\\\evil.example", 42,
])
def test_anything_else_does_not(value):
    assert web_url(value) is None


def test_a_stored_javascript_address_is_shown_but_never_linked(app):
    from datetime import date

    from test_review import signed_in

    from editor.documents import get_document
    from editor.petitions.models import Petition
    from editor.provenance.models import CitizenEvent

    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        bad = Petition(document_id=document.id, key="p-js", title="Petición con dirección falsa",
                       url="javascript:alert(document.cookie)")
        good = Petition(document_id=document.id, key="p-ok", title="Petición con dirección", url="https://example.org/p")
        event = CitizenEvent(document_id=document.id, title="Foro", held_on=date(2016, 5, 1), conclusions="Agua.",
                             url="javascript:alert(1)")
        db.add_all([bad, good, event])
        db.commit()
        bad_id, good_id, event_id = bad.id, good.id, event.id
        db.remove()
    client = app.test_client()
    assert "javascript:" not in client.get(f"/d/{PUBLISHED}/petitions/{bad_id}").get_data(as_text=True)
    assert 'href="https://example.org/p"' in client.get(f"/d/{PUBLISHED}/petitions/{good_id}").get_data(as_text=True)
    assert "javascript:" not in client.get(f"/d/{PUBLISHED}/events/{event_id}").get_data(as_text=True)
    # The committee's page shows the stored value as text, to be corrected, not as a link.
    staff = signed_in(app, "ana").get(f"/d/{PUBLISHED}/petitions/{bad_id}/manage")
    assert staff.status_code == 200
    html = staff.get_data(as_text=True)
    assert "javascript:alert(document.cookie)" in html and "not a web address" in html
    assert not re.search(r'href="\s*javascript:', html, re.I)
