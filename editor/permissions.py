"""The one place that decides who may do what. Pages, the JSON API and socket events all ask here.

Roles are account roles (editor.models.ROLES), which an administrator may override on one
document (editor.models.DocumentMember): `effective_role` is the role that counts on a document.
Petitioners have no account: their review link grants its scope (editor.review). The public
reads published documents. What the live text allows depends on the document's current stage
(editor.stages): its mode and the roles it lets edit.
"""

from __future__ import annotations

from .models import Document
from .roles import effective_role
from .roles import signed_in as _signed_in
from .stages.current import current_stage_of

#: Committee work outside the text itself: provenance links, petitions, survey coding, events.
EDITING_ROLES = frozenset({"admin", "committee"})
#: Who comments on units and reads comments (the drafting side, not the public).
COMMENTING_ROLES = frozenset({"admin", "committee", "legal"})
#: Who collects survey answers for a document (kiosks, tablets, paper forms): its committee and the
#: volunteers, who otherwise read like viewers.
COLLECTING_ROLES = frozenset({"admin", "committee", "volunteer"})
#: Who freezes named versions by hand (stage transitions freeze one anyway).
VERSIONING_ROLES = frozenset({"admin", "committee", "legal"})
#: Who moderates the public's comments (editor.participation): the queue, approving, hiding, restoring.
MODERATING_ROLES = frozenset({"admin", "committee"})


def can_administer(user: object) -> bool:
    """Accounts, roles per document and the audit log: administrators only."""
    return _role(user) == "admin"


_role = effective_role


def _stage(document: Document):

    return current_stage_of(document)


def can_read(user: object, document: Document) -> bool:
    """Anyone may read a published document; unpublished drafts are for signed-in accounts."""
    return document.published or _signed_in(user) is not None


def can_edit(user: object, document: Document) -> bool:
    """Committee work on the document (provenance, petitions, survey): not the live text."""
    return _role(user, document) in EDITING_ROLES


def can_write_text(user: object, document: Document) -> bool:
    """Whether the user's connections may change the live text now (the stage decides)."""
    role = _role(user, document)
    if role is None:
        return False
    stage = _stage(document)
    return stage.mode in ("edit", "consultation") and role in stage.editors


def can_load_revision(user: object, document: Document) -> bool:
    """Loading a revised draft as the live text (editor.revision): the committee's drafting work,
    when the stage lets it write the text."""
    return _role(user, document) in EDITING_ROLES and can_write_text(user, document)


def can_create_documents(user: object) -> bool:
    """Importing or creating a document is drafting work: the committee and administrators."""
    return _role(user) in EDITING_ROLES


def can_advance_stage(user: object, document: Document) -> bool:
    return _role(user, document) in _stage(document).advancers


def can_configure_stages(user: object, document: Document) -> bool:
    return _role(user, document) == "admin"


def can_freeze_version(user: object, document: Document) -> bool:
    return _role(user, document) in VERSIONING_ROLES


def can_collect_answers(user: object, document: Document) -> bool:
    return _role(user, document) in COLLECTING_ROLES


def can_comment(user: object, document: Document) -> bool:
    return _role(user, document) in COMMENTING_ROLES


def can_moderate(user: object, document: Document) -> bool:
    """The public's comments on the document: see what waits for approval or was reported,
    approve, hide with a public reason, restore."""
    return _role(user, document) in MODERATING_ROLES


def can_configure_participation(user: object, document: Document) -> bool:
    """Pre- or post-moderation, who may comment, and which stages take public comments."""
    return _role(user, document) == "admin"


def can_manage_reviews(user: object, document: Document) -> bool:
    """Issue and revoke petitioners' review links, and see the outcomes dashboard."""
    return _role(user, document) in EDITING_ROLES


def can_issue_review_link(user: object, document: Document, rereview_pending: bool = False) -> bool:
    """Issue or re-issue a petition's review link: in a consultation stage, or later for a pending re-review."""
    return can_manage_reviews(user, document) and (_stage(document).mode == "consultation" or rereview_pending)


def petitioner_can_review(document: Document, rereview_pending: bool = False) -> bool:
    """Whether a petitioner's valid link accepts an approval or objection now (consultation stage or re-review)."""
    return _stage(document).mode == "consultation" or rereview_pending


def in_amendment_stage(document: Document) -> bool:
    return _stage(document).mode == "amendments"


def can_table_amendment(user: object, document: Document) -> bool:
    """Assembly members draft, table, co-sponsor and withdraw amendments in an amendments stage."""
    return _role(user, document) == "assembly" and in_amendment_stage(document)


def can_vote(user: object, document: Document) -> bool:
    return _role(user, document) == "assembly" and in_amendment_stage(document)


def can_preside(user: object, document: Document) -> bool:
    """Open the debate on an amendment, close its vote, adopt or reject it: the presiding administrator."""
    return _role(user, document) == "admin" and in_amendment_stage(document)


def can_edit_amendment(user: object, document: Document, amendment) -> bool:
    """Only its author changes, tables or withdraws an amendment, while the stage takes amendments."""
    account = _signed_in(user)
    return account is not None and amendment.author_id == account.id and can_table_amendment(user, document)


def can_see_amendment(user: object, document: Document, amendment) -> bool:
    """Readers of the document see tabled amendments; a draft only its author and co-sponsors."""
    if not can_read(user, document):
        return False
    if amendment.state != "draft":
        return True
    account = _signed_in(user)
    return account is not None and (
        amendment.author_id == account.id or any(s.user_id == account.id for s in amendment.sponsors))


def must_suggest(user: object, document: Document) -> bool:
    """Whether the user's changes to the live text can only be suggestions now (editor.suggestions):
    the stage lets their role suggest but not write. Those who may write the text decide them."""
    role = _role(user, document)
    if role is None:
        return False
    stage = _stage(document)
    return stage.mode in ("edit", "consultation") and role in stage.suggesters and role not in stage.editors


def role_in(user: object, document: Document) -> str | None:
    """"editor", "viewer", or None when the document is not visible at all (for the live text).
    An editor who `must_suggest` joins the live text in suggest-only mode."""
    if not can_read(user, document):
        return None
    return "editor" if can_write_text(user, document) or must_suggest(user, document) else "viewer"


def can_configure_assembly(user: object, document: Document) -> bool:
    """The assembly's rules, its members' groups and seats, sittings, their voting lists and minutes:
    administrators, in any stage (the rules are set before the assembly sits)."""
    return _role(user, document) == "admin"


def can_chair_sitting(user: object, document: Document) -> bool:
    """Run a sitting (attendance, open an item, open and close its vote, close the sitting): the
    presiding administrator, while the document takes amendments."""
    return can_preside(user, document)
