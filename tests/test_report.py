"""The drafting committee's weekly report (editor.report): a week seeded through the application's
own services (petition imports with dated counts, a survey import coded into themes, a live edit
through the document's room, petitioner reviews, amendments) gives exactly the thresholds crossed,
spikes and changed units that the data implies for that week, and not those of other weeks; every
chart is valid SVG with a data table of the same numbers; the PDF is a real PDF; only the drafting
side reads it. Screenshots at 1280 and 375 px go to /tmp/shots/report-*.png."""

from __future__ import annotations

import io
import json
import os
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED, require
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import select
from test_review import append_in_room

WATER_UNIT = "00000000-0000-4000-8000-000000000003"
MOBILITY_UNIT = "00000000-0000-4000-8000-000000000004"
ANIMALS_UNIT = "00000000-0000-4000-8000-000000000005"
SVG = "{http://www.w3.org/2000/svg}"


def _week_bounds():
    """This week's Monday 00:00 UTC and now, away from the week's edges (a week boundary passing
    while the test seeds would move its data into another week)."""
    from editor.report import Week

    now = datetime.now(timezone.utc)
    week = Week.of(now.date())
    if week.end_at - now < timedelta(minutes=5):
        time.sleep((week.end_at - now).total_seconds() + 1)
        now = datetime.now(timezone.utc)
        week = Week.of(now.date())
    if now - week.start_at < timedelta(minutes=2):
        time.sleep(120 - (now - week.start_at).total_seconds())
        now = datetime.now(timezone.utc)
    return week, now


def _in_week(week, now, fraction: float) -> str:
    """A moment of the current week, before now: `fraction` of the way from Monday to now."""
    return (week.start_at + (now - week.start_at) * fraction).isoformat()


def _mid(week) -> str:
    return (week.start_at + timedelta(days=3, hours=12)).isoformat()


def _petitions_json(week, now) -> bytes:
    last, earlier, long_ago = week.shifted(-1), week.shifted(-2), week.shifted(-6)
    rows = [
        # Crosses 5,000 and 10,000 this week.
        {"title": "Agua para todas las colonias", "url": "https://peticiones.example.org/agua",
         "final_text_refs": "X",
         "signatures": [{"at": _mid(earlier), "count": 3000}, {"at": _mid(last), "count": 4000},
                        {"at": _in_week(week, now, 0.3), "count": 5600}, {"at": _in_week(week, now, 0.6), "count": 10400}]},
        # Crossed 5,000 last week; grows this week without crossing anything.
        {"title": "Movilidad segura", "url": "https://peticiones.example.org/movilidad",
         "signatures": [{"at": _mid(earlier), "count": 2500}, {"at": _mid(last), "count": 5200},
                        {"at": _in_week(week, now, 0.5), "count": 7000}]},
        # Crossed 5,000 six weeks ago: its legal review (30 days) is overdue.
        {"title": "Transparencia 3de3", "url": "https://peticiones.example.org/3de3",
         "signatures": [{"at": _mid(long_ago), "count": 6100}]},
        # Crossed 5,000 six weeks ago too, but its obligation is done.
        {"title": "Derechos de los animales", "url": "https://peticiones.example.org/animales",
         "signatures": [{"at": _mid(long_ago), "count": 5300}]},
    ]
    return json.dumps({"petitions": rows}).encode()


def _survey_json(week, now) -> bytes:
    """20 respondents a week for six weeks: "agua" raised by 2 of 20 in the five previous weeks,
    by 12 of 20 this week (a spike); "movilidad" by 5 of 20 every week (no spike)."""
    respondents = []
    for back in range(5, -1, -1):
        w = week.shifted(-back)
        for n in range(20):
            moment = _in_week(week, now, 0.1 + 0.8 * n / 20) if back == 0 else (
                w.start_at + timedelta(days=1, minutes=7 * n)).isoformat()
            water = n < (12 if back == 0 else 2)
            mobility = 12 <= n < 17
            words = ["Quiero una ciudad tranquila"]
            if water:
                words.append("con agua todos los días")
            if mobility:
                words.append("y mejor transporte público")
            respondents.append({"id": f"w{back}-{n}", "responded_at": moment, "borough": "Coyoacán",
                                "answers": {"1": " ".join(words) + "."}})
    return json.dumps({"title": "Encuesta de prueba", "questions": [
        {"text": "¿Qué ciudad quieres?", "widget": "textarea", "coded": True}],
        "respondents": respondents}).encode()


