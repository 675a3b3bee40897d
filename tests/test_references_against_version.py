"""Petition references resolved against a chosen text (issue 22): after an article is inserted
live before Artículo 16 of the Mexico City constitution, the 2016 petitions' "Art. 16, A, 3"
still links the units that carried those numbers in the frozen version, not today's Artículo 16.
The import page, the command line and the API choose the text; the petition's page says where
a number has shifted since."""

from __future__ import annotations

import re

from click.testing import CliRunner
from conftest import CDMX, SHARED_DATA, require
from pycrdt import XmlElement, XmlFragment, XmlText
from sqlalchemy import select
from test_fuzz_api import signed_in

from akoma_ntoso import find_unit, iter_units
from editor import create_app
from editor.documents import get_document
from editor.livetext import read_live
from editor.petitions.models import Petition
from editor.petitions.service import import_petitions, reference_text
from editor.provenance.links import links_of_source
from editor.provenance.models import ProvenanceLink
from editor.stages.versions import freeze

PETITIONS_2016 = SHARED_DATA / "cdmx" / "petitions-2016.csv"
INSERTED = "00000000-0000-4000-8000-0000000000cc"
RIVERS = {"art_16__para_A__subpara_3", "art_16__para_A__subpara_4", "art_16__para_B"}


def _element(parent, guid: str):
    for child in parent.children:
        if isinstance(child, XmlElement) and child.tag not in ("heading", "p", "table"):
            if child.attributes.get("guid") == guid:
                return child, parent
            found = _element(child, guid)
            if found is not None:
                return found
    return None


def _insert_before(services, guid: str) -> None:
    def edit(doc):
        body = doc.get("body", type=XmlFragment)
        element, parent = _element(body, guid)
        index = next(i for i, c in enumerate(parent.children) if c == element)
        with doc.transaction(origin="someone"):
            parent.children.insert(index, XmlElement("article", {"guid": INSERTED}, [
                XmlElement("heading", None, [XmlText("Del ordenamiento territorial")]),
                XmlElement("p", None, [XmlText("La Ciudad planifica su territorio.")])]))

    services.rooms.call(CDMX, edit)


def _rivers(db, document) -> Petition:
    return db.scalar(select(Petition).where(Petition.document_id == document.id,
                                            Petition.title.startswith("Rescue Mexico City's rivers")))


