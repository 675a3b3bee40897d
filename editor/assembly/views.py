"""Pages of the assembly: its rules and members (administrators), the sittings, the chair's page
that runs a sitting, and the public view of a sitting, which follows it live.

The public view listens on `…/listen` (a WebSocket to which the server pushes the sitting's
stamp when it changes, editor/assembly/watch.py; if it cannot listen, it polls `…/estado`, the
same small JSON, every 0.7 s: web/static/session.js) and, when the stamp changes, fetches
`…/vivo` (the live part of the page) and swaps it in, announcing the latest decision in an
aria-live region.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from akoma_ntoso import iter_units

from .. import permissions
from ..amendments.models import CHOICES
from ..amendments.service import AmendmentError, choice_label, tally_of, unit_citation, unit_index, votes_of
from ..amendments.views import proposal_rows
from ..documents import get_document
from ..live import accept_listener
from ..livetext import read_live
from ..models import Document
from ..problems import status_of
from ..redline import DELETE, INSERT, Change, redline_html, word_diff
from ..services import current_services
from ..stages.current import current_stage_of, stage_name, stages_of
from . import rules as assembly_rules
from . import service, watch
from .api import run
from .majority import MAJORITIES, QUORUM_KINDS
from .models import SEATS
from .service import AssemblyError

bp = Blueprint("assembly", __name__)


def _document(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    return document


def _sitting(document: Document, number: int):
    sitting = service.get_sitting(current_services().db, document, number)
    if sitting is None:
        abort(404)
    return sitting


def _refused(exc) -> tuple[str, int]:
    current_services().db.rollback()
    return render_template("error.html", message=exc.message), status_of(exc)


def _signed_in_configurer(document: Document):
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.path)))
    if not permissions.can_configure_assembly(current_user, document):
        abort(403)


@bp.app_template_global()
def majority_label(majority: str) -> str:
    return assembly_rules.majority_name(majority)


@bp.app_template_global()
def sitting_state_label(state: str) -> str:
    return {"planned": _("Not yet open"), "open": _("In session"), "closed": _("Adjourned")}.get(state, state)


@bp.app_template_global()
def item_state_label(item_state: str, amendment_state: str) -> str:
    """Where an item of the voting list stands (once done, what became of its amendment)."""
    if item_state == "done" or amendment_state not in ("tabled", "debate"):
        return {"adopted": _("adopted"), "rejected": _("rejected"), "fallen": _("fallen"),
                "withdrawn": _("withdrawn")}.get(amendment_state, amendment_state)
    return {"pending": _("waiting"), "debate": _("under debate"), "voting": _("vote open")}.get(item_state, item_state)


@bp.app_template_global()
def sittings_of_amendment(amendment) -> list:
    """The sittings (open or closed: their public view exists) whose voting list holds the amendment."""
    return service.sittings_with(current_services().db, amendment.id)


def seat_label(seat: str) -> str:
    return {"elected": _("elected"), "designated": _("designated")}.get(seat, seat)


def quorum_label(kind: str) -> str:
    return {"none": _("no quorum"), "count": _("a number of members"), "share": _("a share of all members")}.get(kind,
                                                                                                                 kind)


# --- the rules -----------------------------------------------------------------------------------


def _rules_form() -> dict:
    form = request.form
    return {"quorum": {"kind": form.get("quorum_kind", "none"), "count": form.get("quorum_count") or 0,
                       "share": form.get("quorum_share") or 0.5},
            "majority": form.get("majority", "simple"),
            "majority_by_kind": {k: form.get(f"majority_{k}", "") for k in ("substitution", "insertion", "deletion")},
            "votes_changeable": form.get("votes_changeable") == "1",
            "abstentions": form.get("abstentions") == "1",
            "tabling_deadlines": {key[len("deadline_"):]: value for key, value in form.items()
                                  if key.startswith("deadline_")}}


@bp.route("/d/<slug>/assembly", methods=["GET", "POST"])
def rules_page(slug: str):
    document = _document(slug)
    _signed_in_configurer(document)
    db = current_services().db
    problem, status = None, 200
    if request.method == "POST":
        try:
            if request.form.get("member"):
                service.set_member(db, document, current_user, request.form.get("member"),
                                   request.form.get("group", ""), request.form.get("seat", "elected"))
                flash(_("The member's group and seat were saved."), "info")
            else:
                service.save_rules(db, document, current_user, _rules_form())
                flash(_("The assembly's rules were saved."), "info")
            return redirect(url_for("assembly.rules_page", slug=slug), 303)
        except AssemblyError as exc:
            db.rollback()
            if status_of(exc) in (401, 403):
                return _refused(exc)
            problem, status = exc.message, status_of(exc)
    rules = assembly_rules.rules_of(db, document)
    stages = [(stage.key, stage_name(stage)) for stage in stages_of(db, document)]
    return render_template(
        "assembly/rules.html", document=document, rules=rules, summary=service.rules_dict(db, document),
        deadlines={k: v.strftime("%Y-%m-%dT%H:%M") for k, v in assembly_rules.deadlines_of(rules).items()},
        stages=stages, majorities=MAJORITIES, quorum_kinds=QUORUM_KINDS, seats=SEATS, seat_label=seat_label,
        quorum_label=quorum_label, problem=problem), status


# --- sittings ------------------------------------------------------------------------------------


@bp.route("/d/<slug>/sittings", methods=["GET", "POST"])
def sittings(slug: str):
    document = _document(slug)
    db = current_services().db
    problem, status = None, 200
    if request.method == "POST":
        _signed_in_configurer(document)
        try:
            sitting = service.create_sitting(db, document, current_user, request.form)
        except AssemblyError as exc:
            db.rollback()
            problem, status = exc.message, status_of(exc)
        else:
            flash(_("Sitting %(n)d was planned.", n=sitting.number), "info")
            return redirect(url_for("assembly.chair", slug=slug, number=sitting.number), 303)
    return render_template("assembly/sittings.html", document=document, sittings=service.sittings_of(db, document),
                           can_configure=permissions.can_configure_assembly(current_user, document),
                           problem=problem), status


def _chair_message(action: str) -> str:
    return {"open": _("The sitting is open."),
            "close": _("The sitting is closed and its text published as a version.")}.get(action, "")


@bp.route("/d/<slug>/sittings/<int:number>/chair", methods=["GET", "POST"])
def chair(slug: str, number: int):
    document = _document(slug)
    _signed_in_configurer(document)
    services = current_services()
    db = services.db
    found = _sitting(document, number)
    problem, status = None, 200
    conflicts: list = []
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "attendance":
                service.set_attendance(db, document, found, current_user, request.form.getlist("present"))
                flash(_("Attendance saved."), "info")
            elif action == "agenda":
                service.build_agenda(services, document, found, current_user)
                flash(_("The voting list was updated."), "info")
            elif action == "minutes":
                service.save_minutes(db, document, found, current_user, request.form.get("minutes", ""))
                flash(_("The minutes were saved."), "info")
            else:
                run(services, document, found, action, request.form.get("amendment"))
                if action == "close_vote":
                    flash(service.rows_by_number(db, found)[int(request.form["amendment"])].announcement, "info")
                elif _chair_message(action):
                    flash(_chair_message(action), "info")
            return redirect(url_for("assembly.chair", slug=slug, number=number), 303)
        except (AssemblyError, AmendmentError) as exc:
            db.rollback()
            if status_of(exc) in (401, 403):
                return _refused(exc)
            problem, status = exc.message, status_of(exc)
            conflicts = getattr(exc, "conflicts", [])
            db.refresh(found)
    members = assembly_rules.members_of(db, document)
    rules = assembly_rules.rules_of(db, document)
    present = service.present_ids(db, found)
    return render_template(
        "assembly/chair.html", document=document, sitting=found, rows=service.rows_of(db, found), members=members,
        seats=assembly_rules.seats_of(db, document), present=present,
        quorum=assembly_rules.quorum_of(rules, len(members)), current=service.current_item(found),
        minutes_lines=service.minutes_lines(db, found), problem=problem, conflicts=conflicts,
        tallies={r.amendment.id: tally_of(db, r.amendment) for r in service.rows_of(db, found) if r.item.state == "voting"},
        in_stage=permissions.in_amendment_stage(document), stage_key=current_stage_of(document).key), status


# --- the public view -----------------------------------------------------------------------------


def _redline_rows(document: Document, amendment, index: dict) -> list[dict]:
    """The amendment page's redline of each target; an insertion shows the new unit inserted."""
    rows = proposal_rows(document, amendment, index)
    if amendment.kind == "insertion":
        for row in rows:
            row["heading"] = redline_html([Change(INSERT, amendment.new_heading)] if amendment.new_heading else [])
            row["text"] = redline_html([Change(INSERT, amendment.new_text)] if amendment.new_text else [])
    return rows


