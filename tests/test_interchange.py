"""Import and export through the product: the command line, the HTTP API, and live edits."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import requests
from click.testing import CliRunner
from conftest import DRAFT, PUBLISHED, ROOT, SHARED_DATA, require
from lxml import etree
from pycrdt import XmlElement, XmlText

from akoma_ntoso.akn import AKN_NS, validate
from editor.cli import main

NS = {"a": AKN_NS}
UK = SHARED_DATA / "akn" / "uk_asp-2017-1-enacted-data.akn.xml"


def _csrf(session: requests.Session, base: str) -> str:
    page = session.get(base + "/", timeout=10).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _akn(session, server, slug=PUBLISHED):
    response = session.get(f"{server.url}/api/v1/documents/{slug}/akn", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/akn+xml"
    return etree.fromstring(response.content)


def test_cli_imports_an_akn_file_and_exports_it_in_every_format(tmp_path, monkeypatch):
    require(UK.exists(), f"shared Akoma Ntoso samples not found at {UK.parent}")
    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(UK), "--slug", "budget-2017", "--publish"])
    assert result.exit_code == 0, result.output
    assert "imported 'budget-2017': Budget (Scotland) Act 2017" in result.output
    assert "3 title, 11 article, 27 paragraph, 17 subparagraph" in result.output
    assert "cross-heading 'Use of resources etc.' is not kept" in result.output

    out = tmp_path / "budget.xml"
    result = runner.invoke(main, ["export", "budget-2017", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = etree.parse(str(out)).getroot()
    assert validate(root) == []
    assert root.find(".//a:FRBRWork/a:FRBRnumber", NS).get("value") == "budget-2017"
    assert [e.findtext("a:heading", namespaces=NS) for e in root.iterfind(".//a:article", NS)][:2] == [
        "The Scottish Administration", "Direct-funded bodies"]

    text = runner.invoke(main, ["export", "budget-2017", "--format", "text"])
    assert text.exit_code == 0 and "Article 1\nThe Scottish Administration\n\n1. The Scottish" in text.output
    html = runner.invoke(main, ["export", "budget-2017", "--format", "html"])
    assert html.exit_code == 0 and '<section class="unit unit-article" id="art_1"' in html.output

    again = runner.invoke(main, ["import", str(UK), "--slug", "budget-2017"])
    assert again.exit_code != 0 and "already exists" in again.output
    refused = runner.invoke(main, ["import", str(SHARED_DATA / "akn" / "invalid_sameXmlId.xml")])
    assert refused.exit_code != 0 and "BAD_XMLID already defined" in refused.output
    missing = runner.invoke(main, ["export", "no-such-law"])
    assert missing.exit_code != 0 and "there is no document 'no-such-law'" in missing.output
    versioned = runner.invoke(main, ["export", "budget-2017", "--version", "v1"])
    assert versioned.exit_code != 0 and "has no version 1" in versioned.output


def test_cli_refuses_a_200_mb_file_without_reading_it(tmp_path):
    big = tmp_path / "huge.xml"
    with open(big, "wb") as stream:
        stream.truncate(200 * 1024 * 1024)
    # A fresh parent whose only child is the import: its RUSAGE_CHILDREN peak is that child's.
    probe = ("import resource, subprocess, sys; "
             "r = subprocess.run([sys.executable, '-m', 'editor', 'import', sys.argv[1]], capture_output=True, text=True); "
             "sys.stderr.write(r.stderr); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    result = subprocess.run([sys.executable, "-c", probe, str(big)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={"CONSTITUENT_INSTANCE": str(tmp_path / "i"), "SECRET_KEY": "x",
                                              "PATH": "/usr/bin:/bin"})
    peak_kb = int(result.stdout.split()[-1])
    assert result.returncode != 0
    assert "is 200.0 MB; imports are limited to 50 MB" in result.stderr
    assert peak_kb < 150 * 1024, f"peak RSS {peak_kb} kB while refusing a 200 MB file"


def test_edits_from_a_live_client_appear_in_the_next_akn_export(server, client_factory):
    reader = requests.Session()
    before = _akn(reader, server)
    water = before.find(".//a:article[@GUID='00000000-0000-4000-8000-000000000001']", NS)
    assert (water.get("eId"), water.get("wId")) == ("art_1", None)

    ana = client_factory("ana")
    new_guid = "22222222-2222-4222-8222-222222222222"
    ana.edit(lambda body: body.children[0].children.insert(1, XmlElement("article", {"guid": new_guid}, [
        XmlElement("heading", {}, [XmlText("Derecho a la ciudad")]),
        XmlElement("p", {}, [XmlText("Toda persona tiene derecho a la ciudad.")])])))

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = _akn(reader, server)
        if after.find(f".//a:article[@GUID='{new_guid}']", NS) is not None:
            break
        time.sleep(0.1)
    assert validate(after) == []
    created = after.find(f".//a:article[@GUID='{new_guid}']", NS)
    assert created.get("eId") == "art_1" and created.findtext("a:num", namespaces=NS) == "Artículo 1"
    assert created.findtext("a:content/a:p", namespaces=NS) == "Toda persona tiene derecho a la ciudad."
    # The article that was first is now second: new eId, same GUID, former eId kept as wId.
    water = after.find(".//a:article[@GUID='00000000-0000-4000-8000-000000000001']", NS)
    assert (water.get("eId"), water.get("wId")) == ("art_2", "art_1")
    subparagraph = water.find(".//a:subparagraph", NS)
    assert (subparagraph.get("eId"), subparagraph.get("wId")) == ("art_2__para_A__subpara_1",
                                                                   "art_1__para_A__subpara_1")
    eids = [e.get("eId") for e in after.iter() if e.get("eId")]
    assert len(eids) == len(set(eids))

    # The HTML and text exports show the same live text.
    html = reader.get(f"{server.url}/api/v1/documents/{PUBLISHED}/html", timeout=10).text
    assert 'id="art_1"' in html and "Derecho a la ciudad" in html
    text = reader.get(f"{server.url}/api/v1/documents/{PUBLISHED}/text", timeout=10).text
    assert "Artículo 1\nDerecho a la ciudad" in text and "Artículo 2\nAgua" in text


def test_drafts_are_not_exported_to_the_public(server):
    anonymous = requests.get(f"{server.url}/api/v1/documents/{DRAFT}/akn", timeout=10)
    assert anonymous.status_code == 404
    assert _akn(server.login("vera"), server, DRAFT).find(".//a:article", NS) is not None
    versioned = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn?version=v1", timeout=10)
    assert versioned.status_code == 404 and "has no version" in versioned.json()["error"]


def test_only_editors_import_over_http_and_bad_files_change_nothing(server):
    require(UK.exists(), f"shared Akoma Ntoso samples not found at {UK.parent}")
    url = f"{server.url}/api/v1/documents"
    files = {"file": ("budget.xml", UK.read_bytes(), "application/xml")}

    anonymous = requests.Session()
    assert anonymous.post(url, files=files, data={"csrf_token": _csrf(anonymous, server.url)},
                          timeout=10).status_code == 401
    vera = server.login("vera")
    refused = vera.post(url, files=files, data={"csrf_token": _csrf(vera, server.url)}, timeout=10)
    assert refused.status_code == 403

    ana = server.login("ana")
    assert ana.post(url, files=files, timeout=10).status_code == 400  # no CSRF token
    token = _csrf(ana, server.url)
    bad = ana.post(url, files={"file": ("x.xml", b"<akomaNtoso xmlns='" + AKN_NS.encode() + b"'><debate/></akomaNtoso>",
                                        "application/xml")}, data={"csrf_token": token}, timeout=10)
    assert bad.status_code == 400 and "not an act or a bill" in bad.json()["error"]
    count = len(ana.get(url, timeout=10).json()["documents"])

    created = ana.post(url, files=files, data={"csrf_token": token, "slug": "budget", "publish": "1"}, timeout=30)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["slug"] == "budget" and body["type"] == "act" and body["language"] == "eng"
    assert created.headers["Location"].endswith("/api/v1/documents/budget")
    assert any("cross-heading" in f["message"] for f in body["findings"])
    assert len(ana.get(url, timeout=10).json()["documents"]) == count + 1
    # Public now, and exported with the source's sections.
    root = _akn(requests.Session(), server, "budget")
    assert len(root.findall(".//a:article", NS)) == 11 and validate(root) == []


def test_the_reading_view_offers_the_downloads_and_they_work(server):
    page = requests.get(f"{server.url}/d/{PUBLISHED}", headers={"Accept-Language": "es"}, timeout=10).text
    links = re.findall(r'href="(/api/v1/documents/[^"]+)"', page)
    assert [link.split("?")[0].rsplit("/", 1)[1] for link in links] == ["akn", "html", "text"]
    assert "Descargar" in page
    for link in links:
        response = requests.get(server.url + link.replace("&amp;", "&"), timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
    akn = requests.get(server.url + links[0], timeout=10)
    assert validate(etree.fromstring(akn.content)) == []
