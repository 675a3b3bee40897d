"""Loading a survey (questions, respondents, free-text answers), receipts, and a synthesizer.

Import formats (`import_survey`):

* JSON: ``{"title", "questions": [{"text", "group"?, "widget"?, "coded"?}], "respondents":
  [{"id"?, "borough", "neighbourhood", "responded_at", "answers": {<question text or 1-based
  position>: <text>}}]}``.
* CSV: a header row ``respondent,responded_at,borough,neighbourhood,<question text>…`` and one
  row per respondent.
* The questions may instead come from the survey's own ``preguntas.csv`` (no header: text,
  group, widget, flags…), given separately (`read_questions_csv`).

Which questions are coded into themes: free-text ones (widget ``textarea`` or ``input``),
except, in ``preguntas.csv``, groups 1 to 7, which describe the respondent (where they live,
work and study, gender, age, occupation, birthplace) rather than the city. A JSON question's
``coded`` says it outright; CSV question columns without ``preguntas.csv`` are all free text.

Everything is validated before anything is written: a bad file raises `SurveyError` naming
the rows and columns at fault and leaves the database as it was. Respondents and answers are
inserted in bulk (Core executemany, in chunks).

Every respondent gets a receipt code (`new_receipt_code`: 60 random bits from `secrets`, as
three groups of four Crockford base-32 characters, "K7QD-2MZX-9PHA"); only its SHA-256 is
stored. The codes are returned once, by the import, and cannot be recovered afterwards.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import delete, insert, select, update

from .. import clock
from ..errors import say as _
from ..inputs import BadJSON, shown, surrogate_in, whole_number
from ..inputs import parse_json as read_json
from ..models import Document
from ..security import spreadsheet_safe
from .coder import (  # noqa: F401 - the counts are part of this module's interface too
    BoroughCount,
    ThemeCount,
    WeekCount,
    code_survey,
    counts_by_borough,
    counts_by_week,
    ensure_taxonomy,
    theme_counts,
    theme_respondents,
    themes_by_answer,
)
from .models import Answer, Coding, Respondent, Survey, SurveyQuestion, Theme

#: The real 2016 files (questions; boroughs and neighbourhoods) live in the shared data folder,
#: not in this repository: $CONSTITUENT_SHARED_DATA, else ../shared/data beside the checkout.
SHARED_DATA_ENV = "CONSTITUENT_SHARED_DATA"
SURVEY_DIR = Path("cdmx") / "survey-2016"
QUESTIONS_NAME = "preguntas.csv"
NEIGHBOURHOODS_NAME = "delegaciones-y-colonias.csv"

WIDGETS = ("select", "radio", "text", "textarea", "input", "checkbox")
FREE_TEXT_WIDGETS = ("textarea", "input")
#: preguntas.csv groups about the respondent rather than the city: not coded.
PROFILE_GROUPS = range(1, 8)

MAX_QUESTIONS = 300
MAX_RESPONDENTS = 500_000
MAX_ANSWER_CHARS = 10_000
MAX_QUESTION_CHARS = 2_000
MAX_BOROUGH_CHARS = 120
MAX_NEIGHBOURHOOD_CHARS = 200
MAX_TITLE_CHARS = 300
#: The highest question group (preguntas.csv has a dozen; the column is a 32-bit integer).
MAX_GROUP = 9_999
#: How many problems one failed import reports (the first ones, in file order).
MAX_PROBLEMS = 20
CHUNK = 10_000

META_COLUMNS = ("respondent", "responded_at", "borough", "neighbourhood")


class SurveyError(ValueError):
    """A survey file or request that cannot be carried out; the message names what is wrong."""


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    group: int = 0
    widget: str = "textarea"
    coded: bool = True


@dataclass
class RespondentRow:
    label: str  # the respondent's id in the file, or its row number
    borough: str
    neighbourhood: str
    responded_at: datetime  # aware, UTC
    answers: list[tuple[int, str]] = field(default_factory=list)  # (question index, text)
    channel: str = "import"


@dataclass
class SurveyImport:
    survey: Survey
    respondents: int
    answers: int
    #: (respondent, receipt code) for every respondent, in file order. Shown once: only hashes are kept.
    receipts: list[tuple[str, str]]


# --- receipt codes ---------------------------------------------------------------------------

#: Crockford's base 32: no I, L, O or U, so that a code read aloud or copied by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 12  # 12 × 5 = 60 bits
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_receipt_code() -> str:
    """A fresh code, 60 bits from `secrets`: "K7QD-2MZX-9PHA"."""
    n = secrets.randbits(5 * CODE_CHARS)
    chars = [ALPHABET[(n >> (5 * i)) & 31] for i in range(CODE_CHARS)]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, CODE_CHARS, 4))


def normalize_receipt(code: str) -> str | None:
    """The canonical form of a code as typed (any case, dashes or spaces, O for 0, I or L for 1),
    or None when it cannot be a code."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    cleaned = "".join(c for c in code.upper() if c.isalnum()).translate(_CONFUSABLE)
    if len(cleaned) != CODE_CHARS or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def receipt_hash(code: str) -> str | None:
    canonical = normalize_receipt(code)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest() if canonical else None


def find_respondent(db, code: str) -> Respondent | None:
    digest = receipt_hash(code)
    if digest is None:
        return None
    return db.scalar(select(Respondent).where(Respondent.receipt_hash == digest))


def erase_respondent(db, respondent: Respondent) -> int:
    """Erase a respondent at their request without changing any count: their free-text answers
    and where they live are blanked and their receipt stops working, but the respondent and the
    themes their answers were coded into stay (frozen as analysts' codings, so recoding cannot
    move them), so that every total and theme count stays as it was. Returns the answers erased."""
    answers = list(db.scalars(select(Answer).where(Answer.respondent_id == respondent.id)))
    for answer in answers:
        answer.text = ""
        answer.coded_by_hand = True  # the coder leaves erased answers' themes alone…
    if answers:  # …and keeps their codings (it replaces only automatic ones)
        db.execute(update(Coding).where(Coding.answer_id.in_([a.id for a in answers])).values(source="manual"))
    respondent.borough = ""
    respondent.neighbourhood = ""
    # A random hash no code can produce: the receipt finds nothing any more.
    respondent.receipt_hash = hashlib.sha256(b"erased:" + secrets.token_bytes(32)).hexdigest()
    db.commit()
    return len(answers)


