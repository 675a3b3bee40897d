"""Hardening (issue 18): what an attacker of a civic platform would try first, in process.

Each test here failed on the code before its fix."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import ACCOUNTS, PASSWORD, PUBLISHED


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.mark.parametrize("target", [
    "/%09/evil.example",  # a tab: browsers drop it, and "/\t/evil" becomes "//evil"
    "/%0a/evil.example",
    "/%5Cevil.example",  # a backslash: browsers read it as a slash
    "//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
])
def test_signing_in_never_sends_anyone_to_another_site(app, target):
    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post(f"/login?next={target}", data={
        "email": ACCOUNTS["ana"][0], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/", location


def test_signing_in_still_returns_to_the_page_asked_for(app):
    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post(f"/login?next=/d/{PUBLISHED}/edit", data={
        "email": ACCOUNTS["ana"][0], "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == f"/d/{PUBLISHED}/edit"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\\evil.example", "//evil.example"])
def test_the_language_switch_stays_on_the_site(app, target):
    client = app.test_client()
    token = _csrf(client.get("/").get_data(as_text=True))
    response = client.post("/lang/en", data={"next": target, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_public_csv_files_carry_no_spreadsheet_formulas(app):
    """Petition titles come from outside platforms: in the open-data CSV they are text, not formulas."""
    import csv
    import io

    from editor.documents import get_document
    from editor.petitions.models import Petition

    services = app.extensions["constituent"]
    with app.app_context():
        document = get_document(services.db, PUBLISHED)
        services.db.add(Petition(document_id=document.id, key="mal", title='=HYPERLINK("http://evil","x")',
                                 petitioners="@SUM(1)", proposal="+1+1"))
        services.db.commit()
        services.db.remove()
    body = app.test_client().get(f"/d/{PUBLISHED}/petitions.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    cells = [value for row in rows for value in row.values() if value]
    assert any("HYPERLINK" in cell for cell in cells), body[:500]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))], cells
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in cells and "'@SUM(1)" in cells


def _signed_in(app, who: str = "admin"):
    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("path", [
    "/survey?question=²", "/survey?question=٣", "/survey/answers?page=²", "/survey/answers?page=" + "9" * 5000,
    "/report?week=0001-W01", "/report.pdf?week=0001-W01",
])
def test_odd_numbers_in_addresses_are_refused_plainly(app, path):
    """Digits that are not ASCII ("²", "٣"), 5,000-digit numbers and weeks before dates can reach
    answer 400 with a message, not 500."""
    response = _signed_in(app).get(f"/d/{PUBLISHED}{path}")
    assert response.status_code == 400, (path, response.status_code)


@pytest.mark.parametrize("op", ["delete", "save"])
def test_a_threshold_form_with_an_odd_id_changes_nothing(app, op):
    from sqlalchemy import func, select

    from editor.petitions.models import Threshold

    client = _signed_in(app)
    page = client.get(f"/d/{PUBLISHED}/petitions/thresholds").get_data(as_text=True)
    services = app.extensions["constituent"]

    def count():
        with app.app_context():
            try:
                return services.db.scalar(select(func.count()).select_from(Threshold))
            finally:
                services.db.remove()

    before = count()
    response = client.post(f"/d/{PUBLISHED}/petitions/thresholds", data={
        "csrf_token": _csrf(page), "threshold_id": "²", "op": op, "signatures": "7000", "action": "other",
        "due_days": "30", "members": "0"})
    assert response.status_code == 400
    assert "No existe ese umbral" in response.get_data(as_text=True)
    assert count() == before


def test_acknowledging_another_documents_link_answers_as_if_it_did_not_exist(app):
    """A link of the draft, acknowledged through the published document's address: 404, as for a
    link that does not exist (a 409 told that the id exists elsewhere)."""
    from conftest import DRAFT

    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.provenance.links import create_link
    from editor.provenance.models import CitizenEvent

    services = app.extensions["constituent"]
    with app.app_context():
        draft = get_document(services.db, DRAFT)
        event = CitizenEvent(document_id=draft.id, title="Foro", place="Coyoacán", held_on=date(2016, 6, 1))
        services.db.add(event)
        services.db.flush()
        link, _ = create_link(services.db, draft, read_live(services, DRAFT).units,
                              "00000000-0000-4000-8000-000000000004", "event", event.id)
        services.db.commit()
        elsewhere = link.id
        services.db.remove()
    client = _signed_in(app)
    token = re.search(r'data-csrf="([^"]+)"', client.get(f"/d/{PUBLISHED}/edit").get_data(as_text=True)).group(1)
    missing = client.post(f"/api/v1/documents/{PUBLISHED}/links/999999/acknowledge", headers={"X-CSRFToken": token})
    other = client.post(f"/api/v1/documents/{PUBLISHED}/links/{elsewhere}/acknowledge", headers={"X-CSRFToken": token})
    assert missing.status_code == other.status_code == 404
    assert other.get_json()["error"] == missing.get_json()["error"].replace("999999", str(elsewhere))


def test_search_is_rate_limited_per_address(instance):
    """Each search reads the index (and may reindex a changed text): an address gets
    SEARCH_RATE_LIMIT of them, then 429, on the page and the API alike."""
    from conftest import close_app

    from editor import create_app

    limited = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "SEARCH_RATE_LIMIT": "3 per minute"})
    try:
        client = limited.test_client()
        answers = [client.get("/search?q=agua").status_code for _ in range(3)]
        assert answers == [200, 200, 200]
        assert client.get("/search?q=agua").status_code == 429
        api = [client.get("/api/v1/search?q=agua").status_code for _ in range(4)]
        assert api[:3] == [200, 200, 200] and api[3] == 429
        # Another address still searches.
        assert client.get("/search?q=agua", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200
    finally:
        close_app(limited)


def test_json_the_application_refuses_gets_400_on_the_review_and_committee_apis(instance):
    """Lone surrogates, nesting a thousand deep and 5,000-digit numbers: 400 with the reason,
    on the petitioner's review endpoint (a lone surrogate there was a 500 whose log line held the
    secret link) and on the committee's APIs; nothing is stored."""
    from test_review import anonymous, close, issue, prepare, review_form, signed_in

    from editor import create_app
    from editor.review.models import PetitionReview

    ids = prepare(instance)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "REVIEW_RATE_LIMIT": "10000 per minute"})
    try:
        _, path = issue(signed_in(app, "ana"), ids["water"])
        petitioner = anonymous(app)
        headers = {"X-CSRFToken": review_form(petitioner, path)["csrf_token"]}
        bodies = {
            "surrogate": '{"petition": %d, "decision": "approve", "comment": "\\ud800", "seen": "x"}' % ids["water"],
            "deep": "[" * 1000 + "]" * 1000,
            "huge": '{"petition": %s, "decision": "approve"}' % ("9" * 5000),
        }
        for name, body in bodies.items():
            response = petitioner.post(f"/api/v1{path}", data=body, content_type="application/json", headers=headers)
            assert response.status_code == 400, (name, response.status_code)
            assert "CSRF" not in response.get_json()["error"]
        assert "\\ud800" in petitioner.post(f"/api/v1{path}", data=bodies["surrogate"], content_type="application/json",
                                            headers=headers).get_json()["error"]
        committee = signed_in(app, "ana")
        token_page = committee.get(f"/d/{PUBLISHED}/edit").get_data(as_text=True)
        csrf = re.search(r'data-csrf="([^"]+)"', token_page).group(1)
        for name, body in bodies.items():
            response = committee.post(f"/api/v1/documents/{PUBLISHED}/comments", data=body,
                                      content_type="application/json", headers={"X-CSRFToken": csrf})
            assert response.status_code == 400, (name, response.status_code)
        services = app.extensions["constituent"]
        with app.app_context():
            assert services.db.query(PetitionReview).count() == 0
            services.db.remove()
    finally:
        close(app)


