"""The assembly's procedure (issue 23, part 1): its rules (quorum, majorities, tabling deadlines,
changing votes), sittings with attendance and a voting list, votes decided by the configured
majority over the sitting's attendance, and dependent amendments falling."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from conftest import ACCOUNTS, PUBLISHED, close_app
from test_amendments import ANIMALS, MOBILITY, assembly_template  # noqa: F401 - the instance in the assembly stage

from editor.assembly.majority import decide, quorum_needed, required_votes

# --- the arithmetic --------------------------------------------------------------------------------


def test_two_thirds_of_those_present():
    assert required_votes("two_thirds_present", present=95, members=100) == 64
    assert not decide("two_thirds_present", 60, 35, 0, present=95, members=100).adopted
    assert decide("two_thirds_present", 64, 31, 0, present=95, members=100).adopted
    assert decide("two_thirds_present", 64, 31, 0, present=95, members=100).required == 64


def test_the_other_majorities():
    # simple: more for than against, abstentions aside
    assert decide("simple", 3, 2, 40).adopted and not decide("simple", 2, 2).adopted
    # absolute: more than half of all members, however many are present
    assert required_votes("absolute", present=60, members=100) == 51
    assert not decide("absolute", 50, 5, 0, present=60, members=100).adopted
    assert decide("absolute", 51, 5, 0, present=60, members=100).adopted
    # two thirds of all members: 67 of 100 even when only 70 are present
    assert required_votes("two_thirds_members", present=70, members=100) == 67
    assert not decide("two_thirds_members", 66, 4, 0, present=70, members=100).adopted
    assert decide("two_thirds_members", 67, 3, 0, present=70, members=100).adopted
    # a qualified majority also needs more for than against
    assert not decide("two_thirds_present", 2, 2, 0, present=3, members=3).adopted
    with pytest.raises(ValueError):
        decide("most", 1, 0)


def test_quorum_as_a_number_or_a_share():
    assert quorum_needed("none", 0, 0.5, 100) == 0
    assert quorum_needed("count", 51, None, 100) == 51
    assert quorum_needed("share", 0, 0.5, 100) == 50
    assert quorum_needed("share", 0, 0.5, 95) == 48
    assert quorum_needed("share", 0, 2 / 3, 100) == 67


# --- an in-process assembly ------------------------------------------------------------------------


class World:
    """The application in this process, in an English request, with the document and accounts."""

    def __init__(self, app) -> None:
        from sqlalchemy import select

        from editor.documents import get_document
        from editor.models import User

        self.app = app
        self.services = app.extensions["constituent"]
        self.db = self.services.db
        self.document = get_document(self.db, PUBLISHED)
        self.user = {who: self.db.scalar(select(User).where(User.email == email)) for who, (email, _) in ACCOUNTS.items()}
        self.admin, self.asa = self.user["admin"], self.user["asa"]

    def members(self, total: int) -> list:
        """Make the assembly `total` members strong (asa and abel are two of them)."""
        from editor.accounts import add_user
        from editor.assembly.rules import members_of

        for i in range(total - len(members_of(self.db, self.document))):
            add_user(self.db, f"member{i:03d}@example.org", "assembly", None, name=f"Member {i:03d}")
        found = members_of(self.db, self.document)
        assert len(found) == total
        return found

    def rules(self, **data):
        from editor.assembly.service import save_rules

        return save_rules(self.db, self.document, self.admin, data)

    def amendment(self, kind: str, unit: str, **extra):
        from editor.amendments.service import create_amendment, table

        amendment = create_amendment(self.services, self.document, self.asa, {"kind": kind, "units": [unit], **extra})
        return table(self.services, self.document, amendment, self.asa)

    def sitting(self, present: list, numbers: list[int] | None = None):
        from editor.assembly import service

        sitting = service.create_sitting(self.db, self.document, self.admin, {"day": "2016-09-15"})
        service.open_sitting(self.db, self.document, sitting, self.admin)
        service.set_attendance(self.db, self.document, sitting, self.admin, [m.id for m in present])
        service.build_agenda(self.services, self.document, sitting, self.admin, numbers)
        return sitting

    def cast(self, amendment, voters, choice: str) -> None:
        from editor.amendments.service import vote

        for member in voters:
            vote(self.services, self.document, amendment, member, choice)

    def state(self, amendment) -> str:
        self.db.refresh(amendment)
        return amendment.state


@pytest.fixture
def world(assembly_template, tmp_path):  # noqa: F811 - the fixture imported above
    from editor import create_app

    target = tmp_path / "instance"
    shutil.copytree(assembly_template, target)
    app = create_app({"INSTANCE_PATH": str(target), "SECRET_KEY": "test-secret"})
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield World(app)
    close_app(app)


def test_two_thirds_of_95_present_through_the_service(world):
    """60 for and 35 against of 95 present fails; 64 for and 31 against passes."""
    from editor.assembly import service

    members = world.members(95)
    world.rules(majority="two_thirds_present", quorum={"kind": "share", "share": 0.5})
    first = world.amendment("substitution", MOBILITY, text="Toda persona tiene derecho a la movilidad.")
    second = world.amendment("substitution", ANIMALS, text="Los animales son seres sintientes y tienen derechos.")
    sitting = world.sitting(present=members)
    assert [world.db.get(type(first), i.amendment_id).number for i in sitting.items] == [first.number, second.number]

    service.start_item(world.services, world.document, sitting, world.admin, first.number)
    service.open_vote(world.services, world.document, sitting, world.admin, first.number)
    world.cast(first, members[:60], "for")
    world.cast(first, members[60:], "against")
    decision = service.close_item(world.services, world.document, sitting, world.admin, first.number)
    assert not decision.adopted and decision.in_sitting
    assert (decision.outcome.votes_for, decision.outcome.votes_against, decision.outcome.required) == (60, 35, 64)
    assert world.state(first) == "rejected"

    service.start_item(world.services, world.document, sitting, world.admin, second.number)
    service.open_vote(world.services, world.document, sitting, world.admin, second.number)
    world.cast(second, members[:64], "for")
    world.cast(second, members[64:], "against")
    decision = service.close_item(world.services, world.document, sitting, world.admin, second.number)
    assert decision.adopted and world.state(second) == "adopted"

    lines = service.minutes_lines(world.db, sitting)
    assert lines == [
        f"Amendment {first.number} (Artículo 2): Rejected by 60 votes for, 35 against and 0 abstentions; "
        "two-thirds majority of those present not reached",
        f"Amendment {second.number} (Artículo 3): Adopted by 64 votes for, 31 against and 0 abstentions; "
        "two-thirds majority of those present reached",
    ]
    from akoma_ntoso import iter_units
    from editor.livetext import read_live

    texts = {u.guid: u.text for u in iter_units(read_live(world.services, PUBLISHED).units)}
    assert texts[ANIMALS] == "Los animales son seres sintientes y tienen derechos."
    assert texts[MOBILITY] == "Toda persona tiene derecho a moverse."


def test_without_a_quorum_the_vote_cannot_be_opened(world):
    from editor.amendments.service import AmendmentError, vote
    from editor.assembly import service
    from editor.assembly.service import AssemblyError

    members = world.members(10)
    world.rules(quorum={"kind": "count", "count": 6})
    amendment = world.amendment("deletion", ANIMALS)
    sitting = world.sitting(present=members[:5])
    service.start_item(world.services, world.document, sitting, world.admin, amendment.number)
    with pytest.raises(AssemblyError) as refused:
        service.open_vote(world.services, world.document, sitting, world.admin, amendment.number)
    assert refused.value.kind == "conflict"
    assert "no quorum" in refused.value.message and "5 members present of the 6 needed" in refused.value.message
    world.db.refresh(sitting)
    assert sitting.items[0].state == "debate" and sitting.items[0].vote_opened_at is None
    with pytest.raises(AmendmentError):  # nothing opened: members cannot vote
        vote(world.services, world.document, amendment, members[0], "for")

    # one more member arrives: the vote opens
    service.set_attendance(world.db, world.document, sitting, world.admin, [m.id for m in members[:6]])
    service.open_vote(world.services, world.document, sitting, world.admin, amendment.number)
    world.db.refresh(sitting)
    assert sitting.items[0].state == "voting"


def test_a_changed_vote_counts_once_with_its_last_value(world):
    from editor.amendments.service import AmendmentError, tally_of, vote, votes_of
    from editor.assembly import service
    from editor.assembly.models import VoteChange

    members = world.members(3)
    first = world.amendment("substitution", MOBILITY, text="Toda persona tiene derecho a la movilidad.")
    sitting = world.sitting(present=members)
    service.start_item(world.services, world.document, sitting, world.admin, first.number)
    service.open_vote(world.services, world.document, sitting, world.admin, first.number)
    voter = members[0]
    vote(world.services, world.document, first, voter, "for")
    with pytest.raises(AmendmentError) as refused:  # by default a vote cannot be changed
        vote(world.services, world.document, first, voter, "against")
    assert "cannot be changed" in refused.value.message

    world.rules(votes_changeable=True)
    vote(world.services, world.document, first, voter, "against")
    vote(world.services, world.document, first, voter, "abstain")
    vote(world.services, world.document, first, voter, "against")
    assert [(v.user_id, v.choice) for v in votes_of(world.db, first)] == [(voter.id, "against")]
    assert tally_of(world.db, first).as_dict == {"for": 0, "against": 1, "abstain": 0}
    history = world.db.query(VoteChange).filter_by(amendment_id=first.id).order_by(VoteChange.id).all()
    assert [(h.old_choice, h.new_choice) for h in history] == [("for", "against"), ("against", "abstain"),
                                                               ("abstain", "against")]
    decision = service.close_item(world.services, world.document, sitting, world.admin, first.number)
    assert (decision.tally.votes_for, decision.tally.votes_against) == (0, 1) and not decision.adopted
    with pytest.raises(AmendmentError):  # closed: no more changes
        vote(world.services, world.document, first, voter, "for")


def test_abstentions_are_recorded_as_such_unless_the_rules_refuse_them(world):
    from editor.amendments.service import AmendmentError, close_vote, open_debate, vote

    amendment = world.amendment("deletion", ANIMALS)
    open_debate(world.services, world.document, amendment, world.admin)
    world.rules(abstentions=False)
    with pytest.raises(AmendmentError) as refused:
        vote(world.services, world.document, amendment, world.asa, "abstain")
    assert refused.value.kind == "invalid" and "abstentions" in refused.value.message
    world.rules(abstentions=True)
    vote(world.services, world.document, amendment, world.asa, "abstain")
    vote(world.services, world.document, amendment, world.user["abel"], "for")
    decision = close_vote(world.services, world.document, amendment, world.admin)
    assert (decision.tally.votes_for, decision.tally.votes_against, decision.tally.abstentions) == (1, 0, 1)
    assert decision.adopted  # an abstention counts neither for nor against


def test_the_voting_list_puts_the_deletion_first_and_the_rewording_falls(world):
    from editor.assembly import service

    members = world.members(3)
    rewording = world.amendment("substitution", ANIMALS, text="Los animales tienen derechos.")
    insertion = world.amendment("insertion", ANIMALS, position="after", new_kind="article", text="Nuevo artículo.")
    deletion = world.amendment("deletion", ANIMALS)
    earlier = world.amendment("substitution", MOBILITY, text="Toda persona tiene derecho a la movilidad.")
    sitting = world.sitting(present=members)
    order = [world.db.get(type(deletion), i.amendment_id).number for i in sitting.items]
    # units earlier in the text first; on one unit: the deletion, the rewording, the insertion
    assert order == [earlier.number, deletion.number, rewording.number, insertion.number]

    service.start_item(world.services, world.document, sitting, world.admin, deletion.number)
    service.open_vote(world.services, world.document, sitting, world.admin, deletion.number)
    world.cast(deletion, members, "for")
    decision = service.close_item(world.services, world.document, sitting, world.admin, deletion.number)
    assert decision.adopted
    assert sorted(decision.fallen) == sorted([rewording.number, insertion.number])
    assert world.state(rewording) == "fallen" and world.state(insertion) == "fallen"
    assert world.state(earlier) == "tabled"  # another unit: still to be voted
    from editor.amendments.service import history_of

    assert [e.to_state for e in history_of(world.db, rewording)][-1] == "fallen"
    rows = service.rows_by_number(world.db, sitting)
    assert rows[rewording.number].item.state == "done"
    assert rows[rewording.number].announcement == f"Amendment {rewording.number} fell: Artículo 3"
    assert rows[deletion.number].announcement == f"Amendment {deletion.number} adopted: Artículo 3"
    assert rows[earlier.number].item.state == "pending"


def test_a_compromise_and_an_amendment_to_an_amendment_are_voted_before_what_they_replace_or_amend(world):
    members = world.members(3)
    original = world.amendment("substitution", ANIMALS, text="Los animales tienen derechos.")
    other = world.amendment("substitution", ANIMALS, text="Los animales son seres sintientes y protegidos.")
    sub = world.amendment("substitution", ANIMALS, amends=original.number, text="Los animales tienen derechos y cuidados.")
    compromise = world.amendment("substitution", ANIMALS, replaces=[original.number, other.number],
                                 text="Los animales son seres sintientes con derechos.")
    sitting = world.sitting(present=members)
    order = [world.db.get(type(original), i.amendment_id).number for i in sitting.items]
    # The compromise first (adopted, it makes both fall); the sub-amendment before what it amends.
    assert order == [compromise.number, sub.number, original.number, other.number]


def test_deleting_a_unit_makes_the_amendments_to_its_sub_units_fall(world):
    from test_amendments import WATER_ARTICLE, WATER_SUB

    from editor.assembly import service

    members = world.members(2)
    inner = world.amendment("substitution", WATER_SUB, text="Toda persona tiene derecho al agua potable.")
    outer = world.amendment("deletion", WATER_ARTICLE)
    sitting = world.sitting(present=members)
    assert [world.db.get(type(outer), i.amendment_id).number for i in sitting.items] == [outer.number, inner.number]
    service.start_item(world.services, world.document, sitting, world.admin, outer.number)
    service.open_vote(world.services, world.document, sitting, world.admin, outer.number)
    world.cast(outer, members, "for")
    assert service.close_item(world.services, world.document, sitting, world.admin, outer.number).fallen == [inner.number]
    assert world.state(inner) == "fallen"


def test_a_tabling_deadline_refuses_tabling_after_it(world):
    from editor import clock
    from editor.amendments.service import AmendmentError, create_amendment, table
    from editor.assembly.rules import rules_of

    world.rules(tabling_deadlines={"assembly": (clock.now() - timedelta(hours=1)).isoformat()})
    assert json.loads(rules_of(world.db, world.document).deadlines)
    draft = create_amendment(world.services, world.document, world.asa, {"kind": "deletion", "units": [ANIMALS]})
    with pytest.raises(AmendmentError) as refused:
        table(world.services, world.document, draft, world.asa)
    assert refused.value.kind == "conflict" and "deadline for tabling" in refused.value.message
    assert world.state(draft) == "draft"

    world.rules(tabling_deadlines={"assembly": (clock.now() + timedelta(days=1)).isoformat()})
    assert table(world.services, world.document, draft, world.asa).state == "tabled"


def test_a_sittings_deadline_keeps_late_amendments_off_its_list(world):
    from editor import clock
    from editor.assembly import service
    from editor.assembly.service import AssemblyError

    world.members(3)
    sitting = service.create_sitting(world.db, world.document, world.admin,
                                     {"day": "2016-09-15",
                                      "tabling_deadline": (clock.now() - timedelta(minutes=5)).isoformat()})
    late = world.amendment("deletion", ANIMALS)
    assert service.build_agenda(world.services, world.document, sitting, world.admin) == []
    with pytest.raises(AssemblyError) as refused:
        service.build_agenda(world.services, world.document, sitting, world.admin, [late.number])
    assert "after the deadline" in refused.value.message


def test_outside_a_sitting_the_votes_cast_decide_and_the_outcome_says_so(world):
    from editor.amendments.service import close_vote, open_debate
    from editor.assembly.rules import outcome_text

    world.rules(majority="two_thirds_members")
    amendment = world.amendment("deletion", ANIMALS)
    open_debate(world.services, world.document, amendment, world.admin)
    world.cast(amendment, [world.asa], "for")
    decision = close_vote(world.services, world.document, amendment, world.admin)
    assert decision.adopted and not decision.in_sitting and decision.outcome.majority == "simple"
    assert outcome_text(decision.outcome, in_sitting=False).startswith(
        "Adopted by 1 vote for, 0 against and 0 abstentions; simple majority reached (voted outside a sitting")


def test_closing_the_sitting_publishes_its_text_as_a_version(world):
    from editor.assembly import service
    from editor.stages.versions import get_version

    members = world.members(3)
    world.rules(majority="absolute", majority_by_kind={"deletion": "two_thirds_members"})
    service.set_member(world.db, world.document, world.admin, world.asa.id, "Morena", "designated")
    amendment = world.amendment("substitution", MOBILITY, text="Toda persona tiene derecho a la movilidad.")
    sitting = world.sitting(present=members)
    service.start_item(world.services, world.document, sitting, world.admin, amendment.number)
    service.open_vote(world.services, world.document, sitting, world.admin, amendment.number)
    world.cast(amendment, members, "for")
    service.close_item(world.services, world.document, sitting, world.admin, amendment.number)
    service.save_minutes(world.db, world.document, sitting, world.admin, "Se abrió la sesión a las 10:00.")
    service.close_sitting(world.services, world.document, sitting, world.admin)
    assert sitting.state == "closed" and sitting.version_number
    version = get_version(world.db, world.document, sitting.version_number)
    assert "derecho a la movilidad" in version.snapshot
    # The version's Akoma Ntoso records the body, its groups, members and rules.
    from lxml import etree

    references = etree.fromstring(version.akn).find(".//{*}references")
    entries = {e.get("eId"): (etree.QName(e).localname, e.get("showAs")) for e in references}
    assert entries["assembly"] == ("TLCOrganization", "Asamblea (3)")
    assert entries["assemblyGroup_1"] == ("TLCOrganization", "Morena")
    assert entries[f"assemblyMember_{world.asa.id}"] == ("TLCPerson", "Asa (Morena, designado)")
    assert entries["assemblyMajority"] == ("TLCConcept", "Mayoría: absoluta")
    assert entries["assemblyMajority_deletion"] == ("TLCConcept", "Mayoría (supresión): dos tercios de los integrantes")


def test_only_the_administrator_configures_and_only_the_chair_runs(world):
    from editor.assembly import service
    from editor.assembly.service import AssemblyError

    with pytest.raises(AssemblyError) as refused:
        service.save_rules(world.db, world.document, world.asa, {"majority": "absolute"})
    assert refused.value.kind == "forbidden"
    with pytest.raises(AssemblyError) as refused:
        world.rules(majority="most")
    assert refused.value.kind == "invalid"
    with pytest.raises(AssemblyError) as refused:
        world.rules(quorum={"kind": "share", "share": 3})
    assert refused.value.kind == "invalid"
    sitting = service.create_sitting(world.db, world.document, world.admin, {"day": "2016-09-15"})
    with pytest.raises(AssemblyError):
        service.open_sitting(world.db, world.document, sitting, world.user["ana"])
    assert sitting.state == "planned"


# --- the pages -------------------------------------------------------------------------------------


@pytest.fixture
def site(assembly_template, tmp_path):  # noqa: F811 - the fixture imported above
    from editor import create_app

    target = tmp_path / "site"
    shutil.copytree(assembly_template, target)
    app = create_app({"INSTANCE_PATH": str(target), "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False})
    yield app
    close_app(app)


def test_the_administrator_configures_the_assembly_and_plans_a_sitting_with_the_pages(site):
    from test_fuzz_api import signed_in

    admin, token = signed_in(site, "admin")
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = admin.get(f"/d/{PUBLISHED}/assembly")
    assert page.status_code == 200 and b'name="majority"' in page.data
    saved = admin.post(f"/d/{PUBLISHED}/assembly", data={
        "csrf_token": token, "quorum_kind": "count", "quorum_count": "2", "quorum_share": "0.5",
        "majority": "absolute", "majority_deletion": "two_thirds_members", "votes_changeable": "1",
        "abstentions": "1", "deadline_assembly": "2030-01-31T18:00"})
    assert saved.status_code == 303
    rules = admin.get(f"/api/v1/documents/{PUBLISHED}/assembly").get_json()
    assert rules["quorum"] == {"kind": "count", "count": 2, "share": 0.5, "needed": 2}
    assert rules["majority"] == "absolute" and rules["majority_by_kind"]["deletion"] == "two_thirds_members"
    assert rules["votes_changeable"] is True and rules["tabling_deadlines"] == {"assembly": "2030-01-31T18:00:00+00:00"}
    refused = admin.post(f"/d/{PUBLISHED}/assembly", data={"csrf_token": token, "quorum_kind": "most"})
    assert refused.status_code == 400 and b"assembly-problem" in refused.data

    asa = next(m for m in rules["members"] if m["name"] == "Asa")
    assert admin.post(f"/d/{PUBLISHED}/assembly", data={"csrf_token": token, "member": asa["id"], "group": "PRD",
                                                        "seat": "elected"}).status_code == 303
    assert {"id": asa["id"], "name": "Asa", "group": "PRD", "seat": "elected"} in admin.get(
        f"/api/v1/documents/{PUBLISHED}/assembly").get_json()["members"]

    planned = admin.post(f"/d/{PUBLISHED}/sittings", data={"csrf_token": token, "day": "2016-09-15",
                                                           "title": "Primera"})
    assert planned.status_code == 303 and planned.headers["Location"].endswith("/sittings/1/chair")
    chair = admin.get(f"/d/{PUBLISHED}/sittings/1/chair")
    assert chair.status_code == 200 and b'data-action="open"' in chair.data
    public, _token = signed_in(site, None)
    assert public.get(f"/d/{PUBLISHED}/sesion/1").status_code == 404  # not open yet: not public
    assert public.get(f"/d/{PUBLISHED}/assembly").status_code in (302, 303)  # to the sign-in page
    assert admin.post(f"/d/{PUBLISHED}/sittings/1/chair", data={"csrf_token": token, "action": "open"}).status_code == 303
    shown = public.get(f"/d/{PUBLISHED}/sesion/1")
    assert shown.status_code == 200 and b'aria-live="polite"' in shown.data
    assert public.get(f"/d/{PUBLISHED}/sesion/1/estado").get_json()["state"] == "open"
    listing = public.get(f"/d/{PUBLISHED}/sittings")
    assert listing.status_code == 200 and b'data-sitting="1"' in listing.data


def test_members_and_the_public_cannot_run_a_sitting(site):
    from test_fuzz_api import signed_in

    admin, admin_token = signed_in(site, "admin")
    assert admin.post(f"/api/v1/documents/{PUBLISHED}/sittings", json={"day": "2016-09-15"},
                      headers={"X-CSRFToken": admin_token}).status_code == 201
    asa, token = signed_in(site, "asa")
    for method, path, body in (("PUT", "/assembly", {"majority": "simple"}),
                               ("POST", "/sittings/1/actions", {"action": "open"}),
                               ("PUT", "/sittings/1/attendance", {"present": []})):
        response = asa.open(f"/api/v1/documents/{PUBLISHED}{path}", method=method, json=body,
                            headers={"X-CSRFToken": token})
        assert response.status_code == 403, (path, response.get_data(as_text=True))
    assert asa.get(f"/d/{PUBLISHED}/sittings/1/chair").status_code == 403
    assert admin.get(f"/api/v1/documents/{PUBLISHED}/sittings/1").get_json()["state"] == "planned"


def test_the_live_part_of_the_public_view_follows_the_sitting_and_speaks_each_readers_language(site):
    """Every reader fetches the live part when the sitting changes; it is rendered once for them all,
    so it must still change with the sitting and be in each reader's language."""
    from test_fuzz_api import signed_in

    admin, token = signed_in(site, "admin")
    api = f"/api/v1/documents/{PUBLISHED}/sittings"
    assert admin.post(api, json={"day": "2016-09-15"}, headers={"X-CSRFToken": token}).status_code == 201
    assert admin.post(f"{api}/1/actions", json={"action": "open"}, headers={"X-CSRFToken": token}).status_code == 200
    spanish, _token = signed_in(site, None)
    english, _token = signed_in(site, None)
    english.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    live = f"/d/{PUBLISHED}/sesion/1/vivo"
    first = spanish.get(live).get_data(as_text=True)
    assert 'data-sitting-state="open"' in first and "Ahora no hay ningún asunto en discusión." in first
    assert spanish.get(live).get_data(as_text=True) == first
    in_english = english.get(live).get_data(as_text=True)
    assert "No item is under debate now." in in_english and "ningún asunto" not in in_english

    assert admin.post(f"{api}/1/actions", json={"action": "close"}, headers={"X-CSRFToken": token}).status_code == 200
    closed = spanish.get(live).get_data(as_text=True)
    assert 'data-sitting-state="closed"' in closed and closed != first
    assert "The sitting is closed." in english.get(live).get_data(as_text=True)
