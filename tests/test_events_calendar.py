"""Citizen events on the public calendar (issue 21): residents register discussions, moderators
approve them, organisers upload their conclusions with files, and the drafting committee reads them
in its weekly report and links them to clauses.

What an organiser, a moderator, a committee member or a reader notices: a registered event is
invisible to the public (calendar, iCal feed, event page) until a moderator approves it; the
organiser uploads conclusions with a PDF once it has taken place, and they too show only once
approved; the committee finds them in that week's report and links the event to Art. 1, apartado
A, whose public "why" then names the event. A file that is really a program, a web page, another
format under a false name, or too large is refused with a reason, and nothing is stored. The iCal
feed is RFC 5545 (CRLF, folded lines, escaped text, UID, DTSTAMP, DTSTART) and lists only
approved events still to come. Another site cannot make a signed-in organiser register or upload."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import PUBLISHED
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select
from test_participation import ART_1_A, _app, _csrf, _emails, _english, _page, participant, staff

ZONE = ZoneInfo("America/Mexico_City")
APARTADO_A = "00000000-0000-4000-8000-000000000002"  # Art. 1, apartado A "Acceso"
EVENTS = f"/d/{PUBLISHED}/events"


@pytest.fixture
def app(instance):
    """The seeded application: the published document in its drafting stage (events are taken in
    any stage of a readable document)."""
    app = _app(instance)
    yield app
    app.extensions["constituent"].close()


# --- helpers -----------------------------------------------------------------------------------------------


def _local(days: int, hour: int = 18) -> datetime:
    moment = datetime.now(ZONE) + timedelta(days=days)
    return moment.replace(hour=hour, minute=30, second=0, microsecond=0)


def register(client, title: str, when: datetime, **fields):
    page = _page(client, f"{EVENTS}/register")
    data = {"title": title, "day": when.date().isoformat(), "starts": when.strftime("%H:%M"), "ends": "",
            "place": "Casa de Cultura de Xochimilco", "link": "", "organiser": "", "description": "",
            "csrf_token": _csrf(page)}
    data.update(fields)
    return client.post(f"{EVENTS}/register", data=data)


def _registration_id(app, title: str) -> int:
    from editor.participation.models import EventRegistration

    db = app.extensions["constituent"].db
    db.expire_all()
    return db.scalar(select(EventRegistration.id).where(EventRegistration.title == title))


def decide(moderator, kind: str, number: int, action: str = "approve", reason: str = ""):
    queue = _page(moderator, f"{EVENTS}/moderation")
    return moderator.post(f"{EVENTS}/moderation/{kind}/{number}",
                          data={"action": action, "reason": reason, "csrf_token": _csrf(queue)})


def _event_id(app, title: str) -> int | None:
    from editor.provenance.models import CitizenEvent

    db = app.extensions["constituent"].db
    db.expire_all()
    return db.scalar(select(CitizenEvent.id).where(CitizenEvent.title == title))


def approved_event(app, client, moderator, title: str, when: datetime, **fields) -> int:
    """An event `client` registered and `moderator` approved: its id."""
    assert register(client, title, when, **fields).status_code == 303
    assert decide(moderator, "registrations", _registration_id(app, title)).status_code == 303
    return _event_id(app, title)


def pdf_bytes(text: str = "") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if text:
        writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def upload(client, event_id: int, body: str, files: list[tuple[bytes, str]], participants: str = ""):
    page = _page(client, f"{EVENTS}/{event_id}/conclusions")
    data = {"body": body, "participants": participants, "csrf_token": _csrf(page),
            "files": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(f"{EVENTS}/{event_id}/conclusions", data=data, content_type="multipart/form-data")


def _stored_files(app) -> list:
    from editor.participation.event_files import files_folder

    folder = files_folder(app.config)
    return sorted(folder.iterdir()) if folder.exists() else []


def _count(app, model) -> int:
    db = app.extensions["constituent"].db
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


# --- the organiser's event, end to end ----------------------------------------------------------------------


def test_an_organiser_registers_an_event_which_shows_once_approved_and_its_conclusions_reach_the_clauses_why(app):
    from editor.participation.models import EventConclusions

    title = "Foro vecinal: el agua en Xochimilco"
    reader = _english(app.test_client())
    organiser = participant(app, "rosa.organiza@example.net", "Rosa")
    ana = staff(app, "ana")

    form = _page(organiser, f"{EVENTS}/register")
    assert f'value="{APARTADO_A}"' in form and "Acceso" in form  # Art. 1 A. can be chosen
    registered = register(organiser, title, _local(-1), clauses=[APARTADO_A],
                          description="Discutiremos el acceso al agua, casa por casa.")
    assert registered.status_code == 303 and registered.headers["Location"].endswith(f"{EVENTS}/mine")
    assert "waiting for a moderator" in _page(organiser, f"{EVENTS}/mine")

    # Invisible until approved: not on the calendar, not in the feed, not in the open data.
    assert title not in _page(reader, EVENTS)
    assert title not in reader.get(f"{EVENTS}.ics").get_data(as_text=True)
    assert title not in reader.get(f"/d/{PUBLISHED}/data.json").get_data(as_text=True)
    assert _event_id(app, title) is None
    queue = _page(ana, f"{EVENTS}/moderation")
    assert title in queue and "Casa de Cultura de Xochimilco" in queue and "Artículo 1 A." in queue
    assert "1 waiting" in _page(ana, f"/d/{PUBLISHED}/moderation")  # linked from the comments' queue

    assert decide(ana, "registrations", _registration_id(app, title)).status_code == 303
    event_id = _event_id(app, title)
    calendar = _page(reader, EVENTS)
    assert title in calendar[calendar.index('id="ev-past-h"'):]  # it took place yesterday
    page = _page(reader, f"{EVENTS}/{event_id}")
    assert "Discutiremos el acceso al agua" in page and "Artículo 1 A." in page and "organised by Rosa" in page
    assert "have not published conclusions yet" in page
    told = _emails(app, "rosa.organiza@example.net")[-1]
    assert "is on the public calendar" in told["Subject"]

    # Conclusions with a PDF, waiting for a moderator: the public sees neither text nor file yet.
    conclusions = "El agua debe llegar a cada casa.\nPedimos tandeo justo en San Gregorio."
    sent = upload(organiser, event_id, conclusions, [(pdf_bytes("Acta"), "acta-del-foro.pdf")], participants="42")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert len(_stored_files(app)) == 1
    assert "El agua debe llegar" not in _page(reader, f"{EVENTS}/{event_id}")
    db = app.extensions["constituent"].db
    waiting = db.scalar(select(EventConclusions).where(EventConclusions.event_id == event_id))
    from editor.participation.models import EventAttachment

    attachment_id = db.scalar(select(EventAttachment.id).where(EventAttachment.conclusions_id == waiting.id))
    assert reader.get(f"{EVENTS}/files/{attachment_id}").status_code == 404
    assert ana.get(f"{EVENTS}/files/{attachment_id}").status_code == 200  # the moderator reads it to decide

    # The committee reads them in this week's report, before or after moderation.
    report = _page(ana, f"/d/{PUBLISHED}/report")
    section = report[report.index('id="events-h"'):]
    assert title in section and "El agua debe llegar a cada casa." in section and "not linked to any clause yet" in section

    assert decide(ana, "conclusions", waiting.id).status_code == 303
    page = _page(reader, f"{EVENTS}/{event_id}")
    assert "El agua debe llegar a cada casa." in page and "42 participants" in page and "acta-del-foro.pdf" in page
    served = reader.get(f"{EVENTS}/files/{attachment_id}")
    assert served.status_code == 200 and served.data == pdf_bytes("Acta")
    assert served.mimetype == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith('attachment; filename="acta-del-foro.pdf"')
    assert "sandbox" in served.headers["Content-Security-Policy"]

    # The committee links the event to Art. 1, apartado A; the clause's public "why" names it.
    token = _csrf(_page(ana, f"/d/{PUBLISHED}/{ART_1_A}"))
    linked = ana.post(f"/api/v1/documents/{PUBLISHED}/links", headers={"X-CSRFToken": token},
                      json={"unit": ART_1_A, "source_kind": "event", "source_id": event_id, "relation": "motivated"})
    assert linked.status_code == 201, linked.get_data(as_text=True)
    clause = _page(reader, f"/d/{PUBLISHED}/{ART_1_A}")
    why = clause[clause.index('id="why"'):]
    assert title in why and f"/d/{PUBLISHED}/events/{event_id}" in why
    report = _page(ana, f"/d/{PUBLISHED}/report")
    assert "linked to 1 clause" in report[report.index('id="events-h"'):]


def test_a_refused_registration_never_shows_and_its_organiser_is_told_why(app):
    title = "Fiesta con propaganda"
    organiser = participant(app, "otro.organiza@example.net", "Otro")
    ana = staff(app, "ana")
    assert register(organiser, title, _local(5)).status_code == 303
    number = _registration_id(app, title)
    assert decide(ana, "registrations", number, "reject").status_code == 400  # a refusal needs a reason
    assert decide(ana, "registrations", number, "reject", "No trata del texto constitucional.").status_code == 303
    assert _event_id(app, title) is None
    assert title not in _page(app.test_client(), EVENTS)
    mine = _page(organiser, f"{EVENTS}/mine")
    assert "not accepted" in mine and "No trata del texto constitucional." in mine
    told = _emails(app, "otro.organiza@example.net")[-1]
    assert "was not accepted" in told["Subject"] and "No trata del texto constitucional." in told.get_content()
    assert decide(ana, "registrations", number).status_code == 409  # decided once


def test_registering_asks_for_a_place_or_link_and_a_time_and_keeps_what_was_typed(app):
    from editor.participation.models import EventRegistration

    organiser = participant(app, "rosa.organiza@example.net", "Rosa")
    nowhere = register(organiser, "Sin lugar", _local(3), place="", description="Texto que se conserva")
    assert nowhere.status_code == 400
    html = nowhere.get_data(as_text=True)
    assert "Say where the event is held" in html and "Texto que se conserva" in html
    assert register(organiser, "Sin hora", _local(3), starts="").status_code == 400
    assert register(organiser, "Al revés", _local(3), ends="10:00").status_code == 400  # ends before 18:30
    assert register(organiser, "Enlace raro", _local(3), place="", link="javascript:alert(1)").status_code == 400
    assert _count(app, EventRegistration) == 0
    online = register(organiser, "En línea", _local(3), place="", link="https://meet.example.org/foro")
    assert online.status_code == 303


def test_only_its_organiser_uploads_conclusions_and_only_after_the_event(app):
    from editor.participation.models import EventConclusions

    organiser = participant(app, "rosa.organiza@example.net", "Rosa")
    ana = staff(app, "ana")
    future = approved_event(app, organiser, ana, "Foro de mañana", _local(1))
    page = organiser.get(f"{EVENTS}/{future}/conclusions")
    assert page.status_code == 409 and "after the event" in page.get_data(as_text=True)
    past = approved_event(app, organiser, ana, "Foro de ayer", _local(-1))
    other = participant(app, "vecino@example.net", "Vecino")
    assert other.get(f"{EVENTS}/{past}/conclusions").status_code == 403
    assert app.test_client().get(f"{EVENTS}/{past}/conclusions").status_code == 302  # to the sign-in page
    assert upload(organiser, past, "Conclusiones.", []).status_code == 303
    assert organiser.get(f"{EVENTS}/{past}/conclusions").status_code == 409  # the first ones wait
    assert _count(app, EventConclusions) == 1


def test_a_document_can_take_events_only_from_approved_participants(app):
    from editor.participation.models import EventRegistration

    admin = staff(app, "admin")
    settings = _page(admin, f"/d/{PUBLISHED}/moderation/settings")
    saved = admin.post(f"/d/{PUBLISHED}/moderation/settings", data={
        "moderation": "pre", "level": "email", "event_level": "approved", "csrf_token": _csrf(settings)})
    assert saved.status_code == 303
    newcomer = participant(app, "nueva@example.net", "Nueva")
    assert "only from participants a moderator has approved" in _page(newcomer, f"{EVENTS}/register")
    refused = register(newcomer, "Foro", _local(4))
    assert refused.status_code == 403 and "approved" in refused.get_data(as_text=True)
    assert _count(app, EventRegistration) == 0


# --- files ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "name", "says"), [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "acta.pdf", "is a program"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "foto.png", "is a program"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "acta.pdf", "web page or an SVG"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "dibujo.png",
     "web page or an SVG"),
    (None, "acta.pdf", "renamed file"),  # a PNG under a PDF's name
    (b"%PDF-1.7\n" + b"\x00" * 300, "acta.pdf", "cannot be read as one"),
    (b"PK\x03\x04" + b"\x00" * 100, "acta.docx", "only those are accepted"),
], ids=["windows-exe-as-pdf", "elf-as-png", "html-as-pdf", "svg-as-png", "png-as-pdf", "broken-pdf", "zip"])
def test_a_file_that_is_not_what_it_claims_is_refused_with_a_reason_and_nothing_is_stored(app, content, name, says):
    from editor.participation.models import EventAttachment, EventConclusions

    organiser = participant(app, "rosa.organiza@example.net", "Rosa")
    event_id = approved_event(app, organiser, staff(app, "ana"), "Foro de ayer", _local(-1))
    refused = upload(organiser, event_id, "Nuestras conclusiones, que no se pierden.",
                     [(pdf_bytes(), "bueno.pdf"), (png_bytes() if content is None else content, name)])
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert says in html and name in html and "Nuestras conclusiones, que no se pierden." in html
    assert _count(app, EventConclusions) == 0 and _count(app, EventAttachment) == 0
    assert _stored_files(app) == []  # not even the good file that came with it


def test_too_large_or_too_many_files_are_refused_and_nothing_is_stored(app):
    from editor.participation.models import EventConclusions

    organiser = participant(app, "rosa.organiza@example.net", "Rosa")
    event_id = approved_event(app, organiser, staff(app, "ana"), "Foro de ayer", _local(-1))
    big = pdf_bytes() + b"%" + b"0" * (10 * 1024 * 1024)
    refused = upload(organiser, event_id, "Conclusiones.", [(big, "acta-enorme.pdf")])
    assert refused.status_code == 400 and "larger than 10 MB" in refused.get_data(as_text=True)
    many = upload(organiser, event_id, "Conclusiones.", [(png_bytes(), f"foto{i}.png") for i in range(6)])
    assert many.status_code == 400 and "at most 5 files" in many.get_data(as_text=True)
    assert _count(app, EventConclusions) == 0 and _stored_files(app) == []
    # Images of each accepted kind pass, and are served inline as what they are.
    webp, jpeg = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (9, 9)).save(webp, "WEBP")
    Image.new("RGB", (9, 9)).save(jpeg, "JPEG")
    accepted = upload(organiser, event_id, "Conclusiones.", [(png_bytes(), "pizarron.png"),
                                                               (webp.getvalue(), "sala.webp"),
                                                               (jpeg.getvalue(), "grupo.JPG")])
    assert accepted.status_code == 303 and len(_stored_files(app)) == 3


# --- the iCal feed ---------------------------------------------------------------------------------------------


def _unfold(body: str) -> list[str]:
    assert "\n" not in body.replace("\r\n", ""), "a line ends without CRLF"
    assert body.endswith("\r\n")
    physical = body.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical), "a line is longer than 75 octets"
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def _vevents(lines: list[str]) -> list[dict[str, str]]:
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events, current = [], None
    for line in lines[1:-1]:
        if line == "BEGIN:VEVENT":
            assert current is None
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, _sep, value = line.partition(":")
            current[name] = value
    assert current is None
    return events


def _text(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_the_ical_feed_is_rfc_5545_and_lists_only_approved_upcoming_events(app):
    from datetime import date

    from editor.documents import get_document
    from editor.provenance.models import CitizenEvent

    organiser = participant(app, "rosa.organiza@example.net", "Rosa")
    ana = staff(app, "ana")
    long_title = "Agua, movilidad y vivienda; una conversación larga con acentos: ¿qué ciudad queremos en 2030?"
    coming = approved_event(app, organiser, ana, long_title, _local(7), ends="20:00",
                            description="Primera línea.\nSegunda línea, con coma; y punto y coma.")
    approved_event(app, organiser, ana, "Foro que ya pasó", _local(-2))
    assert register(organiser, "Foro sin aprobar", _local(8)).status_code == 303
    services = app.extensions["constituent"]
    with app.app_context():
        document = get_document(services.db, PUBLISHED)
        services.db.add(CitizenEvent(document_id=document.id, title="Asamblea del comité",
                                     held_on=date.today() + timedelta(days=10)))
        services.db.commit()

    response = app.test_client().get(f"{EVENTS}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = _vevents(_unfold(response.get_data(as_text=True)))
    assert sorted(_text(e["SUMMARY"]) for e in events) == sorted([long_title, "Asamblea del comité"])
    for event in events:
        assert event["UID"] and re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
        assert "DTSTART" in event or "DTSTART;VALUE=DATE" in event
    ours = next(e for e in events if _text(e["SUMMARY"]) == long_title)
    assert "\\," in ours["SUMMARY"] and "\\;" in ours["SUMMARY"]  # escaped, not separators
    starts = _local(7).astimezone(ZoneInfo("UTC"))
    assert ours["DTSTART"] == starts.strftime("%Y%m%dT%H%M%SZ")
    assert ours["DTEND"] == _local(7, 20).replace(minute=0).astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    assert "Segunda línea, con coma; y punto y coma." in _text(ours["DESCRIPTION"])
    assert ours["UID"] == f"event-{coming}@localhost"
    assert ours["URL"].endswith(f"/d/{PUBLISHED}/events/{coming}")
    committee = next(e for e in events if _text(e["SUMMARY"]) == "Asamblea del comité")
    assert re.fullmatch(r"\d{8}", committee["DTSTART;VALUE=DATE"])
    calendar = _page(app.test_client(), EVENTS)
    assert long_title in calendar[calendar.index('id="ev-upcoming-h"'):calendar.index('id="ev-past-h"')]


# --- another site cannot act for an organiser ----------------------------------------------------------------


def test_an_organisers_requests_without_the_pages_token_are_refused_and_change_nothing(app):
    from editor.participation.models import EventConclusions, EventRegistration

    organiser = participant(app, "rosa.organiza@example.net", "Rosa")
    event_id = approved_event(app, organiser, staff(app, "ana"), "Foro de ayer", _local(-1))
    before = (_count(app, EventRegistration), _count(app, EventConclusions))
    when = _local(3)
    refused = [
        organiser.post(f"{EVENTS}/register", data={"title": "Sin token", "day": when.date().isoformat(),
                                                    "starts": "18:00", "place": "Aquí"}),
        organiser.post(f"{EVENTS}/{event_id}/conclusions", content_type="multipart/form-data",
                       data={"body": "Sin token", "files": [(io.BytesIO(pdf_bytes()), "acta.pdf")]}),
    ]
    assert [r.status_code for r in refused] == [400, 400]
    assert (_count(app, EventRegistration), _count(app, EventConclusions)) == before
    assert _stored_files(app) == []
