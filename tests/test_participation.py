"""The public takes part (issue 21): residents sign in with an e-mail (a code or a link, no
password), comment on a clause and support it, and moderators keep it civil.

What a resident or a moderator notices: a comment under pre-moderation is seen by its author as
waiting and by nobody else until a moderator approves it; a reported comment is hidden with its
public reason and its author gets an e-mail; fifty comments in a minute are cut off after the
limit; a closed stage refuses comments and says why; nothing a participant sends changes the legal
text (the Gotham City prank); participants never reach staff pages, and a staff sign-in is left
as it was. The committee's editor hears of public comments live: the socket event here, the
panel itself in a real browser (test_browser_participation.py)."""

from __future__ import annotations

import ast
import email
import email.policy
import re
from pathlib import Path

import pytest
from conftest import ACCOUNTS, PASSWORD, PUBLISHED, ROOT
from sqlalchemy import func, select

ART_1_A = "art_1__para_A"  # Artículo 1, apartado A "Acceso": "Toda persona tiene derecho al agua."
ART_2 = "art_2"  # "Toda persona tiene derecho a moverse."
WATER_WORDS = "derecho al agua"


# --- set-up ------------------------------------------------------------------------------------------


def _to_stage(instance: Path, stage: str) -> None:
    """The administrator moves the published document on to `stage` before the test's app opens it."""
    from editor import create_app
    from editor.documents import get_document
    from editor.models import User
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.test_request_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        admin = db.scalar(select(User).where(User.email == ACCOUNTS["admin"][0]))
        while current_stage(db, document).key != stage:
            advance(services, document, admin)
    services.close()


def _app(instance: Path, **config):
    from editor import create_app

    return create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret", **config})


@pytest.fixture
def consultation(instance):
    """The application over an instance whose published document is in its consultation stage
    (public comments open by default), with the default rules: pre-moderation."""
    _to_stage(instance, "consultation")
    app = _app(instance)
    yield app
    app.extensions["constituent"].close()


@pytest.fixture
def drafting(instance):
    """The application over the seeded instance: the document is being drafted (comments closed)."""
    app = _app(instance)
    yield app
    app.extensions["constituent"].close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def staff(app, who: str):
    client = _english(app.test_client())
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _emails(app, to: str) -> list:
    """The messages delivered to `to` so far, through the outbox's file backend (.eml files)."""
    from editor.outbox import deliver_due, outbox_folder

    deliver_due(app.extensions["constituent"].engine, app.config, ignore_backoff=True)
    found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in sorted(outbox_folder(app.config).glob("*.eml"))]
    return [m for m in found if m["To"] == to]


def ask_to_sign_in(app, client, address: str, next_path: str = "/"):
    page = _page(client, f"/participate/sign-in?next={next_path}")
    return client.post("/participate/sign-in", data={"email": address, "next": next_path, "csrf_token": _csrf(page)})


def sign_in_email(app, address: str) -> tuple[str, str]:
    """The code and the link of the latest sign-in e-mail sent to `address`."""
    message = _emails(app, address)[-1]
    text = message.get_content()
    code = re.search(r"^\s+(\d{6})\s*$", text, re.MULTILINE).group(1)
    link = re.search(r"https?://[^/\s]+(/participate/link/[A-Za-z0-9_-]+)", text).group(1)
    return code, link


def participant(app, address: str, name: str, how: str = "code", next_path: str = f"/d/{PUBLISHED}/{ART_1_A}"):
    """A resident who signed in with `address` (by the e-mailed code, or its link) and chose `name`."""
    client = _english(app.test_client())
    asked = ask_to_sign_in(app, client, address, next_path)
    assert asked.status_code == 303 and asked.headers["Location"].endswith("/participate/code"), asked.status_code
    code, link = sign_in_email(app, address)
    if how == "code":
        page = _page(client, "/participate/code")
        assert address in page
        done = client.post("/participate/code", data={"code": code, "csrf_token": _csrf(page)})
    else:
        page = _page(client, link)
        done = client.post(link, data={"csrf_token": _csrf(page)})
    assert done.status_code == 303 and "/participate/account" in done.headers["Location"], done.status_code
    account = _page(client, done.headers["Location"])
    named = client.post("/participate/account", data={"name": name, "next": next_path, "csrf_token": _csrf(account)})
    assert named.status_code == 303 and named.headers["Location"] == next_path
    return client