@pytest.mark.parametrize("body, reason", [
    (b"[" * 100_000 + b"]" * 100_000, "levels deep"),
    (b'[{"title": "Agua", "signatures": ' + b"9" * 5000 + b"}]", "cannot be read"),
    (b'[{"title": "\\udc00"}]', "surrogate"),
])
def test_importing_petitions_refuses_hostile_json_with_a_message(app, body, reason):
    from editor.documents import get_document
    from editor.petitions.service import PetitionImportError, import_petitions

    services = app.extensions["constituent"]
    with app.app_context():
        document = get_document(services.db, PUBLISHED)
        with pytest.raises(PetitionImportError, match=reason):
            import_petitions(services.db, document, body, "json")
        services.db.rollback()
        services.db.remove()


def _law(articles: int, words: int) -> str:
    body = " ".join(["derecho"] * words)
    return "Ley de prueba\n\n" + "\n\n".join(f"Artículo {n}. Toda persona tiene {body}." for n in range(1, articles + 1))


def test_a_long_law_pasted_into_the_import_page_is_imported_like_an_upload(app):
    """Pasted text arrives as a form field: over 500 KB it got a bare 413 page, while the same
    text as a file was accepted up to 16 MB."""
    text = _law(articles=400, words=200)  # about 650 KB
    assert len(text.encode()) > 600_000
    client = _signed_in(app)
    page = client.get("/import").get_data(as_text=True)
    response = client.post("/import", data={"csrf_token": _csrf(page), "text": text, "format": "text",
                                            "title": "Ley larga", "slug": "ley-larga", "doctype": "bill"},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.status_code  # the import page's "created" answer
    assert _signed_in(app).get("/d/ley-larga").status_code == 200


@pytest.mark.parametrize("title", ["Ley \u202egpj.exe", "Ley \u2066aislada\u2069", "\u200fLey"])
def test_a_title_with_direction_changing_characters_is_refused_and_nothing_is_created(app, title):
    client = _signed_in(app)
    page = client.get("/import").get_data(as_text=True)
    response = client.post("/import", data={"csrf_token": _csrf(page), "text": _law(2, 3), "format": "text",
                                            "title": title, "slug": "ley-rtl", "doctype": "bill"},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "U+" in response.get_data(as_text=True)
    assert client.get("/d/ley-rtl").status_code == 404


def _sign_in_from(client, address: str, email: str, password: str):
    token = _csrf(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_passwords_from_one_address_do_not_lock_the_account_out_elsewhere(app):
    """Five wrong passwords for the administrator from one address lock that address out of that
    account, not the administrator: the right password from another address still signs in. The
    administrator sees the lock and lifts it."""
    admin = ACCOUNTS["admin"][0]
    attacker = app.test_client()
    for _ in range(5):
        assert _sign_in_from(attacker, "198.51.100.7", admin, "guess").status_code == 401
    assert _sign_in_from(attacker, "198.51.100.7", admin, PASSWORD).status_code == 429  # that address waits
    owner = app.test_client()
    assert _sign_in_from(owner, "203.0.113.9", admin, PASSWORD).status_code == 302  # the owner does not
    page = owner.get("/admin/users").get_data(as_text=True)
    assert "198.51.100.7" in page and ACCOUNTS["admin"][0] in page
    lifted = owner.post("/admin/sign-in-locks", data={"csrf_token": _csrf(page), "email": admin, "address": "198.51.100.7"})
    assert lifted.status_code == 302
    assert _sign_in_from(app.test_client(), "198.51.100.7", admin, PASSWORD).status_code == 302
    assert "Ninguna dirección está bloqueada ahora." in owner.get("/admin/users").get_data(as_text=True)


def test_colleagues_behind_an_attacked_address_still_sign_in_from_browsers_they_used_before(instance):
    """An attacker behind the committee's NAT exhausts the address's limit of failed sign-ins:
    a new browser there waits, but a colleague's browser that signed in before (it carries a
    device cookie for that account) signs in at once. Failures with a device cookie lock that
    device only, and "sign out everywhere" ends the cookie's privilege."""
    from conftest import close_app

    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "LOGIN_RATE_LIMIT": "8 per hour"})
    office = "198.51.100.20"
    try:
        ana = app.test_client()
        assert _sign_in_from(ana, office, ACCOUNTS["ana"][0], PASSWORD).status_code == 302
        cookie = ana.get_cookie("constituent_device", path="/login")
        assert cookie is not None and cookie.http_only and cookie.max_age and cookie.max_age > 300 * 86400
        ana.post("/logout", data={"csrf_token": _csrf(ana.get("/account").get_data(as_text=True))})

        attacker = app.test_client()
        for n in range(8):
            assert _sign_in_from(attacker, office, f"nadie{n}@example.org", "guess").status_code == 401
        assert _sign_in_from(attacker, office, ACCOUNTS["bruno"][0], PASSWORD).status_code == 429
        newcomer = app.test_client()  # a colleague on a browser never used here waits…
        assert _sign_in_from(newcomer, office, ACCOUNTS["bruno"][0], PASSWORD).status_code == 429
        assert _sign_in_from(ana, office, ACCOUNTS["ana"][0], PASSWORD).status_code == 302  # …ana does not

        # The cookie is ana's: with another account's email it is worth nothing.
        assert _sign_in_from(ana, office, ACCOUNTS["bruno"][0], PASSWORD).status_code == 429

        # A stolen device cookie used to guess locks that device, not ana's other browsers.
        thief = app.test_client()
        thief.set_cookie("constituent_device", cookie.value, path="/login")
        for _ in range(5):
            assert _sign_in_from(thief, "203.0.113.66", ACCOUNTS["ana"][0], "guess").status_code == 401
        assert _sign_in_from(thief, "203.0.113.66", ACCOUNTS["ana"][0], PASSWORD).status_code == 429
        laptop = app.test_client()
        assert _sign_in_from(laptop, "192.0.2.77", ACCOUNTS["ana"][0], PASSWORD).status_code == 302
        admin_page = _signed_in_admin(app).get("/admin/users").get_data(as_text=True)
        assert "un navegador que ya inició sesión en esta cuenta" in admin_page

        # Signing out everywhere (a lost laptop) ends what every device cookie of the account is worth.
        laptop.post("/logout/everywhere", data={"csrf_token": _csrf(laptop.get("/account").get_data(as_text=True))})
        assert _sign_in_from(ana, office, ACCOUNTS["ana"][0], PASSWORD).status_code == 429
    finally:
        close_app(app)


def _signed_in_admin(app):
    admin = app.test_client()
    assert _sign_in_from(admin, "203.0.113.1", ACCOUNTS["admin"][0], PASSWORD).status_code == 302
    return admin


def test_guessing_spread_over_many_addresses_only_slows_the_account_by_seconds(app):
    import time

    ana = ACCOUNTS["ana"][0]
    client = app.test_client()
    for n in range(20):  # four failures from each of five addresses: none of them is locked
        assert _sign_in_from(client, f"192.0.2.{n // 4 + 1}", ana, "guess").status_code == 401
    slowed = _sign_in_from(app.test_client(), "203.0.113.50", ana, PASSWORD)
    assert slowed.status_code == 429 and "segundos" in slowed.get_data(as_text=True)
    time.sleep(1.2)
    assert _sign_in_from(app.test_client(), "203.0.113.50", ana, PASSWORD).status_code == 302


def test_the_document_pdf_is_rendered_once_per_state_and_renders_are_rate_limited(instance):
    """Anonymous readers get the PDF from the cache after the first render (the same bytes, not
    rendered again); an edit makes the next request render again; only renders count against the address's
    EXPORT_RATE_LIMIT."""
    from conftest import close_app

    from editor import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "EXPORT_RATE_LIMIT": "2 per minute"})
    try:
        reader = app.test_client()
        first = reader.get(f"/d/{PUBLISHED}/document.pdf")
        assert first.status_code == 200 and first.headers["X-Constituent-Cache"] == "miss"
        assert first.data.startswith(b"%PDF")
        for _ in range(4):  # cached copies: served from the cache, identical, and not counted
            again = reader.get(f"/d/{PUBLISHED}/document.pdf")
            assert again.status_code == 200 and again.headers["X-Constituent-Cache"] == "hit"
            assert again.data == first.data
            assert again.headers["Content-Disposition"] == f'inline; filename="{PUBLISHED}.pdf"'
        services = app.extensions["constituent"]

        def edit(doc):
            from pycrdt import XmlFragment
            from test_stages import text_node_in

            text = text_node_in(doc.get("body", type=XmlFragment), "00000000-0000-4000-8000-000000000003")
            with doc.transaction(origin="someone"):
                text.insert(len(str(text)), " Y potable.")

        services.rooms.call(PUBLISHED, edit)
        changed = reader.get(f"/d/{PUBLISHED}/document.pdf")
        assert changed.status_code == 200 and changed.headers["X-Constituent-Cache"] == "miss"
        assert changed.data != first.data
        # Two renders so far: a third one (another variant, not cached yet) waits.
        assert reader.get(f"/d/{PUBLISHED}/document.pdf?download=1").status_code == 429
        assert reader.get(f"/d/{PUBLISHED}/document.pdf").status_code == 429  # the address waits for everything
    finally:
        close_app(app)


