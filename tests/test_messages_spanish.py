"""Every message in both languages, linked to its unit (issue 22).

Import findings (plain text, Akoma Ntoso, Word), petition-reference reports and the domain's
refusals (stages, reviews, petition CSV rows, amendments) go through the same catalogue as the
interface: a Spanish browser reads them in Spanish, an English one in English. A finding made
where a unit stands links to that unit's address.
"""

from __future__ import annotations

import io
import re

from conftest import CDMX_TEXT, PUBLISHED, SHARED_DATA, require
from lxml import html
from test_fuzz_api import signed_in

#: Words only an English sentence of these reports has (the Spanish ones quote the law, which is Spanish).
ENGLISH = re.compile(r"\b(the|not imported|was kept|were kept|line|lines|paragraphs?|comes?|reads|is no|"
                     r"nested|schedule|outside|underlined|table of|namespace|language|labels|there is|has no)\b")


def _report(admin, token, language: str, data: bytes, filename: str, slug: str, fmt: str):
    """The import page's report as (code, eid, where, message) per finding, in `language`."""
    page = admin.post("/import", data={"file": (io.BytesIO(data), filename), "format": fmt, "slug": slug,
                                       "doctype": "act", "csrf_token": token},
                      headers={"Accept-Language": language, "X-CSRFToken": token}, content_type="multipart/form-data")
    assert page.status_code == 201, page.get_data(as_text=True)[:500]
    found = []
    for item in html.fromstring(page.get_data(as_text=True)).xpath("//ul[@class='findings']/li"):
        where = " ".join(item.xpath("string(*[contains(@class, 'where')])").split())
        text = " ".join(item.text_content().split())
        found.append((item.get("data-code"), item.get("data-eid"), where, text[len(where):].strip()))
    return found


def _both(app, data: bytes, filename: str, fmt: str, slug: str):
    admin, token = signed_in(app, "admin")
    spanish = _report(admin, token, "es", data, filename, f"{slug}-es", fmt)
    english = _report(admin, token, "en", data, filename, f"{slug}-en", fmt)
    assert len(spanish) == len(english) and spanish, (spanish, english)
    return admin, spanish, english


def _said_in_spanish(spanish, english) -> None:
    """Each Spanish finding has a code, differs from its English reading and has no English words."""
    for (code, eid, where, text), (en_code, en_eid, en_where, en_text) in zip(spanish, english, strict=True):
        assert code and code == en_code and eid == en_eid, (code, en_code)
        assert text != en_text, f"the same in both languages: {text}"
        assert where == en_where or re.fullmatch(r"(línea|párrafo)s? [\d–, y]+", where), (where, en_where)
        assert not ENGLISH.search(f"{where} {text}"), f"English in the Spanish report: {where} {text}"


def test_the_mexico_city_import_report_in_a_spanish_browser_has_no_english_message(app):
    require(CDMX_TEXT.exists(), f"the Mexico City constitution is not at {CDMX_TEXT}")
    admin, spanish, english = _both(app, CDMX_TEXT.read_bytes(), "cdmx.txt", "text", "cdmx")
    assert len(spanish) >= 20
    _said_in_spanish(spanish, english)
    assert spanish[0][2:] == ("línea 1", spanish[0][3]) and spanish[0][3].startswith("No se importaron líneas 1–25")
    assert english[0][2] == "line 1" and english[0][3].startswith("lines 1–25 (13 paragraphs) before “PREÁMBULO”")
    # A finding about a unit links to it: the paragraph kept under inciso g) of Artículo 17, A, 1.
    trailing = next(f for f in spanish if f[0] == "text.trailing" and f[2] == "línea 1234")
    assert trailing[1] == "art_17__para_A__subpara_1__indent_g"
    assert admin.get(f"/d/cdmx-es/{trailing[1]}").status_code == 200
    # What lies outside every unit (the publication data before the preamble) links to none.
    assert spanish[0][1] is None
    linked = [f for f in spanish if f[1]]
    assert len(linked) >= 15 and {f[0] for f in linked} >= {"text.nesting", "text.sub_heading", "text.trailing"}


