"""The `constituent` command: demo, serve, import and export, and account administration."""

from __future__ import annotations

import contextlib
import sys

import click
from sqlalchemy import select

from akoma_ntoso import AkomaNtosoError

from . import audit
from . import config as config_module
from .accounts import AccountError, add_user
from .app import create_app
from .cli_support import command_app, read_bounded
from .demo import DEMO_PASSWORD, seed
from .events import AccountChanged
from .interchange import IMPORTERS, MAX_IMPORT_BYTES, TEXT_LANGUAGES, export_document, format_for, import_document
from .live import make_token
from .models import ROLES, User
from .notifications.cli import notifications
from .outbox_cli import outbox
from .petitions.cli import petitions
from .revision.cli import revise
from .schema import SchemaError, alembic_config, check, current, downgrade, head, stamp, upgrade
from .services import services_of
from .survey.cli import survey


def _serve(app_factory, host: str, port: int, threads: int, access_log: str | None = None) -> None:
    """Run under gunicorn's threaded worker, one process. Threads serve page requests and
    handshakes; live connections on /yjs are handed to the process's event loop (crdt.hub) and
    hold no thread. (Socket.IO /collab connections still hold one each.)"""
    import resource  # only here: the POSIX resource limits, for the server only

    from gunicorn.app.base import BaseApplication  # the server's own dependency: `serve` and `demo` only

    # Every live connection is a file descriptor: allow as many as the system lets this process have.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)  # rooms live in this process; scale out with Redis
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 120)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", access_log)

        def load(self):
            return app_factory()

    Server().run()


@click.group()
def main() -> None:
    """Constituent: live drafting of constitutions and ordinances."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--database", envvar="DATABASE_URL", help="SQLAlchemy URL (default: SQLite under ./instance)")
@click.option("--redis", envvar="REDIS_URL",
              help="Redis URL: share live documents with the other processes of the deployment (docs/scaling.md)")
@click.option("--threads", default=200, show_default=True, type=int,
              help="threads for page requests (and /collab Socket.IO connections; /yjs live connections need none)")
@click.option("--access-log", envvar="CONSTITUENT_ACCESS_LOG", help="write gunicorn's access log here (- for stdout)")
def serve(host: str, port: int, database: str | None, redis: str | None, threads: int, access_log: str | None) -> None:
    """Serve the application."""
    overrides = {}
    if database:
        overrides["DATABASE_URL"] = database
    if redis:
        overrides["REDIS_URL"] = redis
    _serve(lambda: create_app(overrides), host, port, threads, access_log)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Sample data under ./instance, then serve over plain HTTP.

    Creates the demo accounts and the sample constitution the first time; later runs reuse them.
    """

    plain_http = {"SESSION_COOKIE_SECURE": False}  # the demo is served over plain HTTP
    click.echo("Constituent demo: preparing the sample data (the first run synthesizes a survey of 26,000 answers)…")
    sys.stdout.flush()
    with command_app(plain_http, language=None) as app:  # the seed writes content: in the site's language
        accounts, document, notes = seed(app)
        database = app.config["DATABASE_URL"]
    click.echo("Constituent demo")
    click.echo(f"  database: {database}")
    click.echo(f"  accounts (password for all: {DEMO_PASSWORD}):")
    for email, role in accounts:
        click.echo(f"    {email:32} {role}")
    for note in notes:
        click.echo(f"  note: {note}")
    click.echo(f"  open http://{host}:{port}/  (document: http://{host}:{port}/d/{document}/edit)")
    sys.stdout.flush()
    _serve(lambda: create_app(plain_http), host, port, 200)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(list(IMPORTERS)),
              help="default: from the file name (.xml or .akn: akn; .docx: docx; otherwise text)")
@click.option("--slug", help="address of the new document (default: from its title)")
@click.option("--title", help="title (default: the one the file gives)")
@click.option("--type", "doctype", type=click.Choice(["act", "bill"]), help="default: the file's, or bill for text")
@click.option("--publish", is_flag=True, help="make it readable by the public at once")
@click.option("--language", type=click.Choice(list(TEXT_LANGUAGES)),
              help="the conventions of a text or Word draft (default: detected from the text)")
