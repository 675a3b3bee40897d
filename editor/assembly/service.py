"""What can be done with the assembly: configure its rules and members, plan and run sittings
(attendance, the voting list, opening and closing items and votes, minutes), and read a sitting
for its public view.

Votes themselves are cast and closed by editor.amendments.service (vote, close_vote), which read
the rules through editor.assembly.rules. Every refusal is an `AssemblyError` (or the amendments'
`AmendmentError`) raised before anything is changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from akoma_ntoso import Unit, iter_units

from .. import clock, permissions
from ..amendments.models import OPEN_STATES, Amendment
from ..amendments.service import changes_of, close_vote, fall, open_debate, tally_of
from ..errors import DomainError
from ..livetext import read_live
from ..models import Document, User
from ..stages.models import Stage
from ..stages.versions import freeze
from . import rules as assembly_rules
from .majority import MAJORITIES, QUORUM_KINDS, Outcome, decide, has_quorum
from .models import SEATS, AssemblyMember, AssemblyRules, Sitting, SittingAttendance, SittingItem

MAX_TITLE = 200
MAX_MINUTES = 50_000
MAX_GROUP = 120
#: Which kind of amendment goes first among those on the same unit: the furthest from the text.
KIND_ORDER = {"deletion": 0, "substitution": 1, "insertion": 2}


class AssemblyError(DomainError):
    """A request about the assembly that is refused: its kind (editor.errors) and the reason."""


def _signed_in(user) -> User:
    if not isinstance(user, User) or not user.is_active:
        raise AssemblyError("unauthenticated", _("Sign in to do this."))
    return user


def require_configurer(user, document: Document) -> User:
    account = _signed_in(user)
    if not permissions.can_configure_assembly(account, document):
        raise AssemblyError("forbidden", _("Only an administrator configures the assembly and its sittings."))
    return account


def require_chair(user, document: Document) -> User:
    account = _signed_in(user)
    if not permissions.can_chair_sitting(account, document):
        if not permissions.in_amendment_stage(document):
            raise AssemblyError("conflict", _("Sittings are run only while the document is in a stage that takes "
                                              "amendments (the assembly)."))
        raise AssemblyError("forbidden", _("Only the presiding administrator runs a sitting."))
    return account


# --- rules and members ---------------------------------------------------------------------------


def rules_dict(db, document: Document) -> dict:
    rules = assembly_rules.rules_of(db, document)
    members = assembly_rules.members_of(db, document)
    seats = assembly_rules.seats_of(db, document)
    return {
        "quorum": {"kind": rules.quorum_kind, "count": rules.quorum_count, "share": rules.quorum_share,
                   "needed": assembly_rules.quorum_of(rules, len(members))},
        "majority": rules.majority,
        "majority_by_kind": {k: getattr(rules, f"majority_{k}") or rules.majority
                             for k in ("substitution", "insertion", "deletion")},
        "votes_changeable": rules.votes_changeable,
        "abstentions": rules.abstentions,
        "tabling_deadlines": {k: v.isoformat() for k, v in assembly_rules.deadlines_of(rules).items()},
        "members": [{"id": m.id, "name": m.name, "group": seats[m.id].group_name if m.id in seats else "",
                     "seat": seats[m.id].seat if m.id in seats else "elected"} for m in members],
    }


def _choice(data: Mapping, name: str, allowed: Sequence[str], default: str) -> str:
    value = data.get(name, default)
    if value is None:
        value = default
    if value not in allowed:
        raise AssemblyError("invalid", _("%(name)s must be one of %(allowed)s.", name=name,
                                         allowed=", ".join(a or '""' for a in allowed)))
    return str(value)


def _flag(data: Mapping, name: str, default: bool) -> bool:
    value = data.get(name, default)
    if isinstance(value, bool):
        return value
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no", ""):
        return False
    raise AssemblyError("invalid", _("%(name)s must be true or false.", name=name))


def _moment(value, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise AssemblyError("invalid", _("%(name)s must be a date and time (YYYY-MM-DDTHH:MM).", name=name))
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise AssemblyError("invalid", _("%(name)s must be a date and time (YYYY-MM-DDTHH:MM).", name=name)) from None
    return clock.as_utc(moment)


def save_rules(db, document: Document, user, data: Mapping) -> AssemblyRules:
    """Set the rules (fields not sent keep their value). See editor.assembly.api for the fields."""
    require_configurer(user, document)
    rules = db.get(AssemblyRules, document.id) or assembly_rules.rules_of(db, document)
    quorum = data.get("quorum", {})
    if not isinstance(quorum, Mapping):
        raise AssemblyError("invalid", _("quorum must be an object {kind, count, share}."))
    kind = _choice(quorum, "kind", QUORUM_KINDS, rules.quorum_kind)
    count, share = quorum.get("count", rules.quorum_count), quorum.get("share", rules.quorum_share)
    try:
        count = int(count)
        share = float(share)
    except (TypeError, ValueError):
        raise AssemblyError("invalid", _("The quorum is a whole number of members or a share between 0 and 1.")) from None
    if not (0 <= count <= 100_000) or not (0 < share <= 1):
        raise AssemblyError("invalid", _("The quorum is a whole number of members or a share between 0 and 1."))
    majority = _choice(data, "majority", MAJORITIES, rules.majority)
    by_kind = data.get("majority_by_kind", {}) or {}
    if not isinstance(by_kind, Mapping):
        raise AssemblyError("invalid", _("majority_by_kind must be an object {kind: majority}."))
    special = {k: _choice(by_kind, k, ("", *MAJORITIES), getattr(rules, f"majority_{k}") or "")
               for k in ("substitution", "insertion", "deletion")}
    deadlines_in = data.get("tabling_deadlines")
    deadlines = assembly_rules.deadlines_of(rules)
    if deadlines_in is not None:
        if not isinstance(deadlines_in, Mapping):
            raise AssemblyError("invalid", _("tabling_deadlines must be an object {stage key: date and time}."))
        keys = set(db.scalars(select(Stage.key).where(Stage.document_id == document.id)))
        deadlines = {}
        for key, value in deadlines_in.items():
            if key not in keys:
                raise AssemblyError("invalid", _("There is no stage %(key)s in this document.", key=repr(key)))
            moment = _moment(value, f"tabling_deadlines.{key}")
            if moment is not None:
                deadlines[key] = moment
    rules.quorum_kind, rules.quorum_count, rules.quorum_share = kind, count, share
    rules.majority = majority
    rules.majority_substitution, rules.majority_insertion, rules.majority_deletion = (
        special["substitution"], special["insertion"], special["deletion"])
    rules.votes_changeable = _flag(data, "votes_changeable", rules.votes_changeable)
    rules.abstentions = _flag(data, "abstentions", rules.abstentions)
    rules.deadlines = json.dumps({k: v.isoformat() for k, v in deadlines.items()})
    rules.updated_at = clock.now()
    if db.get(AssemblyRules, document.id) is None:
        db.add(rules)
    db.commit()
    return rules


def set_member(db, document: Document, user, member_id, group: str, seat: str) -> AssemblyMember:
    """A member's group (party) and how they got their seat."""
    require_configurer(user, document)
    members = {m.id: m for m in assembly_rules.members_of(db, document)}
    try:
        member_id = int(member_id)
    except (TypeError, ValueError):
        member_id = 0
    if member_id not in members:
        raise AssemblyError("invalid", _("That account is not a member of this document's assembly."))
    if not isinstance(group, str) or len(group) > MAX_GROUP:
        raise AssemblyError("invalid", _("A group's name has at most %(n)d characters.", n=MAX_GROUP))
    if seat not in SEATS:
        raise AssemblyError("invalid", _("seat must be one of %(seats)s.", seats=", ".join(SEATS)))
    row = db.get(AssemblyMember, (document.id, member_id))
    if row is None:
        row = AssemblyMember(document_id=document.id, user_id=member_id)
        db.add(row)
    row.group_name, row.seat = group.strip(), seat
    db.commit()
    return row