def comment(client, body: str, unit: str = ART_1_A, quote: str = "", parent: int | None = None, page: str = ""):
    html = _page(client, f"/d/{PUBLISHED}/{page or unit}")
    data = {"unit": unit, "body": body, "quote": quote, "page": page or unit, "csrf_token": _csrf(html)}
    if parent is not None:
        data["parent"] = str(parent)
    return client.post(f"/d/{PUBLISHED}/public-comments", data=data)


def _comment_id(response) -> int:
    assert response.status_code == 303, response.status_code
    return int(response.headers["Location"].rsplit("#public-comment-", 1)[1])


def support(client, *, comment_id: int | None = None, unit: str = ART_1_A):
    html = _page(client, f"/d/{PUBLISHED}/{unit}")
    data = {"page": unit, "csrf_token": _csrf(html)}
    data.update({"comment": str(comment_id)} if comment_id is not None else {"unit": unit})
    return client.post(f"/d/{PUBLISHED}/public-support", data=data)


def decide(client, comment_id: int, action: str, reason: str = ""):
    page = _page(client, f"/d/{PUBLISHED}/moderation")
    return client.post(f"/d/{PUBLISHED}/moderation/{comment_id}",
                       data={"action": action, "reason": reason, "csrf_token": _csrf(page)})


