"""Import and export through the product: the command line, the HTTP API, and live edits."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time

import requests
from click.testing import CliRunner
from conftest import DRAFT, PUBLISHED, ROOT, SHARED_DATA, require
from lxml import etree
from pycrdt import XmlElement, XmlText
from test_akn import _act

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
    assert "3 title, 11 article, 27 paragraph, 17 subparagraph, 3 attachment, 4 crossHeading" in result.output
    assert "not kept" not in result.output and "not imported" not in result.output  # schedules, cross-headings
    assert "the identity is taken from FRBRcountry, FRBRdate and FRBRnumber: /akn/gb-sct/act/2017-03-31/1" in result.output

    out = tmp_path / "budget.xml"
    result = runner.invoke(main, ["export", "budget-2017", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = etree.parse(str(out)).getroot()
    assert validate(root) == []
    # Its own identity, from its FRBR elements (its URI is legislation.gov.uk's, not the Convention's).
    assert root.find(".//a:FRBRWork/a:FRBRuri", NS).get("value") == "/akn/gb-sct/act/2017-03-31/1"
    assert root.find(".//a:FRBRWork/a:FRBRnumber", NS).get("value") == "1"
    # Its own eIds are kept as the units' wIds (section-1 became art_1), and read back as such.
    articles = root.findall(".//a:article", NS)
    assert [(a.get("eId"), a.get("wId")) for a in articles[:2]] == [("art_1", "section-1"), ("art_2", "section-2")]
    assert all(a.get("wId") for a in articles)
    copied = runner.invoke(main, ["import", str(out), "--slug", "budget-copy"])  # our export, imported again
    assert copied.exit_code == 0, copied.output
    again_out = tmp_path / "copy.xml"
    assert runner.invoke(main, ["export", "budget-copy", "-o", str(again_out)]).exit_code == 0
    assert [a.get("wId") for a in etree.parse(str(again_out)).getroot().findall(".//a:article", NS)][:2] == [
        "section-1", "section-2"]
    assert [e.findtext("a:heading", namespaces=NS) for e in root.iterfind(".//a:article", NS)][:2] == [
        "The Scottish Administration", "Direct-funded bodies"]

    text = runner.invoke(main, ["export", "budget-2017", "--format", "text"])
    assert text.exit_code == 0 and "Section 1\nThe Scottish Administration\n\n1. The Scottish" in text.output
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
    versioned = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn?version=v1",
                             headers={"Accept-Language": "en"}, timeout=10)
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

    created = ana.post(url, files=files, data={"csrf_token": token, "slug": "budget", "publish": "1"},
                       headers={"Accept-Language": "en"}, timeout=30)  # findings in English, as asserted below
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["slug"] == "budget" and body["type"] == "act" and body["language"] == "eng"
    assert created.headers["Location"].endswith("/api/v1/documents/budget")
    assert not any("not imported" in f["message"] for f in body["findings"])  # its schedules are kept
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


YEAR_ONLY = _act(
    '<section eId="sec_1"><num>1.</num><heading>Definitions</heading>'
    '<content><p>In this by-law, "City" means the City of Cape Town.</p></content></section>'
    '<section eId="sec_2"><num>2.</num><heading>Fees</heading>'
    "<content><p>The City may charge the fees in the tariff.</p></content></section>",
    preface="<preface><p><docTitle>Fees By-law, 2015</docTitle></p></preface>")


def test_an_act_whose_work_date_is_a_year_imports_exports_freezes_and_moves_on(app):
    """The Naming Convention lets a work's date be a year (/akn/za-cpt/act/by-law/2015/…): such
    an act used to import, and then fail every export and every version ("the work date '2015'
    is not a date"), so it could never change stage."""
    from test_fuzz_api import signed_in

    admin, token = signed_in(app, "admin")
    headers = {"X-CSRFToken": token, "Accept-Language": "en"}
    created = admin.post("/api/v1/documents", data={"text": YEAR_ONLY.decode(), "format": "akn", "slug": "fees"},
                         headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    exported = admin.get("/api/v1/documents/fees/akn")
    assert exported.status_code == 200, exported.get_data(as_text=True)[:300]
    root = etree.fromstring(exported.data)
    assert validate(root) == []
    assert root.find(".//a:FRBRWork/a:FRBRuri", NS).get("value") == "/akn/za-cpt/act/by-law/2015/fees"
    assert root.find(".//a:FRBRWork/a:FRBRdate", NS).get("date") == "2015-01-01"
    frozen = admin.post("/api/v1/documents/fees/versions", json={"name": "first"}, headers=headers)
    assert frozen.status_code == 201, frozen.get_data(as_text=True)[:300]
    advanced = admin.post("/api/v1/documents/fees/stages/advance", json={}, headers=headers)
    assert advanced.status_code == 201, advanced.get_data(as_text=True)[:300]
    assert admin.get("/api/v1/documents/fees/stages").get_json()["current"] != "drafting"


def _word_draft() -> bytes:
    """A draft as a committee circulates it, made with python-docx: a Title, headings, articles
    numbered by Word itself (a list whose level text is "Artículo %1", as drafting offices set
    up), numerales from Word's "List Number" style, emphasis and a table."""
    import io

    from docx import Document
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    draft = Document()
    numbering = draft.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        '<w:numFmt w:val="decimal"/><w:lvlText w:val="Artículo %1"/></w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def article(heading: str):
        paragraph = draft.add_paragraph(style="Heading 2")  # its text is Word's number alone
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="90"/></w:numPr>'))
        draft.add_paragraph(heading, style="Heading 3")

    draft.add_paragraph("Ley de Movilidad de la Ciudad", style="Title")
    draft.add_paragraph("TÍTULO PRIMERO", style="Heading 1")
    draft.add_paragraph("DISPOSICIONES GENERALES", style="Heading 1")
    article("Objeto")
    body = draft.add_paragraph("Esta ley regula la ")
    body.add_run("movilidad").bold = True
    body.add_run(" de las ")
    body.add_run("personas").italic = True
    body.add_run(".")
    article("Principios")
    draft.add_paragraph("Sin ").add_run("subrayado").underline = True
    draft.add_paragraph("La movilidad se rige por los principios siguientes:")
    for item in ("Seguridad de las personas usuarias;", "Accesibilidad universal;", "Sustentabilidad."):
        draft.add_paragraph(item, style="List Number")
    article("Tarifas")
    draft.add_paragraph("Las tarifas son las de la tabla siguiente:")
    table = draft.add_table(rows=3, cols=2)
    for row, cells in enumerate((("Servicio", "Tarifa"), ("Metro", "5 pesos"), ("Metrobús", "6 pesos"))):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    out = io.BytesIO()
    draft.save(out)
    return out.getvalue()


def test_a_word_draft_imports_with_its_automatic_numbering_and_says_what_it_could_not_keep(app):
    from test_fuzz_api import signed_in

    admin, token = signed_in(app, "admin")
    headers = {"X-CSRFToken": token, "Accept-Language": "en"}
    created = admin.post("/api/v1/documents", data={"file": (io.BytesIO(_word_draft()), "movilidad.docx"),
                                                    "slug": "movilidad"},
                         headers=headers, content_type="multipart/form-data")
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    report = created.get_json()
    outline = admin.get("/api/v1/documents/movilidad").get_json()
    assert outline["title"] == "Ley de Movilidad de la Ciudad"
    (title,) = outline["outline"]
    assert (title["label"], title["heading"]) == ("TÍTULO PRIMERO", "DISPOSICIONES GENERALES")
    assert [(a["label"], a["heading"]) for a in title["children"]] == [
        ("Artículo 1", "Objeto"), ("Artículo 2", "Principios"), ("Artículo 3", "Tarifas")]
    first = admin.get("/api/v1/documents/movilidad/units/art_1").get_json()
    assert first["text"] == "Esta ley regula la movilidad de las personas."
    assert [c["label"] for c in title["children"][1]["children"]] == ["1.", "2.", "3."]
    assert admin.get("/api/v1/documents/movilidad/units/art_2__subpara_3").get_json()["text"] == "Sustentabilidad."
    tariffs = admin.get("/api/v1/documents/movilidad/units/art_3").get_json()["text"]
    assert tariffs.endswith("Servicio | Tarifa\nMetro | 5 pesos\nMetrobús | 6 pesos")
    notes = " ".join(f["message"] for f in report["findings"])
    assert "table" not in notes  # the Word table is a table of Artículo 3, not rows of text
    exported = admin.get("/api/v1/documents/movilidad/akn").get_data(as_text=True)
    assert "<td>" in exported and "<p>Metrobús</p>" in exported and "<p>6 pesos</p>" in exported
    # Bold and italics are kept as marks; underlining, which the model lacks, is reported.
    assert "regula la <b>movilidad</b> de las <i>personas</i>." in exported
    assert "underlined words in 1 paragraph(s) are kept as plain text" in notes
    assert "bold, italic" not in notes


def test_a_file_that_is_not_a_word_document_is_refused_and_changes_nothing(app):
    import zipfile

    from test_fuzz_api import signed_in

    admin, token = signed_in(app, "admin")
    headers = {"X-CSRFToken": token, "Accept-Language": "en"}
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" * (80 * 1024 * 1024))
    for name, data, reason in (("ley.docx", b"Articulo 1. Texto", "not a zip archive"),
                               ("ley.docx", bomb.getvalue(), "unpacks to more than 64 MB")):
        refused = admin.post("/api/v1/documents", data={"file": (io.BytesIO(data), name), "slug": "ley-word"},
                             headers=headers, content_type="multipart/form-data")
        assert refused.status_code == 400 and reason in refused.get_json()["error"], refused.get_json()
    assert admin.get("/api/v1/documents/ley-word").status_code == 404