def _live_units(document: Document, units, changed: dict) -> list[dict]:
    """The live text, unit by unit, with what this sitting's adoptions changed marked."""
    index = unit_index(units)
    shown = []
    for unit in iter_units(units):
        change = changed.get(unit.guid)
        text: Markup | str = unit.text
        heading: Markup | str = unit.heading
        if change is not None and change.type == "substitution":
            text = redline_html(word_diff(change.old_text or "", unit.text))
            heading = redline_html(word_diff(change.old_heading or "", unit.heading))
        elif change is not None and change.type == "insertion":
            text = redline_html([Change(INSERT, unit.text)] if unit.text else [])
            heading = redline_html([Change(INSERT, unit.heading)] if unit.heading else [])
        shown.append({"guid": unit.guid, "eid": unit.eid, "name": unit_citation(index[unit.guid], document.language),
                      "heading": heading, "text": text, "changed": change is not None,
                      "depth": len(index[unit.guid].path) - 1})
    return shown


def _state(document: Document, sitting, live=None, stamp: str | None = None) -> dict:
    """What the public view shows; `live` and `stamp`: the live text and stamp, if already read."""
    services = current_services()
    db = services.db
    units = (live or read_live(services, document.slug)).units
    index = unit_index(units)
    rows = service.rows_of(db, sitting)
    current = next((r for r in rows if r.item.state in ("debate", "voting")), None)
    decided = [r for r in rows if r.item.state == "done"]
    decided.sort(key=lambda r: (r.item.decided_at is not None, r.item.decided_at), reverse=True)
    last = next((r for r in decided if r.outcome is not None), None)
    roll_call = []
    if last is not None:
        seats = assembly_rules.seats_of(db, document)
        votes = votes_of(db, last.amendment)
        for choice in CHOICES:
            names = [(v.user_name, seats[v.user_id].group_name if v.user_id in seats else "")
                     for v in votes if v.choice == choice]
            roll_call.append({"choice": choice, "label": choice_label(choice), "names": names})
    changed = {}
    removed = []
    for row in rows:
        if row.amendment.state == "adopted":
            for change in service.changes_for(db, row.amendment):
                if change.type == "repeal":
                    removed.append({"amendment": row.amendment.number, "name": change.label_before,
                                    "heading": redline_html([Change(DELETE, change.old_heading)]
                                                            if change.old_heading else []),
                                    "text": redline_html([Change(DELETE, change.old_text)] if change.old_text else [])})
                else:
                    changed[change.guid] = change
    return {"rows": rows, "current": current,
            "current_redline": _redline_rows(document, current.amendment, index) if current else [],
            "last": last, "roll_call": roll_call, "announcement": decided[0].announcement if decided else "",
            "announcements": [r.announcement for r in decided if r.announcement],
            "units": _live_units(document, units, changed), "removed": removed,
            "stamp": stamp if stamp is not None else service.stamp_of(db, sitting)}


