"""The drafting committee's weekly report: what happened in one ISO week, for the session that
opens it (the case study's weekly analysis of the survey and the petitions).

Everything is derived from the records, for the week Monday 00:00 to the next Monday 00:00, UTC:

1. petitions that crossed a threshold that week (the event dated by the first count at or over
   it, `petitions.evaluate_thresholds`), and the obligations not fulfilled at the end of the week
   (or now, for the current week): overdue, or due by the end of the following week;
2. signatures at the end of each of the last weeks, for the most signed petitions;
3. survey themes per week, with spikes (SPIKE_RULE below: a week is judged against the weeks before
   it only, as the committee saw them then);
4. coverage gaps: themes and successful petitions no unit of the current text is linked to;
5. units edited that week (who, how often, by amendment) with links to their history and redline;
6. amendments by state at the end of the week, and those that changed state during it;
7. petitioner review outcomes at the end of the week, and the reviews sent during it;
8. conclusions of citizen events uploaded by their organisers that week (published or still
   waiting for a moderator), with how many clauses the committee has linked each event to.

Pages: `/d/<slug>/report[?week=2016-W32]` and the same as PDF at `/d/<slug>/report.pdf`, for the
drafting committee, legal advisers and administrators. `/d/<slug>/document.pdf` is the public text
as PDF, for anyone who may read the document.
"""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from akoma_ntoso import iter_units

from . import cache, clock, permissions
from .access import staff_document, visible_document
from .amendments.models import Amendment, AmendmentEvent
from .amendments.service import state_label
from .charts import Series, bar_chart, legend_swatch, line_chart
from .documents import DocumentError
from .interchange import export_document
from .limits import configured, limiter
from .livetext import read_live
from .models import Document, User
from .participation.calendar import ConclusionsRow, conclusions_between
from .pdf import DOCUMENT_PAGE_CSS, PdfUnavailable, html_to_pdf
from .petitions.models import DEFAULT_THRESHOLDS, Obligation, ObligationMember, Petition, PetitionEvent, SignatureCount, Threshold
from .provenance.labels import action_label
from .provenance.links import path_labels
from .provenance.models import ProvenanceLink
from .provenance.summaries import Provenance
from .review.models import PetitionReview, ReviewRequest
from .services import current_services
from .stages.history import amendment_numbers
from .stages.models import UnitEdit, Version
from .survey.coder import counts_by_week, themes_of
from .survey.models import Respondent, Survey

bp = Blueprint("report", __name__)

#: Who reads the report: the drafting side (the same roles that comment on units).
REPORT_ROLES = permissions.COMMENTING_ROLES
#: Weeks shown in the charts, ending with the report's week.
WINDOW = 8
#: Petitions in the signature chart; themes in the trend chart (plus any theme spiking that week).
TOP_PETITIONS = 5
TOP_THEMES = 5
#: The spike rule: a theme spikes in a week when the share of that week's respondents who raised it
#: is more than SPIKE_SIGMAS deviations above the mean of its weekly shares in the previous weeks,
#: the deviation being the larger of (a) the standard deviation of those previous shares and (b) the
#: sampling error of a share at that mean with this week's number of respondents (a small week is
#: noisy); with at least SPIKE_MIN_PREVIOUS previous weeks with respondents and SPIKE_MIN_RAISED
#: respondents raising it that week. Shares, not counts: a week with many respondents (a campaign)
#: is not a spike of every theme. Only earlier weeks count: the committee saw the week that way.
SPIKE_SIGMAS = 2
SPIKE_MIN_PREVIOUS = 2
SPIKE_MIN_RAISED = 5
#: Obligations listed as "due": not fulfilled and due by the end of the week after the report's.
DUE_AHEAD = timedelta(days=7)

AMENDMENT_STATES = ("tabled", "debate", "adopted", "rejected", "withdrawn", "fallen")
OUTCOMES = ("approved", "objected", "rereview", "pending")
OUTCOME_LABELS = {"approved": _l("Approved"), "objected": _l("Objected"), "rereview": _l("Re-review requested"),
                  "pending": _l("Pending")}

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class ReportError(ValueError):
    """A request for a report that cannot be answered (a malformed or future week)."""


