"""`constituent petitions …`: load petitions and their signature counts."""

from __future__ import annotations

import click

from akoma_ntoso import AkomaNtosoError

from ..cli_support import command_app, printable, read_bounded
from ..documents import get_document
from ..models import Document
from ..services import services_of
from .service import MAX_IMPORT_BYTES, PetitionImportError, import_petitions, parse_moment, reference_text


@click.group("petitions")
def petitions() -> None:
    """Petitions and their signatures."""


@petitions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--document", "slug", help="the document the petitions are about (needed when there are several)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="default: from the file name (.json = json)")
@click.option("--at", "at", help="when counts without a date of their own were counted (ISO date-time, UTC); default now")
@click.option("--against", "against", metavar="N|live",
              help="the text whose numbering the references are read against: a version number, or live; "
                   "default the latest frozen version (the live text while there is none)")
def import_(file: str, slug: str | None, fmt: str | None, at: str | None, against: str | None) -> None:
    """Import petitions and signature counts (CSV or JSON) and link them to the text they name.

    Thresholds crossed create their event and obligation and notify the committee; references
    in a final_text_refs column are resolved against the numbering of the latest frozen version
    (or --against N, or --against live): "Art. 16" links the unit that was Artículo 16 there.
    Nothing is written on error.
    """
    from sqlalchemy import select



    fmt = fmt or ("json" if file.lower().endswith(".json") else "csv")
    moment = None
    if at is not None:
        try:
            moment = parse_moment(at)
        except ValueError as exc:
            raise click.ClickException(f"--at: {exc}") from None
    data = read_bounded(file, MAX_IMPORT_BYTES)
    with command_app() as app, app.app_context():
        services = services_of(app)
        db = services.db
        if slug is None:
            slugs = list(db.scalars(select(Document.slug).order_by(Document.slug).limit(3)))
            if len(slugs) != 1:
                raise click.ClickException(
                    "there is no document yet: import the text first" if not slugs else
                    "several documents exist: say which with --document (e.g. " + ", ".join(slugs) + ")")
            slug = slugs[0]
        document = get_document(db, slug)
        if document is None:
            raise click.ClickException(f"there is no document {slug!r}")
        try:
            text = reference_text(services, document, against)
        except AkomaNtosoError as exc:
            raise click.ClickException(f"the live text of {slug!r} cannot be read: {exc}") from None
        except PetitionImportError as exc:
            raise click.ClickException(f"--against: {exc}; nothing was imported") from None
        try:
            result = import_petitions(db, document, data, fmt, at=moment, units=text.units, version=text.version,
                                      live_units=text.live_units)
        except PetitionImportError as exc:
            raise click.ClickException(f"{exc}; nothing was imported") from None
        _print(result)


def _print(result) -> None:
    click.echo(
        f"petitions: {len(result.created)} new, {len(result.updated)} updated, {len(result.unchanged)} unchanged")
    click.echo(f"signature counts recorded: {result.counts_recorded}")
    click.echo(f"thresholds crossed: {len(result.crossings)} "
               f"({len(result.crossings)} events, {len(result.crossings)} obligations, "
               f"{result.notifications} notifications)")
    for crossing in result.crossings:
        members = ", ".join(u.name for u in crossing.members)
        click.echo(f"  - {printable(crossing.petition.title)}: {crossing.threshold.signatures:,} on "
                   f"{crossing.event.occurred_at.date().isoformat()} → {crossing.obligation.action.replace('_', ' ')}, due "
                   f"{crossing.obligation.due_on.isoformat()}" + (f" ({members})" if members else ""))
    click.echo(f"links made: {result.links_made} (references read against "
               + (f"version {result.version})" if result.version else "the live text)"))
    imprecise = [(report, item) for report in result.links for item in report.imprecise]
    unresolved = [(report, item) for report in result.links for item in report.unresolved]
    not_incorporated = [report for report in result.links if report.not_incorporated]
    for report in result.links:
        for item in report.linked:
            if item.created and not item.imprecise:
                click.echo(f"  + {printable(report.petition.title)}: {printable(item.reference)} → {item.name} "
                           f"({item.unit.eid})" + (f", today {item.now}" if item.now else ""))
    if imprecise:
        click.echo(f"imprecise references (only the enclosing unit linked): {len(imprecise)}")
        for report, item in imprecise:
            click.echo(f"  ~ {printable(report.petition.title)}: {item.reference!r} → {item.name} ({item.unit.eid}); "
                       f"{item.problem}")
    if unresolved:
        click.echo(f"unresolved references (nothing linked): {len(unresolved)}")
        for report, item in unresolved:
            click.echo(f"  ! {printable(report.petition.title)}: {item.reference!r}: {printable(item.problem)}")
    if not_incorporated:
        click.echo(f"not incorporated (X): {len(not_incorporated)}")
        for report in not_incorporated:
            click.echo(f"  x {printable(report.petition.title)}")
    if result.ignored_columns:
        click.echo("columns ignored: " + printable(", ".join(result.ignored_columns)))
