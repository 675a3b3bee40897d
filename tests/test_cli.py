"""The constituent command: creating accounts, and refusing bad ones with a clear message."""

from __future__ import annotations

from click.testing import CliRunner

from editor.cli import main


def test_users_add_creates_an_account_that_can_sign_in(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    runner = CliRunner()
    result = runner.invoke(main, ["users", "add", "Lucia@Example.org", "--role", "committee", "--password", "una clave larga"])
    assert result.exit_code == 0, result.output
    assert "created lucia@example.org (committee)" in result.output

    again = runner.invoke(main, ["users", "add", "lucia@example.org", "--role", "viewer", "--password", "otra clave larga"])
    assert again.exit_code != 0 and "already exists" in again.output

    short = runner.invoke(main, ["users", "add", "x@example.org", "--role", "viewer", "--password", "corta"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output

    bad_role = runner.invoke(main, ["users", "add", "y@example.org", "--role", "emperor", "--password", "una clave larga"])
    assert bad_role.exit_code != 0 and "emperor" in bad_role.output

    from editor import create_app
    from editor.accounts import authenticate

    app = create_app()
    services = app.extensions["constituent"]
    assert authenticate(services.db, "lucia@example.org", "una clave larga") is not None
    assert authenticate(services.db, "lucia@example.org", "wrong password") is None


def test_prompts_for_the_password_when_not_given(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    result = CliRunner().invoke(main, ["users", "add", "m@example.org", "--role", "admin"],
                                input="una clave larga\nuna clave larga\n")
    assert result.exit_code == 0, result.output
    assert "created m@example.org (admin)" in result.output