# --- weeks -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday to Sunday, in UTC."""

    start: date  # its Monday

    @classmethod
    def of(cls, day: date) -> "Week":
        return cls(day - timedelta(days=day.weekday()))

    @property
    def end(self) -> date:
        """The Monday after it (exclusive)."""
        return self.start + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time(), tzinfo=timezone.utc)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, datetime.min.time(), tzinfo=timezone.utc)

    @property
    def key(self) -> str:
        year, number, _day = self.start.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def number(self) -> int:
        return self.start.isocalendar()[1]

    def shifted(self, weeks: int) -> "Week":
        return Week(self.start + timedelta(weeks=weeks))

    def holds(self, moment: datetime | None) -> bool:
        moment = clock.as_utc(moment)
        return moment is not None and self.start_at <= moment < self.end_at


def parse_week(value: str | None, today: date) -> Week:
    """The week named `value` ("2016-W32"), or the current one; a week that has not begun is refused."""
    current = Week.of(today)
    if not value:
        return current
    found = _WEEK.match(value.strip())
    if not found:
        raise ReportError(_("“%(week)s” is not a week: write it as year-Wweek, e.g. 2016-W32.", week=value[:40]))
    year, number = int(found.group(1)), int(found.group(2))
    try:
        if year < 1900:  # the report's windows reach weeks back, past what dates can hold
            raise ValueError(year)
        week = Week(date.fromisocalendar(year, number, 1))
    except ValueError:
        raise ReportError(_("%(year)d has no week %(week)d.", year=year, week=number)) from None
    if week.start > current.start:
        raise ReportError(_("The week %(week)s has not begun yet.", week=week.key))
    return week


# --- what the report holds -------------------------------------------------------------------------


@dataclass
class CrossingRow:
    petition: object
    signatures: int  # the threshold
    action: str
    reached_at: datetime
    counted: int | None  # the first count at or over it
    due_on: date | None
    members: list[str]


@dataclass
class ObligationRow:
    petition: object
    action: str
    due_on: date
    overdue: bool
    members: list[str]


@dataclass
class PetitionSeries:
    petition: object
    values: list[int | None]  # signatures at the end of each window week

    @property
    def growth(self) -> int | None:
        """Signatures gained in the report's week (None when there is no count before it)."""
        if len(self.values) < 2 or self.values[-1] is None or self.values[-2] is None:
            return None
        return self.values[-1] - self.values[-2]


@dataclass
class ThemeWeek:
    raised: int
    respondents: int
    share: float  # percent, one decimal (what the chart draws and the table shows)
    spike: bool = False
    mean: float | None = None  # the previous weeks' mean share (percent), when judged
    limit: float | None = None  # mean + SPIKE_SIGMAS × sd (percent)


@dataclass
class ThemeSeries:
    theme: object
    weeks: list[ThemeWeek | None]  # None: no respondent that week


@dataclass
class EditRow:
    guid: str
    label: str
    heading: str
    eid: str | None  # None: no longer in the text
    edits: int
    who: list[str]
    amendments: list[int]
    last_at: datetime


@dataclass
class AmendmentMove:
    number: int
    state: str
    at: datetime


@dataclass
class ReviewRow:
    petition: object
    decision: str
    at: datetime


@dataclass
class Report:
    document: Document
    week: Week
    current: Week
    as_of: datetime  # the end of the week, or now for the current week
    windows: list[Week]
    crossings: list[CrossingRow] = field(default_factory=list)
    obligations: list[ObligationRow] = field(default_factory=list)
    petitions: list[PetitionSeries] = field(default_factory=list)
    thresholds: list[int] = field(default_factory=list)
    theme_weeks_respondents: list[int] = field(default_factory=list)
    themes: list[ThemeSeries] = field(default_factory=list)
    spikes: list[tuple[object, ThemeWeek]] = field(default_factory=list)
    survey_respondents_week: int = 0
    gap_themes: list = field(default_factory=list)
    gap_petitions: list = field(default_factory=list)
    successful: int = 10_000
    edits: list[EditRow] = field(default_factory=list)
    compare_from: int | None = None
    compare_to: str = "live"
    versions_saved: list = field(default_factory=list)
    amendment_counts: dict[str, int] = field(default_factory=dict)
    amendment_entered: dict[str, int] = field(default_factory=dict)
    amendment_moves: list[AmendmentMove] = field(default_factory=list)
    review_counts: dict[str, int] = field(default_factory=dict)
    reviews: list[ReviewRow] = field(default_factory=list)
    conclusions: list[ConclusionsRow] = field(default_factory=list)
    synthetic_survey: bool = False

    @property
    def overdue(self) -> list[ObligationRow]:
        return [o for o in self.obligations if o.overdue]

    @property
    def due(self) -> list[ObligationRow]:
        return [o for o in self.obligations if not o.overdue]