def test_an_akoma_ntoso_import_report_reads_in_spanish_and_links_the_unit_concerned(app):
    source = SHARED_DATA / "akn" / "uk_asp-2017-1-enacted-data.akn.xml"
    require(source.exists(), f"the Scottish act is not at {source}")
    _admin, spanish, english = _both(app, source.read_bytes(), "asp.xml", "akn", "asp")
    _said_in_spanish(spanish, english)
    assert [f[0] for f in spanish] == ["akn.work_uri", "akn.text_after_subunits"]
    assert spanish[1][3].startswith("en el modelo, el texto de cierre (wrapUp) no puede ir después de las subunidades")
    assert english[1][3].startswith("closing text (wrapUp) cannot follow sub-units in the model")
    assert spanish[1][1] and spanish[0][1] is None  # the wrapUp's subsection; the work URI is no unit's


def test_a_word_import_report_reads_in_spanish(app):
    from test_interchange import _word_draft

    _admin, spanish, english = _both(app, _word_draft(), "movilidad.docx", "docx", "movilidad")
    _said_in_spanish(spanish, english)
    underline = next(f for f in spanish if f[0] == "docx.underline")
    assert underline[2].startswith("párrafo ") and "subrayadas de 1 párrafo" in underline[3]


def test_the_import_api_gives_findings_in_the_request_language_with_codes_and_units(app):
    source = SHARED_DATA / "akn" / "uk_asp-2017-1-enacted-data.akn.xml"
    require(source.exists(), f"the Scottish act is not at {source}")
    admin, token = signed_in(app, "admin")
    answers = {}
    for language in ("es", "en"):
        created = admin.post("/api/v1/documents", data={"file": (io.BytesIO(source.read_bytes()), "asp.xml"),
                                                        "slug": f"asp-{language}"},
                             headers={"X-CSRFToken": token, "Accept-Language": language},
                             content_type="multipart/form-data")
        assert created.status_code == 201, created.get_data(as_text=True)[:300]
        answers[language] = created.get_json()["findings"]
    spanish, english = answers["es"], answers["en"]
    assert [f["code"] for f in spanish] == [f["code"] for f in english] == ["akn.work_uri", "akn.text_after_subunits"]
    assert spanish[1]["message"].startswith("en el modelo") and english[1]["message"].startswith("closing text")
    assert spanish[1]["unit"] == english[1]["unit"] and spanish[1]["url"] == f"/d/asp-es/{spanish[1]['unit']}"
    assert admin.get(spanish[1]["url"]).status_code == 200
    assert "unit" not in spanish[0]


# --- the domain's refusals, in the request's language -------------------------------------------------


def _refused(client, method: str, url: str, language: str, token: str, **kwargs) -> tuple[int, str]:
    response = client.open(url, method=method, headers={"X-CSRFToken": token, "Accept-Language": language}, **kwargs)
    body = response.get_json()
    return response.status_code, body["error"]


def _both_refusals(client, method: str, url: str, token: str, **kwargs):
    status_es, spanish = _refused(client, method, url, "es", token, **kwargs)
    status_en, english = _refused(client, method, url, "en", token, **kwargs)
    assert status_es == status_en and status_es >= 400
    assert spanish != english
    return status_es, spanish, english


def test_a_stage_error_reads_in_the_request_language(app):
    admin, token = signed_in(app, "admin")
    status, spanish, english = _both_refusals(admin, "GET", f"/api/v1/documents/{PUBLISHED}/diff?from=99&to=live", token)
    assert status == 404
    assert spanish == f"{PUBLISHED} no tiene versión 99" and english == f"{PUBLISHED} has no version 99"
    status, spanish, english = _both_refusals(admin, "POST", f"/api/v1/documents/{PUBLISHED}/stages/advance", token,
                                              json={"expect": "adopted"})
    assert status == 400
    assert spanish.startswith("el documento ya no está en la etapa que usted vio")
    assert english.startswith("the document is no longer in the stage you saw")


def test_a_petition_csv_row_error_reads_in_the_request_language(app):
    admin, token = signed_in(app, "admin")
    url = f"/api/v1/documents/{PUBLISHED}/petitions/import?format=csv"
    data = b"title,signatures\nAgua,10\nBosques,muchas\n"
    status, spanish, english = _both_refusals(admin, "POST", url, token, data=data, content_type="text/csv")
    assert status == 400
    assert english == "line 3, signatures: 'muchas' is not a whole number"
    assert spanish == "línea 3, signatures: 'muchas' no es un número entero"


