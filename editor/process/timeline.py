"""Where a document's process stands, as the public reads it: its stages as a timeline (when each
actually started and ended, from the transitions, beside its planned dates), the next deadline,
the participation figures counted from the records, and the latest versions of the text.

Reading only; every figure is a count over the rows (no cached totals), so the page says what
the database holds at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from .. import clock
from ..models import Document
from ..petitions.service import petition_statuses
from ..provenance.models import CitizenEvent
from ..stages.current import current_stage, stage_name, stages_of, transitions_of
from ..stages.models import Stage, UnitEdit, Version
from ..stages.versions import versions_of
from ..survey.coder import total_respondents
from ..survey.models import Survey

#: How many of the latest versions the process page lists (the rest are on the versions page).
LATEST_VERSIONS = 5


@dataclass(frozen=True)
class Step:
    """One stage on the timeline."""

    stage: Stage
    name: str
    state: str  # "done", "current" or "upcoming"
    #: When the document entered and left the stage (transitions; the first stage starts when the
    #: document was created). None: not yet.
    started_at: datetime | None
    ended_at: datetime | None

    @property
    def planned_start(self) -> date | None:
        return self.stage.planned_start

    @property
    def planned_end(self) -> date | None:
        return self.stage.planned_end


@dataclass(frozen=True)
class Deadline:
    """The first date of the plan still ahead of the process: the current stage's planned end,
    else a later stage's planned start or end. `days` from today; negative when it has passed
    and the process has not moved on (a late stage)."""

    day: date
    step: Step
    kind: str  # "end" or "start"
    days: int

    @property
    def passed(self) -> bool:
        return self.days < 0


def timeline(db, document: Document) -> list[Step]:
    """The document's stages in order, each with its actual and planned dates."""
    stages = stages_of(db, document)
    current = current_stage(db, document)
    entered: dict[str, datetime] = {}
    left: dict[str, datetime] = {}
    for transition in transitions_of(db, document):
        entered[transition.to_key] = clock.as_utc(transition.at)
        left[transition.from_key] = clock.as_utc(transition.at)
    steps = []
    for stage in stages:
        state = "done" if stage.position < current.position else "current" if stage.key == current.key else "upcoming"
        started = entered.get(stage.key)
        if started is None and stage.position == stages[0].position:
            started = clock.as_utc(document.created_at)
        steps.append(Step(stage=stage, name=stage_name(stage), state=state,
                          started_at=started if state != "upcoming" else None,
                          ended_at=left.get(stage.key) if state == "done" else None))
    return steps


def next_deadline(steps: list[Step], today: date) -> Deadline | None:
    """The first planned date not yet reached by the process (see Deadline), or None when the
    plan has no date for what is left."""
    ahead = [s for s in steps if s.state in ("current", "upcoming")]
    for step in ahead:
        candidates = [("end", step.planned_end)] if step.state == "current" else \
            [("start", step.planned_start), ("end", step.planned_end)]
        for kind, day in candidates:
            if day is not None:
                return Deadline(day=day, step=step, kind=kind, days=(day - today).days)
    return None


@dataclass(frozen=True)
class Standing:
    """Where the process stands: its timeline, the current stage and the next deadline."""

    steps: list[Step]
    current: Step
    deadline: Deadline | None

    @property
    def position(self) -> int:
        """The current stage's place on the path, from 1."""
        return self.steps.index(self.current) + 1


def standing(db, document: Document, today: date | None = None) -> Standing:
    steps = timeline(db, document)
    current = next(s for s in steps if s.state == "current")
    return Standing(steps, current, next_deadline(steps, today or clock.now().date()))


@dataclass(frozen=True)
class Participation:
    """What the public has given the process so far, counted from the records (staff comments
    are the drafting side's, not participation, and are not counted)."""

    respondents: int  # survey respondents, every survey of the document
    synthetic_survey: bool  # the survey answers are generated (the demo): said wherever shown
    petitions: int
    signatures: int  # the sum of each petition's latest count
    petitions_over_threshold: int  # petitions that crossed at least one threshold
    thresholds_reached: int  # threshold crossings (a petition crossing two counts twice)
    events: int  # citizen events recorded
    event_participants: int  # their participants, where recorded


def participation(db, document: Document) -> Participation:
    statuses = petition_statuses(db, document)
    events, participants = db.execute(
        select(func.count(CitizenEvent.id), func.coalesce(func.sum(CitizenEvent.participants), 0))
        .where(CitizenEvent.document_id == document.id)).one()
    synthetic = db.scalar(select(Survey.id).where(Survey.document_id == document.id, Survey.synthetic.is_(True)).limit(1))
    return Participation(
        respondents=total_respondents(db, document),
        synthetic_survey=synthetic is not None,
        petitions=len(statuses),
        signatures=sum(s.signatures or 0 for s in statuses),
        petitions_over_threshold=sum(1 for s in statuses if s.reached),
        thresholds_reached=sum(len(s.reached) for s in statuses),
        events=events or 0,
        event_participants=participants or 0,
    )


@dataclass(frozen=True)
class Latest:
    """The latest versions of the text, newest first, and when the live text last changed."""

    versions: list[Version]
    total: int  # versions saved in all
    last_edit: datetime | None


def latest_changes(db, document: Document, limit: int = LATEST_VERSIONS) -> Latest:
    versions = versions_of(db, document, light=True)
    last_edit = db.scalar(select(func.max(UnitEdit.last_at)).where(UnitEdit.document_id == document.id))
    return Latest(versions=list(reversed(versions[-limit:])), total=len(versions), last_edit=clock.as_utc(last_edit))
