"""The survey: imports (JSON, CSV, the real questions file), validation that changes nothing,
receipts, the synthesizer, counts and spikes, the analysts' pages and the respondents' receipt."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import uuid
from datetime import date

import pytest
import requests
from conftest import (
    ACCOUNTS,
    BROWSER_ARGS,
    CHROMIUM,
    DRAFT,
    PASSWORD,
    PUBLISHED,
    SHARED_DATA,
    LiveServer,
    close_app,
    require,
)
from sqlalchemy import func, select

from akoma_ntoso import iter_units
from editor.provenance.models import ProvenanceLink
from editor.survey import coder as coder
from editor.survey.models import Answer, Coding, Respondent, Survey, SurveyQuestion, Theme
from editor.survey.service import (
    SurveyError,
    find_respondent,
    import_survey,
    normalize_receipt,
    read_questions_csv,
    real_neighbourhoods,
    real_questions,
    synthesize_survey,
)

SURVEY_2016 = SHARED_DATA / "cdmx" / "survey-2016"
PREGUNTAS = SURVEY_2016 / "preguntas.csv"


@pytest.fixture(autouse=True)
def _real_survey_files():
    """The synthesizer and several tests read the real 2016 questions and neighbourhoods."""
    require(PREGUNTAS.exists(), f"the real 2016 survey files are not at {SURVEY_2016}")

SMALL = {
    "title": "Encuesta de prueba",
    "questions": [
        {"text": "¿En qué delegación?", "widget": "select"},
        {"text": "¿Cuáles son las tres primeras palabras?", "widget": "input"},
        {"text": "¿Qué otro reto tienes en mente?", "widget": "textarea"},
    ],
    "respondents": [
        {"id": "R1", "borough": "Xochimilco", "neighbourhood": "SAN LUCAS ORIENTE",
         "responded_at": "2016-03-15T10:00:00-06:00",
         "answers": {"¿En qué delegación?": "Xochimilco", "2": "agua, trajineras y canales",
                     "3": "Que haya agua en mi colonia todos los días"}},
        {"id": "R2", "borough": "Iztapalapa", "neighbourhood": "SANTA CRUZ MEYEHUALCO",
         "responded_at": "2016-03-16",
         "answers": {"2": "Inseguridad, tráfico, la inseguridad en las calles", "3": "Acabar con los asaltos"}},
        {"id": "R3", "borough": "Iztapalapa", "neighbourhood": "SAN LORENZO TEZONCO",
         "responded_at": "2016-04-20T18:30:00Z",
         "answers": {"2": "seguridad pública, el agua", "3": "nada"}},
    ],
}


def _json(doc=SMALL, **changes) -> bytes:
    data = json.loads(json.dumps(doc))
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


@pytest.fixture
def app(instance):
    from editor import create_app

    application = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                              "RECEIPT_RATE_LIMIT": "1000 per minute"})
    yield application
    close_app(application)


@pytest.fixture
def db(app):
    """A session of its own on the application's database (no application context held, so that
    each test-client request runs as it would in production)."""
    from sqlalchemy.orm import Session

    with Session(app.extensions["constituent"].engine, expire_on_commit=False) as session:
        yield session


def _document(db, slug=PUBLISHED):
    from editor.documents import get_document

    return get_document(db, slug)


def _rows(db) -> dict:
    return {model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (Survey, SurveyQuestion, Respondent, Answer, Theme, Coding)}


def _counts(db, document) -> dict[str, int]:
    return {c.theme.key: c.respondents for c in coder.theme_counts(db, document)}


def _client(app, who: str | None = None):
    client = app.test_client()
    if who:
        response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD})
        assert response.status_code == 302
    return client


# --- imports -----------------------------------------------------------------------------------


def test_a_json_survey_is_imported_coded_and_counted_by_respondent(db):
    document = _document(db)
    result = import_survey(db, document, _json(), "json")
    db.commit()
    assert (result.respondents, result.answers) == (3, 7)
    assert result.survey.title == "Encuesta de prueba" and not result.survey.synthetic
    coded = {q.text: q.coded for q in db.scalars(select(SurveyQuestion).where(SurveyQuestion.survey_id == result.survey.id))}
    assert coded == {"¿En qué delegación?": False, "¿Cuáles son las tres primeras palabras?": True,
                     "¿Qué otro reto tienes en mente?": True}
    assert len(coder.themes_of(db, document)) == len(coder.DEFAULT_THEMES)  # the default taxonomy came with it
    coder.code_survey(db, result.survey)
    db.commit()
    counts = _counts(db, document)
    # R1 names water in two answers and counts once; R3 once: respondents, not answers.
    assert counts["agua"] == 2
    assert counts["inseguridad"] == 2 and counts["movilidad"] == 1 and counts["corrupcion"] == 0
    shares = {c.theme.key: c.share for c in coder.theme_counts(db, document)}
    assert shares["agua"] == pytest.approx(2 / 3)
    boroughs = {b.borough: b for b in coder.counts_by_borough(db, document)}
    assert boroughs["Iztapalapa"].respondents == 2 and boroughs["Iztapalapa"].themes["inseguridad"] == 2
    assert boroughs["Xochimilco"].themes == {"agua": 1}
    weeks = coder.counts_by_week(db, document)
    assert [(w.week, w.respondents) for w in weeks] == [(date(2016, 3, 14), 2), (date(2016, 4, 18), 1)]
    water = db.scalar(select(Theme).where(Theme.document_id == document.id, Theme.key == "agua"))
    assert coder.theme_respondents(db, water) == 2
    # The one-pass overview agrees with the separate counts.
    summary = coder.overview(db, document)
    assert {c.theme.key: c.respondents for c in summary.themes} == counts
    assert [(b.borough, b.themes) for b in summary.boroughs] == [(b.borough, b.themes) for b in coder.counts_by_borough(db, document)]


def test_a_csv_survey_with_the_real_questions_file(db):
    document = _document(db)
    questions = read_questions_csv(open(PREGUNTAS, "rb").read())
    assert len(questions) == 32
    coded = [q.text for q in questions if q.coded]
    # Free text about the city is coded; the occupation (a profile question) and closed questions are not.
    assert "¿A qué te dedicas?" not in coded and len(coded) == 7
    assert coded[0].startswith("¿Cuáles son las tres primeras palabras")
    words, challenge = questions[24].text, questions[26].text
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["respondent", "responded_at", "borough", "neighbourhood", "¿A qué te dedicas?", words, challenge])
    writer.writerow(["A-1", "2016-05-02", "Coyoacán", "CIUDAD JARDIN", "Maestra de primaria", "Cultura, museos, smog", ""])
    writer.writerow(["A-2", "2016-05-03T12:00:00", "Tlalpan", "ISIDRO FABELA", "Estudiante", "tráfico", "La corrupción"])
    result = import_survey(db, document, out.getvalue().encode(), "csv", questions=questions)
    db.commit()
    assert (result.respondents, result.answers) == (2, 5)
    assert [label for label, _code in result.receipts] == ["A-1", "A-2"]
    coder.code_survey(db, result.survey)
    db.commit()
    counts = _counts(db, document)
    assert counts["cultura"] == 1 and counts["contaminacion"] == 1 and counts["movilidad"] == 1
    assert counts["corrupcion"] == 1 and counts["educacion"] == 0  # "Maestra" is not coded: a profile answer


def test_a_csv_survey_without_a_questions_file_codes_every_question_column(db):
    document = _document(db)
    data = "respondent,responded_at,borough,neighbourhood,¿Qué te preocupa?\n,2016-06-01,Tlalpan,,la basura\n"
    result = import_survey(db, document, data.encode(), "csv", title="Consulta vecinal")
    coder.code_survey(db, result.survey)
    db.commit()
    assert result.survey.title == "Consulta vecinal" and result.receipts[0][0] == "1"
    assert _counts(db, document)["basura"] == 1


@pytest.mark.parametrize(("fmt", "data", "message"), [
    ("json", b"", "the survey file is empty"),
    ("json", b"{not json", "not valid JSON"),
    ("json", _json(respondents=[{**SMALL["respondents"][0], "responded_at": "2016-13-45"}]),
     "respondent 1 (R1), responded_at: '2016-13-45' is not a date"),
    ("json", _json(respondents=[SMALL["respondents"][0], {**SMALL["respondents"][1], "answers": {"¿Color?": "azul"}}]),
     "respondent 2 (R2), answers: '¿Color?' is not one of the 3 questions"),
    ("json", _json(respondents=[SMALL["respondents"][0], SMALL["respondents"][0]]), "'R1' is already respondent 1"),
    ("json", _json(respondents=[{**SMALL["respondents"][0], "answers": {"9": "x"}}]), "'9' is not one of the 3 questions"),
    ("json", _json(respondents=[{**SMALL["respondents"][0], "borough": "x" * 121}]), "borough: longer than 120"),
    ("json", _json(questions=[{"text": "¿Uno?", "widget": "slider"}]), "question 1, widget: 'slider'"),
    ("csv", b"respondent,borough,neighbourhood,Q\nA,Tlalpan,,x\n", "lacks the column(s) responded_at"),
    ("csv", b"respondent,responded_at,borough,neighbourhood,Q\nA,2016-05-01,Tlalpan,,x\nB,ayer,Tlalpan,,y\n",
     "row 3, column responded_at: 'ayer' is not a date"),
    ("csv", b"respondent,responded_at,borough,neighbourhood,Q\nA,2016-05-01,Tlalpan,x\n", "row 2: 4 fields; the header has 5"),
    ("csv", b"respondent,responded_at,borough,neighbourhood\n", "names no question columns"),
    ("csv", b"respondent,responded_at,borough,neighbourhood,Q\n", "no respondents"),
    ("csv", "respondent,responded_at,borough,neighbourhood,Q\nA,2016-05-01,Tlalpan,,ñ\n".encode("latin-1"), "not UTF-8"),
])
def test_a_bad_survey_file_is_refused_with_where_and_changes_nothing(db, fmt, data, message):
    document = _document(db)
    before = _rows(db)
    with pytest.raises(SurveyError) as refused:
        import_survey(db, document, data, fmt)
    assert message in str(refused.value)
    db.rollback()
    assert _rows(db) == before
    assert before["Theme"] == 0  # not even the taxonomy


def test_csv_columns_must_be_questions_of_the_questions_file(db):
    questions = read_questions_csv(open(PREGUNTAS, "rb").read())
    data = "respondent,responded_at,borough,neighbourhood,¿Color favorito?\nA,2016-05-01,Tlalpan,,azul\n".encode()
    with pytest.raises(SurveyError, match=r"column 5 \('¿Color favorito\?'\)"):
        import_survey(db, _document(db), data, "csv", questions=questions)
    with pytest.raises(SurveyError, match="questions line 2, column 3"):
        read_questions_csv("Edad,3,text\nGénero,2,slider\n".encode())


# --- receipts ------------------------------------------------------------------------------------


def test_receipt_codes_are_random_readable_and_stored_only_as_hashes(db):
    document = _document(db)
    result = synthesize_survey(db, document, respondents=400, seed=7)
    db.commit()
    codes = [code for _label, code in result.receipts]
    assert len(set(codes)) == 400
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", c) for c in codes)
    # Not derived from the seed: a second synthesis with the same seed gets other codes.
    again = synthesize_survey(db, _document(db, DRAFT), respondents=400, seed=7)
    assert not set(codes) & {c for _l, c in again.receipts}
    stored = set(db.scalars(select(Respondent.receipt_hash)))
    code = codes[0]
    canonical = code.replace("-", "")
    assert hashlib.sha256(canonical.encode()).hexdigest() in stored
    assert not any(canonical in h or code in h for h in stored)
    # Typed in lower case, without dashes, with O for 0 and l for 1: the same respondent.
    sloppy = canonical.lower().replace("0", "o").replace("1", "l")
    assert find_respondent(db, sloppy).id == find_respondent(db, code).id
    assert find_respondent(db, " " + code[:4] + " " + code[5:] + " ").id == find_respondent(db, code).id
    assert normalize_receipt("K7QD-2MZX-9PU4") is None and normalize_receipt("short") is None
    assert find_respondent(db, "0000-0000-0000") is None


# --- the synthesizer ---------------------------------------------------------------------------------


def _answers_of(db, survey):
    return db.execute(
        select(Respondent.borough, Respondent.neighbourhood, Respondent.responded_at, SurveyQuestion.position, Answer.text)
        .join(Answer, Answer.respondent_id == Respondent.id).join(SurveyQuestion, SurveyQuestion.id == Answer.question_id)
        .where(Respondent.survey_id == survey.id).order_by(Respondent.id, SurveyQuestion.position)
    ).all()


def test_synthesize_is_deterministic_labelled_and_uses_the_real_questions_and_places(db):
    first = synthesize_survey(db, _document(db), respondents=500, seed=2016)
    second = synthesize_survey(db, _document(db, DRAFT), respondents=500, seed=2016)
    other = synthesize_survey(db, _document(db, DRAFT), respondents=500, seed=1)
    db.commit()
    assert first.survey.synthetic and "sintéticas" in first.survey.title and "synthetic" in first.survey.source
    rows = _answers_of(db, first.survey)
    assert rows == _answers_of(db, second.survey)
    assert rows != _answers_of(db, other.survey)
    questions = db.scalars(select(SurveyQuestion.text).where(SurveyQuestion.survey_id == first.survey.id)
                           .order_by(SurveyQuestion.position)).all()
    assert questions == [q.text for q in real_questions()] and len(questions) == 32
    places = real_neighbourhoods()
    assert len(places) == 16
    assert {(b, n) for b, n, *_ in rows} <= {(b, n) for b, names in places.items() for n in names}
    assert len({b for b, *_ in rows}) == 16
    days = {moment.date() for _b, _n, moment, _p, _t in rows}
    assert min(days) >= date(2016, 2, 29) and max(days) <= date(2016, 7, 31)
    texts = [t for *_, position, t in rows if position == 25]
    # Varied phrasing: with and without accents, capitals and not.
    assert any("contaminación" in t for t in texts) and any("contaminacion" in t for t in texts)
    assert any(t[:1].isupper() for t in texts) and any(t[:1].islower() for t in texts)


def test_synthetic_counts_are_like_the_case_study_and_the_pollution_spike_is_flagged(db):
    document = _document(db)
    result = synthesize_survey(db, document, respondents=2000, seed=2016)
    coder.code_survey(db, result.survey)
    db.commit()
    question = {q.position: q.id for q in db.scalars(select(SurveyQuestion).where(SurveyQuestion.survey_id == result.survey.id))}
    words = [c.theme.key for c in coder.theme_counts(db, document, question[25])][:5]
    assert words == ["inseguridad", "contaminacion", "corrupcion", "movilidad", "cultura"]
    challenges = [c.theme.key for c in coder.theme_counts(db, document, question[27]) if c.theme.key != "contaminacion"][:6]
    assert challenges == ["corrupcion", "empleo", "movilidad", "agua", "educacion", "pobreza"]
    weeks = coder.counts_by_week(db, document)
    flagged = {(w.week, key) for w in weeks for key in w.spikes}
    assert (date(2016, 3, 14), "contaminacion") in flagged
    assert all(date(2016, 3, 14) <= week <= date(2016, 4, 4) and key == "contaminacion" for week, key in flagged), flagged
    spike = next(w for w in weeks if w.week == date(2016, 3, 14)).spikes["contaminacion"]
    assert spike.share > 0.8 and spike.usual < 0.65


# --- recoding and the taxonomy -------------------------------------------------------------------------


def _imported(db):
    document = _document(db)
    result = import_survey(db, document, _json(), "json")
    coder.code_survey(db, result.survey)
    db.commit()
    return document, result


def _answer(db, text):
    return db.scalar(select(Answer).where(Answer.text == text))


def test_a_manual_recoding_changes_the_counts_and_survives_recoding(app, db):
    document, _result = _imported(db)
    assert _counts(db, document)["inseguridad"] == 2
    answer = _answer(db, "seguridad pública, el agua")
    client = _client(app, "ana")
    page = client.get(f"/d/{PUBLISHED}/survey/answers?theme=inseguridad", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "seguridad pública, el agua" in page.get_data(as_text=True)
    response = client.post(f"/d/{PUBLISHED}/survey/answers/{answer.id}/themes",
                           data={"themes": ["agua", "corrupcion"], "next": f"/d/{PUBLISHED}/survey/answers"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#answer-{answer.id}")
    db.expire_all()
    counts = _counts(db, document)
    assert counts["inseguridad"] == 1 and counts["corrupcion"] == 1 and counts["agua"] == 2
    assert {c.source for c in db.scalars(select(Coding).where(Coding.answer_id == answer.id))} == {"manual"}
    # The analysts' page shows the new count, and re-running the coder leaves the hand coding alone.
    overview = client.get(f"/d/{PUBLISHED}/survey", headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = re.search(r'theme=corrupcion[^>]*>Corrupción</a></th>\s*<td class="n">(\d+)</td>', overview)
    assert row and row.group(1) == "1"
    coder.code_document(db, document)
    db.commit()
    assert _counts(db, document)["corrupcion"] == 1
    # Unknown themes are refused and change nothing; "let the coder decide" gives it back.
    bad = client.post(f"/d/{PUBLISHED}/survey/answers/{answer.id}/themes", data={"themes": ["nope"]})
    assert bad.status_code == 400
    db.expire_all()
    assert _counts(db, document)["corrupcion"] == 1
    client.post(f"/d/{PUBLISHED}/survey/answers/{answer.id}/themes", data={"action": "auto"})
    db.expire_all()
    assert _counts(db, document)["corrupcion"] == 0 and _counts(db, document)["inseguridad"] == 2


def test_the_taxonomy_is_edited_and_the_answers_recoded(app, db):
    document, _result = _imported(db)
    client = _client(app, "ana")
    assert client.get(f"/d/{PUBLISHED}/survey/themes").status_code == 200
    added = client.post(f"/d/{PUBLISHED}/survey/themes",
                        data={"new-name": "Canales", "new-synonyms": "trajineras\ncanales\nmás"})
    assert added.status_code == 302
    duplicate = client.post(f"/d/{PUBLISHED}/survey/themes", data={"new-name": "canales"},
                            headers={"Accept-Language": "en"})
    assert duplicate.status_code == 400 and "already a theme" in duplicate.get_data(as_text=True)
    page = client.get(f"/d/{PUBLISHED}/survey/themes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "never match" in page and "más" in page  # a synonym made only of common words is pointed out
    assert client.post(f"/d/{PUBLISHED}/survey/recode").status_code == 302
    db.expire_all()
    assert _counts(db, document)["canales"] == 1
    theme = db.scalar(select(Theme).where(Theme.document_id == document.id, Theme.key == "inseguridad"))
    edited = client.post(f"/d/{PUBLISHED}/survey/themes/{theme.id}",
                         data={f"t{theme.id}-name": "Inseguridad", f"t{theme.id}-synonyms": "asaltos"})
    assert edited.status_code == 302
    client.post(f"/d/{PUBLISHED}/survey/recode")
    db.expire_all()
    # R2 still by the name ("Inseguridad…") and the new synonym ("los asaltos"); R3's "seguridad
    # pública" no longer, its synonym gone.
    assert _counts(db, document)["inseguridad"] == 1
    assert "inseguridad" not in {t.key for t in coder.themes_by_answer(db, [_answer(db, "seguridad pública, el agua").id]).get(
        _answer(db, "seguridad pública, el agua").id, [])}
    assert coder.synonyms_of(db.get(Theme, theme.id)) == ["asaltos"]
    # Deleting asks first, then takes the codings and the links with it.
    from editor.livetext import read_live
    from editor.provenance.links import create_link

    services = app.extensions["constituent"]
    unit = next(iter_units(read_live(services, PUBLISHED).units))
    create_link(db, document, read_live(services, PUBLISHED).units, unit.guid, "theme", theme.id, "addresses")
    db.commit()
    confirm = client.get(f"/d/{PUBLISHED}/survey/themes/{theme.id}/delete", headers={"Accept-Language": "en"})
    assert confirm.status_code == 200 and "1 clause is linked to it" in confirm.get_data(as_text=True)
    assert db.get(Theme, theme.id) is not None
    theme_id = theme.id
    assert client.post(f"/d/{PUBLISHED}/survey/themes/{theme_id}/delete").status_code == 302
    db.expire_all()
    assert db.get(Theme, theme_id) is None
    assert db.scalar(select(func.count(ProvenanceLink.id)).where(ProvenanceLink.source_kind == "theme")) == 0
    assert db.scalar(select(func.count(Coding.id)).where(Coding.theme_id == theme_id)) == 0


def test_the_analysts_pages_are_for_the_committee(app, db):
    _imported(db)
    anonymous, viewer, committee = _client(app), _client(app, "vera"), _client(app, "ana")
    for path in ("/survey", "/survey/answers", "/survey/themes"):
        assert anonymous.get(f"/d/{PUBLISHED}{path}").status_code == 302  # to the sign-in page
        assert viewer.get(f"/d/{PUBLISHED}{path}").status_code == 403
        assert committee.get(f"/d/{PUBLISHED}{path}").status_code == 200
        assert anonymous.get(f"/d/{DRAFT}{path}").status_code == 404
        assert committee.get(f"/d/no-such-document{path}").status_code == 404
    answer = _answer(db, "nada")
    assert viewer.post(f"/d/{PUBLISHED}/survey/answers/{answer.id}/themes", data={"themes": ["agua"]}).status_code == 403
    assert viewer.post(f"/d/{PUBLISHED}/survey/recode").status_code == 403
    # An answer of another document's survey is not reachable through this one.
    assert committee.post(f"/d/{DRAFT}/survey/answers/{answer.id}/themes", data={"themes": []}).status_code == 404


def test_the_overview_shows_counts_the_synthetic_label_and_the_spike(app, db):
    document = _document(db)
    result = synthesize_survey(db, document, respondents=2000, seed=2016)
    coder.code_survey(db, result.survey)
    db.commit()
    page = _client(app, "ana").get(f"/d/{PUBLISHED}/survey?theme=contaminacion", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Synthetic data" in html and "2,000 respondents" in html
    assert "Iztapalapa" in html and "Milpa Alta" in html
    assert re.search(r'<tr class="survey-spike">\s*<th scope="row">Mar 14, 2016</th>', html)
    assert "Contaminación</strong>: week of Mar 14, 2016" in html
    bad = _client(app, "ana").get(f"/d/{PUBLISHED}/survey?theme=nope", headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and "There is no theme nope" in bad.get_data(as_text=True)


def test_the_answers_page_filters_pages_and_refuses_bad_queries(app, db):
    document = _document(db)
    result = synthesize_survey(db, document, respondents=40, seed=3)
    coder.code_survey(db, result.survey)
    db.commit()
    client = _client(app, "ana")
    first = client.get(f"/d/{PUBLISHED}/survey/answers", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert first.count('class="survey-answer"') == 50 and 'rel="next"' in first
    water = client.get(f"/d/{PUBLISHED}/survey/answers?theme=agua&q=agua", headers={"Accept-Language": "en"})
    texts = re.findall(r'<p class="survey-text" lang="es">([^<]*)</p>', water.get_data(as_text=True))
    assert texts and all("agua" in t.lower() for t in texts)
    none = client.get(f"/d/{PUBLISHED}/survey/answers?theme=none", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "no theme" in none and 'class="badge survey-theme"' not in none
    for query, message in (("page=abc", "whole number"), ("page=999", "There is no page 999"),
                           ("theme=nope", "There is no theme nope"), ("question=x", "There is no coded question x")):
        response = client.get(f"/d/{PUBLISHED}/survey/answers?{query}", headers={"Accept-Language": "en"})
        assert response.status_code == 400 and message in response.get_data(as_text=True), query


# --- the receipt page --------------------------------------------------------------------------------


def _post_receipt(client, code, lang="en"):
    return client.post("/receipt", data={"code": code}, headers={"Accept-Language": lang})


def test_a_receipt_shows_that_respondents_answers_and_their_clauses_only(app, db):
    from editor.livetext import read_live
    from editor.provenance.links import create_link

    document, result = _imported(db)
    codes = dict(result.receipts)
    units = read_live(app.extensions["constituent"], PUBLISHED).units
    article = next(u for u in iter_units(units) if u.kind == "article")
    water = db.scalar(select(Theme).where(Theme.document_id == document.id, Theme.key == "agua"))
    create_link(db, document, units, article.guid, "theme", water.id, "addresses")
    db.commit()
    client = _client(app)
    assert client.get("/receipt").status_code == 200
    mine = _post_receipt(client, codes["R1"].lower().replace("-", " "))
    html = mine.get_data(as_text=True)
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
    assert "Que haya agua en mi colonia todos los días" in html and "agua, trajineras y canales" in html
    assert "Agua" in html and f'href="/d/{PUBLISHED}/{article.eid}"' in html
    assert "Raised by 2 respondents (67% of all)" in html
    # Nothing of anyone else's: R2's distinctive answers are absent, and the code is not echoed.
    assert "Acabar con los asaltos" not in html and "SANTA CRUZ MEYEHUALCO" not in html and "Iztapalapa" not in html
    assert codes["R1"] not in html and codes["R1"].replace("-", "").lower() not in html
    other = _post_receipt(client, codes["R2"]).get_data(as_text=True)
    assert "Acabar con los asaltos" in other and "trajineras" not in other
    assert "No clause is linked to this theme yet." in other  # inseguridad has no clause


def test_a_wrong_code_shows_nothing(app, db):
    _imported(db)
    client = _client(app)
    for code in ("AAAA-BBBB-CCCC", "not a code", "x" * 64):
        html = _post_receipt(client, code).get_data(as_text=True)
        assert "No response has this code." in html
        assert "What you answered" not in html and "agua" not in html.lower().replace("agua-", "")
    empty = _post_receipt(client, "")
    assert empty.status_code == 400
    spanish = _post_receipt(client, "AAAA-BBBB-CCCC", lang="es").get_data(as_text=True)
    assert 'lang="es"' in spanish


def test_a_receipt_for_an_unpublished_document_shows_the_answers_but_not_the_text(app, db):
    draft = _document(db, DRAFT)
    result = import_survey(db, draft, _json(), "json")
    coder.code_survey(db, result.survey)
    db.commit()
    html = _post_receipt(_client(app), dict(result.receipts)["R1"]).get_data(as_text=True)
    assert "trajineras" in html and "not public yet" in html
    assert "Borrador reservado" not in html and f"/d/{DRAFT}" not in html
    signed_in = _client(app, "vera")
    assert "Borrador reservado" in _post_receipt(signed_in, dict(result.receipts)["R1"]).get_data(as_text=True)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def _seed_for_server(instance, respondents=30):
    """A synthetic survey on the published document, its first article linked to agua; the codes."""
    from editor import create_app
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.provenance.links import create_link

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        result = synthesize_survey(db, document, respondents=respondents, seed=5)
        coder.code_survey(db, result.survey)
        units = read_live(services, PUBLISHED).units
        article = next(u for u in iter_units(units) if u.kind == "article")
        theme_ids = {t.key: t.id for t in coder.themes_of(db, document)}
        for key in theme_ids:
            create_link(db, document, units, article.guid, "theme", theme_ids[key], "addresses")
        db.commit()
        codes = dict(result.receipts)
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()
    return codes, article


def test_wrong_codes_are_rate_limited_by_the_real_server(instance):
    codes, _article = _seed_for_server(instance)
    server = LiveServer(instance, {"CONSTITUENT_RECEIPT_RATE_LIMIT": "3 per minute"}).start()
    try:
        session = requests.Session()
        english = {"Accept-Language": "en"}
        form = session.get(server.url + "/receipt", headers=english, timeout=10)
        token = _csrf(form.text)
        # Without its CSRF token the form is refused before any code is looked up.
        forged = requests.post(server.url + "/receipt", data={"code": "ZZZZ-ZZZZ-ZZZZ"}, headers=english, timeout=10)
        assert forged.status_code == 400 and "No response has this code." not in forged.text
        for _ in range(3):
            wrong = session.post(server.url + "/receipt", data={"code": "ZZZZ-ZZZZ-ZZZZ", "csrf_token": token},
                                 headers=english, timeout=10)
            assert wrong.status_code == 200 and "No response has this code." in wrong.text
        limited = session.post(server.url + "/receipt", data={"code": "ZZZZ-ZZZZ-ZZZZ", "csrf_token": token},
                               headers=english, timeout=10)
        assert limited.status_code == 429 and "Too many attempts" in limited.text and "<h1>" in limited.text
        # Even a right code waits now; the form itself (GET) is not limited.
        right = session.post(server.url + "/receipt", data={"code": next(iter(codes.values())), "csrf_token": token},
                             timeout=10)
        assert right.status_code == 429 and "What you answered" not in right.text
        assert session.get(server.url + "/receipt", timeout=10).status_code == 200
    finally:
        server.stop()


def test_a_rate_limited_api_path_gets_json(instance):
    from editor import create_app
    from editor.limits import limiter

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    app.add_url_rule("/api/v1/_test_limited", "test_limited", limiter.limit("1 per minute")(lambda: {"ok": True}))
    client = app.test_client()
    assert client.get("/api/v1/_test_limited").status_code == 200
    limited = client.get("/api/v1/_test_limited", headers={"Accept-Language": "en"})
    assert limited.status_code == 429 and limited.json["status"] == 429 and "Too many attempts" in limited.json["error"]
    app.extensions["constituent"].rooms.close_all()
    app.extensions["constituent"].engine.dispose()


# --- the command line -----------------------------------------------------------------------------------


def test_the_survey_commands(instance, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from editor.cli import main

    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(instance))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    runner = CliRunner()
    receipts = tmp_path / "codes.csv"
    no_document = runner.invoke(main, ["survey", "synthesize", "--respondents", "10"])
    assert no_document.exit_code != 0 and "--document" in no_document.output
    done = runner.invoke(main, ["survey", "synthesize", "--respondents", "300", "--document", PUBLISHED,
                                "--receipts", str(receipts)])
    assert done.exit_code == 0, done.output
    assert "SYNTHETIC" in done.output and "300 respondents" in done.output and "theme codings" in done.output
    rows = list(csv.reader(receipts.open()))
    assert rows[0] == ["respondent", "code"] and len(rows) == 301
    assert oct(receipts.stat().st_mode & 0o777) == "0o600"
    again = runner.invoke(main, ["survey", "synthesize", "--respondents", "10", "--document", PUBLISHED])
    assert again.exit_code != 0 and "--replace" in again.output
    replaced = runner.invoke(main, ["survey", "synthesize", "--respondents", "20", "--document", PUBLISHED,
                                    "--replace"])
    assert replaced.exit_code == 0 and "20 respondents in" in replaced.output  # the 300 went, with their answers
    import sqlite3

    with sqlite3.connect(instance / "constituent.sqlite3") as conn:
        orphans = conn.execute("SELECT count(*) FROM answer WHERE respondent_id NOT IN (SELECT id FROM respondent)")
        assert orphans.fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM survey").fetchone()[0] == 1
    bad = tmp_path / "bad.json"
    bad.write_bytes(_json(respondents=[{**SMALL["respondents"][0], "responded_at": "mañana"}]))
    refused = runner.invoke(main, ["survey", "import", str(bad), "--document", PUBLISHED])
    assert refused.exit_code != 0 and "respondent 1 (R1), responded_at" in refused.output
    good = tmp_path / "good.json"
    good.write_bytes(_json())
    loaded = runner.invoke(main, ["survey", "import", str(good), "--document", PUBLISHED])
    assert loaded.exit_code == 0 and "3 respondents" in loaded.output and "not kept" in loaded.output
    recoded = runner.invoke(main, ["survey", "code", "--document", PUBLISHED])
    assert recoded.exit_code == 0 and "23 respondents" in recoded.output


# --- PostgreSQL -------------------------------------------------------------------------------------------


def test_the_counts_are_the_same_on_postgresql(db):
    import sqlalchemy
    from sqlalchemy.orm import Session

    from editor.db import Base, make_engine
    from editor.models import Document

    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        name = f"constituent_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        require(False, f"PostgreSQL not reachable at 127.0.0.1:5432 as postgres: {exc}")
    engine = make_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        Base.metadata.create_all(engine)
        with Session(engine) as pg:
            pg_document = Document(slug="pg", title="PG", published=True)
            pg.add(pg_document)
            pg.flush()
            data = _json(respondents=[*SMALL["respondents"], {
                "id": "R4", "borough": "Tlalpan", "neighbourhood": "", "responded_at": "2016-03-20T23:30:00-06:00",
                "answers": {"2": "smog"}}])
            pg_result = import_survey(pg, pg_document, data, "json")
            coder.code_survey(pg, pg_result.survey)
            pg.commit()
            sqlite_result = import_survey(db, _document(db), data, "json")
            coder.code_survey(db, sqlite_result.survey)
            db.commit()
            assert _counts(pg, pg_document) == _counts(db, _document(db))
            weeks = [(w.week, w.respondents, w.themes) for w in coder.counts_by_week(pg, pg_document)]
            assert weeks == [(w.week, w.respondents, w.themes) for w in coder.counts_by_week(db, _document(db))]
            # 23:30 in Mexico City on Sunday 20 March is Monday in UTC: the week of 21 March.
            assert [w[:2] for w in weeks] == [(date(2016, 3, 14), 2), (date(2016, 3, 21), 1), (date(2016, 4, 18), 1)]
            boroughs = [(b.borough, b.respondents, b.themes) for b in coder.counts_by_borough(pg, pg_document)]
            assert boroughs == [(b.borough, b.respondents, b.themes) for b in coder.counts_by_borough(db, _document(db))]
            answer = pg.scalar(select(Answer).where(Answer.text == "smog"))
            coder.recode_answer(pg, answer, ["agua"])
            pg.commit()
            assert _counts(pg, pg_document)["contaminacion"] == 0 and _counts(pg, pg_document)["agua"] == 3
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


# --- in a real browser -------------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_respondent_opens_their_receipt_in_a_browser_without_signing_in(instance):
    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    codes, article = _seed_for_server(instance)
    code = next(iter(codes.values()))
    server = LiveServer(instance).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
            try:
                for width in (1280, 390):
                    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-MX")
                    page = context.new_page()
                    problems: list[str] = []
                    page.on("console", lambda m, seen=problems: seen.append(m.text) if m.type == "error" else None)
                    page.on("pageerror", lambda e, seen=problems: seen.append(str(e)))
                    page.set_default_timeout(15_000)
                    page.goto(server.url + "/receipt")
                    assert page.locator("#code").is_visible() and page.locator("#receipt-result").count() == 0
                    page.locator("#code").focus()
                    page.keyboard.type(code.lower())
                    page.keyboard.press("Enter")
                    page.wait_for_selector("#receipt-result")
                    assert "/receipt" == page.url[len(server.url):]  # the code is not in the address
                    assert code not in page.content()
                    result = page.locator("#receipt-result")
                    assert result.locator("dt").count() >= 10  # this respondent's answers
                    link = result.locator(f'a[href="/d/{PUBLISHED}/{article.eid}"]').first
                    assert link.is_visible()
                    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 0, f"horizontal scroll of {overflow}px at {width}px"
                    link.click()
                    page.wait_for_url(f"{server.url}/d/{PUBLISHED}/{article.eid}")
                    assert problems == [], problems
                    context.close()
            finally:
                browser.close()
    finally:
        server.stop()


def test_a_respondent_erases_their_answers_and_no_count_changes(app, db):
    from editor.survey.views import total_respondents

    document, result = _imported(db)
    codes = dict(result.receipts)
    counts_before = _counts(db, document)
    total_before = total_respondents(db, document)
    client = _client(app)
    # without the confirmation box nothing happens
    refused = client.post("/receipt/erase", data={"code": codes["R1"]})
    assert refused.status_code == 400
    assert "trajineras" in _post_receipt(client, codes["R1"]).get_data(as_text=True)

    erased = client.post("/receipt/erase", data={"code": codes["R1"], "confirm": "yes"})
    page = erased.get_data(as_text=True)
    assert erased.status_code == 200 and 'id="receipt-erased"' in page and erased.headers["Cache-Control"] == "no-store"
    db.expire_all()
    # the words and the place are gone everywhere: the receipt, the analysts' answers page, the database
    assert "No response has this code." in _post_receipt(client, codes["R1"]).get_data(as_text=True)
    analysts = _client(app, "ana").get(f"/d/{PUBLISHED}/survey/answers").get_data(as_text=True)
    assert "trajineras" not in analysts and "Que haya agua en mi colonia" not in analysts
    assert not db.scalar(select(func.count()).select_from(Answer).where(Answer.text.like("%trajineras%")))
    # every count stays, now and after the answers are coded again
    assert _counts(db, document) == counts_before and total_respondents(db, document) == total_before
    coder.code_survey(db, result.survey)
    db.commit()
    assert _counts(db, document) == counts_before
    # the other respondent is untouched
    assert "Acabar con los asaltos" in _post_receipt(client, codes["R2"]).get_data(as_text=True)
