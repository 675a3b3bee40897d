"""What became of each petition, for the public: the clauses it led to (editor.provenance), the
petitioner's review outcome (editor.review), and the adopted amendments that later changed those
clauses (editor.amendments); and the results table of every petition that crossed a threshold,
like the case study's table of its successful petitions, kept live.

Only what is public is shown: a review's outcome and date, its comment only when the petitioner
chose to publish it (`PetitionReview.publish_comment`), never the reviewer's name or address; and
the committee's published reason (`Petition.outcome_reason`) for a petition it did not (or only
partly) incorporate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from akoma_ntoso import Unit, iter_units

from .. import clock
from ..amendments.models import Amendment, AmendmentChange
from ..models import Document
from ..petitions.models import Petition
from ..petitions.service import is_not_incorporated
from ..provenance.summaries import PetitionSummary, Provenance
from ..review.service import dashboard

#: What a results row says became of a petition (see `status_of`).
STATUSES = ("incorporated", "removed", "not_incorporated", "pending")


@dataclass(frozen=True)
class ReviewOutcome:
    """The petitioners' latest review of the wording of their clauses."""

    decision: str | None  # "approve" or "object" (None: no review yet)
    reviewed_at: datetime | None
    asked_again_at: datetime | None  # the wording changed after the review: they were asked again
    comment: str | None = None  # the review's comment, only when the petitioner chose to publish it

    @property
    def verdict(self) -> str | None:
        """What the petitioners said last, "approved" or "objected" (None: nothing yet), whether
        or not they have been asked again since."""
        return {"approve": "approved", "object": "objected"}.get(self.decision or "")


@dataclass(frozen=True)
class ChangedClause:
    label: str  # the clause's label after the amendment (before it, for a repeal)
    eid: str | None  # where it is now (None: repealed)


@dataclass
class LaterAmendment:
    """An adopted amendment that changed one of the petition's clauses (or a unit inside one)."""

    amendment: Amendment
    clauses: list[ChangedClause] = field(default_factory=list)


@dataclass(frozen=True)
class Accountability:
    review: ReviewOutcome | None  # None: the petition is not linked to the text (nothing to review)
    amendments: list[LaterAmendment]
    status: str = "pending"  # one of STATUSES (see `status_of`)
    reason: str = ""  # the committee's published reason ("" until it publishes one)

    @property
    def not_incorporated(self) -> bool:
        """Its source says it was not incorporated, or none of its clauses is in the text any more."""
        return self.status in ("not_incorporated", "removed")


def review_outcomes(services, document: Document, units: Iterable[Unit]) -> dict[int, ReviewOutcome]:
    """The latest review outcome of every petition linked to the text, by petition id (the
    committee's review dashboard decides the outcome; this keeps only its public part)."""
    board = dashboard(services, document, tuple(units))
    return {
        row.petition.id: ReviewOutcome(
            decision=row.review.decision if row.review is not None else None,
            reviewed_at=clock.as_utc(row.review.created_at) if row.review is not None else None,
            asked_again_at=clock.as_utc(row.request.created_at) if row.request is not None else None,
            comment=(row.review.comment if row.review is not None and row.review.publish_comment
                     and row.review.comment else None),
        )
        for row in board.rows
    }


def _adopted_changes(db, document: Document) -> dict[str, list[tuple[Amendment, AmendmentChange]]]:
    """Every unit an adopted amendment changed (by GUID), with the amendments, in adoption order."""
    changed: dict[str, list[tuple[Amendment, AmendmentChange]]] = defaultdict(list)
    for amendment, change in db.execute(
            select(Amendment, AmendmentChange).join(AmendmentChange, AmendmentChange.amendment_id == Amendment.id)
            .where(Amendment.document_id == document.id, Amendment.state == "adopted")
            .order_by(Amendment.decided_at, Amendment.number, AmendmentChange.position)):
        changed[change.guid].append((amendment, change))
    return changed


