"""Answers coming in through Constituent: the web page, kiosks, volunteers' tablets (synced later)
and paper forms keyed by staff. One function, `submit`, takes them all.

* The answers are checked against the questionnaire (kinds, options, required questions, lengths);
  a bad submission raises `AnswerProblems` naming each question at fault and writes nothing.
* A tablet's answers carry the id they were captured under (`client_id`) and their capture time:
  syncing them again returns the respondent already stored and adds nothing.
* The web page's submissions carry a one-use challenge the page was given (`issue_challenge`),
  solved by a small proof of work in the browser (`solved`). A reused challenge is refused; an
  unsolved one (no JavaScript) is accepted and marked.
* Ballot stuffing is looked for without keeping addresses or reading answers: keyed digests of
  the normalised answers (`fingerprint`) and of the sending address and day (`origin`). Answers
  that look like duplicates are kept and counted, marked `suspect` with the reasons
  ("same-answers:N" earlier ones, "one-address:N" today, "no-challenge"; separated by ";"), and
  listed for analysts (`suspects`); the rate limit on the page refuses floods outright.
* Free-text answers are coded into the document's themes at once, so receipts and counts follow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, insert, select

from .. import clock
from ..inputs import surrogate_in
from ..models import Document
from .coder import code_text, load_taxonomy, themes_of
from .models import CHANNELS, Answer, Coding, Respondent, Survey, SurveyQuestion
from .questionnaire import Question, places_of, question_of, stored_questions
from .service import MAX_ANSWER_CHARS, SurveyError, new_receipt_code, receipt_hash

#: How many leading zero bits the web page's proof of work must find (about 16,000 SHA-256 on
#: average: well under a second on a phone, a real cost for a script sending thousands).
WORK_BITS = 14
#: A challenge is good for this long after the page was opened (a long questionnaire, a break).
CHALLENGE_HOURS = 12
#: Web submissions from one address in one day beyond which the next ones are marked (a school or
#: a library shares one address: they are marked, never refused for this alone).
ORIGIN_DAILY = 25
#: A tablet's capture time may be this far in the future of the server's clock (clock drift).
CLOCK_SKEW = timedelta(minutes=10)


class AnswerProblems(SurveyError):
    """A submission that cannot be stored: `problems` maps question keys ("" for the whole) to what
    is wrong."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in self.problems.items()))


@dataclass
class Submitted:
    respondent: Respondent
    #: The receipt code, shown once; None when the answers were already stored (a second sync) or
    #: when the code was printed on the paper form.
    code: str | None
    again: bool = False
    themes: list[str] = field(default_factory=list)


# --- the challenge -----------------------------------------------------------------------------------


def _sign(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]


def issue_challenge(secret: bytes, survey: Survey, now: float | None = None) -> str:
    """A one-use token for one answering of `survey`: "<survey>.<time>.<nonce>.<bits>.<signature>"."""
    body = f"{survey.id}.{int(now if now is not None else time.time())}.{secrets.token_hex(8)}.{WORK_BITS}"
    return f"{body}.{_sign(secret, 'challenge:' + body)}"


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(challenge: str) -> str:
    """The proof of work for a challenge (what the page's script does; for tests and tools)."""
    bits = int(challenge.split(".")[3])
    n = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{n}".encode()).digest()) < bits:
        n += 1
    return str(n)


def check_challenge(secret: bytes, survey: Survey, challenge: str, work: str,
                    now: float | None = None) -> tuple[str, bool]:
    """(the digest stored to make the challenge one-use, whether its work was done); AnswerProblems
    when the token is not one this server gave for this survey lately."""
    parts = (challenge or "").split(".")
    stale = AnswerProblems({"": "this page is too old or was not opened here: reload it, your answers are kept"})
    if len(parts) != 5 or len(challenge) > 120:
        raise stale
    body, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_sign(secret, "challenge:" + body), signature) or parts[0] != str(survey.id):
        raise stale
    issued = int(parts[1])
    if not 0 <= (now if now is not None else time.time()) - issued <= CHALLENGE_HOURS * 3600:
        raise stale
    done = False
    if work and len(work) <= 20 and work.isdigit():
        digest = hashlib.sha256(f"{challenge}:{work}".encode()).digest()
        done = leading_zero_bits(digest) >= int(parts[3])
    return hashlib.sha256(challenge.encode()).hexdigest(), done


# --- checking answers ----------------------------------------------------------------------------------


@dataclass
class Cleaned:
    #: (question row, answer texts): one text per question, several for a "multi" question.
    answers: list[tuple[SurveyQuestion, list[str]]]
    borough: str = ""
    neighbourhood: str = ""


def _free_text(value: object) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    return value.replace("\r\n", "\n").strip()