def build_report(services, document: Document, week: Week, now: datetime | None = None) -> Report:
    """The report of `week` for `document`, from the records as they stand (see the module)."""
    now = clock.as_utc(now) or clock.now()
    current = Week.of(now.date())
    as_of = min(now, week.end_at)
    windows = [week.shifted(k) for k in range(-(WINDOW - 1), 1)]
    report = Report(document=document, week=week, current=current, as_of=as_of, windows=windows)
    db = services.db
    live = read_live(services, document.slug)
    _petitions(db, report, now)
    _survey(db, report)
    _coverage(db, report, live.units)
    _edits(db, report, live.units)
    _amendments(db, report)
    _reviews(db, report)
    report.conclusions = conclusions_between(db, document, week.start_at, week.end_at)
    return report


def _petitions(db, report: Report, now: datetime) -> None:

    document, week = report.document, report.week
    # The document's thresholds (read only: the defaults until the committee first sets them).
    report.thresholds = sorted(db.scalars(select(Threshold.signatures).where(Threshold.document_id == document.id))) \
        or [signatures for signatures, *_rest in DEFAULT_THRESHOLDS]
    petitions = {p.id: p for p in db.scalars(select(Petition).where(Petition.document_id == document.id))}
    if not petitions:
        return
    ids = list(petitions)
    counts: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for count in db.scalars(select(SignatureCount).where(SignatureCount.petition_id.in_(ids))):
        counts[count.petition_id].append((clock.as_utc(count.counted_at), count.signatures))
    for history in counts.values():
        history.sort()
    names = dict(db.execute(select(User.id, User.name)).all())
    members: dict[int, list[str]] = defaultdict(list)
    obligations: dict[tuple[int, int | None], Obligation] = {}
    for obligation in db.scalars(select(Obligation).where(Obligation.petition_id.in_(ids))):
        obligations[(obligation.petition_id, obligation.threshold_id)] = obligation
    if obligations:
        for obligation_id, user_id in db.execute(select(ObligationMember.obligation_id, ObligationMember.user_id).where(
                ObligationMember.obligation_id.in_([o.id for o in obligations.values()]))):
            members[obligation_id].append(names.get(user_id, ""))
    events = db.execute(
        select(PetitionEvent, Threshold).join(Threshold, Threshold.id == PetitionEvent.threshold_id)
        .where(PetitionEvent.petition_id.in_(ids)))
    crossed_at: dict[tuple[int, int], datetime] = {}
    for event, threshold in events:
        moment = clock.as_utc(event.occurred_at)
        crossed_at[(event.petition_id, threshold.id)] = moment
        if week.holds(moment):
            obligation = obligations.get((event.petition_id, threshold.id))
            first = next((n for m, n in counts.get(event.petition_id, []) if n >= threshold.signatures), None)
            report.crossings.append(CrossingRow(
                petition=petitions[event.petition_id], signatures=threshold.signatures, action=threshold.action,
                reached_at=moment, counted=first, due_on=obligation.due_on if obligation else None,
                members=sorted(members.get(obligation.id, [])) if obligation else []))
    report.crossings.sort(key=lambda c: (c.reached_at, c.signatures, c.petition.title))
    # Obligations not fulfilled at the end of the week (now, for the current week).
    as_of = report.as_of
    due_by = week.end + DUE_AHEAD
    for (petition_id, threshold_id), obligation in obligations.items():
        moment = crossed_at.get((petition_id, threshold_id))
        if moment is None or moment >= week.end_at:
            continue  # not crossed yet by then
        done_at = clock.as_utc(obligation.done_at)
        if obligation.status == "done" and (done_at is None or done_at <= as_of):
            continue
        overdue = obligation.due_on < as_of.date()
        if overdue or obligation.due_on < due_by:
            report.obligations.append(ObligationRow(
                petition=petitions[petition_id], action=obligation.action, due_on=obligation.due_on,
                overdue=overdue, members=sorted(members.get(obligation.id, []))))
    report.obligations.sort(key=lambda o: (not o.overdue, o.due_on, o.petition.title))
    # Signatures at the end of each window week (as counted then; now for the current week).
    series = []
    for petition_id, history in counts.items():
        values: list[int | None] = []
        for window in report.windows:
            limit = min(window.end_at, now)
            before = [n for m, n in history if m < limit]
            values.append(before[-1] if before else None)
        if values[-1]:
            series.append(PetitionSeries(petitions[petition_id], values))
    series.sort(key=lambda s: (-(s.values[-1] or 0), s.petition.title))
    report.petitions = series[:TOP_PETITIONS]


