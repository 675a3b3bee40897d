"""Plain text in the conventions real laws use: Portuguese and French article words, by-laws whose
sections are "1. Definitions" lines with no article word, and the language option that tells them
apart when detection would not."""

from __future__ import annotations

import re

from lxml import etree

from akoma_ntoso import iter_units
from akoma_ntoso.akn import AKN_NS, Expression, Work, export_akn, validate
from akoma_ntoso.render import render_text
from akoma_ntoso.text_import import detect_language, import_text

NS = {"a": AKN_NS}

# Modelled on the Brazilian constitution of 1988 (Art. 1 to 3) and its transitory act.
PORTUGUESE = """CONSTITUIÇÃO DA REPÚBLICA FEDERATIVA DO BRASIL

PREÂMBULO
Nós, representantes do povo brasileiro, reunidos em Assembleia Nacional Constituinte, promulgamos a seguinte Constituição.

TÍTULO I
DOS PRINCÍPIOS FUNDAMENTAIS

Art. 1º A República Federativa do Brasil constitui-se em Estado Democrático de Direito e tem como fundamentos:
I - a soberania;
II - a cidadania;
III - a dignidade da pessoa humana;
Parágrafo único. Todo o poder emana do povo, que o exerce por meio de representantes eleitos.
Art. 2º São Poderes da União, independentes e harmônicos entre si, o Legislativo, o Executivo e o Judiciário.
Art. 3º Constituem objetivos fundamentais da República Federativa do Brasil:
I - construir uma sociedade livre, justa e solidária;
II - garantir o desenvolvimento nacional;
§ 1º A lei disporá sobre os objetivos.
§ 2º Os objetivos são permanentes.
Art. 5º-A Todos são iguais perante a lei:
a) sem distinção de qualquer natureza;
b) com garantia de inviolabilidade.

ATO DAS DISPOSIÇÕES CONSTITUCIONAIS TRANSITÓRIAS
Art. 1º O Presidente da República prestará o compromisso de manter, defender e cumprir a Constituição.
Art. 2º No dia 7 de setembro de 1993 o eleitorado definirá, através de plebiscito, a forma de governo.
"""

# Modelled on the French constitution of 1958.
FRENCH = """CONSTITUTION DU 4 OCTOBRE 1958

PRÉAMBULE
Le peuple français proclame solennellement son attachement aux Droits de l'homme et aux principes de la souveraineté nationale.

TITRE PREMIER
DE LA SOUVERAINETÉ

Article 1er
La France est une République indivisible, laïque, démocratique et sociale.
La loi favorise l'égal accès des femmes et des hommes aux mandats électoraux.

Article 2
La langue de la République est le français.
I. – L'emblème national est le drapeau tricolore.
II. – L'hymne national est la Marseillaise.
1° la devise de la République est « Liberté, Égalité, Fraternité » ;
2° son principe est : gouvernement du peuple, par le peuple et pour le peuple.

TITRE II
LE PRÉSIDENT DE LA RÉPUBLIQUE

CHAPITRE Ier
Dispositions générales

Art. 5. - Le Président de la République veille au respect de la Constitution.

DISPOSITIONS TRANSITOIRES
Article 1er
Les institutions de la République seront mises en place dans un délai de quatre mois.
"""

# A municipal by-law whose sections carry no article word: "1. Definitions".
BY_LAW = """CITY OF CAPE TOWN FEES BY-LAW, 2015

Preamble
Whereas the City may charge fees for the services it provides;

1. Definitions
In this by-law, unless the context indicates otherwise—
(a) "City" means the City of Cape Town;
(b) "fee" means a charge set by the Council.

2. Application
This by-law applies to every service the City provides.

3. Fees payable
(1) A person who uses a service must pay the fee.
(2) The City Manager may recover any unpaid fee.
"""


def _outline(built):
    return [(u.kind, u.label, u.heading, u.text) for u in iter_units(built.units)]


def test_the_language_of_a_text_is_told_from_its_article_words_and_common_words():
    assert detect_language(PORTUGUESE) == "por"
    assert detect_language(FRENCH) == "fra"
    assert detect_language(BY_LAW) == "eng"
    assert detect_language("Artículo 1\nToda persona tiene derecho a la ciudad y a sus servicios.") == "spa"