def clean_answers(db, survey: Survey, raw: Mapping[str, Any], required: bool = True) -> Cleaned:
    """The answers as the questionnaire allows them, or AnswerProblems naming each question at
    fault. `raw` maps question keys to text, a list of option values ("multi"), or for the place
    question {"borough": …, "neighbourhood": …}. With `required` false, questions the
    questionnaire requires may be left empty (a paper sheet is what the person wrote)."""
    if not isinstance(raw, Mapping):
        raise AnswerProblems({"": "the answers must be an object: question key → answer"})
    rows = stored_questions(db, survey)
    questions: list[tuple[SurveyQuestion, Question]] = [(row, question_of(row)) for row in rows]
    known = {q.key for _, q in questions}
    problems: dict[str, str] = {}
    unknown = [k for k in raw if k not in known]
    if unknown:
        problems[""] = f"no question has the key {str(unknown[0])[:60]!r}"
    cleaned = Cleaned(answers=[])
    for row, question in questions:
        value = raw.get(question.key)
        texts: list[str] = []
        if question.kind in ("text", "long_text", "scale", "choice"):
            text = _free_text(value)
            if text is None:
                problems[question.key] = "must be text"
                continue
            if text and surrogate_in(text) is not None:
                problems[question.key] = "is not valid text"
                continue
            if len(text) > MAX_ANSWER_CHARS:
                problems[question.key] = "is too long"
                continue
            if question.kind == "text" and "\n" in text:
                text = " ".join(text.split())
            if text and question.kind == "choice" and question.option(text) is None:
                problems[question.key] = "is not one of the options"
                continue
            if text and question.kind == "scale" and (not text.isdigit() or not question.low <= int(text) <= question.high):
                problems[question.key] = "is not a point of the scale"
                continue
            texts = [text] if text else []
        elif question.kind == "multi":
            values = [value] if isinstance(value, str) else (value or [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                problems[question.key] = "must be a list of options"
                continue
            if any(question.option(v) is None for v in values):
                problems[question.key] = "has a choice that is not one of the options"
                continue
            texts = [o.value for o in question.options if o.value in values]
        elif question.kind == "place":
            place = value if isinstance(value, Mapping) else {}
            borough = _free_text(place.get("borough")) or ""
            neighbourhood = _free_text(place.get("neighbourhood")) or ""
            if borough or neighbourhood:
                places = places_of(rows)
                if borough not in places:
                    problems[question.key] = "is not one of the boroughs"
                    continue
                if neighbourhood and neighbourhood not in places[borough]:
                    problems[question.key] = "is not a neighbourhood of that borough"
                    continue
                cleaned.borough, cleaned.neighbourhood = borough, neighbourhood
                texts = [", ".join(p for p in (neighbourhood, borough) if p)]
        if required and question.required and not texts:
            problems[question.key] = "needs an answer"
            continue
        if texts:
            cleaned.answers.append((row, texts))
    if problems:
        raise AnswerProblems(problems)
    if not cleaned.answers:
        raise AnswerProblems({"": "nothing was answered"})
    return cleaned


def fingerprint(secret: bytes, cleaned: Cleaned) -> str:
    """The same answers, whatever their case and spacing, give the same digest."""
    normal = [(row.position, [" ".join(t.casefold().split()) for t in texts]) for row, texts in cleaned.answers]
    return _sign(secret, "answers:" + json.dumps(normal, ensure_ascii=False))


def origin_of(secret: bytes, address: str, day: datetime) -> str:
    return _sign(secret, f"origin:{address}:{day.date().isoformat()}") if address else ""


# --- storing them -------------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def submit(db, survey: Survey, raw: Mapping[str, Any], *, channel: str, secret: bytes,
           captured_at: datetime | None = None, client_id: str | None = None, collector_id: int | None = None,
           address: str = "", challenge: str | None = None, unsolved: bool = False,
           code: str | None = None, receipt_digest: str | None = None) -> Submitted:
    """Check and store one person's answers, code them into themes, and return their receipt code.
    A code printed beforehand is given as `code`, or as `receipt_digest` (its receipt_hash) when
    only the digest was kept (paper forms): the returned code is then None. The caller commits.
    See the module's docstring."""
    if receipt_digest is not None and (len(receipt_digest) != 64 or receipt_digest.strip("0123456789abcdef")):
        raise ValueError("a receipt digest is 64 lowercase hexadecimal characters")
    if channel not in CHANNELS or channel == "import":
        raise ValueError(f"unknown channel {channel!r}")
    now = clock.now()
    if client_id is not None:
        if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64 or not client_id.isprintable():
            raise AnswerProblems({"": "the capture id must be 8 to 64 printable characters"})
        earlier = db.scalar(select(Respondent).where(Respondent.survey_id == survey.id,
                                                     Respondent.client_id == client_id))
        if earlier is not None:
            return Submitted(earlier, None, again=True)
    moment = _utc(captured_at) if captured_at is not None else now
    if moment > now + CLOCK_SKEW:
        raise AnswerProblems({"": "the capture time is in the future"})
    if survey.status != "open":
        # A tablet's answers captured while it was open still count when they sync after it closed.
        captured_open = (survey.status == "closed" and captured_at is not None and survey.opened_at is not None
                         and survey.closed_at is not None
                         and _utc(survey.opened_at) <= moment <= _utc(survey.closed_at))
        if not captured_open:
            raise AnswerProblems({"": "this questionnaire is not taking answers"
                                  if survey.status != "draft" else "this questionnaire is not published yet"})
    if challenge is not None and db.scalar(select(Respondent.id).where(Respondent.survey_id == survey.id,
                                                                       Respondent.challenge == challenge)):
        raise AnswerProblems({"": "these answers were already sent from this page"})
    cleaned = clean_answers(db, survey, raw, required=channel != "paper")
    digest = fingerprint(secret, cleaned)
    origin = origin_of(secret, address, now) if channel == "web" else ""
    reasons = []
    same = db.scalar(select(func.count(Respondent.id)).where(Respondent.survey_id == survey.id,
                                                             Respondent.fingerprint == digest))
    if same:
        reasons.append(f"same-answers:{same}")
    if origin:
        from_there = db.scalar(select(func.count(Respondent.id)).where(Respondent.survey_id == survey.id,
                                                                       Respondent.origin == origin))
        if from_there >= ORIGIN_DAILY:
            reasons.append(f"one-address:{from_there + 1}")
    if unsolved:
        reasons.append("no-challenge")
    printed = code is not None or receipt_digest is not None
    if receipt_digest is None:
        code = code or new_receipt_code()
        receipt_digest = receipt_hash(code)
    respondent = Respondent(
        survey_id=survey.id, receipt_hash=receipt_digest, borough=cleaned.borough,
        neighbourhood=cleaned.neighbourhood, responded_at=moment, channel=channel, received_at=now,
        collector_id=collector_id, client_id=client_id, challenge=challenge, fingerprint=digest, origin=origin,
        suspect=";".join(reasons)[:200],
    )
    db.add(respondent)
    db.flush()
    themes = _store_answers(db, survey, respondent, cleaned)
    return Submitted(respondent, None if printed else code, themes=themes)


def _store_answers(db, survey: Survey, respondent: Respondent, cleaned: Cleaned) -> list[str]:
    """Insert the answers and code the free-text ones; returns the keys of the themes raised."""
    rows = [(row, text) for row, texts in cleaned.answers for text in texts]
    ids = db.execute(
        insert(Answer).returning(Answer.id, sort_by_parameter_order=True),
        [{"respondent_id": respondent.id, "question_id": row.id, "text": text, "coded_by_hand": False}
         for row, text in rows],
    ).scalars().all()
    coded = [(answer_id, text) for answer_id, (row, text) in zip(ids, rows, strict=True) if row.coded]
    if not coded:
        return []
    document = db.get(Document, survey.document_id)
    themes = {t.key: t.id for t in themes_of(db, document)}
    taxonomy = load_taxonomy(db, document)
    raised: set[str] = set()
    codings = []
    for answer_id, text in coded:
        keys = code_text(text, taxonomy) & set(themes)
        raised |= keys
        codings += [{"answer_id": answer_id, "theme_id": themes[k], "source": "auto", "coder_id": None}
                    for k in sorted(keys)]
    if codings:
        db.execute(insert(Coding), codings)
    return sorted(raised)


# --- what analysts see -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Suspect:
    respondent: Respondent
    #: How many responses of the survey share its answers (itself included).
    same_answers: int


def suspects(db, survey: Survey, limit: int = 500) -> list[Suspect]:
    """Responses marked as possible duplicates, newest first, with the size of their group."""
    rows = list(db.scalars(select(Respondent).where(Respondent.survey_id == survey.id, Respondent.suspect != "")
                           .order_by(Respondent.id.desc()).limit(limit)))
    sizes = dict(db.execute(
        select(Respondent.fingerprint, func.count(Respondent.id))
        .where(Respondent.survey_id == survey.id, Respondent.fingerprint.in_({r.fingerprint for r in rows}))
        .group_by(Respondent.fingerprint)).all()) if rows else {}
    return [Suspect(r, sizes.get(r.fingerprint, 1)) for r in rows]


def suspect_count(db, survey: Survey) -> int:
    return db.scalar(select(func.count(Respondent.id)).where(Respondent.survey_id == survey.id,
                                                             Respondent.suspect != "")) or 0


def by_channel(db, survey: Survey) -> dict[str, int]:
    return dict(db.execute(select(Respondent.channel, func.count(Respondent.id))
                           .where(Respondent.survey_id == survey.id).group_by(Respondent.channel)).all())


def answer_secret(config: Mapping[str, Any]) -> bytes:
    """The key of the challenge and of the duplicate digests, derived from SECRET_KEY."""
    return hashlib.sha256(b"constituent survey answers:" + str(config["SECRET_KEY"]).encode()).digest()


def display(question: Question, text: str, language: str) -> str:
    """An answer as the respondent chose it, in their language (an option's label, not its value)."""
    option = question.option(text) if question.kind in ("choice", "multi") else None
    return option.label(language) if option else text

