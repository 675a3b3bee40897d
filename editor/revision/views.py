"""Pages for loading a revised draft: upload, preview and correct the matching, confirm."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from .. import audit, permissions
from ..access import staff_document
from ..interchange import IMPORTERS, format_for
from ..livetext import read_live
from ..provenance.links import path_labels
from ..services import current_services
from .service import NEW, RevisionError, apply_revision, forget_upload, keep_upload, pending_upload, plan_revision, read_revision

bp = Blueprint("revision", __name__)


def _upload_page(document, problem: str | None = None, status: int = 200):
    return render_template("revision/upload.html", document=document, importers=IMPORTERS, problem=problem), status


def how_label(how: str) -> str:
    """Why a unit of the revised text was taken for an old one, as the preview says it."""
    return {
        "guid": gettext("the same unit"), "exact": gettext("same wording"),
        "own": gettext("same heading and own words"), "similar": gettext("similar wording"),
        "position": gettext("same place among its neighbours"), "children": gettext("holds the same sub-units"),
        "corrected": gettext("chosen by you"),
    }.get(how, "")


def _preview(document, plan, token: str, problem: str | None = None, status: int = 200):
    changes = [c for c in plan.comparison.changes if c.statuses != ["renumbered"]]
    renumbered_only = [c for c in plan.comparison.changes if c.statuses == ["renumbered"]]
    labels = {"old": path_labels(plan.old_units), "new": path_labels(plan.units)}

    def parts_of(change) -> str:
        side = labels["new"] if "split" in change.statuses else labels["old"]
        return ", ".join(side.get(u.guid) or u.label for u in change.parts)

    return render_template("revision/preview.html", document=document, plan=plan, token=token, changes=changes,
                           renumbered_only=renumbered_only, counts=plan.counts(), NEW=NEW, problem=problem,
                           labels=labels, parts_of=parts_of, how_label=how_label), status


@bp.route("/d/<slug>/revision", methods=["GET", "POST"])
def upload(slug: str):
    """The form for a revised text; posted, the preview of how it matches the live text."""
    document = staff_document(slug, permissions.can_load_revision)
    if request.method == "GET":
        return _upload_page(document)
    upload_file = request.files.get("file")
    data = upload_file.read() if upload_file and upload_file.filename else (request.form.get("text") or "").encode("utf-8")
    fmt = format_for(upload_file.filename if upload_file and upload_file.filename else None,
                     default=request.form.get("format") or None)
    try:
        built = read_revision(document, data, fmt)
        plan = plan_revision(read_live(current_services(), slug), built)
    except RevisionError as exc:
        return _upload_page(document, str(exc), 400)
    token = keep_upload(document, current_user, data, fmt, plan)
    return _preview(document, plan, token)


@bp.route("/d/<slug>/revision/confirm", methods=["POST"])
def confirm(slug: str):
    """Check the corrected matching again (`action=check`), or load the text (`action=load`)."""
    document = staff_document(slug, permissions.can_load_revision)
    services = current_services()
    token = request.form.get("token", "")
    try:
        pending = pending_upload(token, document, current_user)
    except RevisionError as exc:
        return _upload_page(document, str(exc), 400)
    corrections: dict[int, str] = {}
    for name, value in request.form.items():
        if name.startswith("m-") and name[2:].isdigit():
            corrections[int(name[2:])] = value
    try:
        built = read_revision(document, pending.data, pending.fmt)
        live = read_live(services, slug)
        plan = plan_revision(live, built, corrections)
    except RevisionError as exc:
        return _upload_page(document, str(exc), 400)
    if plan.fingerprint != pending.fingerprint:
        forget_upload(pending)
        return _upload_page(document, gettext("The live text changed since this preview was made; load the revised "
                                              "text again."), 409)
    if request.form.get("action") != "load":
        return _preview(document, plan, token)
    try:
        applied = apply_revision(services, document, current_user, plan,
                                 save_before=bool(request.form.get("save_before")),
                                 save_after=bool(request.form.get("save_after")),
                                 actor=audit.actor_of(current_user, document))
    except RevisionError as exc:
        return _preview(document, plan, token, str(exc), 409)
    forget_upload(pending)
    counts = plan.counts()
    message = ngettext("The revised draft is now the live text: %(kept)d units kept their identity, %(num)d is new.",
                       "The revised draft is now the live text: %(kept)d units kept their identity, %(num)d are new.",
                       counts["new"], kept=counts["kept"])
    if applied.before:
        message += " " + gettext("The text as it stood was saved as version %(number)d.", number=applied.before)
    flash(message, "success")
    if applied.before:  # what changed, from the version saved before
        return redirect(url_for("stages.compare_page", slug=slug) + f"?from={applied.before}&to=live")
    return redirect(url_for("stages.overview", slug=slug))
