"""Mentions and notifications (issue 22): `@name` in a comment or a reply tells that person, a reply
tells the thread's participants, each as they chose per document (in-app; e-mail off, at once or in
a daily digest through the outbox), and a notification's text is rendered in the reader's language
when it is read, not in the language it was written in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from conftest import ACCOUNTS, PASSWORD, PUBLISHED
from sqlalchemy import select

MOBILITY = "00000000-0000-4000-8000-000000000004"
ANIMALS = "00000000-0000-4000-8000-000000000005"
API = f"/api/v1/documents/{PUBLISHED}"


@pytest.fixture
def app(instance):
    from editor import create_app

    made = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    yield made
    made.extensions["constituent"].close()


class Person:
    """A signed-in account's browser: its pages, and the JSON API with the editor's CSRF token."""

    def __init__(self, app, who: str, language: str = "en") -> None:
        self.client = app.test_client()
        self.language(language)
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        signed = self.client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 302, signed.status_code
        editor = self.client.get(f"/d/{PUBLISHED}/edit").get_data(as_text=True)
        self.token = re.search(r'data-csrf="([^"]+)"', editor).group(1)

    def language(self, language: str) -> Person:
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        return self

    def post(self, path: str, payload: dict):
        return self.client.post(path, json=payload, headers={"X-CSRFToken": self.token})

    def put(self, path: str, payload: dict):
        return self.client.put(path, json=payload, headers={"X-CSRFToken": self.token})

    def comment(self, unit: str, body: str) -> dict:
        response = self.post(f"{API}/comments", {"unit": unit, "body": body})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def reply(self, thread: int, body: str) -> dict:
        response = self.post(f"{API}/comments/{thread}/replies", {"body": body})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def notifications(self) -> list[dict]:
        response = self.client.get("/api/v1/notifications")
        assert response.status_code == 200
        return response.get_json()["notifications"]

    def prefer(self, **choices: dict) -> dict:
        response = self.put(f"{API}/notification-preferences", {"preferences": choices})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["preferences"]


def _outbox(app, to: str | None = None, event: str | None = None) -> list:
    from editor.outbox import OutboxMessage

    db = app.extensions["constituent"].db
    db.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == "email").order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    if event:
        query = query.where(OutboxMessage.event == event)
    return list(db.scalars(query))


def _in_catalogue(msgid: str, locale: str = "es") -> bool:
    """Whether the Spanish catalogue translates `msgid` yet (the integrator fills it)."""
    from babel.support import Translations

    from editor.review.service import TRANSLATIONS

    return Translations.load(str(TRANSLATIONS), [locale]).gettext(msgid) != msgid


def _digest(instance) -> str:
    from editor.cli import main

    result = CliRunner().invoke(main, ["notifications", "digest"],
                                env={"CONSTITUENT_INSTANCE": str(instance), "SECRET_KEY": "test-secret"})
    assert result.exit_code == 0, result.output
    return result.output


def _set_language(app, who: str, language: str) -> None:
    from editor.models import User

    db = app.extensions["constituent"].db
    db.scalar(select(User).where(User.email == ACCOUNTS[who][0])).language = language
    db.commit()


# --- mentions and replies -------------------------------------------------------------------------


def test_a_mention_in_a_reply_tells_bruno_once_by_email_and_reads_in_each_readers_language(app):
    from editor.notifications.service import DEFAULTS

    assert DEFAULTS["mention"] == (True, "immediate") and DEFAULTS["reply"] == (True, "off")
    lucia, ana = Person(app, "lucia"), Person(app, "ana")
    thread = lucia.comment(MOBILITY, "¿Incluimos a los peatones?")["comment"]
    assert thread["author"] == "Lucia"

    answer = ana.reply(thread["id"], "Sí. @Bruno, ¿puede revisar la redacción?")
    assert answer["mentions"]["notified"] == ["Bruno"]
    assert answer["mentions"]["ambiguous"] == [] and answer["mentions"]["unknown"] == []
    assert "Bruno" in answer["mentions"]["notice"]

    # Bruno: one notification, linked to the thread, and exactly one e-mail (mentions: at once by default).
    bruno = Person(app, "bruno")
    [note] = bruno.notifications()
    assert note["kind"] == "mention" and note["document"] == PUBLISHED and not note["read"]
    assert note["url"] == f"/d/{PUBLISHED}/edit?comment={thread['id']}"
    english = note["text"]
    assert english.startswith("Ana mentioned you in a comment on ") and "¿puede revisar la redacción?" in english
    [mail] = _outbox(app, "bruno@example.org")
    assert mail.event == "notification.mention" and "¿puede revisar la redacción?" in mail.body
    assert f"/d/{PUBLISHED}/edit?comment={thread['id']}" in mail.body

    # The same notification, read by a Spanish reader, is rendered in Spanish (at read time).
    from editor.notifications.texts import render

    spanish = bruno.language("es").notifications()[0]["text"]
    key = "%(name)s mentioned you in a comment on %(unit)s: “%(excerpt)s”"
    with app.app_context():
        assert spanish == render(key, {"name": "Ana", "unit": english.split(" on ", 1)[1].split(":")[0],
                                       "excerpt": "Sí. @Bruno, ¿puede revisar la redacción?"}, "es")
    if _in_catalogue(key):
        assert spanish != english and "Ana" in spanish
    # …and the notifications page shows it to him in his language, with a way to his settings.
    page = bruno.language("en").client.get("/notifications").get_data(as_text=True)
    assert "Ana mentioned you in a comment on" in page and f"/notifications/preferences/{PUBLISHED}" in page

    # Lucía started the thread: she hears of the reply in the application, not by e-mail (the default).
    [told] = Person(app, "lucia").notifications()
    assert told["kind"] == "reply" and told["text"].startswith("Ana replied in a thread on ")
    assert _outbox(app, "lucia@example.org") == []
    # The writer is never told of her own words.
    assert ana.notifications() == []

    # Marked as read through the API.
    read = bruno.post(f"/api/v1/notifications/{note['id']}/read", {})
    assert read.status_code == 200 and read.get_json()["notification"]["read"]
    assert bruno.client.get("/api/v1/notifications?unread=1").get_json()["notifications"] == []


def test_a_notification_reads_in_the_language_of_its_reader_not_of_its_writing(app):
    """A petition crossing a threshold (a message the catalogue already translates): one row per
    member, read in English by one and in Spanish by another; e-mailed in the account's language."""
    from editor.documents import get_document
    from editor.petitions.service import import_petitions

    _set_language(app, "bruno", "en")
    ana, bruno = Person(app, "ana", "es"), Person(app, "bruno", "en")
    ana.prefer(threshold={"in_app": True, "email": "immediate"})
    bruno.prefer(threshold={"in_app": True, "email": "immediate"})
    services = app.extensions["constituent"]
    with app.app_context():
        document = get_document(services.db, PUBLISHED)
        import_petitions(services.db, document, b"title,signatures\nAgua para todas las colonias,6000\n", "csv",
                         at=datetime(2016, 3, 10, 12, tzinfo=UTC))
        services.db.commit()
    [english] = bruno.notifications()
    [spanish] = ana.notifications()
    assert english["kind"] == spanish["kind"] == "threshold"
    assert english["text"].startswith("“Agua para todas las colonias” reached 5,000 signatures: ")
    assert spanish["text"].startswith("«Agua para todas las colonias» alcanzó ") and " firmas: " in spanish["text"]
    # The same row read by Ana in English reads in English.
    assert ana.language("en").notifications()[0]["text"] == english["text"]
    # E-mail: in each account's language (Ana's: Spanish, the default; Bruno's: English).
    [to_ana] = _outbox(app, "ana@example.org")
    [to_bruno] = _outbox(app, "bruno@example.org")
    assert "alcanzó" in to_ana.body and "reached 5,000 signatures" in to_bruno.body


