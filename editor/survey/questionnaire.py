"""Questionnaires as data: written by a committee or analyst (JSON or CSV, or on the page that
takes either), checked, stored as a Survey with its questions, published, closed, and given a
new version rather than changed once published.

JSON::

    {"title": "…", "title_en": "…", "intro": "…", "intro_en": "…", "minutes": 15,
     "places": {"Borough": ["Neighbourhood", …], …},          # for "place" questions (optional)
     "sections": [{"title": "…", "title_en": "…", "questions": [
         {"key": "words", "kind": "text", "text": "…", "text_en": "…", "required": true},
         {"key": "challenge", "kind": "choice", "text": "…",
          "options": [{"value": "agua", "es": "Agua", "en": "Water"}, …]},
         {"key": "safety", "kind": "scale", "text": "…", "min": 1, "max": 5,
          "low": "Nada", "low_en": "Not at all", "high": "Mucho", "high_en": "A lot"},
         {"key": "place", "kind": "place", "text": "¿Dónde vive?"}]}]}

CSV: a header ``key,kind,section,text,text_en,required,options`` and one question a row; options
are ``value=Español|English`` separated by ``;`` (a scale's are ``min=1;max=5``).

Kinds: ``text`` (a line), ``long_text`` (a paragraph), ``choice`` (one option), ``multi`` (several),
``scale`` (a number from min to max), ``place`` (borough, then neighbourhood, from the
questionnaire's places or the project's sample list). Free text (text, long_text) is coded into
themes unless ``"coded": false``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from .. import clock
from ..inputs import surrogate_in
from ..models import Document
from .coder import ensure_taxonomy
from .models import Respondent, Survey, SurveyQuestion
from .service import MAX_QUESTION_CHARS, MAX_QUESTIONS, MAX_TITLE_CHARS, SurveyError

KINDS = ("text", "long_text", "choice", "multi", "scale", "place")
FREE_TEXT = ("text", "long_text")
#: The widget an imported survey's analysis shows for each kind (SurveyQuestion.widget).
WIDGET_OF = {"text": "input", "long_text": "textarea", "choice": "radio", "multi": "checkbox", "scale": "radio",
             "place": "select"}
MAX_OPTIONS = 60
MAX_OPTION_CHARS = 200
MAX_INTRO_CHARS = 4_000
MAX_PLACES = 5_000
MAX_DEFINITION_BYTES = 2 * 1024 * 1024
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,59}$")

DATA = Path(__file__).resolve().parent / "data"
DEMO_QUESTIONNAIRE = DATA / "questionnaire-demo.json"
DEMO_PLACES = DATA / "places-demo.csv"


@dataclass(frozen=True)
class Option:
    value: str
    es: str
    en: str = ""

    def label(self, language: str) -> str:
        return (self.en or self.es) if language == "en" else self.es


@dataclass(frozen=True)
class Question:
    key: str
    kind: str
    text: str
    text_en: str = ""
    required: bool = False
    section: str = ""
    section_en: str = ""
    coded: bool = True
    options: tuple[Option, ...] = ()
    low: int = 1
    high: int = 5
    low_label: tuple[str, str] = ("", "")  # (Spanish, English) words at the scale's ends
    high_label: tuple[str, str] = ("", "")

    def wording(self, language: str) -> str:
        return (self.text_en or self.text) if language == "en" else self.text

    def section_title(self, language: str) -> str:
        return (self.section_en or self.section) if language == "en" else self.section

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def spec(self) -> dict[str, Any]:
        """What SurveyQuestion.options stores for this question (JSON)."""
        if self.kind in ("choice", "multi"):
            return {"options": [{"value": o.value, "es": o.es, "en": o.en} for o in self.options]}
        if self.kind == "scale":
            return {"min": self.low, "max": self.high, "low": list(self.low_label), "high": list(self.high_label)}
        return {}


@dataclass
class Definition:
    title: str
    questions: list[Question]
    title_en: str = ""
    intro: str = ""
    intro_en: str = ""
    minutes: int = 15
    places: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        sections: list[dict[str, Any]] = []
        for q in self.questions:
            if not sections or sections[-1]["title"] != q.section:
                sections.append({"title": q.section, "title_en": q.section_en, "questions": []})
            item: dict[str, Any] = {"key": q.key, "kind": q.kind, "text": q.text, "text_en": q.text_en,
                                    "required": q.required}
            if q.kind in FREE_TEXT and not q.coded:
                item["coded"] = False
            if q.kind in ("choice", "multi"):
                item["options"] = [{"value": o.value, "es": o.es, "en": o.en} for o in q.options]
            if q.kind == "scale":
                item.update({"min": q.low, "max": q.high, "low": q.low_label[0], "low_en": q.low_label[1],
                             "high": q.high_label[0], "high_en": q.high_label[1]})
            sections[-1]["questions"].append(item)
        out: dict[str, Any] = {"title": self.title, "title_en": self.title_en, "intro": self.intro,
                               "intro_en": self.intro_en, "minutes": self.minutes, "sections": sections}
        if self.places:
            out["places"] = self.places
        return out


# --- reading a definition ------------------------------------------------------------------------


class _Check:
    """Collects every problem of a definition, to refuse it once, naming them all."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(self, where: str, value: object, limit: int, required: bool = False) -> str:
        if value is None or value == "":
            if required:
                self.problems.append(f"{where} is missing")
            return ""
        if not isinstance(value, str):
            self.problems.append(f"{where} must be text")
            return ""
        if (bad := surrogate_in(value)) is not None:
            self.problems.append(f"{where} is not valid text ({bad})")
            return ""
        value = value.strip()
        if len(value) > limit:
            self.problems.append(f"{where} is longer than {limit:,} characters")
            return value[:limit]
        if required and not value:
            self.problems.append(f"{where} is empty")
        return value

    def done(self) -> None:
        if self.problems:
            shown = self.problems[:20] + ([f"… and {len(self.problems) - 20} more"] if len(self.problems) > 20 else [])
            raise SurveyError("the questionnaire cannot be used: " + ("\n  " + "\n  ".join(shown)
                                                                      if len(shown) > 1 else shown[0]))