def test_a_review_error_reads_in_the_request_language(app):
    admin, token = signed_in(app, "admin")
    imported = admin.post(f"/api/v1/documents/{PUBLISHED}/petitions/import?format=csv",
                          data=b"title,signatures,final_text_refs\nAgua,10,Art. 1\n", content_type="text/csv",
                          headers={"X-CSRFToken": token, "Accept-Language": "en"})
    assert imported.status_code == 200, imported.get_data(as_text=True)[:300]
    petition = imported.get_json()["links"][0]["petition"]
    url = f"/api/v1/documents/{PUBLISHED}/reviews/{petition}/link"
    body = {"name": "Colectivo Agua", "email": "agua@example.net", "language": "es", "days": 7}
    status, spanish, english = _both_refusals(admin, "POST", url, token, json=body)
    assert status == 409  # the document is in drafting, not in the petitioner consultation
    assert english.startswith("Review links are issued during the petitioner consultation")
    assert spanish.startswith("Los enlaces de revisión")


def test_an_amendment_error_reads_in_the_request_language(app):
    from sqlalchemy import select

    from editor.documents import get_document
    from editor.models import User
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance

    services = app.extensions["constituent"]
    with app.app_context():  # to the assembly, where its members table amendments
        document = get_document(services.db, PUBLISHED)
        admin = services.db.scalar(select(User).where(User.email == "admin@example.org"))
        while current_stage(services.db, document).key != "assembly":
            advance(services, document, admin)
    asa, token = signed_in(app, "asa")
    status, spanish, english = _both_refusals(asa, "POST", f"/api/v1/documents/{PUBLISHED}/amendments", token,
                                              json={"kind": "substitution", "units": ["no-such-unit"]})
    assert status == 400
    assert english == "There is no unit 'no-such-unit' in the text."
    assert spanish == "No hay ninguna unidad 'no-such-unit' en el texto."


def test_a_petition_reference_report_reads_in_the_request_language(app):
    admin, token = signed_in(app, "admin")
    url = f"/api/v1/documents/{PUBLISHED}/petitions/import?format=csv"
    answers = {}
    for language, title in (("es", "Agua"), ("en", "Bosques")):
        imported = admin.post(url, data=f"title,signatures,final_text_refs\n{title},10,\"Art. 9. Art. 2, Z\"\n".encode(),
                              content_type="text/csv", headers={"X-CSRFToken": token, "Accept-Language": language})
        assert imported.status_code == 200, imported.get_data(as_text=True)[:300]
        (report,) = imported.get_json()["links"]
        answers[language] = report["unresolved"]
    # The reference that reaches a unit before naming nothing links to that unit.
    assert answers["en"] == [{"reference": "Art. 9", "problem": "there is no Artículo 9"},
                             {"reference": "Art. 2, Z", "problem": "Artículo 2 has no apartado Z", "eid": "art_2"}]
    assert answers["es"] == [{"reference": "Art. 9", "problem": "Artículo 9 no existe"},
                             {"reference": "Art. 2, Z", "problem": "Artículo 2 no tiene apartado Z", "eid": "art_2"}]


def test_a_survey_csv_row_error_reads_in_the_request_language_and_in_english_on_the_command_line(app):
    import pytest

    from editor.documents import get_document
    from editor.survey.service import SurveyError, import_survey

    data = b"respondent,responded_at,borough,neighbourhood,Q\nA,2016-05-01,Tlalpan,,x\nB,ayer,Tlalpan,,y\n"
    services = app.extensions["constituent"]
    said = {}
    for language in ("es", "en", None):  # None: outside a request, as the command line runs it
        with (app.test_request_context(headers={"Accept-Language": language}) if language else app.app_context()):
            with pytest.raises(SurveyError) as refused:
                import_survey(services.db, get_document(services.db, PUBLISHED), data, "csv")
            services.db.rollback()
        said[language] = str(refused.value)
    assert said["en"] == said[None] == "nothing was imported: row 3, column responded_at: 'ayer' is not a date " \
                                       "(use YYYY-MM-DD or an ISO 8601 date and time)"
    assert said["es"] == "no se importó nada: fila 3, columna responded_at: 'ayer' no es una fecha " \
                         "(use AAAA-MM-DD o una fecha y hora ISO 8601)"
