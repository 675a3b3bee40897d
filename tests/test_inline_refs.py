"""Inline markup in the text: emphasis, bold, terms and cross-references that follow renumbering
(docs/document-model.md, "Inline markup")."""

from __future__ import annotations

import uuid

import pytest
from lxml import etree
from playwright.sync_api import expect
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from akoma_ntoso import iter_units, read_units
from akoma_ntoso.akn import AKN_NS, Expression, Work, export_akn, import_akn, to_bytes, validate
from akoma_ntoso.render import render_document, render_text
from crdt.xmltree import etree_to_fragment, fragment_to_etree

NS = {"a": AKN_NS}
SLUG = "ley-de-referencias"


def _guid(n: int) -> str:
    return str(uuid.UUID(int=n, version=4))


def _law(articles: int = 17) -> etree._Element:
    """A law of `articles` articles; Artículo 2 sends the reader to Artículo 16."""
    body = etree.Element("body")
    for n in range(1, articles + 1):
        article = etree.SubElement(body, "article", guid=_guid(n))
        etree.SubElement(article, "heading").text = f"Materia {n}"
        text = "Las excepciones: véase el artículo 16." if n == 2 else f"Disposición {n}."
        etree.SubElement(article, "p").text = text if n != 16 else "Las excepciones son tres."
    return body


def _akn(units) -> etree._Element:
    root = export_akn(units, Work("mx-cmx", "bill", "2026-01-01", "ley-de-referencias", "Ley de referencias"),
                      Expression("spa", "2026-01-01"))
    assert validate(root) == []
    return root


def _article_two_p(root: etree._Element) -> etree._Element:
    return root.find(".//a:article[@eId='art_2']/a:content/a:p", NS)


def test_a_citation_is_linked_and_follows_its_article_when_one_is_inserted_before_it(app):
    """'véase el artículo 16' becomes a link to Artículo 16; once an article is inserted before
    it through the live document, the link points at the same article, now Artículo 17, and
    every reading says "artículo 17"; "Link references" also rewrites the live words."""
    from editor.documents import create_document
    from editor.interchange import export_document
    from editor.livetext import read_live
    from editor.references import link_references
    from editor.stages.diff import compare

    services = app.extensions["constituent"]
    with app.app_context():
        create_document(services, SLUG, "Ley de referencias", _law(), published=True)
        before = export_document(services, SLUG, "akn")
        assert b"<ref href" not in before  # nothing is linked until someone links it

        result = services.texts.change(SLUG, link_references)
        assert (result.linked, result.updated) == (1, 0)
        ref = _article_two_p(etree.fromstring(export_document(services, SLUG, "akn"))).find("a:ref", NS)
        assert (ref.get("href"), ref.text) == ("#art_16", "artículo 16")

        # Linking again finds nothing new to link.
        assert services.texts.change(SLUG, link_references) == type(result)(0, 0)

        def insert_before_16(doc: Doc) -> None:
            body = doc.get("body", type=XmlFragment)
            body.children.insert(15, XmlElement("article", {"guid": _guid(99)}, [
                XmlElement("heading", {}, [XmlText("Nueva materia")]),
                XmlElement("p", {}, [XmlText("Un artículo nuevo.")])]))

        linked_units = read_live(services, SLUG).units
        services.texts.change(SLUG, insert_before_16)
        root = etree.fromstring(export_document(services, SLUG, "akn"))
        assert validate(root) == []
        assert root.find(".//a:article[@GUID='%s']" % _guid(16), NS).get("eId") == "art_17"
        p = _article_two_p(root)
        ref = p.find("a:ref", NS)
        assert (ref.get("href"), ref.text) == ("#art_17", "artículo 17")
        assert "".join(p.itertext()) == "Las excepciones: véase el artículo 17."
        text = export_document(services, SLUG, "text").decode()
        assert "Las excepciones: véase el artículo 17." in text and "<ref" not in text
        html = export_document(services, SLUG, "html").decode()
        assert '<a class="ref" href="#art_17"' in html and 'title="Artículo 17"' in html

        # The live text still holds the words as typed until someone updates them: the editor
        # flags it; "Link references" brings the words up to date, the link kept.
        def live_runs(doc: Doc):
            body = doc.get("body", type=XmlFragment)
            return body.children[1].children[1].children[0].diff()

        assert ("artículo 16", {"ref": {"guid": _guid(16)}}) in services.rooms.call(SLUG, live_runs)
        result = services.texts.change(SLUG, link_references)
        assert (result.linked, result.updated) == (0, 1)
        runs = services.rooms.call(SLUG, live_runs)
        assert runs == [("Las excepciones: véase el ", None), ("artículo 17", {"ref": {"guid": _guid(16)}}),
                        (".", None)]
        units = read_live(services, SLUG).units
        assert next(u for u in iter_units(units) if u.guid == _guid(2)).text == "Las excepciones: véase el artículo 17."

        # Plain-text readers see words, never tags: search and the comparison of two texts.
        found = app.test_client().get("/api/v1/search?q=excepciones").get_json()
        snippets = [r["snippet_html"] for r in found["results"] if r["kind"] == "unit"]
        assert snippets and not any("ref" in s or "guid" in s for s in snippets), snippets
        compared = compare(linked_units, units)
        changed = next(c for c in compared.changes if c.guid == _guid(2))
        # The comparison shows the reference's new number as the change in the citing article's words.
        assert [(c.op, c.text) for c in changed.text] == [
            (0, "Las excepciones: véase el artículo "), (-1, "16."), (1, "17.")]


