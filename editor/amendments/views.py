"""Pages for amendments: the list of a document's amendments, writing one, one amendment with
its redline, sponsors, history, votes and conflicts, and the buttons its readers may press.

Forms post to the same rules as the JSON API (editor.amendments.service); a refusal re-renders
the page with the reason and the HTTP status, and changes nothing.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from akoma_ntoso import iter_units

from .. import permissions
from ..assembly import rules as assembly_rules
from ..commissions.models import Commission
from ..commissions.service import close_vote as commission_close
from ..commissions.service import open_debate as commission_debate
from ..commissions.service import reserve
from ..commissions.service import vote as commission_vote
from ..documents import get_document
from ..livetext import read_live
from ..models import Document, User
from ..problems import status_of
from ..redline import DELETE, INSERT, Change, redline_html, word_diff
from ..services import current_services
from ..stages.current import current_stage_of, stage_name
from .models import KINDS, POSITIONS, Amendment
from .service import (
    AmendmentError,
    amendments_of,
    announce,
    applied_targets,
    available_actions,
    bases_of,
    change_state,
    changes_of,
    check_bases,
    children_of,
    choice_label,
    create_amendment,
    get_amendment,
    history_of,
    identical_groups,
    identical_to,
    insertable_kinds,
    note_label,
    open_conflicts,
    parent_of,
    proposal_data,
    rebase,
    replaced_numbers,
    require_author,
    require_can_table,
    require_state_changer,
    revisions_of,
    split,
    table,
    tally_of,
    unit_citation,
    unit_index,
    units_for,
    update_amendment,
    vote,
    votes_of,
)

bp = Blueprint("amendments", __name__)

#: The order of the sections of the list page.
LIST_ORDER = ("debate", "tabled", "draft", "adopted", "rejected", "withdrawn", "fallen")


def _document(slug: str) -> Document:
    document = get_document(current_services().db, slug)
    if document is None or not permissions.can_read(current_user, document):
        abort(404)
    return document


def _amendment(document: Document, number: int) -> Amendment:
    amendment = get_amendment(current_services().db, document, number)
    if amendment is None or not permissions.can_see_amendment(current_user, document, amendment):
        abort(404)
    return amendment


@bp.app_template_global()
def amendment_kind_label(kind: str) -> str:
    return {"substitution": _("Substitution"), "insertion": _("Insertion"), "deletion": _("Deletion"),
            "dictamen": _("Commission report (dictamen)")}.get(kind, kind)


@bp.app_template_global()
def amendment_state_label(state: str) -> str:
    return {"draft": _("Draft"), "tabled": _("Tabled"), "debate": _("Under debate"), "adopted": _("Adopted"),
            "rejected": _("Rejected"), "withdrawn": _("Withdrawn"), "fallen": _("Fallen")}.get(state, state)


def unit_kind_label(kind: str) -> str:
    return {"title": _("Title"), "chapter": _("Chapter"), "article": _("Article"), "paragraph": _("Paragraph"),
            "subparagraph": _("Subparagraph"), "point": _("Point"), "indent": _("Indent"),
            "preamble": _("Preamble"), "transitional": _("Transitional provisions"), "attachment": _("Schedule"),
            "crossHeading": _("Cross-heading")}.get(kind, kind)


def position_label(position: str) -> str:
    return {"after": _("after"), "before": _("before"), "inside": _("inside, as its first sub-unit")}.get(position,
                                                                                                        position)


def placement(position: str) -> str:
    """Where an insertion goes, before the unit's name: "after" Artículo 3."""
    return {"after": _("after"), "before": _("before"), "inside": _("as the first sub-unit of")}.get(position, position)


def _stage_name(document: Document) -> str:

    return stage_name(current_stage_of(document))


# --- the list --------------------------------------------------------------------------------------


@bp.route("/d/<slug>/amendments")
def index(slug: str):
    document = _document(slug)
    db = current_services().db
    shown = [a for a in amendments_of(db, document) if permissions.can_see_amendment(current_user, document, a)]
    groups = [(state, [a for a in shown if a.state == state]) for state in LIST_ORDER]
    return render_template(
        "amendments/index.html", document=document, groups=groups, total=len(shown),
        conflicts=open_conflicts(db, document), can_table=permissions.can_table_amendment(current_user, document),
        in_stage=permissions.in_amendment_stage(document), stage=_stage_name(document),
        tallies={a.id: tally_of(db, a) for a in shown if a.state in ("debate", "adopted", "rejected")},
        identical={n: group for group in identical_groups(db, document) for n in group},
        parents={a.id: a.number for a in amendments_of(db, document)},
    )


