"""What commissions do: the presiding administrator sets one up (a subset of units, some assembly
members); its members write amendments on those units, debate and vote them among themselves; the
commission reports its dictamen (the consolidated wording of the units its adopted amendments
changed) to the plenary as one amendment of kind `dictamen`, tabled at once. In plenary, members
reserve articles of the dictamen (reservas): the dictamen is voted without them, and each reserved
article is an amendment of its own (relation "reservation"), voted separately; a rejected one keeps
the live text of its article.

Amendments in commission are substitutions; a unit changed by two adopted amendments of the same
commission is refused at the second (its base is no longer the commission's wording).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock, permissions
from ..amendments.models import CHOICES, DICTAMEN, OPEN_STATES, Amendment, AmendmentVote
from ..amendments.service import (
    AmendmentError,
    Located,
    Proposal,
    account_of,
    document_lock,
    fall,
    get_amendment,
    insert_amendment,
    move_state,
    record_event,
    require_presiding,
    require_state,
    table_by,
    tally_of,
    unit_citation,
    unit_index,
    vote_apart,
)
from ..livetext import read_live
from ..models import Document, User
from .models import Commission, CommissionMember, CommissionUnit

MAX_NAME = 200
MAX_UNITS = 50
MAX_MEMBERS = 200


def commissions_of(db, document: Document) -> list[Commission]:
    return list(db.scalars(select(Commission).where(Commission.document_id == document.id)
                           .order_by(Commission.number)))


def get_commission(db, document: Document, number: int) -> Commission | None:
    return db.scalar(select(Commission).where(Commission.document_id == document.id, Commission.number == number))


def amendments_in(db, commission: Commission) -> list[Amendment]:
    """The amendments written in the commission (not its dictamen)."""
    return list(db.scalars(select(Amendment).where(Amendment.commission_id == commission.id,
                                                   Amendment.kind != DICTAMEN).order_by(Amendment.number)))


def dictamen_of(db, commission: Commission) -> Amendment | None:
    return db.scalar(select(Amendment).where(Amendment.commission_id == commission.id, Amendment.kind == DICTAMEN))


def is_member(user, commission: Commission) -> bool:
    return isinstance(user, User) and any(m.user_id == user.id for m in commission.members)


def create_commission(services, document: Document, user, data: Mapping) -> Commission:
    """`name`; `units`: GUIDs or eIds (each with everything under it); `members`: account ids or
    e-mails of assembly members."""
    db = services.db
    require_presiding(user, document)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise AmendmentError("invalid", _("Give the commission a name (at most %(n)d characters).", n=MAX_NAME))
    keys = data.get("units")
    if not isinstance(keys, list) or not keys or len(keys) > MAX_UNITS or not all(isinstance(k, str) for k in keys):
        raise AmendmentError("invalid", _("Choose the units of the commission (units: a list of GUIDs or eIds)."))
    live = read_live(services, document.slug)
    index = unit_index(live.units)
    by_eid = {located.unit.eid: guid for guid, located in index.items()}
    units: list[Located] = []
    for key in keys:
        located = index.get(key.strip()) or index.get(by_eid.get(key.strip(), ""))
        if located is None:
            raise AmendmentError("invalid", _("There is no unit %(key)s in the text.", key=repr(key)))
        if all(u.unit.guid != located.unit.guid for u in units):
            units.append(located)
    values = data.get("members")
    if not isinstance(values, list) or not values or len(values) > MAX_MEMBERS:
        raise AmendmentError("invalid", _("Name the commission's members (members: account ids or e-mails)."))
    members: list[User] = []
    for value in values:
        member = account_of(db, value)
        if member is None or not permissions.can_vote(member, document):
            raise AmendmentError("invalid", _("Member %(who)s is not an assembly member.", who=repr(value)))
        if all(m.id != member.id for m in members):
            members.append(member)
    for _attempt in range(5):
        number = (db.scalar(select(func.max(Commission.number)).where(Commission.document_id == document.id)) or 0) + 1
        commission = Commission(document_id=document.id, number=number, name=name.strip(), state="working",
                                created_at=clock.now())
        commission.units = [CommissionUnit(guid=u.unit.guid, label=unit_citation(u, document.language)[:200])
                            for u in units]
        commission.members = [CommissionMember(user_id=m.id, user_name=m.name) for m in members]
        db.add(commission)
        try:
            db.commit()
        except IntegrityError:  # someone took the number meanwhile
            db.rollback()
            continue
        return commission
    raise AmendmentError("unavailable", _("Too many commissions are being set up at once; try again."))


def _require_in_commission(commission: Commission, amendment: Amendment) -> None:
    if amendment.commission_id != commission.id or amendment.kind == DICTAMEN:
        raise AmendmentError("not-found", _("Amendment %(n)d is not before commission %(name)s.", n=amendment.number,
                                            name=commission.name))
    if commission.state != "working":
        raise AmendmentError("conflict", _("Commission %(name)s has reported.", name=commission.name))


def open_debate(services, document: Document, commission: Commission, amendment: Amendment, user) -> Amendment:
    db = services.db
    chair = require_presiding(user, document)
    _require_in_commission(commission, amendment)
    require_state(amendment, ("tabled",), _("opening its debate"))
    with document_lock(document.id):
        move_state(db, amendment, ("tabled",), "debate")
        record_event(db, amendment, "tabled", "debate", chair, clock.now(), note=f"commission:{commission.number}")
        db.commit()
    db.refresh(amendment)
    return amendment


def vote(services, document: Document, commission: Commission, amendment: Amendment, user, choice) -> AmendmentVote:
    """A commission member's vote (one each) on an amendment under debate in the commission."""
    db = services.db
    if not isinstance(user, User) or not user.is_active:
        raise AmendmentError("unauthenticated", _("Sign in to do this."))
    if not is_member(user, commission) or not permissions.can_vote(user, document):
        raise AmendmentError("forbidden", _("Only the members of commission %(name)s vote in it.", name=commission.name))
    _require_in_commission(commission, amendment)
    if choice not in CHOICES:
        raise AmendmentError("invalid", _("choice must be one of %(choices)s.", choices=", ".join(CHOICES)))
    require_state(amendment, ("debate",), _("voting"))
    cast = AmendmentVote(amendment_id=amendment.id, user_id=user.id, user_name=user.name, choice=choice,
                         at=clock.now())
    db.add(cast)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise AmendmentError("conflict", _("You already voted on amendment %(n)d.", n=amendment.number)) from None
    return cast


