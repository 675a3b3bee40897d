"""Residents follow a clause or a whole document and get e-mail updates through the outbox (issue 21).

What a resident notices: "Follow this clause" on a clause's page ("Sign in to follow" when signed
out); the committee edits the clause and one e-mail arrives naming it and linking to it, however
many edits follow within the interval (they are gathered into the next message, due when the
interval ends); a followed document's stage change arrives with the link to what changed; the
link in every message stops it with one click on a button (opening it stops nothing); a resident
who follows nothing gets nothing; another site cannot make a resident follow or stop following.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from conftest import PUBLISHED
from sqlalchemy import func, select
from test_participation import ART_1_A, _app, _csrf, _english, _page, _to_stage, participant, staff
from test_review import append_in_room

WATER = "00000000-0000-4000-8000-000000000003"  # Art. 1 apartado A's numeral: "Toda persona tiene derecho al agua."
ART_1_A_GUID = "00000000-0000-4000-8000-000000000002"  # Art. 1 apartado A "Acceso"
SITE = "https://constituyente.example"
EVENT = "participation.follow_update"


@pytest.fixture
def site(instance):
    """The application over the seeded instance (the published document is being drafted), with
    its public address set so that messages carry whole links."""
    app = _app(instance, PUBLIC_URL=SITE, FOLLOW_DIGEST_MINUTES=60)
    yield app
    app.extensions["constituent"].close()


@pytest.fixture
def consulting(instance):
    _to_stage(instance, "consultation")
    app = _app(instance, PUBLIC_URL=SITE, FOLLOW_DIGEST_MINUTES=60)
    yield app
    app.extensions["constituent"].close()


def updates(app, to: str, later: timedelta = timedelta(0)) -> list:
    """The follower's updates delivered so far, delivering what is due `later` from now (never
    what waits for a later time: that is the point of gathering)."""
    from editor import clock
    from editor.outbox import deliver_due, outbox_folder

    deliver_due(app.extensions["constituent"].engine, app.config, now=clock.now() + later)
    found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in sorted(outbox_folder(app.config).glob("*.eml"))]
    return [m for m in found if m["To"] == to and m["X-Constituent-Event"] == EVENT]


def follow(client, unit: str = ART_1_A, action: str = "follow", token: bool = True):
    """Press the follow (or stop) button on the clause's page, or on the process page (unit "")."""
    page = f"/d/{PUBLISHED}/{unit}" if unit else f"/d/{PUBLISHED}/process"
    html = _page(client, page)
    data = {"unit": unit, "next": page}
    if token:
        data["csrf_token"] = _csrf(html)
    return client.post(f"/d/{PUBLISHED}/{action}", data=data)


def edit_water(app, words: str) -> None:
    """A committee member's edit of Art. 1 apartado A, applied in the live room (durable,
    broadcast, attributed; TextChanged is published), and the reactions to it handled."""
    services = app.extensions["constituent"]
    services.rooms.call(PUBLISHED, lambda doc: None)  # open the room: its text is watched from now on
    append_in_room(services, WATER, words, origin="ana")
    assert services.events.drain()


def follows_count(app) -> int:
    from editor.participation.models import Follow

    db = app.extensions["constituent"].db
    db.expire_all()
    return db.scalar(select(func.count(Follow.id)))


