"""A unit's history page with its one-click revert to a version, the same as JSON, and the
pinned numbers that no longer fit (editor.stages.revert, editor.stages.addresses)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from akoma_ntoso import ancestors, find_unit

from .. import permissions
from ..access import visible_document
from ..documents import get_document
from ..errors import DomainError
from ..inputs import whole_number
from ..livetext import read_live
from ..models import Document
from ..problems import Problem, handle_problems, request_json
from ..provenance.links import path_labels
from ..services import current_services
from .addresses import misplaced_json, misplaced_pins
from .history import amendment_numbers, unit_history
from .revert import RevertError, revert_unit
from .versions import live_text

bp = Blueprint("unit_history", __name__)
api = Blueprint("unit_history_api", __name__, url_prefix="/api/v1")
handle_problems(api)


def _same_wording(a, b) -> bool:
    return a is not None and b is not None and (a.heading, a.text) == (b.heading, b.text)


@bp.route("/d/<slug>/units/<key>/history")
def page(slug: str, key: str):
    """The unit's wording in every version and now, who changed it, and (for those who may
    write the live text) a revert button per version whose wording differs from today's."""
    document = visible_document(slug)
    services = current_services()
    live = read_live(services, slug)
    unit = find_unit(live.units, key)
    if unit is None:
        abort(404)
    if key != unit.guid:  # the page's address names the unit by its GUID, which never changes
        return redirect(url_for("unit_history.page", slug=slug, key=unit.guid))
    steps = unit_history(services, document, unit.guid, live=live_text(services, document, live))
    numbers = amendment_numbers(services.db, {e.amendment_id for s in steps for e in s.edits if e.amendment_id})
    return render_template(
        "stages/unit_history.html", document=document, unit=unit, steps=steps, amendment_numbers=numbers,
        ancestors=ancestors(live.units, unit.guid) or (), same_wording=_same_wording,
        unit_name=path_labels(live.units).get(unit.guid) or unit.label,  # "Artículo 1 1.", not "1."
        can_revert=permissions.can_write_text(current_user, document),
    )


@bp.route("/d/<slug>/units/<key>/revert", methods=["POST"])
def revert(slug: str, key: str):
    """Form: version (a number). Back to the history page, with what was done."""
    document = visible_document(slug)
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=url_for("unit_history.page", slug=slug, key=key))))
    if not permissions.can_write_text(current_user, document):
        abort(403)
    services = current_services()
    unit = find_unit(read_live(services, slug).units, key)
    if unit is None:
        abort(404)
    number = whole_number(request.form.get("version", ""), maximum=999_999_999)
    back = url_for("unit_history.page", slug=slug, key=unit.guid)
    if number is None:
        flash(gettext("Choose a version to go back to."), "error")
        return redirect(back), 303
    try:
        done = revert_unit(services, document, current_user, unit.guid, number)
    except RevertError as exc:
        services.db.rollback()
        flash(exc.message, "error")
        return redirect(back), 303
    if done.changed:
        flash(gettext("%(label)s now reads as in version %(number)d. Connected editors see it already.",
                      label=done.after.label or gettext("The preamble"), number=number), "info")
    else:
        flash(gettext("%(label)s already reads as in version %(number)d: nothing was changed.",
                      label=done.after.label or gettext("The preamble"), number=number), "info")
    return redirect(back), 303


# --- JSON -----------------------------------------------------------------------------------------


def _readable(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        raise Problem(404, gettext("There is no document %(slug)r available to you.", slug=slug))
    return document


def _unit_json(unit) -> dict:
    return {"guid": unit.guid, "eid": unit.eid, "label": unit.label, "heading": unit.heading, "text": unit.text}


@api.post("/documents/<slug>/units/<key>/revert")
def revert_api(slug: str, key: str):
    """Body: {"version": N}. The unit's own wording (heading, paragraphs, tables) as in version N."""
    document = _readable(slug)
    if not current_user.is_authenticated:
        raise Problem(401, gettext("Sign in first."))
    if not permissions.can_write_text(current_user, document):
        raise Problem(403, gettext("Your role may not do this in the document's current stage."))
    services = current_services()
    unit = find_unit(read_live(services, slug).units, key)
    if unit is None:
        raise Problem(404, gettext("There is no unit %(key)r in the live text.", key=key))
    data = request_json()
    number = data.get("version") if isinstance(data, dict) else None
    if isinstance(number, str):
        number = whole_number(number, maximum=999_999_999)
    if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 1_000_000_000:
        raise Problem(400, gettext("Send a JSON object with the version to go back to: {\"version\": 1}."))
    try:
        done = revert_unit(services, document, current_user, unit.guid, number)
    except DomainError as exc:
        services.db.rollback()
        raise Problem({"invalid": 400, "not-found": 404, "conflict": 409}.get(exc.kind, 400), exc.message) from None
    return jsonify({"guid": done.guid, "version": done.version, "changed": done.changed,
                    "before": _unit_json(done.before), "unit": _unit_json(done.after)})


@api.get("/documents/<slug>/pins")
def pins(slug: str):
    """Pinned numbers that no longer fit where their units stand ("3 Bis" not after Artículo 3)."""
    document = _readable(slug)
    units = read_live(current_services(), document.slug).units
    return jsonify({"misplaced": misplaced_json(misplaced_pins(units))})


def _path(summary: str, method: str = "get", body: dict | None = None, responses: dict | None = None,
          key: bool = True) -> dict:
    params = ["slug", "key"] if key else ["slug"]
    operation: dict = {
        "summary": summary,
        "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params],
        "responses": responses or {"200": {"description": "ok"}, "404": {"description": "no such document"}},
    }
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {method: operation}


OPENAPI_PATHS = {
    "/api/v1/documents/{slug}/units/{key}/revert": _path(
        "Revert the unit's own wording (heading, paragraphs, tables; not its sub-units, number or place) to a "
        "frozen version, in the live text, attributed and audited (text.revert)",
        method="post",
        body={"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}}},
        responses={"200": {"description": "done (changed: false when it already read so)"},
                   "400": {"description": "no version given, or the unit did not exist in that version"},
                   "401": {"description": "not signed in"},
                   "403": {"description": "may not write the live text in this stage"},
                   "404": {"description": "no such document, unit or version"},
                   "409": {"description": "the wording cannot be put back in the text as it stands"}}),
    "/api/v1/documents/{slug}/pins": _path(
        "Pinned numbers that no longer fit where their units stand (e.g. 3 Bis not right after Artículo 3)",
        key=False),
}
