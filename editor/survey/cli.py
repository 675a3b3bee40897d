"""`constituent survey …`: load a survey, or synthesize a clearly labelled one, and code it.

    constituent survey import FILE [--document SLUG] [--format json|csv] [--questions preguntas.csv]
                                   [--title T] [--receipts OUT.csv]
    constituent survey synthesize [--respondents 26000] [--document SLUG] [--seed N] [--replace]
                                  [--receipts OUT.csv]
    constituent survey code [--document SLUG]

`--document` may be left out when exactly one document exists. Receipt codes are shown once:
only their hashes are stored, so `--receipts` is the only chance to keep them.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack

import click
from sqlalchemy import func, select

from .. import audit
from ..cli_support import command_app
from ..documents import get_document
from ..models import Document
from ..services import services_of
from .coder import code_document, code_survey, ensure_taxonomy, overview
from .models import Respondent, Survey
from .service import (
    SurveyError,
    delete_survey,
    erase_respondent,
    find_respondent,
    import_survey,
    read_questions_csv,
    receipts_csv,
    synthesize_survey,
)

MAX_SURVEY_BYTES = 200 * 1024 * 1024


@click.group("survey")
def survey() -> None:
    """Survey questions, respondents, answers and their themes."""


@survey.command("erase")
@click.argument("code", required=False)
@click.option("--respondent", "respondent_id", type=int, help="the respondent's id (when they asked without their code)")
def erase(code: str | None, respondent_id: int | None) -> None:
    """Erase a respondent at their request: their answers' words and where they live go; their
    receipt stops working; every count and theme total stays as it was."""

    if (code is None) == (respondent_id is None):
        raise click.UsageError("give the respondent's receipt CODE or --respondent ID (one of them)")
    with command_app() as app:
        services = services_of(app)
        db = services.db
        respondent = find_respondent(db, code) if code is not None else db.get(Respondent, respondent_id)
        if respondent is None:
            raise click.ClickException("no respondent has that receipt code" if code else f"no respondent {respondent_id}")
        erased = erase_respondent(db, respondent)
        audit.record(services.engine, "survey.respondent_erased", actor=audit.cli_actor(),
                     target=f"respondent:{respondent.id}", detail={"answers": erased})
        click.echo(f"respondent {respondent.id}: {erased} answers erased; counts unchanged")


class _Session:
    """The application's database session for one command, with the document chosen."""

    def __init__(self, slug: str | None) -> None:

        self._closing = ExitStack()
        self.app = self._closing.enter_context(command_app())
        self.services = services_of(self.app)
        self.db = self.services.db
        try:
            self.document = self._document(slug)
        except click.ClickException:
            self.close()
            raise

    def _document(self, slug: str | None) -> Document:
        if slug:
            document = get_document(self.db, slug)
            if document is None:
                raise click.ClickException(f"there is no document {slug!r}")
            return document
        count = self.db.scalar(select(func.count(Document.id)))
        if count != 1:
            raise click.ClickException(
                f"there are {count} documents: name one with --document SLUG" if count else "there are no documents yet"
            )
        return self.db.scalar(select(Document))

    def close(self) -> None:
        self._closing.close()


def _read(path: str, limit: int = MAX_SURVEY_BYTES) -> bytes:
    size = os.path.getsize(path)
    if size > limit:
        raise click.ClickException(f"{path} is {size / 1048576:.1f} MB; the limit is {limit // 1048576} MB")
    with open(path, "rb") as stream:
        return stream.read()


def _write_receipts(path: str | None, receipts) -> None:

    if not path:
        click.echo("  receipt codes were not kept (use --receipts FILE to write them): they cannot be shown again")
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
        stream.write(receipts_csv(receipts))
    click.echo(f"  wrote {len(receipts):,} receipt codes to {path} (respondent,code); hand them out, then delete the file")


def _report(session: _Session, top: int = 8) -> None:

    summary = overview(session.db, session.document)
    click.echo(f"  {summary.respondents:,} respondents in {session.document.slug!r}; most raised themes:")
    for count in summary.themes[:top]:
        click.echo(f"    {count.theme.name:28} {count.respondents:8,}  {count.share:6.1%}")
    names = {count.theme.key: count.theme.name for count in summary.themes}
    for spike in summary.spikes:
        click.echo(f"  spike: {names.get(spike.key, spike.key)} in the week of {spike.week:%d %b %Y}: {spike.share:.0%} of "
                   f"{spike.respondents:,} respondents (usually {spike.usual:.0%})")


