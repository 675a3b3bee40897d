"""The paper backup: the questionnaire printed on numbered sheets for people without a phone or a
connection, each with a receipt code on a slip the respondent keeps; the filled sheets keyed by
staff, twice, by two different people, and counted only when both keyings agree.

Why twice: one keying slip (a box misread, a word skipped) would silently change what someone
said, and nobody would ever see the sheet again. Two independent keyings catch it.

* `print_forms` gives the next numbers and a fresh receipt code for each; only the codes' hashes
  are kept, so the printed sheets hold the only copy (the page that shows them is shown once).
* `key_form` stores one person's keying of a sheet (checked against the questionnaire first: bad
  answers store nothing). A second keying by someone else is compared with the first on the
  checked answers, free text compared without regard to case or spacing, and on the date written
  on the sheet. When they agree the form counts: it becomes a respondent (channel "paper") whose
  receipt is the code printed on the slip. When they differ the form is held back and listed, with
  the questions that differ, until someone settles it (`resolve_form`).
* One keying per person per form, never replaced: someone who doubts their own keying cannot
  quietly make it match the other; the difference shows, and another person settles it from the
  sheet. A form that counts, or whose keyings disagree, takes no further keying.
* A mismatch is settled by an analyst (committee, administrators) or by a third person who keyed
  neither side: they enter the final answers (a PaperEntry marked as the resolution) and the form
  counts, once. Settling it again, or keying a counted form, is refused and changes nothing.
* Once a form counts, its keyings' copies of the answers are blanked: the answers then live only
  in the respondent's record, where the receipt code can see and erase them.

The caller commits (and rolls back on an error); see editor/survey/paper_views.py for the pages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from .. import clock, permissions
from ..models import Document
from .answering import AnswerProblems, Cleaned, clean_answers, submit
from .models import PaperEntry, PaperForm, Respondent, Survey
from .questionnaire import question_of, stored_questions
from .service import SurveyError, new_receipt_code, receipt_hash

#: The most forms printed at once (a print run of a few hundred sheets; more is a mistake).
MAX_PRINT = 500
#: The date written on the sheet, where keyings' differences name a question key (no question key
#: starts with "@").
DATE_FIELD = "@date"
#: How many numbers of forms keyed once `paper_state` lists.
MAX_WAITING = 200


class PaperError(SurveyError):
    """A printing, keying or resolution that the form's state refuses. `reason` is one of REASONS
    (the pages say it in the reader's language); `number` is the form's, when there is one."""

    REASONS = {
        "not-open": "only an open questionnaire can have forms printed",
        "count": f"print from 1 to {MAX_PRINT} forms at a time",
        "unknown": "no form with this number was printed for this questionnaire",
        "counted": "this form already counts: it takes no more keyings",
        "yours": "you already keyed this form: a different person must key it the second time",
        "mismatch": "this form's two keyings differ: it waits for someone to resolve it",
        "no-mismatch": "this form has no differing keyings to resolve",
        "not-resolver": "you keyed this form: an analyst or a third person resolves it",
        "not-taking": "this questionnaire is not taking answers",
        "closed": "this questionnaire is closed: only forms answered while it was open can be keyed",
    }

    def __init__(self, reason: str, number: int | None = None) -> None:
        self.reason = reason
        self.number = number
        where = f"form {number}: " if number is not None else ""
        super().__init__(where + self.REASONS[reason])


# --- printing ---------------------------------------------------------------------------------------


def print_forms(db, survey: Survey, count: int) -> list[tuple[int, str]]:
    """`count` new forms with the next numbers: [(number, receipt code)]. Only the codes' hashes
    are stored: the caller shows the codes once, to be printed. An open questionnaire only (a
    draft may still change under the printed sheets)."""
    if survey.status != "open":
        raise PaperError("not-open")
    if not isinstance(count, int) or not 1 <= count <= MAX_PRINT:
        raise PaperError("count")
    last = db.scalar(select(func.max(PaperForm.number)).where(PaperForm.survey_id == survey.id)) or 0
    printed = []
    for number in range(last + 1, last + count + 1):
        code = new_receipt_code()
        db.add(PaperForm(survey_id=survey.id, number=number, receipt_hash=receipt_hash(code)))
        printed.append((number, code))
    db.flush()
    return printed


# --- comparing keyings --------------------------------------------------------------------------------


def canonical(db, survey: Survey, cleaned: Cleaned) -> dict[str, Any]:
    """Checked answers as submit() takes them (question key → text, a list for "multi", a
    {"borough", "neighbourhood"} for "place"): what a keying stores."""
    out: dict[str, Any] = {}
    for row, texts in cleaned.answers:
        question = question_of(row)
        if question.kind == "multi":
            out[question.key] = list(texts)
        elif question.kind == "place":
            out[question.key] = {"borough": cleaned.borough, "neighbourhood": cleaned.neighbourhood}
        else:
            out[question.key] = texts[0]
    return out


def _normal(value: Any) -> Any:
    """A value as keyings are compared: text without regard to case or spacing."""
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    if isinstance(value, list):
        return sorted(_normal(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items()}
    return value


def entry_values(entry: PaperEntry) -> dict[str, Any]:
    """A keying's answers by question key, with the date written on the sheet as DATE_FIELD."""
    values = json.loads(entry.answers or "{}")
    if entry.responded_on:
        values[DATE_FIELD] = entry.responded_on
    return values


def compared_keys(db, survey: Survey) -> list[str]:
    """What keyings are compared on: the question keys in questionnaire order, then DATE_FIELD."""
    return [question_of(row).key for row in stored_questions(db, survey)] + [DATE_FIELD]


def differences(db, survey: Survey, first: PaperEntry, second: PaperEntry, keys: list[str] | None = None) -> list[str]:
    """The keys (in questionnaire order, then DATE_FIELD) on which two keyings differ."""
    a, b = entry_values(first), entry_values(second)
    return [key for key in keys or compared_keys(db, survey) if _normal(a.get(key)) != _normal(b.get(key))]


# --- keying ---------------------------------------------------------------------------------------------


@dataclass
class Keyed:
    form: PaperForm
    #: "first" (waits for a second person), "counted", or "mismatch" (held back).
    outcome: str
    #: The keys that differ, when held back.
    differ: list[str] = field(default_factory=list)
    respondent: Respondent | None = None


def _form(db, survey: Survey, number: int) -> PaperForm:
    form = db.scalar(select(PaperForm).where(PaperForm.survey_id == survey.id, PaperForm.number == number))
    if form is None:
        raise PaperError("unknown", number)
    return form


def keyings(db, form: PaperForm) -> list[PaperEntry]:
    """The form's keyings (not resolutions), first first."""
    return list(db.scalars(select(PaperEntry).where(PaperEntry.form_id == form.id, PaperEntry.resolution.is_(False))
                           .order_by(PaperEntry.entered_at, PaperEntry.id)))


def _day(text: str, form: PaperForm) -> str:
    """The date written on the sheet as YYYY-MM-DD ("" for none); AnswerProblems when it is not a
    date, is in the future, or is before the form was printed (a day's leeway for time zones)."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise AnswerProblems({DATE_FIELD: "is not a date (year-month-day)"})
    if day > clock.now().date():
        raise AnswerProblems({DATE_FIELD: "is in the future"})
    printed = clock.as_utc(form.printed_at) or clock.now()
    if day < printed.date() - timedelta(days=1):
        raise AnswerProblems({DATE_FIELD: "is before the form was printed"})
    return day.isoformat()


def _moment(survey: Survey, day: str, first_keyed: datetime) -> datetime:
    """When the person answered, for the respondent's record: the sheet's date (at midday UTC,
    kept within the time the questionnaire was open and not after now), else when the sheet was
    first keyed."""
    if not day:
        return clock.as_utc(first_keyed)
    moment = datetime.combine(date.fromisoformat(day), time(12), tzinfo=timezone.utc)
    opened, closed = clock.as_utc(survey.opened_at), clock.as_utc(survey.closed_at)
    if opened is not None and moment < opened and moment.date() == opened.date():
        moment = opened
    latest = min(clock.now(), closed) if closed is not None else clock.now()
    if moment > latest and moment.date() == latest.date():
        moment = latest
    return moment


def _taking(survey: Survey, moment: datetime) -> None:
    """PaperError unless answers given at `moment` count: open, or closed but answered while open."""
    if survey.status == "open":
        return
    if survey.status != "closed":
        raise PaperError("not-taking")
    opened, closed = clock.as_utc(survey.opened_at), clock.as_utc(survey.closed_at)
    if opened is None or closed is None or not opened <= moment <= closed:
        raise PaperError("closed")


def _checked(db, survey: Survey, form: PaperForm, raw: Mapping[str, Any], responded_on: str) -> tuple[dict, str]:
    """(the canonical answers, the sheet's date) or AnswerProblems naming every field at fault."""
    problems: dict[str, str] = {}
    try:
        day = _day(responded_on, form)
    except AnswerProblems as exc:
        problems.update(exc.problems)
        day = ""
    try:
        answers = canonical(db, survey, clean_answers(db, survey, raw, required=False))
    except AnswerProblems as exc:
        problems.update(exc.problems)
        answers = {}
    if problems:
        raise AnswerProblems(problems)
    return answers, day


def key_form(db, survey: Survey, number: int, raw_answers: Mapping[str, Any], user, responded_on: str = "", *,
             secret: bytes) -> Keyed:
    """Store `user`'s keying of form `number` and, when it is the second and agrees with the
    first, count the form. PaperError when the form's state refuses it; AnswerProblems when the
    answers (or the date) are not ones the questionnaire allows. `secret`: answer_secret()."""
    form = _form(db, survey, number)
    if form.respondent_id is not None:
        raise PaperError("counted", number)
    earlier = keyings(db, form)
    if any(entry.entered_by == user.id for entry in earlier):
        raise PaperError("yours", number)
    if len(earlier) >= 2:
        raise PaperError("mismatch", number)
    answers, day = _checked(db, survey, form, raw_answers, responded_on)
    now = clock.now()
    _taking(survey, _moment(survey, day, earlier[0].entered_at if earlier else now))
    entry = PaperEntry(form_id=form.id, entered_by=user.id, entered_at=now, answers=json.dumps(answers, ensure_ascii=False),
                       responded_on=day, resolution=False)
    db.add(entry)
    db.flush()
    if not earlier:
        return Keyed(form, "first")
    first = earlier[0]
    differ = differences(db, survey, first, entry)
    if differ:
        return Keyed(form, "mismatch", differ=differ)
    respondent = _count(db, survey, form, json.loads(first.answers), first.responded_on, first, secret)
    return Keyed(form, "counted", respondent=respondent)


def _count(db, survey: Survey, form: PaperForm, answers: dict, day: str, first: PaperEntry, secret: bytes) -> Respondent:
    """Make the form a respondent whose receipt is the code printed on its slip, and blank the
    keyings' copies of the answers."""
    sent = submit(db, survey, answers, channel="paper", secret=secret, receipt_digest=form.receipt_hash,
                  captured_at=_moment(survey, day, first.entered_at), collector_id=first.entered_by)
    form.respondent_id = sent.respondent.id
    for entry in db.scalars(select(PaperEntry).where(PaperEntry.form_id == form.id)):
        entry.answers = "{}"
    db.flush()
    return sent.respondent


# --- resolving a mismatch ---------------------------------------------------------------------------------


def may_resolve(document: Document, entries: list[PaperEntry], user) -> bool:
    """Analysts settle any mismatch; others who collect answers settle those they keyed no side of."""
    if permissions.can_edit(user, document):
        return True
    return permissions.can_collect_answers(user, document) and all(e.entered_by != user.id for e in entries)


def mismatched_keyings(db, survey: Survey, number: int) -> tuple[PaperForm, list[PaperEntry]]:
    """The form `number` and its two differing keyings; PaperError when it has none to resolve."""
    form = _form(db, survey, number)
    if form.respondent_id is not None:
        raise PaperError("counted", number)
    entries = keyings(db, form)
    if len(entries) < 2:
        raise PaperError("no-mismatch", number)
    return form, entries[:2]


def resolve_form(db, survey: Survey, number: int, raw_answers: Mapping[str, Any], user, responded_on: str = "", *,
                 secret: bytes) -> Keyed:
    """Settle form `number`'s mismatch with the final answers read from the sheet: stored as the
    resolution, and the form counts. PaperError when there is nothing to resolve (already counted,
    fewer than two keyings) or `user` may not; AnswerProblems for answers the questionnaire refuses."""
    form, entries = mismatched_keyings(db, survey, number)
    if not may_resolve(db.get(Document, survey.document_id), entries, user):
        raise PaperError("not-resolver", number)
    answers, day = _checked(db, survey, form, raw_answers, responded_on)
    _taking(survey, _moment(survey, day, entries[0].entered_at))
    entry = PaperEntry(form_id=form.id, entered_by=user.id, entered_at=clock.now(),
                       answers=json.dumps(answers, ensure_ascii=False), responded_on=day, resolution=True)
    db.add(entry)
    db.flush()
    respondent = _count(db, survey, form, answers, day, entries[0], secret)
    return Keyed(form, "counted", respondent=respondent)


# --- the state of the paper forms ----------------------------------------------------------------------------


@dataclass
class Mismatch:
    form: PaperForm
    #: The two keyings, first first.
    entries: list[PaperEntry]
    #: The keys that differ (question keys in questionnaire order, then DATE_FIELD).
    differ: list[str]


@dataclass
class PaperState:
    printed: int = 0
    #: Keyed by one person, waiting for a second.
    keyed_once: int = 0
    #: Keyings agreed, or a mismatch was resolved: the form is a respondent.
    counted: int = 0
    #: Two keyings that differ, waiting to be resolved.
    mismatched: int = 0
    #: Numbers of the forms keyed once (the first MAX_WAITING).
    waiting: list[int] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def not_keyed(self) -> int:
        return self.printed - self.keyed_once - self.counted - self.mismatched


def paper_state(db, survey: Survey) -> PaperState:
    """How many forms were printed, keyed once, counted and held back, and the mismatches."""
    rows = db.execute(
        select(PaperForm, func.count(PaperEntry.id))
        .outerjoin(PaperEntry, (PaperEntry.form_id == PaperForm.id) & PaperEntry.resolution.is_(False))
        .where(PaperForm.survey_id == survey.id).group_by(PaperForm.id).order_by(PaperForm.number)
    ).all()
    state = PaperState(printed=len(rows))
    held: list[PaperForm] = []
    for form, keyed in rows:
        if form.respondent_id is not None:
            state.counted += 1
        elif keyed >= 2:
            state.mismatched += 1
            held.append(form)
        elif keyed == 1:
            state.keyed_once += 1
            if len(state.waiting) < MAX_WAITING:
                state.waiting.append(form.number)
    keys = compared_keys(db, survey) if held else []
    for form in held:
        entries = keyings(db, form)[:2]
        state.mismatches.append(Mismatch(form, entries, differences(db, survey, *entries, keys=keys)))
    return state