def test_references_are_read_against_the_chosen_version_and_shifts_are_shown(cdmx_instance):
    require(PETITIONS_2016.exists(), f"the 2016 petitions are not at {PETITIONS_2016}")
    app = create_app({"INSTANCE_PATH": str(cdmx_instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    try:
        with app.test_request_context():
            db = services.db
            document = get_document(db, CDMX)
            before = read_live(services, CDMX).units
            then = {eid: find_unit(before, eid).guid for eid in RIVERS}
            freeze(services, document, None, name="Texto vigente")
            _insert_before(services, find_unit(before, "art_16").guid)
            live = read_live(services, CDMX).units
            assert find_unit(live, "art_16").guid == INSERTED  # today's Artículo 16 is the new article

            # The default: the latest frozen version.
            against = reference_text(services, document, None)
            assert against.version == 1
            result = import_petitions(db, document, PETITIONS_2016.read_bytes(), "csv", units=against.units,
                                      version=against.version, live_units=against.live_units)
            rivers = _rivers(db, document)
            linked = {link.unit_guid for link in links_of_source(db, document, "petition", rivers.id)}
            assert linked == set(then.values())  # the units that carried those numbers in version 1
            assert INSERTED not in set(db.scalars(select(ProvenanceLink.unit_guid)))
            by_guid = {u.guid: u for u in iter_units(live)}
            assert {by_guid[g].eid for g in linked} == {"art_17__para_A__subpara_3", "art_17__para_A__subpara_4",
                                                        "art_17__para_B"}
            assert rivers.references_version == 1
            report = next(r for r in result.links if r.petition.id == rivers.id)
            assert {(i.name, i.now) for i in report.linked} >= {
                ("Artículo 16, apartado A, numeral 3", "Artículo 17, apartado A, numeral 3")}
            assert result.version == 1 and result.links_made == 19

            assert reference_text(services, document, "live").version is None
            db.commit()

        # The petition's page says where a number has shifted since the version.
        ana, _token = signed_in(app, "ana")
        page = ana.get(f"/d/{CDMX}/petitions/{rivers.id}/manage", headers={"Accept-Language": "en"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200, html[:500]
        assert "Artículo 16, apartado A, numeral 3 in version 1, today Artículo 17, apartado A, numeral 3" in html
        assert "Its references are read against the numbering of version 1." in html
        public = app.test_client().get(f"/d/{CDMX}/petitions/{rivers.id}", headers={"Accept-Language": "en"})
        assert public.status_code == 200
        assert "Artículo 16, apartado B in version 1, today Artículo 17, apartado B" in public.get_data(as_text=True)
        # The import page offers the versions (the latest first, chosen) and the live text.
        upload = ana.get(f"/d/{CDMX}/petitions/manage", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert re.search(r'<option selected value="1">Version 1 · Texto vigente</option>', upload)
        assert '<option value="live">The live text (today&#39;s numbers)</option>' in upload

        # The API: against the live text, today's Artículo 16 has no apartado A: nothing is guessed.
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', upload)
        token = token.group(1) if token else re.search(r'name="csrf_token" value="([^"]+)"', upload).group(1)
        csv = ("title,signatures,final_text_refs\n"
               "Ríos vivos (prueba),10,\"Art. 16, A, 3\"\n").encode()
        answered = ana.post(f"/api/v1/documents/{CDMX}/petitions/import?format=csv&against=live", data=csv,
                            headers={"X-CSRFToken": token, "Content-Type": "text/csv"})
        assert answered.status_code == 200, answered.get_data(as_text=True)
        data = answered.get_json()
        assert data["against"] == "live" and data["links"][0]["linked"] == []
        # The same against version 1 links what was Artículo 16, apartado A, numeral 3 there.
        csv2 = csv.replace("Ríos vivos (prueba)".encode(), "Ríos vivos segunda (prueba)".encode())
        answered = ana.post(f"/api/v1/documents/{CDMX}/petitions/import?format=csv&against=1", data=csv2,
                            headers={"X-CSRFToken": token, "Content-Type": "text/csv"})
        data = answered.get_json()
        assert answered.status_code == 200 and data["against"] == 1
        assert [(i["guid"], i["eid"], i["today"]) for i in data["links"][0]["linked"]] == [
            (then["art_16__para_A__subpara_3"], "art_17__para_A__subpara_3", "Artículo 17, apartado A, numeral 3")]
        refused = ana.post(f"/api/v1/documents/{CDMX}/petitions/import?format=csv&against=9", data=csv,
                           headers={"X-CSRFToken": token, "Content-Type": "text/csv"})
        assert refused.status_code == 400 and "no tiene versión 9" in refused.get_json()["error"]  # Spanish by default
        vera, vera_token = signed_in(app, "vera")
        assert vera.post(f"/api/v1/documents/{CDMX}/petitions/import?format=csv", data=csv,
                         headers={"X-CSRFToken": vera_token, "Content-Type": "text/csv"}).status_code == 403
    finally:
        services.close()


def test_the_command_line_chooses_the_text_references_are_read_against(cdmx_instance, monkeypatch):
    require(PETITIONS_2016.exists(), f"the 2016 petitions are not at {PETITIONS_2016}")
    from editor.cli import main  # the command line reads the instance from the environment

    app = create_app({"INSTANCE_PATH": str(cdmx_instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    try:
        with app.test_request_context():
            document = get_document(services.db, CDMX)
            before = read_live(services, CDMX).units
            freeze(services, document, None, name="Texto vigente")
            _insert_before(services, find_unit(before, "art_16").guid)
    finally:
        services.close()
    monkeypatch.setenv("CONSTITUENT_INSTANCE", str(cdmx_instance))
    runner = CliRunner()
    refused = runner.invoke(main, ["petitions", "import", str(PETITIONS_2016), "--document", CDMX, "--against", "7"])
    assert refused.exit_code != 0 and "no version 7" in refused.output
    result = runner.invoke(main, ["petitions", "import", str(PETITIONS_2016), "--document", CDMX, "--against", "1"])
    assert result.exit_code == 0, result.output
    assert "links made: 19 (references read against version 1)" in result.output
    assert ("→ Artículo 16, apartado A, numeral 3 (art_17__para_A__subpara_3), today Artículo 17, apartado A, "
            "numeral 3") in result.output