def test_a_portuguese_constitution_keeps_its_articles_incisos_paragraphs_and_transitory_act():
    built = import_text(PORTUGUESE)
    assert built.meta["language"] == "por"
    units = list(iter_units(built.units))
    labels = [u.label for u in units]
    assert labels[:8] == ["", "TÍTULO I", "Art. 1", "I -", "II -", "III -", "§ único", "Art. 2"]
    first = units[2]
    # The text after "Art. 1º" is the article's first paragraph, never its heading.
    assert first.heading == "" and first.text.startswith("A República Federativa do Brasil")
    assert [c.label for c in first.children] == ["I -", "II -", "III -", "§ único"]
    assert first.children[-1].text.startswith("Todo o poder emana do povo")
    third = next(u for u in units if u.label == "Art. 3")
    assert [c.label for c in third.children] == ["I -", "II -", "§ 1", "§ 2"]
    assert any(u.label == "Art. 5-A" for u in units)
    transitory = [u for u in units if u.eid.startswith("transitional_1__art")]
    assert [u.label for u in transitory] == ["Art. 1 (transitório)", "Art. 2 (transitório)"]
    assert transitory[1].text.startswith("No dia 7 de setembro de 1993")
    assert built.findings == []


def test_a_french_constitution_keeps_its_first_title_and_article_and_reads_no_sentence_as_a_heading():
    built = import_text(FRENCH)
    assert built.meta["language"] == "fra"
    outline = _outline(built)
    assert outline[1][:3] == ("title", "TITRE I", "DE LA SOUVERAINETÉ")
    kind, label, heading, text = outline[2]
    assert (label, heading) == ("Article 1", "")  # "Article 1er"; a sentence ending in a full stop is text
    assert text.split("\n")[0] == "La France est une République indivisible, laïque, démocratique et sociale."
    second = next(u for u in iter_units(built.units) if u.label == "Article 2")
    assert [c.label for c in second.children] == ["I.", "II."]
    assert [c.label for c in second.children[1].children] == ["1°", "2°"]
    assert ("chapter", "CHAPITRE I", "Dispositions générales", "") in outline
    assert any(label == "Article 5" and text.startswith("Le Président") for _, label, _, text in outline)
    assert outline[-1][1] == "Article 1 (transitoire)"


def test_portuguese_and_french_texts_round_trip_through_text_and_export_valid_akn():
    for source, code in ((PORTUGUESE, "por"), (FRENCH, "fra")):
        built = import_text(source)
        again = import_text(render_text(built.units, built.meta["title"], code))
        assert again.meta["language"] == code
        assert _outline(again) == _outline(built)
        root = export_akn(built.units, Work(place="br" if code == "por" else "fr", doctype="act", date="1988-10-05",
                                            number="constituicao", title=built.meta["title"]),
                          Expression(language=code, date="1988-10-05"))
        assert validate(root) == [], code
        assert root.find(".//a:FRBRExpression/a:FRBRlanguage", NS).get("language") == code


def test_a_by_law_numbered_1_definitions_reads_as_sections_and_says_so():
    built = import_text(BY_LAW)
    sections = [u for u in iter_units(built.units) if u.kind == "article"]
    assert [(u.num, u.heading) for u in sections] == [("1", "Definitions"), ("2", "Application"), ("3", "Fees payable")]
    assert sections[0].text.startswith("In this by-law")
    assert [c.text for c in sections[0].children] == ['"City" means the City of Cape Town;',
                                                        '"fee" means a charge set by the Council.']
    assert sections[2].children[1].text == "The City Manager may recover any unpaid fee."
    # The preamble is only the preamble: the sections after it are not swallowed.
    assert built.units[0].kind == "preamble" and built.units[0].text.startswith("Whereas the City")
    rule = [f.message for f in built.findings if "names no article" in f.message]
    assert rule and "3 lines of the form “1. Heading”" in rule[0]


def test_numerals_inside_articles_are_not_taken_for_sections():
    text = ("Artículo 1\nDel agua\nToda persona tiene derecho:\n1. Al agua potable.\n2. Al saneamiento.\n\n"
            "Artículo 2\nDe la ciudad\nLa ciudad es de todos.\n")
    built = import_text(text)
    assert [u.label for u in iter_units(built.units)] == ["Artículo 1", "1.", "2.", "Artículo 2"]
    assert not any("names no article" in f.message for f in built.findings)