# --- preferences and the digest -------------------------------------------------------------------


def test_preferences_off_tell_nothing_and_a_digest_bundles_once(app, instance):
    ana, bruno = Person(app, "ana"), Person(app, "bruno")
    chosen = bruno.prefer(mention={"in_app": False, "email": "off"})
    assert chosen["mention"] == {"in_app": False, "email": "off"}
    assert chosen["stage"] == {"in_app": True, "email": "off"}  # untouched: the default
    thread = ana.comment(ANIMALS, "@Bruno: ¿sintientes o sensibles?")
    assert thread["mentions"]["notified"] == ["Bruno"]  # named, but he chose to hear nothing of it
    assert bruno.notifications() == [] and _outbox(app, "bruno@example.org") == []

    # A digest: several notifications, one message; a second run sends nothing.
    bruno.prefer(mention={"in_app": True, "email": "digest"}, reply={"in_app": True, "email": "digest"})
    first = ana.comment(MOBILITY, "@Bruno, mire el primer párrafo.")["comment"]
    ana.comment(ANIMALS, 'Y @"bruno" también este.')
    bruno.reply(first["id"], "Lo miro.")
    ana.reply(first["id"], "Gracias.")  # a reply in a thread Bruno took part in
    assert [n["kind"] for n in bruno.notifications()] == ["reply", "mention", "mention"]
    assert _outbox(app, "bruno@example.org") == []  # nothing at once

    assert "1 digest message(s) queued for 3 notification(s)" in _digest(instance)
    [digest] = _outbox(app, "bruno@example.org")
    assert digest.event == "notification.digest"
    assert "3" in digest.subject
    assert digest.body.count("- ") >= 3 and "mire el primer párrafo" in digest.body and "Gracias." in digest.body
    assert "0 digest message(s)" in _digest(instance)
    assert len(_outbox(app, "bruno@example.org")) == 1

    # Bad preferences change nothing.
    refused = bruno.put(f"{API}/notification-preferences", {"preferences": {"mention": {"email": "weekly"}}})
    assert refused.status_code == 400
    refused = bruno.put(f"{API}/notification-preferences", {"preferences": {"gossip": {"email": "off"}}})
    assert refused.status_code == 400
    assert bruno.client.get(f"{API}/notification-preferences").get_json()["preferences"]["mention"]["email"] == "digest"


