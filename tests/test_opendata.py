"""Open data on each document page: the clauses as CSV and the whole document as JSON (metadata,
stage, latest version, outline with text, provenance), petitions and survey themes as CSV.
They follow the live text, keep drafts invisible and carry no personal data."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import requests
from conftest import DRAFT, PUBLISHED

from editor.demo import DEMO_SLUG

pytest_plugins = ("demo_site",)  # its fixtures: demo_template, demo_server

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _csv(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    # UTF-8 with a byte-order mark, so that Excel shows "Artículo", not "ArtÃ­culo".
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _walk(outline, parent=None):
    for unit in outline:
        yield unit, parent
        yield from _walk(unit["children"], unit)


def _token(session: requests.Session, url: str) -> str:
    page = session.get(url + f"/d/{PUBLISHED}/edit", timeout=10).text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_the_clauses_csv_and_the_json_follow_a_live_edit(server, client_factory):
    from test_collab import _first_p_text

    base = f"{server.url}/d/{PUBLISHED}"
    outline = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}", timeout=10).json()["outline"]
    rows = _csv(requests.get(base + "/data.csv?download=1", timeout=10))
    # One row per unit, in document order, with its parent.
    expected = [(u["eId"], u["guid"], u["kind"], u["num"], u["heading"], p["eId"] if p else "")
                for u, p in _walk(outline)]
    assert [(r["eId"], r["guid"], r["kind"], r["num"], r["heading"], r["parent_eId"]) for r in rows] == expected
    assert rows[-1]["text"] == "Los animales son seres sintientes."
    assert rows[-1]["url"] == f"{base}/{rows[-1]['eId']}"

    # A committee member types in the live editor: the downloads say so at once.
    ana = client_factory("ana")
    ana.edit(lambda body: _first_p_text(ana, 1).insert(0, "En bicicleta o a pie: "))
    moved = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = _csv(requests.get(base + "/data.csv", timeout=10))
        moved = next(r for r in rows if r["heading"] == "Movilidad")
        if moved["text"].startswith("En bicicleta"):
            break
        time.sleep(0.2)
    assert moved["text"] == "En bicicleta o a pie: Toda persona tiene derecho a moverse."
    data = requests.get(base + "/data.json", timeout=10)
    assert data.headers["Content-Type"] == "application/json; charset=utf-8"
    assert data.headers["Content-Disposition"] == f'inline; filename="{PUBLISHED}.json"'
    units = {u["eId"]: u for u, _ in _walk(data.json()["units"])}
    assert units[moved["eId"]]["text"] == moved["text"]
    plain = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text
    assert moved["text"] in plain  # the same words as the plain-text export

    # The JSON names the stage and, once frozen, the latest version with its AKN.
    assert data.json()["stage"]["key"] == "drafting" and data.json()["latest_version"] is None
    session = server.login("ana")
    session.headers["X-CSRFToken"] = _token(session, server.url)
    frozen = session.post(f"{server.url}/api/v1/documents/{PUBLISHED}/versions", json={"name": "Primera lectura"},
                          timeout=30)
    assert frozen.status_code == 201, frozen.text
    latest = requests.get(base + "/data.json", timeout=10).json()["latest_version"]
    assert latest["number"] == 1 and latest["name"] == "Primera lectura"
    akn = requests.get(latest["akn"], timeout=10)
    assert akn.status_code == 200 and "En bicicleta o a pie" in akn.text


def test_downloads_are_linked_from_the_document_page_and_are_attachments(server):
    page = requests.get(f"{server.url}/d/{PUBLISHED}", headers={"Accept-Language": "en"}, timeout=10).text
    downloads = page[page.index('class="meta downloads"'):]
    downloads = downloads[:downloads.index("</p>")]
    for name, media in (("data.csv", "text/csv"), ("data.json", "application/json"),
                        ("petitions.csv", "text/csv"), ("themes.csv", "text/csv")):
        href = f"/d/{PUBLISHED}/{name}?download=1"
        assert f'href="{href}"' in downloads, name
        response = requests.get(server.url + href, timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == f"{media}; charset=utf-8"
        stem, ext = name.rsplit(".", 1)
        filename = f"{PUBLISHED}.json" if name == "data.json" else f"{PUBLISHED}-{'units' if stem == 'data' else stem}.csv"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "clauses as CSV" in downloads and "Akoma Ntoso 3.0" in downloads


def test_drafts_stay_invisible_to_the_public(server):
    for name in ("data.csv", "data.json", "petitions.csv", "themes.csv"):
        assert requests.get(f"{server.url}/d/{DRAFT}/{name}", timeout=10).status_code == 404
        assert requests.get(f"{server.url}/d/no-such-document/{name}", timeout=10).status_code == 404
    # The drafting committee reads its own draft's data.
    committee = server.login("ana")
    rows = _csv(committee.get(f"{server.url}/d/{DRAFT}/data.csv", timeout=10))
    assert any(r["heading"] == "Agua" for r in rows)


def test_petitions_and_themes_are_aggregates_with_their_clauses(demo_server):
    base = f"{demo_server.url}/d/{DEMO_SLUG}"
    data = requests.get(base + "/data.json", timeout=30).json()
    provenance = requests.get(f"{demo_server.url}/api/v1/documents/{DEMO_SLUG}/provenance.json", timeout=30).json()
    # The links are the provenance open data's, and every unit names the sources linked to it.
    assert data["provenance"]["links"] == provenance["links"]
    units = {u["eId"]: u for u, _ in _walk(data["units"])}
    for link in provenance["links"]:
        if link["unit_in_text"]:
            assert link["source_id"] in units[link["unit_eid"]][link["source_kind"] + "s"]
    assert data["provenance"]["synthetic_survey"] is True

    petitions = _csv(requests.get(base + "/petitions.csv", timeout=30))
    assert petitions and [int(p["signatures"]) for p in petitions] == sorted((int(p["signatures"]) for p in petitions),
                                                                             reverse=True)
    for row in petitions:  # the same figures as each petition's public page
        page = requests.get(row["url"], headers={"Accept-Language": "en"}, timeout=10).text
        assert f"{int(row['signatures']):,}" in page
        for eid in row["unit_eIds"].split():
            assert f'href="/d/{DEMO_SLUG}/{eid}"' in page
    big = petitions[0]
    assert "50000:" in big["thresholds_reached"] and int(big["signatures"]) >= 50_000

    themes = _csv(requests.get(base + "/themes.csv", timeout=30))
    water = next(t for t in themes if t["key"] == "agua")
    assert water["unit_eIds"] == "art_1" and water["synthetic_survey"] == "true"
    assert int(water["respondents"]) == next(t for t in data["provenance"]["themes"] if t["key"] == "agua")["respondents"]
    listed = requests.get(base + "/themes", headers={"Accept-Language": "en"}, timeout=10).text
    assert f">{int(water['respondents']):,}<" in listed


def test_no_personal_data_in_any_download(demo_server, demo_template):
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{demo_template / 'constituent.sqlite3'}")
    with engine.connect() as db:
        answers = [a for (a,) in db.execute(text("select text from answer")) if len(a) >= 25]
        receipts = [r for (r,) in db.execute(text("select receipt_hash from respondent"))]
        emails = [e for (e,) in db.execute(text("select email from user_account"))]
    engine.dispose()
    assert answers and receipts and emails
    base = f"{demo_server.url}/d/{DEMO_SLUG}"
    for name in ("data.csv", "data.json", "petitions.csv", "themes.csv"):
        body = requests.get(f"{base}/{name}", timeout=30).content.decode("utf-8-sig")
        assert not EMAIL.search(body), (name, EMAIL.search(body))
        assert not any(e in body for e in emails)
        assert not any(a in body for a in answers[:2000]), name
        assert not any(r in body for r in receipts), name
    json.loads(requests.get(f"{base}/data.json", timeout=30).text)  # well-formed
