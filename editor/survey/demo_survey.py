"""The demo's survey: the project's own questionnaire ("Imagine su ciudad",
editor/survey/data/questionnaire-demo.json), published, with clearly labelled synthetic answers
over the project's sample boroughs and neighbourhoods. It needs nothing outside the checkout: the
real 2016 questions in ../shared/data stay a test input (`constituent survey synthesize`).

The answers are drawn like the 2016 synthesizer's (editor.survey.service): the same theme
weights, phrasing and air-quality spike in March–April 2016, spread over the four channels.
"""

from __future__ import annotations

from datetime import datetime, time, timezone

from ..models import Document
from .models import Survey
from .questionnaire import create_questionnaire, demo_definition, demo_places, publish, stored_questions
from .service import (
    BOROUGH_WEIGHTS,
    CHALLENGES,
    CRISIS,
    CRISIS_BOOST,
    MAX_RESPONDENTS,
    SELF,
    SURVEY_START,
    WEIGHTS,
    RespondentRow,
    SurveyError,
    _Synth,
    _week_weights,
    when_and_where,
    write_rows,
)

CHANNEL_WEIGHTS: dict[str, float] = {"web": 45, "tablet": 35, "kiosk": 12, "paper": 8}
AGES: dict[str, float] = {"menos-18": 6, "18-29": 34, "30-44": 30, "45-64": 22, "65-mas": 8}
SAFETY: dict[str, float] = {"1": 22, "2": 30, "3": 28, "4": 14, "5": 6}
#: "¿Cuál es el mayor reto…?": the case study's order (corruption, employment, mobility, water…).
CHALLENGE: dict[str, float] = {"corrupcion": 26, "empleo": 21, "movilidad": 17, "agua": 14, "inseguridad": 12, "contaminacion": 5,
             "vivienda": 4, "desigualdad": 5}
RIGHTS: dict[str, float] = {"agua": 24, "movilidad": 18, "vivienda": 14, "espacio-publico": 16, "seguridad": 20, "participacion": 9,
          "medio-ambiente": 12}


def synthesize_demo_survey(db, document: Document, respondents: int = 26_000, seed: int = 2016) -> Survey:
    """The demo questionnaire in `document`, open for answers, with `respondents` synthetic ones
    (Survey.synthetic; deterministic for a seed, but for the receipt codes). Answers are not coded
    here: call `code_survey`. The caller commits."""
    if not 1 <= respondents <= MAX_RESPONDENTS:
        raise SurveyError(f"the number of respondents must be between 1 and {MAX_RESPONDENTS:,}")
    survey = create_questionnaire(db, document, demo_definition(), source=f"demo questionnaire; synthetic answers, "
                                                                         f"seed {seed}")
    survey.synthetic = True
    publish(db, survey)
    survey.opened_at = datetime.combine(SURVEY_START, time(8), timezone.utc)
    index = {row.key: n for n, row in enumerate(stored_questions(db, survey))}
    ids = [row.id for row in stored_questions(db, survey)]
    write_rows(db, survey, ids, list(_rows(index, respondents, seed)))
    db.flush()
    return survey


def _rows(index: dict[str, int], respondents: int, seed: int):
    synth = _Synth(seed)
    rng = synth.rng
    places = demo_places()
    boroughs = list(places)
    borough_weights = [BOROUGH_WEIGHTS.get(b, 300) for b in boroughs]
    weeks = _week_weights(rng)
    channels, channel_weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    for n in range(1, respondents + 1):
        moment, in_crisis, peak, borough, colonia = when_and_where(rng, weeks, boroughs, borough_weights, places)
        answers: list[tuple[str, str]] = [("place", f"{colonia}, {borough}")]
        if rng.random() < 0.92:
            answers.append(("age", synth.pick(AGES)))
        if rng.random() < 0.85:
            answers.append(("safety", synth.pick(SAFETY)))
        boost = {"contaminacion": 1.0 + (CRISIS_BOOST[25] - 1.0) * (1.0 if peak else 0.6)} if in_crisis else None
        answers.append(("words", synth.three(WEIGHTS[25], boost)))
        answers.append(("future", synth.vision(WEIGHTS[28])))
        challenge = synth.pick(CHALLENGE, {"contaminacion": 6.0} if in_crisis else None)
        answers.append(("challenge", challenge))
        if in_crisis and rng.random() < (0.45 if peak else 0.25):
            answers.append(("challenge_why", synth.styled(rng.choice(CRISIS), sentence=True)))
        elif rng.random() < 0.6:
            answers.append(("challenge_why", synth.sentence(CHALLENGES, WEIGHTS[27])))
        if rng.random() < 0.8:
            answers.append(("action", synth.sentence(SELF, WEIGHTS[31])[:140]))
        if rng.random() < 0.75:
            chosen = set(synth.distinct(RIGHTS, rng.randint(1, 3)))
            answers += [("rights", value) for value in RIGHTS if value in chosen]
        row = RespondentRow(f"D{n:06d}", borough, colonia, moment, channel=rng.choices(channels, channel_weights)[0])
        row.answers = [(index[key], text) for key, text in answers if key in index]
        yield row