def test_a_reference_names_the_current_number_of_a_lower_unit_and_of_a_pin():
    body = etree.fromstring(
        f'<body><article guid="{_guid(1)}"><heading>Uno</heading>'
        f'<p>Conforme al <ref guid="{_guid(3)}">Art. 1, apartado A</ref>, al '
        f'<ref guid="{_guid(4)}">artículo 2 Bis</ref> y a <ref guid="{_guid(5)}">esta ley</ref>.</p>'
        f'<paragraph guid="{_guid(2)}"><p>Primero.</p></paragraph>'
        f'<paragraph guid="{_guid(3)}"><p>Segundo.</p></paragraph></article>'
        f'<article guid="{_guid(4)}" pin="2 Bis"><heading>Dos</heading></article>'
        f'<article guid="{_guid(5)}"><heading>Tres</heading></article></body>')
    units = read_units(body, {})
    assert units[0].text == "Conforme al Art. 1, apartado B, al artículo 2 Bis y a esta ley."
    root = _akn(units)
    hrefs = [ref.get("href") for ref in root.iter(f"{{{AKN_NS}}}ref")]
    assert hrefs == ["#art_1__para_B", "#art_2_Bis", "#art_2"]


def test_inline_markup_survives_akn_import_export_import_with_its_spaces():
    """The `<term>` inside a list's introduction used to leave only "City Manager"."""
    source = f"""<akomaNtoso xmlns="{AKN_NS}"><act name="act"><meta><identification source="#x">
<FRBRWork><FRBRthis value="/akn/za-cpt/act/by-law/2015/fees/!main"/><FRBRuri value="/akn/za-cpt/act/by-law/2015/fees"/>
<FRBRdate date="2015-01-01" name="Generation"/><FRBRauthor href="#x"/><FRBRcountry value="za"/></FRBRWork>
<FRBRExpression><FRBRthis value="/akn/za-cpt/act/by-law/2015/fees/eng@/!main"/><FRBRuri value="/akn/za-cpt/act/by-law/2015/fees/eng@"/>
<FRBRdate date="2015-01-01" name="Generation"/><FRBRauthor href="#x"/><FRBRlanguage language="eng"/></FRBRExpression>
<FRBRManifestation><FRBRthis value="/akn/za-cpt/act/by-law/2015/fees/eng@/!main"/><FRBRuri value="/akn/za-cpt/act/by-law/2015/fees/eng@"/>
<FRBRdate date="2015-01-01" name="Generation"/><FRBRauthor href="#x"/></FRBRManifestation></identification></meta>
<body>
<section eId="sec_1"><num>1.</num><heading>Definitions</heading>
<content><p>In this By-law <def refersTo="#term-City_Manager">"City Manager"</def> means the manager.</p></content></section>
<section eId="sec_2"><num>2.</num><heading>Fees <i>and</i> costs</heading>
<subsection eId="sec_2__subsec_1"><num>(1)</num><content><p>The <term refersTo="#term-City_Manager">City Manager</term> may
recover <i>all</i>  <b>reasonable</b> costs, as <ref href="#sec_1">section 1</ref> says.</p></content></subsection>
<subsection eId="sec_2__subsec_2"><num>(2)</num><content><blockList eId="sec_2__subsec_2__list_1">
<listIntroduction>The <term refersTo="#term-City_Manager">City Manager</term> may recover:</listIntroduction>
<item eId="sec_2__subsec_2__list_1__item_a"><num>(a)</num><p>fees;</p></item></blockList></content>
</subsection></section>
</body></act></akomaNtoso>"""
    first = import_akn(source.encode())
    units = list(iter_units(first.built.units))
    texts = [u.text for u in units if u.text]
    assert texts[:2] == [
        'In this By-law "City Manager" means the manager.',
        "The City Manager may recover all reasonable costs, as section 1 says.",
    ]
    assert texts[2].startswith("The City Manager may recover:\n") and texts[2].endswith("fees;")
    exported = _akn(first.built.units)
    xml = etree.tostring(exported, encoding="unicode")
    assert '<term refersTo="#term-City_Manager">City Manager</term> may recover <i>all</i> <b>reasonable</b> costs' in xml
    assert '<def refersTo="#term-City_Manager">"City Manager"</def> means' in xml
    assert "<heading>Fees <i>and</i> costs</heading>" in xml
    # The reference to section 1 is resolved to the unit and written with its eId.
    section_one = units[0]
    assert f'as <ref href="#{section_one.eid}">section 1</ref> says' in xml

    again = import_akn(to_bytes(exported))
    assert [u.text for u in iter_units(again.built.units) if u.text] == texts
    assert etree.tostring(again.built.body) == etree.tostring(first.built.body)