def test_the_language_option_overrides_detection_and_an_unknown_language_is_refused(app):
    from test_fuzz_api import signed_in

    admin, token = signed_in(app, "admin")
    headers = {"X-CSRFToken": token, "Accept-Language": "en"}
    # A short French text that detection alone takes for English: "Article 2", and no common word.
    short = "Article 1\nLa France.\n\nArticle 2\nLa langue.\n"
    assert detect_language(short) == "eng"
    created = admin.post("/api/v1/documents", data={"text": short, "format": "text", "slug": "loi",
                                                    "title": "Loi", "language": "fra"}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    assert created.get_json()["language"] == "fra"
    akn = etree.fromstring(admin.get("/api/v1/documents/loi/akn").data)
    assert akn.find(".//a:FRBRExpression/a:FRBRlanguage", NS).get("language") == "fra"
    assert [a.findtext("a:num", namespaces=NS) for a in akn.findall(".//a:article", NS)] == ["Article 1", "Article 2"]
    page = admin.get("/d/loi").get_data(as_text=True)
    assert '<article class="legal-text" lang="fr">' in page  # read aloud as French, not Spanish
    refused = admin.post("/api/v1/documents", data={"text": short, "format": "text", "slug": "loi-2",
                                                    "title": "Loi", "language": "xx"}, headers=headers)
    assert refused.status_code == 400 and "unknown language 'xx'" in refused.get_json()["error"]
    assert admin.get("/api/v1/documents/loi-2").status_code == 404


# A by-law whose chapters hold parts: the order a plain "PART = title" rule inverted.
INVERTED = """MUNICIPAL PLANNING BY-LAW

CHAPTER 1
GENERAL PROVISIONS

PART 1
Definitions

Section 1
Definitions
In this by-law words have their ordinary meaning.

Section 2
Application
This by-law applies to the whole city.

PART 2
Administration

Section 3
Delegation
The Council may delegate its powers.

CHAPTER 2
ZONING

PART 1
Zoning scheme

Section 4
Zoning map
The City keeps a zoning map.
"""


def test_chapters_that_hold_parts_stay_the_outer_level_with_the_words_the_text_uses():
    built = import_text(INVERTED)
    outline = [(u.label, u.heading, [c.label for c in u.children]) for u in built.units]
    assert outline == [("CHAPTER 1", "GENERAL PROVISIONS", ["PART 1", "PART 2"]),
                       ("CHAPTER 2", "ZONING", ["PART 1"])]
    assert [u.label for u in built.units[0].children[0].children] == ["Section 1", "Section 2"]
    assert any("chapters hold its parts" in f.message for f in built.findings)
    again = import_text(render_text(built.units, built.meta["title"], "eng"))
    assert _outline(again) == _outline(built)
    root = export_akn(built.units, Work(place="za-cpt", doctype="act", date="2015", number="planning",
                                        title=built.meta["title"]), Expression(language="eng", date="2015"))
    assert validate(root) == []
    assert [n.text for n in root.findall(".//a:title/a:num", NS)] == ["CHAPTER 1", "CHAPTER 2"]
    assert root.find(".//a:title/a:chapter/a:num", NS).text == "PART 1"


def test_the_editor_labels_units_with_the_documents_own_words_too():
    import json
    import shutil
    import subprocess

    from conftest import ROOT, require

    require(shutil.which("node") is not None, "node is not installed")
    built = import_text(INVERTED)
    script = ("import('./src/numbering.js').then(m => console.log(JSON.stringify(m.numberUnits(%s, "
              "{language: 'eng', numbering: %s, labels: %s}).map(e => e.label))))")
    tree = [{"kind": u.kind, "children": [{"kind": c.kind, "children": [{"kind": a.kind} for a in c.children]}
                                          for c in u.children]} for u in built.units]
    result = subprocess.run(["node", "--input-type=module", "-e", script % (
        json.dumps(tree), json.dumps(json.dumps(built.meta["numbering"])), json.dumps(json.dumps(built.meta["labels"])))],
        cwd=ROOT / "web", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [u.label for u in iter_units(built.units)]


SCHEDULED = """LEY DE AGUAS DE LA CIUDAD

Artículo 1
Objeto
Esta ley regula el agua.

Artículo 2
Tarifas
Las tarifas son las del anexo 1.

TRANSITORIOS

PRIMERO.- Esta ley entra en vigor al día siguiente.

ANEXO 1
Tarifas por consumo
Las tarifas mensuales son:
Consumo | Tarifa
0 a 10 m3 | 50 pesos
Artículo 1
Las tarifas se actualizan cada año.

ANEXO ÚNICO
Mapa de zonas
Zona norte y zona sur.
"""


def test_a_texts_annexes_and_their_tables_are_read_after_its_transitory_articles_and_written_back():
    from akoma_ntoso import Table

    built = import_text(SCHEDULED)
    annexes = [u for u in built.units if u.kind == "attachment"]
    assert [(u.label, u.heading) for u in annexes] == [("ANEXO 1", "Tarifas por consumo"), ("ANEXO ÚNICO", "Mapa de zonas")]
    first = annexes[0]
    assert first.blocks == ("Las tarifas mensuales son:", Table((("Consumo", "Tarifa"), ("0 a 10 m3", "50 pesos"))))
    assert [(c.label, c.eid) for c in first.children] == [("Artículo 1", "att_1__art_1")]  # counted within the annex
    assert [u.kind for u in built.units] == ["article", "article", "transitional", "attachment", "attachment"]
    again = import_text(render_text(built.units, built.meta["title"], "spa"))
    assert [(u.label, u.heading, u.blocks) for u in iter_units(again.units)] == \
        [(u.label, u.heading, u.blocks) for u in iter_units(built.units)]
    root = export_akn(built.units, Work(place="mx-cmx", doctype="act", date="2024", number="aguas", title="Aguas"),
                      Expression(language="spa", date="2024"))
    assert validate(root) == []
    assert len(root.findall(".//a:attachments/a:attachment", NS)) == 2
    assert [td.findtext("a:p", namespaces=NS) for td in root.findall(".//a:attachment//a:table//a:td", NS)] == [
        "Consumo", "Tarifa", "0 a 10 m3", "50 pesos"]


def test_the_table_of_contents_names_a_unit_without_its_notes_call(app):
    from test_fuzz_api import signed_in

    from akoma_ntoso.akn import AKN_NS as NS_URI

    admin, token = signed_in(app, "admin")
    uri = "/akn/us/act/2011/1"
    source = (f'<akomaNtoso xmlns="{NS_URI}"><act name="act"><meta><identification source="#x"><FRBRWork>'
              f'<FRBRthis value="{uri}/!main"/><FRBRuri value="{uri}"/><FRBRdate date="2011" name="x"/>'
              '<FRBRauthor href="#x"/><FRBRcountry value="us"/></FRBRWork><FRBRExpression>'
              f'<FRBRthis value="{uri}/eng@/!main"/><FRBRuri value="{uri}/eng@"/><FRBRdate date="2011" name="x"/>'
              '<FRBRauthor href="#x"/><FRBRlanguage language="eng"/></FRBRExpression><FRBRManifestation>'
              f'<FRBRthis value="{uri}/eng@/!main"/><FRBRuri value="{uri}/eng@"/><FRBRdate date="2011" name="x"/>'
              '<FRBRauthor href="#x"/></FRBRManifestation></identification></meta><body><section eId="sec_1">'
              '<num>1.</num><heading>Short title<authorialNote eId="n_1" marker="†"><p>Cup Act.</p></authorialNote>'
              '</heading><content><p>This Act is the Cup Act.</p></content></section></body></act></akomaNtoso>')
    created = admin.post("/api/v1/documents", data={"text": source, "format": "akn", "slug": "cup", "title": "Cup Act"},
                         headers={"X-CSRFToken": token, "Accept-Language": "en"})
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    page = admin.get("/d/cup").get_data(as_text=True)
    toc = page.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert "Section 1 · Short title</a>" in toc and "†" not in toc
    assert '<sup class="note-call">†</sup>' in page and "Cup Act." in page  # the text keeps the note


def test_the_import_report_of_the_mexico_city_constitution_speaks_spanish_to_a_spanish_reader(app):
    """Issue 22's 'messages in Spanish': every finding of the constitution's import, in Spanish."""
    from conftest import SHARED_DATA, require
    from lxml import html
    from test_fuzz_api import signed_in

    source = SHARED_DATA / "cdmx" / "constitucion-politica-cdmx.txt"
    require(source.exists(), f"the Mexico City constitution is not at {source}")
    admin, token = signed_in(app, "admin")
    reports = {}
    for language, slug in (("es", "cdmx-es"), ("en", "cdmx-en")):
        page = admin.post("/import", data={"text": source.read_text(encoding="utf-8"), "format": "text", "slug": slug,
                                           "doctype": "act", "csrf_token": token},
                          headers={"Accept-Language": language, "X-CSRFToken": token})
        assert page.status_code == 201, page.get_data(as_text=True)[:300]
        reports[language] = [" ".join(li.text_content().split()) for li in
                             html.fromstring(page.get_data(as_text=True)).xpath("//ul[@class='findings']/li")]
    spanish, english = reports["es"], reports["en"]
    assert len(spanish) == len(english) >= 20
    english_words = re.compile(r"\b(the|not imported|was kept|were kept|line|lines|paragraphs?|comes?|reads)\b")
    assert [finding for finding in spanish if english_words.search(finding)] == []
    assert spanish[0].startswith("línea 1 No se importaron líneas 1–25 (13 párrafos) antes de «PREÁMBULO»")
    assert english[0].startswith("line 1 lines 1–25 (13 paragraphs) before “PREÁMBULO” (line 29) not imported")