def set_rules(app, moderation: str = "pre", level: str = "email", **stages: str):
    admin = staff(app, "admin")
    page = _page(admin, f"/d/{PUBLISHED}/moderation/settings")
    data = {"moderation": moderation, "level": level, "csrf_token": _csrf(page)}
    data.update({f"stage-{key}": value for key, value in stages.items()})
    response = admin.post(f"/d/{PUBLISHED}/moderation/settings", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return admin


def stream(client, state: str = "published"):
    return client.get(f"/d/{PUBLISHED}/public-comments.json?state={state}")


def _bodies(client, state: str = "published") -> list[str]:
    response = stream(client, state)
    assert response.status_code == 200, response.status_code
    return [c["body"] for c in response.get_json()["comments"]]


def _audit_actions(app, prefix: str) -> list[str]:
    from editor import audit

    return [e.action for e in audit.events(app.extensions["constituent"].engine, action=prefix, limit=100)]


# --- a resident's comment, end to end ----------------------------------------------------------------


def test_a_resident_verifies_an_email_comments_on_art_1_apartado_a_and_supports_another_comment(consultation):
    app = consultation
    tomas = participant(app, "tomas@example.net", "Tomás", how="link")
    rosa = participant(app, "rosa@example.net", "Rosa Martínez")
    ana = staff(app, "ana")  # drafting committee: moderates
    anonymous = _english(app.test_client())

    # Tomás comments first; under pre-moderation only he sees it, as waiting.
    first = _comment_id(comment(tomas, "El agua debe ser gratuita en los hogares."))
    assert "Waiting for moderation" in _page(tomas, f"/d/{PUBLISHED}/{ART_1_A}")
    assert "gratuita" not in _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}")
    assert decide(ana, first, "approve").status_code == 303

    # Rosa comments on the apartado, quoting its words.
    posted = comment(rosa, "¿Y el saneamiento? Debería decirlo.", quote=WATER_WORDS)
    mine = _comment_id(posted)
    assert posted.headers["Location"].startswith(f"/d/{PUBLISHED}/{ART_1_A}#")
    page = _page(rosa, f"/d/{PUBLISHED}/{ART_1_A}")
    assert "¿Y el saneamiento?" in page and "Waiting for moderation" in page
    assert f"<blockquote class=\"pc-quote\" lang=\"es\">{WATER_WORDS}</blockquote>" in page

    # Nobody else sees it: not the public page, not Tomás, not the public stream.
    for other in (anonymous, tomas):
        assert "saneamiento" not in _page(other, f"/d/{PUBLISHED}/{ART_1_A}")
    assert _bodies(anonymous) == ["El agua debe ser gratuita en los hogares."]
    # The moderators do, in their queue and in the stream of what waits.
    assert "saneamiento" in _page(ana, f"/d/{PUBLISHED}/moderation")
    assert _bodies(ana, "pending") == ["¿Y el saneamiento? Debería decirlo."]

    # Rosa supports Tomás's comment: counted once, withdrawn, given again.
    assert support(rosa, comment_id=first).status_code == 303
    assert re.search(rf'id="pc-supports-{first}">1 support<', _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}"))
    support(rosa, comment_id=first)
    assert re.search(rf'id="pc-supports-{first}">0 supports<', _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}"))
    support(rosa, comment_id=first)
    assert stream(anonymous).get_json()["comments"][0]["supports"] == 1
    # And the clause itself.
    support(rosa)
    assert "1 person supports this clause." in _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}")

    # Approved, it is public: on the clause's page, on its article's page, in the stream.
    assert decide(ana, mine, "approve").status_code == 303
    assert "¿Y el saneamiento?" in _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}")
    article = _page(anonymous, f"/d/{PUBLISHED}/art_1")
    assert "¿Y el saneamiento?" in article and "on Artículo 1 A." in article
    [listed] = [c for c in stream(anonymous).get_json()["comments"] if c["id"] == mine]
    assert (listed["author"], listed["quote"], listed["unit_label"], listed["state"]) == (
        "Rosa Martínez", WATER_WORDS, "Artículo 1 A.", "published")
    # Tomás replies to it (one level).
    reply = comment(tomas, "De acuerdo con Rosa.", parent=mine)
    assert reply.status_code == 303
    assert decide(ana, _comment_id(reply), "approve").status_code == 303
    [listed] = [c for c in stream(anonymous).get_json()["comments"] if c["id"] == mine]
    assert [r["body"] for r in listed["replies"]] == ["De acuerdo con Rosa."]
    assert _audit_actions(app, "participation.approve") == ["participation.approve"] * 3


def test_signing_in_needs_the_code_or_the_link_once_and_keeps_only_their_hashes(consultation):
    from editor.participation.models import ParticipantSignIn

    app = consultation
    client = _english(app.test_client())
    assert ask_to_sign_in(app, client, "Luz@Example.net").status_code == 303
    code, link = sign_in_email(app, "luz@example.net")
    [message] = _emails(app, "luz@example.net")
    assert code in message["Subject"]
    db = app.extensions["constituent"].db
    [stored] = db.scalars(select(ParticipantSignIn)).all()
    assert code not in (stored.code_hash, stored.link_hash) and link.rsplit("/", 1)[1] not in stored.link_hash

    # Wrong codes are counted; the fifth spends the request, the right code then no longer works.
    page = _page(client, "/participate/code")
    for _ in range(4):
        wrong = client.post("/participate/code", data={"code": "000000" if code != "000000" else "111111",
                                                       "csrf_token": _csrf(page)})
        assert wrong.status_code == 400 and "That code is not right" in wrong.get_data(as_text=True)
    last = client.post("/participate/code", data={"code": "999999" if code != "999999" else "111111",
                                                  "csrf_token": _csrf(page)})
    assert last.status_code == 409 and "ask for a new code" in last.get_data(as_text=True)
    refused = client.post("/participate/code", data={"code": code, "csrf_token": _csrf(page)})
    assert refused.status_code == 409
    assert client.get(link).status_code == 404  # the same request: spent

    # A new request: its link works once.
    ask_to_sign_in(app, client, "luz@example.net")
    _code, link = sign_in_email(app, "luz@example.net")
    other = _english(app.test_client())
    assert other.post(link, data={"csrf_token": _csrf(_page(other, link))}).status_code == 303
    assert other.post(link, data={"csrf_token": _csrf(_page(other, "/participate/sign-in"))}).status_code == 404

    # An expired request works no more.
    ask_to_sign_in(app, client, "luz@example.net")
    code, link = sign_in_email(app, "luz@example.net")
    latest = db.scalars(select(ParticipantSignIn).order_by(ParticipantSignIn.id.desc())).first()
    latest.expires_at = latest.created_at
    db.commit()
    assert client.get(link).status_code == 404
    assert client.post("/participate/code", data={"code": code, "csrf_token": _csrf(page)}).status_code == 409