def _integer(check: _Check, where: str, value: object, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        check.problems.append(f"{where} must be a whole number")
        return default
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,6}", text):
        check.problems.append(f"{where} must be a whole number")
        return default
    number = int(text)
    if not low <= number <= high:
        check.problems.append(f"{where} must be between {low} and {high}")
        return default
    return number


def _flag(check: _Check, where: str, value: object, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "sí", "si", "true", "1", "x"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("no", "false", "0"):
        return False
    check.problems.append(f"{where} must be true or false")
    return default


def _question(check: _Check, where: str, raw: Mapping[str, Any], section: tuple[str, str]) -> Question | None:
    if not isinstance(raw, Mapping):
        check.problems.append(f"{where} must be an object")
        return None
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key.strip()):
        check.problems.append(f"{where}: its key must be lower-case letters, digits, - or _, starting with a letter "
                              "(at most 60)")
        key = ""
    key = (key or "").strip()
    kind = raw.get("kind")
    if kind not in KINDS:
        check.problems.append(f"{where} ({key}): its kind must be one of {', '.join(KINDS)}")
        return None
    text = check.text(f"{where} ({key}): the text", raw.get("text"), MAX_QUESTION_CHARS, required=True)
    text_en = check.text(f"{where} ({key}): the English text", raw.get("text_en"), MAX_QUESTION_CHARS)
    required = _flag(check, f"{where} ({key}): required", raw.get("required"), False)
    coded = _flag(check, f"{where} ({key}): coded", raw.get("coded"), kind in FREE_TEXT)
    if coded and kind not in FREE_TEXT:
        check.problems.append(f"{where} ({key}): only free-text questions are coded into themes")
    options: list[Option] = []
    low, high = 1, 5
    low_label = high_label = ("", "")
    if kind in ("choice", "multi"):
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not 2 <= len(raw_options) <= MAX_OPTIONS:
            check.problems.append(f"{where} ({key}): a {kind} question needs between 2 and {MAX_OPTIONS} options")
            raw_options = []
        values = set()
        for n, item in enumerate(raw_options, start=1):
            at = f"{where} ({key}), option {n}"
            if isinstance(item, str):
                item = {"value": item, "es": item}
            if not isinstance(item, Mapping):
                check.problems.append(f"{at} must be an object with value, es and en")
                continue
            value = check.text(f"{at}: value", item.get("value"), 60, required=True)
            es = check.text(f"{at}: es", item.get("es") or item.get("label") or value, MAX_OPTION_CHARS, required=True)
            en = check.text(f"{at}: en", item.get("en"), MAX_OPTION_CHARS)
            if value in values:
                check.problems.append(f"{at}: the value {value!r} is there twice")
            values.add(value)
            options.append(Option(value, es, en))
    elif kind == "scale":
        low = _integer(check, f"{where} ({key}): min", raw.get("min"), 1, 0, 10)
        high = _integer(check, f"{where} ({key}): max", raw.get("max"), 5, 1, 10)
        if high <= low:
            check.problems.append(f"{where} ({key}): max must be above min")
        low_label = (check.text(f"{where} ({key}): low", raw.get("low"), MAX_OPTION_CHARS),
                     check.text(f"{where} ({key}): low_en", raw.get("low_en"), MAX_OPTION_CHARS))
        high_label = (check.text(f"{where} ({key}): high", raw.get("high"), MAX_OPTION_CHARS),
                      check.text(f"{where} ({key}): high_en", raw.get("high_en"), MAX_OPTION_CHARS))
    return Question(key=key, kind=kind, text=text, text_en=text_en, required=required, section=section[0],
                    section_en=section[1], coded=coded and kind in FREE_TEXT, options=tuple(options), low=low,
                    high=high, low_label=low_label, high_label=high_label)