def working_text(db, commission: Commission) -> dict[str, tuple[str, str]]:
    """The wording the commission adopted, by unit GUID (its adopted amendments, in order)."""
    wording: dict[str, tuple[str, str]] = {}
    adopted = [a for a in amendments_in(db, commission) if a.state == "adopted"]
    for amendment in sorted(adopted, key=lambda a: (clock.as_utc(a.decided_at) or clock.now(), a.number)):
        for target in amendment.targets:
            wording[target.guid] = (target.new_heading, target.new_text)
    return wording


def close_vote(services, document: Document, commission: Commission, amendment: Amendment, user) -> Amendment:
    """The chair closes a vote in commission: adopted (in the commission's text, not the live text)
    if more of its members voted for than against, else rejected."""
    db = services.db
    chair = require_presiding(user, document)
    _require_in_commission(commission, amendment)
    require_state(amendment, ("debate",), _("closing its vote"))
    with document_lock(document.id):
        db.refresh(amendment)
        require_state(amendment, ("debate",), _("closing its vote"))
        count = tally_of(db, amendment)
        adopted = count.votes_for > count.votes_against
        if adopted:
            wording = working_text(db, commission)
            for target in amendment.targets:
                if target.guid in wording and wording[target.guid] != (target.base_heading, target.base_text):
                    raise AmendmentError("conflict", _("Commission %(name)s already adopted another wording of "
                                                       "%(unit)s; amendment %(n)d stays under debate.",
                                                       name=commission.name, unit=target.label, n=amendment.number))
        now = clock.now()
        state = "adopted" if adopted else "rejected"
        move_state(db, amendment, ("debate",), state, votes_for=count.votes_for, votes_against=count.votes_against,
                   votes_abstain=count.abstentions, decided_at=now)
        record_event(db, amendment, "debate", state, chair, now, note=f"commission:{commission.number}")
        db.commit()
    db.refresh(amendment)
    return amendment


def report(services, document: Document, commission: Commission, user, config=None) -> Amendment:
    """The commission reports: its dictamen (one substitution per unit its adopted amendments
    changed) is tabled in plenary; its amendments still open fall."""
    db = services.db
    chair = require_presiding(user, document)
    if commission.state != "working":
        raise AmendmentError("conflict", _("Commission %(name)s has already reported.", name=commission.name))
    wording = working_text(db, commission)
    index = unit_index(read_live(services, document.slug).units)
    targets = [index[guid] for guid in wording if guid in index]
    if not targets:
        raise AmendmentError("conflict", _("Commission %(name)s adopted no amendment: there is nothing to report.",
                                           name=commission.name))
    proposal = Proposal(kind=DICTAMEN, targets=targets, wordings=[wording[t.unit.guid] for t in targets],
                        justification=_("Dictamen of commission %(name)s.", name=commission.name))
    dictamen = insert_amendment(db, document, chair, proposal, author_name=commission.name[:120],
                                commission_id=commission.id)
    table_by(services, document, dictamen, chair, config)
    now = clock.now()
    for amendment in amendments_in(db, commission):
        if amendment.state in OPEN_STATES:
            fall(db, amendment, chair, now, note=f"reported:{commission.number}")
    commission.state = "reported"
    db.commit()
    db.refresh(dictamen)
    return dictamen


def reserve(services, document: Document, commission: Commission, user, key, config=None) -> Amendment:
    """A member reserves an article of the tabled dictamen for a separate vote: a new amendment (its
    wording as the dictamen proposes it), tabled; the dictamen is then voted without that article."""
    db = services.db
    if not isinstance(user, User) or not user.is_active:
        raise AmendmentError("unauthenticated", _("Sign in to do this."))
    if not permissions.can_table_amendment(user, document):
        raise AmendmentError("forbidden", _("Only assembly members reserve articles."))
    dictamen = dictamen_of(db, commission)
    if dictamen is None:
        raise AmendmentError("conflict", _("Commission %(name)s has not reported yet.", name=commission.name))
    return vote_apart(services, document, dictamen, user, key, "reservation",
                      _("Article reserved from the dictamen of commission %(name)s.", name=commission.name), config)


def amendment_in(db, document: Document, commission: Commission, number: int) -> Amendment:
    amendment = get_amendment(db, document, number)
    if amendment is None or amendment.commission_id != commission.id or amendment.kind == DICTAMEN:
        raise AmendmentError("not-found", _("Amendment %(n)d is not before commission %(name)s.", n=number,
                                            name=commission.name))
    return amendment