def _edit_water(services):
    """A change of the water clause through its live room (as a connection's edit is applied)."""
    append_in_room(services, WATER_UNIT, " potable", origin="test-edit")


def seed(instance: Path):
    """The seeded week (this one) and the one before, through the application's services."""
    from editor import create_app
    from editor.amendments import service as amendments
    from editor.documents import get_document
    from editor.livetext import read_live
    from editor.models import User
    from editor.petitions.models import Obligation, Petition
    from editor.petitions.service import import_petitions, set_obligation_done
    from editor.provenance.links import create_link
    from editor.review.service import issue_link, review_scope, submit_review
    from editor.stages.current import current_stage
    from editor.stages.history import record_edits
    from editor.stages.models import UnitEdit
    from editor.stages.workflow import advance
    from editor.survey.coder import code_survey
    from editor.survey.service import import_survey

    week, now = _week_bounds()
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    with app.test_request_context():
        db = services.db
        document = get_document(db, PUBLISHED)
        users = {key: db.scalar(select(User).where(User.email == email)) for key, (email, _r) in ACCOUNTS.items()}
        units = read_live(services, PUBLISHED).units
        imported = import_petitions(db, document, _petitions_json(week, now), "json")
        petitions = {p.title.split()[0].lower(): p for p in imported.created}
        animals = petitions["derechos"]
        done = db.scalar(select(Obligation).where(Obligation.petition_id == animals.id))
        set_obligation_done(db, done)
        db.commit()
        survey = import_survey(db, document, _survey_json(week, now), "json").survey
        code_survey(db, survey)
        db.commit()
        # Last week, Bruno edited the mobility article (recorded as the room's recorder does).
        record_edits(db, document.id, {users["bruno"].id: [MOBILITY_UNIT]}, at=week.shifted(-1).start_at + timedelta(days=2))
        # This week, the water clause changes live.
        _edit_water(services)
        deadline = time.monotonic() + 15
        while not db.scalar(select(UnitEdit).where(UnitEdit.guid == WATER_UNIT)):
            assert time.monotonic() < deadline, "the live edit was not attributed"
            time.sleep(0.05)
            db.rollback()
        units = read_live(services, PUBLISHED).units
        for key, guid in (("agua", WATER_UNIT), ("movilidad", MOBILITY_UNIT), ("derechos", ANIMALS_UNIT)):
            create_link(db, document, units, guid, "petition", petitions[key].id, "incorporates")
        db.commit()
        while current_stage(db, document).key != "consultation":
            advance(services, document, users["admin"])
        for key, decision in (("agua", "approve"), ("movilidad", "object")):
            petition = db.get(Petition, petitions[key].id)
            link, _token = issue_link(db, document, petition, users["ana"], "Peticionaria", "p@example.net")
            seen = review_scope(services, document, petition).fingerprint
            submit_review(services, document, link, decision, "" if decision == "approve" else "Falta claridad.", seen)
        advance(services, document, users["admin"])  # the assembly: amendments
        first = amendments.create_amendment(services, document, users["asa"], {
            "kind": "substitution", "units": [ANIMALS_UNIT], "text": "Los animales son seres sintientes y tienen derechos."})
        amendments.table(services, document, first, users["asa"])
        second = amendments.create_amendment(services, document, users["abel"], {"kind": "deletion", "units": [MOBILITY_UNIT]})
        amendments.table(services, document, second, users["abel"])
        amendments.withdraw(services, document, second, users["abel"])
        amendments.create_amendment(services, document, users["asa"], {"kind": "deletion", "units": [ANIMALS_UNIT]})  # a draft
        ids = {key: p.id for key, p in petitions.items()}
    services.db.remove()
    return app, week, ids