def test_the_preferences_page_saves_choices(app):
    bruno = Person(app, "bruno")
    document = bruno.client.get(f"/d/{PUBLISHED}").get_data(as_text=True)
    assert f'href="/notifications/preferences/{PUBLISHED}" data-link="notification-preferences"' in document
    overview = bruno.client.get("/notifications/preferences")
    assert overview.status_code == 200 and f"/notifications/preferences/{PUBLISHED}" in overview.get_data(as_text=True)
    page = bruno.client.get(f"/notifications/preferences/{PUBLISHED}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'data-kind="mention"' in page and 'data-email="immediate"' in page
    saved = bruno.client.post(f"/notifications/preferences/{PUBLISHED}", data={
        "csrf_token": token, "mention-in_app": "on", "mention-email": "digest", "stage-email": "immediate"})
    assert saved.status_code == 302
    chosen = bruno.client.get(f"{API}/notification-preferences").get_json()["preferences"]
    assert chosen["mention"] == {"in_app": True, "email": "digest"}
    assert chosen["stage"] == {"in_app": False, "email": "immediate"}
    assert chosen["reply"] == {"in_app": False, "email": "off"}
    # The language of e-mails.
    changed = bruno.client.post("/notifications/preferences", data={"csrf_token": token, "language": "en"})
    assert changed.status_code == 302
    assert bruno.client.get("/api/v1/notifications/language").get_json() == {"language": "en"}
    assert bruno.put("/api/v1/notifications/language", {"language": "fr"}).status_code == 400


def test_an_older_notification_without_a_key_reads_as_it_was_written(app):
    from editor.models import Notification, User

    db = app.extensions["constituent"].db
    bruno_id = db.scalar(select(User.id).where(User.email == ACCOUNTS["bruno"][0]))
    db.add(Notification(user_id=bruno_id, message="Aviso de antes", url="/d/x"))
    db.commit()
    bruno = Person(app, "bruno")
    [note] = bruno.notifications()
    assert note["text"] == "Aviso de antes" and note["kind"] is None
    assert "Aviso de antes" in bruno.client.get("/notifications").get_data(as_text=True)


# --- who a name is --------------------------------------------------------------------------------


def test_an_ambiguous_or_unknown_name_notifies_nobody_wrongly(app):
    from editor.accounts import add_user

    db = app.extensions["constituent"].db
    add_user(db, "bruno.perez@example.org", "committee", PASSWORD, name="Bruno Pérez")
    ana = Person(app, "ana")
    posted = ana.comment(MOBILITY, "@Bruno y @Zoe, ¿y @Vera? Nadie más.")
    mentions = posted["mentions"]
    assert mentions["notified"] == []
    assert mentions["ambiguous"] == [{"text": "@Bruno", "candidates": ["Bruno", "Bruno Pérez"]}]
    # Vera reads the document but not its comments: to the writer she is nobody here.
    assert mentions["unknown"] == ["@Zoe", "@Vera"]
    assert "nobody was notified" in mentions["notice"]
    for who in ("bruno", "vera"):
        assert Person(app, who).notifications() == []
    assert _outbox(app) == []

    # The whole name settles it, with or without quotes and accents; each is told once.
    posted = ana.comment(MOBILITY, '@"Bruno Pérez" y @Bruno Perez otra vez, y @bruno.')
    assert posted["mentions"]["notified"] == ["Bruno Pérez"]
    assert posted["mentions"]["ambiguous"] == [{"text": "@bruno", "candidates": ["Bruno", "Bruno Pérez"]}]
    assert Person(app, "bruno").notifications() == []
    assert [m.recipient for m in _outbox(app)] == ["bruno.perez@example.org"]
    # An e-mail address is no mention.
    assert ana.comment(MOBILITY, "Escriba a ana@example.org")["mentions"]["notified"] == []


def test_mentions_are_resolved_among_the_people_given():
    from editor.models import User
    from editor.notifications.service import find_mentions

    people = [User(id=1, name="Ana"), User(id=2, name="Bruno Díaz"), User(id=3, name="José María Núñez")]
    found = find_mentions('@ana, @"bruno diaz" y @José María Núñez: @Bruno.', people)
    assert [u.name for u in found.people] == ["Ana", "Bruno Díaz", "José María Núñez"]
    assert found.ambiguous == [] and found.unknown == []
    assert find_mentions("@José", people).people[0].id == 3
    assert find_mentions("sin menciones", people).people == []


# --- stages and obligations -----------------------------------------------------------------------


def test_stage_changes_and_obligations_due_are_told_as_chosen(app):
    from editor.documents import get_document
    from editor.notifications.service import remind_obligations, stage_changed
    from editor.petitions.service import import_petitions

    services = app.extensions["constituent"]
    bruno = Person(app, "bruno")
    bruno.prefer(stage={"in_app": True, "email": "immediate"})
    Person(app, "lucia").prefer(stage={"in_app": False, "email": "off"})
    # The committee moves the document on (the API a page's button uses too); its people are told.
    advanced = Person(app, "ana").post(f"{API}/stages/advance", {})
    assert advanced.status_code == 201, advanced.get_data(as_text=True)
    assert services.events.drain()
    [note] = bruno.notifications()
    entered = note["text"]
    assert note["kind"] == "stage" and entered.startswith("“Constitución de prueba” entered the stage ")
    with app.app_context():
        document = get_document(services.db, PUBLISHED)
        assert stage_changed(services.db, document, "legal_review") >= 3  # ana, bruno, asa, abel, admin…
        services.db.commit()
    assert bruno.notifications()[0]["text"] == "“Constitución de prueba” entered the stage Legal review."
    assert bruno.language("es").notifications()[0]["text"].startswith("«Constitución de prueba»") or not _in_catalogue(
        "“%(document)s” entered the stage %(stage)s.")
    bruno.language("en")
    assert note["url"] == f"/d/{PUBLISHED}/stages"
    assert [m.event for m in _outbox(app, "bruno@example.org")] == ["notification.stage"] * 2
    assert Person(app, "lucia").notifications() == []
    assert Person(app, "vera").notifications() == []  # a reader is not one of the document's people

    with app.app_context():
        import_petitions(services.db, document, b"title,signatures\nAgua para todas las colonias,6000\n", "csv",
                         at=datetime(2016, 3, 10, 12, tzinfo=UTC))
        services.db.commit()
        told = remind_obligations(services.db, today=datetime(2099, 1, 1).date())
        assert remind_obligations(services.db, today=datetime(2099, 1, 1).date()) == 0  # once each
    due = [n for n in bruno.notifications() if n["kind"] == "obligation"]
    assert len(due) <= told and all(" is due on " in n["text"] for n in due)


# --- in the editor (Chromium) ---------------------------------------------------------------------


@pytest.mark.browser
def test_in_the_editor_a_name_is_completed_highlighted_and_its_notification_opens_the_thread(server, browser):
    from playwright.sync_api import expect
    from test_browser_comments import Pages, caret

    pages = Pages(browser, server)
    lucia = pages.open("lucia")
    panel = lucia.locator("#comments")
    expect(panel.get_by_role("link", name="Configuración de notificaciones")).to_have_attribute(
        "href", f"/notifications/preferences/{PUBLISHED}")
    caret(lucia, "derecho a moverse", "after")
    lucia.keyboard.press("Control+Alt+KeyM")
    box = panel.get_by_label("Comentario", exact=True)
    expect(box).to_be_focused()
    lucia.keyboard.type("¿Lo revisa @bru")
    options = panel.get_by_role("listbox", name="Personas que puede mencionar").get_by_role("option")
    expect(options).to_have_text(["Bruno"])
    expect(box).to_have_attribute("aria-expanded", "true")
    lucia.keyboard.press("Enter")  # chooses the name; it does not start a new line
    expect(box).to_have_value("¿Lo revisa @Bruno ")
    lucia.keyboard.type("antes del jueves?")
    panel.get_by_role("button", name="Publicar").click()
    thread = panel.locator(".cmt-thread")
    expect(thread.locator(".cmt-body .cmt-mention")).to_have_text("@Bruno")
    expect(panel.locator(".cmt-status")).to_contain_text("Comentario publicado.")
    expect(panel.locator(".cmt-status")).to_contain_text("Bruno")
    thread_id = thread.get_attribute("data-comment-id")

    # Bruno follows his notification to the editor: the thread is brought forward.
    bruno = pages.open("bruno")
    bruno.goto(f"{server.url}/notifications")
    link = bruno.locator("li[data-kind=mention] a").first
    expect(link).to_contain_text("Lucia")
    link.click()
    bruno.wait_for_url(f"**/d/{PUBLISHED}/edit?comment={thread_id}")
    active = bruno.locator("#comments .cmt-thread.cmt-active")
    expect(active).to_have_attribute("data-comment-id", thread_id)
    expect(active.locator(".cmt-mention")).to_have_text("@Bruno")
    assert pages.errors == []
