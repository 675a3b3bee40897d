"""`constituent revise SLUG FILE`: load a revised draft into a document from the command line."""

from __future__ import annotations

import click

from .. import audit
from ..cli_support import command_app, printable, read_bounded
from ..documents import get_document
from ..interchange import IMPORTERS, MAX_IMPORT_BYTES, format_for
from ..livetext import read_live
from ..services import services_of
from .service import RevisionError, apply_revision, plan_revision, read_revision


@click.command("revise")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(list(IMPORTERS)),
              help="default: from the file name (.xml or .akn: akn; .docx: docx; otherwise text)")
@click.option("--apply", "apply_", is_flag=True, help="load it (without this, only show how it matches)")
@click.option("--no-version", is_flag=True, help="do not save the text as it stands as a version first")
def revise(slug: str, file: str, fmt: str | None, apply_: bool, no_version: bool) -> None:
    """Match a revised draft to the live text of SLUG unit by unit, and with --apply load it.

    Units of the revised text that are units of the live text (by content and position) keep
    their identity, and with it their links, comments and history. The matching is the one the
    web page proposes; correct it there when it is wrong."""
    fmt = fmt or format_for(file)
    data = read_bounded(file, MAX_IMPORT_BYTES)
    with command_app() as app, app.app_context():
        services = services_of(app)
        document = get_document(services.db, slug)
        if document is None:
            raise click.ClickException(f"there is no document {slug!r}")
        try:
            plan = plan_revision(read_live(services, slug), read_revision(document, data, fmt))
        except RevisionError as exc:
            raise click.ClickException(str(exc)) from None
        counts = plan.counts()
        click.echo(f"{counts['units']} units in the revised text: {counts['kept']} keep their identity, "
                   f"{counts['new']} are new")
        click.echo("  " + ", ".join(f"{status} {n}" for status, n in plan.comparison.counts().items()))
        for change in plan.comparison.changes:
            if change.statuses != ["renumbered"]:
                unit = change.new or change.old
                click.echo(f"  {'/'.join(change.statuses)}: {printable(unit.label or unit.kind)}"  # type: ignore[union-attr]
                           f"{' · ' + printable(unit.heading) if unit.heading else ''}")  # type: ignore[union-attr]
        if not apply_:
            click.echo("nothing changed (add --apply to load it)")
            return
        try:
            applied = apply_revision(services, document, None, plan, save_before=not no_version,
                                     actor=audit.cli_actor())
        except RevisionError as exc:
            raise click.ClickException(str(exc)) from None
        saved = f" (the text as it stood is version {applied.before})" if applied.before else ""
        click.echo(f"loaded: the revised draft is the live text of {slug!r}{saved}")
