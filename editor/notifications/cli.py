"""`constituent notifications …`: the daily digest and the reminders of obligations due."""

from __future__ import annotations

import click

from ..cli_support import command_app
from ..services import services_of
from .service import DUE_WITHIN_DAYS, remind_obligations, send_digests


@click.group("notifications")
def notifications() -> None:
    """Notifications by e-mail: the daily digest, reminders of obligations due."""


@notifications.command("digest")
def digest_command() -> None:
    """Queue one e-mail per person with their notifications waiting for the digest (run it daily;
    running it again sends nothing twice)."""
    with command_app() as app, app.app_context():
        report = send_digests(services_of(app).db)
    click.echo(f"{report.messages} digest message(s) queued for {report.notifications} notification(s)")


@notifications.command("remind")
@click.option("--within", default=DUE_WITHIN_DAYS, show_default=True, type=click.IntRange(0, 365),
              help="days before an obligation is due")
def remind_command(within: int) -> None:
    """Tell the members of open obligations due within --within days (or overdue), once each."""
    with command_app() as app, app.app_context():
        told = remind_obligations(services_of(app).db, within_days=within)
    click.echo(f"{told} reminder(s) of obligations due")
