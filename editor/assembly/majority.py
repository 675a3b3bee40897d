"""The arithmetic of quorum and majorities, as pure functions (no database, no language).

Majorities (what adopts a decision):

* ``simple``: more votes for than against (abstentions do not count);
* ``absolute``: more votes for than half of all members;
* ``two_thirds_present``: at least two thirds of the members present vote for;
* ``two_thirds_members``: at least two thirds of all members vote for.

Quorum: a number of members, or a share of all members (present ≥ share × members, rounded up).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

MAJORITIES = ("simple", "absolute", "two_thirds_present", "two_thirds_members")
QUORUM_KINDS = ("none", "count", "share")


@dataclass(frozen=True)
class Outcome:
    """A vote decided: adopted or not, and the votes for it needed (None: more for than against)."""

    adopted: bool
    majority: str
    required: int | None
    votes_for: int
    votes_against: int
    abstentions: int
    present: int
    members: int


def _at_least(share: Fraction, of: int) -> int:
    """The smallest whole number ≥ share × of."""
    value = share * of
    return value.numerator // value.denominator + (1 if value.numerator % value.denominator else 0)


def required_votes(majority: str, present: int, members: int) -> int | None:
    """The votes for that a majority needs; None for a simple majority (it depends on the votes against)."""
    if majority == "simple":
        return None
    if majority == "absolute":
        return members // 2 + 1
    if majority == "two_thirds_present":
        return _at_least(Fraction(2, 3), present)
    if majority == "two_thirds_members":
        return _at_least(Fraction(2, 3), members)
    raise ValueError(f"unknown majority {majority!r}")


def decide(majority: str, votes_for: int, votes_against: int, abstentions: int = 0, present: int = 0,
           members: int = 0) -> Outcome:
    """Whether the votes adopt the decision under `majority`. A qualified majority also needs more
    votes for than against (it always has them unless nearly nobody votes)."""
    if min(votes_for, votes_against, abstentions, present, members) < 0:
        raise ValueError("counts cannot be negative")
    required = required_votes(majority, present, members)
    adopted = votes_for > votes_against and (required is None or votes_for >= required)
    return Outcome(adopted, majority, required, votes_for, votes_against, abstentions, present, members)


def quorum_needed(kind: str, count: int | None, share: float | None, members: int) -> int:
    """How many members must be present for a vote (0: no quorum)."""
    if kind == "none":
        return 0
    if kind == "count":
        return max(0, int(count or 0))
    if kind == "share":
        return _at_least(Fraction(str(share or 0)).limit_denominator(10_000), members)
    raise ValueError(f"unknown kind of quorum {kind!r}")


def has_quorum(present: int, needed: int) -> bool:
    return present >= needed
