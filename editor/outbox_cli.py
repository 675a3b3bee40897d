"""`constituent outbox …`: the messages waiting to be sent (email and webhooks)."""

from __future__ import annotations

import click
from sqlalchemy import select

from . import clock
from .cli_support import command_app
from .outbox import OutboxMessage, deliver_due, pending
from .services import services_of


@click.group("outbox")
def outbox() -> None:
    """Messages waiting to be sent (email and webhooks)."""


@outbox.command("deliver")
@click.option("--now", "ignore_backoff", is_flag=True, help="retry failed messages now instead of after their backoff")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 100_000))
def deliver_command(ignore_backoff: bool, limit: int) -> None:
    """Send the messages that are due; failures stay queued with their error."""
    with command_app() as app:
        services = services_of(app)
        report = deliver_due(services.engine, app.config, limit=limit, ignore_backoff=ignore_backoff)
        left = len(pending(services.db))
    click.echo(f"{report}; {left} still queued")
    if report.failed:
        raise SystemExit(1)


@outbox.command("list")
@click.option("--all", "everything", is_flag=True, help="sent messages too (default: queued only)")
def list_command(everything: bool) -> None:
    """Show queued messages (kind, recipient, subject, attempts, last error)."""
    with command_app() as app:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if not everything:
            query = query.where(OutboxMessage.sent_at.is_(None))
        rows = list(services_of(app).db.scalars(query))
    if not rows:
        click.echo("no messages" if everything else "nothing queued")
    for m in rows:
        state = f"sent {(clock.as_utc(m.sent_at)):%Y-%m-%d %H:%M}" if m.sent_at else f"queued, {m.attempts} attempt(s)"
        click.echo(f"#{m.id} {m.kind} to {m.recipient} · {m.subject or m.event} · {state}")
        if m.last_error and not m.sent_at:
            click.echo(f"    last error: {m.last_error}")
