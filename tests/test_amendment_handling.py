"""Amendment handling beyond one amendment at a time (issue 23): amendments to amendments, compromise
amendments that replace tabled ones, a rebase when the unit changed since tabling, identical
amendments voted together; each one recorded in its own Akoma Ntoso and in the act's lifecycle and
passiveModifications."""

from __future__ import annotations

import requests
import test_amendments
from conftest import PUBLISHED
from lxml import etree
from test_amendments import (
    ANIMALS,
    MOBILITY,
    NS,
    Member,
    adopt,
    unit_json,
)

# The published test constitution in the assembly stage (the fixtures of test_amendments).
assembly_template = test_amendments.assembly_template
assembly = test_amendments.assembly

MOVE = "Toda persona tiene derecho a moverse."


def _valid_akn(server, number: int) -> etree._Element:
    from akoma_ntoso.akn import validate

    response = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/amendments/{number}/akn", timeout=15)
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert validate(root) == [], number
    return root


def _act(server) -> etree._Element:
    from akoma_ntoso.akn import validate

    response = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/akn", timeout=15)
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    assert validate(root) == []
    return root


def _related(root) -> list[str]:
    """The other amendments an amendment's AKN refers to (activeRef, besides the amended act)."""
    return [r.get("eId") for r in root.findall(".//a:references/a:activeRef", NS) if r.get("eId") != "amended"]


def _lifecycle(root) -> list[str]:
    return [e.get("source") for e in root.findall(".//a:lifecycle/a:eventRef[@type='amendment']", NS)]


def _mods(root) -> list[tuple[str, str]]:
    return [(m.find("a:source", NS).get("href"), m.find("a:destination", NS).get("href"))
            for m in root.findall(".//a:passiveModifications/a:textualMod", NS)]


def test_a_sub_amendment_adopted_then_the_amended_amendment_adopted_gives_the_expected_text(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a moverse libremente.",
               table=True)
    # Abel amends amendment 1: its base is amendment 1's proposal, not the live text.
    sub = abel.create(kind="substitution", units=[MOBILITY], amends=1,
                      text="Toda persona tiene derecho a moverse libremente y con seguridad.", table=True)
    assert sub["number"] == 2 and sub["parent"] == {"number": 1, "relation": "amends"}
    assert sub["targets"][0]["base"]["text"] == "Toda persona tiene derecho a moverse libremente."
    assert sub["conflicts"] == []  # it does not conflict with the amendment it amends
    # A sub-amendment names units of its parent only.
    refused = abel.post("", {"kind": "substitution", "units": [ANIMALS], "amends": 1, "text": "Otra cosa."})
    assert refused.status_code == 400, refused.text

    assert adopt(asa, admin, abel, 2, table=False).json()["state"] == "adopted"
    # The live text did not change; amendment 1 now proposes the amended wording, and keeps both.
    assert unit_json(assembly, MOBILITY)["text"] == MOVE
    parent = admin.get("/1").json()
    assert parent["state"] == "tabled"
    assert parent["targets"][0]["proposed"]["text"] == "Toda persona tiene derecho a moverse libremente y con seguridad."
    assert [(r["reason"], r["note"], r["targets"][0]["proposed"]["text"]) for r in parent["revisions"]] == [
        ("tabled", None, "Toda persona tiene derecho a moverse libremente."),
        ("amended", "sub-amendment:2", "Toda persona tiene derecho a moverse libremente y con seguridad.")]

    assert adopt(asa, admin, abel, 1, table=False).json()["state"] == "adopted"
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse libremente y con seguridad."

    # A sub-amendment falls with its parent (here: withdrawn).
    asa.create(kind="substitution", units=[ANIMALS], text="Los animales son seres sintientes y tienen derechos.",
               table=True)
    abel.create(kind="substitution", units=[ANIMALS], amends=3, text="Los animales tienen derechos.", table=True)
    assert asa.act(3, "withdraw").status_code == 200
    fallen = admin.get("/4").json()
    assert fallen["state"] == "fallen" and fallen["history"][-1]["note"] == "parent-withdrawn:3"
    page = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments/1").text
    assert 'id="revisions"' in page and 'data-child="2"' in page

    # Records: both amendments export valid AKN; the act lists them in the order of adoption, and only
    # the amended amendment changed the text.
    for number in (1, 3):
        _valid_akn(assembly, number)
    assert _related(_valid_akn(assembly, 2)) == ["amends_1"]
    assert "Enmienda a la Enmienda 3." in "".join(_valid_akn(assembly, 4).find(".//a:amendmentHeading", NS).itertext())
    act = _act(assembly)
    assert _lifecycle(act) == ["#amendment_2", "#amendment_1"]
    assert _mods(act) == [("#amendment_1", "#art_2")]