def _places(check: _Check, raw: object) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        check.problems.append("places must be an object: borough → list of neighbourhoods")
        return {}
    out: dict[str, list[str]] = {}
    count = 0
    for borough, names in raw.items():
        name = check.text("a borough's name", borough, 120, required=True)
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            check.problems.append(f"places: {name!r} must list its neighbourhoods as text")
            continue
        count += len(names)
        out[name] = [check.text(f"a neighbourhood of {name}", n, 200) for n in names]
    if count > MAX_PLACES:
        check.problems.append(f"places: more than {MAX_PLACES:,} neighbourhoods")
    return out


def _finish(check: _Check, raw: Mapping[str, Any], questions: list[Question]) -> Definition:
    title = check.text("the title", raw.get("title"), MAX_TITLE_CHARS, required=True)
    definition = Definition(
        title=title,
        title_en=check.text("the English title", raw.get("title_en"), MAX_TITLE_CHARS),
        intro=check.text("the introduction", raw.get("intro"), MAX_INTRO_CHARS),
        intro_en=check.text("the English introduction", raw.get("intro_en"), MAX_INTRO_CHARS),
        minutes=_integer(check, "minutes", raw.get("minutes"), 15, 1, 240),
        places=_places(check, raw.get("places")),
        questions=questions,
    )
    if not questions and not check.problems:
        check.problems.append("it has no questions")
    if len(questions) > MAX_QUESTIONS:
        check.problems.append(f"it has more than {MAX_QUESTIONS} questions")
    keys = [q.key for q in questions]
    twice = sorted({k for k in keys if k and keys.count(k) > 1})
    if twice:
        check.problems.append(f"question keys must differ: {', '.join(twice)} used more than once")
    if sum(q.kind == "place" for q in questions) > 1:
        check.problems.append("at most one place question")
    check.done()
    return definition