# --- writing ---------------------------------------------------------------------------------------


def _form_data() -> dict:
    form = request.form
    kind = form.get("kind", "")
    units = [u for u in form.getlist("unit") if u]
    data: dict = {"kind": kind, "units": units, "justification": form.get("justification", ""),
                  "cosponsors": [c for c in form.getlist("cosponsor") if c]}
    if kind == "substitution":
        data["wording"] = [{"heading": form.get(f"heading_{i}", ""), "text": form.get(f"text_{i}", "")}
                           for i in range(len(units))]
        # An amendment to an amendment, or a compromise replacing others (only when writing a new one).
        if form.get("amends", "").strip():
            data["amends"] = form.get("amends", "").strip()
        replaces = [n for n in re.split(r"[\s,;]+", form.get("replaces", "")) if n]
        if replaces:
            data["replaces"] = replaces
    elif kind == "insertion":
        data.update(position=form.get("position", ""), new_kind=form.get("new_kind", ""),
                    heading=form.get("heading", ""), text=form.get("text", ""))
    return data


def unit_options(units, language: str) -> list[dict]:
    """The units of the text for a unit picker (web/templates/_unit_picker.html)."""
    index = unit_index(units)
    options = []
    for unit in iter_units(units):
        located = index[unit.guid]
        name = unit_citation(located, language)
        options.append({"guid": unit.guid, "eid": unit.eid, "depth": len(located.path) - 1,
                        "name": name + (f" · {unit.heading}" if unit.heading else "")})
    return options


def _members(document: Document) -> list[User]:
    """Assembly members who may co-sponsor, by name (the signed-in author left out)."""
    db = current_services().db
    users = db.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    me = current_user.id if current_user.is_authenticated else None
    return [u for u in users if u.id != me and permissions.can_table_amendment(u, document)]


def _writing_page(document: Document, data: dict, action_url: str, amendment: Amendment | None = None,
                  problem: str | None = None, status: int = 200):
    """Step 1 (no kind or units yet): choose them. Step 2: the wording, justification, sponsors."""
    services = current_services()
    units = read_live(services, document.slug).units
    index = unit_index(units)
    language = document.language
    chosen = [index[g] for g in data.get("units", []) if g in index]
    step = 2 if data.get("kind") in KINDS and chosen and len(chosen) == len(data.get("units", [])) else 1
    if request.method == "GET" and request.args.get("choose"):
        step = 1
    elif len(chosen) != len(data.get("units", [])) and not problem:
        problem = _("Some of the units chosen are no longer in the text; choose again.")
    if step == 2 and data["kind"] == "insertion" and len(chosen) != 1:
        step, problem = 1, problem or _("An insertion names exactly one unit: the one the new unit goes after, "
                                        "before or inside.")
    fields = []
    if step == 2 and data["kind"] == "substitution":
        wording = data.get("wording") or []
        for i, located in enumerate(chosen):
            given = wording[i] if i < len(wording) else {"heading": located.unit.heading, "text": located.unit.text}
            fields.append({"located": located, "name": unit_citation(located, language),
                           "heading": given.get("heading", ""), "text": given.get("text", ""), "i": i})
    kinds_by_position: dict = {}
    new_kinds: list = []
    if step == 2 and data["kind"] == "insertion":
        kinds_by_position = {p: [(k, unit_kind_label(k)) for k in insertable_kinds(chosen[0], p)] for p in POSITIONS}
        for p in ("after", "inside", "before"):
            new_kinds += [pair for pair in kinds_by_position[p] if pair not in new_kinds]
    return render_template(
        "amendments/write.html", document=document, amendment=amendment, data=data, step=step, problem=problem,
        options=unit_options(units, language), chosen=chosen, fields=fields, members=_members(document),
        chosen_names=[unit_citation(c, language) for c in chosen], kinds=KINDS, positions=POSITIONS,
        kinds_by_position=kinds_by_position, new_kinds=new_kinds, position_label=position_label, action_url=action_url,
        selected_cosponsors={str(c) for c in data.get("cosponsors", [])},
    ), status


def _require_writer(document: Document) -> None:
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.full_path if request.query_string else request.path)))