def test_sign_in_emails_are_limited_per_address_and_per_email(consultation):
    app = consultation
    client = _english(app.test_client())
    answers = [ask_to_sign_in(app, client, "mucho@example.net").status_code for _ in range(5)]
    assert answers == [303, 303, 303, 429, 429]  # three per ten minutes for one e-mail address
    assert len(_emails(app, "mucho@example.net")) == 3
    # Another address from the same connection still gets through, up to the connection's limit.
    assert ask_to_sign_in(app, client, "otra@example.net").status_code == 303
    assert ask_to_sign_in(app, client, "tercera@example.net").status_code == 303
    limited = ask_to_sign_in(app, client, "cuarta@example.net")
    assert limited.status_code == 429 and "Too many sign-in e-mails" in limited.get_data(as_text=True)


# --- moderation ----------------------------------------------------------------------------------------


def test_a_reported_comment_is_hidden_with_its_public_reason_and_its_author_is_told(consultation):
    app = consultation
    set_rules(app, moderation="post")
    troll = participant(app, "troll@example.net", "Bromista")
    posted = _comment_id(comment(troll, "Los que escribieron esto son unos inútiles.", unit=ART_2))
    anonymous = _english(app.test_client())
    assert "unos inútiles" in _page(anonymous, f"/d/{PUBLISHED}/{ART_2}")  # post-moderation: at once

    # Someone without an account reports it; a second report from the same address counts once.
    html = _page(anonymous, f"/d/{PUBLISHED}/{ART_2}")
    for _ in range(2):
        reported = anonymous.post(f"/d/{PUBLISHED}/public-comments/{posted}/report",
                                  data={"reason": "Insulta a las personas.", "page": ART_2, "csrf_token": _csrf(html)})
        assert reported.status_code == 303
    ana = staff(app, "ana")
    queue = _page(ana, f"/d/{PUBLISHED}/moderation")
    assert "Insulta a las personas." in queue and "1 report" in queue and "unos inútiles" in queue

    # Hiding needs a public reason.
    refused = decide(ana, posted, "hide")
    assert refused.status_code == 400 and "Give the public reason" in refused.get_data(as_text=True)
    assert decide(ana, posted, "hide", "Insultos: las normas piden respeto.").status_code == 303
    page = _page(anonymous, f"/d/{PUBLISHED}/{ART_2}")
    assert "Hidden by moderation: Insultos: las normas piden respeto." in page and "unos inútiles" not in page
    spanish = app.test_client().get(f"/d/{PUBLISHED}/{ART_2}", headers={"Accept-Language": "es"})
    assert "Insultos: las normas piden respeto." in spanish.get_data(as_text=True)
    [hidden] = stream(anonymous, "hidden").get_json()["comments"]
    assert hidden["body"] is None and hidden["hidden_reason"] == "Insultos: las normas piden respeto."

    # Its author is told, by e-mail, in their language, with the reason and where.
    [told] = [m for m in _emails(app, "troll@example.net") if m["X-Constituent-Event"] == "participation.comment_hidden"]
    assert "was hidden by moderation" in told["Subject"]
    text = told.get_content()
    assert "Insultos: las normas piden respeto." in text and "> Los que escribieron esto" in text
    assert f"/d/{PUBLISHED}/{ART_2}#public-comment-{posted}" in text

    # Restored, it shows again; every decision is in the audit log.
    assert decide(ana, posted, "restore").status_code == 303
    assert "unos inútiles" in _page(anonymous, f"/d/{PUBLISHED}/{ART_2}")
    assert _audit_actions(app, "participation.") .count("participation.hide") == 1
    assert "participation.restore" in _audit_actions(app, "participation.")


