"""Real acts keep what they hold: their words, their hierarchy by depth, and the names their
source gives its units ("PART 1", "Section 3", "SEC. 2."), through import, export and import."""

from __future__ import annotations

import collections
import re

import pytest
from conftest import SHARED_DATA, require
from lxml import etree

from akoma_ntoso import iter_units
from akoma_ntoso.akn import AKN_NS, Expression, export_akn, import_akn, to_bytes, validate

NS = {"a": AKN_NS}
REAL = ["it_senato_ddl_2013.xml", "uk_asp-2017-1-enacted-data.akn.xml", "us_Act_2011-11-29.xml",
        "uy_bill_2010-09-27.xml"]


def _identification(place: str = "za-cpt", number: str = "planning") -> str:
    uri = f"/akn/{place}/act/by-law/2015/{number}"
    return (f'<meta><identification source="#x"><FRBRWork><FRBRthis value="{uri}/!main"/><FRBRuri value="{uri}"/>'
            f'<FRBRdate date="2015" name="Generation"/><FRBRauthor href="#x"/><FRBRcountry value="{place}"/></FRBRWork>'
            f'<FRBRExpression><FRBRthis value="{uri}/eng@/!main"/><FRBRuri value="{uri}/eng@"/>'
            f'<FRBRdate date="2015" name="Generation"/><FRBRauthor href="#x"/><FRBRlanguage language="eng"/>'
            f'</FRBRExpression><FRBRManifestation><FRBRthis value="{uri}/eng@/!main"/><FRBRuri value="{uri}/eng@"/>'
            f'<FRBRdate date="2015" name="Generation"/><FRBRauthor href="#x"/></FRBRManifestation></identification></meta>')


def _section(n: int, heading: str) -> str:
    return f'<section eId="sec_{n}"><num>{n}.</num><heading>{heading}</heading><content><p>Text {n}.</p></content></section>'


# A by-law whose chapters hold parts: mapped by tag name, the parts were flattened away.
INVERTED = (f'<akomaNtoso xmlns="{AKN_NS}"><act name="act">{_identification()}<body>'
            '<chapter eId="chp_1"><num>1</num><heading>General</heading>'
            f'<part eId="chp_1__part_1"><num>1</num><heading>Definitions</heading>{_section(1, "Definitions")}'
            f'{_section(2, "Application")}</part>'
            f'<part eId="chp_1__part_2"><num>2</num><heading>Administration</heading>{_section(3, "Delegation")}</part>'
            '</chapter><chapter eId="chp_2"><num>2</num><heading>Zoning</heading>'
            f'<part eId="chp_2__part_1"><num>1</num><heading>Scheme</heading>{_section(4, "Map")}</part></chapter>'
            '</body></act></akomaNtoso>')


def test_parts_inside_chapters_keep_their_depth_and_the_names_the_source_gives_them():
    imported = import_akn(INVERTED.encode())
    outline = [(u.label, u.heading, [(c.label, [a.label for a in c.children]) for c in u.children])
               for u in imported.built.units]
    assert outline == [
        ("Chapter 1", "General", [("Part 1", ["Section 1", "Section 2"]), ("Part 2", ["Section 3"])]),
        ("Chapter 2", "Zoning", [("Part 1", ["Section 4"])]),
    ]
    assert not [f for f in imported.built.findings if "nested too deep" in f.message]
    exported = export_akn(imported.built.units, imported.work, Expression(language="eng", date="2015"),
                          wids=imported.built.source_eids)
    assert validate(exported) == []
    assert [n.text for n in exported.findall(".//a:chapter/a:num", NS)] == ["Part 1", "Part 2", "Part 1"]
    again = import_akn(to_bytes(exported))
    assert [(u.label, u.heading) for u in iter_units(again.built.units)] == \
        [(u.label, u.heading) for u in iter_units(imported.built.units)]


def _words(elements) -> collections.Counter[str]:
    return collections.Counter(w for e in elements for w in re.findall(r"\w+", " ".join(e.itertext()).lower()))


def _body_and_schedules(root: etree._Element) -> list[etree._Element]:
    found = [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname in ("body", "attachments")]
    return [e for e in found if not any(etree.QName(a).localname in ("body", "attachments") for a in e.iterancestors())][:2]


@pytest.mark.parametrize("name", REAL)
def test_a_real_act_keeps_its_words_and_its_units_through_import_export_import(name):
    path = SHARED_DATA / "akn" / name
    require(path.exists(), f"shared Akoma Ntoso samples not found at {path.parent}")
    data = path.read_bytes()
    first = import_akn(data)
    exported = export_akn(first.built.units, first.work, Expression(language=first.built.meta["language"],
                                                                     date=first.work.date), wids=first.built.source_eids)
    assert validate(exported) == []
    source = _words(_body_and_schedules(etree.fromstring(data)))
    kept = sum((source & _words(_body_and_schedules(exported))).values())
    assert kept >= 0.99 * sum(source.values()), f"{name}: {kept} of {sum(source.values())} words kept"
    again = import_akn(to_bytes(exported))
    assert [(u.kind, u.label, u.heading, u.text) for u in iter_units(again.built.units)] == \
        [(u.kind, u.label, u.heading, u.text) for u in iter_units(first.built.units)]


def test_the_scottish_act_keeps_its_parts_sections_and_schedules_by_their_names():
    path = SHARED_DATA / "akn" / "uk_asp-2017-1-enacted-data.akn.xml"
    require(path.exists(), f"shared Akoma Ntoso samples not found at {path.parent}")
    units = import_akn(path.read_bytes()).built.units
    labels = [u.label for u in iter_units(units) if u.kind in ("title", "article", "attachment")]
    assert labels[:3] == ["PART 1", "Section 1", "Section 2"]
    assert [u.label for u in units if u.kind == "attachment"] == ["SCHEDULE 1", "SCHEDULE 2", "SCHEDULE 3"]
    assert not any(label.startswith(("Article", "TITLE")) for label in labels)