def test_marks_live_in_the_crdt_as_formatting_and_readers_see_plain_text():
    """A p with inline elements is one XmlText with formatting attributes (the shape
    y-prosemirror writes), and its copy back has the elements, never pseudo-tags."""
    body = etree.fromstring(
        f'<body><article guid="{_guid(1)}"><heading>Ágüa <i>potable</i></heading>'
        f'<p>El <b>derecho</b> <term refersTo="#t">humano</term> al <ref guid="{_guid(1)}">artículo 1</ref> &amp; más</p>'
        '</article></body>')
    doc = Doc()
    fragment = doc.get("body", type=XmlFragment)
    with doc.transaction():
        etree_to_fragment(body, fragment)
    p = fragment.children[0].children[1]
    assert len(p.children) == 1
    assert p.children[0].diff() == [
        ("El ", None), ("derecho", {"b": {}}), (" ", None), ("humano", {"term": {"refersTo": "#t"}}),
        (" al ", None), ("artículo 1", {"ref": {"guid": _guid(1)}}), (" & más", None)]
    copy = fragment_to_etree(fragment)
    assert etree.tostring(copy) == etree.tostring(body)
    units = read_units(copy, {})
    assert units[0].heading == "Ágüa potable"
    assert units[0].text == "El derecho humano al artículo 1 & más"
    for output in (render_text(units), etree.tostring(_akn(units), encoding="unicode")):
        assert "guid=" not in output
    assert "<" not in render_text(units)
    assert "<i>potable</i>" in render_document(units, "Ley")