def _refusal_page(document: Document, exc: AmendmentError, data: dict, action_url: str,
                  amendment: Amendment | None = None):
    current_services().db.rollback()
    if status_of(exc) in (401, 403):
        return render_template("error.html", message=exc.message), status_of(exc)
    return _writing_page(document, data, action_url, amendment, problem=exc.message, status=status_of(exc))


@bp.route("/d/<slug>/amendments/new", methods=["GET", "POST"])
def new(slug: str):
    document = _document(slug)
    _require_writer(document)
    services = current_services()
    action_url = url_for("amendments.new", slug=slug)
    if not permissions.can_table_amendment(current_user, document):

        try:
            require_can_table(current_user, document)
        except AmendmentError as exc:
            return render_template("error.html", message=exc.message), status_of(exc)
    if request.method == "GET":
        data = {"kind": request.args.get("kind"), "units": [u for u in request.args.getlist("unit") if u],
                "cosponsors": []}
        if request.args.get("kind") is not None and not data["units"]:
            return _writing_page(document, data, action_url, problem=_("Choose at least one unit."), status=400)
        return _writing_page(document, data, action_url)
    data = _form_data()
    try:
        amendment = create_amendment(services, document, current_user, data)
        if request.form.get("submit") == "table":
            table(services, document, amendment, current_user, current_app.config)
    except AmendmentError as exc:
        return _refusal_page(document, exc, data, action_url)
    announce(services, document, amendment)
    flash(_("Amendment %(n)d was tabled.", n=amendment.number) if amendment.state == "tabled"
          else _("Amendment %(n)d was saved as a draft.", n=amendment.number), "info")
    return redirect(url_for("amendments.detail", slug=slug, number=amendment.number), 303)


@bp.route("/d/<slug>/amendments/<int:number>/edit", methods=["GET", "POST"])
def edit(slug: str, number: int):
    document = _document(slug)
    _require_writer(document)
    amendment = _amendment(document, number)
    services = current_services()
    action_url = url_for("amendments.edit", slug=slug, number=number)
    if not permissions.can_edit_amendment(current_user, document, amendment) or amendment.state != "draft":
        return render_template("error.html", message=_("Only the author changes an amendment, and only while it is a "
                                                       "draft in a stage that takes amendments.")), 403
    if request.method == "GET":
        data = proposal_data(amendment)
        if request.args.get("kind") is not None or request.args.getlist("unit"):
            data = {**data, "kind": request.args.get("kind"), "units": request.args.getlist("unit")}
            data.pop("wording", None)
        return _writing_page(document, data, action_url, amendment)
    data = _form_data()
    try:
        update_amendment(services, document, amendment, current_user, data)
        if request.form.get("submit") == "table":
            table(services, document, amendment, current_user, current_app.config)
    except AmendmentError as exc:
        return _refusal_page(document, exc, data, action_url, amendment)
    announce(services, document, amendment)
    flash(_("Amendment %(n)d was tabled.", n=amendment.number) if amendment.state == "tabled"
          else _("Amendment %(n)d was saved.", n=amendment.number), "info")
    return redirect(url_for("amendments.detail", slug=slug, number=number), 303)


# --- one amendment ---------------------------------------------------------------------------------


def proposal_rows(document: Document, amendment: Amendment, index: dict) -> list[dict]:
    """Per target: its wording now and the redline of the proposal against it."""
    rows = []
    for target in amendment.targets:
        located = index.get(target.guid)
        unit = located.unit if located else None
        heading = unit.heading if unit else (target.base_heading or "")
        text = unit.text if unit else (target.base_text or "")
        row = {"target": target, "unit": unit, "name": unit_citation(located, document.language) if located
               else (target.label or target.eid), "gone": unit is None}
        if amendment.kind in ("substitution", "dictamen"):
            row["heading"] = redline_html(word_diff(heading, target.new_heading))
            row["text"] = redline_html(word_diff(text, target.new_text))
        elif amendment.kind == "deletion":
            row["heading"] = redline_html([Change(DELETE, heading)] if heading else [])
            row["text"] = redline_html([Change(DELETE, text)] if text else [])
            row["sub_units"] = len(unit.children) if unit else 0
        else:
            row["heading"] = heading
            row["text"] = text
        rows.append(row)
    return rows


