"""Reading and applying the assembly's rules: who the members are, the quorum, the majority an
amendment needs, tabling deadlines, where an amendment stands on a sitting's voting list, and the
outcome of a vote in the reader's language.

Used by editor.amendments.service (votes) and editor.assembly.service (sittings); it imports neither.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, exists, func, select

from .. import clock
from ..models import Document, DocumentMember, User
from ..stages.current import current_stage_of, stage_name
from .majority import MAJORITIES, Outcome, quorum_needed
from .models import AssemblyMember, AssemblyRules, Sitting, SittingAttendance, SittingItem


def rules_of(db, document: Document) -> AssemblyRules:
    """The document's rules; the defaults (not stored) when none were set."""
    found = db.get(AssemblyRules, document.id)
    if found is not None:
        return found
    return AssemblyRules(document_id=document.id, quorum_kind="none", quorum_count=0, quorum_share=0.5,
                         majority="simple", majority_substitution="", majority_insertion="", majority_deletion="",
                         votes_changeable=False, abstentions=True, deadlines="{}")


def members_of(db, document: Document) -> list[User]:
    """The assembly: active accounts whose role on the document is `assembly`, by name."""
    override = select(DocumentMember).where(DocumentMember.document_id == document.id,
                                            DocumentMember.user_id == User.id)
    assigned = exists(override.where(DocumentMember.role == "assembly"))
    own = and_(User.role == "assembly", ~exists(override))
    return list(db.scalars(select(User).where(User.active.is_(True), own | assigned).order_by(User.name, User.id)))


def member_count(db, document: Document) -> int:
    return len(members_of(db, document))


def seats_of(db, document: Document) -> dict[int, AssemblyMember]:
    return {m.user_id: m for m in db.scalars(select(AssemblyMember).where(AssemblyMember.document_id == document.id))}


def majority_for(rules: AssemblyRules, kind: str) -> str:
    """The majority an amendment of `kind` needs."""
    special = getattr(rules, f"majority_{kind}", "") or ""
    return special if special in MAJORITIES else (rules.majority if rules.majority in MAJORITIES else "simple")


def quorum_of(rules: AssemblyRules, members: int) -> int:
    return quorum_needed(rules.quorum_kind or "none", rules.quorum_count, rules.quorum_share, members)


def deadlines_of(rules: AssemblyRules) -> dict[str, datetime]:
    try:
        raw = json.loads(rules.deadlines or "{}")
    except ValueError:
        raw = {}
    found: dict[str, datetime] = {}
    for key, value in raw.items() if isinstance(raw, dict) else ():
        try:
            found[str(key)] = clock.as_utc(datetime.fromisoformat(str(value)))  # type: ignore[assignment]
        except ValueError:
            continue
    return found


def tabling_closed(db, document: Document, now: datetime | None = None) -> str | None:
    """Why tabling is closed now (the current stage's deadline passed), or None."""
    stage = current_stage_of(document)
    deadline = deadlines_of(rules_of(db, document)).get(stage.key)
    moment = now or clock.now()
    if deadline is None or moment <= deadline:
        return None
    return _("The deadline for tabling amendments in the stage %(stage)s passed on %(when)s (UTC); no more "
             "amendments can be tabled in it.", stage=stage_name(stage), when=deadline.strftime("%Y-%m-%d %H:%M"))


# --- sittings ------------------------------------------------------------------------------------


def open_item(db, amendment_id: int) -> tuple[Sitting, SittingItem] | None:
    """The item of an open sitting whose agenda holds the amendment and which is not decided yet."""
    row = db.execute(select(Sitting, SittingItem).join(SittingItem, SittingItem.sitting_id == Sitting.id)
                     .where(SittingItem.amendment_id == amendment_id, Sitting.state == "open",
                            SittingItem.state != "done")).first()
    return (row[0], row[1]) if row else None


def present_count(db, sitting: Sitting) -> int:
    return db.scalar(select(func.count()).select_from(SittingAttendance)
                     .where(SittingAttendance.sitting_id == sitting.id)) or 0


def is_present(db, sitting: Sitting, user: User) -> bool:
    return db.get(SittingAttendance, (sitting.id, user.id)) is not None


# --- words ---------------------------------------------------------------------------------------


def majority_name(majority: str) -> str:
    return {"simple": _("simple majority"), "absolute": _("absolute majority"),
            "two_thirds_present": _("two-thirds majority of those present"),
            "two_thirds_members": _("two-thirds majority of all members")}.get(majority, majority)


def outcome_text(outcome: Outcome, in_sitting: bool = True) -> str:
    """"Adopted by 67 votes for, 20 against and 3 abstentions; two-thirds majority of those present
    reached", in the reader's language."""
    votes_for = ngettext("%(num)d vote for", "%(num)d votes for", outcome.votes_for)
    against = ngettext("%(num)d against", "%(num)d against", outcome.votes_against)
    abstain = ngettext("%(num)d abstention", "%(num)d abstentions", outcome.abstentions)
    if outcome.adopted:
        majority = _("%(majority)s reached", majority=majority_name(outcome.majority))
    else:
        majority = _("%(majority)s not reached", majority=majority_name(outcome.majority))
    counts = {"for": votes_for, "against": against, "abstain": abstain, "majority": majority}
    if outcome.adopted:
        text = _("Adopted by %(for)s, %(against)s and %(abstain)s; %(majority)s", **counts)
    else:
        text = _("Rejected by %(for)s, %(against)s and %(abstain)s; %(majority)s", **counts)
    if not in_sitting:
        text += " " + _("(voted outside a sitting: decided by the votes cast, without attendance or quorum)")
    return text