# --- sittings ------------------------------------------------------------------------------------


def sittings_of(db, document: Document) -> list[Sitting]:
    return list(db.scalars(select(Sitting).where(Sitting.document_id == document.id).order_by(Sitting.number)))


def get_sitting(db, document: Document, number: int) -> Sitting | None:
    return db.scalar(select(Sitting).where(Sitting.document_id == document.id, Sitting.number == number))


def create_sitting(db, document: Document, user, data: Mapping) -> Sitting:
    """A planned sitting: `day` (YYYY-MM-DD), `title`, `tabling_deadline` (optional date and time)."""
    require_configurer(user, document)
    raw_day = data.get("day") or data.get("date")
    try:
        day = date.fromisoformat(str(raw_day)) if raw_day else clock.now().date()
    except ValueError:
        raise AssemblyError("invalid", _("day must be a date (YYYY-MM-DD).")) from None
    title = data.get("title") or ""
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        raise AssemblyError("invalid", _("A title has at most %(n)d characters.", n=MAX_TITLE))
    deadline = _moment(data.get("tabling_deadline"), "tabling_deadline")
    number = (db.scalar(select(func.max(Sitting.number)).where(Sitting.document_id == document.id)) or 0) + 1
    sitting = Sitting(document_id=document.id, number=number, title=title.strip(), day=day, state="planned",
                      tabling_deadline=deadline, minutes="")
    db.add(sitting)
    db.commit()
    return sitting


