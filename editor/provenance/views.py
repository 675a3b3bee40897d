"""Public provenance pages: why a clause exists, what happened to a petition, a theme's clauses,
citizen events, coverage, and the links as open data (CSV and JSON).

Everything here is readable without an account for a published document (drafts follow the
usual rule: invisible to those who may not read them). Survey answers are never shown here,
only counts; a respondent sees their own answers through their receipt code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import timezone

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import format_date, format_decimal, format_percent, gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from akoma_ntoso import Unit, iter_units

from .. import clock, permissions
from ..access import visible_document
from ..livetext import read_live
from ..participation.calendar import event_page, split_calendar, zone_named
from ..participation.session import current_participant
from ..petitions.models import Hearing, SignatureCount, Threshold
from ..petitions.service import shifted_links
from ..process.accountability import petition_accountability
from ..redline import redline_html, similarity, word_diff
from ..security import spreadsheet_safe
from ..services import current_services
from ..survey.coder import counts_by_borough
from ..survey.models import Theme
from .labels import action_label, relation_label
from .links import path_labels
from .models import CitizenEvent
from .summaries import LinkedSource, Provenance

bp = Blueprint("provenance", __name__)

@bp.app_template_global()
def num(value) -> str:
    """A count in the reader's locale: 39,182 / 39 182."""
    return format_decimal(value or 0)


@bp.app_template_global()
def pct(value: float) -> str:
    return format_percent(value or 0, "#,##0.0%")


@bp.app_template_global()
def when(value) -> str:
    return format_date(value, "medium") if value else ""


bp.add_app_template_global(relation_label)
bp.add_app_template_global(action_label)


# --- grouping links by source ---------------------------------------------------------------


@dataclass
class Place:
    """Where in the text a source is linked: a unit (None when no longer in the text)."""

    unit: Unit | None
    path: str  # the unit's label within the page's unit ("A. 3."), or its full label
    relation: str
    note: str
    last_eid: str


@dataclass
class SourceGroup:
    source: object  # PetitionSummary | ThemeSummary | EventSummary
    places: list[Place] = field(default_factory=list)


def _group(items: list[LinkedSource], path) -> dict[str, list[SourceGroup]]:
    """Links grouped by source (one entry per petition, theme or event), by kind."""
    groups: dict[tuple[str, int], SourceGroup] = {}
    for item in items:
        key = (item.link.source_kind, item.link.source_id)
        group = groups.setdefault(key, SourceGroup(item.source))
        group.places.append(
            Place(item.unit, path(item.unit) if item.unit else item.link.unit_eid, item.link.relation,
                  item.link.note, item.link.unit_eid)
        )
    by_kind: dict[str, list[SourceGroup]] = {"petition": [], "theme": [], "event": []}
    for (kind, _id), group in groups.items():
        by_kind[kind].append(group)
    by_kind["petition"].sort(key=lambda g: -g.source.signatures)
    by_kind["theme"].sort(key=lambda g: -g.source.respondents)
    return by_kind


class Labels:
    """Readers' labels of the units of one text ("Artículo 16 A. 3."), computed once a page."""

    def __init__(self, units) -> None:
        self.full = path_labels(units)

    def of(self, unit: Unit | None, below: Unit | None = None, gone: str = "") -> str:
        """`unit`'s label, only from `below` down when given ("A. 3." inside Artículo 16);
        `gone` when the unit is no longer in the text."""
        if unit is None:
            return gone
        label = self.full.get(unit.guid, "")
        prefix = self.full.get(below.guid, "") if below is not None else ""
        if prefix and label.startswith(prefix + " "):
            label = label[len(prefix) + 1:]
        return label or unit.heading or unit.eid


def why_this_unit(provenance: Provenance, units, unit: Unit) -> dict[str, list[SourceGroup]]:
    """The sources of a unit and of the units inside it, grouped by source."""
    own, within = provenance.for_unit(unit, units)
    labels = Labels(units)
    return _group(own + within, lambda u: "" if u.guid == unit.guid else labels.of(u, below=unit))


def _clauses(provenance: Provenance, kind: str, source_id: int, units) -> list[dict]:
    """The clauses a source is linked to, in text order, each with its label."""
    labels = Labels(units)
    return [
        {"item": item, "label": labels.of(item.unit, gone=item.link.unit_eid)}
        for item in provenance.of_source(kind, source_id, units)
    ]


# --- pages ----------------------------------------------------------------------------------


def _load(slug: str):
    document = visible_document(slug)
    services = current_services()
    live = read_live(services, slug)
    return document, live, Provenance.load(services.db, document)


def wording(unit: Unit) -> str:
    """A unit's words without its numbers: its heading and text, then its sub-units', so that a
    redline against a petition's proposal compares wording only."""
    parts = [unit.heading, unit.text]
    parts += [wording(child) for child in unit.children]
    return "\n".join(p for p in parts if p)


def _successful_threshold(db, document) -> int:
    """The signatures that make a petition "successful": presentation to the committee."""
    found = db.scalar(
        select(Threshold.signatures).where(
            Threshold.document_id == document.id, Threshold.action == "committee_presentation"
        )
    )
    return found or 10_000