def _csrf(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def signed_in(app, who: str | None, language: str = "en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    if who is not None:
        token = _csrf(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"email": ACCOUNTS[who][0], "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
    return client


@pytest.fixture
def seeded(instance):
    app, week, ids = seed(instance)
    yield app, week, ids
    services = app.extensions["constituent"]
    services.db.remove()
    services.rooms.close_all()
    services.engine.dispose()


def _charts_and_tables(page: str):
    """{chart id: (svg element, {(series, x): value} drawn, {(series, x): value} in its table)}."""
    tree = lxml_html.fromstring(page)
    found = {}
    for match in re.finditer(r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*class="chart".*?</svg>', page, re.S):
        svg = etree.fromstring(match.group(0).encode())  # well-formed XML, or this raises
        drawn = {(int(e.get("data-series")), int(e.get("data-x"))): float(e.get("data-value"))
                 for e in svg.iter() if e.get("data-value") is not None and e.get("class") in ("chart-point", "chart-bar")}
        [table] = tree.xpath(f'//table[@data-chart="{svg.get("id")}"]')
        shown = {(int(td.get("data-series")), int(td.get("data-x"))): float(td.get("data-value"))
                 for td in table.xpath(".//td[@data-value]")}
        found[svg.get("id")] = (svg, drawn, shown, table)
    return found


def test_the_report_of_a_seeded_week(seeded):
    app, week, ids = seeded
    ana = signed_in(app, "ana")
    response = ana.get(f"/d/{PUBLISHED}/report?week={week.key}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    tree = lxml_html.fromstring(page)
    assert "Weekly report of the drafting committee" in page
    # 1. Exactly the thresholds crossed this week: water at 5,000 and 10,000.
    crossed = {(int(tr.get("data-petition")), int(tr.get("data-threshold")))
               for tr in tree.xpath('//table[@id="crossings"]//tr[@data-petition]')}
    assert crossed == {(ids["agua"], 5000), (ids["agua"], 10000)}
    # Obligations: the 3de3 legal review (due 30 days after six weeks ago) is overdue; the animals' one is done;
    # the water petition's two new obligations are due in 30 days, beyond next week.
    overdue = [tr.xpath("string(./th)").strip() for tr in tree.xpath('//table[@id="obligations"]//tr[contains(@class, "overdue")]')]
    assert overdue == ["Transparencia 3de3"]
    assert "Derechos de los animales" not in tree.xpath('string(//table[@id="obligations"])')
    # 3. The spike of "agua" this week, and only it.
    assert [li.get("data-theme") for li in tree.xpath('//ul[@id="spikes"]/li')] == ["agua"]
    assert "deviations above the mean of its weekly shares in the previous weeks" in page  # the rule is on the page
    # 4. Coverage: the survey themes without a clause include agua? No: nothing links themes here.
    gap_themes = tree.xpath('string(//ul[@id="gap-themes"])')
    assert "Agua" in gap_themes and "Movilidad" in gap_themes
    assert not tree.xpath('//ul[@id="gap-petitions"]')  # the one successful petition (water) is linked
    # 5. The unit changed this week: the water clause, with a link to its history.
    assert [tr.get("data-guid") for tr in tree.xpath('//table[@id="edits"]//tr[@data-guid]')] == [WATER_UNIT]
    assert tree.xpath(f'//table[@id="edits"]//a[contains(@href, "/d/{PUBLISHED}/") and contains(@href, "#history")]')
    # 6. Amendments: one tabled, one withdrawn (the draft is not counted).
    rows = {tr.xpath("string(./th)").strip(): [td.text_content().strip() for td in tr.xpath("./td")]
            for tr in tree.xpath('//table[@data-chart="chart-amendments"]/tbody/tr')}
    assert rows["tabled"] == ["1", "2"] and rows["withdrawn"] == ["1", "1"] and rows["adopted"] == ["0", "0"]
    # 7. Reviews: water approved, mobility objected, animals pending.
    reviews = {tr.xpath("string(./th)").strip(): tr.xpath("string(./td)").strip()
               for tr in tree.xpath('//table[@data-chart="chart-reviews"]/tbody/tr')}
    assert reviews == {"Approved": "1", "Objected": "1", "Re-review requested": "0", "Pending": "1"}

    # Every chart: valid SVG, an accessible image, and a data table with the same numbers.
    charts = _charts_and_tables(page)
    assert set(charts) == {"chart-signatures", "chart-themes", "chart-amendments", "chart-reviews"}
    for chart_id, (svg, drawn, shown, table) in charts.items():
        assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None and title.text.strip() and desc is not None and desc.text.strip()
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert table.find("caption") is not None and table.find("caption").text_content().strip()
        assert drawn and drawn == shown, chart_id
    # The signature chart's last week: water 10,400, mobility 7,000 (counted this week).
    signatures = charts["chart-signatures"][1]
    assert sorted(v for (s, x), v in signatures.items() if x == 7) == [5300, 6100, 7000, 10400]
    # The theme chart: agua at 60 % this week (12 of 20), 10 % before; the spike ringed.
    svg = charts["chart-themes"][0]
    water = next(g for g in svg.iter(f"{SVG}g") if g.get("data-name") == "Agua")
    assert [float(p.get("data-value")) for p in water if p.get("class") == "chart-point"][-6:] == [10, 10, 10, 10, 10, 60]
    assert [int(f.get("data-x")) for f in water if f.get("class") == "chart-flag"] == [7]

    # Last week: mobility crossed 5,000; Bruno's edit of the mobility article; no spike, no reviews or amendments.
    previous = ana.get(f"/d/{PUBLISHED}/report?week={week.shifted(-1).key}").get_data(as_text=True)
    tree = lxml_html.fromstring(previous)
    crossed = {(int(tr.get("data-petition")), int(tr.get("data-threshold")))
               for tr in tree.xpath('//table[@id="crossings"]//tr[@data-petition]')}
    assert crossed == {(ids["movilidad"], 5000)}
    assert [tr.get("data-guid") for tr in tree.xpath('//table[@id="edits"]//tr[@data-guid]')] == [MOBILITY_UNIT]
    who = tree.xpath('string(//table[@id="edits"]//tr[@data-guid]/td[2])').strip()
    assert who and who != "an unknown account"  # Bruno, by his account's name
    assert not tree.xpath('//ul[@id="spikes"]')
    assert "No amendment had been tabled by the end of this week." in previous
    assert "No petition was linked to the text by the end of this week." in previous
    for chart_id, (_svg, drawn, shown, _table) in _charts_and_tables(previous).items():
        assert drawn == shown, chart_id
    # A week before anything was recorded: every section says so, no chart is drawn.
    empty = ana.get(f"/d/{PUBLISHED}/report?week={week.shifted(-20).key}").get_data(as_text=True)
    assert "No petition crossed a threshold this week." in empty and "Nobody changed the text this week." in empty
    assert "No survey answers in these weeks." in empty and 'class="chart"' not in empty

    # Navigation, and weeks that cannot be reported.
    assert f'week={week.shifted(-1).key}' in page and "Next week" not in page
    assert "Next week" in previous
    assert ana.get(f"/d/{PUBLISHED}/report?week={week.shifted(1).key}").status_code == 400
    bad = ana.get(f"/d/{PUBLISHED}/report?week=2016-32")
    assert bad.status_code == 400 and "2016-W32" in bad.get_data(as_text=True)
    assert ana.get(f"/d/{PUBLISHED}/report?week=2015-W53").status_code == 200  # 2015 had 53 ISO weeks
    assert ana.get(f"/d/{PUBLISHED}/report?week=2016-W53").status_code == 400

    # Spanish: the interface language dates the weeks.
    from babel.dates import format_date

    spanish = signed_in(app, "ana", "es").get(f"/d/{PUBLISHED}/report?week={week.key}").get_data(as_text=True)
    assert format_date(week.start, "d MMM", locale="es") in spanish


def test_the_spike_rule():
    """A week's share against the previous weeks': the spread of those shares or, when it is smaller,
    the sampling error of this week's respondents; only earlier weeks count."""
    from editor.report import spike_judgement

    # An air pollution crisis: 95 % of 213 respondents raise "contaminación" after 48 % and 52 %.
    assert spike_judgement(95.3, 203, 213, [47.7, 52.0])[0]
    # 52.7 % after 49.5, 50.2 and 50.8 %: the previous weeks barely vary, but 245 respondents make a
    # share uncertain by about 3 points: not a spike.
    spike, mean, limit = spike_judgement(52.7, 129, 245, [49.5, 50.2, 50.8])
    assert not spike and round(mean, 1) == 50.2 and 56 < limit < 57
    assert not spike_judgement(90.0, 18, 20, [10.0])[0]  # one earlier week is not enough to judge
    assert not spike_judgement(80.0, 4, 5, [0.0, 0.0, 0.0])[0]  # too few respondents raising it
    assert spike_judgement(30.0, 6, 20, [0.0, 0.0])[0]  # a theme nobody raised before


def test_the_report_pdf_and_the_document_pdf(seeded):
    from editor import pdf

    require(pdf.available(), "WeasyPrint (and Pango) are not installed")
    from pypdf import PdfReader

    app, week, _ids = seeded
    ana = signed_in(app, "ana")
    started = time.perf_counter()
    response = ana.get(f"/d/{PUBLISHED}/report.pdf?week={week.key}")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) >= 2
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Weekly report of the drafting committee" in text
    assert "Agua para todas las colonias" in text and "Spike rule" in text
    print(f"report PDF: {len(reader.pages)} pages, {len(response.data)} bytes in {elapsed:.2f} s")

    anonymous = signed_in(app, None)
    document = anonymous.get(f"/d/{PUBLISHED}/document.pdf")
    assert document.status_code == 200 and document.data.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(document.data)).pages)
    assert "Constitución de prueba" in text and "Toda persona tiene derecho al agua potable." in text
    assert anonymous.get(f"/d/{DRAFT}/document.pdf").status_code == 404  # drafts stay invisible
    assert ana.get(f"/d/{DRAFT}/document.pdf").status_code == 200
    assert anonymous.get(f"/d/{PUBLISHED}/document.pdf?version=99").status_code == 404
    assert 'href="/d/constitucion-prueba/document.pdf"' in anonymous.get(f"/d/{PUBLISHED}").get_data(as_text=True)


def test_only_the_drafting_side_reads_the_report(seeded):
    app, week, _ids = seeded
    for who, status in (("ana", 200), ("lucia", 200), ("admin", 200), ("vera", 403), ("asa", 403)):
        client = signed_in(app, who)
        assert client.get(f"/d/{PUBLISHED}/report").status_code == status, who
        if status == 403:
            assert client.get(f"/d/{PUBLISHED}/report.pdf").status_code == 403, who
    anonymous = signed_in(app, None)
    response = anonymous.get(f"/d/{PUBLISHED}/report")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anonymous.get(f"/d/{PUBLISHED}/report.pdf").status_code == 302
    assert anonymous.get(f"/d/{DRAFT}/report").status_code == 404
    assert signed_in(app, "vera").get(f"/d/{PUBLISHED}/report?week=2016-32").status_code == 403  # permission before input
    # Where the committee finds it: the stages page links the report for them, not for readers.
    assert f'href="/d/{PUBLISHED}/report"' in signed_in(app, "ana").get(f"/d/{PUBLISHED}/versions").get_data(as_text=True)
    assert "/report" not in signed_in(app, "vera").get(f"/d/{PUBLISHED}/versions").get_data(as_text=True)


@pytest.mark.browser
def test_report_screenshots(seeded, browser, tmp_path):
    """The report at 1280 and 375 px (files in /tmp/shots, looked at by a person): nothing wider than the
    viewport on a phone, and every chart drawn."""
    import threading

    from werkzeug.serving import make_server

    app, week, _ids = seeded
    app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)  # plain HTTP on 127.0.0.1
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    shots = Path(os.environ.get("CONSTITUENT_SHOTS", "/tmp/shots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        for width, name in ((1280, "desktop"), (375, "phone")):
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("#email", ACCOUNTS["ana"][0])
            page.fill("#password", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_url(base + "/")
            page.goto(f"{base}/d/{PUBLISHED}/report?week={week.key}")
            assert page.locator("svg.chart").count() == 4
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
            page.screenshot(path=str(shots / f"report-{name}.png"), full_page=True)
            context.close()
    finally:
        server.shutdown()