def present_ids(db, sitting: Sitting) -> set[int]:
    return set(db.scalars(select(SittingAttendance.user_id).where(SittingAttendance.sitting_id == sitting.id)))


def set_attendance(db, document: Document, sitting: Sitting, user, present: Sequence) -> set[int]:
    """The chair marks who is present (the whole list: the others are absent)."""
    require_chair(user, document)
    if sitting.state == "closed":
        raise AssemblyError("conflict", _("Sitting %(n)d is closed.", n=sitting.number))
    members = {m.id for m in assembly_rules.members_of(db, document)}
    wanted: set[int] = set()
    for value in present:
        try:
            wanted.add(int(value))
        except (TypeError, ValueError):
            raise AssemblyError("invalid", _("present must be a list of member ids.")) from None
    strangers = wanted - members
    if strangers:
        raise AssemblyError("invalid", _("Only members of the assembly can be marked present (not %(ids)s).",
                                         ids=", ".join(str(i) for i in sorted(strangers))))
    now = clock.now()
    for row in db.scalars(select(SittingAttendance).where(SittingAttendance.sitting_id == sitting.id)):
        if row.user_id not in wanted:
            db.delete(row)
    for member_id in wanted - present_ids(db, sitting):
        db.add(SittingAttendance(sitting_id=sitting.id, user_id=member_id, marked_at=now))
    db.commit()
    return wanted


def voting_key(amendment: Amendment, order: Mapping[str, int]) -> tuple:
    """The furthest from the text is voted first: units earlier in the text first; on the same unit
    a deletion, then a substitution, then an insertion beside it; among those, a compromise before
    the amendments it replaces and an amendment to an amendment before the one it amends (adopting
    the first makes the others fall or changes them); then by number."""
    places = [order.get(t.guid, len(order)) for t in amendment.targets] or [len(order)]
    relation = 0 if amendment.replaces else 1 if amendment.relation == "amends" else 2
    return (min(places), KIND_ORDER.get(amendment.kind, 3), relation, amendment.number)


def voting_order(amendments: Sequence[Amendment], units: Sequence[Unit]) -> list[Amendment]:
    order = {u.guid: i for i, u in enumerate(iter_units(units))}
    return sorted(amendments, key=lambda a: voting_key(a, order))


def _busy_elsewhere(db, sitting: Sitting) -> set[int]:
    """Amendments on another sitting's voting list, not decided there yet."""
    return set(db.scalars(select(SittingItem.amendment_id).join(Sitting, Sitting.id == SittingItem.sitting_id)
                          .where(Sitting.document_id == sitting.document_id, Sitting.id != sitting.id,
                                 Sitting.state != "closed", SittingItem.state != "done")))


def _tabled_in_time(amendment: Amendment, sitting: Sitting) -> bool:
    deadline = clock.as_utc(sitting.tabling_deadline)
    tabled = clock.as_utc(amendment.tabled_at)
    return deadline is None or tabled is None or tabled <= deadline