@bp.route("/d/<slug>/petitions")
def petitions(slug: str):
    document, live, provenance = _load(slug)
    linked = provenance.counts_by_source()
    return render_template(
        "provenance/petitions.html", document=document, provenance=provenance, linked=linked,
        petitions=sorted(provenance.petitions.values(), key=lambda p: -p.signatures),
        can_edit=permissions.can_edit(current_user, document),
    )


@bp.route("/d/<slug>/petitions/<int:petition_id>")
def petition(slug: str, petition_id: int):
    document, live, provenance = _load(slug)
    summary = provenance.petitions.get(petition_id)
    if summary is None:
        abort(404)
    db = current_services().db
    history = list(db.execute(
        select(SignatureCount.counted_at, SignatureCount.signatures)
        .where(SignatureCount.petition_id == petition_id).order_by(SignatureCount.counted_at)
    ))
    hearings = list(db.scalars(select(Hearing.held_on).where(Hearing.petition_id == petition_id).order_by(Hearing.held_on)))
    proposal = summary.petition.proposal.strip()
    outcomes = _clauses(provenance, "petition", petition_id, live.units)
    for outcome in outcomes:
        unit = outcome["item"].unit
        outcome["diff"] = None
        if unit is not None and proposal:
            changes = word_diff(proposal, wording(unit))
            outcome["diff"] = {"html": redline_html(changes), "kept": similarity(changes)}
    # Where a linked unit's number moved since the version the petition's references were read against.
    shifted = shifted_links(db, document, summary.petition, live.units, [o["item"].link for o in outcomes])
    for outcome in outcomes:
        outcome["shifted"] = shifted.get(outcome["item"].link.id)
    accountability = petition_accountability(current_services(), document, petition_id,
                                             [o["item"].link.unit_guid for o in outcomes], live.units)
    return render_template(
        "provenance/petition.html", document=document, summary=summary, history=history,
        hearings=hearings, outcomes=outcomes, can_edit=permissions.can_edit(current_user, document),
        accountability=accountability,
    )


@bp.route("/d/<slug>/themes")
def themes(slug: str):
    document, live, provenance = _load(slug)
    linked = provenance.counts_by_source()
    return render_template(
        "provenance/themes.html", document=document, provenance=provenance, linked=linked,
        themes=sorted(provenance.themes.values(), key=lambda t: (-t.respondents, t.title)),
        can_edit=permissions.can_edit(current_user, document),
    )


@bp.route("/d/<slug>/themes/<key>")
def theme(slug: str, key: str):
    document, live, provenance = _load(slug)
    summary = next((t for t in provenance.themes.values() if t.theme.key == key), None)
    if summary is None:
        abort(404)
    clauses = _clauses(provenance, "theme", summary.id, live.units)
    return render_template(
        "provenance/theme.html", document=document, summary=summary, provenance=provenance,
        clauses=clauses, boroughs=_boroughs(document, summary.theme),
    )


@dataclass(frozen=True)
class BoroughRow:
    borough: str
    respondents: int  # of the borough, who raised the theme
    share: float  # of the borough's respondents


def _boroughs(document, theme: Theme) -> list[BoroughRow]:
    """Where respondents raised the theme, most first."""
    key = theme.key
    rows = [
        BoroughRow(b.borough, b.themes.get(key, 0), b.share(key))
        for b in counts_by_borough(current_services().db, document, theme=theme)
        if b.borough and b.themes.get(key)
    ]
    return sorted(rows, key=lambda r: -r.respondents)


@bp.route("/d/<slug>/events")
def events(slug: str):
    """The public calendar: approved events to come (soonest first) and past ones (latest first),
    with how to register one and the iCal feed (editor.participation.event_views)."""
    document, live, provenance = _load(slug)
    linked = provenance.counts_by_source()
    upcoming, past = split_calendar(provenance.events.values(), clock.now(), zone_named(current_app.config["EVENTS_TIMEZONE"]))
    return render_template(
        "provenance/events.html", document=document, provenance=provenance, linked=linked,
        upcoming=upcoming, past=past, can_edit=permissions.can_edit(current_user, document),
        moderator=permissions.can_moderate(current_user, document),
    )


@bp.route("/d/<slug>/events/<int:event_id>")
def event(slug: str, event_id: int):
    document, live, provenance = _load(slug)
    summary = provenance.events.get(event_id)
    if summary is None:
        abort(404)
    clauses = _clauses(provenance, "event", event_id, live.units)
    extra = event_page(current_services().db, summary.event, live.units, path_labels(live.units), current_participant(),
                       clock.now(), zone_named(current_app.config["EVENTS_TIMEZONE"]))
    return render_template("provenance/event.html", document=document, summary=summary, clauses=clauses, extra=extra)