def _public_sitting(slug: str, number: int):
    document = _document(slug)
    sitting = _sitting(document, number)
    if sitting.state == "planned" and not permissions.can_configure_assembly(current_user, document):
        abort(404)
    return document, sitting


@bp.route("/d/<slug>/sesion/<int:number>")
def public(slug: str, number: int):
    document, found = _public_sitting(slug, number)
    return render_template("assembly/public.html", document=document, sitting=found, **_state(document, found))


#: The live parts last rendered: (document, sitting, stamp, language) -> (the live text read, HTML).
#: When the stamp changes every reader of the public view fetches the live part at once; it is
#: rendered once for them all (it depends on nothing about the reader but the language).
_LIVE_PARTS: OrderedDict[tuple, tuple[object, str]] = OrderedDict()
_LIVE_PARTS_KEPT = 32
_live_parts_lock = threading.Lock()


@bp.route("/d/<slug>/sesion/<int:number>/vivo")
def public_live(slug: str, number: int):
    document, found = _public_sitting(slug, number)
    services = current_services()
    live = read_live(services, document.slug)  # the same reading while the text does not change
    stamp = service.stamp_of(services.db, found)
    key = (document.id, found.number, stamp, str(get_locale()))
    with _live_parts_lock:
        kept = _LIVE_PARTS.get(key)
    if kept is not None and kept[0] is live:
        return kept[1]
    html = render_template("assembly/_live.html", document=document, sitting=found,
                           **_state(document, found, live=live, stamp=stamp))
    with _live_parts_lock:
        _LIVE_PARTS[key] = (live, html)
        _LIVE_PARTS.move_to_end(key)
        while len(_LIVE_PARTS) > _LIVE_PARTS_KEPT:
            _LIVE_PARTS.popitem(last=False)
    return html


@bp.route("/d/<slug>/sesion/<int:number>/listen", websocket=True)
def public_listen(slug: str, number: int):
    """A WebSocket that follows the sitting: `{"stamp", "state"}` on joining and at each change."""
    _document_, found = _public_sitting(slug, number)
    return accept_listener(watch.room_of(found), on_join=watch.watch_of(current_app).listening)


@bp.route("/d/<slug>/sesion/<int:number>/estado")
def public_stamp(slug: str, number: int):
    _document_, found = _public_sitting(slug, number)
    response = jsonify({"stamp": service.stamp_of(current_services().db, found), "state": found.state})
    response.headers["Cache-Control"] = "no-store"
    return response
