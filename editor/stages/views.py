"""Pages for stages and versions: where the document stands, moving it on, freezing versions,
comparing any two texts (redline), and configuring the stages."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime, gettext
from flask_login import current_user
from sqlalchemy import select

from .. import permissions
from ..access import visible_document
from ..amendments.models import Amendment
from ..events import StageChanged
from ..inputs import whole_number
from ..livetext import read_live
from ..models import ROLES, Document, User
from ..provenance.links import path_labels
from ..redline import redline_html
from ..services import current_services
from .addresses import misplaced_pins
from .current import DEFAULT_NAMES, MODE_NAMES, PRESETS, StageError, current_stage, next_stage, stage_name, stages_of, transitions_of
from .diff import STATUSES, compare
from .history import amendment_numbers
from .models import STAGE_MODES
from .versions import freeze, resolve, versions_of
from .workflow import advance, configure

bp = Blueprint("stages", __name__)

@bp.app_template_global()
def redline(changes) -> str:
    return redline_html(changes)


@bp.app_template_global()
def when_exactly(value) -> str:
    return format_datetime(value, "medium") if value else ""


@bp.app_template_global()
def status_label(status: str) -> str:
    return {
        "added": gettext("added"), "removed": gettext("removed"), "moved": gettext("moved"),
        "renumbered": gettext("renumbered"), "changed": gettext("changed"), "split": gettext("split"),
        "merged": gettext("merged"),
    }.get(status, status)


@bp.app_template_global()
def role_label(role: str) -> str:
    return {
        "admin": gettext("administrator"), "committee": gettext("drafting committee"),
        "legal": gettext("legal adviser"), "assembly": gettext("assembly member"),
        "volunteer": gettext("survey volunteer"), "viewer": gettext("reader"),
    }.get(role, role)


def _user_names(db, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


@bp.route("/d/<slug>/versions")
def overview(slug: str):
    document = visible_document(slug)
    db = current_services().db
    stages = stages_of(db, document)
    current = current_stage(db, document)
    transitions = transitions_of(db, document)
    versions = versions_of(db, document, light=True)
    names = _user_names(db, [v.user_id for v in versions])
    return render_template(
        "stages/overview.html", document=document, stages=stages, current=current,
        following=next_stage(db, document), transitions=transitions, versions=versions, names=names,
        stage_name=stage_name, mode_names=MODE_NAMES,
        can_advance=permissions.can_advance_stage(current_user, document),
        can_freeze=permissions.can_freeze_version(current_user, document),
        can_configure=permissions.can_configure_stages(current_user, document),
        can_revise=permissions.can_load_revision(current_user, document),
        stage_names={s.key: stage_name(s) for s in stages},
        # Pinned numbers that no longer fit where their units stand: for those who write the text.
        misplaced=misplaced_pins(read_live(current_services(), slug).units)
        if permissions.can_write_text(current_user, document) else [],
    )


@bp.route("/d/<slug>/stages/advance", methods=["POST"])
def advance_stage(slug: str):
    document = visible_document(slug)
    services = current_services()
    if not permissions.can_advance_stage(current_user, document):
        abort(403)
    try:
        transition = advance(services, document, current_user, note=request.form.get("note", ""),
                             expect=request.form.get("expect") or None)
    except StageError as exc:
        services.db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("stages.overview", slug=slug))
    after_transition(services, document, transition.to_key)
    entered = current_stage(services.db, document)
    flash(gettext("The document is now in the stage %(stage)s. The text as it stood has been saved as a version.",
                  stage=stage_name(entered)), "success")
    return redirect(url_for("stages.overview", slug=slug))


def after_transition(services, document: Document, stage_key: str) -> None:
    """Everyone connected learns the new stage; their right to write is decided again (by the
    StageChanged subscribers, in every process)."""
    services.events.publish(StageChanged(document.slug, stage_key))


@bp.route("/d/<slug>/versions", methods=["POST"])
def freeze_version(slug: str):

    document = visible_document(slug)
    services = current_services()
    if not permissions.can_freeze_version(current_user, document):
        abort(403)
    try:
        version = freeze(services, document, current_user, name=request.form.get("name", ""))
    except StageError as exc:
        services.db.rollback()
        flash(str(exc), "error")
    else:
        flash(gettext("Version %(number)d saved.", number=version.number), "success")
    return redirect(url_for("stages.overview", slug=slug))


@bp.route("/d/<slug>/compare")
def compare_page(slug: str):
    document = visible_document(slug)
    services = current_services()
    versions = versions_of(services.db, document, light=True)
    default_from = str(versions[-1].number) if versions else "live"
    spec_from = request.args.get("from") or default_from
    spec_to = request.args.get("to") or "live"
    only = request.args.get("only", "")
    try:
        old, new = resolve(services, document, spec_from), resolve(services, document, spec_to)
    except StageError as exc:
        return render_template("stages/compare.html", document=document, versions=versions, error=str(exc),
                               spec_from=spec_from, spec_to=spec_to, only=only, statuses=STATUSES), 404

    comparison = compare(old.units, new.units)
    changes = [c for c in comparison.changes if not only or only in c.statuses]
    # Units that were only renumbered (an article inserted before them) would bury the real
    # changes: they are counted apart, in a list that opens on demand, unless asked for.
    renumbered_only = [] if only == "renumbered" else [c for c in changes if c.statuses == ["renumbered"]]
    changes = [c for c in changes if c not in renumbered_only]
    labels = {"old": path_labels(old.units), "new": path_labels(new.units)}

    def parts_of(change) -> str:
        """The other side's units of a split (the new ones) or a merge (the old ones), as readers name them."""
        side = labels["new"] if "split" in change.statuses else labels["old"]
        return ", ".join(side.get(u.guid) or u.label for u in change.parts)

    return render_template(
        "stages/compare.html", document=document, versions=versions, old=old, new=new, labels=labels,
        comparison=comparison, changes=changes, renumbered_only=renumbered_only, counts=comparison.counts(),
        statuses=STATUSES, parts_of=parts_of,
        spec_from=spec_from, spec_to=spec_to, only=only if only in STATUSES else "", error=None,
    )