class EventForm(FlaskForm):
    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=300)])
    held_on = DateField(lazy_gettext("Date"), validators=[DataRequired()])
    place = StringField(lazy_gettext("Place"), validators=[Optional(), Length(max=300)])
    organiser = StringField(lazy_gettext("Organised by"), validators=[Optional(), Length(max=300)])
    participants = IntegerField(lazy_gettext("Participants"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    conclusions = TextAreaField(lazy_gettext("Conclusions"), validators=[DataRequired(), Length(max=20_000)])
    url = URLField(lazy_gettext("Web page (record, minutes)"), validators=[Optional(), URL(), Length(max=500)])


@bp.route("/d/<slug>/events/new", methods=["GET", "POST"])
def new_event(slug: str):
    document = visible_document(slug)
    if not permissions.can_edit(current_user, document):
        abort(403)
    form = EventForm()
    if form.validate_on_submit():
        db = current_services().db
        event = CitizenEvent(
            document_id=document.id, title=form.title.data.strip(), held_on=form.held_on.data,
            place=(form.place.data or "").strip(), organiser=(form.organiser.data or "").strip(),
            participants=form.participants.data, conclusions=form.conclusions.data.strip(), url=form.url.data or None,
            created_by_id=current_user.id,
        )
        db.add(event)
        db.commit()
        flash(gettext("The event is recorded. Link it to the clauses it motivated from the editor."), "success")
        return redirect(url_for("provenance.event", slug=slug, event_id=event.id))
    return render_template("provenance/event_form.html", document=document, form=form)


@bp.route("/d/<slug>/coverage")
def coverage(slug: str):
    document, live, provenance = _load(slug)
    successful = _successful_threshold(current_services().db, document)
    themes, petitions = provenance.coverage(live.units, successful)
    return render_template(
        "provenance/coverage.html", document=document, provenance=provenance,
        themes=themes, petitions=petitions, successful=successful,
    )


# --- open data ------------------------------------------------------------------------------

_COLUMNS = (
    "unit_guid", "unit_eid", "unit_label", "unit_in_text", "source_kind", "source_id", "source_title",
    "relation", "note", "origin", "linked_at", "petition_signatures", "theme_respondents", "theme_share",
    "event_date", "source_url",
)


def _open_rows(slug: str):
    document, live, provenance = _load(slug)
    labels = Labels(live.units)
    return document, provenance, [link_row(slug, labels, item) for item in provenance.resolved(live.units)]


def link_row(slug: str, labels: Labels, item: LinkedSource) -> dict:
    """One link as open data: the unit (by GUID, with its current eId and label), the source
    with its figures, the relation and note."""
    source, link = item.source, item.link
    return {
        "unit_guid": link.unit_guid,
        "unit_eid": item.unit.eid if item.unit else link.unit_eid,
        "unit_label": labels.of(item.unit),
        "unit_in_text": item.unit is not None,
        "source_kind": link.source_kind,
        "source_id": link.source_id,
        "source_title": source.title,
        "relation": link.relation,
        "note": link.note,
        "origin": link.origin,
        "linked_at": _iso(link.created_at),
        "petition_signatures": source.signatures if link.source_kind == "petition" else None,
        "theme_respondents": source.respondents if link.source_kind == "theme" else None,
        "theme_share": round(source.share, 4) if link.source_kind == "theme" else None,
        "event_date": source.held_on.isoformat() if link.source_kind == "event" else None,
        "source_url": _source_url(slug, link.source_kind, source),
    }


def unit_provenance(document, live, unit: Unit) -> list[dict]:
    """The links of a unit and of the units inside it, as open-data rows (the JSON API's unit)."""
    provenance = Provenance.load(current_services().db, document, {u.guid for u in iter_units((unit,))})
    own, within = provenance.for_unit(unit, live.units)
    labels = Labels(live.units)
    return [link_row(document.slug, labels, item) for item in own + within]


def _iso(moment) -> str | None:
    """ISO 8601 in UTC (SQLite hands back naive datetimes; they are stored in UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def _source_url(slug: str, kind: str, source) -> str:
    if kind == "petition":
        return url_for("provenance.petition", slug=slug, petition_id=source.id, _external=True)
    if kind == "theme":
        return url_for("provenance.theme", slug=slug, key=source.theme.key, _external=True)
    return url_for("provenance.event", slug=slug, event_id=source.id, _external=True)


@bp.get("/api/v1/documents/<slug>/provenance.json")
def open_data_json(slug: str):
    document, provenance, rows = _open_rows(slug)
    return jsonify({
        "document": document.slug,
        "title": document.title,
        "respondents": provenance.respondents,
        "synthetic_survey": provenance.synthetic_survey,
        "links": rows,
    })


@bp.get("/api/v1/documents/<slug>/provenance.csv")
def open_data_csv(slug: str):
    document, _provenance, rows = _open_rows(slug)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else spreadsheet_safe(v)) for k, v in row.items()})
    return Response(
        out.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{document.slug}-provenance.csv"'},
    )


def unit_why(document, live, unit: Unit) -> tuple[Provenance, dict[str, list[SourceGroup]]]:
    """For the unit page (editor.public): the document's provenance and the unit's sources."""
    guids = {u.guid for u in iter_units((unit,))}
    provenance = Provenance.load(current_services().db, document, guids)
    return provenance, why_this_unit(provenance, live.units, unit)

