"""Accounts and roles: sign-in throttling, signing out everywhere, invitations, and roles given
per document by an administrator (live connections follow them at once)."""

from __future__ import annotations

import html
import re

import requests
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED, login
from test_stages import MOBILITY, WATER, _append


def _form_token(session: requests.Session, url: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', session.get(url, timeout=10).text) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', session.get(url, timeout=10).text)
    return match.group(1)


def _try_login(server, email: str, password: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{server.url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return session.post(f"{server.url}/login", data={"email": email, "password": password, "csrf_token": token},
                        timeout=30, allow_redirects=False)


def test_repeated_wrong_passwords_lock_the_email_but_not_other_accounts(server):
    ana = ACCOUNTS["ana"][0]
    for _attempt in range(5):
        assert _try_login(server, ana, "not the password").status_code == 401
    locked = _try_login(server, ana, PASSWORD)  # even the right password waits now
    assert locked.status_code == 429
    assert "Try again in" in html.unescape(locked.text) or "Inténtelo de nuevo" in html.unescape(locked.text)
    assert _try_login(server, ACCOUNTS["bruno"][0], PASSWORD).status_code == 302  # bruno is not affected


def test_signing_out_everywhere_ends_every_session_and_live_connection(server, client_factory):
    phone = server.login("ana")
    laptop = server.login("ana")
    assert laptop.get(f"{server.url}/d/{DRAFT}/edit", timeout=10, allow_redirects=False).status_code == 200
    editor = client_factory("ana")  # a live editor in a third browser
    token = _form_token(phone, f"{server.url}/d/{PUBLISHED}")
    out = phone.post(f"{server.url}/logout/everywhere", data={"csrf_token": token}, timeout=10)
    assert out.status_code == 200
    gone = laptop.get(f"{server.url}/d/{DRAFT}/edit", timeout=10, allow_redirects=False)
    assert gone.status_code == 404  # signed out: a draft is invisible again
    assert 'name="csrf-token"' not in laptop.get(f"{server.url}/", timeout=10).text  # the page is the public's
    assert editor.wait_for(lambda c: not c.sio.connected, timeout=10)
    assert login(server.url, ACCOUNTS["ana"][0]).get(f"{server.url}/d/{DRAFT}/edit", timeout=10).status_code == 200


def test_an_administrator_gives_roles_per_document_and_open_editors_follow(server, client_factory):
    admin = server.login("admin")
    members = f"{server.url}/d/{PUBLISHED}/members"
    token = _form_token(admin, members)

    vera = client_factory("vera")  # a reader everywhere…
    ana = client_factory("ana")  # …and a committee member everywhere
    stages_seen: list[dict] = []
    vera.sio.on("stage", lambda data: stages_seen.append(data), namespace="/collab")
    ana_stages: list[dict] = []
    ana.sio.on("stage", lambda data: ana_stages.append(data), namespace="/collab")

    given = admin.post(members, data={"csrf_token": token, "email": ACCOUNTS["vera"][0], "role": "committee"},
                       timeout=10)
    assert given.status_code == 200 and "Vera" in given.text
    assert vera.wait_for(lambda c: stages_seen and stages_seen[-1]["role"] == "editor")
    _append(vera, WATER, " Y potable.")
    assert ana.wait_for(lambda c: "potable" in c.xml())
    # on another document vera is still a reader
    other = client_factory("vera", join=False)
    assert other.join(DRAFT)["role"] == "viewer"

    demoted = admin.post(members, data={"csrf_token": token, "email": ACCOUNTS["ana"][0], "role": "viewer"},
                         timeout=10)
    assert demoted.status_code == 200
    assert ana.wait_for(lambda c: ana_stages and ana_stages[-1]["role"] == "viewer")
    _append(ana, MOBILITY, " ANA-YA-NO-ESCRIBE")
    assert ana.wait_for(lambda c: any(e["code"] == "read-only" for e in c.errors))
    assert "ANA-YA-NO-ESCRIBE" not in server.login("bruno").get(
        f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text
    # the per-document role counts over HTTP too: ana may not freeze a version of this document now
    ana_http = server.login("ana")
    ana_http.headers["X-CSRFToken"] = _form_token(ana_http, f"{server.url}/d/{PUBLISHED}")
    assert ana_http.post(f"{server.url}/api/v1/documents/{PUBLISHED}/versions", json={"name": "x"},
                         timeout=10).status_code == 403
    assert ana_http.post(f"{server.url}/api/v1/documents/{DRAFT}/versions", json={"name": "x"},
                         timeout=30).status_code == 201

    # back to the account's own role
    admin.post(members, data={"csrf_token": token, "email": ACCOUNTS["ana"][0], "role": ""}, timeout=10)
    assert ana.wait_for(lambda c: ana_stages[-1]["role"] == "editor")

    # bad input changes nothing; only administrators reach the page
    bad = admin.post(members, data={"csrf_token": token, "email": ACCOUNTS["vera"][0], "role": "emperor"}, timeout=10)
    assert bad.status_code == 400
    page = admin.get(members, timeout=10).text
    assert "Vera" in page and page.count('<tr id="member-') == 1
    for who in ("ana", "bruno", "lucia", "vera"):
        assert server.login(who).get(members, timeout=10).status_code == 403


def test_an_invited_person_sets_a_password_once_through_their_link(server):
    admin = server.login("admin")
    accounts = f"{server.url}/admin/users"
    token = _form_token(admin, accounts)
    bad = admin.post(accounts, data={"csrf_token": token, "email": "nueva@example.org", "role": "emperor"}, timeout=10)
    assert bad.status_code == 400 and "nueva@example.org" not in bad.text.split("<table")[-1]

    invited = admin.post(accounts, data={"csrf_token": token, "email": "nueva@example.org", "name": "Nueva Asesora",
                                         "role": "legal"}, timeout=10)
    assert invited.status_code == 200 and "Nueva Asesora" in invited.text
    link = re.search(r"(http://127\.0\.0\.1:\d+/welcome/[A-Za-z0-9_.\-]+)", html.unescape(invited.text)).group(1)
    # no password yet: nobody can sign in as the account
    assert _try_login(server, "nueva@example.org", "anything-at-all").status_code == 401

    person = requests.Session()
    page = person.get(link, timeout=10)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    short = person.post(link, data={"csrf_token": form_token, "password": "corta", "confirm": "corta"}, timeout=10)
    assert short.status_code == 400
    done = person.post(link, data={"csrf_token": form_token, "password": "una clave larga", "confirm": "una clave larga"},
                       timeout=30)
    assert done.status_code == 200
    assert person.get(f"{server.url}/d/{DRAFT}/edit", timeout=10, allow_redirects=False).status_code == 200
    # the link worked once
    assert requests.get(link, timeout=10).status_code == 404
    assert _try_login(server, "nueva@example.org", "una clave larga").status_code == 302
    assert requests.get(f"{server.url}/welcome/forged.token", timeout=10).status_code == 404


def test_role_changes_and_deactivation_by_the_administrator(server, client_factory):
    admin = server.login("admin")
    accounts = f"{server.url}/admin/users"
    token = _form_token(admin, accounts)
    page = admin.get(accounts, timeout=10).text
    vera_id = re.search(r'id="user-(\d+)">\s*<td>Vera', page).group(1)
    changed = admin.post(f"{accounts}/{vera_id}", data={"csrf_token": token, "action": "role", "role": "legal"},
                         timeout=10)
    assert changed.status_code == 200
    assert server.login("vera").get(f"{server.url}/d/{PUBLISHED}/reviews", timeout=10).status_code == 403  # legal, not committee

    live = client_factory("vera")
    off = admin.post(f"{accounts}/{vera_id}", data={"csrf_token": token, "action": "deactivate"}, timeout=10)
    assert off.status_code == 200
    assert live.wait_for(lambda c: not c.sio.connected, timeout=10)
    assert _try_login(server, ACCOUNTS["vera"][0], PASSWORD).status_code == 401
    # an administrator cannot lock themselves out
    admin_id = re.search(r'id="user-(\d+)">\s*<td>Admin', page).group(1)
    assert admin.post(f"{accounts}/{admin_id}", data={"csrf_token": token, "action": "role", "role": "viewer"},
                      timeout=10).status_code == 409