def spike_judgement(share: float, raised: int, respondents: int,
                    previous: list[float]) -> tuple[bool, float | None, float | None]:
    """(spike?, mean, limit) of a week's share (percent) against the previous weeks' shares (see
    SPIKE_SIGMAS): limit = mean + SPIKE_SIGMAS × max(sd of the previous shares, sampling error)."""
    if len(previous) < SPIKE_MIN_PREVIOUS or respondents <= 0:
        return False, None, None
    mean = sum(previous) / len(previous)
    spread = math.sqrt(sum((p - mean) ** 2 for p in previous) / len(previous))
    p = mean / 100
    sampling = 100 * math.sqrt(p * (1 - p) / respondents)
    limit = mean + SPIKE_SIGMAS * max(spread, sampling)
    return raised >= SPIKE_MIN_RAISED and share > limit, mean, limit


def _survey(db, report: Report) -> None:

    document = report.document
    weeks = [w for w in counts_by_week(db, document) if w.respondents]
    report.synthetic_survey = bool(db.scalar(select(Survey.id).where(
        Survey.document_id == document.id, Survey.synthetic.is_(True)).limit(1)))
    if not weeks:
        return
    themes = themes_of(db, document)
    by_monday = {w.week: w for w in weeks}
    report.theme_weeks_respondents = [by_monday[w.start].respondents if w.start in by_monday else 0
                                      for w in report.windows]
    this_week = by_monday.get(report.week.start)
    report.survey_respondents_week = this_week.respondents if this_week else 0

    def judged(theme_key: str, window: Week) -> ThemeWeek | None:
        found = by_monday.get(window.start)
        if found is None:
            return None
        raised = found.themes.get(theme_key, 0)
        share = round(100 * raised / found.respondents, 1)
        previous = [100 * w.themes.get(theme_key, 0) / w.respondents for w in weeks if w.week < window.start]
        spike, mean, limit = spike_judgement(share, raised, found.respondents, previous)
        return ThemeWeek(raised, found.respondents, share, spike,
                         round(mean, 1) if mean is not None else None, round(limit, 1) if limit is not None else None)

    all_series = [ThemeSeries(theme, [judged(theme.key, window) for window in report.windows]) for theme in themes]
    spiking = [s for s in all_series if s.weeks[-1] is not None and s.weeks[-1].spike]
    report.spikes = sorted(((s.theme, s.weeks[-1]) for s in spiking), key=lambda p: -p[1].share)
    in_window = sorted(all_series, key=lambda s: (-sum(w.raised for w in s.weeks if w), s.theme.name))
    chosen = [s for s in in_window if any(w and w.raised for w in s.weeks)][:TOP_THEMES]
    chosen += [s for s in spiking if s not in chosen]
    report.themes = chosen


def _coverage(db, report: Report, units) -> None:

    document = report.document
    successful = db.scalar(select(Threshold.signatures).where(
        Threshold.document_id == document.id, Threshold.action == "committee_presentation"))
    report.successful = successful or 10_000
    provenance = Provenance.load(db, document)
    report.gap_themes, report.gap_petitions = provenance.coverage(units, report.successful)


