"""The editor as the drafting hub: what the pages around the live text need to know about the
reader and the document, asked of editor.permissions in one place.

`workspace(document)` (a template global) answers which of the document's places the reader may
open (the tabs of provenance/_tabs.html, on the reading pages and in the editor), whether they may
save a named version from the editor, and, when the live text is read-only for them, why: their
account, or the current stage (its mode and the roles it lets write). The editor's notice
(edit.html) turns those facts into the reason and the next step, in the reader's language.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from . import permissions
from .models import Document
from .roles import effective_role
from .stages.current import current_stage_of, stage_name

bp = Blueprint("workspace", __name__)

#: Account roles that never write the live text, whatever the stage.
READING_ACCOUNTS = ("viewer", "volunteer")


@bp.app_template_global()
def workspace(document: Document) -> dict:
    """The facts about `document` for the current reader (see the module's docstring).

    `readonly` is None when the reader may write the live text now; otherwise the reason, one of
    "signed-out", "account" (a reading or survey account), "amendments" (the stage changes the
    text only through adopted amendments), "closed" (the text is closed), or "stage" (the stage
    lets other roles write: `editors`)."""
    user = current_user
    role = effective_role(user, document)
    stage = current_stage_of(document)
    writable = permissions.can_write_text(user, document)
    readonly = None
    if not writable:
        if role is None:
            readonly = "signed-out"
        elif role in READING_ACCOUNTS:
            readonly = "account"
        elif stage.mode == "amendments":
            readonly = "amendments"
        elif stage.mode == "closed":
            readonly = "closed"
        else:
            readonly = "stage"
    return {
        "role": role,
        "writable": writable,
        "readonly": readonly,
        "stage": stage_name(stage),
        "mode": stage.mode,
        "editors": sorted(stage.editors),
        "can_table": permissions.can_table_amendment(user, document),
        "can_preside": permissions.can_preside(user, document),
        "can_comment": permissions.can_comment(user, document),
        "can_freeze": permissions.can_freeze_version(user, document),
        "can_review": permissions.can_manage_reviews(user, document),
    }