def _code_and_report(session: _Session, result, started: float, loaded: float) -> None:

    codings = code_survey(session.db, result.survey)
    session.db.commit()
    coded = time.perf_counter()
    click.echo(f"  {result.respondents:,} respondents, {result.answers:,} answers loaded in {loaded - started:.2f} s")
    click.echo(f"  {codings:,} theme codings in {coded - loaded:.2f} s")
    _report(session)


@survey.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--document", "slug", help="the document the survey informs (default: the only one)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), help="default: from the file name")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False),
              help="the questions in the survey's own preguntas.csv format (text, group, widget, flags)")
@click.option("--title", help="the survey's title (default: the file's, or a generic one)")
@click.option("--receipts", type=click.Path(dir_okay=False, writable=True),
              help="write each respondent's receipt code here (CSV respondent,code)")
def import_(file: str, slug: str | None, fmt: str | None, questions: str | None, title: str | None,
            receipts: str | None) -> None:
    """Load a survey (JSON or CSV) and code its free-text answers into themes."""

    fmt = fmt or ("csv" if file.lower().endswith(".csv") else "json")
    data = _read(file)
    session = _Session(slug)
    try:
        specs = read_questions_csv(_read(questions)) if questions else None
        started = time.perf_counter()
        result = import_survey(session.db, session.document, data, fmt, title=title, questions=specs,
                               source=os.path.basename(file))
        session.db.commit()
        loaded = time.perf_counter()
        click.echo(f"imported survey {result.survey.title!r} into {session.document.slug!r}")
        _write_receipts(receipts, result.receipts)
        _code_and_report(session, result, started, loaded)
    except SurveyError as exc:
        session.db.rollback()
        raise click.ClickException(str(exc)) from None
    finally:
        session.close()


@survey.command("synthesize")
@click.option("--respondents", default=26_000, show_default=True, type=click.IntRange(1, 500_000))
@click.option("--document", "slug", help="the document the survey informs (default: the only one)")
@click.option("--seed", default=2016, show_default=True, type=int)
@click.option("--replace", is_flag=True, help="delete the document's earlier synthetic surveys first")
@click.option("--receipts", type=click.Path(dir_okay=False, writable=True),
              help="write each respondent's receipt code here (CSV respondent,code)")
def synthesize(respondents: int, slug: str | None, seed: int, replace: bool, receipts: str | None) -> None:
    """Generate a clearly labelled SYNTHETIC survey from the real 2016 questions and neighbourhoods.

    Those files are read from the shared data folder: $CONSTITUENT_SHARED_DATA, else
    ../shared/data beside the checkout.
    """

    session = _Session(slug)
    try:
        earlier = list(session.db.scalars(
            select(Survey).where(Survey.document_id == session.document.id, Survey.synthetic.is_(True))))
        if earlier and not replace:
            raise click.ClickException(
                f"{session.document.slug!r} already has a synthetic survey ({earlier[0].title!r}); "
                "use --replace to generate it again")
        for old in earlier:
            delete_survey(session.db, old)
        started = time.perf_counter()
        result = synthesize_survey(session.db, session.document, respondents=respondents, seed=seed)
        session.db.commit()
        loaded = time.perf_counter()
        click.echo(f"synthesized {result.survey.title!r} into {session.document.slug!r} (SYNTHETIC data, not real answers)")
        _write_receipts(receipts, result.receipts)
        _code_and_report(session, result, started, loaded)
    finally:
        session.close()


@survey.command("code")
@click.option("--document", "slug", help="the document whose surveys to code (default: the only one)")
def code(slug: str | None) -> None:
    """Code every survey answer of a document again (after its themes changed)."""

    session = _Session(slug)
    try:
        ensure_taxonomy(session.db, session.document)
        started = time.perf_counter()
        codings = code_document(session.db, session.document)
        session.db.commit()
        click.echo(f"{codings:,} theme codings in {time.perf_counter() - started:.2f} s "
                   "(answers coded by hand were left as they were)")
        _report(session)
    finally:
        session.close()
