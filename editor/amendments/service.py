"""What can be done with amendments, and the rules: drafting, tabling, debate, votes, the close of
the vote (adoption applies the amendment to the live text), conflicts, and the AKN document.

Pages (views) and the JSON API (api) call these functions; every refusal is an
`AmendmentError` with its kind of refusal (editor.errors) and a message for the user, raised before anything is
changed. Who may do what is asked of editor.permissions.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from pycrdt import Doc, XmlFragment
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from akoma_ntoso import (
    ALLOWED_CHILDREN,
    EID_ABBREVIATIONS,
    TOP_LEVEL_KINDS,
    AkomaNtosoError,
    Unit,
    iter_units,
    new_guid,
    read_units,
)
from akoma_ntoso.akn import Expression, to_bytes, validate
from akoma_ntoso.amendment import (
    AmendmentDocument,
    Modification,
    Person,
    Related,
    StateStep,
    Tally,
    Wording,
    amendment_uri,
    citation,
    export_amendment,
)

from .. import clock, permissions
from ..akn_export import identity as document_identity
from ..assembly import rules as assembly_rules
from ..assembly.majority import Outcome, decide
from ..assembly.models import VoteChange
from ..commissions.models import Commission
from ..errors import DomainError
from ..events import AmendmentAdopted, AmendmentChanged
from ..livetext import read_live, text_of
from ..models import Document, User
from ..redline import Change, word_diff
from ..stages.current import current_stage_of, stage_name
from ..stages.history import record_edits
from .apply import ApplyError, Insert, Remove, Substitute, apply_to_etree, apply_to_fragment, paragraphs_of
from .models import (
    CHOICES,
    DICTAMEN,
    KINDS,
    OPEN_STATES,
    POSITIONS,
    Amendment,
    AmendmentChange,
    AmendmentEvent,
    AmendmentRevision,
    AmendmentSponsor,
    AmendmentTarget,
    AmendmentVote,
)

log = logging.getLogger(__name__)

MAX_TARGETS = 50
MAX_COSPONSORS = 50
MAX_HEADING = 500
MAX_TEXT = 20_000
MAX_JUSTIFICATION = 10_000

#: What each action does: (states it starts from, state it leads to).
ACTIONS = {
    "table": (("draft",), "tabled"),
    "withdraw": (("tabled", "debate"), "withdrawn"),
    "debate": (("tabled",), "debate"),
    "close": (("debate",), None),  # adopted or rejected, by the tally
}

# One decision at a time per document in this process: adoption reads, checks and changes the text.
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(document_id: int) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(document_id, threading.Lock())


class AmendmentError(DomainError):
    """A request about amendments that is refused: its kind (editor.errors), the reason, and the
    targets in conflict when an adoption finds the text changed."""

    def __init__(self, kind: str, message: str, conflicts: list[TargetConflict] | None = None) -> None:
        super().__init__(kind, message)
        self.conflicts = conflicts or []


# --- reading -------------------------------------------------------------------------------------


def amendments_of(db, document: Document) -> list[Amendment]:
    return list(db.scalars(select(Amendment).where(Amendment.document_id == document.id).order_by(Amendment.number)))


def get_amendment(db, document: Document, number: int) -> Amendment | None:
    return db.scalar(select(Amendment).where(Amendment.document_id == document.id, Amendment.number == number))


def history_of(db, amendment: Amendment) -> list[AmendmentEvent]:
    return list(db.scalars(select(AmendmentEvent).where(AmendmentEvent.amendment_id == amendment.id)
                           .order_by(AmendmentEvent.at, AmendmentEvent.id)))


def votes_of(db, amendment: Amendment) -> list[AmendmentVote]:
    return list(db.scalars(select(AmendmentVote).where(AmendmentVote.amendment_id == amendment.id)
                           .order_by(AmendmentVote.at, AmendmentVote.id)))


def changes_of(db, amendment: Amendment) -> list[AmendmentChange]:
    return list(db.scalars(select(AmendmentChange).where(AmendmentChange.amendment_id == amendment.id)
                           .order_by(AmendmentChange.position)))


@dataclass(frozen=True)
class Count:
    votes_for: int = 0
    votes_against: int = 0
    abstentions: int = 0

    @property
    def as_dict(self) -> dict:
        return {"for": self.votes_for, "against": self.votes_against, "abstain": self.abstentions}


def tally_of(db, amendment: Amendment) -> Count:
    """The recorded tally once the vote is closed; the votes cast so far before."""
    if amendment.votes_for is not None:
        return Count(amendment.votes_for, amendment.votes_against or 0, amendment.votes_abstain or 0)
    counts = dict(db.execute(select(AmendmentVote.choice, func.count()).where(AmendmentVote.amendment_id == amendment.id)
                             .group_by(AmendmentVote.choice)).all())
    return Count(counts.get("for", 0), counts.get("against", 0), counts.get("abstain", 0))


@dataclass(frozen=True)
class Located:
    unit: Unit
    path: tuple[Unit, ...]  # its ancestors and itself, outermost first
    parent: Unit | None


def unit_index(units: Sequence[Unit]) -> dict[str, Located]:
    """Every unit of the tree by GUID, with its path from the top."""
    found: dict[str, Located] = {}

    def walk(level: Sequence[Unit], path: tuple[Unit, ...]) -> None:
        for unit in level:
            here = (*path, unit)
            found.setdefault(unit.guid, Located(unit, here, path[-1] if path else None))
            walk(unit.children, here)

    walk(units, ())
    return found


def unit_citation(located: Located, language: str) -> str:
    return citation(located.path, language)


# --- conflicts -----------------------------------------------------------------------------------


def _tree_guids(tree_json: str | None) -> set[str]:
    if not tree_json:
        return set()
    guids: set[str] = set()

    def walk(node: dict) -> None:
        guids.add(node["guid"])
        for child in node.get("children", ()):
            walk(child)

    walk(json.loads(tree_json))
    return guids


def touched_guids(amendment: Amendment) -> set[str]:
    """The units an amendment acts on: its targets and, for a deletion, everything inside them."""
    guids = {t.guid for t in amendment.targets}
    if amendment.kind == "deletion":
        for target in amendment.targets:
            guids |= _tree_guids(target.base_tree)
    return guids


def open_conflicts(db, document: Document) -> dict[int, list[tuple[Amendment, set[str]]]]:
    """For every open (tabled or under debate) amendment that shares a unit with another open
    one: the others and the GUIDs they share. Keyed by amendment id."""
    open_ones = list(db.scalars(select(Amendment).where(Amendment.document_id == document.id,
                                                        Amendment.state.in_(OPEN_STATES))
                                .order_by(Amendment.number)))
    touched = {a.id: touched_guids(a) for a in open_ones}
    found: dict[int, list[tuple[Amendment, set[str]]]] = {}
    for a in open_ones:
        for b in open_ones:
            # A sub-amendment, a reserved article or a part does not conflict with its own parent.
            if a.id != b.id and a.parent_id != b.id and b.parent_id != a.id:
                shared = touched[a.id] & touched[b.id]
                if shared:
                    found.setdefault(a.id, []).append((b, shared))
    return found


@dataclass
class TargetConflict:
    """A target whose wording changed since the amendment was tabled (or that is gone)."""

    guid: str
    label: str
    eid: str
    status: str  # "changed" or "gone"
    heading: list[Change] = field(default_factory=list)
    text: list[Change] = field(default_factory=list)
    below: list[Change] = field(default_factory=list)  # a deletion's sub-units

    def as_dict(self) -> dict:
        def ops(changes: list[Change]) -> list[dict]:
            return [{"op": {0: "keep", -1: "delete", 1: "insert"}[c.op], "text": c.text} for c in changes]

        return {"unit": self.guid, "label": self.label, "eId": self.eid, "status": self.status,
                "heading": ops(self.heading), "text": ops(self.text), "sub_units": ops(self.below)}


def _flat(node: dict) -> str:
    """A unit's sub-units as plain text, for comparing what a deletion would remove."""
    lines: list[str] = []

    def walk(n: dict) -> None:
        for child in n.get("children", ()):
            lines.append(" ".join(x for x in (child.get("label", ""), child.get("heading", "")) if x))
            if child.get("text"):
                lines.append(child["text"])
            walk(child)

    walk(node)
    return "\n".join(lines)


def _unit_json(unit: Unit) -> dict:
    return {"guid": unit.guid, "kind": unit.kind, "label": unit.label, "eid": unit.eid, "heading": unit.heading,
            "text": unit.text, "children": [_unit_json(c) for c in unit.children]}