def stop_link(message) -> str:
    found = re.search(re.escape(SITE) + r"(/participate/stop/[A-Za-z0-9_.-]+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


# --- a clause ------------------------------------------------------------------------------------------


def test_a_follower_of_art_1_a_gets_one_email_naming_it_however_many_edits_within_the_interval(site):
    app = site
    anonymous = _english(app.test_client())
    html = _page(anonymous, f"/d/{PUBLISHED}/{ART_1_A}")
    assert "Sign in to follow" in html
    assert f'href="/participate/sign-in?next=/d/{PUBLISHED}/{ART_1_A}"' in html

    sofia = participant(app, "sofia@example.net", "Sofía")
    nobody = participant(app, "nadie@example.net", "Nadie")  # follows nothing
    assert "Follow this clause" in _page(sofia, f"/d/{PUBLISHED}/{ART_1_A}")
    followed = follow(sofia)
    assert followed.status_code == 303 and followed.headers["Location"] == f"/d/{PUBLISHED}/{ART_1_A}"
    assert "Stop following" in _page(sofia, f"/d/{PUBLISHED}/{ART_1_A}")
    assert follow(sofia).status_code == 303 and follows_count(app) == 1  # following twice is following once

    edit_water(app, " potable")
    edit_water(app, " y limpia")
    first = updates(app, "sofia@example.net")
    assert len(first) == 1
    text = first[0].get_content()
    assert "The wording of Artículo 1 A. (Acceso) changed." in text, text
    assert f"{SITE}/d/{PUBLISHED}/{ART_1_A}" in text
    assert "/participate/stop/" in text and "Sofía" in text

    # Within the interval: nothing more now; the edit waits in the message due when it ends.
    edit_water(app, " y accesible")
    assert len(updates(app, "sofia@example.net")) == 1
    assert len(updates(app, "sofia@example.net", later=timedelta(minutes=30))) == 1
    both = updates(app, "sofia@example.net", later=timedelta(minutes=61))
    assert len(both) == 2 and f"{SITE}/d/{PUBLISHED}/{ART_1_A}" in both[1].get_content()
    # Someone who follows nothing is told nothing, ever.
    assert updates(app, "nadie@example.net", later=timedelta(days=2)) == []
    assert "You follow nothing yet" in _page(nobody, "/participate/account")


def test_following_the_article_counts_an_edit_inside_it_and_a_follower_of_another_clause_hears_nothing(site):
    app = site
    art_1 = participant(app, "articulo@example.net", "Art")
    art_2 = participant(app, "movilidad@example.net", "Movilidad")
    assert follow(art_1, "art_1").status_code == 303
    assert follow(art_2, "art_2").status_code == 303
    edit_water(app, " potable")
    assert len(updates(app, "articulo@example.net")) == 1
    assert updates(app, "movilidad@example.net", later=timedelta(days=1)) == []


# --- the whole document -------------------------------------------------------------------------------------


def test_a_follower_of_the_document_gets_its_stage_change_with_the_comparison(site):
    from editor.events import StageChanged

    app = site
    reader = participant(app, "lector@example.net", "Lector", next_path=f"/d/{PUBLISHED}/process")
    clause_only = participant(app, "clausula@example.net", "Cláusula")
    assert "Follow this document" in _page(reader, f"/d/{PUBLISHED}/process")
    assert follow(reader, "").status_code == 303
    assert "Stop following" in _page(reader, f"/d/{PUBLISHED}/process")
    assert follow(clause_only).status_code == 303
    account = _page(reader, "/participate/account")
    assert "What you follow" in account and "the whole document" in account

    admin = staff(app, "admin")
    versions = _page(admin, f"/d/{PUBLISHED}/versions")
    moved = admin.post(f"/d/{PUBLISHED}/stages/advance", data={"csrf_token": _csrf(versions)})
    assert moved.status_code == 302
    assert app.extensions["constituent"].events.drain()
    told = updates(app, "lector@example.net")
    assert len(told) == 1
    text = told[0].get_content()
    assert "entered the stage" in text
    assert re.search(re.escape(f"{SITE}/d/{PUBLISHED}/compare?from=") + r"\d+&to=(\d+|live)", text), text
    assert "Stop following this document" in text
    assert updates(app, "clausula@example.net", later=timedelta(days=1)) == []

    # The stages saved again without a new transition (StageChanged all the same) tell nobody.
    services = app.extensions["constituent"]
    services.events.publish(StageChanged(PUBLISHED, "legal"))
    assert services.events.drain()
    assert len(updates(app, "lector@example.net", later=timedelta(days=1))) == 1


def test_a_version_saved_by_hand_reaches_the_documents_followers_not_a_clauses(site):
    app = site
    reader = participant(app, "lector@example.net", "Lector", next_path=f"/d/{PUBLISHED}/process")
    clause_only = participant(app, "clausula@example.net", "Cláusula")
    assert follow(reader, "").status_code == 303
    assert follow(clause_only).status_code == 303
    committee = staff(app, "ana")
    versions = _page(committee, f"/d/{PUBLISHED}/versions")
    saved = committee.post(f"/d/{PUBLISHED}/versions", data={"name": "antes de la consulta",
                                                             "csrf_token": _csrf(versions)})
    assert saved.status_code == 302
    assert app.extensions["constituent"].events.drain()
    told = updates(app, "lector@example.net")
    assert len(told) == 1
    text = told[0].get_content()
    assert re.search(r"Version \d+ of the text was saved", text), text
    assert re.search(re.escape(f"{SITE}/d/{PUBLISHED}/compare?from=") + r"\d+", text), text
    assert updates(app, "clausula@example.net", later=timedelta(days=1)) == []


# --- stopping ------------------------------------------------------------------------------------------------


def test_the_link_in_the_message_stops_the_updates_on_its_button_not_on_opening(site):
    app = site
    sofia = participant(app, "sofia@example.net", "Sofía")
    assert follow(sofia).status_code == 303
    edit_water(app, " potable")
    link = stop_link(updates(app, "sofia@example.net")[0])
    edit_water(app, " y limpia")  # within the interval: waits in the outbox for the interval's end

    opened = _english(app.test_client()).get(link)  # no sign-in needed; a mail scanner opens it too
    assert opened.status_code == 200 and "Stop following it" in opened.get_data(as_text=True)
    assert opened.headers["Cache-Control"] == "no-store"
    assert follows_count(app) == 1
    assert app.test_client().get(link[:-3] + "abc").status_code == 404  # a forged or damaged link stops nothing

    stopper = _english(app.test_client())
    page = _page(stopper, link)
    assert stopper.post(link, data={}).status_code == 400  # another site cannot stop it for them
    assert follows_count(app) == 1
    stopped = stopper.post(link, data={"csrf_token": _csrf(page)})
    assert stopped.status_code == 200 and "you no longer follow" in stopped.get_data(as_text=True)
    assert follows_count(app) == 0
    assert "nothing to stop" in _page(stopper, link)

    edit_water(app, " y accesible")
    # Nothing after stopping: neither the waiting message nor a new one.
    assert len(updates(app, "sofia@example.net", later=timedelta(days=1))) == 1


def test_the_account_page_lists_what_is_followed_and_stops_it(consulting):
    app = consulting
    sofia = participant(app, "sofia@example.net", "Sofía")
    assert follow(sofia).status_code == 303
    assert follow(sofia, "").status_code == 303
    account = _page(sofia, "/participate/account")
    assert "Artículo 1 A" in account and f'href="/d/{PUBLISHED}/{ART_1_A}"' in account
    assert account.count(f'action="/d/{PUBLISHED}/unfollow"') == 2
    stopped = sofia.post(f"/d/{PUBLISHED}/unfollow", data={"unit": ART_1_A_GUID, "next": "/participate/account",
                                                          "csrf_token": _csrf(account)})
    assert stopped.status_code == 303 and stopped.headers["Location"] == "/participate/account"
    assert follows_count(app) == 1
    assert 'value="' + ART_1_A_GUID + '"' not in _page(sofia, "/participate/account")


# --- who may ---------------------------------------------------------------------------------------------------


def test_follow_requests_without_the_pages_token_or_a_participant_are_refused_and_change_nothing(site):
    """Another site cannot make a signed-in resident follow or stop following; the public and
    staff accounts are not participants."""
    app = site
    sofia = participant(app, "sofia@example.net", "Sofía")
    assert follow(sofia, token=False).status_code == 400
    assert follows_count(app) == 0
    assert follow(sofia).status_code == 303
    assert follow(sofia, action="unfollow", token=False).status_code == 400
    assert follow(sofia, "", token=False).status_code == 400
    assert follows_count(app) == 1
    # Signed out, or a staff account: 401 and the way to sign in.
    for client in (_english(app.test_client()), staff(app, "ana")):
        refused = follow(client)
        assert refused.status_code == 401 and "/participate/sign-in" in refused.get_data(as_text=True)
    assert follows_count(app) == 1
    # A clause that is not in the text.
    html = _page(sofia, f"/d/{PUBLISHED}/{ART_1_A}")
    assert sofia.post(f"/d/{PUBLISHED}/follow", data={"unit": "art_99", "csrf_token": _csrf(html)}).status_code == 404