def import_(file: str, fmt: str | None, slug: str | None, title: str | None, doctype: str | None, publish: bool,
            language: str | None) -> None:
    """Create a live document from an Akoma Ntoso file, a Word draft (.docx) or the plain text of a law."""
    fmt = fmt or format_for(file)
    data = read_bounded(file, MAX_IMPORT_BYTES)
    with command_app() as app:
        try:
            result = import_document(services_of(app), data, fmt, slug=slug, title=title, doctype=doctype,
                                     published=publish, language=language)
        except (AkomaNtosoError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"imported {result.document.slug!r}: {result.document.title}")
    click.echo("  " + ", ".join(f"{n} {kind}" for kind, n in result.counts().items()))
    if result.findings:
        click.echo(f"  {len(result.findings)} note(s) on what could not be carried over as it was:")
        for finding in result.findings:
            click.echo(f"  - {finding.where}: {finding.message}")


@main.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["akn", "html", "text"]), default="akn", show_default=True)
@click.option("--version", "version", help="a frozen version: its number (3 or v3); default: the live text")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True), default="-",
              help="file to write (default: standard output)")
def export(slug: str, fmt: str, version: str | None, output: str) -> None:
    """Write a document's live text, or one of its versions, as Akoma Ntoso 3.0, HTML or plain text."""
    with command_app() as app:
        try:
            data = export_document(services_of(app), slug, fmt, app.config, version=version)
        except (AkomaNtosoError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    with click.open_file(output, "wb") as stream:
        stream.write(data)
    if output != "-":
        click.echo(f"wrote {output} ({len(data):,} bytes)", err=True)


@main.group()
def users() -> None:
    """Manage accounts."""


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password", help="prompted for when not given")
@click.option("--name", help="display name (default: from the email)")
def users_add(email: str, role: str, password: str | None, name: str | None) -> None:
    """Create an account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with command_app() as app:
        services = services_of(app)
        try:
            user = add_user(services.db, email, role, password, name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        audit.record(services.engine, "account.created", actor=audit.cli_actor(), target=f"user:{user.id}",
                     detail={"role": role})
        click.echo(f"created {user.email} ({user.role})")


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def users_role(email: str, role: str) -> None:
    """Change an account's role. Pages follow at once. With Redis (REDIS_URL, as the servers use
    it), the running servers re-decide the account's open live connections at once, as the admin
    page does; a server without Redis cannot hear this command, and an editor already open there
    keeps its write right until it reconnects."""
    with command_app() as app:
        services = services_of(app)
        user = services.db.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no account has the email {email}")
        before, user.role = user.role, role
        services.db.commit()
        audit.record(services.engine, "account.role_changed", actor=audit.cli_actor(), target=f"user:{user.id}",
                     detail={"from": before, "to": role})
        services.events.publish(AccountChanged(account=user.id))  # to the servers, through Redis
        click.echo(f"{user.email}: {before} -> {role}")


@users.command("token")
@click.argument("email")
@click.option("--days", default=30.0, show_default=True, type=float, help="how long the token stays valid")
def users_token(email: str, days: float) -> None:
    """Print a token with which a program opens live connections as this account.

    Pass it as `?token=…` (y-websocket's WebsocketProvider: `params: {token}`) or as
    `Authorization: Bearer …` to ws://HOST/yjs/<slug>. It has the account's rights at each
    connection, and stops working when it expires, when the account signs out everywhere or
    is deactivated."""
    with command_app() as app:
        services = services_of(app)
        user = services.db.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active:
            raise click.ClickException(f"no active account has the email {email}")
        if days <= 0:
            raise click.ClickException("--days must be positive")
        with app.app_context():
            token = make_token(user, days)
        audit.record(services.engine, "account.token_issued", actor=audit.cli_actor(), target=f"user:{user.id}",
                     detail={"days": days})
        click.echo(token)


@main.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.option("--against", metavar="HASH", help="a head hash published earlier (/audit/head): it must still be in the chain")
def audit_verify(against: str | None) -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if it was tampered with."""
    with command_app() as app:
        verdict = audit.verify(services_of(app).engine, against=against.strip() if against else None)
        if not verdict.ok:
            where = f"at entry {verdict.bad_id}" if verdict.bad_id is not None else "against the published head"
            click.echo(f"audit log BROKEN {where}: {verdict.problem} ({verdict.checked} entries checked)", err=True)
            sys.exit(1)
        click.echo(f"audit log intact: {verdict.checked} entries; head {verdict.head}")


@audit_group.command("list")
@click.option("--document", help="only this document (slug)")
@click.option("--action", help="only actions starting with this (e.g. text. or account.)")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
def audit_list(document: str | None, action: str | None, limit: int) -> None:
    """The latest entries, newest first, one per line (tab-separated)."""
    with command_app() as app:
        for row in audit.events(services_of(app).engine, document=document, action=action, limit=limit):
            click.echo("\t".join([str(row.id), row.at, row.actor, row.role, row.ip, row.action, row.document,
                                  row.target, row.detail]))


# --- the database schema (Alembic migrations in editor/migrations; editor/schema.py) -----------

_DATABASE_OPTION = click.option(
    "--database", envvar="DATABASE_URL", help="SQLAlchemy URL (default: SQLite under ./instance)")


def _database_url(database: str | None) -> str:
    if database:
        return database

    return config_module.load({"SECRET_KEY": "unused"})["DATABASE_URL"]  # the default the app would use


@contextlib.contextmanager
def _schema_errors():
    """The schema's refusals and Alembic's errors (an unknown revision…) as plain messages."""
    from alembic.util import CommandError
    from sqlalchemy.exc import OperationalError


    try:
        yield
    except (SchemaError, CommandError) as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:  # no server there, no such database, refused credentials…
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise click.ClickException(f"cannot reach the database: {reason}") from None


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group("db")
def db_group() -> None:
    """The database schema: migrations (Alembic) on SQLite or PostgreSQL."""


@db_group.command("upgrade")
@_DATABASE_OPTION
@click.option("--revision", default="head", show_default=True, help="the revision to upgrade to")
def db_upgrade(database: str | None, revision: str) -> None:
    """Create or upgrade the schema (safe to run again: a database at the revision is left as it is)."""
    url = _database_url(database)
    with _schema_errors():
        before, after = upgrade(url, revision)
    click.echo(f"database: {_shown(url)}")
    if before.revision == after.revision and not before.legacy:
        click.echo(f"  already at {after.describe}: nothing to do")
    else:
        click.echo(f"  was: {before.describe}")
        click.echo(f"  now: {after.describe}")


@db_group.command("downgrade")
@click.argument("revision")
@_DATABASE_OPTION
def db_downgrade(revision: str, database: str | None) -> None:
    """Undo migrations down to REVISION (`base`: drop every table, and with them all the data)."""
    url = _database_url(database)
    with _schema_errors():
        before, after = downgrade(url, revision)
    click.echo(f"database: {_shown(url)}")
    click.echo(f"  was: {before.describe}")
    click.echo(f"  now: {after.describe}")


@db_group.command("current")
@_DATABASE_OPTION
def db_current(database: str | None) -> None:
    """The database's revision and this version's head; exit 1 unless the database is at head."""
    url = _database_url(database)
    with _schema_errors():
        state = current(url)
    click.echo(f"database: {_shown(url)}")
    click.echo(f"  revision: {state.describe}")
    click.echo(f"  head: {state.head}")
    if state.revision != state.head:
        sys.exit(1)


@db_group.command("check")
@_DATABASE_OPTION
def db_check(database: str | None) -> None:
    """Compare the database's schema with the models; exit 1 and list the differences if any."""
    url = _database_url(database)
    with _schema_errors():
        found = check(url)
    for diff in found:
        click.echo(f"  {diff!r}")
    if found:
        click.echo(f"{len(found)} difference(s) between {_shown(url)} and the models", err=True)
        sys.exit(1)
    click.echo(f"{_shown(url)}: the schema matches the models")


@db_group.command("stamp")
@click.argument("revision")
@_DATABASE_OPTION
def db_stamp(revision: str, database: str | None) -> None:
    """Record REVISION as the database's without running anything (a schema brought in line by hand)."""
    url = _database_url(database)
    with _schema_errors():
        state = stamp(url, revision)
    click.echo(f"database: {_shown(url)}: now {state.describe}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="what the migration does")
@click.option("--autogenerate", is_flag=True,
              help="write the operations from the models' differences with a database at head")
@click.option("--database", help="compare with this database (default: a new SQLite file migrated to head)")
def db_revision(message: str, autogenerate: bool, database: str | None) -> None:
    """For developers: a new migration in editor/migrations/versions (read it and edit it before use)."""
    import tempfile

    from alembic import command


    current_head = head()
    rev_id = f"{int(current_head) + 1:04d}" if current_head.isdigit() else None
    with tempfile.TemporaryDirectory() as scratch:
        url = database
        if autogenerate and not url:
            url = f"sqlite:///{scratch}/head.sqlite3"
            upgrade(url)
        scripts = command.revision(alembic_config(url), message=message, autogenerate=autogenerate, rev_id=rev_id)
    for written in scripts if isinstance(scripts, list) else [scripts]:
        click.echo(f"wrote {written.path}: read it, fix what autogenerate cannot see (column-level CHECKs, "
                   "renames, data), then test it: pytest tests/test_migrations.py")


def _register_provenance_commands() -> None:

    main.add_command(petitions)
    main.add_command(revise)
    main.add_command(survey)

    main.add_command(outbox)
    main.add_command(notifications)


_register_provenance_commands()