def test_links_and_repeated_text_wait_for_a_moderator_even_under_post_moderation(consultation):
    app = consultation
    set_rules(app, moderation="post")
    spammer = participant(app, "spam@example.net", "Ofertas")
    links = "Visite https://a.example https://b.example y www.c.example para ganar dinero."
    held = _comment_id(comment(spammer, links))
    once = _comment_id(comment(spammer, "Me gusta este apartado."))
    again = _comment_id(comment(spammer, "ME GUSTA   este apartado."))
    anonymous = _english(app.test_client())
    assert _bodies(anonymous) == ["Me gusta este apartado."]
    ana = staff(app, "ana")
    pending = {c["id"]: c["held_for"] for c in stream(ana, "pending").get_json()["comments"]}
    assert pending == {held: "links", again: "repeated"} and once not in pending
    queue = _page(ana, f"/d/{PUBLISHED}/moderation")
    assert "Held: it contains many links." in queue and "Held: the same text was posted before." in queue


def test_a_document_that_asks_for_approved_participants_holds_their_first_comment(consultation):
    app = consultation
    set_rules(app, moderation="post", level="approved")
    nueva = participant(app, "nueva@example.net", "Nueva")
    first = _comment_id(comment(nueva, "Primera opinión."))
    ana = staff(app, "ana")
    assert [c["held_for"] for c in stream(ana, "pending").get_json()["comments"]] == ["approval"]
    assert decide(ana, first, "trust").status_code == 303
    comment(nueva, "Segunda opinión.")
    assert _bodies(_english(app.test_client())) == ["Segunda opinión.", "Primera opinión."]


# --- limits and stages -----------------------------------------------------------------------------------


def test_fifty_comments_in_a_minute_from_one_person_are_limited(consultation):
    from editor.participation.models import PublicComment

    app = consultation
    set_rules(app, moderation="post")
    eager = participant(app, "prisa@example.net", "Con prisa")
    html = _page(eager, f"/d/{PUBLISHED}/{ART_1_A}")
    answers = []
    for n in range(50):
        answers.append(eager.post(f"/d/{PUBLISHED}/public-comments", data={
            "unit": ART_1_A, "page": ART_1_A, "body": f"Comentario número {n + 1}.", "csrf_token": _csrf(html)}))
    assert [a.status_code for a in answers] == [303] * 5 + [429] * 45
    cut = answers[5].get_data(as_text=True)
    assert "You are commenting faster than this site allows (at most 5 per minute, 30 per hour)" in cut
    assert "Comentario número 6." in cut  # the text is kept to send again
    db = app.extensions["constituent"].db
    assert db.scalar(select(func.count()).select_from(PublicComment)) == 5
    # The limit is per person: someone else from the same connection still comments.
    other = participant(app, "calma@example.net", "Con calma")
    assert comment(other, "Un solo comentario.").status_code == 303