def test_a_compromise_replaces_two_tabled_amendments_which_fall_when_it_is_adopted(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a moverse libremente.",
               table=True)
    abel.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a la movilidad.", table=True)
    # A compromise replaces only amendments that share one of its units.
    asa.create(kind="substitution", units=[ANIMALS], text="Los animales tienen derechos.", table=True)
    refused = asa.post("", {"kind": "substitution", "units": [MOBILITY], "text": "Otra cosa.", "replaces": [3]})
    assert refused.status_code == 400, refused.text

    compromise = asa.create(kind="substitution", units=[MOBILITY], replaces=[1, 2], table=True,
                            text="Toda persona tiene derecho a la movilidad libre y segura.")
    assert compromise["number"] == 4 and compromise["replaces"] == [1, 2]
    # Until the compromise is adopted, the replaced ones stay tabled (a rejected compromise leaves them).
    assert [admin.get(f"/{n}").json()["state"] for n in (1, 2)] == ["tabled", "tabled"]
    assert "Compromise replacing amendments 1, 2" in admin.page(f"/d/{PUBLISHED}/amendments").text

    assert adopt(asa, admin, abel, 4, table=False).json()["state"] == "adopted"
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a la movilidad libre y segura."
    for number in (1, 2):
        replaced = admin.get(f"/{number}").json()
        assert replaced["state"] == "fallen", replaced
        assert replaced["history"][-1]["note"] == "replaced-by:4"
    assert admin.get("/3").json()["state"] == "tabled"
    listing = admin.get("").json()
    assert listing["counts"]["fallen"] == 2
    page = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments/1").text
    assert 'data-note="replaced-by:4"' in page

    for number in (1, 2):
        assert _valid_akn(assembly, number).find(".//a:docStatus", NS).text == "decaída"
    assert _related(_valid_akn(assembly, 4)) == ["replaces_1", "replaces_2"]
    assert _mods(_act(assembly)) == [("#amendment_4", "#art_2")]


def test_an_amendment_whose_unit_changed_is_rebased_by_its_author_then_adopted_keeping_both_texts(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a moverse libremente.",
               table=True)
    abel.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a la movilidad.", table=True)
    assert adopt(asa, admin, abel, 1, table=False).json()["state"] == "adopted"
    assert admin.act(2, "debate").status_code == 200
    assert asa.vote(2, "for").status_code == 201 and abel.vote(2, "for").status_code == 201
    assert admin.act(2, "close").status_code == 409

    # Only its author rebases it; an amendment that did not conflict has nothing to rebase.
    assert asa.post("/2/rebase", {}).status_code == 403
    asa.create(kind="deletion", units=[ANIMALS], table=True)
    assert asa.post("/3/rebase", {}).status_code == 409

    # Its author is offered the rebase on the amendment's page; others are not.
    assert 'id="rebase"' in abel.page(f"/d/{PUBLISHED}/amendments/2").text
    assert 'id="rebase"' not in asa.page(f"/d/{PUBLISHED}/amendments/2").text
    rebased = abel.post("/2/rebase", {"text": "Toda persona tiene derecho a la movilidad libre."})
    assert rebased.status_code == 200, rebased.text
    body = rebased.json()
    assert body["state"] == "debate" and body["tally"] == {"for": 0, "against": 0, "abstain": 0}
    assert body["targets"][0]["base"]["text"] == "Toda persona tiene derecho a moverse libremente."
    assert [(r["reason"], r["targets"][0]["base"]["text"], r["targets"][0]["proposed"]["text"])
            for r in body["revisions"]] == [
        ("tabled", MOVE, "Toda persona tiene derecho a la movilidad."),
        ("rebased", "Toda persona tiene derecho a moverse libremente.",
         "Toda persona tiene derecho a la movilidad libre.")]
    assert body["history"][-1]["note"] == "rebased"

    assert asa.vote(2, "for").status_code == 201 and abel.vote(2, "for").status_code == 201
    closed = admin.act(2, "close")
    assert closed.status_code == 200 and closed.json()["state"] == "adopted", closed.text
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a la movilidad libre."
    # The amendment's page shows both texts: as tabled and as rebased.
    page = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments/2").text
    assert 'data-reason="tabled"' in page and 'data-reason="rebased"' in page
    assert MOVE in page and "Toda persona tiene derecho a moverse libremente." in page

    _valid_akn(assembly, 2)
    act = _act(assembly)
    assert _lifecycle(act) == ["#amendment_1", "#amendment_2"]
    assert _mods(act) == [("#amendment_1", "#art_2"), ("#amendment_2", "#art_2")]


