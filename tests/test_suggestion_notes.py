"""Notes on a suggestion (issue 22): those who see a suggestion discuss it in notes; `@name` in a
note tells that person, and the suggestion's author and the earlier note writers hear of it, each
as they chose (in-app, e-mail through the outbox, in their language). Notes are written on pending
suggestions and stay readable once they are decided (editor.suggestions.notes).

The suggestions are written into the live text the way the web editor writes them (the marks of
web/src/suggest.js), through the room, as a connected editor's update would arrive."""

from __future__ import annotations

import pytest
from conftest import ACCOUNTS, PUBLISHED
from pycrdt import XmlElement, XmlFragment
from sqlalchemy import select
from test_audit import _entries
from test_notifications import API, Person, _in_catalogue, _outbox, _set_language
from test_suggestions import ANIMALS, NEW_ARTICLE, WATER, _b, _mark, _new_article, _s, _text

NOTES = f"{API}/suggestions/s-ins/notes"


@pytest.fixture
def app(instance):
    from editor import create_app

    made = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    yield made
    made.extensions["constituent"].close()


def _account(app, who: str) -> int:
    from editor.models import User

    db = app.extensions["constituent"].db
    return db.scalar(select(User.id).where(User.email == ACCOUNTS[who][0]))


def _suggest(app, change) -> None:
    """A change of the live text's body, made in its room (as an editor's update is applied)."""
    services = app.extensions["constituent"]
    with app.app_context():
        services.texts.change(PUBLISHED, lambda doc: change(doc.get("body", type=XmlFragment)))


def _ana_suggests_potable(app) -> int:
    """Ana's suggested insertion " potable" after "agua" in Artículo 1 (id s-ins)."""
    ana_id = _account(app, "ana")

    def change(body):
        text = _text(body, WATER)
        text.insert(_b(_s(text), "."), " potable", {"ins": _mark("s-ins", ana_id, "Ana")})
    _suggest(app, change)
    return ana_id


def _note(person: Person, body: str, path: str = NOTES) -> dict:
    response = person.post(path, {"body": body})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _notes(person: Person, path: str = NOTES) -> dict:
    response = person.client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_note_tells_whom_it_mentions_the_suggestions_author_and_earlier_writers(app, instance):
    _ana_suggests_potable(app)
    _set_language(app, "lucia", "en")
    ana, bruno, lucia = Person(app, "ana"), Person(app, "bruno"), Person(app, "lucia")

    posted = _note(bruno, "@Lucia ¿por qué «potable»? ¿No basta con «agua»?")
    assert posted["note"]["author"] == "Bruno" and posted["note"]["mine"] is True
    assert posted["note"]["body"] == "@Lucia ¿por qué «potable»? ¿No basta con «agua»?"
    assert posted["note"]["unit"] == WATER and posted["count"] == 1
    assert posted["mentions"]["notified"] == ["Lucia"]
    assert posted["mentions"]["ambiguous"] == [] and posted["mentions"]["unknown"] == []
    assert "Lucia" in posted["mentions"]["notice"]

    # Lucia, mentioned: a notification that names Bruno, the suggestion's unit and the note, and
    # links to the suggestion in the editor; and an e-mail at once (mentions: by default), in English.
    [mention] = lucia.notifications()
    assert mention["kind"] == "mention" and mention["url"] == f"/d/{PUBLISHED}/edit?suggestion=s-ins"
    assert mention["text"] == ("Bruno mentioned you in a note on a suggestion in Artículo 1 A. 1.: "
                               "“@Lucia ¿por qué «potable»? ¿No basta con «agua»?”")
    [mail] = _outbox(app, "lucia@example.org")
    assert mail.event == "notification.mention" and "Bruno mentioned you in a note on a suggestion" in mail.body
    assert f"/d/{PUBLISHED}/edit?suggestion=s-ins" in mail.body
    # Read by a Spanish reader, the same row is in Spanish once the catalogue has it.
    spanish = lucia.language("es").notifications()[0]["text"]
    assert spanish != mention["text"] or not _in_catalogue(
        "%(name)s mentioned you in a note on a suggestion in %(unit)s: “%(excerpt)s”")
    lucia.language("en")

    # Ana, whose suggestion it is: told in-app ("reply": no e-mail by default); Bruno, the writer: nothing.
    [yours] = ana.language("en").notifications()
    assert yours["kind"] == "reply" and yours["text"].startswith("Bruno wrote a note on your suggestion in Artículo 1 A. 1.: ")
    assert _outbox(app, "ana@example.org") == []
    assert bruno.notifications() == []

    # Lucia answers: Ana (the author) and Bruno (an earlier writer) are told, once each; not Lucia.
    _note(lucia, "Porque el agua de uso humano debe ser potable.")
    assert [n["text"] for n in bruno.language("en").notifications()] == [
        "Lucia replied in the notes on a suggestion in Artículo 1 A. 1.: “Porque el agua de uso humano debe ser potable.”"]
    assert [n["kind"] for n in ana.notifications()] == ["reply", "reply"]
    assert len(lucia.notifications()) == 1
    # Ana writes on her own suggestion: Bruno and Lucia hear of it; she does not.
    _note(ana, "De acuerdo con Lucia.")
    assert len(bruno.notifications()) == 2 and len(lucia.notifications()) == 2 and len(ana.notifications()) == 2

    # The notes, in order, with their authors; the listing counts them.
    listed = _notes(bruno)
    assert listed["decided"] is None
    assert [(n["author"], n["mine"]) for n in listed["notes"]] == [("Bruno", True), ("Lucia", False), ("Ana", False)]
    assert listed["notes"][1]["body"] == "Porque el agua de uso humano debe ser potable."
    assert all(n["created_at"] for n in listed["notes"])
    suggestions = bruno.client.get(f"{API}/suggestions").get_json()
    assert suggestions["notes"] == {"s-ins": 3}

    # The audit: one suggestion.noted per note, by its writer, naming whom it mentioned.
    noted = sorted(_entries(instance, "suggestion.noted", PUBLISHED), key=lambda e: e["id"])
    assert [(e["actor"], e["target"]) for e in noted] == [
        (f"user:{_account(app, who)}", "s-ins") for who in ("bruno", "lucia", "ana")]
    assert noted[0]["detail"]["mentioned"] == [_account(app, "lucia")]
    assert noted[0]["detail"]["author"] == _account(app, "ana") and noted[0]["detail"]["unit"] == WATER