def test_pycrdt_offsets_are_utf8_bytes_and_formatting_written_by_them_lands_on_the_right_words():
    from akoma_ntoso.inline import byte_offset

    doc = Doc()
    fragment = doc.get("body", type=XmlFragment)
    text = fragment.children.append(XmlElement("p", {}, [XmlText("Ñandú: véase el artículo 16")])).children[0]
    words = "Ñandú: véase el artículo 16"
    start = words.index("artículo")
    text.format(byte_offset(words, start), byte_offset(words, len(words)), {"ref": {"guid": _guid(1)}})
    assert text.diff() == [("Ñandú: véase el ", None), ("artículo 16", {"ref": {"guid": _guid(1)}})]


NODE_SCRIPT = r"""
import * as Y from 'yjs'
import { prosemirrorJSONToYDoc, yXmlFragmentToProsemirrorJSON } from 'y-prosemirror'
import { schema } from './src/schema.js'
const input = JSON.parse(process.argv[1])
const made = prosemirrorJSONToYDoc(schema, input.doc, 'body')
const fromPython = new Y.Doc()
Y.applyUpdate(fromPython, Buffer.from(input.update, 'base64'))
console.log(JSON.stringify({
  update: Buffer.from(Y.encodeStateAsUpdate(made)).toString('base64'),
  read: (() => {
    const node = schema.nodeFromJSON(yXmlFragmentToProsemirrorJSON(fromPython.getXmlFragment('body')))
    node.check() // the marks are the schema's, allowed where they are
    return node.toJSON()
  })()
}))
"""


def test_the_browser_schema_and_the_server_agree_on_the_formatting_attributes():
    """A ref and bold typed in the browser (y-prosemirror over web/src/schema.js) export as
    `<ref href>` and `<b>`; marks the server writes open in the browser as the same marks."""
    import base64
    import json
    import shutil
    import subprocess

    from conftest import ROOT, require

    require(shutil.which("node") is not None, "node is not installed")
    g1, g2 = _guid(1), _guid(2)
    browser_doc = {"type": "doc", "content": [
        {"type": "article", "attrs": {"guid": g1}, "content": [
            {"type": "heading", "content": [{"type": "text", "text": "Uno"}]}]},
        {"type": "article", "attrs": {"guid": g2}, "content": [
            {"type": "heading", "content": [{"type": "text", "text": "Dos"}]},
            {"type": "p", "content": [
                {"type": "text", "text": "véase el "},
                {"type": "text", "text": "artículo 1", "marks": [{"type": "ref", "attrs": {"guid": g1}}]},
                {"type": "text", "text": " y "},
                {"type": "text", "text": "esto", "marks": [{"type": "b"}, {"type": "i"}]}]}]}]}
    server_body = etree.fromstring(
        f'<body><article guid="{g1}"><heading>Uno <i>bis</i></heading>'
        f'<p>Un <term refersTo="#t">término</term> y el <ref guid="{g1}">artículo 1</ref>.</p></article></body>')
    doc = Doc()
    with doc.transaction():
        etree_to_fragment(server_body, doc.get("body", type=XmlFragment))
    payload = json.dumps({"doc": browser_doc, "update": base64.b64encode(doc.get_update()).decode()})
    result = subprocess.run(["node", "--input-type=module", "-e", NODE_SCRIPT, payload], cwd=ROOT / "web",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)

    typed = Doc()
    typed.apply_update(base64.b64decode(answer["update"]))
    units = read_units(fragment_to_etree(typed.get("body", type=XmlFragment)), {})
    assert units[1].text == "véase el artículo 1 y esto"
    p = _akn(units).find(".//a:article[@eId='art_2']/a:content/a:p", NS)
    assert etree.tostring(p, encoding="unicode").split(">", 1)[1] == (
        'véase el <ref href="#art_1">artículo 1</ref> y <b><i>esto</i></b></p>')

    opened = answer["read"]["content"][0]["content"]
    assert opened[0]["content"][1] == {"type": "text", "text": "bis", "marks": [{"type": "i"}]}
    texts = opened[1]["content"]
    assert texts[1] == {"type": "text", "text": "término", "marks": [{"type": "term", "attrs": {"refersTo": "#t"}}]}
    assert texts[3] == {"type": "text", "text": "artículo 1", "marks": [{"type": "ref", "attrs": {"guid": g1, "href": None}}]}