def _with_descendants(guids: Iterable[str], units: Iterable[Unit]) -> set[str]:
    """The GUIDs and those of every unit inside them in the text (an amendment to Artículo 16,
    apartado A changes a petition's Artículo 16)."""
    wanted = set(guids)
    found = set(wanted)
    for unit in iter_units(tuple(units)):
        if unit.guid in wanted:
            found |= {u.guid for u in iter_units(unit.children)}
    return found


def later_amendments(changes: dict[str, list[tuple[Amendment, AmendmentChange]]], guids: Iterable[str],
                     units: Iterable[Unit]) -> list[LaterAmendment]:
    """The adopted amendments among `changes` that changed the units `guids` or units inside them."""
    by_amendment: dict[int, LaterAmendment] = {}
    for guid in _with_descendants(guids, units):
        for amendment, change in changes.get(guid, ()):
            later = by_amendment.setdefault(amendment.id, LaterAmendment(amendment))
            label = change.label_after or change.label_before or ""
            later.clauses.append(ChangedClause(label, change.eid_after))
    found = list(by_amendment.values())
    for later in found:
        later.clauses.sort(key=lambda c: c.label)
    found.sort(key=lambda a: (clock.as_utc(a.amendment.decided_at) or clock.now(), a.amendment.number))
    return found


def petition_accountability(services, document: Document, petition_id: int, guids: Iterable[str],
                            units: Iterable[Unit]) -> Accountability:
    """What became of one petition linked to the units `guids` (its public page)."""
    units = tuple(units)
    guids = set(guids)
    outcome = review_outcomes(services, document, units).get(petition_id) if guids else None
    petition = services.db.get(Petition, petition_id)
    present = {u.guid for u in iter_units(units)} & guids
    status = _status(petition.final_text_refs if petition is not None else "", len(present), len(guids))
    return Accountability(review=outcome,
                          amendments=later_amendments(_adopted_changes(services.db, document), guids, units),
                          status=status, reason=(petition.outcome_reason or "").strip() if petition else "")


# --- the results table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One petition that crossed a threshold, with what became of it."""

    summary: PetitionSummary
    clauses: list[Unit]  # the linked units still in the text, in text order
    status: str  # one of STATUSES
    review: ReviewOutcome | None
    amendments: list[LaterAmendment]
    reason: str = ""  # the committee's published reason ("" until it publishes one)

    @property
    def highest(self) -> tuple[int, str, datetime] | None:
        """The highest threshold crossed: (signatures, action, when)."""
        return self.summary.reached[-1] if self.summary.reached else None


def status_of(summary: PetitionSummary, present: int, linked: int) -> str:
    """incorporated (some linked clause is in the text), removed (linked clauses, none left),
    not_incorporated (its source says so: "X"), or pending (not linked yet)."""
    return _status(summary.petition.final_text_refs, present, linked)


def _status(final_text_refs: str | None, present: int, linked: int) -> str:
    if present:
        return "incorporated"
    if linked:
        return "removed"
    if is_not_incorporated(final_text_refs or ""):
        return "not_incorporated"
    return "pending"


def results(services, document: Document, provenance: Provenance, units: Iterable[Unit]) -> list[Result]:
    """Every petition that crossed at least one threshold, most signed first."""
    units = tuple(units)
    order = {u.guid: i for i, u in enumerate(iter_units(units))}
    by_guid = {u.guid: u for u in iter_units(units)}
    linked: dict[int, list[str]] = defaultdict(list)
    for link in provenance.links:
        if link.source_kind == "petition":
            linked[link.source_id].append(link.unit_guid)
    outcomes = review_outcomes(services, document, units)
    changes = _adopted_changes(services.db, document)
    found = []
    for summary in provenance.petitions.values():
        if not summary.reached:
            continue
        guids = list(dict.fromkeys(linked.get(summary.id, [])))
        present = sorted((by_guid[g] for g in guids if g in by_guid), key=lambda u: order[u.guid])
        found.append(Result(summary=summary, clauses=present, status=status_of(summary, len(present), len(guids)),
                            review=outcomes.get(summary.id), amendments=later_amendments(changes, guids, units),
                            reason=(summary.petition.outcome_reason or "").strip()))
    found.sort(key=lambda r: (-r.summary.signatures, r.summary.title))
    return found
