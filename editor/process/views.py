"""Public pages of a document's process: the process page, the petitions' results and the
dashboard. Anyone who may read the document reads them (drafts: 404 to the public)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l

from .. import clock
from ..access import visible_document
from ..livetext import read_live
from ..models import Document
from ..provenance.links import path_labels
from ..provenance.summaries import Provenance
from ..report import OUTCOME_LABELS, ReportError, build_report, parse_week
from ..report import page_context as report_context  # the dashboard is the report's public part
from ..services import current_services
from ..stages.current import MODE_NAMES
from .accountability import STATUSES, results
from .timeline import latest_changes, participation, standing

bp = Blueprint("process", __name__)

DOCTYPE_NAMES = {"bill": _l("Bill (a draft)"), "act": _l("Act (in force)")}
STATUS_NAMES = {
    "incorporated": _l("Incorporated into the text"),
    "removed": _l("Its clauses are no longer in the text"),
    "not_incorporated": _l("Not incorporated"),
    "pending": _l("Not linked to the text yet"),
}


@bp.app_template_global()
def review_outcome_label(outcome: str) -> str:
    """A petitioner review's outcome in words (the weekly report's names for them)."""
    return str(OUTCOME_LABELS.get(outcome, outcome))


@bp.route("/d/<slug>/process")
def page(slug: str):
    """What the process is, where it stands, what anyone can do now, what the public has given it
    and how the text changed lately: the document's front door."""
    document = visible_document(slug)
    db = current_services().db
    where = standing(db, document)
    return render_template(
        "process/page.html", document=document, where=where, figures=participation(db, document),
        latest=latest_changes(db, document), stage_names={s.stage.key: s.name for s in where.steps},
        mode_names=MODE_NAMES, doctype=DOCTYPE_NAMES.get(document.doctype, document.doctype),
    )


@bp.route("/d/<slug>/petitions/results")
def petition_results(slug: str):
    """Every petition over a threshold with what became of it (the case study's table, live)."""
    document = visible_document(slug)
    services = current_services()
    live = read_live(services, slug)
    provenance = Provenance.load(services.db, document)
    rows = results(services, document, provenance, live.units)
    return render_template(
        "process/results.html", document=document, rows=rows, statuses=STATUSES, status_names=STATUS_NAMES,
        counts={s: sum(1 for r in rows if r.status == s) for s in STATUSES}, labels=path_labels(live.units),
    )


@bp.route("/d/<slug>/dashboard")
def dashboard(slug: str):
    """The weekly report's aggregate, anonymous sections for everyone; `?week=2016-W32` for another week."""
    document = visible_document(slug)
    asked = request.args.get("week")
    context = _dashboard_context(document, asked)
    if not asked and context["latest_active"] is not None:
        # Nothing happened this week yet: open on the latest week that has figures, and say so.
        context = {**_dashboard_context(document, context["latest_active"].key), "shown_latest": True}
    return render_template("process/dashboard.html", **context)


def _dashboard_context(document: Document, week_key: str | None) -> dict:
    """The weekly report of `week_key` (this week when None) and its page context; the dashboard
    template shows only its aggregate, anonymous sections."""
    try:
        week = parse_week(week_key, clock.now().date())
    except ReportError as exc:
        abort(Response(render_template("error.html", message=str(exc)), 400))
    report = build_report(current_services(), document, week)
    return {**report_context(report), "for_pdf": False, "shown_latest": False}
