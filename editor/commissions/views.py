"""The commissions page of a document: each commission's units, members, the amendments it debated
(with their result in the commission) and its dictamen. Anyone who may read the document sees it;
commissions are set up and worked through the JSON API (editor.commissions.api) and the amendment
pages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from .. import permissions
from ..amendments.service import tally_of
from ..documents import get_document
from ..services import current_services
from .service import amendments_in, commissions_of, dictamen_of, working_text

bp = Blueprint("commissions", __name__)


@bp.route("/d/<slug>/commissions")
def index(slug: str):
    db = current_services().db
    document = get_document(db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    rows = []
    for commission in commissions_of(db, document):
        amendments = [a for a in amendments_in(db, commission)
                      if permissions.can_see_amendment(current_user, document, a)]
        rows.append({"commission": commission, "amendments": amendments, "dictamen": dictamen_of(db, commission),
                     "tallies": {a.id: tally_of(db, a) for a in amendments},
                     "changed": len(working_text(db, commission))})
    return render_template("commissions/index.html", document=document, rows=rows)