def _edits(db, report: Report, units) -> None:

    document, week = report.document, report.week
    rows = [row for row in db.scalars(select(UnitEdit).where(UnitEdit.document_id == document.id))
            if clock.as_utc(row.last_at) >= week.start_at and clock.as_utc(row.first_at) < week.end_at]
    names = dict(db.execute(select(User.id, User.name)).all())
    numbers = amendment_numbers(db, {r.amendment_id for r in rows})
    labels = path_labels(units)
    present = {u.guid: (i, u) for i, u in enumerate(iter_units(units))}
    grouped: dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[row.guid].append(row)
    edits = []
    for guid, spells in grouped.items():
        order, unit = present.get(guid, (len(present), None))
        who = sorted({names.get(s.user_id, "") for s in spells if s.user_id is not None and s.amendment_id is None} - {""})
        edits.append((order, EditRow(
            guid=guid, label=labels.get(guid, "") if unit else "", heading=unit.heading if unit else "",
            eid=unit.eid if unit else None, edits=sum(s.count for s in spells), who=who,
            amendments=sorted({numbers[s.amendment_id] for s in spells if s.amendment_id in numbers}),
            last_at=max(clock.as_utc(s.last_at) for s in spells))))
    report.edits = [row for _order, row in sorted(edits, key=lambda pair: (pair[0], pair[1].guid))]
    versions = list(db.scalars(select(Version).where(Version.document_id == document.id).order_by(Version.number)))
    before = [v for v in versions if clock.as_utc(v.created_at) < week.start_at]
    after = [v for v in versions if clock.as_utc(v.created_at) >= week.end_at]
    report.compare_from = before[-1].number if before else None
    report.compare_to = str(after[0].number) if after else "live"
    report.versions_saved = [v for v in versions if week.holds(v.created_at)]


def _amendments(db, report: Report) -> None:

    document, week = report.document, report.week
    amendments = {a.id: a for a in db.scalars(select(Amendment).where(Amendment.document_id == document.id))}
    report.amendment_counts = {state: 0 for state in AMENDMENT_STATES}
    report.amendment_entered = {state: 0 for state in AMENDMENT_STATES}
    if not amendments:
        return
    history: dict[int, list[AmendmentEvent]] = defaultdict(list)
    for event in db.scalars(select(AmendmentEvent).where(AmendmentEvent.amendment_id.in_(list(amendments)))
                            .order_by(AmendmentEvent.id)):
        history[event.amendment_id].append(event)
    for amendment_id, events in history.items():
        events.sort(key=lambda e: (clock.as_utc(e.at), e.id))
        then = [e for e in events if clock.as_utc(e.at) < week.end_at]
        state = then[-1].to_state if then else None
        if state in report.amendment_counts:
            report.amendment_counts[state] += 1
        for event in then:
            if week.holds(event.at) and event.to_state in report.amendment_entered:
                report.amendment_entered[event.to_state] += 1
                report.amendment_moves.append(AmendmentMove(amendments[amendment_id].number, event.to_state,
                                                            clock.as_utc(event.at)))
    report.amendment_moves.sort(key=lambda m: (m.at, m.number))


def _reviews(db, report: Report) -> None:

    document, week = report.document, report.week
    linked = {link.source_id for link in db.scalars(select(ProvenanceLink).where(
        ProvenanceLink.document_id == document.id, ProvenanceLink.source_kind == "petition"))
        if clock.as_utc(link.created_at) < week.end_at}
    reviews = [r for r in db.scalars(select(PetitionReview).where(PetitionReview.document_id == document.id))
               if clock.as_utc(r.created_at) < week.end_at]
    requests = {r.review_id: r for r in db.scalars(select(ReviewRequest).where(ReviewRequest.document_id == document.id))
                if clock.as_utc(r.created_at) < week.end_at}
    latest: dict[int, PetitionReview] = {}
    for review in sorted(reviews, key=lambda r: (clock.as_utc(r.created_at), r.id)):
        latest[review.petition_id] = review
    counts = {outcome: 0 for outcome in OUTCOMES}
    for petition_id in linked | set(latest):
        review = latest.get(petition_id)
        if review is None:
            counts["pending"] += 1
        elif review.id in requests:
            counts["rereview"] += 1
        else:
            counts["approved" if review.decision == "approve" else "objected"] += 1
    report.review_counts = counts
    petitions = {p.id: p for p in db.scalars(select(Petition).where(Petition.document_id == document.id))}
    report.reviews = sorted(
        (ReviewRow(petitions[r.petition_id], r.decision, clock.as_utc(r.created_at)) for r in reviews
         if week.holds(r.created_at) and r.petition_id in petitions),
        key=lambda r: (r.at, r.petition.title))


# --- charts ----------------------------------------------------------------------------------------


