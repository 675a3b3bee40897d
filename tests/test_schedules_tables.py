"""Schedules (annexes), cross-headings and tables are part of the text: imported, edited live,
exported to valid Akoma Ntoso and imported again with the same units (issue 19)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections import Counter

import pytest
import requests
from conftest import ROOT, SHARED_DATA, require
from lxml import etree
from playwright.sync_api import expect

from akoma_ntoso import DocumentStructureError, Table, iter_units, new_guid, read_units
from akoma_ntoso.akn import AKN_NS, Expression, Work, export_akn, import_akn, to_bytes, validate
from akoma_ntoso.render import render_document, render_text
from crdt.xmltree import fragment_to_etree

NS = {"a": AKN_NS}
UK = SHARED_DATA / "akn" / "uk_asp-2017-1-enacted-data.akn.xml"
URI = "/akn/mx-cmx/act/2024-01-15/tarifas"


def _identification(this: str) -> str:
    dates = '<FRBRdate date="2024-01-15" name="Generation"/><FRBRauthor href="#congreso"/>'
    return (f'<identification source="#congreso"><FRBRWork><FRBRthis value="{URI}/!{this}"/><FRBRuri value="{URI}"/>'
            f'{dates}<FRBRcountry value="mx-cmx"/></FRBRWork><FRBRExpression><FRBRthis value="{URI}/spa@/!{this}"/>'
            f'<FRBRuri value="{URI}/spa@"/>{dates}<FRBRlanguage language="spa"/></FRBRExpression><FRBRManifestation>'
            f'<FRBRthis value="{URI}/spa@/!{this}.xml"/><FRBRuri value="{URI}/spa@.akn"/>{dates}</FRBRManifestation>'
            "</identification>")


#: A Spanish act as another system writes it: a cross-heading, an article holding a table (with
#: header cells), and an annex (an <attachment> whose document holds text and numbered paragraphs).
ACT = f"""<akomaNtoso xmlns="{AKN_NS}"><act name="act"><meta>{_identification("main")}</meta>
<preface><p><docTitle>Ley de Tarifas del Transporte</docTitle></p></preface>
<body>
  <hcontainer eId="hcontainer_1" name="crossheading"><heading>Disposiciones generales</heading></hcontainer>
  <article eId="art_1"><num>Artículo 1</num><heading>Objeto</heading>
    <content><p>Esta ley fija las tarifas del transporte público.</p></content></article>
  <article eId="art_2"><num>Artículo 2</num><heading>Tarifas</heading>
    <content><p>Las tarifas son las de la tabla siguiente:</p>
      <table eId="art_2__table_1"><tr><th><p>Servicio</p></th><th><p>Tarifa</p></th></tr>
        <tr><td><p>Metro</p></td><td><p>5 pesos</p></td></tr>
        <tr><td><p>Metrobús</p></td><td><p>6 pesos</p></td></tr></table>
      <p>Las tarifas se revisan cada año.</p></content></article>
</body>
<attachments><attachment eId="att_1"><num>ANEXO 1</num><heading>Zonas de cobro</heading>
  <doc name="schedule"><meta>{_identification("att_1")}</meta><mainBody>
    <p>Las zonas de cobro son las siguientes.</p>
    <paragraph eId="att_1__para_1"><num>1.</num><content><p>Zona centro.</p></content></paragraph>
    <paragraph eId="att_1__para_2"><num>2.</num><content><p>Zona periférica.</p></content></paragraph>
  </mainBody></doc></attachment></attachments>