def _conflict_rows(conflicts) -> list[dict]:
    return [{"label": c.label, "eid": c.eid, "status": c.status, "heading": redline_html(c.heading),
             "text": redline_html(c.text), "below": redline_html(c.below) if c.below else None} for c in conflicts]


def _detail_page(document: Document, amendment: Amendment, problem: str | None = None, conflicts=None,
                 status: int = 200):
    services = current_services()
    db = services.db
    index = unit_index(read_live(services, document.slug).units)
    votes = votes_of(db, amendment)
    voted = current_user.is_authenticated and any(v.user_id == current_user.id for v in votes)
    changes = [{"change": c, "heading": redline_html(word_diff(c.old_heading or "", c.new_heading or "")),
                "text": redline_html(word_diff(c.old_text or "", c.new_text or ""))} for c in changes_of(db, amendment)]
    insertion = None
    if amendment.kind == "insertion":
        insertion = {"kind": unit_kind_label(amendment.new_kind), "position": placement(amendment.position),
                     "heading": redline_html([Change(INSERT, amendment.new_heading)] if amendment.new_heading else []),
                     "text": redline_html([Change(INSERT, amendment.new_text)] if amendment.new_text else [])}
    return render_template(
        "amendments/detail.html", document=document, amendment=amendment, rows=proposal_rows(document, amendment, index),
        insertion=insertion, history=history_of(db, amendment), votes=votes, tally=tally_of(db, amendment),
        flags=open_conflicts(db, document).get(amendment.id, []), changes=changes,
        actions=available_actions(current_user, document, amendment, voted), voted=voted,
        vote_rules=assembly_rules.rules_of(db, document),
        majority=assembly_rules.majority_for(assembly_rules.rules_of(db, document), amendment.kind),
        problem=problem, adoption_conflicts=_conflict_rows(conflicts or []), choice_label=choice_label,
        in_stage=permissions.in_amendment_stage(document), stage=_stage_name(document),
        note_label=note_label, revisions=_revision_rows(db, amendment), parent=parent_of(db, amendment),
        replaces=replaced_numbers(amendment), sub_amendments=children_of(db, amendment),
        identical=identical_to(db, document, amendment) if amendment.state in ("tabled", "debate") else [],
        can_rebase=_can_rebase(services, document, amendment),
        can_split=(permissions.can_preside(current_user, document) and amendment.state == "tabled"
                   and amendment.kind in ("substitution", "dictamen") and not amendment.relation
                   and len(applied_targets(amendment)) > 1),
        can_reserve=(amendment.kind == "dictamen" and amendment.state == "tabled"
                     and permissions.can_table_amendment(current_user, document) and len(applied_targets(amendment)) > 1),
    ), status


def _commission_of(amendment: Amendment) -> Commission | None:
    """The commission an amendment is debated and voted in (not a dictamen, voted in plenary)."""
    if amendment.commission_id is None or amendment.kind == "dictamen":
        return None
    return current_services().db.get(Commission, amendment.commission_id)


def _can_rebase(services, document: Document, amendment: Amendment) -> bool:
    """The author of an open amendment whose units changed since tabling may rebase it."""
    if amendment.state not in ("tabled", "debate") or not permissions.can_edit_amendment(current_user, document,
                                                                                          amendment):
        return False
    kind = "substitution" if amendment.kind == "dictamen" else amendment.kind
    conflicts = check_bases(kind, bases_of(amendment), units_for(services, document, amendment))
    return bool(conflicts) and all(c.status == "changed" for c in conflicts)


def _revision_rows(db, amendment: Amendment) -> list[dict]:
    """The wordings the amendment had (as tabled, rebased, rewritten by a sub-amendment): per target,
    the base it amended and the proposal against it."""
    rows = []
    for revision in revisions_of(db, amendment):
        targets = [{"label": t.get("label", ""),
                    "base": (t["base"].get("heading") or "", t["base"].get("text") or ""),
                    "text": redline_html(word_diff(t["base"].get("text") or "", t["proposed"].get("text") or ""))}
                   for t in json.loads(revision.wording)]
        rows.append({"revision": revision, "targets": targets})
    return rows


@bp.route("/d/<slug>/amendments/<int:number>")
def detail(slug: str, number: int):
    document = _document(slug)
    return _detail_page(document, _amendment(document, number))


