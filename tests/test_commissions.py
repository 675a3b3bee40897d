"""Commissions (issue 23): a commission gets a title of the text and some members; it debates and
votes amendments on its units first and reports its dictamen, one proposal to the plenary. In plenary
a member reserves an article: the dictamen is voted without it, and the reserved article is voted
separately; rejected, that article keeps its live text."""

from __future__ import annotations

import requests
import test_amendments
from conftest import PUBLISHED
from lxml import etree
from test_amendment_handling import _act, _lifecycle, _mods, _related, _valid_akn
from test_amendments import (
    ANIMALS,
    MOBILITY,
    Member,
    unit_json,
    user_id,
)

# The published test constitution in the assembly stage (the fixtures of test_amendments).
assembly_template = test_amendments.assembly_template
assembly = test_amendments.assembly

ANIMALS_TEXT = "Los animales son seres sintientes."


def commissions(member: Member, path: str = "") -> str:
    return f"{member.server.url}/api/v1/documents/{PUBLISHED}/commissions{path}"


def post(member: Member, path: str, body: dict):
    return member.session.post(commissions(member, path), json=body, headers={"X-CSRFToken": member.token}, timeout=30)


def test_a_dictamen_is_adopted_in_plenary_with_one_reserved_article_voted_apart_and_rejected(assembly):
    asa, abel, admin, vera = (Member(assembly, who) for who in ("asa", "abel", "admin", "vera"))
    title = requests.get(f"{assembly.url}/api/v1/documents/{PUBLISHED}", timeout=10).json()["outline"][0]
    assert title["kind"] == "title"

    # Only the presiding administrator sets a commission up; its members are assembly members.
    body = {"name": "Comisión de Derechos", "units": [title["guid"]], "members": ["asa@example.org", "abel@example.org"]}
    assert post(asa, "", body).status_code == 403
    assert post(admin, "", {**body, "members": ["vera@example.org"]}).status_code == 400
    created = post(admin, "", body)
    assert created.status_code == 201, created.text
    commission = created.json()
    assert commission["number"] == 1 and commission["units"][0]["guid"] == title["guid"]
    assert {m["id"] for m in commission["members"]} == {user_id(assembly, "asa"), user_id(assembly, "abel")}

    # Members write amendments in the commission, on its units.
    asa.create(kind="substitution", units=[MOBILITY], commission=1, table=True,
               text="Toda persona tiene derecho a moverse con seguridad.")
    abel.create(kind="substitution", units=[ANIMALS], commission=1, table=True,
                text="Los animales son seres sintientes y tienen derechos.")
    # They are debated and voted in the commission, not in plenary.
    assert admin.act(1, "debate").status_code == 409
    assert admin.post("/1/commission/state", {"action": "debate"}).status_code == 200
    assert asa.vote(1, "for").status_code == 409
    assert vera.post("/1/commission/votes", {"choice": "for"}).status_code == 403
    for member in (asa, abel):
        assert member.post("/1/commission/votes", {"choice": "for"}).status_code == 201
    closed = admin.post("/1/commission/state", {"action": "close"})
    assert closed.status_code == 200 and closed.json()["state"] == "adopted", closed.text
    # The same with the amendment's page: its buttons act in the commission.
    page = f"/d/{PUBLISHED}/amendments/2"
    assert admin.form(f"{page}/state", {"action": "debate"}).status_code == 303
    for member in (asa, abel):
        assert member.form(f"{page}/vote", {"choice": "for"}).status_code == 303
    assert admin.form(f"{page}/state", {"action": "close"}).status_code == 303
    second = admin.get("/2").json()
    assert second["state"] == "adopted" and second["tally"]["for"] == 2
    assert second["history"][-1]["note"] == "commission:1"
    # Adopted in commission: the live text does not change yet.
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse."
    assert [t["guid"] for t in requests.get(commissions(admin, "/1"), timeout=10).json()["text"]] == [MOBILITY, ANIMALS]

    # The commission reports: one dictamen, one target per changed unit, tabled in plenary.
    reported = post(admin, "/1/report", {})
    assert reported.status_code == 201, reported.text
    number = reported.json()["number"]
    dictamen = admin.get(f"/{number}").json()
    assert dictamen["kind"] == "dictamen" and dictamen["state"] == "tabled" and dictamen["commission"] == 1
    assert [(t["guid"], t["proposed"]["text"]) for t in dictamen["targets"]] == [
        (MOBILITY, "Toda persona tiene derecho a moverse con seguridad."),
        (ANIMALS, "Los animales son seres sintientes y tienen derechos.")]
    assert post(admin, "/1/report", {}).status_code == 409

    # Anyone sees the commission, what it voted and its dictamen.
    page = Member(assembly, None).page(f"/d/{PUBLISHED}/commissions").text
    assert 'data-commission="1" data-state="reported"' in page and 'id="dictamen-1"' in page
    assert 'data-number="1"' in page and 'data-number="2"' in page

    # Abel reserves the article on animals (on the dictamen's page): a separate amendment, tabled.
    assert 'id="separately"' in abel.page(f"/d/{PUBLISHED}/amendments/{number}").text
    reserved = abel.form(f"/d/{PUBLISHED}/amendments/{number}/separately", {"unit": ANIMALS})
    assert reserved.status_code == 303, reserved.text
    reservation = int(reserved.headers["Location"].rsplit("/", 1)[1])
    assert post(abel, "/1/reservations", {"unit": "art_3"}).status_code == 409
    detail = admin.get(f"/{reservation}").json()
    assert detail["parent"] == {"number": number, "relation": "reservation"} and detail["state"] == "tabled"
    assert [t["reserved_by"] for t in admin.get(f"/{number}").json()["targets"]] == [None, reservation]

    # The dictamen is voted without the reserved article.
    assert admin.act(number, "debate").status_code == 200
    assert asa.vote(number, "for").status_code == 201 and abel.vote(number, "for").status_code == 201
    adopted = admin.act(number, "close")
    assert adopted.status_code == 200 and adopted.json()["state"] == "adopted", adopted.text
    assert [c["guid"] for c in adopted.json()["changes"]] == [MOBILITY]
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse con seguridad."
    assert unit_json(assembly, ANIMALS)["text"] == ANIMALS_TEXT
    # The reserved article is voted separately and rejected: it keeps its live text.
    assert admin.get(f"/{reservation}").json()["state"] == "tabled"
    assert admin.act(reservation, "debate").status_code == 200
    assert asa.vote(reservation, "against").status_code == 201 and abel.vote(reservation, "against").status_code == 201
    rejected = admin.act(reservation, "close")
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert unit_json(assembly, ANIMALS)["text"] == ANIMALS_TEXT
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse con seguridad."

    # Records: every amendment and the dictamen export as valid AKN; the act lists the dictamen (the
    # commission's own amendments reach the text through it).
    for n in (1, 2, number):
        _valid_akn(assembly, n)
    assert _related(_valid_akn(assembly, reservation)) == [f"reservation_{number}"]
    root = _valid_akn(assembly, number)
    assert root.find(".//{http://docs.oasis-open.org/legaldocml/ns/akn/3.0}amendment") is not None
    act = _act(assembly)
    assert _lifecycle(act) == [f"#amendment_{number}"]
    assert _mods(act) == [(f"#amendment_{number}", "#art_2")]
    assert isinstance(act, etree._Element)