</act></akomaNtoso>""".encode()


def _words(root: etree._Element) -> Counter:
    """The words of the body and the schedules, numbers (`<num>`) and metadata left out."""
    words: Counter = Counter()

    def add(text: str | None) -> None:
        words.update(w.lower() for w in re.findall(r"\w+", text or ""))

    def walk(element: etree._Element) -> None:
        if isinstance(element.tag, str) and etree.QName(element).localname not in ("num", "meta"):
            add(element.text)
            for child in element:
                walk(child)
        add(element.tail)

    for part in root.iter(f"{{{AKN_NS}}}body", f"{{{AKN_NS}}}attachments"):
        for child in part:
            walk(child)
    return words


def _units(units):
    return [(u.guid, u.kind, u.label, u.eid, u.heading, u.text, u.blocks) for u in iter_units(units)]


def test_an_act_with_a_schedule_and_a_table_keeps_both_through_import_edit_export_and_import(server, client_factory):
    ana = server.login("ana")
    token = re.search(r'name="csrf_token" value="([^"]+)"', ana.get(server.url + "/", timeout=10).text).group(1)
    created = ana.post(f"{server.url}/api/v1/documents", files={"file": ("tarifas.xml", ACT, "application/xml")},
                       data={"csrf_token": token, "slug": "tarifas", "publish": "1"},
                       headers={"Accept-Language": "en"}, timeout=30)  # findings in English, as asserted below
    assert created.status_code == 201, created.text
    # Nothing of it is reported lost: not the table, not the cross-heading, not the annex.
    assert not [f for f in created.json()["findings"] if re.search("table|cross-heading|attachment|not imported",
                                                                    f["message"])]

    client = client_factory("ana", slug="tarifas")
    assert client.wait_for(lambda c: "<attachment" in c.xml())
    live = fragment_to_etree(client.body)
    assert [child.tag for child in live] == ["crossHeading", "article", "article", "attachment"]
    assert live.find("article[2]/table/tr[2]/td[2]").text == "5 pesos"

    def edit(body):
        # A person edits a table cell and a paragraph of the annex, as in the browser.
        article, annex = body.children[2], body.children[3]
        table = next(c for c in article.children if getattr(c, "tag", None) == "table")
        cell = list(list(table.children)[1].children)[1].children[0]
        del cell[0:1]
        cell.insert(0, "7")
        paragraph = next(c for c in annex.children if getattr(c, "tag", None) == "paragraph")
        text = next(c for c in paragraph.children if getattr(c, "tag", None) == "p").children[0]
        text.insert(len(str(text)) - 1, " histórico")

    client.edit(edit)
    reader = requests.Session()
    deadline = time.monotonic() + 10
    exported = b""
    while time.monotonic() < deadline and "histórico" not in exported.decode():
        exported = reader.get(f"{server.url}/api/v1/documents/tarifas/akn", timeout=10).content
        time.sleep(0.1)
    root = etree.fromstring(exported)
    assert validate(root) == []  # the strict OASIS schema
    table = root.find(".//a:article/a:content/a:table", NS)
    assert [[cell.findtext("a:p", namespaces=NS) for cell in row] for row in table] == [
        ["Servicio", "Tarifa"], ["Metro", "7 pesos"], ["Metrobús", "6 pesos"]]
    annex = root.find("a:act/a:attachments/a:attachment", NS)
    assert (annex.get("eId"), annex.findtext("a:num", namespaces=NS), annex.findtext("a:heading", namespaces=NS)) == (
        "att_1", "ANEXO 1", "Zonas de cobro")
    main_body = annex.find("a:doc/a:mainBody", NS)
    assert main_body.findtext("a:p", namespaces=NS) == "Las zonas de cobro son las siguientes."
    assert [p.findtext("a:content/a:p", namespaces=NS) for p in main_body.findall("a:paragraph", NS)] == [
        "Zona centro histórico.", "Zona periférica."]
    crossheading = root.find(".//a:body/a:hcontainer[@name='crossheading']", NS)
    assert crossheading.findtext("a:heading", namespaces=NS) == "Disposiciones generales"

    # Imported again, the file gives the same units as the live document: GUIDs, numbers, text, tables.
    with client.lock:
        units = read_units(fragment_to_etree(client.body), client.meta.to_py())
    again = import_akn(exported).built.units
    assert _units(again) == _units(units)
    annex_unit = units[-1]
    assert (annex_unit.kind, annex_unit.label, [c.label for c in annex_unit.children]) == (
        "attachment", "ANEXO 1", ["1.", "2."])  # numbered as the source numbers them
    assert units[2].blocks[1] == Table((("Servicio", "Tarifa"), ("Metro", "7 pesos"), ("Metrobús", "6 pesos")))

    # The reading view and the HTML and text downloads show the table, the heading and the annex.
    page = reader.get(f"{server.url}/d/tarifas", timeout=10)
    html = reader.get(f"{server.url}/api/v1/documents/tarifas/html", timeout=10).text
    for shown in (page.text, html):
        assert '<table class="unit-table">' in shown and "<td>7 pesos</td>" in shown
        assert "Disposiciones generales" in shown and "ANEXO 1" in shown and "Zona centro histórico." in shown
    text = reader.get(f"{server.url}/api/v1/documents/tarifas/text", timeout=10).text
    assert "Servicio | Tarifa\n\nMetro | 7 pesos" in text
    assert "ANEXO 1\nZonas de cobro" in text and "Disposiciones generales\n\nArtículo 1" in text

    # A frozen version keeps the table as a table and the annex as an annex.
    ana.headers["X-CSRFToken"] = token
    frozen = ana.post(f"{server.url}/api/v1/documents/tarifas/versions", json={"name": "Con anexo"}, timeout=30)
    assert frozen.status_code == 201, frozen.text
    version = reader.get(f"{server.url}/api/v1/documents/tarifas/akn", params={"version": frozen.json()["number"]},
                         timeout=10).content
    assert validate(etree.fromstring(version)) == []
    assert _units(import_akn(version).built.units) == _units(units)


def test_the_uk_act_keeps_its_schedules_and_cross_headings():
    require(UK.exists(), f"shared Akoma Ntoso samples not found at {UK.parent}")
    source = UK.read_bytes()
    imported = import_akn(source)
    units = imported.built.units
    schedules = [u for u in units if u.kind == "attachment"]
    assert [s.label for s in schedules] == ["SCHEDULE 1", "SCHEDULE 2", "SCHEDULE 3"]  # the act's own word
    headings = ("THE SCOTTISH ADMINISTRATION", "DIRECT-FUNDED BODIES", "BORROWING BY STATUTORY BODIES")
    assert all(s.heading.startswith(h) for s, h in zip(schedules, headings, strict=True))  # (a note may follow)
    # Each schedule is its table: 22 rows in the first (two header rows, 19 purposes, the total).
    first = schedules[0].blocks
    assert len(first) == 1 and isinstance(first[0], Table) and len(first[0].rows) == 22
    assert first[0].rows[2][1:] == ("272,500,000", "45,000,000")
    headings = [u.heading for u in iter_units(units) if u.kind == "crossHeading"]
    assert "Use of resources etc." in headings and len(headings) >= 4
    assert not [f for f in imported.built.findings if "not imported" in f.message or "not kept" in f.message]

    work = imported.work
    root = export_akn(units, work, Expression(language="eng", date=work.date))
    assert validate(root) == []
    assert len(root.findall(".//a:attachments/a:attachment", NS)) == 3
    assert _units(import_akn(to_bytes(root)).built.units) == _units(units)
    # The schedules' 1,723 words arrive: at least 99 % of the body's words survive.
    before, after = _words(etree.fromstring(source, etree.XMLParser(resolve_entities=False))), _words(root)
    kept = sum(min(n, after[w]) for w, n in before.items())
    assert kept / sum(before.values()) >= 0.99


def test_schedules_cross_headings_and_tables_in_plain_text_and_html():
    body = etree.fromstring(
        f'<body><crossHeading guid="{new_guid()}"><heading>Generalidades</heading></crossHeading>'
        f'<article guid="{new_guid()}"><heading>Cuotas</heading><p>Son:</p>'
        "<table><tr><td>Agua</td><td>10</td></tr><tr><td>Luz</td><td>20</td></tr></table></article>"
        f'<transitional guid="{new_guid()}"><heading/><article guid="{new_guid()}"><heading/><p>Entra en vigor.</p>'
        f'</article></transitional><attachment guid="{new_guid()}"><heading>Formatos</heading><p>Formato A.</p>'
        f'<article guid="{new_guid()}"><heading>Uso</heading><p>Se usa así.</p></article></attachment>'
        f'<attachment guid="{new_guid()}" pin="3A"><heading>Mapas</heading></attachment></body>')
    units = read_units(body, {"language": "spa"})
    assert [(u.kind, u.label, u.eid) for u in iter_units(units)] == [
        ("crossHeading", "", "crossHeading_1"), ("article", "Artículo 1", "art_1"),
        ("transitional", "", "transitional_1"), ("article", "Artículo PRIMERO transitorio", "transitional_1__art_1"),
        ("attachment", "ANEXO 1", "att_1"), ("article", "Artículo 1", "att_1__art_1"),
        ("attachment", "ANEXO 3A", "att_3A")]
    assert units[1].text == "Son:\nAgua | 10\nLuz | 20"
    text = render_text(units, "Ley", "spa")
    assert "Generalidades\n\nArtículo 1\nCuotas\n\nSon:\n\nAgua | 10\n\nLuz | 20" in text
    assert "ANEXO 1\nFormatos\n\nFormato A.\n\nArtículo 1\nUso" in text and "ANEXO 3A\nMapas" in text
    html = render_document(units, "Ley")
    assert '<h4 class="cross-heading" id="crossHeading_1"' in html
    assert "<tr><td>Agua</td><td>10</td></tr>" in html and 'id="att_1__art_1"' in html
    root = export_akn(units, Work("mx-cmx", "act", "2024-01-15", "ley", "Ley"), Expression("spa", "2024-01-15"))
    assert validate(root) == []


@pytest.mark.parametrize(("xml", "message"), [
    ('<body><attachment guid="{g}"/><article guid="{h}"/></body>', "comes after schedules"),
    ('<body><article guid="{g}"/><crossHeading guid="{h}"><heading>x</heading><p>y</p></crossHeading></body>',
     "a crossHeading holds only heading"),
    ('<body><article guid="{g}"><table><tr><th>x</th></tr></table></article></body>', "holds only <td> cells"),
    ('<body><article guid="{g}"><crossHeading guid="{h}"><heading>x</heading></crossHeading></article></body>',
     "unexpected unit <crossHeading>"),
    ('<body><crossHeading guid="{g}" pin="2"><heading>x</heading></crossHeading></body>', "cannot be pinned"),
])
def test_the_model_refuses_misplaced_schedules_cross_headings_and_tables(xml, message):
    with pytest.raises(DocumentStructureError, match=re.escape(message)):
        read_units(etree.fromstring(xml.format(g=new_guid(), h=new_guid())), {})


def test_the_browser_numbers_schedules_and_cross_headings_as_the_server_does():
    require(shutil.which("node") is not None, "node is not installed")
    tree = [{"kind": "crossHeading"}, {"kind": "article"},
            {"kind": "chapter", "children": [{"kind": "crossHeading"}, {"kind": "article"}]},
            {"kind": "transitional", "children": [{"kind": "article"}]},
            {"kind": "attachment", "children": [{"kind": "paragraph"}, {"kind": "article"},
                                                {"kind": "crossHeading"}, {"kind": "article"}]},
            {"kind": "attachment", "pin": "-"}, {"kind": "attachment"}]

    def xml(nodes):
        return "".join(f'<{n["kind"]} guid="{new_guid()}"' + (f' pin="{n["pin"]}"' if n.get("pin") else "") + ">"
                       + ("<heading/>" if n["kind"] == "crossHeading" else "") + xml(n.get("children", []))
                       + f'</{n["kind"]}>' for n in nodes)

    for language in ("spa", "eng"):
        script = (f"import('./src/numbering.js').then(m => console.log(JSON.stringify("
                  f"m.numberUnits({json.dumps(tree)}, {{language: '{language}'}}).map(e => e.label))))")
        result = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT / "web",
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        server = [u.label for u in iter_units(read_units(etree.fromstring(f"<body>{xml(tree)}</body>"),
                                                         {"language": language}))]
        assert json.loads(result.stdout) == server
        assert server[-2:] == ["", "ANEXO 2" if language == "spa" else "Schedule 2"]


@pytest.mark.browser
def test_in_the_editor_a_table_cell_is_edited_and_a_schedule_is_added(browser, server):
    """The imported table shows as a table in the live editor, its cells take typing like any
    paragraph, and "+ Anexo" closes the text with a new schedule, numbered after the others."""
    from test_browser import open_editor

    ana = server.login("ana")
    token = re.search(r'name="csrf_token" value="([^"]+)"', ana.get(server.url + "/", timeout=10).text).group(1)
    created = ana.post(f"{server.url}/api/v1/documents", files={"file": ("tarifas.xml", ACT, "application/xml")},
                       data={"csrf_token": token, "slug": "tarifas", "publish": "1"}, timeout=30)
    assert created.status_code == 201, created.text
    page = open_editor(browser, server, "ana")
    page.goto(f"{server.url}/d/tarifas/edit")
    page.wait_for_selector("body[data-synced=true]")
    cell = page.locator("#editor table.unit-table td", has_text="5 pesos")
    expect(cell).to_have_count(1)
    assert page.locator("#editor .unit-label-attachment .unit-label-text").all_inner_texts() == ["ANEXO 1"]
    expect(page.locator("#editor section.unit-crossHeading")).to_contain_text("Disposiciones generales")
    cell.click()
    page.keyboard.press("End")
    page.keyboard.type(" más IVA")
    page.get_by_text("Zona periférica.").click()
    page.click("#toolbar button[data-command=insert-attachment]")
    page.keyboard.type("Mapas")
    page.keyboard.press("ArrowDown")
    page.keyboard.type("Mapa de las zonas de cobro.")
    expect(page.locator("#editor .unit-label-attachment .unit-label-text")).to_have_text(["ANEXO 1", "ANEXO 2"])

    deadline = time.monotonic() + 15
    exported = ""
    while time.monotonic() < deadline and not ("más IVA" in exported and "Mapa de las zonas" in exported):
        exported = requests.get(f"{server.url}/api/v1/documents/tarifas/akn", timeout=10).text
        time.sleep(0.2)
    root = etree.fromstring(exported.encode())
    assert validate(root) == []
    assert [c.findtext("a:p", namespaces=NS) for c in root.findall(".//a:table/a:tr", NS)[1]] == ["Metro", "5 pesos más IVA"]
    annexes = root.findall(".//a:attachments/a:attachment", NS)
    assert [(a.findtext("a:num", namespaces=NS), a.findtext("a:heading", namespaces=NS)) for a in annexes] == [
        ("ANEXO 1", "Zonas de cobro"), ("ANEXO 2", "Mapas")]
    assert annexes[1].findtext("a:doc/a:mainBody/a:p", namespaces=NS) == "Mapa de las zonas de cobro."