def build_agenda(services, document: Document, sitting: Sitting, user, numbers: Sequence[int] | None = None
                 ) -> list[SittingItem]:
    """Put open amendments (all of them, or those numbered) on the voting list and order what is not
    decided yet by the voting rule. An amendment tabled after the sitting's deadline is refused
    (when named) or left out."""
    db = services.db
    require_configurer(user, document)
    if sitting.state == "closed":
        raise AssemblyError("conflict", _("Sitting %(n)d is closed.", n=sitting.number))
    busy = _busy_elsewhere(db, sitting)
    on_list = {i.amendment_id for i in sitting.items}
    query = select(Amendment).where(Amendment.document_id == document.id, Amendment.state.in_(OPEN_STATES))
    candidates = list(db.scalars(query.order_by(Amendment.number)))
    if numbers is not None:
        wanted = set()
        for value in numbers:
            try:
                wanted.add(int(value))
            except (TypeError, ValueError):
                raise AssemblyError("invalid", _("amendments must be a list of amendment numbers.")) from None
        found = {a.number: a for a in candidates}
        for number in sorted(wanted):
            amendment = found.get(number)
            if amendment is None:
                raise AssemblyError("invalid", _("Amendment %(n)d is not tabled (only tabled amendments go on a "
                                                 "voting list).", n=number))
            deadline = clock.as_utc(sitting.tabling_deadline)
            if deadline is not None and not _tabled_in_time(amendment, sitting):
                raise AssemblyError("conflict", _("Amendment %(n)d was tabled after the deadline for sitting %(s)d "
                                                  "(%(when)s UTC).", n=number, s=sitting.number,
                                                  when=deadline.strftime("%Y-%m-%d %H:%M")))
            if amendment.id in busy:
                raise AssemblyError("conflict", _("Amendment %(n)d is on another sitting's voting list.", n=number))
        candidates = [found[n] for n in sorted(wanted)]
    else:
        candidates = [a for a in candidates if _tabled_in_time(a, sitting) and a.id not in busy]
    for amendment in candidates:
        if amendment.id not in on_list:
            sitting.items.append(SittingItem(amendment_id=amendment.id, position=len(sitting.items) + 1000,
                                             state="pending"))
    db.flush()
    _reorder(services, document, sitting)
    db.commit()
    return list(sitting.items)


def _reorder(services, document: Document, sitting: Sitting) -> None:
    """Decided and started items keep their place; the pending ones follow, by the voting rule."""
    db = services.db
    units = read_live(services, document.slug).units
    by_id = {a.id: a for a in db.scalars(select(Amendment).where(Amendment.id.in_([i.amendment_id
                                                                                   for i in sitting.items])))}
    started = sorted((i for i in sitting.items if i.state != "pending"), key=lambda i: i.position)
    pending = [i for i in sitting.items if i.state == "pending"]
    ordered = {a.id: n for n, a in enumerate(voting_order([by_id[i.amendment_id] for i in pending], units))}
    pending.sort(key=lambda i: ordered[i.amendment_id])
    for item in [*started, *pending]:
        item.position = -1 - item.id  # free the positions first
    db.flush()
    for position, item in enumerate([*started, *pending], start=1):
        item.position = position
    db.flush()
    sitting.items.sort(key=lambda i: i.position)


def _require_open(sitting: Sitting) -> None:
    if sitting.state != "open":
        raise AssemblyError("conflict", _("Sitting %(n)d is not open.", n=sitting.number))


def open_sitting(db, document: Document, sitting: Sitting, user) -> Sitting:
    require_chair(user, document)
    if sitting.state != "planned":
        raise AssemblyError("conflict", _("Sitting %(n)d was already opened.", n=sitting.number))
    other = db.scalar(select(Sitting).where(Sitting.document_id == document.id, Sitting.state == "open"))
    if other is not None:
        raise AssemblyError("conflict", _("Sitting %(n)d is still open; close it first.", n=other.number))
    sitting.state, sitting.opened_at = "open", clock.now()
    db.commit()
    return sitting


def _item(sitting: Sitting, number: int, db) -> tuple[SittingItem, Amendment]:
    for item in sitting.items:
        amendment = db.get(Amendment, item.amendment_id)
        if amendment is not None and amendment.number == number:
            return item, amendment
    raise AssemblyError("not-found", _("Amendment %(n)d is not on the voting list of sitting %(s)d.", n=number,
                                       s=sitting.number))