def test_the_words_of_a_reference_are_brought_to_its_targets_numbers_and_other_words_are_left():
    from types import SimpleNamespace

    from akoma_ntoso.inline import current_words

    article = SimpleNamespace(kind="article", num="17", label="Artículo 17")
    indent = SimpleNamespace(kind="indent", num="c", label="c)")
    title = SimpleNamespace(kind="title", num="SÉPTIMO", label="TÍTULO SÉPTIMO")
    cases = [
        ("artículo 16", (article,), "artículo 17"),
        ("Art. 16", (article,), "Art. 17"),
        ("5", (article,), "17"),  # the second of "Arts. 4 y 5"
        ("el artículo anterior", (article,), "el artículo anterior"),
        ("anterior", (article,), "anterior"),
        ("inciso b) del artículo 16", (article, indent), "inciso c) del artículo 17"),
        ("Art. 16, b)", (article, indent), "Art. 17, c)"),
        ("Título Sexto", (title,), "Título Séptimo"),
        ("artículo 17", (article,), "artículo 17"),
    ]
    for words, chain, expected in cases:
        assert current_words(words, chain) == expected, words


@pytest.mark.browser
def test_in_the_browser_a_citation_is_linked_bold_is_typed_and_a_renumbered_reference_is_flagged_then_updated(
    browser, server, client_factory
):
    """A committee member types a citation and a bold word in the editor and presses "Link
    references": the export has `<ref href="#art_1">` and `<b>`. Another client inserts an article
    before Artículo 1: the reference is flagged in the editor (its words say 1, it points at 2) and
    exported as "#art_2"; "Link references" again updates the words for everyone."""
    import requests
    from conftest import PUBLISHED
    from test_browser import editor_text, open_editor, wait_for_text

    water = "00000000-0000-4000-8000-000000000001"
    ana = open_editor(browser, server, "ana")
    ana.locator("#editor section[data-guid='00000000-0000-4000-8000-000000000005'] > p").click()
    ana.keyboard.press("End")
    ana.keyboard.type(" Véase el artículo 1, ")
    ana.keyboard.press("Control+b")
    ana.keyboard.type("siempre")
    ana.keyboard.press("Control+b")
    ana.keyboard.type(".")
    link = ana.locator("#toolbar button[data-command='link-references']")
    link.click()
    expect(ana.locator("#toolbar .toolbar-note")).to_have_text("Referencias vinculadas: 1; actualizadas: 0.")
    reference = ana.locator(f"#editor a.ref[data-guid='{water}']")
    expect(reference).to_have_text("artículo 1")
    expect(ana.locator("#editor [title='Remite a Artículo 1']")).to_have_count(1)

    def animals_p() -> etree._Element:
        xml = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn", timeout=10).content
        root = etree.fromstring(xml)
        assert validate(root) == []
        return root.find(".//a:article[@GUID='00000000-0000-4000-8000-000000000005']/a:content/a:p", NS)

    p = animals_p()
    assert etree.tostring(p, encoding="unicode").split(">", 1)[1].startswith(
        'Los animales son seres sintientes. Véase el <ref href="#art_1">artículo 1</ref>, <b>siempre</b>.')

    other = client_factory("ana")
    other.edit(lambda body: body.children[0].children.insert(1, XmlElement("article", {"guid": _guid(77)}, [
        XmlElement("heading", {}, [XmlText("Derecho a la ciudad")])])))
    stale = ana.locator("#editor .ref-stale")
    expect(stale).to_have_text("artículo 1")
    assert "Remite a Artículo 2" in stale.get_attribute("title")
    ref = animals_p().find("a:ref", NS)
    assert (ref.get("href"), ref.text) == ("#art_2", "artículo 2")

    link.click()
    expect(ana.locator("#toolbar .toolbar-note")).to_have_text("Referencias vinculadas: 0; actualizadas: 1.")
    wait_for_text(ana, "Véase el artículo 2, siempre.")
    expect(ana.locator("#editor .ref-stale")).to_have_count(0)
    expect(reference).to_have_text("artículo 2")
    assert "artículo 1," not in editor_text(ana)