@dataclass(frozen=True)
class ReceiptAnswer:
    question: SurveyQuestion
    answer: Answer
    themes: list[Theme]


def respondent_answers(db, respondent: Respondent) -> list[ReceiptAnswer]:
    """One respondent's answers, in question order, each with its themes."""
    rows = db.execute(
        select(Answer, SurveyQuestion).join(SurveyQuestion, SurveyQuestion.id == Answer.question_id)
        .where(Answer.respondent_id == respondent.id).order_by(SurveyQuestion.position)
    ).all()
    themes = themes_by_answer(db, [a.id for a, _ in rows])
    return [ReceiptAnswer(q, a, themes.get(a.id, [])) for a, q in rows]


def receipts_csv(receipts: Iterable[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["respondent", "code"])
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in receipts)
    return out.getvalue()


# --- reading the files -------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.more = 0

    def add(self, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(message)
        else:
            self.more += 1

    def raise_if_any(self, what: str | None = None) -> None:
        if self.items:
            lines = list(self.items)
            if self.more:
                lines.append(_("… and %(n)d more problem(s)", n=self.more))
            what = what or _("nothing was imported")
            raise SurveyError(f"{what}: " + ("\n  " + "\n  ".join(lines) if len(lines) > 1 else lines[0]))


def _text(data: bytes, what: str) -> str:
    if not data or not data.strip():
        raise SurveyError(_("%(what)s is empty", what=what))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SurveyError(_("%(what)s is not UTF-8 text (byte %(n)d)", what=what, n=exc.start)) from None


def parse_time(value: object) -> datetime:
    """An ISO 8601 date ("2016-03-14") or date and time ("2016-03-14T10:05:00-06:00"), as aware
    UTC; a time without an offset is taken as UTC. ValueError when it is neither."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("is empty"))
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(_("%(value)s is not a date (use YYYY-MM-DD or an ISO 8601 date and time)",
                           value=shown(text))) from None
    if not 1990 <= moment.year <= 2100:
        raise ValueError(_("%(value)s is not a plausible date", value=shown(text)))
    return clock.as_utc(moment)


def _coded(widget: str, group: int | None = None) -> bool:
    return widget in FREE_TEXT_WIDGETS and (group is None or group not in PROFILE_GROUPS)


def read_questions_csv(data: bytes) -> list[QuestionSpec]:
    """Questions in the survey's own format: no header; text, group, widget, flags…"""
    text = _text(data, _("the questions file"))
    problems = _Problems()
    questions = []
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise SurveyError(f"the questions file cannot be read as CSV near line {reader.line_num}: {exc}") from None
    for n, row in enumerate(rows, start=1):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < 3:
            problems.add(f"questions line {n}: expected text, group and widget; found {len(row)} field(s)")
            continue
        question, group, widget = row[0].strip(), row[1].strip(), row[2].strip().lower()
        if not question:
            problems.add(f"questions line {n}, column 1: the question has no text")
        elif len(question) > MAX_QUESTION_CHARS:
            problems.add(f"questions line {n}, column 1: longer than {MAX_QUESTION_CHARS} characters")
        number = whole_number(group, maximum=MAX_GROUP)
        if number is None:
            problems.add(f"questions line {n}, column 2 (group): {shown(group)} is not a group number "
                         f"(0 to {MAX_GROUP:,})")
        if widget not in WIDGETS:
            problems.add(f"questions line {n}, column 3 (widget): {shown(widget)} is not one of {', '.join(WIDGETS)}")
        if question and number is not None and widget in WIDGETS:
            questions.append(QuestionSpec(question, number, widget, _coded(widget, number)))
    if not questions and not problems.items:
        problems.add("the questions file has no questions")
    if len(questions) > MAX_QUESTIONS:
        problems.add(f"{len(questions)} questions; at most {MAX_QUESTIONS}")
    problems.raise_if_any(_("the questions were not read"))
    _check_distinct(questions)
    return questions


def _check_distinct(questions: Sequence[QuestionSpec]) -> None:
    seen: dict[str, int] = {}
    for i, q in enumerate(questions, start=1):
        key = " ".join(q.text.split())
        if key in seen:
            raise SurveyError(f"question {i} repeats question {seen[key]}: {shown(q.text, 120)}")
        seen[key] = i


class _QuestionIndex:
    """Find a question by its text (spacing and a trailing space ignored) or 1-based position."""

    def __init__(self, questions: Sequence[QuestionSpec]) -> None:
        self.count = len(questions)
        self.by_text = {" ".join(q.text.split()): i for i, q in enumerate(questions)}
        self.by_casefold = {k.casefold(): i for k, i in self.by_text.items()}

    def find(self, name: object) -> int | None:
        if isinstance(name, int) and not isinstance(name, bool):
            return name - 1 if 1 <= name <= self.count else None
        if not isinstance(name, str):
            return None
        key = " ".join(name.split())
        if key.isdigit():  # a position: 1 to the number of questions, in ASCII digits ("²" is no position)
            n = whole_number(key, minimum=1, maximum=self.count)
            return n - 1 if n is not None else None
        found = self.by_text.get(key)
        return found if found is not None else self.by_casefold.get(key.casefold())


def _check_place(problems: _Problems, where: str, column: str, value: object, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add(f"{where}, {column}: " + _("expected text, found %(type)s", type=type(value).__name__))
        return ""
    value = " ".join(value.split())
    if len(value) > limit:
        problems.add(f"{where}, {column}: " + _("longer than %(limit)d characters", limit=limit))
    return value


def _answer_text(problems: _Problems, where: str, column: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.add(_("%(where)s, answer to %(column)s: expected text, found %(type)s", where=where, column=column,
                       type=type(value).__name__))
        return None
    text = str(value).strip()
    if len(text) > MAX_ANSWER_CHARS:
        problems.add(_("%(where)s, answer to %(column)s: longer than %(limit)s characters", where=where,
                       column=column, limit=f"{MAX_ANSWER_CHARS:,}"))
        return None
    return text or None


def parse_json(data: bytes, questions: Sequence[QuestionSpec] | None = None):
    """(title, questions, respondent rows) of a JSON survey file; SurveyError when it is wrong."""
    text = _text(data, _("the survey file"))
    try:
        doc = read_json(text)
    except BadJSON as exc:
        raise SurveyError(f"the survey file is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise SurveyError("the survey file must be a JSON object with 'questions' and 'respondents'")
    problems = _Problems()
    title = doc.get("title")
    if title is not None and not isinstance(title, str):
        problems.add("'title' must be text")
        title = None
    if questions is not None:
        if doc.get("questions"):
            raise SurveyError("give the questions either in the file or as a separate questions file, not both")
        specs = list(questions)
    else:
        raw = doc.get("questions")
        if not isinstance(raw, list) or not raw:
            raise SurveyError("'questions' must be a non-empty list of {text, group?, widget?, coded?}")
        if len(raw) > MAX_QUESTIONS:
            raise SurveyError(f"{len(raw)} questions; at most {MAX_QUESTIONS}")
        specs = []
        for n, q in enumerate(raw, start=1):
            where = f"question {n}"
            if isinstance(q, str):
                q = {"text": q}
            if not isinstance(q, dict):
                problems.add(f"{where}: expected an object with 'text'")
                continue
            qtext = q.get("text")
            if not isinstance(qtext, str) or not qtext.strip():
                problems.add(f"{where}, text: missing or empty")
                continue
            if len(qtext) > MAX_QUESTION_CHARS:
                problems.add(f"{where}, text: longer than {MAX_QUESTION_CHARS} characters")
            group = q.get("group", 0)
            if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group <= MAX_GROUP:
                problems.add(f"{where}, group: {shown(group)} is not a group number (0 to {MAX_GROUP:,})")
                group = 0
            widget = q.get("widget", "textarea")
            if widget not in WIDGETS:
                problems.add(f"{where}, widget: {shown(widget)} is not one of {', '.join(WIDGETS)}")
                widget = "textarea"
            coded = q.get("coded", _coded(widget))
            if not isinstance(coded, bool):
                problems.add(f"{where}, coded: expected true or false")
                coded = False
            specs.append(QuestionSpec(qtext.strip(), group, widget, coded))
        problems.raise_if_any()
        _check_distinct(specs)
    index = _QuestionIndex(specs)
    raw_respondents = doc.get("respondents")
    if not isinstance(raw_respondents, list) or not raw_respondents:
        raise SurveyError("'respondents' must be a non-empty list")
    if len(raw_respondents) > MAX_RESPONDENTS:
        raise SurveyError(f"{len(raw_respondents):,} respondents; at most {MAX_RESPONDENTS:,} per import")
    rows: list[RespondentRow] = []
    labels: dict[str, int] = {}
    for n, r in enumerate(raw_respondents, start=1):
        where = f"respondent {n}"
        if not isinstance(r, dict):
            problems.add(f"{where}: expected an object")
            continue
        label = r.get("id", n)
        if isinstance(label, bool) or not isinstance(label, (str, int)) or not str(label).strip():
            problems.add(f"{where}, id: expected text or a number")
            label = n
        label = str(label).strip()[:100]
        if label in labels:
            problems.add(f"{where}, id: {label!r} is already respondent {labels[label]}")
        labels[label] = n
        where = f"respondent {n} ({label})" if str(n) != label else where
        borough = _check_place(problems, where, "borough", r.get("borough"), MAX_BOROUGH_CHARS)
        neighbourhood = _check_place(problems, where, "neighbourhood", r.get("neighbourhood"), MAX_NEIGHBOURHOOD_CHARS)
        try:
            moment = parse_time(r.get("responded_at"))
        except ValueError as exc:
            problems.add(f"{where}, responded_at: {exc}")
            moment = None
        answers = r.get("answers", {})
        if not isinstance(answers, dict):
            problems.add(f"{where}, answers: expected an object of question → answer")
            answers = {}
        row = RespondentRow(label, borough, neighbourhood, moment)  # type: ignore[arg-type]
        taken: set[int] = set()
        for name, value in answers.items():
            i = index.find(name)
            if i is None:
                problems.add(f"{where}, answers: {shown(name)} is not one of the {index.count} questions "
                             f"(give its text or its position, 1 to {index.count})")
                continue
            if i in taken:
                problems.add(f"{where}, answers: question {i + 1} is answered twice")
                continue
            taken.add(i)
            answer = _answer_text(problems, where, f"question {i + 1}", value)
            if answer is not None:
                row.answers.append((i, answer))
        rows.append(row)
    problems.raise_if_any()
    return title, specs, rows


def parse_csv(data: bytes, questions: Sequence[QuestionSpec] | None = None):
    """(title, questions, respondent rows) of a CSV survey file; SurveyError when it is wrong."""
    text = _text(data, _("the survey file"))
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise SurveyError(_("the survey file has no header row (%(error)s)", error=exc)) from None
    header = [h.strip() for h in header]
    missing = [c for c in META_COLUMNS if c not in header]
    if missing:
        raise SurveyError(
            _("the header row lacks the column(s) %(missing)s; it must start %(columns)s and then name one "
              "question per column", missing=", ".join(missing), columns=",".join(META_COLUMNS))
        )
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise SurveyError(_("the header row repeats the column(s) %(columns)s",
                            columns=", ".join(shown(h, 40) for h in duplicated[:10])))
    columns = {c: header.index(c) for c in META_COLUMNS}
    question_columns = [(j, h) for j, h in enumerate(header) if h not in META_COLUMNS]
    if any(not h for _, h in question_columns):
        empty = [str(j + 1) for j, h in question_columns if not h]
        raise SurveyError(_("the header row has no name in column(s) %(columns)s", columns=", ".join(empty)))
    if not question_columns:
        raise SurveyError(_("the header row names no question columns after %(columns)s",
                            columns=",".join(META_COLUMNS)))
    if questions is not None:
        specs = list(questions)
        index = _QuestionIndex(specs)
        mapping = []
        unknown = []
        for j, h in question_columns:
            i = index.find(h)
            if i is None or h.strip().isdigit():
                unknown.append(_("column %(n)d (%(name)s)", n=j + 1, name=shown(h)))
            else:
                mapping.append((j, i))
        if unknown:
            raise SurveyError(_("not one of the %(n)d questions: %(columns)s", n=len(specs),
                                columns="; ".join(unknown[:10])))
    else:
        if len(question_columns) > MAX_QUESTIONS:
            raise SurveyError(_("%(n)d question columns; at most %(limit)d", n=len(question_columns),
                                limit=MAX_QUESTIONS))
        specs = [QuestionSpec(h, 0, "textarea", True) for _, h in question_columns]
        _check_distinct(specs)
        mapping = [(j, i) for i, (j, _) in enumerate(question_columns)]
    problems = _Problems()
    rows: list[RespondentRow] = []
    labels: dict[str, int] = {}
    try:
        for n, record in enumerate(reader, start=2):
            if not record or not any(c.strip() for c in record):
                continue
            if len(rows) >= MAX_RESPONDENTS:
                raise SurveyError(_("more than %(n)s respondents; split the file", n=f"{MAX_RESPONDENTS:,}"))
            if len(record) != len(header):
                problems.add(_("row %(n)d: %(fields)d fields; the header has %(columns)d", n=n, fields=len(record),
                               columns=len(header)))
                continue
            label = record[columns["respondent"]].strip()[:100] or str(n - 1)
            where = _("row %(n)d", n=n)
            if label in labels:
                problems.add(_("%(where)s, column respondent: %(label)s is already on row %(row)d", where=where,
                               label=repr(label), row=labels[label]))
            labels[label] = n
            borough = _check_place(problems, where, _("column %(name)s", name="borough"), record[columns["borough"]],
                                   MAX_BOROUGH_CHARS)
            neighbourhood = _check_place(problems, where, _("column %(name)s", name="neighbourhood"),
                                         record[columns["neighbourhood"]], MAX_NEIGHBOURHOOD_CHARS)
            try:
                moment = parse_time(record[columns["responded_at"]])
            except ValueError as exc:
                problems.add(f"{where}, " + _("column %(name)s", name="responded_at") + f": {exc}")
                moment = None
            row = RespondentRow(label, borough, neighbourhood, moment)  # type: ignore[arg-type]
            for j, i in mapping:
                answer = _answer_text(problems, where, _("column %(n)d (%(name)s)", n=j + 1, name=shown(header[j], 40)),
                                      record[j])
                if answer is not None:
                    row.answers.append((i, answer))
            rows.append(row)
    except csv.Error as exc:
        raise SurveyError(_("the CSV cannot be read near row %(n)d: %(error)s", n=reader.line_num, error=exc)) from None
    if not rows and not problems.items:
        problems.add(_("the file has a header row but no respondents"))
    problems.raise_if_any()
    return None, specs, rows


# --- writing ---------------------------------------------------------------------------------


def _write(db, document: Document, title: str, questions: Sequence[QuestionSpec], rows: Sequence[RespondentRow],
           synthetic: bool, source: str) -> SurveyImport:
    survey = Survey(document_id=document.id, title=title[:MAX_TITLE_CHARS], synthetic=synthetic, source=source[:300])
    db.add(survey)
    db.flush()
    question_rows = [
        SurveyQuestion(survey_id=survey.id, position=i, text=q.text, group=q.group, widget=q.widget, coded=q.coded)
        for i, q in enumerate(questions, start=1)
    ]
    db.add_all(question_rows)
    db.flush()
    result = write_rows(db, survey, [q.id for q in question_rows], rows)
    ensure_taxonomy(db, document)
    return result


def write_rows(db, survey: Survey, question_ids: Sequence[int], rows: Sequence[RespondentRow]) -> SurveyImport:
    """Insert respondents and their answers in bulk (`question_ids` by question index), each with a
    fresh receipt code; returns them with the codes. The caller commits."""
    receipts: list[tuple[str, str]] = []
    respondent_table = Respondent.__table__
    answer_table = Answer.__table__
    answers = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values = []
        for row in chunk:
            code = new_receipt_code()
            receipts.append((row.label, code))
            values.append({
                "survey_id": survey.id,
                "receipt_hash": receipt_hash(code),
                "borough": row.borough,
                "neighbourhood": row.neighbourhood,
                "responded_at": row.responded_at,
                "channel": row.channel,
            })
        ids = db.execute(
            insert(respondent_table).returning(respondent_table.c.id, sort_by_parameter_order=True), values
        ).scalars().all()
        answer_values = [
            {"respondent_id": rid, "question_id": question_ids[i], "text": text, "coded_by_hand": False}
            for rid, row in zip(ids, chunk, strict=True)
            for i, text in row.answers
        ]
        for a in range(0, len(answer_values), CHUNK * 2):
            db.execute(insert(answer_table), answer_values[a : a + CHUNK * 2])
        answers += len(answer_values)
    return SurveyImport(survey=survey, respondents=len(rows), answers=answers, receipts=receipts)


def import_survey(db, document: Document, data: bytes, fmt: str, title: str | None = None,
                  questions: Sequence[QuestionSpec] | None = None, source: str = "") -> SurveyImport:
    """Validate and load a survey file (`fmt` "json" or "csv") into `document`; the document gets
    the default taxonomy when it has none. Nothing is written when the file is wrong
    (SurveyError). Answers are not coded here: call `code_survey`. The caller commits."""
    if fmt == "json":
        file_title, specs, rows = parse_json(data, questions)
    elif fmt == "csv":
        file_title, specs, rows = parse_csv(data, questions)
    else:
        raise SurveyError(f"unknown format {fmt!r}; use json or csv")
    title = (title or file_title or "").strip() or f"Encuesta ({len(rows):,} respuestas)"
    if len(title) > MAX_TITLE_CHARS:
        raise SurveyError(f"the title is longer than {MAX_TITLE_CHARS} characters")
    if (surrogate := surrogate_in(title)) is not None:
        raise SurveyError(f"the title is not valid text: {surrogate} is a byte that is not UTF-8 "
                          "or half of a surrogate pair")
    return _write(db, document, title, specs, rows, synthetic=False, source=source or f"import ({fmt})")


def delete_survey(db, survey: Survey) -> None:
    """Remove a survey with its questions, respondents, answers and codings (the caller commits)."""
    db.execute(delete(Survey).where(Survey.id == survey.id))  # ON DELETE CASCADE does the rest
    db.flush()


def surveys_of(db, document: Document) -> list[Survey]:
    return list(db.scalars(select(Survey).where(Survey.document_id == document.id).order_by(Survey.id)))


# --- the real reference data -------------------------------------------------------------------


def survey_data_dir() -> Path:
    """The folder holding the real 2016 questions and neighbourhoods; SurveyError when absent."""
    bases = []
    if os.environ.get(SHARED_DATA_ENV):
        bases.append(Path(os.environ[SHARED_DATA_ENV]))
    bases += [Path(__file__).resolve().parents[2].parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for base in bases:
        folder = base / SURVEY_DIR
        if (folder / QUESTIONS_NAME).is_file() and (folder / NEIGHBOURHOODS_NAME).is_file():
            return folder
    raise SurveyError(
        f"the real 2016 survey files ({QUESTIONS_NAME}, {NEIGHBOURHOODS_NAME}) were not found under "
        + " or ".join(str(b / SURVEY_DIR) for b in bases)
        + f"; set {SHARED_DATA_ENV} to the shared data folder"
    )


def real_questions() -> list[QuestionSpec]:
    """The 32 questions of the 2016 survey (preguntas.csv of the shared data)."""
    return read_questions_csv((survey_data_dir() / QUESTIONS_NAME).read_bytes())


def real_neighbourhoods() -> dict[str, list[str]]:
    """The 16 boroughs and their neighbourhoods (delegaciones-y-colonias.csv), each once."""
    out: dict[str, list[str]] = {}
    with (survey_data_dir() / NEIGHBOURHOODS_NAME).open(encoding="utf-8-sig", newline="") as stream:
        for row in csv.reader(stream):
            if len(row) >= 2 and row[0].strip() and row[1].strip():
                names = out.setdefault(row[0].strip(), [])
                if row[1].strip() not in names:
                    names.append(row[1].strip())
    return out


# --- the synthesizer ---------------------------------------------------------------------------

#: The synthetic responses are spread over these dates. The case study does not date the survey;
#: it ran in 2016 while the drafting committee met weekly, before the draft went to the
#: constituent assembly (15 September 2016). This window is an assumption.
SURVEY_START = date(2016, 2, 29)
SURVEY_END = date(2016, 7, 31)
#: The air-quality crisis: Mexico City's first environmental contingency in over a decade was
#: declared on 14 March 2016; restrictions and further alerts followed into April. During these
#: weeks far more respondents raise pollution (the case study's "pollution" spike).
CONTINGENCY = (date(2016, 3, 14), date(2016, 4, 10))
CONTINGENCY_PEAK = (date(2016, 3, 14), date(2016, 3, 27))

#: Relative weights of the boroughs: their approximate populations (thousands, 2015), for a
#: plausible spread only.
BOROUGH_WEIGHTS = {
    "Iztapalapa": 1828, "Gustavo A. Madero": 1164, "Álvaro Obregón": 750, "Tlalpan": 677, "Coyoacán": 608,
    "Cuauhtémoc": 533, "Venustiano Carranza": 427, "Benito Juárez": 417, "Xochimilco": 416, "Azcapotzalco": 400,
    "Iztacalco": 390, "Miguel Hidalgo": 364, "Tláhuac": 362, "Magdalena Contreras": 244, "Cuajimalpa": 199,
    "Milpa Alta": 138,
}

NEUTRAL = "-"

#: Short answers ("three words") per theme, in the ways people write them.
WORDS: dict[str, tuple[str, ...]] = {
    "inseguridad": ("inseguridad", "Inseguridad", "la inseguridad", "delincuencia", "robos", "asaltos", "violencia",
                    "crimen", "inseguridad en las calles", "falta de seguridad", "insegura", "seguridad"),
    "contaminacion": ("contaminación", "contaminacion", "Contaminación", "smog", "contaminación del aire",
                      "mala calidad del aire", "contaminada", "esmog"),
    "corrupcion": ("corrupción", "corrupcion", "Corrupción", "la corrupción", "gobierno corrupto",
                   "políticos corruptos", "impunidad", "mordidas"),
    "movilidad": ("tráfico", "trafico", "Tráfico", "tránsito", "transito", "mucho tráfico", "embotellamientos",
                  "transporte público", "el metro", "caos vial", "movilidad"),
    "cultura": ("cultura", "Cultura", "cultural", "museos", "arte", "historia", "tradiciones", "vida cultural",
                "gastronomía", "comida"),
    "empleo": ("empleo", "desempleo", "falta de empleo", "trabajo", "falta de trabajo", "salarios bajos", "economía"),
    "agua": ("agua", "falta de agua", "escasez de agua", "ríos", "inundaciones", "agua potable", "lagos"),
    "educacion": ("educación", "educacion", "escuelas", "universidades", "educación de calidad", "la UNAM",
                  "falta de educación"),
    "pobreza": ("pobreza", "la pobreza", "pobres", "marginación", "hambre"),
    "areas-verdes": ("áreas verdes", "areas verdes", "parques", "árboles", "bosques", "espacios verdes",
                     "el Bosque de Chapultepec"),
    "vivienda": ("vivienda", "rentas caras", "gentrificación", "vivienda digna"),
    "salud": ("salud", "hospitales", "servicios de salud"),
    "desigualdad": ("desigualdad", "discriminación", "clasismo", "exclusión"),
    "basura": ("basura", "calles sucias", "suciedad", "limpieza"),
    "sobrepoblacion": ("sobrepoblación", "sobrepoblacion", "mucha gente", "demasiada gente"),
    "participacion": ("participación ciudadana", "democracia", "falta de participación"),
    "derechos": ("derechos humanos", "diversidad sexual", "igualdad de género"),
    "animales": ("animales", "perros callejeros", "maltrato animal"),
    NEUTRAL: ("grande", "caos", "hogar", "bonita", "enorme", "gente", "familia", "diversidad", "prisa", "estrés",
              "oportunidades", "capital", "nostalgia", "tacos", "fiesta", "vida", "ruido", "Zócalo", "amigos",
              "mi casa", "energía", "alegría", "apatía", "burocracia", "ignorancia", "individualismo",
              "el gobierno", "los políticos", "su gente", "los mercados", "la solidaridad", "los barrios"),
}

#: Challenges, as sentences ("¿Qué otro reto tienes en mente?").
CHALLENGES: dict[str, tuple[str, ...]] = {
    "corrupcion": ("Acabar con la corrupción", "La corrupción de los políticos", "corrupcion",
                   "Combatir la corrupción y la impunidad", "Que no haya mordidas"),
    "empleo": ("Generar más empleos", "Falta de empleo", "El desempleo", "Empleos bien pagados", "Mejores salarios",
               "Que haya trabajo para los jóvenes"),
    "movilidad": ("Mejorar el transporte público", "El tráfico", "La movilidad", "Más líneas del metro",
                  "Menos coches y mejor transporte"),
    "agua": ("Que haya agua en todas las colonias", "La escasez de agua", "El abasto de agua",
             "La falta de agua en el oriente", "Cuidar el agua"),
    "educacion": ("Educación de calidad", "Mejorar la educación", "Mejores escuelas públicas", "Más universidades"),
    "pobreza": ("Reducir la pobreza", "La pobreza", "Acabar con el hambre", "La marginación en las periferias"),
    "inseguridad": ("La inseguridad", "Combatir la delincuencia", "Seguridad pública", "Los asaltos"),
    "contaminacion": ("La contaminación", "Reducir la contaminación del aire", "El smog", "El medio ambiente"),
    "vivienda": ("Vivienda accesible", "Las rentas muy caras", "La gentrificación"),
    "salud": ("Mejores hospitales", "Servicios de salud para todos"),
    "desigualdad": ("La desigualdad", "Acabar con la discriminación"),
    "basura": ("La basura en las calles", "Reciclar la basura"),
    "sobrepoblacion": ("La sobrepoblación", "Demasiada gente"),
    "derechos": ("Respeto a los derechos humanos", "Igualdad de género"),
    "animales": ("El maltrato animal", "Proteger a los animales"),
    NEUTRAL: ("Que el gobierno escuche", "La apatía", "Todo", "Ninguno", "La burocracia"),
}

#: What people said during the air-quality crisis.
CRISIS: tuple[str, ...] = (
    "La contingencia ambiental", "El smog de estos días", "Que no haya más contingencias",
    "La calidad del aire, ya no se puede respirar", "La contaminación del aire y el Hoy No Circula",
    "contingencia ambiental", "la contaminacion", "El aire contaminado",
)

#: Pieces of a vision ("¿Cómo te imaginas la CDMX ideal en 20 años?").
VISIONS: dict[str, tuple[str, ...]] = {
    "agua": ("con ríos vivos y limpios", "con sus ríos recuperados", "con agua para todos", "con los lagos de vuelta",
             "sin inundaciones"),
    "areas-verdes": ("con más áreas verdes", "llena de parques y árboles", "verde", "con más parques"),
    "movilidad": ("sin tráfico", "con buen transporte público", "con ciclovías en todas partes",
                  "donde se pueda andar en bici"),
    "inseguridad": ("segura", "sin delincuencia", "sin violencia", "donde no haya robos"),
    "contaminacion": ("con aire limpio", "sin contaminación", "sin smog"),
    "cultura": ("con cultura para todos", "con más museos y teatros", "orgullosa de su historia"),
    "educacion": ("con educación de calidad", "con escuelas dignas"),
    "corrupcion": ("sin corrupción", "con un gobierno honesto y con transparencia"),
    "empleo": ("con empleo para todos", "con trabajo bien pagado"),
    "pobreza": ("sin pobreza", "donde nadie pase hambre"),
    "desigualdad": ("incluyente", "con igualdad", "sin discriminación"),
    "basura": ("limpia", "sin basura"),
    "vivienda": ("con vivienda digna para todos",),
    "salud": ("con hospitales para todos",),
    "derechos": ("donde se respeten los derechos humanos",),
    "animales": ("donde se respete a los animales",),
    NEUTRAL: ("moderna y ordenada", "como una ciudad europea", "feliz", "mejor que ahora", "ordenada",
              "con gente amable", "tecnológica"),
}
VISION_STARTS = ("Una ciudad ", "Una CDMX ", "", "Me la imagino ", "La imagino ", "Ideal: ")

#: What the government had to do.
GOVERNMENT: dict[str, tuple[str, ...]] = {
    "corrupcion": ("Acabar con la corrupción", "Castigar a los corruptos", "Rendir cuentas",
                   "Combatir la impunidad"),
    "inseguridad": ("Más policías en las calles", "Combatir la delincuencia", "Garantizar la seguridad"),
    "movilidad": ("Invertir en transporte público", "Construir más líneas de metro", "Hacer ciclovías"),
    "agua": ("Rescatar los ríos", "Cuidar el agua y arreglar las fugas"),
    "empleo": ("Crear empleos", "Apoyar a las pequeñas empresas y al empleo"),
    "educacion": ("Invertir en educación", "Mejorar las escuelas"),
    "contaminacion": ("Reducir la contaminación", "Cuidar el medio ambiente"),
    "areas-verdes": ("Crear más parques", "Plantar árboles"),
    "pobreza": ("Apoyar a los más pobres",),
    "participacion": ("Escuchar a la ciudadanía", "Abrir espacios de participación"),
    NEUTRAL: ("Escuchar", "Planear a largo plazo", "Cumplir sus promesas", "Gobernar para todos"),
}

#: What the respondent had to do.
SELF: dict[str, tuple[str, ...]] = {
    "participacion": ("Participar más", "Votar", "Organizarme con mis vecinos", "Participar en mi comunidad"),
    "basura": ("Reciclar", "Separar la basura", "No tirar basura en la calle"),
    "movilidad": ("Usar la bicicleta", "Usar el transporte público", "Dejar el coche"),
    "agua": ("Cuidar el agua", "Ahorrar agua"),
    "areas-verdes": ("Plantar árboles", "Cuidar los parques"),
    "corrupcion": ("No dar mordidas",),
    "educacion": ("Estudiar", "Educar a mis hijos"),
    NEUTRAL: ("Respetar las reglas", "Ser mejor ciudadano", "Nada", "Denunciar", "Poner mi granito de arena",
              "Cumplir con mis obligaciones", "Ayudar a los demás", "Pagar mis impuestos"),
}

#: Per question (by its position in preguntas.csv): the weight of each theme in its answers.
WEIGHTS: dict[int, dict[str, float]] = {
    # ¿Cuáles son las tres primeras palabras…? insecurity, contamination, corruption, traffic, culture.
    25: {"inseguridad": 34, "contaminacion": 27, "corrupcion": 22, "movilidad": 19, "cultura": 16, "sobrepoblacion": 6,
         "agua": 6, "pobreza": 5, "basura": 5, "empleo": 4, "educacion": 3, "desigualdad": 3, "areas-verdes": 3,
         "vivienda": 2, "salud": 2, NEUTRAL: 40},
    # ¿Qué otro reto…? corruption, employment, mobility, water, education, poverty.
    27: {"corrupcion": 26, "empleo": 21, "movilidad": 17, "agua": 14, "educacion": 11, "pobreza": 8,
         "inseguridad": 5, "contaminacion": 2, "vivienda": 4, "salud": 4, "desigualdad": 3, "basura": 2,
         "sobrepoblacion": 2, "derechos": 2, "animales": 2, NEUTRAL: 8},
    # ¿Cómo te imaginas la CDMX ideal en 20 años? water (rivers flowing again), green.
    28: {"agua": 22, "areas-verdes": 18, "movilidad": 14, "inseguridad": 14, "contaminacion": 11, "cultura": 7,
         "educacion": 7, "corrupcion": 7, "basura": 5, "empleo": 5, "pobreza": 4, "desigualdad": 4, "vivienda": 3,
         "salud": 3, "derechos": 2, "animales": 2, NEUTRAL: 12},
    # …los tres obstáculos principales…
    29: {"corrupcion": 35, "pobreza": 10, "educacion": 9, "inseguridad": 8, "desigualdad": 8, "sobrepoblacion": 7,
         "participacion": 6, "empleo": 5, "contaminacion": 3, NEUTRAL: 45},
    # ¿Qué tuvo que hacer el gobierno…?
    30: {"corrupcion": 30, "inseguridad": 14, "movilidad": 12, "agua": 9, "empleo": 9, "educacion": 9,
         "participacion": 8, "contaminacion": 6, "areas-verdes": 5, "pobreza": 5, NEUTRAL: 15},
    # ¿Y qué tuviste que hacer tú?
    31: {"participacion": 25, "basura": 14, "movilidad": 12, "agua": 10, "areas-verdes": 6, "corrupcion": 5,
         "educacion": 5, NEUTRAL: 40},
    # …las tres cosas más valiosas de la CDMX…: culture, education, green space, water.
    32: {"cultura": 36, "educacion": 15, "areas-verdes": 15, "agua": 10, "derechos": 3, "participacion": 3,
         NEUTRAL: 45},
}
#: During the contingency, pollution weighs this much more in these questions' answers.
CRISIS_BOOST = {25: 4.0, 29: 4.0}

OCCUPATIONS = ("Estudiante", "Empleada", "Empleado", "Comerciante", "Ama de casa", "Profesor", "Ingeniera",
               "Jubilado", "Abogada", "Taxista", "Diseñador", "Médica", "Desempleado", "Artista", "Contador",
               "Enfermera", "Chofer", "Programadora", "Albañil", "Mesero")
CHALLENGE_OPTIONS = (("Corrupción", 26), ("Empleo", 21), ("Movilidad", 17), ("Agua", 14),
                     ("Educación de calidad", 11), ("Pobreza", 8), ("Inseguridad", 9), ("Contaminación", 5),
                     ("Vivienda", 4), ("Otro", 6))

_ACCENTS = str.maketrans("áéíóúÁÉÍÓÚüÜ", "aeiouAEIOUuU")

try:
    from zoneinfo import ZoneInfo

    _LOCAL = ZoneInfo("America/Mexico_City")
except Exception:  # noqa: BLE001 - no time zone database: Mexico City's standard time
    _LOCAL = timezone(timedelta(hours=-6))


class _Synth:
    """The random choices of one synthetic survey, all from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, weights: dict[str, float], boost: dict[str, float] | None = None) -> str:
        keys = list(weights)
        values = [weights[k] * (boost or {}).get(k, 1.0) for k in keys]
        return self.rng.choices(keys, values)[0]

    def distinct(self, weights: dict[str, float], n: int, boost: dict[str, float] | None = None) -> list[str]:
        chosen: list[str] = []
        pool = dict(weights)
        while len(chosen) < n and pool:
            key = self.pick(pool, boost)
            chosen.append(key)
            if key != NEUTRAL:
                pool.pop(key)
        return chosen

    def styled(self, phrase: str, sentence: bool = False) -> str:
        """The phrase as people type it: accents dropped, capitals or none, a full stop or not."""
        r = self.rng.random()
        if r < 0.25:
            phrase = phrase.translate(_ACCENTS)
        r = self.rng.random()
        if r < 0.04:
            phrase = phrase.upper()
        elif r < 0.30:
            phrase = phrase[:1].upper() + phrase[1:]
        elif r < 0.55:
            phrase = phrase.lower()
        if sentence and self.rng.random() < 0.3:
            phrase += "."
        return phrase

    def three(self, weights: dict[str, float], boost: dict[str, float] | None = None) -> str:
        words = [self.styled(self.rng.choice(WORDS[k])) for k in self.distinct(weights, 3, boost)]
        separator = self.rng.choice((", ", ", ", ", ", " ", " - ", " / ", "; "))
        if separator == ", " and self.rng.random() < 0.3:
            return f"{words[0]}, {words[1]} y {words[2]}"
        return separator.join(words)

    def sentence(self, bank: dict[str, tuple[str, ...]], weights: dict[str, float]) -> str:
        keys = self.distinct(weights, 2 if self.rng.random() < 0.2 else 1)
        parts = [self.rng.choice(bank[k]) for k in keys]
        text = parts[0] if len(parts) == 1 else f"{parts[0]} y {parts[1][:1].lower()}{parts[1][1:]}"
        return self.styled(text, sentence=True)

    def vision(self, weights: dict[str, float]) -> str:
        keys = self.distinct(weights, 2 if self.rng.random() < 0.45 else 1)
        parts = [self.rng.choice(VISIONS[k]) for k in keys]
        text = self.rng.choice(VISION_STARTS) + (" y ".join(parts) if len(parts) > 1 else parts[0])
        return self.styled(text[:1].upper() + text[1:], sentence=True)[:140]


def _week_weights(rng: random.Random) -> list[tuple[date, float]]:
    """Each week of the survey and how many respond in it: a ramp up, a volunteers' campaign in
    May and June (students with tablets at markets and metro stations), noise."""
    weeks = []
    week = SURVEY_START
    while week <= SURVEY_END:
        weight = min(1.0, 0.4 + 0.15 * len(weeks)) * rng.uniform(0.75, 1.25)
        if date(2016, 5, 2) <= week <= date(2016, 6, 26):
            weight *= 1.6
        weeks.append((week, weight))
        week += timedelta(days=7)
    return weeks


class WhenAndWhere(NamedTuple):
    moment: datetime  # aware, UTC
    in_crisis: bool  # during the air-quality contingency
    peak: bool  # in its worst weeks
    borough: str
    neighbourhood: str


def when_and_where(rng: random.Random, weeks: list[tuple[date, float]], boroughs: list[str],
                   borough_weights: Sequence[float], places: dict[str, list[str]]) -> WhenAndWhere:
    """One synthetic respondent's moment (a week by its weight, a day in it, 8:00 to 17:59 in
    Mexico City; weeks are counted by the UTC date) and place (a borough by its weight, one of its
    neighbourhoods), drawn always in this order so that a seed gives the same survey."""
    week = rng.choices([w for w, _ in weeks], [v for _, v in weeks])[0]
    day = min(week + timedelta(days=rng.randrange(7)), SURVEY_END)
    local = datetime.combine(day, time(rng.randrange(8, 18), rng.randrange(60), rng.randrange(60)), _LOCAL)
    borough = rng.choices(boroughs, borough_weights)[0]
    return WhenAndWhere(local.astimezone(timezone.utc), CONTINGENCY[0] <= day <= CONTINGENCY[1],
                        CONTINGENCY_PEAK[0] <= day <= CONTINGENCY_PEAK[1], borough, rng.choice(places[borough]))


def synthetic_rows(respondents: int = 26_000, seed: int = 2016) -> tuple[str, list[QuestionSpec], list[RespondentRow]]:
    """(title, the 32 real questions, synthetic respondents): deterministic for a seed."""
    if not 1 <= respondents <= MAX_RESPONDENTS:
        raise SurveyError(f"the number of respondents must be between 1 and {MAX_RESPONDENTS:,}")
    questions = real_questions()
    expected = {25: "¿Cuáles son las tres", 27: "¿Qué otro reto", 28: "¿Cómo te imaginas", 32: "Si pensaras en las tres"}
    for position, start in expected.items():
        if not questions[position - 1].text.startswith(start):
            raise SurveyError(f"{QUESTIONS_NAME} is not the file the synthesizer knows (question {position})")
    places = real_neighbourhoods()
    boroughs = [b for b in places if b in BOROUGH_WEIGHTS] or list(places)
    borough_weights = [BOROUGH_WEIGHTS.get(b, 300) for b in boroughs]
    synth = _Synth(seed)
    rng = synth.rng
    weeks = _week_weights(rng)
    rows: list[RespondentRow] = []
    for n in range(1, respondents + 1):
        moment, in_crisis, peak, borough, colonia = when_and_where(rng, weeks, boroughs, borough_weights, places)
        age = int(rng.triangular(15, 80, 24))
        answers: dict[int, str] = {
            1: "Ciudad de México", 2: borough, 3: colonia,
            7: rng.choices(("Mujer", "Hombre", "Prefiero no decir"), (51, 47, 2))[0],
            8: str(age),
            9: rng.choice(OCCUPATIONS),
        }
        works = rng.random() < (0.2 if age < 20 else 0.68)
        answers[10] = "Sí" if works else "No"
        if works:
            in_city = rng.random() < 0.85
            answers[11] = "Ciudad de México" if in_city else "Estado de México"
            if in_city:
                where = rng.choices(boroughs, borough_weights)[0]
                answers[12], answers[13] = where, rng.choice(places[where])
        studies = rng.random() < (0.8 if age < 25 else 0.12)
        answers[17] = "Sí" if studies else "No"
        if studies:
            answers[18] = "Ciudad de México"
            where = rng.choices(boroughs, borough_weights)[0]
            answers[19], answers[20] = where, rng.choice(places[where])
        answers[24] = "Sí" if rng.random() < 0.72 else "No"
        boost = {"contaminacion": 1.0 + (CRISIS_BOOST[25] - 1.0) * (1.0 if peak else 0.6)} if in_crisis else None
        answers[25] = synth.three(WEIGHTS[25], boost)
        answers[26] = rng.choices([o for o, _ in CHALLENGE_OPTIONS], [w for _, w in CHALLENGE_OPTIONS])[0]
        if in_crisis and rng.random() < (0.45 if peak else 0.25):
            answers[27] = synth.styled(rng.choice(CRISIS), sentence=True)
        elif rng.random() < 0.7:
            answers[27] = synth.sentence(CHALLENGES, WEIGHTS[27])
        if rng.random() < 0.95:
            answers[28] = synth.vision(WEIGHTS[28])
        if rng.random() < 0.93:
            boost29 = {"contaminacion": CRISIS_BOOST[29]} if in_crisis else None
            answers[29] = synth.three(WEIGHTS[29], boost29)
        if rng.random() < 0.9:
            answers[30] = synth.sentence(GOVERNMENT, WEIGHTS[30])[:140]
        if rng.random() < 0.85:
            answers[31] = synth.sentence(SELF, WEIGHTS[31])[:140]
        if rng.random() < 0.95:
            answers[32] = synth.three(WEIGHTS[32])
        row = RespondentRow(f"S{n:06d}", borough, colonia, moment)
        row.answers = [(position - 1, text) for position, text in sorted(answers.items())]
        rows.append(row)
    title = f"Imagina tu Ciudad 2016 — respuestas sintéticas (no reales), {respondents:,} personas, semilla {seed}"
    return title, questions, rows


def synthetic_survey_json(respondents: int = 26_000, seed: int = 2016) -> bytes:
    """The synthetic survey in the JSON import format (for exercising the import itself)."""
    title, questions, rows = synthetic_rows(respondents, seed)
    return json.dumps({
        "title": title,
        "questions": [{"text": q.text, "group": q.group, "widget": q.widget, "coded": q.coded} for q in questions],
        "respondents": [
            {"id": r.label, "borough": r.borough, "neighbourhood": r.neighbourhood,
             "responded_at": r.responded_at.isoformat(), "answers": {str(i + 1): t for i, t in r.answers}}
            for r in rows
        ],
    }, ensure_ascii=False).encode("utf-8")


def synthesize_survey(db, document: Document, respondents: int = 26_000, seed: int = 2016) -> SurveyImport:
    """A clearly labelled synthetic survey (Survey.synthetic, "sintéticas" in its title) from the
    real 32 questions and the real boroughs and neighbourhoods, with theme frequencies like the
    case study's and a pollution spike during the March–April 2016 contingency. Deterministic
    for a seed (except the receipt codes, which are always fresh). Answers are not coded here:
    call `code_survey`. The caller commits."""
    title, questions, rows = synthetic_rows(respondents, seed)
    return _write(db, document, title, questions, rows, synthetic=True,
                  source=f"synthetic (constituent survey synthesize --seed {seed}); real questions and "
                         "colonias from pcuervo/wp-constitucion")