def current_item(sitting: Sitting) -> SittingItem | None:
    return next((i for i in sitting.items if i.state in ("debate", "voting")), None)


def start_item(services, document: Document, sitting: Sitting, user, number: int) -> SittingItem:
    """The chair opens an item: its debate (the amendment goes under debate)."""
    db = services.db
    require_chair(user, document)
    _require_open(sitting)
    item, amendment = _item(sitting, number, db)
    busy = current_item(sitting)
    if busy is not None and busy.id != item.id:
        raise AssemblyError("conflict", _("Another item is under debate; close its vote first."))
    if item.state != "pending":
        raise AssemblyError("conflict", _("Amendment %(n)d was already opened.", n=number))
    if amendment.state == "tabled":
        open_debate(services, document, amendment, user)
    elif amendment.state != "debate":
        raise AssemblyError("conflict", _("Amendment %(n)d can no longer be debated.", n=number))
    db.refresh(item)
    if item.state == "pending":
        item.state = "debate"
        db.commit()
    return item


def open_vote(services, document: Document, sitting: Sitting, user, number: int) -> SittingItem:
    """The chair opens the vote on the item under debate: only with the quorum present."""
    db = services.db
    require_chair(user, document)
    _require_open(sitting)
    item, amendment = _item(sitting, number, db)
    if item.state != "debate" or amendment.state != "debate":
        raise AssemblyError("conflict", _("Amendment %(n)d is not under debate: open the item first.", n=number))
    rules = assembly_rules.rules_of(db, document)
    members = assembly_rules.member_count(db, document)
    needed = assembly_rules.quorum_of(rules, members)
    present = assembly_rules.present_count(db, sitting)
    if not has_quorum(present, needed):
        raise AssemblyError("conflict", _("There is no quorum: %(present)d members present of the %(needed)d needed "
                                          "(of %(members)d). The vote cannot be opened.", present=present,
                                          needed=needed, members=members))
    item.state, item.vote_opened_at = "voting", clock.now()
    db.commit()
    return item


def close_item(services, document: Document, sitting: Sitting, user, number: int):
    """The chair closes the vote (editor.amendments.service.close_vote decides); the items of the
    amendments that fell with it are done too."""
    db = services.db
    require_chair(user, document)
    _require_open(sitting)
    item, amendment = _item(sitting, number, db)
    if item.state != "voting":
        raise AssemblyError("conflict", _("The vote on amendment %(n)d is not open.", n=number))
    decision = close_vote(services, document, amendment, user)
    settle(db, sitting)
    return decision


def settle(db, sitting: Sitting) -> None:
    """Items whose amendment fell, was withdrawn or decided elsewhere are done."""
    changed = False
    for item in sitting.items:
        amendment = db.get(Amendment, item.amendment_id)
        if item.state != "done" and (amendment is None or amendment.state not in OPEN_STATES):
            item.state, item.decided_at = "done", item.decided_at or clock.now()
            changed = True
    if changed:
        db.commit()


def drop_item(services, document: Document, sitting: Sitting, user, number: int) -> None:
    """Take a pending amendment off the voting list."""
    db = services.db
    require_configurer(user, document)
    item, _amendment = _item(sitting, number, db)
    if item.state != "pending":
        raise AssemblyError("conflict", _("Only an item not yet opened can be taken off the list."))
    sitting.items.remove(item)
    db.commit()


def fall_item(services, document: Document, sitting: Sitting, user, number: int) -> None:
    """The chair declares a pending amendment fallen (made moot by an earlier decision)."""
    db = services.db
    chair = require_chair(user, document)
    _require_open(sitting)
    item, amendment = _item(sitting, number, db)
    if amendment.state not in OPEN_STATES or item.state == "done":
        raise AssemblyError("conflict", _("Amendment %(n)d is already decided.", n=number))
    fall(db, amendment, chair)
    item.state, item.decided_at = "done", clock.now()
    db.commit()


def save_minutes(db, document: Document, sitting: Sitting, user, text: str) -> Sitting:
    require_configurer(user, document)
    if not isinstance(text, str) or len(text) > MAX_MINUTES:
        raise AssemblyError("invalid", _("The minutes have at most %(n)d characters.", n=MAX_MINUTES))
    sitting.minutes = text.replace("\r\n", "\n").strip()
    db.commit()
    return sitting


