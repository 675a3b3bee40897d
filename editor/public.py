"""Pages for people: the document list, the reading view, a unit's page, and the live editor."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from akoma_ntoso import ancestors, find_unit
from akoma_ntoso.render import render_units

from . import cache, clock, permissions
from .access import visible_document
from .accounts import palette_colour
from .inputs import whole_number
from .livetext import read_live
from .models import Document
from .participation.session import current_participant
from .participation.views import unit_section
from .process.timeline import standing
from .provenance.summaries import link_counts
from .provenance.views import unit_why
from .security import local_path
from .services import current_services
from .stages.addresses import former_holder, misplaced_pins
from .stages.history import amendment_numbers, unit_history
from .stages.versions import live_text

bp = Blueprint("public", __name__)


@bp.app_template_global()
def units_html(units, slug: str, provenance_counts: dict | None = None) -> Markup:
    """The reading markup of `units` (akoma_ntoso.render), with permalinks to their own pages.

    With `provenance_counts` (GUID → {"petition": n, "theme": n, "event": n}), each linked unit
    says how many petitions, themes and events it comes from, linking to its "why" section.
    """
    annotate = None
    if provenance_counts:
        def annotate(unit) -> str:
            counts = provenance_counts.get(unit.guid)
            if not counts:
                return ""
            parts = [
                text
                for kind, text in (
                    ("petition", ngettext("%(num)d petition", "%(num)d petitions", counts["petition"])),
                    ("theme", ngettext("%(num)d survey theme", "%(num)d survey themes", counts["theme"])),
                    ("event", ngettext("%(num)d citizen event", "%(num)d citizen events", counts["event"])),
                )
                if counts[kind]
            ]
            href = url_for("public.unit", slug=slug, eid=unit.eid) + "#why"
            return str(Markup(' <a class="why-badge" href="{}">{}</a>').format(href, " · ".join(parts)))

    return Markup(
        render_units(
            units,
            link=lambda unit: url_for("public.unit", slug=slug, eid=unit.eid),
            permalink_label=lambda unit: gettext("Permalink to %(label)s", label=unit.label or unit.eid),
            preamble_label=gettext("Preamble"),
            annotate=annotate,
            transitional_label=gettext("Transitional provisions"),
        )
    )


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says (e.g. the standalone HTML export)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/")
def index():
    """The front door: every document the visitor may read, with where its process stands."""
    db = current_services().db
    documents = [d for d in db.scalars(select(Document).order_by(Document.title)) if permissions.can_read(current_user, d)]
    today = clock.now().date()
    return render_template("index.html", documents=[(d, standing(db, d, today)) for d in documents])


@bp.route("/d/<slug>")
def document(slug: str):
    document = visible_document(slug)
    return cache.page(document, lambda: _document_page(document, slug))


def _document_page(document: Document, slug: str):
    live = read_live(cache.reader(current_services()), slug)

    return render_template(
        "document.html",
        document=document,
        units=live.units,
        provenance_counts=link_counts(current_services().db, document),
        can_edit=permissions.can_write_text(current_user, document),
    )


@bp.route("/d/<slug>/edit")
def edit(slug: str):
    document = visible_document(slug)
    role = permissions.role_in(current_user, document)
    if current_user.is_authenticated:
        name, colour = current_user.name, palette_colour(current_user.id)
    else:
        name, colour = None, "#475569"
    return render_template("edit.html", document=document, role=role, user_name=name, user_colour=colour,
                           can_comment=permissions.can_comment(current_user, document),
                           suggest_only=role == "editor" and permissions.must_suggest(current_user, document))


@bp.route("/d/<slug>/<eid>")
def unit(slug: str, eid: str):
    document = visible_document(slug)
    if current_participant() is not None:  # their page shows their own comments waiting for moderation
        return _unit_page(document, slug, eid)
    return cache.page(document, lambda: _unit_page(document, slug, eid))


def _unit_page(document: Document, slug: str, eid: str):
    live = read_live(cache.reader(current_services()), slug)
    db = current_services().db
    if "version" in request.args:  # what the eId named in that version, at its address today
        number = whole_number(request.args["version"], maximum=999_999_999)
        former = former_holder(db, document, eid, live.units, version=number) if number is not None else None
        if former is None:
            abort(404)
        # Permanent, so to the unit's GUID address, which never changes (it sends on to today's eId).
        return redirect(url_for("public.unit", slug=slug, eid=former[1].guid), 301)
    found = find_unit(live.units, eid)
    if found is None:  # an old address (renumbered or moved): the unit it named, where it is now
        former = former_holder(db, document, eid, live.units)
        if former is None:
            abort(404)
        # Not permanent: the address may name a unit again after the next renumbering.
        return redirect(url_for("public.unit", slug=slug, eid=former[1].eid), 302)
    if found.eid != eid:  # reached by GUID: send people to the readable permalink
        return redirect(url_for("public.unit", slug=slug, eid=found.eid))
    # The current unit wins; where the address named another unit in a version, the page says so.
    formerly = former_holder(db, document, eid, live.units, other_than=found.guid)
    may_write = permissions.can_write_text(current_user, document)
    misplaced = [m for m in misplaced_pins(live.units) if m.unit.guid == found.guid] if may_write else []

    provenance, why = unit_why(document, live, found)
    history = unit_history(current_services(), document, found.guid,
                           live=live_text(current_services(), document, live))
    amendments = amendment_numbers(current_services().db,
                                   {e.amendment_id for step in history for e in step.edits})
    return render_template(
        "unit.html", document=document, unit=found, ancestors=ancestors(live.units, found.guid),
        why=why, provenance=provenance, counts=link_counts(current_services().db, document),
        history=history, amendment_numbers=amendments, formerly=formerly, can_revert=may_write,
        misplaced=misplaced, **unit_section(document, found, live.units),
    )


@bp.route("/lang/<code>", methods=["POST"])
def choose_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(400)
    target = local_path(request.form.get("next")) or "/"
    response = redirect(target)
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
