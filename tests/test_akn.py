"""Akoma Ntoso 3.0 in and out: real files from other systems, the OASIS schema, hostile XML."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pytest
from conftest import SHARED_DATA, require
from lxml import etree

from akoma_ntoso import AkomaNtosoError, Draft, build, iter_units
from akoma_ntoso.akn import AKN_NS, Expression, Work, export_akn, frbr_uri, import_akn, to_bytes, validate

AKN_DIR = SHARED_DATA / "akn"
NS = {"a": AKN_NS}
WORK = Work(place="mx-cmx", doctype="act", date="2017-02-05", number="constitucion", title="Constitución")
TODAY = Expression(language="spa", date="2026-11-21")


def akn_files() -> list[Path]:
    require(AKN_DIR.is_dir(), f"shared Akoma Ntoso samples not found at {AKN_DIR}")
    return sorted(AKN_DIR.glob("*.xml"))


def three_oh_files() -> list[Path]:
    files = [f for f in akn_files() if f.name not in ("invalid_sameXmlId.xml",) and not f.name.startswith("v2_")]
    assert len(files) == 4, [f.name for f in files]
    return files


def signature(units):
    return [(u.kind, u.num, u.heading, u.text) for u in iter_units(units)]


def export(units, work=WORK, language="spa", **kw):
    return export_akn(units, work, Expression(language=language, date=TODAY.date), **kw)


def test_every_real_3_0_file_imports_and_round_trips_to_the_same_units_and_a_valid_file():
    for path in three_oh_files():
        first = import_akn(path.read_bytes())
        units = first.built.units
        assert sum(1 for u in iter_units(units) if u.kind == "article") >= 3, path.name
        exported = export(units, language=first.language)
        assert validate(exported) == [], path.name
        again = import_akn(to_bytes(exported))
        assert signature(again.built.units) == signature(units), path.name
        assert again.built.findings == [], (path.name, again.built.findings)
        # …and the second export is the same document (same units, same eIds, same GUIDs).
        second = export(again.built.units, language=first.language)
        assert _units_of(second) == _units_of(exported), path.name


def _units_of(root):
    return [(e.tag, e.get("eId"), e.get("GUID"), e.findtext("a:num", namespaces=NS))
            for e in root.iterfind(".//a:body//*[@eId]", NS)]


def test_what_the_real_files_hold_arrives_as_numbered_in_the_source():
    files = {p.name: p for p in three_oh_files()}
    uk = import_akn(files["uk_asp-2017-1-enacted-data.akn.xml"].read_bytes())
    sections = [u for u in iter_units(uk.built.units) if u.kind == "article"]
    assert uk.title == "Budget (Scotland) Act 2017" and uk.doctype == "act" and uk.language == "eng"
    assert [s.num for s in sections] == [str(n) for n in range(1, 12)]
    assert sections[0].heading == "The Scottish Administration"
    assert [u.num for u in sections[0].children] == ["1", "2", "3", "4"]  # "(1)" subsections
    assert uk.built.meta["numbering"] == {"paragraph": "arabic", "subparagraph": "lower-alpha"}
    # Cross-headings and the three schedules (with their tables) are kept, not reported as lost.
    kinds = [u.kind for u in iter_units(uk.built.units)]
    assert "Use of resources etc." in [u.heading for u in iter_units(uk.built.units) if u.kind == "crossHeading"]
    assert [u.label for u in uk.built.units if u.kind == "attachment"] == ["SCHEDULE 1", "SCHEDULE 2", "SCHEDULE 3"]
    assert "not imported" not in " ".join(f.message for f in uk.built.findings) and kinds[-1] == "attachment"

    uy = import_akn(files["uy_bill_2010-09-27.xml"].read_bytes())
    assert uy.doctype == "bill" and uy.language == "spa"  # the file says "esp"
    assert [u.label for u in uy.built.units] == ["Artículo 1", "Artículo 2", "Artículo 3"]
    assert uy.built.units[0].text.startswith("- Declárese como interpretación auténtica")
    assert any("other documents" in f.message for f in uy.built.findings)

    us = import_akn(files["us_Act_2011-11-29.xml"].read_bytes())
    assert us.built.units[0].kind == "preamble" and us.built.units[0].text.startswith("Be it enacted")
    # The first heading carries an authorial note ("America's Cup Act of 2011."): its call, "*", stays.
    assert [u.heading for u in us.built.units[1:3]] == ["SHORT TITLE. *", "DEFINITIONS."]
    assert us.work.place == "us" and us.work.number == "112-61"

    italy = import_akn(files["it_senato_ddl_2013.xml"].read_bytes())
    article = italy.built.units[0]
    assert article.num == "1" and article.heading.startswith("(Modifiche al sistema elettorale")
    assert [p.num for p in article.children[0].children][:4] == ["a", "b", "c", "d"]


def test_the_2_0_amendment_and_the_broken_file_are_refused_with_a_clear_message():
    files = {p.name: p for p in akn_files()}
    with pytest.raises(AkomaNtosoError, match="this file is an amendment, not an act or a bill"):
        import_akn(files["v2_Amendment_mexico_enmienda_2010-10-07.xml"].read_bytes())
    with pytest.raises(AkomaNtosoError, match="ID BAD_XMLID already defined, line 100"):
        import_akn(files["invalid_sameXmlId.xml"].read_bytes())


def test_drafts_and_the_2_0_namespace_are_read_and_say_so():
    files = {p.name: p for p in three_oh_files()}
    data = files["us_Act_2011-11-29.xml"].read_bytes()
    draft = import_akn(data.replace(AKN_NS.encode(), (AKN_NS + "/CSD03").encode()))
    assert signature(draft.built.units) == signature(import_akn(data).built.units)
    assert any("CSD03 is a draft" in f.message for f in draft.built.findings)
    older = import_akn(data.replace(AKN_NS.encode(), b"http://www.akomantoso.org/2.0"))
    assert any("Akoma Ntoso 2.0" in f.message for f in older.built.findings)
    assert len(signature(older.built.units)) == len(signature(draft.built.units))


@pytest.mark.parametrize("doctype, says", [("debate", "a debate record"), ("judgment", "a judgment"),
                                           ("doc", "a generic document")])
def test_non_hierarchical_documents_are_refused(doctype, says):
    data = f'<akomaNtoso xmlns="{AKN_NS}/CSD13"><{doctype} name="x"><meta/></{doctype}></akomaNtoso>'
    with pytest.raises(AkomaNtosoError, match=f"this file is {says}, not an act or a bill"):
        import_akn(data.encode())


def test_an_invalid_3_0_file_is_refused_with_the_schema_error():
    data = f'<akomaNtoso xmlns="{AKN_NS}"><act name="x"><body><article eId="a"><bogus/></article></body></act></akomaNtoso>'
    with pytest.raises(AkomaNtosoError, match="not valid Akoma Ntoso 3.0: line 1"):
        import_akn(data.encode())
    with pytest.raises(AkomaNtosoError, match="not an Akoma Ntoso document"):
        import_akn(b"<html><body/></html>")


def test_hostile_xml_is_refused_clearly_and_in_bounded_memory(tmp_path):
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
        + b']>\n<akomaNtoso xmlns="' + AKN_NS.encode() + b'"><act><body>&lol9;</body></act></akomaNtoso>'
    )
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b'<akomaNtoso xmlns="' + AKN_NS.encode() + b'"><act>&e;</act></akomaNtoso>')
    deep = b'<akomaNtoso xmlns="' + AKN_NS.encode() + b'">' + b"<p>" * 200 + b"</p>" * 200 + b"</akomaNtoso>"
    huge = b" " * (200 * 1024 * 1024)
    tracemalloc.start()
    for data, message in ((laughs, "declares a document type"), (external, "declares a document type"),
                          (deep, "nested deeper than 64")):
        with pytest.raises(AkomaNtosoError, match=message):
            import_akn(data)
    with pytest.raises(AkomaNtosoError, match="200.0 MB; the limit is 50 MB"):
        import_akn(huge)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"refusing hostile input allocated {peak} bytes"


def test_export_identifies_the_work_with_frbr_uris_in_the_schema_order():
    built = build([Draft("article", "1", heading="Objeto", paragraphs=["Texto."])], title="Constitución")
    root = export(built.units)
    ident = root.find("a:act/a:meta/a:identification", NS)
    values = {f"{e.getparent().tag.split('}')[1]}/{e.tag.split('}')[1]}": e.get("value")
              for e in ident.iter() if e.get("value")}
    assert values["FRBRWork/FRBRthis"] == "/akn/mx-cmx/act/2017-02-05/constitucion/!main"
    assert values["FRBRWork/FRBRuri"] == "/akn/mx-cmx/act/2017-02-05/constitucion"
    assert values["FRBRExpression/FRBRuri"] == "/akn/mx-cmx/act/2017-02-05/constitucion/spa@2026-11-21"
    assert values["FRBRManifestation/FRBRthis"] == "/akn/mx-cmx/act/2017-02-05/constitucion/spa@2026-11-21/!main.xml"
    assert [c.tag.split("}")[1] for c in root.find("a:act/a:meta", NS)] == ["identification", "lifecycle", "references"]
    assert validate(root) == []


def test_frbr_identity_is_checked():
    with pytest.raises(AkomaNtosoError, match="document type 'debate' cannot be exported"):
        frbr_uri(Work(place="mx", doctype="debate", date="2017-01-01", number="x", title=""), TODAY)
    with pytest.raises(AkomaNtosoError, match="is not a place code"):
        frbr_uri(Work(place="Mexico City", doctype="act", date="2017-01-01", number="x", title=""), TODAY)
    with pytest.raises(AkomaNtosoError, match="work date '5 de febrero' is not a date"):
        frbr_uri(Work(place="mx", doctype="act", date="5 de febrero", number="x", title=""), TODAY)


def test_renumbered_units_keep_their_guid_and_carry_their_former_eid_as_wid():
    before = build([Draft("article", "1"), Draft("article", "2", children=[Draft("paragraph", "A")])])
    first_names = {u.guid: u.eid for u in iter_units(before.units)}
    moved = before.units[1]
    # A new article is inserted before article 2: it becomes article 3.
    body = before.body
    new = etree.Element("article", guid="12345678-1234-4234-8234-123456789abc")
    body.insert(1, new)
    from akoma_ntoso import read_units
    after = read_units(body, before.meta)
    root = export(after, wids=first_names)
    element = root.find(f".//a:article[@GUID='{moved.guid}']", NS)
    assert (element.get("eId"), element.get("wId")) == ("art_3", "art_2")
    paragraph = element.find("a:paragraph", NS)
    assert (paragraph.get("eId"), paragraph.get("wId")) == ("art_3__para_A", "art_2__para_A")
    # Units whose eId did not change carry no wId (the schema's "only when renumbered").
    assert root.find(".//a:article[@eId='art_1']", NS).get("wId") is None
    assert validate(root) == []


def test_unnumbered_units_get_distinct_nn_eids_and_no_num():
    data = (f'<akomaNtoso xmlns="{AKN_NS}"><act name="x"><meta><identification source="#s">'
            '<FRBRWork><FRBRthis value="/akn/uy/act/2010/1/!main"/><FRBRuri value="/akn/uy/act/2010/1"/>'
            '<FRBRdate date="2010-01-01" name="x"/><FRBRauthor href="#s"/><FRBRcountry value="uy"/></FRBRWork>'
            '<FRBRExpression><FRBRthis value="/akn/uy/act/2010/1/spa@/!main"/><FRBRuri value="/akn/uy/act/2010/1/spa@"/>'
            '<FRBRdate date="2010-01-01" name="x"/><FRBRauthor href="#s"/><FRBRlanguage language="spa"/></FRBRExpression>'
            '<FRBRManifestation><FRBRthis value="/akn/uy/act/2010/1/spa@/!main.xml"/><FRBRuri value="/akn/uy/act/2010/1/spa@.xml"/>'
            '<FRBRdate date="2010-01-01" name="x"/><FRBRauthor href="#s"/></FRBRManifestation></identification></meta>'
            '<body><article eId="art_1"><num>Artículo 1</num>'
            '<paragraph eId="p1"><content><p>Primero sin número.</p></content></paragraph>'
            '<paragraph eId="p2"><content><p>Segundo sin número.</p></content></paragraph>'
            '</article></body></act></akomaNtoso>')
    imported = import_akn(data.encode())
    paragraphs = imported.built.units[0].children
    assert [(p.num, p.label) for p in paragraphs] == [("", ""), ("", "")]
    root = export(imported.built.units)
    exported = root.findall(".//a:article/a:paragraph", NS)
    assert [p.get("eId") for p in exported] == ["art_1__para_nn_1", "art_1__para_nn_2"]
    assert all(p.find("a:num", NS) is None for p in exported)
    assert validate(root) == []


def test_every_export_has_unique_eids_and_guids_even_with_clashing_pins():
    built = build([Draft("article", "16 Bis"), Draft("article", "16 Bis"), Draft("article", "1")])
    root = export(built.units)
    eids = [e.get("eId") for e in root.iter() if e.get("eId")]
    guids = [e.get("GUID") for e in root.iter() if e.get("GUID")]
    assert len(eids) == len(set(eids)) and len(guids) == len(set(guids)) == 3
    assert "art_16_Bis_2" in eids
    assert validate(root) == []


def test_validation_reports_what_is_wrong():
    built = build([Draft("article", "1", paragraphs=["x"])])
    root = export(built.units)
    article = root.find(".//a:article", NS)
    article.append(etree.Element(f"{{{AKN_NS}}}bogus"))
    errors = validate(root)
    assert errors and re.search(r"line \d+: .*bogus", errors[0])


def test_an_empty_document_cannot_be_exported():
    built = build([Draft("preamble", paragraphs=["Solo un preámbulo."])])
    with pytest.raises(AkomaNtosoError, match="nothing to export"):
        export(built.units)


CDMX = SHARED_DATA / "cdmx" / "constitucion-politica-cdmx.txt"


def test_the_mexico_city_constitution_exports_to_valid_akn_and_reads_back_the_same():
    require(CDMX.exists(), f"the Mexico City constitution is not at {CDMX}")
    from akoma_ntoso.text_import import import_text

    built = import_text(CDMX.read_text(encoding="utf-8"))
    work = Work(place="mx-cmx", doctype="act", date="2017-02-05", number="constitucion",
                title=built.meta["title"])
    root = export_akn(built.units, work, TODAY)
    assert validate(root) == []
    articles = root.findall(".//a:body//a:article", NS)
    assert [a.get("eId") for a in articles] == [f"art_{n}" for n in range(1, 72)] + [
        f"transitional_1__art_{n}" for n in range(1, 40)]  # and the 39 transitory articles
    article_16 = root.find(".//a:article[@eId='art_16']", NS)
    assert [p.findtext("a:heading", namespaces=NS) for p in article_16.findall("a:paragraph", NS)][:2] == [
        "Medio Ambiente", "Gestión sustentable del agua"]
    assert root.find(".//a:article[@eId='art_16']/a:paragraph[@eId='art_16__para_A']/"
                     "a:subparagraph[@eId='art_16__para_A__subpara_3']", NS) is not None
    assert root.find("a:act/a:preamble/a:p", NS).text.startswith("Inquexquichcauhmanizcemanahuac")
    assert root.find(".//a:FRBRExpression/a:FRBRuri", NS).get("value") == \
        "/akn/mx-cmx/act/2017-02-05/constitucion/spa@2026-11-21"
    again = import_akn(to_bytes(root))
    assert signature(again.built.units) == signature(built.units)
    assert again.built.findings == []


def _act(body: str, preface: str = "") -> bytes:
    """A valid Akoma Ntoso 3.0 act around `body` (a Cape Town by-law whose work date is a year)."""
    uri = "/akn/za-cpt/act/by-law/2015/fees"
    dates = '<FRBRdate date="2015-01-01" name="Generation"/><FRBRauthor href="#cpt"/>'
    return f"""<akomaNtoso xmlns="{AKN_NS}"><act name="act"><meta><identification source="#cpt">
      <FRBRWork><FRBRthis value="{uri}/!main"/><FRBRuri value="{uri}"/>{dates}<FRBRcountry value="za"/></FRBRWork>
      <FRBRExpression><FRBRthis value="{uri}/eng@/!main"/><FRBRuri value="{uri}/eng@"/>{dates}
        <FRBRlanguage language="eng"/></FRBRExpression>
      <FRBRManifestation><FRBRthis value="{uri}/eng@/!main.xml"/><FRBRuri value="{uri}/eng@.akn"/>{dates}
      </FRBRManifestation></identification></meta>{preface}<body>{body}</body></act></akomaNtoso>""".encode()


def _words(text: str) -> list[str]:
    return sorted(re.findall(r"\w+", text.lower()))


def test_a_statutory_instrument_made_of_regulations_keeps_its_words():
    """A body of <hcontainer name="regulation">s used to be dropped with one note each, the
    import succeeding with 0.3 % of the words; each regulation now becomes an article (its
    paragraphs its sub-units), so every word of the body arrives."""
    body = (
        '<hcontainer eId="reg_1" name="regulation"><num>1.</num><heading>Citation</heading>'
        "<content><p>These Regulations may be cited as the Fees Regulations 2015.</p></content></hcontainer>"
        '<hcontainer eId="reg_2" name="regulation"><num>2.</num><heading>Fees</heading>'
        '<paragraph eId="reg_2__para_1"><num>(1)</num><content><p>A fee of 10 rand is payable.</p></content></paragraph>'
        '<paragraph eId="reg_2__para_2"><num>(2)</num><content><p>The fee is waived for pensioners.</p></content>'
        "</paragraph></hcontainer>"
        '<hcontainer eId="reg_3" name="regulation"><num>3.</num><heading>Commencement</heading>'
        "<content><p>These Regulations come into force on 1 April 2015.</p></content></hcontainer>"
    )
    imported = import_akn(_act(body))
    units = list(iter_units(imported.built.units))
    kept = " ".join(f"{u.num} {u.heading} {u.text}" for u in units)
    source = "1. Citation These Regulations may be cited as the Fees Regulations 2015. 2. Fees (1) A fee of 10 rand " \
             "is payable. (2) The fee is waived for pensioners. 3. Commencement These Regulations come into force on " \
             "1 April 2015."
    assert _words(kept) == _words(source)
    assert [(u.label, u.heading, [c.label for c in u.children]) for u in imported.built.units] == [
        ("Article 1", "Citation", []), ("Article 2", "Fees", ["(1)", "(2)"]), ("Article 3", "Commencement", [])]
    messages = " ".join(f.message for f in imported.built.findings)
    assert "(regulation) outside an article is imported as an article" in messages