# --- configuration ------------------------------------------------------------------------------


@bp.route("/d/<slug>/stages/configure", methods=["GET", "POST"])
def configure_stages(slug: str):
    document = visible_document(slug)
    services = current_services()
    db = services.db
    if not permissions.can_configure_stages(current_user, document):
        abort(403)
    stages = stages_of(db, document)
    current = current_stage(db, document)
    transitions = transitions_of(db, document)
    if request.method == "POST":
        try:
            preset = request.form.get("preset", "")
            if preset:
                if transitions:
                    raise StageError(gettext("The preset can only be changed before the first transition."))
                if preset not in PRESETS:
                    raise StageError(gettext("Unknown preset."))
                rows = [{"key": s.key, "name": "", "mode": s.mode, "edit_roles": s.edit_roles,
                         "advance_roles": s.advance_roles} for s in PRESETS[preset]]
            else:
                rows = _rows_from_form(request.form)
            configure(db, document, rows)
        except StageError as exc:
            db.rollback()
            flash(str(exc), "error")
            return redirect(url_for("stages.configure_stages", slug=slug))
        after_transition(services, document, current_stage(db, document).key)
        flash(gettext("The stages have been saved."), "success")
        return redirect(url_for("stages.overview", slug=slug))
    return render_template(
        "stages/configure.html", document=document, stages=stages, current=current, roles=ROLES,
        modes=STAGE_MODES, mode_names=MODE_NAMES, presets=PRESETS,
        has_transitions=bool(transitions), stage_name=stage_name,
    )


def _rows_from_form(form) -> list[dict]:
    rows = []
    count = whole_number(form.get("count", "0"), maximum=30)
    if count is None:
        raise StageError(gettext("The form is incomplete; reload the page."))
    for i in range(count + 1):  # the last one is the empty "add a stage" row
        key = (form.get(f"key-{i}") or "").strip()
        if not key or form.get(f"remove-{i}"):
            continue
        label = (form.get(f"name-{i}") or "").strip() or str(DEFAULT_NAMES.get(key, key))
        start, end = _planned_day(form, f"start-{i}", label), _planned_day(form, f"end-{i}", label)
        if start and end and end < start:
            raise StageError(gettext("%(stage)s: the planned end (%(end)s) is before the planned start (%(start)s).",
                                     stage=label, end=format_date(end, "long"), start=format_date(start, "long")))
        rows.append({
            "key": key,
            "name": form.get(f"name-{i}", ""),
            "mode": form.get(f"mode-{i}", ""),
            "edit_roles": form.getlist(f"edit-{i}"),
            "suggest_roles": form.getlist(f"suggest-{i}"),
            "advance_roles": form.getlist(f"advance-{i}"),
            "planned_start": start,
            "planned_end": end,
        })
    if not rows:
        raise StageError(gettext("A document needs at least one stage."))
    return rows


#: Planned dates the calendar accepts (a typing error such as 0202 or 20255 is refused).
PLANNED_YEARS = (1900, 2200)


def _planned_day(form, field: str, label: str) -> date | None:
    """A stage's optional planned date from the form (an <input type=date>: YYYY-MM-DD)."""
    text = (form.get(field) or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not PLANNED_YEARS[0] <= day.year <= PLANNED_YEARS[1]:
        raise StageError(gettext("%(stage)s: “%(date)s” is not a date; write it as year-month-day, e.g. 2016-09-15.",
                                 stage=label, date=text[:40]))
    return day


@bp.route("/d/<slug>/amendment-by-id/<int:amendment_id>")
def amendment_link(slug: str, amendment_id: int):
    """Where an edit's amendment is shown (history rows know the amendment's id, not its number)."""

    document = visible_document(slug)
    amendment = current_services().db.get(Amendment, amendment_id)
    # Another document's amendment, or a draft the caller may not see: the same 404 as none.
    if amendment is None or amendment.document_id != document.id \
            or not permissions.can_see_amendment(current_user, document, amendment):
        abort(404)
    number = amendment_numbers(current_services().db, {amendment_id}).get(amendment_id)
    if number is None:
        abort(404)
    return redirect(url_for("amendments.detail", slug=slug, number=number))
