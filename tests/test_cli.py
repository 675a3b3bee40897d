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


def test_commands_run_inside_a_longer_process_leave_no_threads_or_connections_behind(instance, tmp_path):
    """A script or a test that imports and exports through the command must not accumulate the
    commands' event handlers, rooms or connections: each run closes what it started."""
    import threading

    from conftest import open_files

    env = {"CONSTITUENT_INSTANCE": str(instance), "SECRET_KEY": "test-secret"}
    law = tmp_path / "ley.txt"
    law.write_text("LEY DE PRUEBA\n\nArtículo 1. El agua es un derecho.\n\nArtículo 2. Nadie será privado de ella.\n",
                   encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["import", str(law), "--slug", "ley-0"], env=env)
    assert first.exit_code == 0, first.output
    threads, files = set(threading.enumerate()), open_files()
    for n in range(1, 4):
        made = runner.invoke(main, ["import", str(law), "--slug", f"ley-{n}"], env=env)
        assert made.exit_code == 0 and "2 article" in made.output, made.output
        written = runner.invoke(main, ["export", f"ley-{n}", "--format", "text"], env=env)
        assert written.exit_code == 0 and "Nadie será privado de ella." in written.output, written.output
        listed = runner.invoke(main, ["audit", "verify"], env=env)
        assert listed.exit_code == 0, listed.output
    left = sorted(t.name for t in set(threading.enumerate()) - threads)
    assert not left, f"the commands left threads running: {left}"
    assert open_files() <= files + 1, "the commands leave database connections or files open"