def read_definition(data: bytes, fmt: str | None = None) -> Definition:
    """A questionnaire from its JSON or CSV text; SurveyError naming every problem otherwise."""
    if len(data) > MAX_DEFINITION_BYTES:
        raise SurveyError(f"the questionnaire file is larger than {MAX_DEFINITION_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SurveyError(f"the questionnaire is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise SurveyError("the questionnaire is empty")
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "csv"
    if fmt == "json":
        return _read_json(text)
    if fmt == "csv":
        return _read_csv(text)
    raise SurveyError(f"unknown questionnaire format {fmt!r}; use json or csv")


def _read_json(text: str) -> Definition:
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SurveyError(f"the questionnaire is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(raw, dict):
        raise SurveyError("the questionnaire must be a JSON object with a title and sections or questions")
    check = _Check()
    questions: list[Question] = []
    sections = raw.get("sections")
    if sections is None:
        sections = [{"title": "", "questions": raw.get("questions")}]
    if not isinstance(sections, list):
        raise SurveyError("sections must be a list")
    for s, section in enumerate(sections, start=1):
        if not isinstance(section, Mapping) or not isinstance(section.get("questions"), list):
            check.problems.append(f"section {s} must be an object with a list of questions")
            continue
        names = (check.text(f"section {s}: its title", section.get("title"), 200),
                 check.text(f"section {s}: its English title", section.get("title_en"), 200))
        for raw_question in section["questions"][: MAX_QUESTIONS + 1]:
            found = _question(check, f"question {len(questions) + 1}", raw_question, names)
            if found is not None:
                questions.append(found)
    return _finish(check, raw, questions)


CSV_COLUMNS = ("key", "kind", "section", "text", "text_en", "required", "options")


def _read_csv(text: str) -> Definition:
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise SurveyError(f"the questionnaire is not readable CSV: {exc}") from None
    if not rows or not {"key", "kind", "text"} <= set(rows[0]):
        raise SurveyError("the questionnaire CSV needs a header with at least key, kind and text "
                          f"(all columns: {', '.join(CSV_COLUMNS)})")
    check = _Check()
    questions: list[Question] = []
    for n, row in enumerate(rows[: MAX_QUESTIONS + 1], start=2):
        raw: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        options = raw.pop("options", "")
        if raw.get("kind") in ("choice", "multi"):
            raw["options"] = []
            for part in filter(None, (p.strip() for p in options.split(";"))):
                value, _, labels = part.partition("=")
                es, _, en = (labels or value).partition("|")
                raw["options"].append({"value": value.strip(), "es": es.strip(), "en": en.strip()})
        elif raw.get("kind") == "scale":
            for part in filter(None, (p.strip() for p in options.split(";"))):
                name, _, value = part.partition("=")
                raw[name.strip()] = value.strip()
        section = (raw.get("section", ""), "")
        found = _question(check, f"line {n}", raw, section)
        if found is not None:
            questions.append(found)
    title = rows[0].get("title") or "Encuesta"
    return _finish(check, {"title": title}, questions)


# --- storing it ------------------------------------------------------------------------------------


def _question_rows(survey: Survey, definition: Definition) -> list[SurveyQuestion]:
    return [
        SurveyQuestion(survey_id=survey.id, position=n, text=q.text, group=0, widget=WIDGET_OF[q.kind],
                       coded=q.coded, key=q.key, kind=q.kind, required=q.required, section=q.section,
                       section_en=q.section_en, text_en=q.text_en,
                       options=json.dumps(q.spec() | ({"places": definition.places}
                                                      if q.kind == "place" and definition.places else {}),
                                          ensure_ascii=False))
        for n, q in enumerate(definition.questions, start=1)
    ]


def _describe(survey: Survey, definition: Definition) -> None:
    survey.title = definition.title
    survey.title_en = definition.title_en
    survey.intro = definition.intro
    survey.intro_en = definition.intro_en
    survey.minutes = definition.minutes


def create_questionnaire(db, document: Document, definition: Definition, source: str = "") -> Survey:
    """A new draft questionnaire of `document` (the caller commits)."""
    survey = Survey(document_id=document.id, title="", status="draft", source=(source or "questionnaire")[:300])
    _describe(survey, definition)
    db.add(survey)
    db.flush()
    db.add_all(_question_rows(survey, definition))
    db.flush()
    ensure_taxonomy(db, document)
    return survey


def replace_definition(db, survey: Survey, definition: Definition) -> None:
    """Rewrite a draft's questions. A published questionnaire keeps its meaning: SurveyError."""
    if survey.status != "draft":
        raise SurveyError("only a draft questionnaire can be changed; make a new version of this one")
    _describe(survey, definition)
    for question in list(db.scalars(select(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id))):
        db.delete(question)
    db.flush()
    db.add_all(_question_rows(survey, definition))
    db.flush()


def publish(db, survey: Survey) -> None:
    if survey.status != "draft":
        raise SurveyError("only a draft questionnaire can be published")
    survey.status = "open"
    survey.opened_at = clock.now()
    db.flush()


def close(db, survey: Survey) -> None:
    if survey.status != "open":
        raise SurveyError("only an open questionnaire can be closed")
    survey.status = "closed"
    survey.closed_at = clock.now()
    db.flush()


def new_version(db, survey: Survey) -> Survey:
    """A draft copy of a published (or closed) questionnaire, to be changed and published in its
    place; its answers are counted apart from the earlier version's."""
    if survey.status not in ("open", "closed"):
        raise SurveyError("only a published questionnaire gets a new version; a draft can be changed as it is")
    definition = definition_of(db, survey)
    document = db.get(Document, survey.document_id)
    copy = create_questionnaire(db, document, definition, source=f"version {survey.version + 1} of #{survey.id}")
    copy.version = survey.version + 1
    copy.supersedes_id = survey.id
    db.flush()
    return copy


def stored_questions(db, survey: Survey) -> list[SurveyQuestion]:
    return list(db.scalars(select(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id)
                           .order_by(SurveyQuestion.position)))


def question_of(row: SurveyQuestion) -> Question:
    """The definition of a stored questionnaire question (an imported one reads as free text)."""
    spec = json.loads(row.options) if row.options else {}
    kind = row.kind or ("long_text" if row.coded else "text")
    return Question(
        key=row.key or f"q{row.position}", kind=kind, text=row.text, text_en=row.text_en, required=row.required,
        section=row.section, section_en=row.section_en, coded=row.coded,
        options=tuple(Option(o["value"], o["es"], o.get("en", "")) for o in spec.get("options", ())),
        low=spec.get("min", 1), high=spec.get("max", 5),
        low_label=_pair(spec.get("low")), high_label=_pair(spec.get("high")),
    )


def _pair(value: object) -> tuple[str, str]:
    return (str(value[0]), str(value[1])) if isinstance(value, list) and len(value) == 2 else ("", "")


def places_of(rows: Sequence[SurveyQuestion]) -> dict[str, list[str]]:
    """The boroughs and neighbourhoods a questionnaire's place question offers (`rows`: its stored
    questions, which the caller has already read): its own list, else the project's sample list."""
    for row in rows:
        if row.kind == "place":
            spec = json.loads(row.options) if row.options else {}
            if spec.get("places"):
                return spec["places"]
    return demo_places()


def definition_of(db, survey: Survey) -> Definition:
    rows = stored_questions(db, survey)
    places: dict[str, list[str]] = next(
        (json.loads(r.options).get("places", {}) for r in rows if r.kind == "place" and r.options), {})
    return Definition(title=survey.title, title_en=survey.title_en, intro=survey.intro, intro_en=survey.intro_en,
                      minutes=survey.minutes, places=places, questions=[question_of(r) for r in rows])


def questionnaires_of(db, document: Document) -> list[Survey]:
    return list(db.scalars(select(Survey).where(Survey.document_id == document.id, Survey.status != "imported")
                           .order_by(Survey.id)))


def answered(db, survey: Survey) -> int:
    return db.scalar(select(func.count(Respondent.id)).where(Respondent.survey_id == survey.id)) or 0


# --- the project's own demo questionnaire and places -------------------------------------------------


def demo_definition() -> Definition:
    """The demo's questionnaire (editor/survey/data/questionnaire-demo.json), written for the
    project after the case study's questions."""
    return read_definition(DEMO_QUESTIONNAIRE.read_bytes(), "json")


def demo_places() -> dict[str, list[str]]:
    """The project's sample list of boroughs and neighbourhoods (editor/survey/data/places-demo.csv),
    as a fresh dict (the file is read once per process: every questionnaire page and answer asks)."""
    return {borough: list(names) for borough, names in _read_demo_places()}


@lru_cache(maxsize=1)
def _read_demo_places() -> tuple[tuple[str, tuple[str, ...]], ...]:
    out: dict[str, list[str]] = {}
    with DEMO_PLACES.open(encoding="utf-8", newline="") as stream:
        for row in csv.reader(stream):
            if len(row) >= 2 and row[0].strip() and not row[0].startswith("#"):
                out.setdefault(row[0].strip(), []).append(row[1].strip())
    return tuple((borough, tuple(names)) for borough, names in out.items())

