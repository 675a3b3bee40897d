"""Pages for people: the document list, the reading view, a unit's page, and the live editor."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from flask_login import current_user
from sqlalchemy import select

from akoma_ntoso import find_unit
from akoma_ntoso.render import render_units

from . import current_services, permissions
from .accounts import palette_colour
from .documents import get_document, read_live
from .models import Document

bp = Blueprint("public", __name__)


@bp.app_template_global()
def units_html(units, slug: str) -> Markup:
    """The reading markup of `units` (akoma_ntoso.render), with permalinks to their own pages."""
    return Markup(
        render_units(
            units,
            link=lambda unit: url_for("public.unit", slug=slug, eid=unit.eid),
            permalink_label=lambda unit: gettext("Permalink to %(label)s", label=unit.label or unit.eid),
            preamble_label=gettext("Preamble"),
        )
    )


def _visible_document(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)  # drafts are invisible, not forbidden, to those who may not read them
    return document


@bp.route("/")
def index():
    db = current_services().db
    documents = [d for d in db.scalars(select(Document).order_by(Document.title)) if permissions.can_read(current_user, d)]
    return render_template("index.html", documents=documents)


@bp.route("/d/<slug>")
def document(slug: str):
    document = _visible_document(slug)
    live = read_live(current_services(), slug)
    return render_template(
        "document.html",
        document=document,
        units=live.units,
        can_edit=permissions.can_edit(current_user, document),
    )


@bp.route("/d/<slug>/edit")
def edit(slug: str):
    document = _visible_document(slug)
    role = permissions.role_in(current_user, document)
    if current_user.is_authenticated:
        name, colour = current_user.name, palette_colour(current_user.id)
    else:
        name, colour = None, "#475569"
    return render_template("edit.html", document=document, role=role, user_name=name, user_colour=colour)


@bp.route("/d/<slug>/<eid>")
def unit(slug: str, eid: str):
    document = _visible_document(slug)
    live = read_live(current_services(), slug)
    found = find_unit(live.units, eid)
    if found is None:
        abort(404)
    if found.eid != eid:  # reached by GUID: send people to the readable permalink
        return redirect(url_for("public.unit", slug=slug, eid=found.eid))
    return render_template("unit.html", document=document, unit=found, ancestors=_ancestors(live.units, found.guid))


def _ancestors(units, guid: str, trail: tuple = ()) -> tuple:
    """The units that contain the one with `guid`, outermost first."""
    for candidate in units:
        if candidate.guid == guid:
            return trail
        found = _ancestors(candidate.children, guid, trail + (candidate,))
        if found is not None:
            return found
    return None


@bp.route("/lang/<code>", methods=["POST"])
def choose_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(400)
    target = request.form.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = redirect(target)
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