def test_a_bad_note_or_one_on_no_pending_suggestion_is_refused_and_stores_nothing(app):
    _ana_suggests_potable(app)
    bruno = Person(app, "bruno").language("es")
    for payload, status in (({"body": ""}, 400), ({"body": "   "}, 400), ({"body": "x" * 2_001}, 400),
                            ({}, 400), ({"body": 5}, 400), ({"body": "hola\x00"}, 400)):
        response = bruno.post(NOTES, payload)
        assert response.status_code == status, (payload, response.get_data(as_text=True))
        assert response.get_json()["error"]
    assert _notes(bruno)["notes"] == []
    # Exactly the longest allowed note is taken.
    assert _note(bruno, "y" * 2_000)["count"] == 1

    missing = bruno.post(f"{API}/suggestions/s-nada/notes", {"body": "@Ana ¿y esto?"})
    assert missing.status_code == 404
    assert "pending suggestion" in missing.get_json()["error"] or "pendiente" in missing.get_json()["error"]
    assert _notes(bruno, f"{API}/suggestions/s-nada/notes")["notes"] == []
    # Only the note taken told Ana (her suggestion's note); the refused ones told nobody.
    assert [n["kind"] for n in Person(app, "ana").notifications()] == ["reply"]
    assert bruno.client.get(f"{API}/suggestions/{'z' * 65}/notes").status_code == 404


def test_notes_on_a_decided_suggestion_stay_readable_but_take_no_more(app):
    _ana_suggests_potable(app)
    bruno = Person(app, "bruno")
    _note(bruno, "La acepto: es más precisa.")
    decided = bruno.post(f"{API}/suggestions/decide", {"decision": "accept", "suggestion": "s-ins"})
    assert decided.status_code == 200, decided.get_data(as_text=True)

    listed = _notes(bruno)
    assert listed["decided"] == "accepted"
    assert [n["body"] for n in listed["notes"]] == ["La acepto: es más precisa."]
    late = bruno.post(NOTES, {"body": "Una más."})
    assert late.status_code == 404
    assert "pending" in late.get_json()["error"]
    assert len(_notes(bruno)["notes"]) == 1


def test_only_those_who_see_suggestions_read_write_and_are_mentioned_in_notes(app):
    _ana_suggests_potable(app)
    public = app.test_client()
    public.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert public.get(NOTES).status_code == 401
    vera = Person(app, "vera")
    assert vera.client.get(NOTES).status_code == 403
    assert vera.post(NOTES, {"body": "Yo también opino."}).status_code == 403
    assert vera.client.get(f"{API}/suggestions").status_code == 403

    # Vera reads the document but not its suggestions: to the writer she is nobody here.
    posted = _note(Person(app, "bruno"), "¿Lo ve @Vera? ¿Y @Zoe?")
    assert posted["mentions"]["notified"] == [] and posted["mentions"]["unknown"] == ["@Vera", "@Zoe"]
    assert "nobody who may see this document's suggestions" in posted["mentions"]["notice"]
    assert vera.notifications() == []
    assert _notes(Person(app, "ana"))["notes"][0]["mine"] is False


def test_a_note_on_a_suggested_new_unit_names_it_as_a_new_unit(app):
    ana_id = _account(app, "ana")

    def change(body):
        title = body.children[0]
        index = next(i for i, c in enumerate(title.children) if isinstance(c, XmlElement)
                     and c.attributes.get("guid") == ANIMALS)
        title.children.insert(index, _new_article(ana_id))
    _suggest(app, change)
    bruno = Person(app, "bruno")
    listed = bruno.client.get(f"{API}/suggestions").get_json()["suggestions"]
    [unit] = [s for s in listed if s["kind"] == "unit"]
    assert unit["unit"] == NEW_ARTICLE
    _note(bruno, "¿Hace falta un artículo aparte?", f"{API}/suggestions/{unit['id']}/notes")
    [told] = Person(app, "ana").notifications()
    assert told["text"].startswith("Bruno wrote a note on your suggestion in a new unit: ")