@bp.route("/d/<slug>/amendments/<int:number>/state", methods=["POST"])
def state(slug: str, number: int):
    document = _document(slug)
    amendment = _amendment(document, number)
    services = current_services()
    action = request.form.get("action", "")
    commission = _commission_of(amendment)
    try:
        if commission is not None and action in ("debate", "close"):  # voted in its commission
            require_state_changer(current_user, document, amendment)
            run = commission_debate if action == "debate" else commission_close
            amendment = run(services, document, commission, amendment, current_user)
        else:
            amendment = change_state(services, document, amendment, current_user, action, current_app.config)
    except AmendmentError as exc:
        services.db.rollback()
        return _detail_page(document, _amendment(document, number), problem=exc.message, conflicts=exc.conflicts,
                            status=status_of(exc))
    announce(services, document, amendment)
    messages = {"tabled": _("Amendment %(n)d was tabled."), "withdrawn": _("Amendment %(n)d was withdrawn."),
                "debate": _("The debate on amendment %(n)d is open; members may vote."),
                "adopted": _("Amendment %(n)d was adopted and applied to the text."),
                "rejected": _("Amendment %(n)d was rejected.")}
    if commission is not None and action == "close":
        messages["adopted"] = _("Amendment %(n)d was adopted by its commission (its dictamen will carry it).")
    if amendment.state in messages:
        flash(messages[amendment.state] % {"n": amendment.number}, "info")
    return redirect(url_for("amendments.detail", slug=slug, number=number), 303)


@bp.route("/d/<slug>/amendments/<int:number>/rebase", methods=["POST"])
def rebase_page(slug: str, number: int):
    """The author rebases the amendment on the current text (substitution: with the wording typed)."""
    document = _document(slug)
    amendment = _amendment(document, number)
    services = current_services()
    data: dict = {}
    if amendment.kind == "substitution":
        data["wording"] = [{"heading": request.form.get(f"heading_{i}", t.new_heading),
                            "text": request.form.get(f"text_{i}", t.new_text)} for i, t in enumerate(amendment.targets)]
    try:
        require_author(current_user, document, amendment)
        rebase(services, document, amendment, current_user, data)
    except AmendmentError as exc:
        services.db.rollback()
        return _detail_page(document, _amendment(document, number), problem=exc.message, status=status_of(exc))
    announce(services, document, amendment)
    flash(_("Amendment %(n)d was rebased on the current text.", n=amendment.number), "info")
    return redirect(url_for("amendments.detail", slug=slug, number=number), 303)


@bp.route("/d/<slug>/amendments/<int:number>/separately", methods=["POST"])
def separately(slug: str, number: int):
    """A unit of the amendment voted on its own: a split vote (the presiding administrator) or, for a
    dictamen, a reserved article (assembly members)."""
    document = _document(slug)
    amendment = _amendment(document, number)
    services = current_services()
    try:
        if amendment.kind == "dictamen" and not permissions.can_preside(current_user, document):
            commission = services.db.get(Commission, amendment.commission_id) if amendment.commission_id else None
            if commission is None:
                raise AmendmentError("not-found", _("There is no commission %(n)s.", n=str(amendment.commission_id)))
            part = reserve(services, document, commission, current_user, request.form.get("unit", ""),
                           current_app.config)
        else:
            part = split(services, document, amendment, current_user, request.form.get("unit", ""),
                         current_app.config)
    except AmendmentError as exc:
        services.db.rollback()
        return _detail_page(document, _amendment(document, number), problem=exc.message, status=status_of(exc))
    announce(services, document, part)
    flash(_("Amendment %(n)d is voted separately.", n=part.number), "info")
    return redirect(url_for("amendments.detail", slug=slug, number=part.number), 303)


@bp.route("/d/<slug>/amendments/<int:number>/vote", methods=["POST"])
def cast(slug: str, number: int):
    document = _document(slug)
    amendment = _amendment(document, number)
    services = current_services()
    commission = _commission_of(amendment)
    try:
        if commission is not None:  # its commission's members vote
            commission_vote(services, document, commission, amendment, current_user, request.form.get("choice"))
        else:
            vote(services, document, amendment, current_user, request.form.get("choice"))
    except AmendmentError as exc:
        services.db.rollback()
        return _detail_page(document, amendment, problem=exc.message, status=status_of(exc))
    announce(services, document, amendment)
    flash(_("Your vote on amendment %(n)d is recorded.", n=amendment.number), "info")
    return redirect(url_for("amendments.detail", slug=slug, number=number), 303)