def test_comments_while_the_stage_is_closed_are_refused_with_a_clear_message(drafting):
    from editor.participation.models import PublicComment

    app = drafting
    vecina = participant(app, "vecina@example.net", "Vecina")
    page = _page(vecina, f"/d/{PUBLISHED}/{ART_1_A}")
    assert "Public comments are closed in the current stage, “Drafting”." in page
    assert 'id="pc-new"' not in page  # no form to fill in for nothing
    refused = vecina.post(f"/d/{PUBLISHED}/public-comments", data={
        "unit": ART_1_A, "page": ART_1_A, "body": "¿Se puede opinar ya?", "csrf_token": _csrf(page)})
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "Public comments are closed in the current stage, “Drafting”." in text and "¿Se puede opinar ya?" in text
    assert support(vecina).status_code == 409
    db = app.extensions["constituent"].db
    assert db.scalar(select(func.count()).select_from(PublicComment)) == 0

    # The administrator opens the drafting stage by hand: comments are taken; closed again, refused.
    set_rules(app, moderation="post", drafting="open")
    assert comment(vecina, "Ahora sí.").status_code == 303
    set_rules(app, moderation="post", drafting="closed")
    assert comment(vecina, "¿Y ahora?").status_code == 409
    assert db.scalar(select(func.count()).select_from(PublicComment)) == 1


def test_only_administrators_set_the_rules_and_only_moderators_see_the_queue(consultation):
    app = consultation
    assert staff(app, "ana").get(f"/d/{PUBLISHED}/moderation/settings").status_code == 403
    assert staff(app, "admin").get(f"/d/{PUBLISHED}/moderation/settings").status_code == 200
    for who in ("lucia", "vera", "asa"):
        assert staff(app, who).get(f"/d/{PUBLISHED}/moderation").status_code == 403, who
        assert stream(staff(app, who), "pending").status_code == 403, who
    assert staff(app, "admin").get(f"/d/{PUBLISHED}/moderation").status_code == 200


# --- the text is the committee's, the staff pages are the staff's ---------------------------------------


def test_the_gotham_city_prank_no_public_path_changes_the_legal_text(consultation):
    from editor.livetext import read_live

    app = consultation
    set_rules(app, moderation="post")
    services = app.extensions["constituent"]
    with app.test_request_context():
        before = read_live(services, PUBLISHED)
    prankster = participant(app, "gotham@example.net", "Gotham City")
    proposal = "Propongo que el artículo diga: «La Ciudad de México se llamará Gotham City»."
    posted = _comment_id(comment(prankster, proposal, unit=ART_1_A, quote="Toda persona"))
    comment(prankster, "Gotham City para siempre.", parent=posted)
    support(prankster)
    anonymous = _english(app.test_client())
    html = _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}")
    anonymous.post(f"/d/{PUBLISHED}/public-comments/{posted}/report",
                   data={"reason": "Broma.", "page": ART_1_A, "csrf_token": _csrf(html)})
    decide(staff(app, "ana"), posted, "approve")

    with app.test_request_context():
        after = read_live(services, PUBLISHED)
    assert after.units == before.units and after.meta == before.meta
    assert "Gotham" not in _page(anonymous, f"/api/v1/documents/{PUBLISHED}/text")
    # It stays a comment, shown as one.
    assert proposal in _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}")


def test_no_participation_module_can_write_the_live_text():
    """The package reads the live text through `read_live` and imports nothing that writes it
    (no room, no store, no LiveTexts.change, no amendment adoption)."""
    package = ROOT / "editor" / "participation"
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = ("." * node.level) + (node.module or "")
                names = {a.name for a in node.names}
                assert not source.lstrip(".").startswith(("crdt", "amendments")), (path.name, source)
                if source.endswith("livetext"):
                    assert names <= {"read_live"}, (path.name, names)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("crdt") for a in node.names), path.name
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("change", "rooms", "receive"), (path.name, node.attr)


