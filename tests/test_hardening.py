"""Hardening (issue 18): what an attacker of a civic platform would try first, in process.

Each test here failed on the code before its fix."""

from __future__ import annotations

import re

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
