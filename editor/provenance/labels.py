"""What the relations of links and the actions of thresholds are called, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext

RELATION_LABELS = {
    "incorporates": lazy_gettext("takes up its proposal"),
    "motivated": lazy_gettext("motivated by it"),
    "addresses": lazy_gettext("addresses it"),
    "related": lazy_gettext("related"),
}

ACTION_LABELS = {
    "legal_review": lazy_gettext("legal review"),
    "committee_presentation": lazy_gettext("presentation to the drafting committee"),
    "executive_audience": lazy_gettext("audience with the executive"),
    "other": lazy_gettext("other action"),
}


def relation_label(relation: str) -> str:
    return str(RELATION_LABELS.get(relation, relation))


def action_label(action: str) -> str:
    """What a threshold obliges, in the current language."""
    return str(ACTION_LABELS.get(action, action))