def test_participants_cannot_reach_staff_pages_and_staff_sessions_are_unaffected(consultation):
    app = consultation
    resident = participant(app, "residente@example.net", "Residente")
    for path in (f"/d/{PUBLISHED}/moderation", f"/d/{PUBLISHED}/moderation/settings", "/admin/users",
                 f"/d/{PUBLISHED}/reviews", f"/d/{PUBLISHED}/report"):
        response = resident.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    assert resident.get(f"/api/v1/documents/{PUBLISHED}/comments").status_code == 401
    assert stream(resident, "pending").status_code == 401
    html = _page(resident, f"/d/{PUBLISHED}/{ART_1_A}")
    assert resident.post(f"/d/{PUBLISHED}/moderation/1", data={"action": "approve", "csrf_token": _csrf(html)}) \
        .status_code == 302
    assert 'data-role="viewer"' in _page(resident, f"/d/{PUBLISHED}/edit")  # follows the text, writes nothing

    # A committee member who also signs in as a participant in the same browser stays herself.
    ana = staff(app, "ana")
    assert ana.post(f"/d/{PUBLISHED}/public-comments", data={
        "unit": ART_1_A, "page": ART_1_A, "body": "Como comité.", "csrf_token": _csrf(_page(ana, "/"))}).status_code == 401
    ask_to_sign_in(app, ana, ACCOUNTS["ana"][0])
    code, _link = sign_in_email(app, ACCOUNTS["ana"][0])
    page = _page(ana, "/participate/code")
    assert ana.post("/participate/code", data={"code": code, "csrf_token": _csrf(page)}).status_code == 303
    assert ana.get("/account").status_code == 200 and ana.get(f"/d/{PUBLISHED}/moderation").status_code == 200
    account = _page(ana, "/participate/account")
    assert ana.post("/participate/sign-out", data={"csrf_token": _csrf(account)}).status_code == 303
    assert ana.get("/account").status_code == 200  # still signed in as staff
    assert ana.get("/participate/account").status_code == 302  # no longer a participant

    # Signing out ends the participant's other sessions too.
    other_browser = _english(app.test_client())
    ask_to_sign_in(app, other_browser, "residente@example.net")
    code, _link = sign_in_email(app, "residente@example.net")
    other_browser.post("/participate/code", data={"code": code, "csrf_token": _csrf(_page(other_browser, "/participate/code"))})
    assert other_browser.get("/participate/account").status_code == 200
    resident.post("/participate/sign-out", data={"csrf_token": _csrf(_page(resident, "/participate/account"))})
    assert other_browser.get("/participate/account").status_code == 302


# --- the committee's panel hears of it live (the socket event; the panel itself: test_browser_participation) ---


def serve_in_consultation(instance: Path):
    """A live server over `instance`, its document in the consultation stage (a fixture's body)."""
    from conftest import LiveServer

    _to_stage(instance, "consultation")
    live = LiveServer(instance).start()
    yield live
    live.stop()


@pytest.fixture
def consultation_server(instance):
    yield from serve_in_consultation(instance)