def test_csrf_refusals_on_the_json_api_and_the_review_pages_are_audited(instance):
    """docs/security.md says every refusal is logged: a request without a valid CSRF token to a
    JSON endpoint, or to a petitioner's review page, is refused and recorded as a denial."""
    from test_review import anonymous, close, issue, prepare, signed_in

    from editor import audit, create_app

    ids = prepare(instance)
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "REVIEW_RATE_LIMIT": "10000 per minute"})
    try:
        _, path = issue(signed_in(app, "ana"), ids["water"])
        engine = app.extensions["constituent"].engine

        def denials() -> list[str]:
            return [row.action for row in audit.events(engine, limit=1000) if row.action.startswith("denied.")]

        before = denials()
        committee = signed_in(app, "ana")
        assert committee.post(f"/api/v1/documents/{PUBLISHED}/comments", json={"unit": "x", "body": "y"}).status_code == 400
        assert anonymous(app).post(path, data={"decision": "approve"}).status_code == 400
        assert anonymous(app).post(f"/api/v1{path}", json={"decision": "approve"}).status_code == 400
        new = denials()[: len(denials()) - len(before)]
        assert "denied.comments_api.create_comment" in new or any(a.startswith("denied.comments_api.") for a in new), new
        assert sum(a.startswith("denied.review.") for a in new) == 2, new
    finally:
        close(app)


def test_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(app):
    """A plain sign-out, not only "sign out everywhere", ends the session: a copy of its cookie
    (taken from a shared computer, say) signs nobody in afterwards. Other sessions of the account
    go on."""
    laptop = _signed_in(app, "ana")
    phone = _signed_in(app, "ana")
    cookie = laptop.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/account").status_code == 200  # the copy works while the session lasts
    token = _csrf(laptop.get("/account").get_data(as_text=True))
    assert laptop.post("/logout", data={"csrf_token": token}).status_code == 302
    after = thief.get("/account")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    assert phone.get("/account").status_code == 200  # the phone's session is another one