@dataclass(frozen=True)
class Base:
    """What a target looked like at tabling (plain data: safe to hand to the room's worker)."""

    guid: str
    label: str
    eid: str
    heading: str
    text: str
    tree: dict


def bases_of(amendment: Amendment) -> list[Base]:
    return [Base(t.guid, t.base_label or t.label, t.base_eid or t.eid, t.base_heading or "", t.base_text or "",
                 json.loads(t.base_tree) if t.base_tree else {})
            for t in amendment.targets if t.base_tree is not None]


def check_bases(kind: str, bases: Sequence[Base], units: Sequence[Unit]) -> list[TargetConflict]:
    """The targets whose wording is not what it was at tabling. An insertion only needs its
    anchor to be there (it does not change the anchor's words); a deletion also compares the
    sub-units it would remove."""
    index = unit_index(units)
    conflicts: list[TargetConflict] = []
    for base in bases:
        located = index.get(base.guid)
        if located is None:
            conflicts.append(TargetConflict(base.guid, base.label, base.eid, "gone"))
            continue
        if kind == "insertion":
            continue
        unit = located.unit
        now_below = _flat(_unit_json(unit)) if kind == "deletion" else ""
        then_below = _flat(base.tree) if kind == "deletion" else ""
        if (unit.heading, unit.text, now_below) != (base.heading, base.text, then_below):
            conflicts.append(TargetConflict(
                base.guid, unit.label or base.label, unit.eid, "changed",
                heading=word_diff(base.heading, unit.heading), text=word_diff(base.text, unit.text),
                below=word_diff(then_below, now_below) if then_below != now_below else []))
    return conflicts