def close_sitting(services, document: Document, sitting: Sitting, user) -> Sitting:
    """Close the sitting and publish the text as it stands as a frozen version."""
    db = services.db
    chair = require_chair(user, document)
    _require_open(sitting)
    busy = next((i for i in sitting.items if i.state == "voting"), None)
    if busy is not None:
        amendment = db.get(Amendment, busy.amendment_id)
        raise AssemblyError("conflict", _("The vote on amendment %(n)d is open; close it before closing the sitting.",
                                          n=amendment.number if amendment else 0))
    settle(db, sitting)
    version = freeze(services, document, chair, name=_("After sitting %(n)d", n=sitting.number)[:120], commit=False)
    sitting.state, sitting.closed_at, sitting.version_number = "closed", clock.now(), version.number
    db.commit()
    return sitting


# --- reading a sitting ---------------------------------------------------------------------------


@dataclass
class Row:
    """An item of the voting list as shown: its amendment, where it acts, and its outcome."""

    item: SittingItem
    amendment: Amendment
    where: str
    outcome: Outcome | None
    outcome_text: str

    @property
    def announcement(self) -> str:
        if self.amendment.state == "adopted":
            return _("Amendment %(n)d adopted: %(where)s", n=self.amendment.number, where=self.where)
        if self.amendment.state == "rejected":
            return _("Amendment %(n)d rejected: %(where)s", n=self.amendment.number, where=self.where)
        if self.amendment.state == "fallen":
            return _("Amendment %(n)d fell: %(where)s", n=self.amendment.number, where=self.where)
        if self.amendment.state == "withdrawn":
            return _("Amendment %(n)d was withdrawn: %(where)s", n=self.amendment.number, where=self.where)
        return ""


def outcome_of(db, item: SittingItem, amendment: Amendment) -> Outcome | None:
    if item.adopted is None or amendment.votes_for is None:
        return None
    count = tally_of(db, amendment)
    return decide(item.majority or "simple", count.votes_for, count.votes_against, count.abstentions,
                  item.present or 0, item.members or 0)


def rows_of(db, sitting: Sitting) -> list[Row]:
    rows = []
    for item in sitting.items:
        amendment = db.get(Amendment, item.amendment_id)
        if amendment is None:
            continue
        where = "; ".join(t.label or t.eid for t in amendment.targets)
        outcome = outcome_of(db, item, amendment)
        rows.append(Row(item, amendment, where, outcome,
                        assembly_rules.outcome_text(outcome) if outcome is not None else ""))
    return rows


def minutes_lines(db, sitting: Sitting) -> list[str]:
    """The generated part of the minutes: one line per item decided, in voting order."""
    lines = []
    for row in rows_of(db, sitting):
        if row.outcome is not None:
            lines.append(_("Amendment %(n)d (%(where)s): %(outcome)s", n=row.amendment.number, where=row.where,
                           outcome=row.outcome_text))
        elif row.amendment.state in ("fallen", "withdrawn"):
            lines.append(row.announcement)
    return lines


def stamp_of(db, sitting: Sitting) -> str:
    """What changes when anything a reader of the public view sees changes (cheap to compute)."""
    parts = [sitting.state, str(sitting.version_number or "")]
    states = dict(db.execute(select(Amendment.id, Amendment.state).where(
        Amendment.id.in_([i.amendment_id for i in sitting.items]))).all())
    for item in sitting.items:
        parts.append(f"{item.id}:{item.state}:{states.get(item.amendment_id, '')}")
    return "|".join(parts)


def public_sittings(db, document: Document) -> list[Sitting]:
    return [s for s in sittings_of(db, document) if s.state != "planned"]


def rows_by_number(db, sitting: Sitting) -> dict[int, Row]:
    return {r.amendment.number: r for r in rows_of(db, sitting)}


changes_for = changes_of


def sittings_with(db, amendment_id: int) -> list[Sitting]:
    """The open or closed sittings whose voting list holds the amendment."""
    return list(db.scalars(select(Sitting).join(SittingItem, SittingItem.sitting_id == Sitting.id)
                           .where(SittingItem.amendment_id == amendment_id, Sitting.state != "planned")
                           .order_by(Sitting.number)))