def week_label(week: Week) -> str:
    """A week on an axis: its Monday, short, in the reader's language ("8 ago", "Aug 8")."""
    return format_date(week.start, "d MMM")


def charts(report: Report) -> dict:
    """The report's SVG charts, each with the data its table shows (the same numbers)."""

    labels = [week_label(w) for w in report.windows]
    first, last = format_date(report.windows[0].start, "long"), format_date(report.week.last_day, "long")
    out: dict = {}
    if report.petitions:
        out["signatures"] = line_chart(
            "chart-signatures",
            _("Signatures of the most signed petitions, week by week"),
            _("Signatures counted at the end of each week from %(first)s to %(last)s, for the %(n)d petitions "
              "with most signatures; dashed lines mark the thresholds. The table beside the chart gives every "
              "value.", first=first, last=last, n=len(report.petitions)),
            labels, [Series(s.petition.title, [float(v) if v is not None else None for v in s.values])
                     for s in report.petitions],
            fmt=lambda v: format_decimal(round(v)),
            references=[(t, format_decimal(t)) for t in report.thresholds],
            point_titles=lambda s, i, v: f"{report.petitions[s].petition.title} · {labels[i]}: {format_decimal(round(v))}",
        )
    if report.themes:
        top = max((w.share for s in report.themes for w in s.weeks if w), default=0)
        out["themes"] = line_chart(
            "chart-themes",
            _("Survey themes: share of each week's respondents who raised them"),
            _("Percentage of each week's respondents who raised each theme, from %(first)s to %(last)s; "
              "ringed points are spikes (see the rule above). The table beside the chart gives every value.",
              first=first, last=last),
            labels, [Series(s.theme.name, [w.share if w else None for w in s.weeks],
                            {i for i, w in enumerate(s.weeks) if w and w.spike}) for s in report.themes],
            fmt=lambda v: format_percent(v / 100, "#,##0%"),
            point_titles=lambda s, i, v: f"{report.themes[s].theme.name} · {labels[i]}: "
                                         f"{format_percent(v / 100, '#,##0.0%')}",
            y_max=None if top else 100.0,
        )
    if any(report.amendment_counts.values()):

        out["amendments"] = bar_chart(
            "chart-amendments", _("Amendments by state at the end of the week"),
            _("Number of amendments in each state on %(day)s; drafts are not counted. The table beside the "
              "chart gives the same numbers.", day=last),
            [(state_label(s), float(report.amendment_counts[s])) for s in AMENDMENT_STATES],
            fmt=lambda v: format_decimal(round(v)))
    if any(report.review_counts.values()):
        out["reviews"] = bar_chart(
            "chart-reviews", _("Petitioner reviews: outcomes at the end of the week"),
            _("Petitions linked to the text by the outcome of their latest review on %(day)s. The table beside "
              "the chart gives the same numbers.", day=last),
            [(str(OUTCOME_LABELS[o]), float(report.review_counts[o])) for o in OUTCOMES],
            fmt=lambda v: format_decimal(round(v)))
    return out


# --- pages -----------------------------------------------------------------------------------------


def can_read_report(user, document: Document) -> bool:
    return permissions.effective_role(user, document) in REPORT_ROLES


@bp.app_template_global()
def can_see_report(document: Document) -> bool:
    """For links to the report: whether the signed-in user may read it."""
    return can_read_report(current_user, document)


def _report_document(slug: str) -> Document:
    """The document, for the drafting committee, legal advisers and administrators; else 404, login or 403."""

    return staff_document(slug, can_read_report)


def _report_or_400(document: Document):
    try:
        week = parse_week(request.args.get("week"), clock.now().date())
    except ReportError as exc:
        abort(Response(render_template("error.html", message=str(exc)), 400))
    return build_report(current_services(), document, week)


def _latest_active_week(report: Report) -> Week | None:
    """The latest week before the current one with anything to report (for an empty current week)."""

    db = current_services().db
    moments = [db.scalar(select(SignatureCount.counted_at).join(Petition, Petition.id == SignatureCount.petition_id)
                         .where(Petition.document_id == report.document.id)
                         .order_by(SignatureCount.counted_at.desc()).limit(1))]

    moments.append(db.scalar(select(Respondent.responded_at).join(Survey, Survey.id == Respondent.survey_id)
                             .where(Survey.document_id == report.document.id)
                             .order_by(Respondent.responded_at.desc()).limit(1)))
    moments.append(db.scalar(select(UnitEdit.last_at).where(UnitEdit.document_id == report.document.id)
                             .order_by(UnitEdit.last_at.desc()).limit(1)))
    found = [clock.as_utc(m) for m in moments if m is not None]
    if not found:
        return None
    week = Week.of(max(found).date())
    return week if week.start < report.current.start else None


