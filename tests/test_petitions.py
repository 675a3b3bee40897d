"""Petitions: importing them with their signatures, thresholds crossed (events, obligations,
notifications), hearings, links to the units their references name, and the committee's pages."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
import requests
from click.testing import CliRunner
from conftest import ACCOUNTS, CDMX, DRAFT, PUBLISHED, SHARED_DATA, require
from sqlalchemy import func, select

from akoma_ntoso import iter_units
from editor import create_app
from editor.cli import main
from editor.documents import get_document
from editor.livetext import read_live
from editor.models import Notification, User
from editor.petitions.models import Hearing, Obligation, ObligationMember, Petition, PetitionEvent, SignatureCount, Threshold
from editor.petitions.service import (
    MAX_IMPORT_BYTES,
    PetitionError,
    PetitionImportError,
    current_signatures,
    delete_threshold,
    ensure_thresholds,
    import_petitions,
    link_references,
    petition_statuses,
    record_hearing,
    save_threshold,
    thresholds_reached,
    timeline,
)
from editor.provenance.links import links_of_source
from editor.provenance.models import ProvenanceLink

PETITIONS_2016 = SHARED_DATA / "cdmx" / "petitions-2016.csv"
UTC = timezone.utc


@contextmanager
def opened(instance):
    """The application over an instance folder, inside an application context."""
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    try:
        with app.app_context():
            yield services
    finally:
        services.db.remove()
        services.rooms.close_all()
        services.engine.dispose()


def _rows(db) -> dict[str, int]:
    """How many rows each petitions table holds: what an import may change."""
    tables = (Petition, SignatureCount, PetitionEvent, Obligation, ObligationMember, Notification, ProvenanceLink,
              Threshold)
    return {t.__name__: db.scalar(select(func.count()).select_from(t)) for t in tables}


def _linked_eids(db, document, units, petition) -> set[str]:
    eid = {u.guid: u.eid for u in iter_units(units)}
    return {eid[link.unit_guid] for link in links_of_source(db, document, "petition", petition.id)}


def _user(db, who: str) -> User:
    return db.scalar(select(User).where(User.email == ACCOUNTS[who][0]))


# --- the real 2016 petitions against the constitution in force -----------------------------------


def test_the_2016_petitions_link_to_the_units_their_references_name(cdmx_instance):
    require(PETITIONS_2016.exists(), f"the 2016 petitions are not at {PETITIONS_2016}")
    with opened(cdmx_instance) as services:
        db = services.db
        document = get_document(db, CDMX)
        units = read_live(services, CDMX).units
        result = import_petitions(db, document, PETITIONS_2016.read_bytes(), "csv",
                                  at=datetime(2016, 9, 1, tzinfo=UTC), units=units)
        assert len(result.created) == 12 and result.counts_recorded == 12
        by_title = {p.title.split(" (")[0].split("!")[0]: p for p in result.created}
        reports = {r.petition.id: r for r in result.links}

        def linked(start: str) -> set[str]:
            petition = next(p for title, p in by_title.items() if title.startswith(start))
            return _linked_eids(db, document, units, petition)

        def report(start: str):
            return reports[next(p for title, p in by_title.items() if title.startswith(start)).id]

        assert linked("Transparency of tax records") == {"art_64__subpara_2"}
        assert linked("Rescue Mexico City's rivers") == {
            "art_16__para_A__subpara_3", "art_16__para_A__subpara_4", "art_16__para_B"}
        assert linked("To make Mexico City a smart city") == {"art_7", "art_8__para_C", "art_24"}
        assert linked("Right to a good public administration") == {"art_2__subpara_3", "art_7__para_A", "title_6"}
        assert linked("LGBTI rights") == {"art_11__para_H"}
        # "Art. 16, 3": Artículo 16 has numerals 3 only inside its apartados; the article is certain.
        assert linked("Guarantee minimum areas of green spaces") == {"art_16"}
        green = report("Guarantee minimum areas of green spaces")
        assert [(i.unit.eid, i.imprecise) for i in green.linked] == [("art_16", True)]
        assert "apartados A, B, C, D, E, F, G, H" in green.linked[0].problem
        note = db.scalar(select(ProvenanceLink.note).where(ProvenanceLink.source_id == green.petition.id))
        assert "Imprecisa" in note and "numeral 3 es ambiguo" in note and "apartados A, B, C, D, E, F, G, H" in note
        # "Art. 12, E": Artículo 12 has no apartado E; "Art. 16, H" of the same petition is linked.
        mobility = report("Sustainable mobility")
        assert linked("Sustainable mobility") == {"art_16__para_H"}
        assert [(u.reference, u.problem) for u in mobility.unresolved] == [
            ("Art. 12, E", "Artículo 12 has no apartado E")]
        # "X": not incorporated, nothing linked.
        assert report("Maternity and paternity leave").not_incorporated
        assert linked("Maternity and paternity leave") == set()
        assert result.links_made == 19
        relations = set(db.execute(select(ProvenanceLink.relation, ProvenanceLink.origin)))
        assert relations == {("incorporates", "import")}

        # Thresholds: 63,508 signatures cross all three at once, 39,182 two of them.
        ley = by_title["Transparency of tax records and declaration of conflicts of interest and properties owned by public servants"]
        assert [r.signatures for r in thresholds_reached(db, ley)] == [5_000, 10_000, 50_000]
        assert {r.reached_at for r in thresholds_reached(db, ley)} == {datetime(2016, 9, 1, tzinfo=UTC)}
        assert len(result.crossings) == 4 * 3 + 8 * 2

        # The same file again adds nothing, links included.
        before = _rows(db)
        again = import_petitions(db, document, PETITIONS_2016.read_bytes(), "csv",
                                 at=datetime(2016, 9, 1, tzinfo=UTC), units=units)
        assert (len(again.created), len(again.updated), again.counts_recorded, len(again.crossings),
                again.links_made) == (0, 0, 0, 0, 0)
        assert _rows(db) == before
        # Even when counted later (no date in the file): unchanged numbers are no new count.
        later = import_petitions(db, document, PETITIONS_2016.read_bytes(), "csv", units=units)
        assert later.counts_recorded == 0 and _rows(db) == before


def test_the_command_line_imports_the_2016_petitions_and_reports_what_it_could_not_link(cdmx_instance, monkeypatch):
    require(PETITIONS_2016.exists(), f"the 2016 petitions are not at {PETITIONS_2016}")
    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(cdmx_instance))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    runner = CliRunner()
    several = runner.invoke(main, ["petitions", "import", str(PETITIONS_2016)])
    assert several.exit_code != 0 and "several documents exist: say which with --document" in several.output

    result = runner.invoke(main, ["petitions", "import", str(PETITIONS_2016), "--document", CDMX,
                                  "--at", "2016-09-01T12:00:00Z"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "petitions: 12 new, 0 updated, 0 unchanged" in out
    assert "signature counts recorded: 12" in out
    assert "thresholds crossed: 28 (28 events, 28 obligations, 36 notifications)" in out  # 12 × ana, bruno, admin
    assert "links made: 19" in out
    assert "Art. 64, 2 → Artículo 64, numeral 2 (art_64__subpara_2)" in out
    assert "'Art. 16, 3' → Artículo 16 (art_16)" in out
    assert "'Art. 12, E': Artículo 12 has no apartado E" in out
    assert "x Maternity and paternity leave for all" in out

    again = runner.invoke(main, ["petitions", "import", str(PETITIONS_2016), "--document", CDMX,
                                 "--at", "2016-09-01T12:00:00Z"])
    assert again.exit_code == 0 and "petitions: 0 new, 0 updated, 12 unchanged" in again.output
    assert "links made: 0" in again.output and "thresholds crossed: 0" in again.output

    bad = cdmx_instance / "bad.csv"
    bad.write_text("petition,signatures\nNueva petición,100\nOtra,muchas\n", encoding="utf-8")
    refused = runner.invoke(main, ["petitions", "import", str(bad), "--document", CDMX])
    assert refused.exit_code != 0
    assert "line 3, signatures: 'muchas' is not a whole number; nothing was imported" in refused.output
    missing = runner.invoke(main, ["petitions", "import", str(PETITIONS_2016), "--document", "no-such"])
    assert missing.exit_code != 0 and "there is no document 'no-such'" in missing.output
    with opened(cdmx_instance) as services:
        assert services.db.scalar(select(func.count()).select_from(Petition)) == 12


# --- thresholds ------------------------------------------------------------------------------------


def test_later_counts_cross_each_threshold_once_even_when_imports_are_repeated(instance):
    agua = {"title": "Agua para todas las colonias", "url": "https://peticiones.example/agua",
            "petitioners": ["Colectivo Agua", "Vecinos de Iztapalapa"], "proposal": "Garantizar el agua."}
    first = json.dumps([{**agua, "signatures": 4_000, "counted_at": "2016-03-01"}]).encode()
    crossing_5k = b"title,url,signatures,counted_at\nAgua para todas las colonias,https://peticiones.example/agua,5200,2016-03-10\n"
    series = json.dumps({"petitions": [{**agua, "signatures": [
        {"at": "2016-03-20", "count": 9_000}, {"at": "2016-04-01T15:30:00Z", "count": 12_000},
        {"at": "2016-05-01", "count": 55_000}]}]}).encode()
    with opened(instance) as services:
        db = services.db
        document = get_document(db, PUBLISHED)
        assert import_petitions(db, document, first, "json").crossings == []
        petition = db.scalar(select(Petition))
        assert petition.petitioners == "Colectivo Agua, Vecinos de Iztapalapa"
        assert petition.proposal == "Garantizar el agua." and petition.key == "https://peticiones.example/agua"

        for _ in range(2):
            import_petitions(db, document, crossing_5k, "csv")
        for _ in range(2):
            import_petitions(db, document, series, "json")
            import_petitions(db, document, first, "json")  # an old count again changes nothing

        assert current_signatures(db, petition) == 55_000
        assert [c.signatures for c in db.scalars(select(SignatureCount).order_by(SignatureCount.counted_at))] == [
            4_000, 5_200, 9_000, 12_000, 55_000]
        events = db.scalars(select(PetitionEvent).order_by(PetitionEvent.occurred_at)).all()
        assert [(e.kind, e.occurred_at.date()) for e in events] == [
            ("threshold", date(2016, 3, 10)), ("threshold", date(2016, 4, 1)), ("threshold", date(2016, 5, 1))]
        obligations = db.scalars(select(Obligation).order_by(Obligation.due_on)).all()
        assert [(o.action, o.due_on, o.status) for o in obligations] == [
            ("legal_review", date(2016, 4, 9), "open"),
            ("committee_presentation", date(2016, 5, 1), "open"),
            ("executive_audience", date(2016, 6, 30), "open")]
        # Up to three members for the presentation: the seed has two committee members and an administrator.
        members = obligation_members_of(db, obligations[1])
        assert members == {"ana@example.org", "bruno@example.org", "admin@example.org"}
        assert obligation_members_of(db, obligations[0]) == set()

        # Notifications: the committee, once per crossing import (5,000; then 10,000 and 50,000).
        for who in ("ana", "bruno"):
            notes = db.scalars(select(Notification).where(Notification.user_id == _user(db, who).id)).all()
            assert len(notes) == 2
            assert all("Agua para todas las colonias" in n.message for n in notes)
            assert {n.url for n in notes} == {f"/d/{PUBLISHED}/petitions/{petition.id}/manage"}
        assert db.scalars(select(Notification).where(Notification.user_id == _user(db, "vera").id)).all() == []

        # A petition imported already over 50,000 crosses all three thresholds at once.
        big = import_petitions(db, document, b"title,signatures\nMovilidad sustentable,60000\n", "csv",
                               at=datetime(2016, 6, 1, 12, tzinfo=UTC))
        assert sorted(c.threshold.signatures for c in big.crossings) == [5_000, 10_000, 50_000]
        assert {c.event.occurred_at for c in big.crossings} == {datetime(2016, 6, 1, 12, tzinfo=UTC)}
        assert big.notifications == 3  # one per committee member (ana, bruno) and administrator
        statuses = {s.petition.title: s for s in petition_statuses(db, document)}
        assert [t.signatures for t in statuses["Movilidad sustentable"].reached] == [5_000, 10_000, 50_000]
        assert statuses["Movilidad sustentable"].signatures == 60_000


def obligation_members_of(db, obligation) -> set[str]:
    return set(db.scalars(select(User.email).join(ObligationMember, ObligationMember.user_id == User.id)
                          .where(ObligationMember.obligation_id == obligation.id)))


def test_a_documents_own_thresholds_are_honoured(instance):
    with opened(instance) as services:
        db = services.db
        document = get_document(db, PUBLISHED)
        draft = get_document(db, DRAFT)
        thresholds = {t.signatures: t for t in ensure_thresholds(db, document)}
        assert sorted(thresholds) == [5_000, 10_000, 50_000]
        save_threshold(db, document, 200, "committee_presentation", 7, 1, threshold_id=thresholds[5_000].id)
        delete_threshold(db, document, thresholds[50_000].id)
        save_threshold(db, document, 300, "other", 0, 0)
        db.commit()

        result = import_petitions(db, document, b"title,signatures\nParques,250\nCiclovias,250\nPoca,150\n", "csv",
                                  at=datetime(2016, 2, 1, tzinfo=UTC))
        assert sorted((c.petition.title, c.threshold.signatures) for c in result.crossings) == [
            ("Ciclovias", 200), ("Parques", 200)]
        obligations = {c.petition.title: c.obligation for c in result.crossings}
        assert {o.due_on for o in obligations.values()} == {date(2016, 2, 8)}
        # One member each, the one with the fewest open obligations first: both get one.
        assigned = [obligation_members_of(db, obligations[t]) for t in ("Parques", "Ciclovias")]
        assert sorted(next(iter(a)) for a in assigned) == ["ana@example.org", "bruno@example.org"]

        later = import_petitions(db, document, b"title,signatures\nParques,320\n", "csv",
                                 at=datetime(2016, 2, 5, tzinfo=UTC))
        assert [(c.threshold.signatures, c.obligation.action, c.obligation.due_on) for c in later.crossings] == [
            (300, "other", date(2016, 2, 5))]

        # A crossed threshold keeps its number and stays; another document keeps the defaults.
        crossed = db.scalar(select(Threshold).where(Threshold.document_id == document.id, Threshold.signatures == 200))
        with pytest.raises(PetitionError, match="already crossed the threshold at 200"):
            save_threshold(db, document, 250, "legal_review", 30, 0, threshold_id=crossed.id)
        with pytest.raises(PetitionError, match="already crossed"):
            delete_threshold(db, document, crossed.id)
        with pytest.raises(PetitionError, match="already a threshold at 300"):
            save_threshold(db, document, 300, "legal_review", 30, 0)
        with pytest.raises(PetitionError, match="between 0 and 3"):
            save_threshold(db, document, 900, "legal_review", 30, 4)
        db.rollback()
        assert [t.signatures for t in ensure_thresholds(db, draft)] == [5_000, 10_000, 50_000]


# --- bad input ---------------------------------------------------------------------------------------


BAD_INPUTS = [
    ("csv", b"name_of_it,signatures\nAgua,5\n", "line 1: no title column (expected 'title' or 'petition')"),
    ("csv", b"title,signatures\nAgua,10\nBosques,-3\n", "line 3, signatures: '-3' is negative"),
    ("csv", b"title,signatures\nAgua,diez mil\n", "line 2, signatures: 'diez mil' is not a whole number"),
    ("csv", b"title,signatures\nAgua,10\n,5\n", "line 3, title: the petition has no title"),
    ("csv", b"petition,firmas,fecha\nAgua,10,2016-13-01\n", "line 2, fecha: '2016-13-01' is not an ISO date"),
    ("csv", b"title,signatures,counted_at\nAgua,10,2999-01-01\n", "line 2, counted_at: 2999-01-01 is in the future"),
    ("csv", b"title,signatures\nAgua,10,extra\n", "line 2: 3 fields, but the header has 2"),
    ("csv", b'title,signatures\n"Agua,10\n', "not valid CSV"),
    ("csv", b"title,url\nAgua,ftp://x\n", "line 2, url: 'ftp://x' is not an http(s) address"),
    ("csv", b"title,signatures\nAgua,10\nAgua,12\n", "line 3: 'Agua' has 12 signatures at"),
    ("csv", b'[{"title": "Agua"}]', "this looks like JSON, not CSV"),
    ("csv", b"title\n\xff\xfeAgua\n", "the file is not UTF-8 text"),
    ("csv", b"", "the file is empty"),
    ("json", b'{"items": []}', 'expected a list of petitions, or an object {"petitions": [...]}'),
    ("json", b'[{"title": "Agua", "signatures": 5}, "Bosques"]', "petition 2: expected an object, found str"),
    ("json", b'[{"title": "Agua", "signatures": [{"at": "2016-01-01"}]}]', "petition 1, signatures[1]: expected"),
    ("json", b'[{"title": "Agua", "signatures": [{"at": "2016-01-01", "count": -1}]}]',
     "petition 1, signatures[1], count: -1 is negative"),
    ("json", b'[{"title": "Agua", "signatures": true}]', "petition 1, signatures: True is not a number"),
    ("json", b'[{"signatures": 5}]', "petition 1, title: the petition has no title"),
    ("json", b'[{"title": "Agua", ', "not valid JSON"),
    ("xml", b"<petitions/>", "unknown format 'xml'"),
]


def test_bad_files_give_a_clear_error_and_change_nothing(instance):
    with opened(instance) as services:
        db = services.db
        document = get_document(db, PUBLISHED)
        import_petitions(db, document, b"title,signatures,counted_at\nAgua,6000,2016-03-01\n", "csv")
        before = _rows(db)
        for fmt, data, message in [*BAD_INPUTS, ("csv", b"title\n" + b"x" * MAX_IMPORT_BYTES, "limited to 5 MB"),
                                   # a count contradicting the one stored for the same moment
                                   ("csv", b"title,signatures,counted_at\nAgua,7000,2016-03-01\n",
                                    "'Agua' already has 6,000 signatures counted at 2016-03-01")]:
            with pytest.raises(PetitionImportError) as caught:
                import_petitions(db, document, data, fmt)
            assert message in str(caught.value), (data[:60], str(caught.value))
            assert _rows(db) == before, data[:60]
        assert db.scalar(select(Petition.title)) == "Agua"


# --- hearings -----------------------------------------------------------------------------------------


def test_hearings_need_committee_members_and_a_sensible_date(instance):
    with opened(instance) as services:
        db = services.db
        document = get_document(db, PUBLISHED)
        import_petitions(db, document, b"title,signatures\nAgua,12000\n", "csv", at=datetime(2016, 3, 1, tzinfo=UTC))
        petition = db.scalar(select(Petition))
        ana, bruno, vera = (_user(db, w) for w in ("ana", "bruno", "vera"))
        for held_on, members, message in [
            (date(2016, 4, 2), [vera.id], "only active committee members and administrators"),
            (date(2016, 4, 2), [], "choose the committee members who were present"),
            (date(1970, 1, 1), [ana.id], "is before 1990"),
            (date.today() + timedelta(days=30), [ana.id], "is in the future"),
        ]:
            with pytest.raises(PetitionError, match=message):
                record_hearing(db, petition, held_on, members, "", ana)
        db.rollback()
        assert db.scalar(select(func.count()).select_from(Hearing)) == 0
        for day, notes in ((date(2016, 4, 2), "Primera reunión"), (date(2016, 5, 10), "Revisión del texto"),
                           (date(2016, 6, 20), "Redacción final")):
            record_hearing(db, petition, day, [ana.id, bruno.id], notes, ana)
        db.commit()
        entries = [(e.kind, e.occurred_on) for e in timeline(db, petition)]
        assert entries == [("threshold", date(2016, 3, 1)), ("threshold", date(2016, 3, 1)),
                           ("hearing", date(2016, 4, 2)), ("hearing", date(2016, 5, 10)), ("hearing", date(2016, 6, 20))]
        assert {u.email for u in timeline(db, petition)[-1].members} == {"ana@example.org", "bruno@example.org"}


def test_linking_again_after_the_text_is_imported_links_each_unit_once(cdmx_instance):
    require(PETITIONS_2016.exists(), f"the 2016 petitions are not at {PETITIONS_2016}")
    with opened(cdmx_instance) as services:
        db = services.db
        document = get_document(db, CDMX)
        # Imported without the text: nothing linked yet.
        result = import_petitions(db, document, PETITIONS_2016.read_bytes(), "csv")
        assert result.links == [] and db.scalar(select(func.count()).select_from(ProvenanceLink)) == 0
        units = read_live(services, CDMX).units
        rivers = next(p for p in result.created if p.title.startswith("Rescue"))
        report = link_references(db, document, units, rivers)
        assert report.created == 3
        assert link_references(db, document, units, rivers).created == 0
        # A petition with no link yet is linked by the next import that has the text.
        again = import_petitions(db, document, PETITIONS_2016.read_bytes(), "csv", units=units)
        assert again.links_made == 16 and db.scalar(select(func.count()).select_from(ProvenanceLink)) == 19


# --- the committee's pages ------------------------------------------------------------------------------


def _csrf(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=10).text).group(1)


def _english(session: requests.Session) -> requests.Session:
    session.headers["Accept-Language"] = "en"
    return session


def test_staff_pages_are_for_the_committee_only(server):
    manage = f"{server.url}/d/{PUBLISHED}/petitions/manage"
    anonymous = requests.get(manage, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert requests.get(f"{server.url}/d/{DRAFT}/petitions/manage", timeout=10).status_code == 404
    assert requests.get(f"{server.url}/notifications", allow_redirects=False, timeout=10).status_code == 302
    vera = server.login("vera")
    token = _csrf(vera, server.url + "/")
    for path in ("/petitions/manage", "/petitions/thresholds", "/petitions/1/manage"):
        assert vera.get(f"{server.url}/d/{PUBLISHED}{path}", timeout=10).status_code == 403, path
    refused = vera.post(manage, data={"csrf_token": token, "format": "csv"},
                        files={"file": ("p.csv", b"title,signatures\nAgua,10\n", "text/csv")}, timeout=10)
    assert refused.status_code == 403
    ana = server.login("ana")
    assert ana.get(f"{server.url}/d/no-such-law/petitions/manage", timeout=10).status_code == 404
    assert ana.get(f"{server.url}/d/{PUBLISHED}/petitions/999/manage", timeout=10).status_code == 404
    page = _english(ana).get(manage, timeout=10)
    assert page.status_code == 200 and "No petitions yet" in page.text  # vera's upload changed nothing


def test_the_committee_imports_follows_and_hears_a_petition(server):
    ana = _english(server.login("ana"))
    manage = f"{server.url}/d/{PUBLISHED}/petitions/manage"
    token = _csrf(ana, manage)
    csv_data = ("title,petitioners,signatures,url,counted_at,proposal,final_text_refs\n"
                "Agua para todas las colonias,Colectivo Agua,12500,https://peticiones.example/agua,2016-03-10,"
                "Toda persona tiene derecho al agua potable.,Art. 1. Art. 9\n"
                "Ciclovías seguras,Bici Red,800,,2016-03-10,,\n").encode()
    uploaded = ana.post(manage, data={"csrf_token": token, "format": "auto"},
                        files={"file": ("peticiones.csv", csv_data, "text/csv")}, timeout=10)
    assert uploaded.status_code == 200, uploaded.text[:500]
    assert "What the import did" in uploaded.text
    assert "2 new petitions" in uploaded.text and "2 signature counts recorded" in uploaded.text
    assert "2 thresholds crossed" in uploaded.text
    assert "12,500" in uploaded.text and "Agua para todas las colonias" in uploaded.text
    assert "1 link to the text made" in uploaded.text and "Artículo 1</a> <code>art_1</code>" in uploaded.text
    assert "Not found:</span> <code>Art. 9</code> — there is no Artículo 9" in uploaded.text

    bad = ana.post(manage, data={"csrf_token": token, "format": "csv"},
                   files={"file": ("peticiones.csv", b"title,signatures\nOtra,5\nMas,-1\n", "text/csv")}, timeout=10)
    assert bad.status_code == 400
    assert "Nothing was imported: line 3, signatures: &#39;-1&#39; is negative" in bad.text
    assert "Otra" not in bad.text and "2 petitions" in bad.text

    # The petition's page: its history, thresholds and obligations (overdue: due in 2016).
    petition_url = re.search(r'href="(/d/[^"]+/petitions/(\d+)/manage)">Agua', uploaded.text).group(1)
    page = ana.get(server.url + petition_url, timeout=10)
    assert page.status_code == 200
    assert "Colectivo Agua" in page.text and "Toda persona tiene derecho al agua potable." in page.text
    assert page.text.count("overdue") >= 2 and "presentation to the drafting committee" in page.text
    links = page.text[page.text.index('id="links-h"'):]
    assert "Artículo 1</a> <code>art_1</code>" in links and "takes up its proposal" in links
    relinked = ana.post(server.url + petition_url + "/links", data={"csrf_token": token}, timeout=10)
    assert relinked.status_code == 200 and "0 links made from the petition" in relinked.text
    assert "Not found: Art. 9 (there is no Artículo 9)" in relinked.text

    # Record a hearing with both committee members: it shows on the page.
    users = dict(re.findall(r'name="members" value="(\d+)" id="h-m\d+"> (\w+)', page.text))
    assert set(users.values()) >= {"Ana", "Bruno"}
    recorded = ana.post(server.url + petition_url + "/hearings", data={
        "csrf_token": token, "held_on": "2016-04-12", "members": list(users), "notes": "Primera reunión con el colectivo"},
        timeout=10)
    assert recorded.status_code == 200 and "Hearing recorded." in recorded.text
    assert "Primera reunión con el colectivo" in recorded.text and "April 12, 2016" in recorded.text
    future = ana.post(server.url + petition_url + "/hearings", data={
        "csrf_token": token, "held_on": "2999-01-01", "members": list(users), "notes": "x"}, timeout=10)
    assert future.status_code == 400 and "is in the future" in future.text

    # Reassign the presentation to Bruno alone.
    bruno_id = next(i for i, name in users.items() if name == "Bruno")
    presentation = re.search(r'presentation to the drafting committee</strong>.*?action="([^"]+/obligations/(\d+))"',
                             recorded.text, re.S)
    assigned = ana.post(server.url + presentation.group(1), data={"csrf_token": token, "op": "assign",
                                                                   "members": [bruno_id]}, timeout=10)
    assert assigned.status_code == 200 and "Assignment saved." in assigned.text
    boxes = re.findall(rf'id="o{presentation.group(2)}-m(\d+)"( checked)?', assigned.text)
    assert [uid for uid, checked in boxes if checked] == [bruno_id]
    wrong = ana.post(server.url + presentation.group(1), data={"csrf_token": token, "op": "assign",
                                                                "members": ["99999"]}, timeout=10)
    assert wrong.status_code == 400 and "only active committee members" in wrong.text

    # Mark the legal review done; it is no longer overdue on the list.
    obligation = re.search(r'action="([^"]+/obligations/\d+)"', recorded.text).group(1)
    done = ana.post(server.url + obligation, data={"csrf_token": token, "op": "done"}, timeout=10)
    assert done.status_code == 200 and "Obligation marked as done." in done.text
    assert ana.get(manage, timeout=10).text.count("(overdue)") == 1

    # Bruno was notified once; he reads his notifications.
    bruno = _english(server.login("bruno"))
    inbox = bruno.get(f"{server.url}/notifications", timeout=10)
    assert inbox.status_code == 200 and "1 unread" in inbox.text
    assert "Agua para todas las colonias" in inbox.text and petition_url in inbox.text
    read = bruno.post(f"{server.url}/notifications/read-all", data={"csrf_token": _csrf(bruno, server.url + "/")},
                      timeout=10)
    assert read.status_code == 200 and "0 unread" in read.text

    # Thresholds page: a new threshold at 1,000 records the crossing Ciclovías had not reached.
    thresholds_url = f"{server.url}/d/{PUBLISHED}/petitions/thresholds"
    added = ana.post(thresholds_url, data={"csrf_token": token, "signatures": "700", "action": "other",
                                           "due_days": "10", "members": "1", "op": "save"}, timeout=10)
    assert added.status_code == 200 and 'value="700"' in added.text
    assert "2 petitions had already reached it" in added.text
    refused = ana.post(thresholds_url, data={"csrf_token": token, "signatures": "700", "action": "other",
                                             "due_days": "10", "members": "5", "op": "save"}, timeout=10)
    assert refused.status_code == 400


# --- in a real browser, on a phone ----------------------------------------------------------------


@pytest.mark.browser
def test_on_a_phone_the_committee_uploads_petitions_and_records_a_hearing_with_the_keyboard(server, tmp_path):
    import os

    from conftest import CHROMIUM, PASSWORD

    require(os.path.exists(CHROMIUM), f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    upload = tmp_path / "peticiones.json"
    upload.write_text(json.dumps({"petitions": [{
        "title": "Ríos vivos", "petitioners": "Colectivo Ríos", "url": "https://peticiones.example/rios",
        "signatures": [{"at": "2016-02-01", "count": 3_000}, {"at": "2016-03-01", "count": 11_000}]}]}),
        encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--lang=en-US"],
                                    headless=True)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/login")
        page.fill("#email", ACCOUNTS["ana"][0])
        page.fill("#password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(server.url + "/")

        page.goto(f"{server.url}/d/{PUBLISHED}/petitions/manage")
        page.set_input_files("#file", str(upload))
        page.click("form[enctype] button[type=submit]")
        report = page.locator("#import-report")
        expect(report).to_contain_text("1 new petition")
        expect(report).to_contain_text("2 thresholds crossed")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.get_by_role("link", name="Ríos vivos").first.click()
        expect(page.locator("h1")).to_have_text("Ríos vivos")
        expect(page.locator(".sparkline")).to_be_visible()
        # The hearing form, by keyboard only: date, both members, notes, submit.
        page.focus("#held_on")
        page.keyboard.type("04122016")  # en-US: month, day, year
        for name in ("Ana", "Bruno"):
            page.locator("#hearings fieldset").get_by_label(name).focus()
            page.keyboard.press("Space")
        page.focus("#notes")
        page.keyboard.type("Reunión con el Colectivo Ríos")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        hearings = page.locator("#hearings ul.petition-hearings")
        expect(hearings).to_contain_text("Reunión con el Colectivo Ríos")
        expect(hearings).to_contain_text("Ana, Bruno")
        expect(hearings).to_contain_text("April 12, 2016")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert errors == []
        context.close()
        browser.close()
