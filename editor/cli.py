"""The `constituent` command: demo, serve, and account administration."""

from __future__ import annotations

import os
import sys

import click

from . import services_of
from .accounts import AccountError, add_user


def _serve(app_factory, host: str, port: int, threads: int) -> None:
    """Run under gunicorn's threaded worker: one process, one thread per connection."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)  # rooms live in this process; scale out with Redis
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 120)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", os.environ.get("CONSTITUENT_ACCESS_LOG"))

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
@click.option("--redis", envvar="REDIS_URL", help="Redis URL; accepted but not used yet (multi-process fan-out is not built): logs a warning")
@click.option("--threads", default=200, show_default=True, type=int, help="concurrent connections served")
def serve(host: str, port: int, database: str | None, redis: str | None, threads: int) -> None:
    """Serve the application."""
    from . import create_app

    overrides = {}
    if database:
        overrides["DATABASE_URL"] = database
    if redis:
        overrides["REDIS_URL"] = redis
    _serve(lambda: create_app(overrides), host, port, threads)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Sample data under ./instance, then serve over plain HTTP.

    Creates the demo accounts and the sample constitution the first time; later runs reuse them.
    """
    from . import create_app
    from .demo import DEMO_PASSWORD, seed

    os.environ["CONSTITUENT_INSECURE_COOKIES"] = "1"  # the demo is served over plain HTTP
    app = create_app()
    accounts, document = seed(app)
    services_of(app).rooms.close_all()
    services_of(app).engine.dispose()
    click.echo("Constituent demo")
    click.echo(f"  database: {app.config['DATABASE_URL']}")
    click.echo(f"  accounts (password for all: {DEMO_PASSWORD}):")
    for email, role in accounts:
        click.echo(f"    {email:32} {role}")
    click.echo(f"  open http://{host}:{port}/  (document: http://{host}:{port}/d/{document}/edit)")
    sys.stdout.flush()
    _serve(create_app, host, port, 200)


@main.group()
def users() -> None:
    """Manage accounts."""


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "committee", "viewer"]))
@click.option("--password", help="prompted for when not given")
@click.option("--name", help="display name (default: from the email)")
def users_add(email: str, role: str, password: str | None, name: str | None) -> None:
    """Create an account."""
    from . import create_app

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = create_app()
    try:
        user = add_user(services_of(app).db, email, role, password, name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.email} ({user.role})")