def _delivered_code(server, address: str) -> str:
    """The code of the sign-in e-mail the serving process delivered to `address` (its .eml file)."""
    import time

    deadline = time.monotonic() + 20
    while True:
        for path in sorted((server.instance / "outbox").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                return re.search(r"^\s+(\d{6})\s*$", message.get_content(), re.MULTILINE).group(1)
        assert time.monotonic() < deadline, "the sign-in e-mail was never delivered"
        time.sleep(0.2)


@pytest.fixture
def collab_clients(consultation_server):
    """Signed-in /collab clients joined to the published document on the consultation server."""
    from collab_client import CollabClient

    clients = []

    def make(who: str):
        client = CollabClient(consultation_server.url, consultation_server.cookie(who), name=who).connect()
        clients.append(client)
        assert client.join(PUBLISHED)["ok"]
        return client

    yield make
    for client in clients:
        client.close()


def test_moderators_hear_of_a_waiting_comment_and_commenters_of_a_published_one_readers_of_nothing(
        consultation_server, collab_clients):
    import threading

    import requests
    from conftest import login

    server = consultation_server
    heard: dict[str, list[dict]] = {"ana": [], "lucia": [], "vera": []}
    arrived = {who: threading.Event() for who in heard}
    for who in heard:
        client = collab_clients(who)

        def on_event(data, who=who):
            heard[who].append(data)
            arrived[who].set()

        client.sio.on("public-comments", on_event, namespace="/collab")

    resident = requests.Session()
    page = resident.get(f"{server.url}/participate/sign-in", timeout=10).text
    resident.post(f"{server.url}/participate/sign-in", data={"email": "vecino@example.net", "csrf_token": _csrf(page)},
                  timeout=10)
    page = resident.get(f"{server.url}/participate/code", timeout=10).text
    resident.post(f"{server.url}/participate/code", timeout=10, data={
        "code": _delivered_code(server, "vecino@example.net"), "csrf_token": _csrf(page)})
    page = resident.get(f"{server.url}/d/{PUBLISHED}/{ART_1_A}", timeout=10).text
    posted = resident.post(f"{server.url}/d/{PUBLISHED}/public-comments", allow_redirects=False, timeout=10, data={
        "unit": ART_1_A, "page": ART_1_A, "body": "Falta el saneamiento.", "csrf_token": _csrf(page)})
    comment_id = _comment_id(posted)
    water = "00000000-0000-4000-8000-000000000002"  # apartado A
    assert arrived["ana"].wait(10), "the moderator's panel was not told of the waiting comment"
    assert heard["ana"] == [{"document": PUBLISHED, "unit": water}] and heard["lucia"] == []

    ana = login(server.url, ACCOUNTS["ana"][0])
    queue = ana.get(f"{server.url}/d/{PUBLISHED}/moderation", timeout=10).text
    assert ana.post(f"{server.url}/d/{PUBLISHED}/moderation/{comment_id}", allow_redirects=False, timeout=10,
                    data={"action": "approve", "csrf_token": _csrf(queue)}).status_code == 303
    assert arrived["lucia"].wait(10), "the legal adviser's panel was not told of the published comment"
    assert heard["lucia"] == [{"document": PUBLISHED, "unit": water}]
    assert heard["vera"] == []  # a reader of the document: told nothing


def test_a_participants_requests_without_the_pages_token_are_refused_and_change_nothing(consultation):
    """Another site cannot make a signed-in resident comment, support, rename themselves or use a
    sign-in link: every such request needs the token of the resident's own page."""
    from editor.participation.models import Participant, PublicComment, PublicSupport

    app = consultation
    client = participant(app, "lucia.vecina@example.net", "Lucía")
    db = app.extensions["constituent"].db
    before = (db.scalar(select(func.count(PublicComment.id))), db.scalar(select(func.count(PublicSupport.id))))
    refused = [
        client.post(f"/d/{PUBLISHED}/public-comments", data={"unit": ART_1_A, "body": "Sin token", "page": ART_1_A}),
        client.post(f"/d/{PUBLISHED}/public-support", data={"unit": ART_1_A, "page": ART_1_A}),
        client.post("/participate/account", data={"name": "Otra persona"}),
    ]
    other = app.test_client()
    asked = ask_to_sign_in(app, other, "otra.vecina@example.net")
    assert asked.status_code == 303
    _code, link = sign_in_email(app, "otra.vecina@example.net")
    refused.append(other.post(link, data={}))
    assert [r.status_code for r in refused] == [400] * 4
    db.expire_all()
    assert (db.scalar(select(func.count(PublicComment.id))), db.scalar(select(func.count(PublicSupport.id)))) == before
    assert db.scalar(select(Participant.display_name).where(Participant.email == "lucia.vecina@example.net")) == "Lucía"
    # The link still works from its own page: the refused request did not use it up.
    assert other.post(link, data={"csrf_token": _csrf(_page(other, link))}).status_code == 303