def test_authorial_notes_keep_their_text_through_import_export_import_and_show_in_the_reading_view():
    """The Scottish act's schedules and the US act's first section carry notes in their headings
    ("(introduced by section 1)", "America's Cup Act of 2011."): their words used to be dropped."""
    source = f"""<akomaNtoso xmlns="{AKN_NS}"><act name="act"><meta><identification source="#x">
<FRBRWork><FRBRthis value="/akn/us/act/2011/1/!main"/><FRBRuri value="/akn/us/act/2011/1"/>
<FRBRdate date="2011-11-29" name="Generation"/><FRBRauthor href="#x"/><FRBRcountry value="us"/></FRBRWork>
<FRBRExpression><FRBRthis value="/akn/us/act/2011/1/eng@/!main"/><FRBRuri value="/akn/us/act/2011/1/eng@"/>
<FRBRdate date="2011-11-29" name="Generation"/><FRBRauthor href="#x"/><FRBRlanguage language="eng"/></FRBRExpression>
<FRBRManifestation><FRBRthis value="/akn/us/act/2011/1/eng@/!main"/><FRBRuri value="/akn/us/act/2011/1/eng@"/>
<FRBRdate date="2011-11-29" name="Generation"/><FRBRauthor href="#x"/></FRBRManifestation></identification></meta>
<body><section eId="sec_1"><num>1.</num><heading>SHORT TITLE.
<authorialNote eId="n_1" placement="side"><p>America's Cup Act of 2011.</p></authorialNote></heading>
<content><p>This Act may be cited as the Cup Act<authorialNote eId="n_2" marker="2" placement="bottom"><p>Enacted
in <i>2011</i>.</p></authorialNote> and so on.</p></content></section></body></act></akomaNtoso>"""
    first = import_akn(source.encode())
    unit = first.built.units[0]
    assert unit.heading == "SHORT TITLE. *"  # the note's call, its text kept with it
    assert unit.text == "This Act may be cited as the Cup Act2 and so on."
    exported = _akn(first.built.units)
    assert validate(exported) == []
    notes = exported.findall(".//a:authorialNote", NS)
    assert [(n.get("marker"), "".join(n.itertext())) for n in notes] == [
        ("*", "America's Cup Act of 2011."), ("2", "Enacted in 2011.")]
    again = import_akn(to_bytes(exported))
    assert etree.tostring(again.built.body) == etree.tostring(first.built.body)
    html = render_document(first.built.units, "Cup Act", "eng")
    assert "America&#x27;s Cup Act of 2011." in html or "America's Cup Act of 2011." in html
    assert '<sup class="note-call">2</sup>' in html


def test_a_peers_odd_marks_and_labels_do_not_make_the_document_unreadable():
    """A peer may write a mark attribute with a control character, or `labels` as a nested Y.Map
    with a bad entry: the server reads the text as the browser shows it, never a 500 or 503."""
    from pycrdt import Map

    from editor.livetext import text_of

    doc = Doc()
    meta, body = doc.get("meta", type=Map), doc.get("body", type=XmlFragment)
    meta["title"], meta["language"] = "Ley", "spa"
    meta["labels"] = Map({"article": "SEC. {}.", "sección": "x", "chapter": "{} {}"})
    article = body.children.append(XmlElement("article", {"guid": _guid(1)}))
    article.children.append(XmlElement("heading")).children.append(XmlText("Uno"))
    text = article.children.append(XmlElement("p")).children.append(XmlText("Texto y nota"))
    text.format(5, 6, {"note": {"text": "con\x01trol"}})
    live = text_of(doc)
    assert [u.label for u in live.units] == ["SEC. 1."]  # the good entry kept, the bad ones left out
    exported = _akn(live.units)
    assert validate(exported) == []
    assert [n.findtext("a:p", namespaces=NS) for n in exported.findall(".//a:authorialNote", NS)] == ["control"]