# --- input ---------------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Paragraphs as typed: line ends normalised, lines trimmed, blank lines dropped."""
    lines = (line.strip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _str(data: Mapping, name: str, limit: int, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise AmendmentError("invalid", _("The field %(name)s must be text.", name=name))
    if len(value) > limit:
        raise AmendmentError("invalid", _("The field %(name)s is longer than %(limit)d characters.", name=name, limit=limit))
    if _NOT_TEXT.search(value):  # XML (the amendment's Akoma Ntoso) cannot carry them
        raise AmendmentError("invalid", _("The field %(name)s contains control characters.", name=name))
    return value


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Proposal:
    """A validated amendment proposal, ready to be stored."""

    kind: str
    targets: list[Located]
    wordings: list[tuple[str, str]] = field(default_factory=list)  # substitution: one per target
    position: str = ""
    new_kind: str = ""
    heading: str = ""
    text: str = ""
    justification: str = ""
    cosponsors: list[User] = field(default_factory=list)


def insertable_kinds(located: Located, position: str) -> tuple[str, ...]:
    """The kinds of unit that may go `position` the unit (docs/document-model.md)."""
    # A cross-heading has no text to amend in; the editor adds those.
    if position == "inside":
        return tuple(k for k in ALLOWED_CHILDREN[located.unit.kind] if k != "crossHeading")
    if position == "before" and located.unit.kind == "preamble":
        return ()  # the preamble is always first
    if located.parent is None:
        # Groups of transitional provisions, then schedules, close the body: beside one only
        # another of its kind goes, beside the body's units only their kinds (a first group or
        # schedule is added in the editor).
        if located.unit.kind in ("transitional", "attachment"):
            return (located.unit.kind,)
        return tuple(k for k in TOP_LEVEL_KINDS if k not in ("preamble", "transitional", "attachment", "crossHeading"))
    return tuple(k for k in ALLOWED_CHILDREN[located.parent.kind] if k != "crossHeading")


def parse_proposal(db, document: Document, units: Sequence[Unit], data: Mapping, author: User) -> Proposal:
    """Check an amendment as sent by a form or the API (see the module `api` for the fields)."""
    language = document.language
    kind = data.get("kind")
    if kind not in KINDS:
        raise AmendmentError("invalid", _("Choose what the amendment does: kind must be one of %(kinds)s.",
                                    kinds=", ".join(KINDS)))
    keys = data.get("units")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k.strip() for k in keys):
        raise AmendmentError("invalid", _("Choose the unit or units the amendment is about (units: a list of GUIDs or eIds)."))
    if len(keys) > MAX_TARGETS:
        raise AmendmentError("invalid", _("An amendment may be about at most %(n)d units.", n=MAX_TARGETS))
    index = unit_index(units)
    by_eid = {u.eid: u.guid for u in iter_units(units)}
    targets: list[Located] = []
    for key in keys:
        key = key.strip()
        located = index.get(key) or index.get(by_eid.get(key, ""))
        if located is None:
            raise AmendmentError("invalid", _("There is no unit %(key)s in the text.", key=repr(key)))
        if any(t.unit.guid == located.unit.guid for t in targets):
            raise AmendmentError("invalid", _("%(unit)s is named twice.", unit=unit_citation(located, language)))
        targets.append(located)
    proposal = Proposal(kind=kind, targets=targets)
    if kind == "insertion":
        if len(targets) != 1:
            raise AmendmentError("invalid", _("An insertion names exactly one unit: the one the new unit goes after, "
                                        "before or inside."))
        position = data.get("position") or "after"
        if position not in POSITIONS:
            raise AmendmentError("invalid", _("position must be one of %(positions)s.", positions=", ".join(POSITIONS)))
        allowed = insertable_kinds(targets[0], position)
        new_kind = data.get("new_kind")
        if new_kind not in allowed:
            where = unit_citation(targets[0], language)
            if not allowed:
                raise AmendmentError("invalid", _("No unit can be inserted there (%(position)s %(unit)s).",
                                            position=position, unit=where))
            raise AmendmentError("invalid", _("A unit of kind %(kind)s cannot go %(position)s %(unit)s; it may be one of: "
                                        "%(allowed)s.", kind=repr(new_kind), position=position, unit=where,
                                        allowed=", ".join(allowed)))
        proposal.position, proposal.new_kind = position, new_kind
        proposal.heading = _str(data, "heading", MAX_HEADING).strip()
        proposal.text = clean_text(_str(data, "text", MAX_TEXT))
        if not proposal.text:
            raise AmendmentError("invalid", _("Give the text of the new unit."))
    elif kind == "substitution":
        wordings = data.get("wording")
        if wordings is None:
            if len(targets) != 1:
                raise AmendmentError("invalid", _("A substitution of several units gives the new wording of each "
                                            "(wording: a list of {heading, text}, one per unit)."))
            wordings = [{"heading": data.get("heading"), "text": data.get("text")}]
        if not isinstance(wordings, list) or len(wordings) != len(targets) or not all(
                isinstance(w, Mapping) for w in wordings):
            raise AmendmentError("invalid", _("wording must be a list of {heading, text}, one per unit named (%(n)d).",
                                        n=len(targets)))
        changed = False
        for located, wording in zip(targets, wordings, strict=True):
            where = unit_citation(located, language)
            # A heading or text not sent (null or absent) stays as it is.
            heading = _str(wording, "heading", MAX_HEADING, located.unit.heading).strip()
            text = clean_text(_str(wording, "text", MAX_TEXT, located.unit.text))
            if located.unit.kind == "preamble" and heading:
                raise AmendmentError("invalid", _("The preamble has no heading."))
            if not text and not located.unit.children:
                raise AmendmentError("invalid", _("Give the new text of %(unit)s (to remove it, propose a deletion).",
                                            unit=where))
            changed = changed or (heading, text) != (located.unit.heading, located.unit.text)
            proposal.wordings.append((heading, text))
        if not changed:
            raise AmendmentError("invalid", _("The proposed wording is the same as the current wording."))
    else:  # deletion
        chosen = {t.unit.guid for t in targets}
        for located in targets:
            if any(a.guid in chosen for a in located.path[:-1]):
                raise AmendmentError("invalid", _("%(unit)s is inside another unit the amendment deletes; name only the "
                                            "outer one.", unit=unit_citation(located, language)))
    proposal.justification = clean_text(_str(data, "justification", MAX_JUSTIFICATION))
    proposal.cosponsors = _cosponsors(db, document, data.get("cosponsors"), author)
    return proposal


def account_of(db, value) -> User | None:
    """The account named by its id (a number, or digits) or its e-mail, as forms and the API send it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return db.get(User, value) if 0 < value < 2**63 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) < 19:
        return db.get(User, int(value.strip()))
    if isinstance(value, str) and "@" in value:
        return db.scalar(select(User).where(func.lower(User.email) == value.strip().lower()))
    return None


def _cosponsors(db, document: Document, values, author: User) -> list[User]:
    if values is None or values == "":
        return []
    if not isinstance(values, list):
        values = [values]
    if len(values) > MAX_COSPONSORS:
        raise AmendmentError("invalid", _("At most %(n)d co-sponsors.", n=MAX_COSPONSORS))
    members: list[User] = []
    for value in values:
        user = account_of(db, value)
        if user is None or not permissions.can_table_amendment(user, document):
            raise AmendmentError("invalid", _("Co-sponsor %(who)s is not an assembly member.", who=repr(value)))
        if user.id == author.id:
            raise AmendmentError("invalid", _("The author cannot also be a co-sponsor."))
        if all(m.id != user.id for m in members):
            members.append(user)
    return members


# --- rights --------------------------------------------------------------------------------------


def _stage_refusal(document: Document) -> AmendmentError:

    return AmendmentError("conflict", _("The document is in the stage %(stage)s: amendments are tabled, debated and voted "
                                 "only in a stage that takes amendments (the assembly).",
                                 stage=stage_name(current_stage_of(document))))


def _signed_in(user) -> User:
    if not isinstance(user, User) or not user.is_active:
        raise AmendmentError("unauthenticated", _("Sign in to do this."))
    return user


def require_can_table(user, document: Document) -> User:
    user = _signed_in(user)
    if not permissions.can_table_amendment(user, document):
        if not permissions.in_amendment_stage(document):
            raise _stage_refusal(document)
        raise AmendmentError("forbidden", _("Only assembly members table amendments."))
    return user


def _require_author(user, document: Document, amendment: Amendment) -> User:
    user = require_can_table(user, document)
    if not permissions.can_edit_amendment(user, document, amendment):
        raise AmendmentError("forbidden", _("Only the author of amendment %(n)d (%(author)s) may do this.",
                                    n=amendment.number, author=amendment.author_name))
    return user


def _require_presiding(user, document: Document) -> User:
    user = _signed_in(user)
    if not permissions.can_preside(user, document):
        if not permissions.in_amendment_stage(document):
            raise _stage_refusal(document)
        raise AmendmentError("forbidden", _("Only the presiding administrator opens the debate and closes the vote."))
    return user


def _require_state(amendment: Amendment, states: Iterable[str], doing: str) -> None:
    states = tuple(states)
    if amendment.state not in states:
        raise AmendmentError("conflict", _("Amendment %(n)d is %(state)s; %(doing)s is possible only when it is %(states)s.",
                                    n=amendment.number, state=state_label(amendment.state), doing=doing,
                                    states=" / ".join(state_label(s) for s in states)))


def state_label(state: str) -> str:
    return {
        "draft": _("a draft"), "tabled": _("tabled"), "debate": _("under debate"), "adopted": _("adopted"),
        "rejected": _("rejected"), "withdrawn": _("withdrawn"), "fallen": _("fallen"),
    }.get(state, state)


def available_actions(user, document: Document, amendment: Amendment, voted: bool) -> list[str]:
    """What `user` may do with the amendment now: edit, table, withdraw, debate, vote, close. On an
    open sitting's voting list, members vote and the chair closes only once the chair opened the vote
    (editor.assembly); a vote cast may be cast again when the rules let members change it."""
    actions: list[str] = []
    if permissions.can_edit_amendment(user, document, amendment):
        if amendment.state == "draft":
            actions += ["edit", "table"]
        if amendment.state in ("tabled", "debate"):
            actions.append("withdraw")
    db = object_session(amendment)
    item = assembly_rules.open_item(db, amendment.id) if db is not None and amendment.state == "debate" else None
    voting = item is None or item[1].state == "voting"
    if permissions.can_preside(user, document):
        if amendment.state == "tabled":
            actions.append("debate")
        if amendment.state == "debate" and voting:
            actions.append("close")
    if amendment.state == "debate" and voting and permissions.can_vote(user, document):
        changeable = db is not None and assembly_rules.rules_of(db, document).votes_changeable
        present = item is None or assembly_rules.is_present(db, item[0], user)
        if present and (not voted or changeable):
            actions.append("vote")
    return actions


# --- changing ------------------------------------------------------------------------------------


def _event(db, amendment: Amendment, from_state: str, to_state: str, user: User | None, at: datetime,
           note: str = "") -> None:
    db.add(AmendmentEvent(amendment_id=amendment.id, from_state=from_state, to_state=to_state,
                          user_id=user.id if user else None, user_name=user.name if user else "", at=at, note=note))


def _move(db, amendment: Amendment, from_states: Sequence[str], to_state: str, **values) -> None:
    """Change the state only if nobody changed it meanwhile (else 409, nothing changed)."""
    result = db.execute(update(Amendment).where(Amendment.id == amendment.id, Amendment.state.in_(from_states))
                        .values(state=to_state, updated_at=clock.now(), **values))
    if result.rowcount != 1:
        db.rollback()
        raise AmendmentError("conflict", _("Amendment %(n)d was changed by someone else meanwhile; reload it.",
                                    n=amendment.number))


def _fill(db, amendment: Amendment, proposal: Proposal, language: str) -> None:
    amendment.kind = proposal.kind
    amendment.justification = proposal.justification
    amendment.position = proposal.position
    amendment.new_kind = proposal.new_kind
    amendment.new_heading = proposal.heading
    amendment.new_text = proposal.text
    amendment.targets.clear()
    amendment.sponsors.clear()
    db.flush()
    for position, located in enumerate(proposal.targets):
        heading, text = proposal.wordings[position] if proposal.kind in ("substitution", DICTAMEN) else ("", "")
        amendment.targets.append(AmendmentTarget(position=position, guid=located.unit.guid,
                                                 label=unit_citation(located, language)[:200],
                                                 eid=located.unit.eid, new_heading=heading, new_text=text))
    for user in proposal.cosponsors:
        amendment.sponsors.append(AmendmentSponsor(user_id=user.id, user_name=user.name))


def create_amendment(services, document: Document, user, data: Mapping) -> Amendment:
    """A new draft by `user` (an assembly member, in a stage that takes amendments)."""
    db = services.db
    author = require_can_table(user, document)
    parent = amendable_parent(db, document, data.get("amends"))
    units = read_live(services, document.slug).units
    if parent is not None:
        units = as_proposed(units, parent)
    proposal = parse_proposal(db, document, units, data, author)
    if parent is not None:
        check_sub_proposal(parent, proposal)
    commission = commission_for(db, document, data.get("commission"), proposal)
    if commission is not None and (parent is not None or data.get("replaces")):
        raise AmendmentError("invalid", _("An amendment in commission neither amends nor replaces another."))
    replaces = replaced_by(db, document, data.get("replaces"), proposal)
    return insert_amendment(db, document, author, proposal, parent_id=parent.id if parent else None,
                            relation="amends" if parent else "", replaces=json.dumps(replaces) if replaces else "",
                            commission_id=commission.id if commission else None)


def insert_amendment(db, document: Document, author: User, proposal: Proposal, author_name: str = "",
                     **columns) -> Amendment:
    """A new draft numbered after the document's last amendment (committed)."""
    for _attempt in range(5):
        number = (db.scalar(select(func.max(Amendment.number)).where(Amendment.document_id == document.id)) or 0) + 1
        now = clock.now()
        amendment = Amendment(document_id=document.id, number=number, kind=proposal.kind, state="draft",
                              author_id=author.id, author_name=author_name or author.name, created_at=now,
                              updated_at=now, **columns)
        db.add(amendment)
        try:
            db.flush()
        except IntegrityError:  # someone took the number meanwhile
            db.rollback()
            continue
        _fill(db, amendment, proposal, document.language)
        _event(db, amendment, "", "draft", author, now)
        db.commit()
        return amendment
    raise AmendmentError("unavailable", _("Too many amendments are being written at once; try again."))


def commission_for(db, document: Document, value, proposal: Proposal) -> Commission | None:
    """The commission an amendment is written in (`commission`: its number): working, and every
    unit of the amendment among its units."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise AmendmentError("invalid", _("commission must be the number of a commission."))
    commission = db.scalar(select(Commission).where(Commission.document_id == document.id,
                                                    Commission.number == int(str(value).strip()[:18])))
    if commission is None:
        raise AmendmentError("invalid", _("There is no commission %(n)s.", n=str(value)))
    if commission.state != "working":
        raise AmendmentError("conflict", _("Commission %(name)s has reported; it takes no more amendments.",
                                           name=commission.name))
    if proposal.kind != "substitution":
        raise AmendmentError("invalid", _("A commission reports new wordings: amendments in commission are "
                                          "substitutions."))
    scope = {u.guid for u in commission.units}
    for located in proposal.targets:
        if not scope & {u.guid for u in located.path}:
            raise AmendmentError("invalid", _("%(unit)s is not among the units of commission %(name)s.",
                                              unit=located.unit.label or located.unit.eid, name=commission.name))
    return commission


def update_amendment(services, document: Document, amendment: Amendment, user, data: Mapping) -> Amendment:
    """Rewrite a draft (its author only); fields not sent keep their value."""
    db = services.db
    author = _require_author(user, document, amendment)
    _require_state(amendment, ("draft",), _("changing it"))
    merged = dict(proposal_data(amendment))
    merged.update({k: v for k, v in data.items() if k in PROPOSAL_FIELDS})
    if merged.get("kind") == "substitution" and "wording" not in data and ("heading" in data or "text" in data):
        # One unit's new wording given as heading and text: what is not sent keeps its value.
        first = (merged.pop("wording", None) or [{}])[0]
        merged["heading"] = data.get("heading", first.get("heading", ""))
        merged["text"] = data.get("text", first.get("text", ""))
    units = units_for(services, document, amendment)
    proposal = parse_proposal(db, document, units, merged, author)
    parent = parent_of(db, amendment) if amendment.relation == "amends" else None
    if parent is not None:
        check_sub_proposal(parent, proposal)
    _move(db, amendment, ("draft",), "draft")
    _fill(db, amendment, proposal, document.language)
    db.commit()
    return amendment


PROPOSAL_FIELDS = ("kind", "units", "wording", "heading", "text", "position", "new_kind", "justification",
                   "cosponsors")


def proposal_data(amendment: Amendment) -> dict:
    """The amendment as the fields `parse_proposal` reads (for editing a draft)."""
    data: dict = {"kind": amendment.kind, "units": [t.guid for t in amendment.targets],
                  "justification": amendment.justification,
                  "cosponsors": [s.user_id for s in amendment.sponsors]}
    if amendment.kind == "substitution":
        data["wording"] = [{"heading": t.new_heading, "text": t.new_text} for t in amendment.targets]
    elif amendment.kind == "insertion":
        data.update(position=amendment.position, new_kind=amendment.new_kind, heading=amendment.new_heading,
                    text=amendment.new_text)
    return data


def table(services, document: Document, amendment: Amendment, user, config=None) -> Amendment:
    """The author tables a draft: the targets' wording is captured as the base of conflicts."""
    db = services.db
    author = _require_author(user, document, amendment)
    _require_state(amendment, ("draft",), _("tabling it"))
    closed = assembly_rules.tabling_closed(db, document)  # the assembly's tabling deadline (editor.assembly)
    if closed:
        raise AmendmentError("conflict", closed)
    return table_by(services, document, amendment, author, config)


def table_by(services, document: Document, amendment: Amendment, author: User, config=None) -> Amendment:
    """Table a draft on behalf of `author` (checked by the caller): capture the base of conflicts."""
    db = services.db
    live = read_live(services, document.slug)
    parent = parent_of(db, amendment) if amendment.relation == "amends" else None
    if parent is not None and parent.state not in OPEN_STATES:
        raise AmendmentError("conflict", _("Amendment %(n)d amends an amendment that is no longer open.",
                                           n=amendment.number))
    # A sub-amendment's base is its parent's proposal.
    index = unit_index(as_proposed(live.units, parent) if parent is not None else live.units)
    for target in amendment.targets:
        if target.guid not in index:
            raise AmendmentError("conflict", _("%(unit)s is no longer in the text; change the amendment before tabling it.",
                                        unit=target.label or target.eid))
    if amendment.kind == "insertion":
        if amendment.new_kind not in insertable_kinds(index[amendment.targets[0].guid], amendment.position):
            raise AmendmentError("conflict", _("The new unit can no longer go there; change the amendment before tabling it."))
    now = clock.now()
    with _lock(document.id):
        _move(db, amendment, ("draft",), "tabled", tabled_at=now,
              frbr_work=_work_uri(document, live.meta, amendment.number, now, config))
        for target in amendment.targets:
            located = index[target.guid]
            unit = located.unit
            target.label = unit_citation(located, document.language)[:200]
            target.eid = unit.eid
            target.base_label, target.base_eid = target.label, unit.eid
            target.base_heading, target.base_text = unit.heading, unit.text
            target.base_tree = json.dumps(_unit_json(unit), ensure_ascii=False)
        _event(db, amendment, "draft", "tabled", author, now)
        db.commit()
    db.refresh(amendment)
    return amendment


def fall(db, amendment: Amendment, by: User | None, at: datetime | None = None, note: str = "") -> bool:
    """Mark an open amendment fallen (an earlier decision made it moot), with its event (`note`: why,
    see note_label) and its own sub-amendments; the caller commits, in the same transaction as the
    decision that made it fall. False (nothing done) if it is no longer open."""
    now = at or clock.now()
    previous = amendment.state
    if not _settle(db, amendment, "fallen", decided_at=now):
        return False
    _event(db, amendment, previous, "fallen", by, now, note=note)
    _fall_dependants(db, amendment, by, now, "fallen")
    return True


def _settle(db, amendment: Amendment, to_state: str, **values) -> bool:
    """Move an amendment that is still open to `to_state`, inside a decision being recorded: unlike
    _move, a change made meanwhile (it was withdrawn…) leaves it as it is, and the decision goes on."""
    result = db.execute(update(Amendment).where(Amendment.id == amendment.id, Amendment.state.in_(OPEN_STATES))
                        .values(state=to_state, updated_at=clock.now(), **values))
    return result.rowcount == 1


def withdraw(services, document: Document, amendment: Amendment, user) -> Amendment:
    db = services.db
    author = _require_author(user, document, amendment)
    _require_state(amendment, ("tabled", "debate"), _("withdrawing it"))
    now = clock.now()
    with _lock(document.id):
        previous = amendment.state
        _move(db, amendment, ("tabled", "debate"), "withdrawn", decided_at=now)
        _event(db, amendment, previous, "withdrawn", author, now)
        _fall_dependants(db, amendment, author, now, "withdrawn")
        db.commit()
    db.refresh(amendment)
    return amendment


def open_debate(services, document: Document, amendment: Amendment, user) -> Amendment:
    """The presiding administrator opens the debate. Outside a sitting members may vote at once; on
    an open sitting's voting list the item is under debate and the chair opens its vote
    (editor.assembly.service.open_vote, which needs the quorum)."""
    db = services.db
    president = _require_presiding(user, document)
    _require_state(amendment, ("tabled",), _("opening its debate"))
    now = clock.now()
    with _lock(document.id):
        _move(db, amendment, ("tabled",), "debate")
        _event(db, amendment, "tabled", "debate", president, now)
        item = assembly_rules.open_item(db, amendment.id)
        if item is not None and item[1].state == "pending":
            item[1].state = "debate"
        db.commit()
    db.refresh(amendment)
    return amendment


def vote(services, document: Document, amendment: Amendment, user, choice) -> AmendmentVote:
    """An assembly member's vote on an amendment under debate: one each. Where the assembly's rules
    let members change their vote, a second vote replaces the first until the vote closes (it counts
    once, with its last value; the change is kept in the history). On an open sitting's voting list,
    only once the chair opened the vote and only by members marked present."""
    db = services.db
    member = require_voter(user, document)
    if choice not in CHOICES:
        raise AmendmentError("invalid", _("choice must be one of %(choices)s.", choices=", ".join(CHOICES)))
    rules = assembly_rules.rules_of(db, document)
    if choice == "abstain" and not rules.abstentions:
        raise AmendmentError("invalid", _("This assembly does not record abstentions: vote for or against."))
    _require_state(amendment, ("debate",), _("voting"))
    item = assembly_rules.open_item(db, amendment.id)
    if item is not None:
        sitting, entry = item
        if entry.state != "voting":
            raise AmendmentError("conflict", _("The vote on amendment %(n)d is not open yet: the chair of the sitting "
                                               "opens it.", n=amendment.number))
        if not assembly_rules.is_present(db, sitting, member):
            raise AmendmentError("conflict", _("You are not marked present at sitting %(n)d; only members present vote.",
                                               n=sitting.number))
    earlier = db.scalar(select(AmendmentVote).where(AmendmentVote.amendment_id == amendment.id,
                                                    AmendmentVote.user_id == member.id))
    if earlier is not None and not rules.votes_changeable:
        raise AmendmentError("conflict", _("You already voted on amendment %(n)d (%(choice)s); a vote cannot be changed.",
                                    n=amendment.number, choice=choice_label(earlier.choice)))
    with _lock(document.id):
        db.refresh(amendment)
        _require_state(amendment, ("debate",), _("voting"))
        now = clock.now()
        if earlier is not None:
            db.refresh(earlier)
            if earlier.choice != choice:
                db.add(VoteChange(amendment_id=amendment.id, user_id=member.id, old_choice=earlier.choice,
                                  new_choice=choice, at=now))
                earlier.choice, earlier.at = choice, now
            cast = earlier
        else:
            cast = AmendmentVote(amendment_id=amendment.id, user_id=member.id, user_name=member.name, choice=choice,
                                 at=now)
            db.add(cast)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise AmendmentError("conflict", _("You already voted on amendment %(n)d; a vote cannot be changed.",
                                        n=amendment.number)) from None
    return cast


def choice_label(choice: str) -> str:
    return {"for": _("for"), "against": _("against"), "abstain": _("abstention")}.get(choice, choice)


@dataclass
class Decision:
    amendment: Amendment
    tally: Count
    adopted: bool
    #: How it was decided (editor.assembly.majority) and whether on a sitting's voting list.
    outcome: Outcome | None = None
    in_sitting: bool = False
    #: The open amendments that fell because of this adoption (numbers).
    fallen: list[int] = field(default_factory=list)


def close_vote(services, document: Document, amendment: Amendment, user) -> Decision:
    """The presiding administrator closes the vote. On an open sitting's voting list the majority the
    assembly's rules give for the amendment's kind decides, over the sitting's attendance (the chair
    must have opened the vote); outside a sitting, more votes for than against (a simple majority of
    the votes cast, which the outcome says). Adopted: the amendment is applied to the live text, and
    the open amendments it makes moot fall (a deleted unit's). If a target changed since the
    amendment was tabled, nothing is applied and the amendment stays under debate: the error carries
    the conflicts."""
    db = services.db
    president = _require_presiding(user, document)
    _require_state(amendment, ("debate",), _("closing its vote"))
    item = assembly_rules.open_item(db, amendment.id)
    if item is not None and item[1].state != "voting":
        raise AmendmentError("conflict", _("The vote on amendment %(n)d is not open: open it before closing it.",
                                           n=amendment.number))
    with _lock(document.id):
        db.refresh(amendment)
        _require_state(amendment, ("debate",), _("closing its vote"))
        count = tally_of(db, amendment)
        if item is not None:
            sitting, entry = item
            majority = assembly_rules.majority_for(assembly_rules.rules_of(db, document), amendment.kind)
            present, members = assembly_rules.present_count(db, sitting), assembly_rules.member_count(db, document)
        else:
            majority, present, members = "simple", 0, 0
        outcome = decide(majority, count.votes_for, count.votes_against, count.abstentions, present, members)
        now = clock.now()
        values = dict(votes_for=count.votes_for, votes_against=count.votes_against,
                      votes_abstain=count.abstentions, decided_at=now)

        def record() -> None:
            if item is not None:
                entry = item[1]
                entry.state, entry.decided_at, entry.adopted = "done", now, outcome.adopted
                entry.majority, entry.present, entry.members, entry.required = (majority, present, members,
                                                                                  outcome.required)

        if not outcome.adopted:
            _move(db, amendment, ("debate",), "rejected", **values)
            _event(db, amendment, "debate", "rejected", president, now)
            record()
            after_rejection(db, document, amendment, president)  # h6: after_rejection
            db.commit()
            db.refresh(amendment)
            return Decision(amendment, count, adopted=False, outcome=outcome, in_sitting=item is not None)
        applied = _apply(services, document, amendment)
        _move(db, amendment, ("debate",), "adopted", **values)
        if applied.new_guid:
            amendment.new_guid = applied.new_guid
        for position, change in enumerate(applied.changes):
            db.add(AmendmentChange(amendment_id=amendment.id, position=position, **change))
        _event(db, amendment, "debate", "adopted", president, now)
        record()
        after_adoption(db, document, amendment, president)  # h6: after_adoption
        fallen: list[int] = []
        if amendment.kind == "deletion":  # what amends the deleted units can no longer be voted
            for other in db.scalars(select(Amendment).where(Amendment.document_id == document.id,
                                                            Amendment.state.in_(OPEN_STATES),
                                                            Amendment.id != amendment.id)
                                    .order_by(Amendment.number)):
                still_open = db.scalar(select(Amendment.state).where(Amendment.id == other.id)) in OPEN_STATES
                if still_open and touched_guids(other) & applied.guids:  # (one that fell with another is done)
                    fall(db, other, president, now, note=f"unit-deleted:{amendment.number}")
                    fallen.append(other.number)
        db.commit()

        record_edits(db, document.id, {president.id: applied.guids}, amendment_id=amendment.id)
    db.refresh(amendment)
    # Its reactions (petitioners asked to review again…) subscribe to the event; they cannot undo it.
    try:
        services.events.publish(AmendmentAdopted(document.slug, amendment.number, tuple(sorted(applied.guids))))
    except Exception:  # noqa: BLE001 - the text is changed and recorded; a follow-up must not undo that
        log.exception("amendment %s of %s: a reaction to its adoption failed", amendment.number, document.slug)
        db.rollback()
    return Decision(amendment, count, adopted=True, outcome=outcome, in_sitting=item is not None, fallen=fallen)


@dataclass
class Applied:
    changes: list[dict]
    guids: set[str]
    new_guid: str = ""


def applied_targets(amendment: Amendment) -> list[AmendmentTarget]:
    """The targets an adoption applies: all but a dictamen's reserved articles (voted apart)."""
    return [t for t in amendment.targets if t.reserved_by is None]


def operations_of(amendment: Amendment, new_unit_guid: str = "") -> list:
    if amendment.kind in ("substitution", DICTAMEN):
        return [Substitute(t.guid, t.new_heading, paragraphs_of(t.new_text)) for t in applied_targets(amendment)]
    if amendment.kind == "insertion":
        return [Insert(amendment.targets[0].guid, amendment.position, amendment.new_kind, new_unit_guid,
                       amendment.new_heading, paragraphs_of(amendment.new_text))]
    return [Remove(t.guid) for t in amendment.targets]


def _apply(services, document: Document, amendment: Amendment) -> Applied:
    """Apply the amendment to the live text in one transaction, in the document's room, after
    checking (in the same turn of the room, so no edit slips in between) that every target
    still reads as it did at tabling. Raises AmendmentError (a conflict) with the conflicts."""
    if amendment.relation == "amends":  # it rewrites its parent's proposal (after_adoption), not the text
        check_sub_bases(services.db, amendment)
        return Applied(changes=[], guids=set())
    kind, number = amendment.kind, amendment.number
    reserved = {t.guid for t in amendment.targets if t.reserved_by is not None}
    bases = [b for b in bases_of(amendment) if b.guid not in reserved]
    new_unit_guid = new_guid() if kind == "insertion" else ""
    operations = operations_of(amendment, new_unit_guid)
    origin = f"amendment:{amendment.id}"

    def run(doc: Doc):
        live = text_of(doc)
        meta, tree, before = live.meta, live.body, live.units
        conflicts = check_bases(kind, bases, before)
        if conflicts:
            return ("conflict", conflicts)
        trial = copy.deepcopy(tree)
        try:
            apply_to_etree(trial, operations)
            read_units(trial, meta)
        except (ApplyError, AkomaNtosoError) as exc:
            return ("invalid", str(exc))
        with doc.transaction(origin=origin):
            apply_to_fragment(doc.get("body", type=XmlFragment), operations)
        return ("applied", (before, text_of(doc).units))

    status, result = services.texts.change(document.slug, run, origin=origin)
    if status == "conflict":
        raise AmendmentError("conflict", _("Amendment %(n)d was not applied: the text it amends changed since it was tabled. "
                                    "It stays under debate.", n=number), conflicts=result)
    if status == "invalid":
        raise AmendmentError("conflict", _("Amendment %(n)d cannot be applied to the text as it stands (%(reason)s); it stays "
                                    "under debate.", n=number, reason=result))
    before, after = result
    old, new = unit_index(before), unit_index(after)
    changes: list[dict] = []
    guids: set[str] = set()
    language = document.language
    if kind in ("substitution", DICTAMEN):
        for target in applied_targets(amendment):
            a, b = old[target.guid], new[target.guid]
            changes.append(dict(type="substitution", guid=target.guid, kind=a.unit.kind,
                                label_before=unit_citation(a, language)[:200], label_after=unit_citation(b, language)[:200],
                                eid_before=a.unit.eid, eid_after=b.unit.eid,
                                old_heading=a.unit.heading, old_text=a.unit.text,
                                new_heading=b.unit.heading, new_text=b.unit.text))
            guids.add(target.guid)
    elif kind == "insertion":
        b = new[new_unit_guid]
        changes.append(dict(type="insertion", guid=new_unit_guid, kind=b.unit.kind, label_after=unit_citation(b, language)[:200],
                            eid_after=b.unit.eid, new_heading=b.unit.heading, new_text=b.unit.text))
        guids.add(new_unit_guid)
        if amendment.position == "inside":
            guids.add(amendment.targets[0].guid)
    else:
        for target in amendment.targets:
            a = old[target.guid]
            changes.append(dict(type="repeal", guid=target.guid, kind=a.unit.kind,
                                label_before=unit_citation(a, language)[:200], eid_before=a.unit.eid,
                                old_heading=a.unit.heading, old_text=a.unit.text))
            guids |= {u.guid for u in iter_units((a.unit,))}
    return Applied(changes=changes, guids=guids, new_guid=new_unit_guid)


def require_state_changer(user, document: Document, amendment: Amendment) -> User:
    """Who may ask for a change of state at all (its author or the presiding administrator),
    decided before what they asked for: the public and readers are refused whatever they send."""
    account = _signed_in(user)
    if not (permissions.can_edit_amendment(account, document, amendment) or permissions.can_preside(account, document)):
        if not permissions.in_amendment_stage(document):
            raise _stage_refusal(document)
        raise AmendmentError("forbidden", _("Only the amendment's author or the presiding administrator may change its state."))
    return account


def require_voter(user, document: Document) -> User:
    member = _signed_in(user)
    if not permissions.can_vote(member, document):
        if not permissions.in_amendment_stage(document):
            raise _stage_refusal(document)
        raise AmendmentError("forbidden", _("Only assembly members vote on amendments."))
    return member


def change_state(services, document: Document, amendment: Amendment, user, action: str, config=None):
    """One entry point for the state actions: table, withdraw, debate, close."""
    require_state_changer(user, document, amendment)
    if amendment.commission_id is not None and amendment.kind != DICTAMEN and action in ("debate", "close"):
        raise AmendmentError("conflict", _("Amendment %(n)d is debated and voted in its commission.",
                                           n=amendment.number))
    if action == "table":
        return table(services, document, amendment, user, config)
    if action == "withdraw":
        return withdraw(services, document, amendment, user)
    if action == "debate":
        return open_debate(services, document, amendment, user)
    if action == "close":
        return close_vote(services, document, amendment, user).amendment
    raise AmendmentError("invalid", _("Unknown action %(action)s; expected one of %(actions)s.", action=repr(action),
                                actions=", ".join(ACTIONS)))


def announce(services, document: Document, amendment: Amendment) -> None:
    """Tell open pages and editors of the document, in every process, that an amendment changed
    (after the commit; see amendments.handlers)."""
    services.events.publish(AmendmentChanged(document.slug, amendment.number, amendment.state))


# --- Akoma Ntoso ---------------------------------------------------------------------------------


def _identity(document: Document, meta: dict, config):
    title = str(meta.get("title") or document.title)
    language = str(meta.get("language") or document.language)
    return document_identity(document, meta, title, language, config or {})


def _work_uri(document: Document, meta: dict, number: int, at: datetime, config) -> str:
    work, expression = _identity(document, meta, config)
    return amendment_uri(work, number, at.date().isoformat(), expression.language).work_uri(work_component=False)


def akn_document(services, document: Document, amendment: Amendment, config=None) -> bytes:
    """The amendment as its own Akoma Ntoso `<amendment>` document, validated (strict schema)."""
    db = services.db
    live = read_live(services, document.slug)
    work, expression = _identity(document, live.meta, config)
    index = unit_index(live.units)
    events = history_of(db, amendment)
    changes = changes_of(db, amendment)
    dated = clock.as_utc(amendment.tabled_at) or clock.as_utc(amendment.created_at) or clock.now()
    last = clock.as_utc(events[-1].at) if events else dated
    expression = Expression(language=expression.language, date=last.date().isoformat())

    def wording(target: AmendmentTarget) -> Wording:
        located = index.get(target.guid)
        unit = located.unit if located else None
        base = json.loads(target.base_tree) if target.base_tree else {}
        return Wording(kind=unit.kind if unit else _kind_in(target), label=(unit.label if unit else base.get("label", "")),
                       eid=target.base_eid or target.eid, heading=target.base_heading or (unit.heading if unit else ""),
                       text=target.base_text or (unit.text if unit else ""), citation=target.label, guid=target.guid)

    modifications: list[Modification] = []
    for target in amendment.targets:
        current = wording(target)
        if amendment.kind in ("substitution", DICTAMEN):
            new = Wording(kind=current.kind, label=current.label, eid=current.eid, heading=target.new_heading,
                          text=target.new_text, guid=target.guid)
            modifications.append(Modification("substitution", current, new))
        elif amendment.kind == "insertion":
            inserted = next((c for c in changes if c.type == "insertion"), None)
            new = Wording(kind=amendment.new_kind, label=(inserted.label_after or "") if inserted else "",
                          eid=(inserted.eid_after or "") if inserted else "", heading=amendment.new_heading,
                          text=amendment.new_text, guid=amendment.new_guid)
            if inserted is not None:
                located = index.get(inserted.guid)
                new = Wording(kind=new.kind, label=located.unit.label if located else "", eid=new.eid,
                              heading=new.heading, text=new.text, guid=new.guid)
            modifications.append(Modification("insertion", current, new, position=amendment.position))
        else:
            modifications.append(Modification("repeal", current))
    people_keys = {amendment.author_id, *(s.user_id for s in amendment.sponsors)}
    steps = tuple(StateStep(date=clock.as_utc(e.at).date().isoformat(), state=e.to_state,
                            by=str(e.user_id) if e.user_id in people_keys else ("x" if e.user_id else None))
                  for e in events if e.to_state != "draft")
    tally = None
    if amendment.votes_for is not None:
        tally = Tally(amendment.votes_for, amendment.votes_against or 0, amendment.votes_abstain or 0)
    built = AmendmentDocument(
        number=amendment.number, amended=work, amended_expression=expression, date=dated.date().isoformat(),
        state=amendment.state, author=Person(str(amendment.author_id or 0), amendment.author_name),
        modifications=tuple(modifications), justification=amendment.justification,
        cosponsors=tuple(Person(str(s.user_id), s.user_name) for s in amendment.sponsors),
        history=steps, tally=tally, expression_date=expression.date, related=tuple(_related(db, document, amendment)))
    root = export_amendment(built)
    errors = validate(root)
    if errors:  # our bug, never the user's
        raise AmendmentError("failed", "the amendment does not validate against the Akoma Ntoso schema: " + errors[0])
    return to_bytes(root)


def _related(db, document: Document, amendment: Amendment) -> list[Related]:
    """The amendments it amends, replaces, or is a reserved article or part of (its AKN references)."""
    def href(other: Amendment) -> str:
        return other.frbr_work or f"/ontology/amendment/constituent/{document.slug}/{other.number}"

    found: list[Related] = []
    parent = parent_of(db, amendment)
    if parent is not None and amendment.relation:
        found.append(Related(amendment.relation, parent.number, href(parent)))
    for number in replaced_numbers(amendment):
        other = get_amendment(db, document, number)
        if other is not None:
            found.append(Related("replaces", number, href(other)))
    return found


def _kind_in(target: AmendmentTarget) -> str:
    if target.base_tree:
        return json.loads(target.base_tree).get("kind", "article")

    last = (target.eid or "").rsplit("__", 1)[-1].split("_", 1)[0]
    return next((k for k, v in EID_ABBREVIATIONS.items() if v == last), "article")


# --- amendments to amendments, compromises, identical amendments, rebases --------------------------
#
# A sub-amendment (relation "amends") targets some units of an open substitution (or dictamen) and
# proposes new wording for the parent's proposal: its base is the parent's proposal, adopting it
# rewrites the parent's proposal (kept in the parent's revisions), the live text is not touched. It
# falls when its parent is withdrawn, rejected, falls, or is decided before it.
# A compromise (`replaces`) names open amendments on units it shares; they fall when it is adopted
# (as in AT4AM: until then they stay open, and a rejected compromise leaves them to be voted).
# Identical open amendments (same kind, units and proposal) are one group: the first is voted and the
# others follow its result (adopted or rejected with its tally), recorded in their history.


def parent_of(db, amendment: Amendment) -> Amendment | None:
    return db.get(Amendment, amendment.parent_id) if amendment.parent_id else None


def children_of(db, amendment: Amendment, relation: str | None = None) -> list[Amendment]:
    query = select(Amendment).where(Amendment.parent_id == amendment.id)
    if relation:
        query = query.where(Amendment.relation == relation)
    return list(db.scalars(query.order_by(Amendment.number)))


def replaced_numbers(amendment: Amendment) -> list[int]:
    return [int(n) for n in json.loads(amendment.replaces)] if amendment.replaces else []


def revisions_of(db, amendment: Amendment) -> list[AmendmentRevision]:
    return list(db.scalars(select(AmendmentRevision).where(AmendmentRevision.amendment_id == amendment.id)
                           .order_by(AmendmentRevision.at, AmendmentRevision.id)))


def as_proposed(units: Sequence[Unit], parent: Amendment) -> tuple[Unit, ...]:
    """The text as the parent proposes it: its targets read with its proposed wording (what a
    sub-amendment amends)."""
    proposed = {t.guid: (t.new_heading, t.new_text) for t in parent.targets}

    def walk(level: Sequence[Unit]) -> tuple[Unit, ...]:
        out = []
        for unit in level:
            heading, text = proposed.get(unit.guid, (unit.heading, unit.text))
            out.append(dataclasses.replace(unit, heading=heading, text=text, children=walk(unit.children)))
        return tuple(out)

    return walk(units)


def units_for(services, document: Document, amendment: Amendment | None) -> tuple[Unit, ...]:
    """The units an amendment is written against: the live text, or its parent's proposal."""
    units = tuple(read_live(services, document.slug).units)
    parent = parent_of(services.db, amendment) if amendment is not None and amendment.relation == "amends" else None
    return as_proposed(units, parent) if parent is not None else units


def amendable_parent(db, document: Document, value) -> Amendment | None:
    """The open amendment a new sub-amendment amends (`amends`: its number), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise AmendmentError("invalid", _("amends must be the number of an amendment."))
    parent = get_amendment(db, document, int(str(value).strip()[:18]))
    if parent is None:
        raise AmendmentError("invalid", _("There is no amendment %(n)s to amend.", n=str(value)))
    if parent.state not in OPEN_STATES or parent.kind not in ("substitution", DICTAMEN) or parent.relation:
        raise AmendmentError("conflict", _("Only a tabled substitution (or dictamen) can be amended; amendment %(n)d is "
                                           "%(state)s.", n=parent.number, state=state_label(parent.state)))
    return parent


def check_sub_proposal(parent: Amendment, proposal: Proposal) -> None:
    if proposal.kind != "substitution":
        raise AmendmentError("invalid", _("An amendment to an amendment rewords it: its kind is substitution."))
    targets = {t.guid for t in parent.targets}
    for located in proposal.targets:
        if located.unit.guid not in targets:
            raise AmendmentError("invalid", _("%(unit)s is not amended by amendment %(n)d.",
                                              unit=located.unit.label or located.unit.eid, n=parent.number))


def replaced_by(db, document: Document, values, proposal: Proposal) -> list[int]:
    """Check `replaces` (numbers of open amendments sharing a unit with the compromise)."""
    if values is None or values == "" or values == []:
        return []
    if not isinstance(values, list) or len(values) > MAX_TARGETS:
        raise AmendmentError("invalid", _("replaces must be a list of amendment numbers."))
    touched = {t.unit.guid for t in proposal.targets}
    numbers: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
            raise AmendmentError("invalid", _("replaces must be a list of amendment numbers."))
        other = get_amendment(db, document, int(str(value).strip()[:18]))
        if other is None or other.state not in OPEN_STATES:
            raise AmendmentError("conflict", _("A compromise replaces tabled amendments only; amendment %(n)s is not "
                                               "tabled.", n=str(value)))
        if not touched & touched_guids(other):
            raise AmendmentError("invalid", _("Amendment %(n)d shares no unit with the compromise.", n=other.number))
        if other.number not in numbers:
            numbers.append(other.number)
    return sorted(numbers)


def _signature(amendment: Amendment) -> tuple:
    return (amendment.kind, amendment.position, amendment.new_kind, amendment.new_heading, amendment.new_text,
            tuple((t.guid, t.new_heading, t.new_text) for t in amendment.targets))


def identical_to(db, document: Document, amendment: Amendment) -> list[Amendment]:
    """The other open amendments with the same kind, units and proposal (voted together with it)."""
    if amendment.relation or amendment.kind == DICTAMEN:
        return []
    mine = _signature(amendment)
    return [a for a in db.scalars(select(Amendment).where(
                Amendment.document_id == document.id, Amendment.id != amendment.id, Amendment.state.in_(OPEN_STATES),
                Amendment.relation == "", Amendment.commission_id.is_(None)).order_by(Amendment.number))
            if _signature(a) == mine]


def identical_groups(db, document: Document) -> list[list[int]]:
    """Groups of identical open amendments (numbers, the first voted for all)."""
    groups: dict[tuple, list[int]] = {}
    for amendment in db.scalars(select(Amendment).where(
            Amendment.document_id == document.id, Amendment.state.in_(OPEN_STATES), Amendment.relation == "",
            Amendment.kind != DICTAMEN, Amendment.commission_id.is_(None)).order_by(Amendment.number)):
        groups.setdefault(_signature(amendment), []).append(amendment.number)
    return [numbers for numbers in groups.values() if len(numbers) > 1]


def wording_snapshot(amendment: Amendment) -> str:
    return json.dumps([{"guid": t.guid, "label": t.label,
                        "base": {"heading": t.base_heading, "text": t.base_text},
                        "proposed": {"heading": t.new_heading, "text": t.new_text}} for t in amendment.targets],
                      ensure_ascii=False)


def _keep_tabled_wording(db, amendment: Amendment, at: datetime) -> None:
    if not revisions_of(db, amendment):
        # The wording as tabled, kept before the first change, so that both texts stay visible.
        db.add(AmendmentRevision(amendment_id=amendment.id, reason="tabled", wording=wording_snapshot(amendment),
                                 user_id=amendment.author_id, user_name=amendment.author_name,
                                 at=clock.as_utc(amendment.tabled_at) or at))
        db.flush()


def _keep_revision(db, amendment: Amendment, reason: str, by: User | None, at: datetime, note: str = "") -> None:
    db.add(AmendmentRevision(amendment_id=amendment.id, reason=reason, note=note, wording=wording_snapshot(amendment),
                             user_id=by.id if by else None, user_name=by.name if by else "", at=at))


def check_sub_bases(db, amendment: Amendment) -> None:
    """A sub-amendment can be adopted while its parent is open and still proposes what it amends."""
    parent = parent_of(db, amendment)
    if parent is None or parent.state not in OPEN_STATES:
        raise AmendmentError("conflict", _("Amendment %(n)d amends an amendment that is no longer open.",
                                           n=amendment.number))
    proposed = {t.guid: t for t in parent.targets}
    conflicts = []
    for target in amendment.targets:
        now = proposed.get(target.guid)
        if now is None:
            conflicts.append(TargetConflict(target.guid, target.label, target.eid, "gone"))
        elif (now.new_heading, now.new_text) != (target.base_heading or "", target.base_text or ""):
            conflicts.append(TargetConflict(target.guid, target.label, target.eid, "changed",
                                            heading=word_diff(target.base_heading or "", now.new_heading),
                                            text=word_diff(target.base_text or "", now.new_text)))
    if conflicts:
        raise AmendmentError("conflict", _("Amendment %(n)d was not applied: the proposal it amends changed since it "
                                           "was tabled. It stays under debate.", n=amendment.number),
                             conflicts=conflicts)


def _fall_dependants(db, amendment: Amendment, by: User | None, at: datetime, reason: str) -> None:
    """Sub-amendments (and, unless the dictamen was adopted, reserved articles) of a decided amendment."""
    for child in children_of(db, amendment):
        if child.state in OPEN_STATES and not (child.relation in ("reservation", "part") and reason == "adopted"):
            fall(db, child, by, at, note=f"parent-{reason}:{amendment.number}")


def after_adoption(db, document: Document, amendment: Amendment, by: User | None) -> None:
    """What follows an adoption, in its transaction (close_vote calls it before committing): a
    sub-amendment rewrites its parent's proposal; a compromise's replaced amendments fall; identical
    amendments follow; the amendment's open sub-amendments fall."""
    now = clock.now()
    if amendment.relation == "amends":
        parent = parent_of(db, amendment)
        if parent is not None:
            _keep_tabled_wording(db, parent, now)
            wording = {t.guid: (t.new_heading, t.new_text) for t in amendment.targets}
            for target in parent.targets:
                if target.guid in wording:
                    target.new_heading, target.new_text = wording[target.guid]
            parent.updated_at = now
            db.flush()
            _keep_revision(db, parent, "amended", by, now, note=f"sub-amendment:{amendment.number}")
    for number in replaced_numbers(amendment):
        other = get_amendment(db, document, number)
        if other is not None and other.state in OPEN_STATES:
            fall(db, other, by, now, note=f"replaced-by:{amendment.number}")
    _follow(db, document, amendment, "adopted", by, now)
    _fall_dependants(db, amendment, by, now, "adopted")


def after_rejection(db, document: Document, amendment: Amendment, by: User | None) -> None:
    """What follows a rejection: identical amendments are rejected with it; its sub-amendments (or a
    dictamen's reserved articles) fall."""
    now = clock.now()
    _follow(db, document, amendment, "rejected", by, now)
    _fall_dependants(db, amendment, by, now, "rejected")


def _follow(db, document: Document, amendment: Amendment, state: str, by: User | None, at: datetime) -> None:
    count = tally_of(db, amendment)
    for other in identical_to(db, document, amendment):
        previous = other.state
        if _settle(db, other, state, votes_for=count.votes_for, votes_against=count.votes_against,
                   votes_abstain=count.abstentions, decided_at=at):
            _event(db, other, previous, state, by, at, note=f"identical:{amendment.number}")
            _fall_dependants(db, other, by, at, state)


def rebase(services, document: Document, amendment: Amendment, user, data: Mapping) -> Amendment:
    """The author brings an amendment whose units changed since tabling up to date: its base becomes
    the current wording, its proposal may be rewritten (substitution: `heading`/`text` or `wording`).
    Both wordings stay in its revisions; the votes already cast (on the old wording) are cleared."""
    db = services.db
    author = _require_author(user, document, amendment)
    _require_state(amendment, OPEN_STATES, _("rebasing it"))
    units = units_for(services, document, amendment)
    conflicts = check_bases(amendment.kind if amendment.kind != DICTAMEN else "substitution", bases_of(amendment),
                            units)
    if not conflicts:
        raise AmendmentError("conflict", _("The units of amendment %(n)d did not change since it was tabled: there is "
                                           "nothing to rebase.", n=amendment.number))
    if any(c.status == "gone" for c in conflicts):
        raise AmendmentError("conflict", _("A unit of amendment %(n)d is no longer in the text: it cannot be rebased, "
                                           "only withdrawn.", n=amendment.number))
    wordings: list[tuple[str, str]] = [(t.new_heading, t.new_text) for t in amendment.targets]
    if amendment.kind == "substitution" and any(k in data for k in ("wording", "heading", "text")):
        merged = dict(proposal_data(amendment))
        merged.pop("cosponsors", None)
        if "wording" in data:
            merged["wording"] = data["wording"]
        else:
            first = merged["wording"][0]
            merged["wording"] = [{"heading": data.get("heading", first["heading"]),
                                  "text": data.get("text", first["text"])}, *merged["wording"][1:]]
        wordings = parse_proposal(db, document, units, merged, author).wordings
    index = unit_index(units)
    now = clock.now()
    with _lock(document.id):
        db.refresh(amendment)
        _require_state(amendment, OPEN_STATES, _("rebasing it"))
        _keep_tabled_wording(db, amendment, now)
        for target, (heading, text) in zip(amendment.targets, wordings, strict=True):
            unit = index[target.guid].unit
            target.base_label = target.label = unit_citation(index[target.guid], document.language)[:200]
            target.base_eid = target.eid = unit.eid
            target.base_heading, target.base_text = unit.heading, unit.text
            target.base_tree = json.dumps(_unit_json(unit), ensure_ascii=False)
            if amendment.kind == "substitution":
                target.new_heading, target.new_text = heading, text
        db.execute(AmendmentVote.__table__.delete().where(AmendmentVote.amendment_id == amendment.id))
        _move(db, amendment, (amendment.state,), amendment.state)
        _event(db, amendment, amendment.state, amendment.state, author, now, note="rebased")
        db.flush()
        _keep_revision(db, amendment, "rebased", author, now)
        db.commit()
    db.refresh(amendment)
    return amendment


def note_label(note: str) -> str:
    """What a history note says, in the reader's language."""
    what, _sep, number = note.partition(":")
    labels = {
        "rebased": _("rebased on the current text"),
        "replaced-by": _("replaced by compromise amendment %(n)s"),
        "identical": _("identical to amendment %(n)s, voted with it"),
        "parent-adopted": _("amendment %(n)s, which it depends on, was decided first"),
        "parent-rejected": _("amendment %(n)s, which it depends on, was rejected"),
        "parent-withdrawn": _("amendment %(n)s, which it depends on, was withdrawn"),
        "parent-fallen": _("amendment %(n)s, which it depends on, fell"),
        "sub-amendment": _("proposal rewritten by amendment %(n)s"),
        "commission": _("voted in commission %(n)s"),
        "reported": _("commission %(n)s reported without it"),
        "unit-deleted": _("amendment %(n)s deleted the unit it amends"),  # h5: close_vote
    }
    label = labels.get(what)
    if label is None:
        return note
    return label % {"n": number}


# What editor.commissions uses to vote amendments in commission with the same records.
record_event = _event
move_state = _move
document_lock = _lock
require_presiding = _require_presiding
require_state = _require_state
require_author = _require_author


# --- separate votes: split votes and reserved articles -----------------------------------------------


def vote_apart(services, document: Document, amendment: Amendment, by: User, key, relation: str,
               justification: str, config=None) -> Amendment:
    """Take one target out of a tabled multi-unit substitution (a split vote, relation "part") or of
    a dictamen (a reserved article, relation "reservation"): a new amendment proposing that target's
    wording, tabled, voted on its own; the amendment is then voted (and applied) without it."""
    db = services.db
    _require_state(amendment, ("tabled",), _("voting a part of it separately"))
    if amendment.kind not in ("substitution", DICTAMEN) or amendment.relation:
        raise AmendmentError("conflict", _("Only a substitution of several units is voted in parts."))
    target = next((t for t in amendment.targets if isinstance(key, str) and key.strip() in (t.guid, t.eid)), None)
    if target is None:
        raise AmendmentError("invalid", _("Amendment %(n)d does not change %(key)s.", n=amendment.number, key=repr(key)))
    if target.reserved_by is not None:
        raise AmendmentError("conflict", _("%(unit)s is already voted separately (amendment %(n)d).", unit=target.label,
                                           n=target.reserved_by))
    if len(applied_targets(amendment)) < 2:
        raise AmendmentError("conflict", _("Amendment %(n)d has a single part left: vote it as a whole.",
                                           n=amendment.number))
    index = unit_index(read_live(services, document.slug).units)
    if target.guid not in index:
        raise AmendmentError("conflict", _("%(unit)s is no longer in the text.", unit=target.label))
    proposal = Proposal(kind="substitution", targets=[index[target.guid]], wordings=[(target.new_heading, target.new_text)],
                        justification=justification)
    part = insert_amendment(db, document, by, proposal, parent_id=amendment.id, relation=relation)
    table_by(services, document, part, by, config)
    db.refresh(amendment)
    _require_state(amendment, ("tabled",), _("voting a part of it separately"))
    for t in amendment.targets:
        if t.guid == target.guid:
            t.reserved_by = part.number
    db.commit()
    return part


def split(services, document: Document, amendment: Amendment, user, key, config=None) -> Amendment:
    """The presiding administrator splits the vote on a multi-unit substitution: `key` (a GUID or eId of
    one of its units) is voted as a part of its own."""
    president = _require_presiding(user, document)
    return vote_apart(services, document, amendment, president, key, "part",
                      _("Part of amendment %(n)d, voted separately.", n=amendment.number), config)