def _is_empty(report: Report) -> bool:
    return not (report.crossings or report.edits or report.survey_respondents_week or report.reviews
                or report.amendment_moves or report.conclusions or any(p.growth for p in report.petitions))


def page_context(report: Report) -> dict:

    latest = _latest_active_week(report) if report.week == report.current and _is_empty(report) else None
    return dict(
        report=report, document=report.document, week=report.week, charts=charts(report),
        week_labels=[week_label(w) for w in report.windows], state_label=state_label, action_label=action_label,
        outcome_labels=OUTCOME_LABELS, amendment_states=AMENDMENT_STATES, outcomes=OUTCOMES, swatch=legend_swatch,
        previous=report.week.shifted(-1), following=report.week.shifted(1) if report.week != report.current else None,
        latest_active=latest, first_day=format_date(report.week.start, "full"),
        last_day=format_date(report.week.last_day, "full"), spike_sigmas=SPIKE_SIGMAS,
        spike_min_previous=SPIKE_MIN_PREVIOUS, spike_min_raised=SPIKE_MIN_RAISED,
        generated=report.as_of if report.week == report.current else None,
        can_manage_reviews=permissions.can_manage_reviews(current_user, report.document),
    )


@bp.route("/d/<slug>/report")
def page(slug: str):
    document = _report_document(slug)
    report = _report_or_400(document)
    return render_template("report/page.html", **page_context(report))


@bp.route("/d/<slug>/report.pdf")
def pdf(slug: str):

    document = _report_document(slug)
    report = _report_or_400(document)
    started = time.perf_counter()
    html = render_template("report/print.html", **page_context(report))
    try:
        data = html_to_pdf(html, stylesheets=("report.css",))
    except PdfUnavailable as exc:
        current_app.logger.error("report PDF: %s", exc)
        abort(Response(render_template("error.html", message=_("PDFs cannot be made on this server: %(why)s",
                                                               why=str(exc))), 503))
    current_app.logger.info("report PDF of %s %s: %d bytes in %.2f s", slug, report.week.key, len(data),
                            time.perf_counter() - started)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{slug}-report-{report.week.key}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/d/<slug>/document.pdf")
# Renders (not cached copies) count against the address: a PDF of a whole constitution takes
# seconds of CPU.
@limiter.limit(configured("EXPORT_RATE_LIMIT"), deduct_when=lambda response: response.headers.get("X-Constituent-Cache") != "hit")
def document_pdf(slug: str):
    """The live text (or `?version=`) as PDF, from the standalone HTML export: for its readers.
    Rendered once per document state (and version, language, day) and served from the page
    cache to anonymous readers after that."""
    document = visible_document(slug)  # 404 for a document the caller may not read
    version = request.args.get("version")

    def render() -> Response:
        try:
            html = export_document(current_services(), slug, "html", current_app.config, version=version)
        except DocumentError as exc:
            abort(Response(render_template("error.html", message=str(exc)), 404 if version is not None else 500))
        started = time.perf_counter()
        try:
            data = html_to_pdf(html.decode("utf-8"), page_css=DOCUMENT_PAGE_CSS)
        except PdfUnavailable as exc:
            current_app.logger.error("document PDF: %s", exc)
            abort(Response(render_template("error.html", message=_("PDFs cannot be made on this server: %(why)s",
                                                                   why=str(exc))), 503))
        current_app.logger.info("document PDF of %s (%s): %d bytes in %.2f s", slug, version or "live", len(data),
                                time.perf_counter() - started)
        return Response(data, mimetype="application/pdf")

    response = cache.export(document, f"pdf:{version or 'live'}", render, frozenset({"download", "version"}))
    if response.status_code == 200:  # (a cached copy keeps only the body and its type)
        suffix = f"-v{version.lstrip('v')}" if version and version != "live" else ""
        disposition = "attachment" if request.args.get("download") else "inline"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{slug}{suffix}.pdf"'
    return response