def test_identical_amendments_are_grouped_and_follow_the_vote_of_the_first(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    for member in (asa, abel):
        member.create(kind="substitution", units=[ANIMALS], text="Los animales tienen derechos.", table=True)
    assert admin.get("/1").json()["identical"] == [2]
    assert admin.get("/2").json()["identical"] == [1]
    assert 'data-identical="2"' in Member(assembly, None).page(f"/d/{PUBLISHED}/amendments/1").text
    listing = Member(assembly, None).page(f"/d/{PUBLISHED}/amendments").text
    assert listing.count('data-identical="1 2"') == 2  # one group, shown on both

    assert adopt(asa, admin, abel, 1, table=False).json()["state"] == "adopted"
    follower = admin.get("/2").json()
    assert follower["state"] == "adopted" and follower["tally"] == {"for": 2, "against": 0, "abstain": 0}
    assert follower["history"][-1]["note"] == "identical:1" and follower["changes"] == []
    assert unit_json(assembly, ANIMALS)["text"] == "Los animales tienen derechos."
    _valid_akn(assembly, 2)
    assert _mods(_act(assembly)) == [("#amendment_1", "#art_3")]


def test_a_split_vote_adopts_one_part_of_a_substitution_and_rejects_the_other(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="substitution", units=[MOBILITY, ANIMALS], table=True, wording=[
        {"text": "Toda persona tiene derecho a moverse con seguridad."},
        {"text": "Los animales tienen derechos."}])
    # Only the presiding administrator splits the vote.
    assert asa.post("/1/split", {"unit": "art_3"}).status_code == 403
    assert 'id="separately"' not in asa.page(f"/d/{PUBLISHED}/amendments/1").text
    assert 'id="separately"' in admin.page(f"/d/{PUBLISHED}/amendments/1").text
    split = admin.form(f"/d/{PUBLISHED}/amendments/1/separately", {"unit": ANIMALS})
    assert split.status_code == 303 and split.headers["Location"].endswith(f"/d/{PUBLISHED}/amendments/2"), split.text
    part = admin.get("/2").json()
    assert part["number"] == 2 and part["parent"] == {"number": 1, "relation": "part"} and part["state"] == "tabled"
    assert part["targets"][0]["proposed"]["text"] == "Los animales tienen derechos."
    # The last part left is voted as a whole.
    assert admin.post("/1/split", {"unit": "art_2"}).status_code == 409

    closed = adopt(asa, admin, abel, 1, table=False)
    assert closed.json()["state"] == "adopted" and [c["guid"] for c in closed.json()["changes"]] == [MOBILITY]
    assert admin.act(2, "debate").status_code == 200
    assert asa.vote(2, "for").status_code == 201 and abel.vote(2, "against").status_code == 201
    assert admin.act(2, "close").json()["state"] == "rejected"
    assert unit_json(assembly, MOBILITY)["text"] == "Toda persona tiene derecho a moverse con seguridad."
    assert unit_json(assembly, ANIMALS)["text"] == "Los animales son seres sintientes."
    _valid_akn(assembly, 1)
    assert _related(_valid_akn(assembly, 2)) == ["part_1"]
    assert _mods(_act(assembly)) == [("#amendment_1", "#art_2")]


def test_a_sub_amendment_and_a_compromise_are_written_with_the_amendment_form(assembly):
    asa, abel, admin = Member(assembly, "asa"), Member(assembly, "abel"), Member(assembly, "admin")
    asa.create(kind="substitution", units=[MOBILITY], text="Toda persona tiene derecho a moverse libremente.",
               table=True)
    form = abel.page(f"/d/{PUBLISHED}/amendments/new?kind=substitution&unit={MOBILITY}")
    assert form.status_code == 200 and 'name="amends"' in form.text and 'name="replaces"' in form.text
    posted = abel.form(f"/d/{PUBLISHED}/amendments/new", {
        "kind": "substitution", "unit": [MOBILITY], "amends": "1", "heading_0": "",
        "text_0": "Toda persona tiene derecho a moverse libremente y con seguridad.", "submit": "table"})
    assert posted.status_code == 303, posted.text
    sub = admin.get("/2").json()
    assert sub["parent"] == {"number": 1, "relation": "amends"} and sub["state"] == "tabled"
    # A compromise replacing both, written on the same form ("1, 2").
    posted = asa.form(f"/d/{PUBLISHED}/amendments/new", {
        "kind": "substitution", "unit": [MOBILITY], "replaces": "1, 2", "heading_0": "",
        "text_0": "Toda persona tiene derecho a la movilidad libre y segura.", "submit": "table"})
    assert posted.status_code == 303, posted.text
    assert admin.get("/3").json()["replaces"] == [1, 2]
    # A wrong number is refused on the form, and nothing is saved.
    refused = asa.form(f"/d/{PUBLISHED}/amendments/new", {
        "kind": "substitution", "unit": [MOBILITY], "amends": "99", "heading_0": "", "text_0": "Otra cosa.",
        "submit": "table"})
    assert refused.status_code == 400 and 'id="amendment-problem"' in refused.text
    assert admin.get("").json()["counts"]["tabled"] == 3