def test_the_presiding_administrator_sets_up_a_commission_on_its_page(assembly):
    asa, admin = Member(assembly, "asa"), Member(assembly, "admin")
    page = admin.page(f"/d/{PUBLISHED}/commissions")
    assert page.status_code == 200 and 'id="commission-form"' in page.text
    assert f'value="{ANIMALS}"' in page.text and f'name="member" value="{user_id(assembly, "asa")}"' in page.text
    # Members read the page but are not offered the form, and cannot post it.
    assert 'id="commission-form"' not in asa.page(f"/d/{PUBLISHED}/commissions").text
    refused = asa.form(f"/d/{PUBLISHED}/commissions", {"name": "Comisión", "unit": [ANIMALS],
                                                         "member": [str(user_id(assembly, "asa"))]})
    assert refused.status_code == 403
    # A form without members is refused with the reason, and nothing is set up.
    bad = admin.form(f"/d/{PUBLISHED}/commissions", {"name": "Comisión de Derechos", "unit": [ANIMALS]})
    assert bad.status_code == 400 and 'id="commission-problem"' in bad.text
    assert requests.get(commissions(admin), timeout=10).json()["commissions"] == []
    made = admin.form(f"/d/{PUBLISHED}/commissions", {
        "name": "Comisión de Derechos", "unit": [ANIMALS, MOBILITY],
        "member": [str(user_id(assembly, "asa")), str(user_id(assembly, "abel"))]})
    assert made.status_code == 303 and made.headers["Location"].endswith("#commission-1")
    (commission,) = requests.get(commissions(admin), timeout=10).json()["commissions"]
    assert commission["name"] == "Comisión de Derechos"
    assert {u["guid"] for u in commission["units"]} == {ANIMALS, MOBILITY}
    assert {m["id"] for m in commission["members"]} == {user_id(assembly, "asa"), user_id(assembly, "abel")}
