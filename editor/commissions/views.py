"""The commissions page of a document: each commission's units, members, the amendments it debated
(with their result in the commission) and its dictamen. Anyone who may read the document sees it;
the presiding administrator sets commissions up there (or through the JSON API,
editor.commissions.api); they work through the amendment pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import permissions
from ..amendments.service import AmendmentError, tally_of
from ..amendments.views import unit_options
from ..assembly.rules import members_of
from ..documents import get_document
from ..livetext import read_live
from ..problems import status_of
from ..services import current_services
from .service import amendments_in, commissions_of, create_commission, dictamen_of, working_text

bp = Blueprint("commissions", __name__)


@bp.route("/d/<slug>/commissions", methods=["GET", "POST"])
def index(slug: str):
    services = current_services()
    db = services.db
    document = get_document(db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    problem, status, form = None, 200, {}
    if request.method == "POST":
        form = {"name": request.form.get("name", ""), "units": [u for u in request.form.getlist("unit") if u],
                "members": [m for m in request.form.getlist("member") if m]}
        try:
            made = create_commission(services, document, current_user, form)
        except AmendmentError as exc:
            db.rollback()
            if status_of(exc) in (401, 403):
                abort(status_of(exc))
            problem, status = exc.message, status_of(exc)
        else:
            flash(_("Commission %(name)s was set up.", name=made.name), "info")
            return redirect(url_for("commissions.index", slug=slug, _anchor=f"commission-{made.number}"), 303)
    presiding = permissions.can_preside(current_user, document)
    rows = []
    for commission in commissions_of(db, document):
        amendments = [a for a in amendments_in(db, commission)
                      if permissions.can_see_amendment(current_user, document, a)]
        rows.append({"commission": commission, "amendments": amendments, "dictamen": dictamen_of(db, commission),
                     "tallies": {a.id: tally_of(db, a) for a in amendments},
                     "changed": len(working_text(db, commission))})
    setup = None
    if presiding:  # the form to set one up: the units of the text and the assembly's members
        setup = {"options": unit_options(read_live(services, slug).units, document.language),
                 "members": members_of(db, document), "form": form}
    return render_template("commissions/index.html", document=document, rows=rows, setup=setup,
                           problem=problem), status
