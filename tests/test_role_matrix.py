"""The role × action matrix: every HTTP route and every socket event, for every role.

Columns (ROLES): the public (no account), a petitioner (no account, holds a valid review link
for one petition), and the accounts viewer, assembly, legal, committee and admin.

Rows: CASES, one line per request (a route may have several: stages, drafts, another
petition's link…). `test_every_route_and_event_has_an_entry` fails when a Flask route (rule and
method) or a /collab event or y-protocols message kind has no entry, or an entry names one that
no longer exists. ROUTES_COVERED and EVENTS_COVERED below count them (printed by that test); when
this was written: 122 routes (rule × method) in 143 cases, and 8 socket events and y message
kinds (connect, join, leave, disconnect; sync step 1, sync step 2, update, awareness), for 7 roles.

Adding a route: one `case(endpoint, method, allowed roles, ...)` line. Rule arguments take the
seeded objects named in DEFAULT_PARAMS (`params=` picks another, e.g. a draft amendment); give
state-changing requests a harmless `json=` or `form=` (an invalid value, a no-op, or an object
dedicated to each role), and `doc=` for the stage the route depends on.

What each cell expects comes from what the product should do: issue 6's role model,
docs/stages.md and the docstrings of editor/permissions.py, not from observed answers:

* allowed: a non-auth outcome: 2xx, a redirect that is not to the sign-in page, or a refusal of
  the (deliberately harmless) input: 400, 409, 422. Every state-changing request carries a
  payload chosen so that an allowed role is refused for its input, or does something idempotent,
  or acts on an object dedicated to that role (a throwaway theme, link, session);
* denied: 401, 403, 404 or a redirect to the sign-in page (and 409 where a case says the stage
  refuses it); for the unpublished draft, the public and petitioners get exactly 404.

Documents, one per stage that matters (see `seed`): the published test constitution in the
`assembly` stage (amendments), a published document in `drafting` (edit), one in `consultation`
(petitioner review) and the unpublished DRAFT (drafting). Every route with a document is also
requested against the draft by the public and the petitioner (`test_drafts_are_invisible`): it
must refuse them exactly as it refuses a document that does not exist (drafts are invisible,
not forbidden).

A petitioner is a browser without an account that opened its review link; on /review/<token>
routes the petitioner column sends that link's token and every other column a revoked one.

Other tests here: permission is decided before input is read (`test_denied_before_input_is_read`:
a malformed body must not turn a denial into a 400); CSRF (`test_csrf_*`: every state-changing
route refuses a request without a valid token, even from the administrator, and nothing
changes); the socket events per role against a real server (`test_socket_events`).

A cell the product gets wrong fails: fix the product (the four bugs this matrix found when it was
written are fixed: amendment state changes and the amendments API validating before checking
rights, amendment-by-id leaking drafts and other documents' amendments, the review API answering
a bad body before the token).
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from conftest import ACCOUNTS, DRAFT, PASSWORD, PUBLISHED, SMALL_BODY, LiveServer
from test_collab import _first_p_text
from test_review import _csrf, close, signed_in

from crdt import protocol

ROLES = ("public", "petitioner", "viewer", "volunteer", "assembly", "legal", "committee", "admin")
#: The account (tests/conftest.py ACCOUNTS) that plays each signed-in role.
ACCOUNT_OF = {"viewer": "vera", "volunteer": "marta", "assembly": "asa", "legal": "lucia", "committee": "ana",
              "admin": "admin"}

EVERYONE = frozenset(ROLES)
NOBODY = frozenset()
SIGNED_IN = frozenset(ACCOUNT_OF)
STAFF = frozenset({"committee", "admin"})  # permissions.EDITING_ROLES: provenance, petitions, survey, reviews
COMMENTERS = frozenset({"legal", "committee", "admin"})  # permissions.COMMENTING_ROLES (and VERSIONING_ROLES)
VERSIONERS = COMMENTERS
ASSEMBLY = frozenset({"assembly"})  # tables, co-sponsors and votes amendments (in an amendments stage)
ADMIN = frozenset({"admin"})  # presides, configures stages, advances from the assembly stage
PETITIONER = frozenset({"petitioner"})  # the review link's scope, nothing else
COLLECTORS = frozenset({"volunteer", "committee", "admin"})  # permissions.COLLECTING_ROLES: kiosks, tablets, paper

# Documents: which seeded document a case is about.
DOCS = {"assembly": PUBLISHED, "drafting": "redaccion-abierta", "consultation": "consulta-peticionarios",
        "draft": DRAFT}

WATER = "00000000-0000-4000-8000-000000000003"  # subparagraph "Toda persona tiene derecho al agua."
MOBILITY = "00000000-0000-4000-8000-000000000004"  # Artículo 2
ANIMALS = "00000000-0000-4000-8000-000000000005"  # Artículo 3
LONG_NAME = "x" * 201  # longer than a version name may be (stages.versions.MAX_NAME)


# --- the rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Id:
    """A value of the seeded world, resolved per document and role when the request is made."""

    name: str


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    allowed: frozenset
    doc: str = "assembly"
    params: dict = field(default_factory=dict)  # rule argument → name in the world (else DEFAULT_PARAMS)
    query: dict | None = None
    json: object = None
    form: dict | None = None
    label: str = ""
    #: Statuses that also count as a refusal here (409: "not in this stage").
    also_denied: tuple = ()
    #: Each role sends from a new session of its own (the request ends the session).
    fresh: bool = False
    #: After the request: check(site, role, response, allowed) asserts what changed or did not.
    check: object = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}" + (f" [{self.label}]" if self.label else "")

    @property
    def changes_state(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


def case(endpoint: str, method: str, allowed, **options) -> Case:
    return Case(endpoint, method, frozenset(allowed), **options)


#: Which value of the world a rule argument takes unless the case says otherwise.
DEFAULT_PARAMS = {
    "slug": "slug", "eid": "unit_eid", "key": "unit_eid", "petition_id": "petition", "comment_id": "comment",
    "number": "tabled_amendment", "amendment_id": "tabled_amendment_id", "link_id": "link",
    "kind": "source_kind", "source_id": "petition", "event_id": "event", "theme_id": "theme",
    "answer_id": "answer", "obligation_id": "obligation", "notification_id": "notification",
    "token": "token", "code": "unknown_language", "user_id": "vera_id", "survey_id": "questionnaire",
    "kiosk_id": "kiosk", "form_number": "paper_form",
}

#: Where a rule argument means something else on one endpoint.
ENDPOINT_PARAMS = {"accounts.welcome": {"token": "invitation"}}


def _comment_survives(site, role, response, allowed):
    assert site.exists("comment", site.world.ids["assembly"]["comment"]), "the comment was deleted"


def _throwaway_link(site, role, response, allowed):
    gone = not site.exists("link", site.world.ids["assembly"]["throwaway_link"][role])
    assert gone == (role in allowed), f"link deleted: {gone}"


def _throwaway_theme(site, role, response, allowed):
    gone = not site.exists("theme", site.world.ids["assembly"]["throwaway_theme"][role])
    assert gone == (role in allowed), f"theme deleted: {gone}"


CASES: list[Case] = [
    # --- accounts, language, notifications
    case("accounts.login", "GET", EVERYONE),
    case("accounts.login", "POST", EVERYONE, form={"email": "not-an-email", "password": "x"}),
    case("accounts.account", "GET", SIGNED_IN),
    case("accounts.logout", "POST", SIGNED_IN, fresh=True),
    case("accounts.logout_everywhere", "POST", SIGNED_IN, fresh=True),
    # An invitation link is the credential (like a review link): whoever holds it may set the password.
    case("accounts.welcome", "GET", EVERYONE),
    case("accounts.welcome", "POST", EVERYONE, form={"password": "a" * 12, "confirm": "b" * 12}),
    case("accounts.welcome", "GET", NOBODY, params={"token": "forged_invitation"}, label="forged link"),
    case("public.choose_language", "POST", EVERYONE),  # an unknown language: 400
    case("notifications.inbox", "GET", SIGNED_IN),
    case("notifications.read", "POST", SIGNED_IN),  # one's own, already read
    case("notifications.read", "POST", {"committee"}, params={"notification_id": "notification_of_ana"},
         label="someone else's"),
    # notifications (editor/notifications): one's own, and preferences per document
    case("notifications.overview", "GET", SIGNED_IN),
    case("notifications.overview", "POST", SIGNED_IN, form={"language": "xx"}),  # unknown language: refused, nothing changes
    case("notifications.document_preferences", "GET", SIGNED_IN),
    case("notifications.document_preferences", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("notifications.document_preferences", "POST", SIGNED_IN, form={"mention-email": "weekly"}),  # refused
    case("notifications_api.api_list", "GET", SIGNED_IN),
    case("notifications_api.api_read", "POST", SIGNED_IN),  # one's own, already read
    case("notifications_api.api_read", "POST", {"committee"}, params={"notification_id": "notification_of_ana"},
         label="someone else's"),
    case("notifications_api.api_preferences", "GET", SIGNED_IN),
    case("notifications_api.api_preferences", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("notifications_api.api_preferences", "PUT", SIGNED_IN, json={"preferences": {"mention": {"email": "weekly"}}}),  # 400
    case("notifications_api.api_language", "GET", SIGNED_IN),
    case("notifications_api.api_language", "PUT", SIGNED_IN, json={"language": "xx"}),  # 400
    case("comments_api.people", "GET", COMMENTERS),
    case("notifications.read_all", "POST", SIGNED_IN),
    # --- administration (permissions.can_administer)
    case("admin.users", "GET", ADMIN),
    case("admin.invite", "POST", ADMIN, form={"email": "not-an-email", "role": "viewer"}),
    case("admin.update_user", "POST", ADMIN, params={"user_id": "vera_id"}, form={"action": "bogus"}),
    case("admin.lift_lock", "POST", ADMIN, form={"email": "nobody@example.org", "address": "192.0.2.1"}),
    case("admin.members", "GET", ADMIN),
    case("admin.assign", "POST", ADMIN, form={"email": "nobody@example.org", "role": "viewer"}),
    case("admin.audit_log", "GET", ADMIN),
    # --- reading
    case("public.index", "GET", EVERYONE),
    case("audit_head", "GET", EVERYONE),
    case("audit_page", "GET", EVERYONE),
    case("public.favicon", "GET", EVERYONE),
    case("public.document", "GET", EVERYONE),
    case("public.document", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("public.unit", "GET", EVERYONE),
    case("public.edit", "GET", EVERYONE),  # readers follow the live text; role_in decides who writes
    case("public.edit", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("api.documents", "GET", EVERYONE),
    case("api.document", "GET", EVERYONE),
    case("api.document", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("api.akn", "GET", EVERYONE),
    case("api.html", "GET", EVERYONE),
    case("api.text", "GET", EVERYONE),
    case("api.text", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("api.unit", "GET", EVERYONE),
    case("api.openapi", "GET", EVERYONE),
    # The live endpoint decides who may read before it looks at the request: a plain GET (not a
    # WebSocket upgrade) gets 400 from those who may follow, 404 from the others. The handshake
    # itself is checked per role and document in test_socket_events ("yjs:handshake").
    case("live.yjs", "GET", EVERYONE),
    case("live.yjs", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    # --- creating documents (permissions.can_create_documents)
    case("api.create", "POST", STAFF, form={"text": ""}),
    # Linking references changes the live text: those who may write it in the stage.
    case("api.link_references", "POST", COMMENTERS, doc="drafting", json={"link": "bogus"}),
    case("api.link_references", "POST", NOBODY, json={"link": "bogus"}, label="outside an editing stage"),
    case("importing.import_page", "GET", STAFF),
    case("importing.import_page", "POST", STAFF, form={"text": ""}),
    # --- stages and versions
    case("stages_api.stages", "GET", EVERYONE),
    case("stages_api.advance_stage", "POST", ADMIN, json={"expect": "no-such-stage"}, label="assembly stage"),
    case("stages_api.advance_stage", "POST", STAFF, doc="drafting", json={"expect": "no-such-stage"},
         label="drafting stage"),
    case("stages_api.advance_stage", "POST", STAFF, doc="consultation", json={"expect": "no-such-stage"},
         label="consultation stage"),
    case("stages.advance_stage", "POST", ADMIN, form={"expect": "no-such-stage"}, label="assembly stage"),
    case("stages.advance_stage", "POST", STAFF, doc="drafting", form={"expect": "no-such-stage"},
         label="drafting stage"),
    case("stages.configure_stages", "GET", ADMIN),
    case("stages.configure_stages", "POST", ADMIN, form={"count": "many"}),
    case("stages_api.versions", "GET", EVERYONE),
    case("stages_api.freeze_version", "POST", VERSIONERS, json={"name": LONG_NAME}),
    case("stages.overview", "GET", EVERYONE),
    case("stages.freeze_version", "POST", VERSIONERS, form={"name": LONG_NAME}),
    case("stages.compare_page", "GET", EVERYONE, query={"from": "1", "to": "live"}),
    case("stages_api.diff", "GET", EVERYONE, query={"from": "1", "to": "live"}),
    case("stages_api.history", "GET", EVERYONE),
    # A unit's history page, and its revert to a version (permissions.can_write_text: the stage's editors)
    case("unit_history.page", "GET", EVERYONE),  # by eId: redirected to its GUID address
    case("unit_history.revert", "POST", COMMENTERS, doc="drafting", form={"version": "bogus"}),  # nothing changed
    case("unit_history.revert", "POST", NOBODY, form={"version": "bogus"}, label="assembly stage: the text is not edited"),
    case("unit_history_api.revert_api", "POST", COMMENTERS, doc="drafting", json={"version": "bogus"}),  # 400
    case("unit_history_api.revert_api", "POST", NOBODY, json={"version": "bogus"},
         label="assembly stage: the text is not edited"),
    case("unit_history_api.pins", "GET", EVERYONE),
    # --- loading a revised draft (permissions.can_load_revision: the committee, where the stage lets it write)
    case("revision.upload", "GET", STAFF, doc="drafting"),
    case("revision.upload", "GET", NOBODY, label="assembly stage: the text is not edited"),
    case("revision.upload", "POST", STAFF, doc="drafting", form={"text": "", "format": "text"}),  # empty: 400
    case("revision.confirm", "POST", STAFF, doc="drafting", form={"token": "forged", "action": "load"}),  # 400
    case("revision_api.revise", "POST", STAFF, doc="drafting", form={"text": "", "format": "text"}),  # empty: 400
    # --- amendments (assembly members in an amendments stage; the administrator presides)
    case("amendments.index", "GET", EVERYONE),
    case("amendments.detail", "GET", EVERYONE),
    case("amendments.detail", "GET", ASSEMBLY, params={"number": "draft_amendment"}, label="a draft"),
    case("amendments.new", "GET", ASSEMBLY),
    case("amendments.new", "GET", NOBODY, doc="drafting", also_denied=(409,), label="outside an amendments stage"),
    case("amendments.new", "POST", ASSEMBLY, form={"kind": "bogus"}),
    case("amendments.edit", "GET", ASSEMBLY, params={"number": "draft_amendment"}),
    case("amendments.edit", "POST", ASSEMBLY, params={"number": "draft_amendment"}, form={"kind": "bogus"}),
    case("amendments.state", "POST", ASSEMBLY, params={"number": "withdrawn_amendment"},
         form={"action": "withdraw"}, label="withdraw"),
    case("amendments.state", "POST", ADMIN, params={"number": "withdrawn_amendment"},
         form={"action": "debate"}, label="open the debate"),
    case("amendments.state", "POST", ASSEMBLY | ADMIN, params={"number": "withdrawn_amendment"},
         form={"action": "bogus"}, label="unknown action"),
    case("amendments.cast", "POST", ASSEMBLY, form={"choice": "bogus"}),
    case("stages.amendment_link", "GET", EVERYONE),
    case("stages.amendment_link", "GET", ASSEMBLY, params={"amendment_id": "draft_amendment_id"}, label="a draft"),
    case("amendments_api.list_amendments", "GET", EVERYONE),
    case("amendments_api.create", "POST", ASSEMBLY, json={"kind": "bogus", "units": [ANIMALS]}),
    case("amendments_api.create", "POST", NOBODY, doc="drafting", json={"kind": "bogus", "units": [ANIMALS]},
         also_denied=(409,), label="outside an amendments stage"),
    case("amendments_api.get", "GET", EVERYONE),
    case("amendments_api.get", "GET", ASSEMBLY, params={"number": "draft_amendment"}, label="a draft"),
    case("amendments_api.patch", "PATCH", ASSEMBLY, params={"number": "draft_amendment"}, json={"kind": "bogus"}),
    case("amendments_api.akn", "GET", EVERYONE),
    case("amendments_api.state", "POST", ASSEMBLY, params={"number": "withdrawn_amendment"},
         json={"action": "withdraw"}, label="withdraw"),
    case("amendments_api.state", "POST", ADMIN, params={"number": "withdrawn_amendment"},
         json={"action": "debate"}, label="open the debate"),
    case("amendments_api.state", "POST", ASSEMBLY | ADMIN, params={"number": "withdrawn_amendment"},
         json={"action": "bogus"}, label="unknown action"),
    case("amendments_api.votes", "POST", ASSEMBLY, json={"choice": "bogus"}),
    case("amendments_api.rebase_amendment", "POST", ASSEMBLY, json={}),  # asa's tabled amendment: nothing to rebase (409)
    # --- commissions (editor/commissions: the presiding administrator sets up, opens, closes, reports;
    #     members vote; assembly members reserve articles of a dictamen)
    case("commissions_api.list_commissions", "GET", EVERYONE),
    case("commissions_api.get", "GET", EVERYONE, params={"number": "commission"}),
    case("commissions_api.create", "POST", ADMIN, json={"name": ""}),
    case("commissions_api.state", "POST", ADMIN, json={"action": "bogus"}),  # /amendments/<number>/commission/state
    case("commissions_api.votes", "POST", ASSEMBLY, json={"choice": "bogus"}),  # /amendments/<number>/commission/votes
    case("commissions_api.report_to_plenary", "POST", ADMIN, params={"number": "commission"}, json={}),  # nothing adopted: 409
    case("commissions_api.reservations", "POST", ASSEMBLY, params={"number": "commission"}, json={"unit": "bogus"}),
        # no dictamen yet: 409
    case("amendments_api.split_vote", "POST", ADMIN, json={"unit": "bogus"}),  # asa's tabled deletion: 409
    # HTML (editor/amendments/views.py, editor/commissions/views.py)
    case("amendments.rebase_page", "POST", ASSEMBLY, form={}),  # asa's tabled amendment: nothing to rebase (409)
    case("amendments.separately", "POST", ADMIN, form={"unit": "bogus"}),  # a deletion is not split: 409
    case("commissions.index", "GET", EVERYONE),
    case("commissions.index", "POST", ADMIN, form={"name": ""}),  # the presiding administrator: 400, nothing set up
    # --- the assembly's body, rules and sittings (editor/assembly)
    case("assembly.rules_page", "GET", ADMIN),
    case("assembly.rules_page", "POST", ADMIN, form={"quorum_kind": "bogus"}),
    case("assembly.sittings", "GET", EVERYONE),
    case("assembly.sittings", "POST", ADMIN, form={"day": "bogus"}),
    case("assembly.chair", "GET", ADMIN, params={"number": "sitting"}),
    case("assembly.chair", "POST", ADMIN, params={"number": "sitting"}, form={"action": "bogus"}),
    case("assembly.public", "GET", EVERYONE, params={"number": "sitting"}),
    case("assembly.public_live", "GET", EVERYONE, params={"number": "sitting"}),
    case("assembly.public_stamp", "GET", EVERYONE, params={"number": "sitting"}),
    # A WebSocket that only listens (tests/test_sitting_listen.py): a plain GET is no upgrade, 400.
    case("assembly.public_listen", "GET", EVERYONE, params={"number": "sitting"}),
    case("assembly_api.get_rules", "GET", EVERYONE),
    case("assembly_api.put_rules", "PUT", ADMIN, json={"majority": "bogus"}),
    case("assembly_api.put_member", "PUT", ADMIN, json={"id": 0, "seat": "bogus"}),
    case("assembly_api.list_sittings", "GET", EVERYONE),
    case("assembly_api.create_sitting", "POST", ADMIN, json={"day": "bogus"}),
    case("assembly_api.get_sitting", "GET", EVERYONE, params={"number": "sitting"}),
    case("assembly_api.attendance", "PUT", ADMIN, params={"number": "sitting"}, json={"present": "bogus"}),
    case("assembly_api.agenda", "POST", ADMIN, params={"number": "sitting"}, json={"amendments": "bogus"}),
    case("assembly_api.action", "POST", ADMIN, params={"number": "sitting"}, json={"action": "bogus"}),
    case("assembly_api.minutes", "PUT", ADMIN, params={"number": "sitting"}, json={"minutes": 5}),
    # --- comments (permissions.can_comment; only its author deletes a comment)
    case("comments_api.listing", "GET", COMMENTERS),
    case("comments_api.one", "GET", COMMENTERS),
    # suggestions (editor/suggestions): pending ones for those who write or suggest the live text
    case("suggestions_api.listing", "GET", COMMENTERS, doc="drafting"),
    case("suggestions_api.listing", "GET", NOBODY, label="assembly stage: the text is not edited"),
    case("suggestions_api.decide", "POST", COMMENTERS, doc="drafting", json={"decision": "bogus"}),  # 400
    case("suggestions_api.decide", "POST", NOBODY, json={"decision": "bogus"},
         label="assembly stage: the text is not edited"),
    case("suggestions_api.notes", "GET", COMMENTERS, doc="drafting"),
    case("suggestions_api.notes", "GET", NOBODY, label="assembly stage: the text is not edited"),
    case("suggestions_api.add_note", "POST", COMMENTERS, doc="drafting", json={"body": ""}),  # 400
    case("suggestions_api.add_note", "POST", NOBODY, json={"body": ""},
         label="assembly stage: the text is not edited"),
    case("comments_api.create", "POST", COMMENTERS, json={"unit": WATER, "body": ""}),
    case("comments_api.reply", "POST", COMMENTERS, json={"body": ""}),
    case("comments_api.resolve", "POST", COMMENTERS, params={"comment_id": "resolved_comment"}),  # 409
    case("comments_api.reopen", "POST", COMMENTERS),  # an open thread: 409
    case("comments_api.delete", "DELETE", {"committee"}, check=_comment_survives),  # others replied: 409
    # --- provenance (readers read; permissions.can_edit changes)
    case("provenance.petitions", "GET", EVERYONE),
    case("provenance.petition", "GET", EVERYONE),
    case("provenance.themes", "GET", EVERYONE),
    case("provenance.theme", "GET", EVERYONE, params={"key": "theme_key"}),
    case("provenance.events", "GET", EVERYONE),
    case("provenance.event", "GET", EVERYONE),
    case("provenance.new_event", "GET", STAFF),
    case("provenance.new_event", "POST", STAFF, form={}),
    case("provenance.coverage", "GET", EVERYONE),
    case("provenance.open_data_json", "GET", EVERYONE),
    case("provenance.open_data_csv", "GET", EVERYONE),
    # --- open data downloads (editor.opendata)
    case("opendata.units_csv", "GET", EVERYONE),
    case("opendata.units_csv", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("opendata.document_json", "GET", EVERYONE),
    case("opendata.document_json", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("opendata.petitions_csv", "GET", EVERYONE),
    case("opendata.themes_csv", "GET", EVERYONE),
    # --- full-text search (editor.search): drafts are filtered from the results, not refused
    case("search.search_page", "GET", EVERYONE, query={"q": "agua"}),
    case("search.search_api", "GET", EVERYONE, query={"q": "agua"}),
    # --- the committee's weekly report and PDFs (editor.report)
    # --- the public's participation (editor.participation): no column is a signed-in participant
    case("participation.sign_in", "GET", EVERYONE),
    case("participation.sign_in", "POST", EVERYONE, form={"email": "not-an-email"}),  # 400, nothing sent
    case("participation.code", "GET", EVERYONE),  # nothing asked for: back to the sign-in page
    case("participation.code", "POST", EVERYONE, form={"code": "000000"}),  # no request in this browser: 409
    # The link is the credential; one that was never sent opens nothing.
    case("participation.link", "GET", NOBODY, label="a link never sent"),
    case("participation.link", "POST", NOBODY, form={}, label="a link never sent"),
    case("participation.account", "GET", EVERYONE),  # the public is sent to the participants' sign-in page
    case("participation.account", "POST", NOBODY, form={"name": "x"}),  # 401: not a participant
    case("participation.sign_out", "POST", EVERYONE, form={}),  # idempotent; a staff sign-in stays
    case("participation.comment", "POST", NOBODY, form={"unit": "art_1", "body": ""}),  # 401: not a participant
    case("participation.comment", "POST", NOBODY, doc="consultation", form={"unit": "art_1", "body": ""},
         label="consultation stage"),
    case("participation.support", "POST", NOBODY, form={"unit": "art_1"}),  # 401: not a participant
    case("participation.follow", "POST", NOBODY, form={"unit": "art_1"}),  # 401: not a participant
    case("participation.unfollow", "POST", NOBODY, form={"unit": "art_1"}),  # 401: not a participant
    # The stop link in a follower's e-mail is the credential; a token this site never signed stops nothing.
    case("participation.stop", "GET", NOBODY, label="a link never sent"),
    case("participation.stop", "POST", NOBODY, form={}, label="a link never sent"),
    # Anyone reports a published comment (an empty reason: 400, nothing stored).
    case("participation.report", "POST", EVERYONE, params={"comment_id": "public_comment"}, form={"reason": ""}),
    case("moderation.queue", "GET", STAFF),  # permissions.can_moderate
    case("moderation.decide", "POST", STAFF, params={"comment_id": "public_comment"}, form={"action": "bogus"}),
    case("moderation.settings", "GET", ADMIN),  # permissions.can_configure_participation
    case("moderation.settings", "POST", ADMIN, form={"moderation": "bogus"}),
    case("moderation.comments_json", "GET", EVERYONE),  # published comments are public
    case("moderation.comments_json", "GET", STAFF, query={"state": "pending"}, label="waiting for moderation"),
    # --- citizen events (editor.participation.event_views): no column is a signed-in participant
    case("events_calendar.register", "GET", EVERYONE),  # sent to the participants' sign-in page
    case("events_calendar.register", "POST", NOBODY, form={"title": ""}),  # 401: not a participant
    case("events_calendar.mine", "GET", EVERYONE),  # sent to the participants' sign-in page
    case("events_calendar.conclusions", "GET", EVERYONE),  # sent to the participants' sign-in page
    case("events_calendar.conclusions", "POST", NOBODY, form={"body": ""}),  # 401: not a participant
    case("events_calendar.feed", "GET", EVERYONE),
    case("events_calendar.feed", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("events_calendar.attachment", "GET", EVERYONE, params={"attachment_id": "event_attachment"}),
    case("events_calendar.attachment", "GET", STAFF, params={"attachment_id": "pending_event_attachment"},
         label="conclusions waiting for moderation"),
    case("events_calendar.queue", "GET", STAFF),  # permissions.can_moderate
    case("events_calendar.decide_registration", "POST", STAFF, params={"registration_id": "event_registration"},
         form={"action": "bogus"}),  # 400, nothing changes
    case("events_calendar.decide_conclusions", "POST", STAFF, params={"conclusions_id": "event_conclusions"},
         form={"action": "bogus"}),
    # The process page, the petitions' results and the public dashboard: as public as the document.
    case("process.page", "GET", EVERYONE),
    case("process.page", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("process.petition_results", "GET", EVERYONE),
    case("process.petition_results", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("process.dashboard", "GET", EVERYONE),
    case("process.dashboard", "GET", EVERYONE, query={"week": "2016-W32"}, label="a past week"),
    case("process.dashboard", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("report.page", "GET", COMMENTERS),
    case("report.page", "GET", COMMENTERS, query={"week": "2016-W32"}, label="a past week"),
    case("report.page", "GET", COMMENTERS, doc="draft", label="unpublished draft"),
    case("report.pdf", "GET", COMMENTERS),
    case("report.document_pdf", "GET", EVERYONE),
    case("report.document_pdf", "GET", SIGNED_IN, doc="draft", label="unpublished draft"),
    case("provenance_api.unit_links", "GET", EVERYONE),
    case("provenance_api.unit_suggestions", "GET", EVERYONE),
    case("provenance_api.source_suggestions", "GET", EVERYONE),
    case("provenance_api.sources", "GET", EVERYONE),
    case("provenance_api.health", "GET", EVERYONE),
    case("provenance_api.create", "POST", STAFF,
         json={"unit": WATER, "source_kind": "petition", "source_id": Id("petition"), "relation": "bogus"}),
    case("provenance_api.move", "POST", STAFF, json={"unit": "no-such-unit"}),
    case("provenance_api.copy", "POST", STAFF, json={"unit": "no-such-unit"}),
    case("provenance_api.acknowledge", "POST", STAFF),  # idempotent: the unit did not change
    case("provenance_api.remove", "DELETE", STAFF, params={"link_id": "throwaway_link"}, check=_throwaway_link),
    case("provenance_api.reject", "POST", STAFF,
         json={"unit": "no-such-unit", "source_kind": "petition", "source_id": Id("petition")}),
    # --- petitions, staff side
    case("petitions.manage", "GET", STAFF),
    case("petitions.manage", "POST", STAFF, form={}),  # no file: 400
    case("petitions.thresholds", "GET", STAFF),
    case("petitions.thresholds", "POST", STAFF, form={}),
    case("petitions.petition", "GET", STAFF),
    case("petitions.hearing", "POST", STAFF, form={}),
    case("petitions.relink", "POST", STAFF, form={}),  # the petition names no references: links nothing
    case("petitions.obligation", "POST", STAFF, form={"op": "bogus"}),
    case("petitions.outcome_reason", "POST", STAFF, form={"reason": "x" * 2001}),  # too long: 400, nothing changed
    case("petitions_api.import_", "POST", STAFF, json={}),  # a JSON file with no petitions: 400, nothing imported
    # --- survey
    case("survey.overview_page", "GET", STAFF),
    case("survey.answers", "GET", STAFF),
    case("survey.recode", "POST", STAFF, form={"themes": "no-such-theme"}),
    case("survey.recode_all", "POST", STAFF, form={}),  # idempotent
    case("survey.default_taxonomy", "POST", STAFF, form={}),  # there are themes already: nothing to add
    case("survey.themes", "GET", STAFF),
    case("survey.themes", "POST", STAFF, form={}),
    case("survey.edit_theme", "POST", STAFF, form={}),
    case("survey.remove_theme", "GET", STAFF),
    case("survey.remove_theme", "POST", STAFF, params={"theme_id": "throwaway_theme"}, form={},
         check=_throwaway_theme),
    case("survey.receipt", "GET", EVERYONE),
    case("survey.receipt", "POST", EVERYONE, form={"code": "NO-SUCH-CODE"}),
    # The receipt code is the respondent's credential (typed, never in a URL): an unknown one erases nothing.
    case("survey.erase_receipt", "POST", EVERYONE, form={"code": "NO-SUCH-CODE", "confirm": "yes"}),
    # --- answering a questionnaire (public), kiosks, and managing questionnaires
    case("answering.questionnaire", "GET", EVERYONE),
    case("answering.send", "POST", EVERYONE, form={}),  # no challenge: refused, nothing stored
    case("answering.thanks", "GET", EVERYONE),  # nothing to show: back to the questionnaire
    # Starting a kiosk signs the staff member out of the device: each role from a session of its own.
    case("answering.start_kiosk", "POST", COLLECTORS, fresh=True, form={"place": "prueba"}),
    # Kiosks answer only the device that was started as one (its cookie), whoever is signed in.
    case("answering.kiosk_page", "GET", NOBODY),
    case("answering.kiosk_send", "POST", NOBODY, form={}),
    case("answering.kiosk_done", "GET", NOBODY),
    case("questionnaires.index", "GET", COLLECTORS),
    case("questionnaires.index", "POST", STAFF, form={"definition": "{}"}),  # not a questionnaire: nothing made
    case("questionnaires.manage", "GET", COLLECTORS),
    case("questionnaires.manage", "POST", STAFF, form={"definition": "{}"}),  # published: cannot change
    case("questionnaires.publish_page", "POST", STAFF, form={}),  # already open: refused
    case("questionnaires.close_page", "POST", STAFF, params={"survey_id": "draft_questionnaire"}, form={}),
    case("questionnaires.version_page", "POST", STAFF, params={"survey_id": "draft_questionnaire"}, form={}),
    case("questionnaires.download", "GET", COLLECTORS),
    case("questionnaires.end_kiosk", "POST", COLLECTORS, form={}),  # idempotent
    case("questionnaires.duplicates", "GET", STAFF),
    # Volunteers' tablets: the collecting app (its worker and manifest hold no data, and browsers
    # fetch manifests without cookies) and the sync API.
    case("collect.collect_page", "GET", COLLECTORS),
    case("collect.manifest", "GET", EVERYONE),
    case("collect.worker", "GET", EVERYONE),
    case("collect.collect_api.sync_state", "GET", COLLECTORS),
    case("collect.collect_api.sync", "POST", COLLECTORS, json={"responses": []}),
    # Paper forms: volunteers key them, analysts print them; printed form 1 has no keyings yet.
    case("paper.overview", "GET", COLLECTORS),
    case("paper.key", "POST", COLLECTORS, form={"form_number": "0"}),  # no form 0: refused
    case("paper.print_forms", "POST", STAFF, form={"count": "0"}),  # no print token: nothing made
    case("paper.resolve", "GET", COLLECTORS),  # nothing to resolve: back to the paper page
    case("paper.resolve", "POST", COLLECTORS, form={}),
    # --- petitioner review: the committee manages links, the petitioner's link opens one petition
    case("review.dashboard_page", "GET", STAFF, doc="consultation"),
    case("review.issue_page", "POST", STAFF, doc="consultation", form={"name": "", "email": "p@example.net"}),
    case("review.revoke_page", "POST", STAFF, doc="consultation", params={"petition_id": "unlinked_petition"}),
    case("review.check_page", "POST", STAFF, doc="consultation", form={}),  # nothing changed: asks nobody
    case("review.api_dashboard", "GET", STAFF, doc="consultation"),
    case("review.api_issue", "POST", STAFF, doc="consultation", json={"name": "", "email": "p@example.net"}),
    case("review.api_issue", "POST", NOBODY, json={"name": "", "email": "p@example.net"}, also_denied=(409,),
         label="outside consultation"),
    case("review.api_revoke", "POST", STAFF, doc="consultation", params={"petition_id": "unlinked_petition"}),
    case("review.api_check", "POST", STAFF, doc="consultation", json={}),
    case("review.page", "GET", PETITIONER),
    case("review.submit", "POST", PETITIONER, form={"petition": Id("review_petition"), "decision": "maybe"}),
    case("review.submit", "POST", NOBODY, form={"petition": Id("other_petition"), "decision": "maybe"},
         label="another petition"),
    case("review.api_scope", "GET", PETITIONER),
    case("review.api_submit", "POST", PETITIONER,
         json={"petition": Id("review_petition"), "decision": "maybe", "comment": "", "seen": ""}),
    case("review.api_submit", "POST", NOBODY,
         json={"petition": Id("other_petition"), "decision": "maybe", "comment": "", "seen": ""},
         label="another petition"),
]

ROUTES_COVERED = len({(c.endpoint, c.method) for c in CASES})

# --- socket events ---------------------------------------------------------------------------------

#: Every /collab event and y-protocols message kind, with what each role may do (test_socket_events).
SOCKET_EVENTS = {
    "connect": "everyone may connect; a connection alone grants nothing",
    "join": "readers of the document join; the ack's role is editor only where the stage lets the role write",
    "leave": "a joined connection leaves; afterwards its y messages are refused (not-joined)",
    "disconnect": "the connection's presence (if it was relayed) is withdrawn from the others",
    "y:sync-step1": "every joined connection is answered with a sync step 2",
    "y:sync-step2": "applied only from editors; from anyone else refused (read-only) and the text is unchanged",
    "y:sync-update": "applied only from editors; from anyone else refused (read-only) and the text is unchanged",
    "y:awareness": "relayed from signed-in connections under the account's name (whatever the client says); "
                   "anonymous followers' is not relayed (they are a count); it never changes the text",
    "yjs:handshake": "the /yjs endpoint lets in exactly whom join lets in, with the same role, and applies "
                     "updates only from editors",
}
EVENTS_COVERED = len(SOCKET_EVENTS)

#: The join ack's role per document and role (None: refused). Editors per docs/stages.md.
JOIN = {
    "drafting": {r: ("editor" if r in {"admin", "committee", "legal"} else "viewer") for r in ROLES},
    "draft": {r: ("editor" if r in {"admin", "committee", "legal"} else "viewer" if r in SIGNED_IN else None)
              for r in ROLES},
    "assembly": {r: "viewer" for r in ROLES},
    "consultation": {r: ("editor" if r in {"admin", "committee"} else "viewer") for r in ROLES},
}


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class World:
    instance: Path
    socket_instance: Path
    ids: dict  # document key (or "*") → name → value, or {role: value} for values that differ by role


def _pdf() -> bytes:
    """A one-page PDF (an event's conclusions attach PDFs)."""
    import io

    from pypdf import PdfWriter

    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=200, height=200)
    writer.write(out)
    return out.getvalue()


_PDF = _pdf()


def _kit(services, document, users: dict, throwaway: bool, config) -> dict:
    """The objects every document-scoped route needs, in one document."""
    from editor.comments.models import Comment
    from editor.livetext import read_live
    from editor.participation.event_files import CheckedFile, files_folder, store
    from editor.participation.models import (
        EventAttachment,
        EventConclusions,
        EventRegistration,
        Participant,
        PublicComment,
    )
    from editor.petitions.models import Obligation, Petition
    from editor.provenance.links import create_link
    from editor.provenance.models import CitizenEvent
    from editor.survey.models import Answer, Kiosk, Respondent, Survey, SurveyQuestion, Theme
    from editor.survey.paper import print_forms
    from editor.survey.questionnaire import create_questionnaire, demo_definition, publish

    db = services.db
    units = read_live(services, document.slug).units
    water = Petition(document_id=document.id, key="agua", title="Agua potable", petitioners="Carlo Pérez",
                     proposal="Toda persona tiene derecho al agua potable.")
    mobility = Petition(document_id=document.id, key="movilidad", title="Movilidad", petitioners="Ana Ruiz",
                        proposal="Toda persona tiene derecho a la movilidad.")
    unlinked = Petition(document_id=document.id, key="sin-vinculo", title="Petición sin cláusulas")
    theme = Theme(document_id=document.id, key="agua", name="Agua", synonyms='["agua"]')
    event = CitizenEvent(document_id=document.id, title="Foro del agua", held_on=date(2016, 5, 1))
    survey = Survey(document_id=document.id, title="Encuesta")
    db.add_all([water, mobility, unlinked, theme, event, survey])
    db.flush()
    question = SurveyQuestion(survey_id=survey.id, position=1, text="¿Qué le preocupa?", coded=True)
    respondent = Respondent(survey_id=survey.id, receipt_hash=f"{document.id:064d}",
                            responded_at=datetime(2016, 5, 1, tzinfo=timezone.utc))
    db.add_all([question, respondent])
    db.flush()
    answer = Answer(respondent_id=respondent.id, question_id=question.id, text="Falta agua en mi colonia")
    obligation = Obligation(petition_id=water.id, action="legal_review", due_on=date(2030, 1, 1))
    db.add_all([answer, obligation])
    questionnaire = create_questionnaire(db, document, demo_definition())
    publish(db, questionnaire)
    draft_questionnaire = create_questionnaire(db, document, demo_definition())
    [(paper_form, _code)] = print_forms(db, questionnaire, 1)
    kiosk = Kiosk(survey_id=questionnaire.id, token_hash=f"{document.id:064d}", until=datetime(2099, 1, 1, tzinfo=timezone.utc))
    resident = Participant(email=f"vecina-{document.id}@example.net", display_name="Vecina", session_token="x" * 64,
                           verified_at=datetime(2016, 5, 1, tzinfo=timezone.utc))
    db.add_all([kiosk, resident])
    db.flush()
    public_comment = PublicComment(document_id=document.id, unit_guid=WATER, participant_id=resident.id,
                                   body="¿Y el agua de lluvia?", state="published", digest="0" * 64,
                                   published_at=datetime(2016, 5, 1, tzinfo=timezone.utc))
    db.add(public_comment)
    db.flush()
    # Citizen events registered by a resident: one waiting for approval; conclusions of the
    # recorded event, one set published and one waiting, each with a PDF on disk.
    registration = EventRegistration(document_id=document.id, participant_id=resident.id, title="Asamblea vecinal",
                                     starts_at=datetime(2030, 5, 1, 18, tzinfo=timezone.utc), place="Mercado")
    conclusions = {status: EventConclusions(document_id=document.id, event_id=event.id, participant_id=resident.id,
                                            body=f"Conclusiones ({status})", status=status)
                   for status in ("approved", "pending")}
    db.add_all([registration, *conclusions.values()])
    db.flush()
    attachments = {}
    for status, made in conclusions.items():
        [stored] = store(files_folder(config), [CheckedFile("acta.pdf", "pdf", _PDF)])
        attachments[status] = EventAttachment(conclusions_id=made.id, stored_name=stored, filename="acta.pdf",
                                              kind="pdf", size=len(_PDF), sha256="0" * 64)
    db.add_all(attachments.values())
    db.flush()
    link, _ = create_link(db, document, units, WATER, "petition", water.id, "incorporates")
    create_link(db, document, units, MOBILITY, "petition", mobility.id, "incorporates")
    thread = Comment(document_id=document.id, unit_guid=WATER, body="¿Potable?", author_id=users["ana"].id)
    resolved = Comment(document_id=document.id, unit_guid=WATER, body="Listo", author_id=users["ana"].id,
                       resolved_at=datetime.now(timezone.utc), resolved_by_id=users["ana"].id)
    db.add_all([thread, resolved])
    db.flush()
    db.add(Comment(document_id=document.id, unit_guid=WATER, parent_id=thread.id, body="Sí",
                   author_id=users["lucia"].id))
    ids = {"slug": document.slug, "unit_eid": "art_1", "source_kind": "petition", "petition": water.id,
           "other_petition": mobility.id, "unlinked_petition": unlinked.id, "link": link.id, "theme": theme.id,
           "theme_key": theme.key, "event": event.id, "answer": answer.id, "obligation": obligation.id,
           "comment": thread.id, "resolved_comment": resolved.id, "questionnaire": questionnaire.id,
           "draft_questionnaire": draft_questionnaire.id, "kiosk": kiosk.id, "paper_form": paper_form,
           "public_comment": public_comment.id, "event_registration": registration.id,
           "event_conclusions": conclusions["pending"].id, "event_attachment": attachments["approved"].id,
           "pending_event_attachment": attachments["pending"].id,
           # no amendments outside the assembly document: any number is a 404 there
           "tabled_amendment": 999, "draft_amendment": 999, "withdrawn_amendment": 999,
           "tabled_amendment_id": 999_999, "draft_amendment_id": 999_999,
           # no commission or sitting outside the assembly document either
           "commission": 999, "sitting": 999}
    if throwaway:  # one per role, for requests that really delete when allowed
        ids["throwaway_theme"], ids["throwaway_link"] = {}, {}
        for role in (*ROLES, "csrf"):  # "csrf": test_csrf_refusals_change_nothing's own
            extra = Theme(document_id=document.id, key=f"desechable-{role}", name=f"Desechable {role}")
            source = CitizenEvent(document_id=document.id, title=f"Evento desechable {role}", held_on=date(2016, 5, 2))
            db.add_all([extra, source])
            db.flush()
            throwaway_link, _ = create_link(db, document, units, ANIMALS, "event", source.id, "related")
            ids["throwaway_theme"][role], ids["throwaway_link"][role] = extra.id, throwaway_link.id
    db.commit()
    return ids


def seed(instance: Path) -> dict:
    """Three more stages of the world on top of conftest's seeded instance (see the module docstring)."""
    from sqlalchemy import select

    from akoma_ntoso.safexml import parse_xml
    from editor import create_app
    from editor.amendments.service import create_amendment, table, withdraw
    from editor.documents import create_document, get_document
    from editor.models import Notification, User
    from editor.review.service import issue_link
    from editor.stages.current import current_stage
    from editor.stages.workflow import advance

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    ids: dict = {}
    with app.test_request_context():
        db = services.db
        users = {who: db.scalar(select(User).where(User.email == email)) for who, (email, _role) in ACCOUNTS.items()}
        admin = users["admin"]
        for key in ("drafting", "consultation"):
            create_document(services, DOCS[key], f"Documento {key}", parse_xml(SMALL_BODY), published=True)
        documents = {key: get_document(db, slug) for key, slug in DOCS.items()}
        ids["assembly"] = _kit(services, documents["assembly"], users, throwaway=True, config=app.config)
        ids["draft"] = _kit(services, documents["draft"], users, throwaway=True, config=app.config)
        ids["consultation"] = _kit(services, documents["consultation"], users, throwaway=False, config=app.config)
        ids["drafting"] = {"slug": DOCS["drafting"], "unit_eid": "art_1"}
        ids["missing"] = {**ids["draft"], "slug": "no-such-document"}  # what a draft must look like
        for key, stage in (("assembly", "assembly"), ("consultation", "consultation")):
            while current_stage(db, documents[key]).key != stage:
                advance(services, documents[key], admin)

        # Amendments by asa (the assembly column) to the assembly document.
        assembly_doc, asa = documents["assembly"], users["asa"]
        tabled = create_amendment(services, assembly_doc, asa, {"kind": "deletion", "units": [ANIMALS]})
        table(services, assembly_doc, tabled, asa, app.config)
        draft = create_amendment(services, assembly_doc, asa, {"kind": "substitution", "units": [MOBILITY],
                                                               "heading": "Movilidad", "text": "Borrador de asa."})
        withdrawn = create_amendment(services, assembly_doc, asa, {"kind": "deletion", "units": [MOBILITY]})
        table(services, assembly_doc, withdrawn, asa, app.config)
        withdraw(services, assembly_doc, withdrawn, asa)
        ids["assembly"].update(tabled_amendment=tabled.number, tabled_amendment_id=tabled.id,
                               draft_amendment=draft.number, draft_amendment_id=draft.id,
                               withdrawn_amendment=withdrawn.number)
        # A commission of the assembly document (asa a member; nothing adopted in it, so reporting is
        # refused), and an open sitting with an empty voting list.
        from editor.assembly.service import create_sitting, open_sitting
        from editor.commissions.service import create_commission

        commission = create_commission(services, assembly_doc, admin, {
            "name": "Comisión de prueba", "units": [ANIMALS], "members": [asa.id]})
        sitting = create_sitting(db, assembly_doc, admin, {"day": "2016-09-15"})
        open_sitting(db, assembly_doc, sitting, admin)
        ids["assembly"].update(commission=commission.number, sitting=sitting.number)

        # The petitioner's link (to the water petition of the consultation document), and an
        # earlier link of the same petition, revoked when the current one was issued: the
        # token every other column holds.
        consultation = documents["consultation"]
        from editor.petitions.models import Petition

        water = db.get(Petition, ids["consultation"]["petition"])
        _old, revoked = issue_link(db, consultation, water, admin, "Carlo Pérez", "carlo@example.net", "en",
                                   config=app.config)
        _link, valid = issue_link(db, consultation, water, admin, "Carlo Pérez", "carlo@example.net", "en",
                                  config=app.config)

        # One read notification per account.
        notes = {}
        for who, user in users.items():
            note = Notification(user_id=user.id, message=f"Aviso para {who}", read_at=datetime.now(timezone.utc))
            db.add(note)
            db.flush()
            notes[who] = note.id
        # Accounts of each role for requests that end their own sessions (sign out, everywhere),
        # and an invited account that has not set its password yet.
        from editor.accounts import add_user, invitation_token

        for role in ACCOUNT_OF:
            add_user(db, f"{role}-desechable@example.org", ACCOUNTS[ACCOUNT_OF[role]][1], PASSWORD)
        invited = add_user(db, "invitada@example.org", "viewer", None)
        db.commit()
        invitation = invitation_token(invited)
        ids["*"] = {
            "invitation": invitation,
            "forged_invitation": invitation[:-4] + ("AAAA" if not invitation.endswith("AAAA") else "BBBB"),
            "vera_id": users["vera"].id,
            "token": {"petitioner": valid, "*": revoked},
            "notification": {**{role: notes[who] for role, who in ACCOUNT_OF.items()}, "*": notes["admin"]},
            "notification_of_ana": notes["ana"],
            "unknown_language": "xx",
            "suggestion": "s-none",
            "review_petition": ids["consultation"]["petition"],
            "other_petition": ids["consultation"]["other_petition"],
        }
    close(app)
    return ids


@pytest.fixture(scope="module")
def world(seeded_template, tmp_path_factory) -> World:
    instance = tmp_path_factory.mktemp("matrix-instance")
    shutil.copytree(seeded_template, instance, dirs_exist_ok=True)
    ids = seed(instance)
    # The socket tests run a real server over their own copy: two processes must not hold
    # replicas of the same documents.
    socket_instance = tmp_path_factory.mktemp("matrix-socket-instance")
    shutil.copytree(instance, socket_instance, dirs_exist_ok=True)
    return World(instance, socket_instance, ids)


class Site:
    """The application in process, one client per role, and how to make a case's request."""

    def __init__(self, world: World) -> None:
        from editor import create_app

        self.world = world
        self.app = create_app({"INSTANCE_PATH": str(world.instance), "SECRET_KEY": "test-secret",
                               # Rate limits are tested elsewhere; here every role sends many requests.
                               "REVIEW_RATE_LIMIT": "100000 per minute", "RECEIPT_RATE_LIMIT": "100000 per minute",
                               "SEARCH_RATE_LIMIT": "100000 per minute", "EXPORT_RATE_LIMIT": "100000 per minute",
                               "SURVEY_SUBMIT_RATE_LIMIT": "100000 per minute",
                               **{f"{name}_RATE_LIMIT": "100000 per minute" for name in (
                                   "PARTICIPANT_SIGN_IN", "PARTICIPANT_EMAIL", "PARTICIPANT_CODE", "PUBLIC_COMMENT",
                                   "PUBLIC_COMMENT_ADDRESS", "PUBLIC_SUPPORT", "PUBLIC_REPORT")}})
        self.adapter = self.app.url_map.bind("localhost")
        self.rules = {rule.endpoint: rule for rule in self.app.url_map.iter_rules()}
        self.clients = {role: self.client(role) for role in ROLES}

    def client(self, role: str, throwaway: bool = False):
        """A new session for the role, with its CSRF token in `csrf` (`throwaway`: signed in to
        another account of the same role, for requests that end the account's sessions)."""
        if role in ACCOUNT_OF and throwaway:
            client = self.app.test_client()
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
            response = client.post("/login", data={"email": f"{role}-desechable@example.org", "password": PASSWORD,
                                                   "csrf_token": _csrf(client.get("/login").get_data(as_text=True))})
            assert response.status_code == 302, response.status_code
        elif role in ACCOUNT_OF:
            client = signed_in(self.app, ACCOUNT_OF[role])
        else:
            client = self.app.test_client()
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if role == "petitioner":  # opens the review page the link leads to, as a petitioner does
            page = client.get(f"/review/{self.value('token', 'consultation', role)}")
            assert page.status_code == 200, page.status_code
        client.csrf = _csrf(client.get("/login").get_data(as_text=True))
        return client

    def value(self, name: str, doc: str, role: str):
        ids = self.world.ids
        value = ids[doc][name] if name in ids[doc] else ids["*"][name]
        if isinstance(value, dict):
            value = value.get(role, value.get("*"))
        return value

    def resolve(self, payload, doc: str, role: str):
        if isinstance(payload, Id):
            return self.value(payload.name, doc, role)
        if isinstance(payload, dict):
            return {k: self.resolve(v, doc, role) for k, v in payload.items()}
        if isinstance(payload, list):
            return [self.resolve(v, doc, role) for v in payload]
        return payload

    def url(self, case: Case, role: str, doc: str | None = None, objects: dict | None = None) -> str:
        """The case's URL on `doc`; `objects` (rule argument → document key) takes those
        arguments from another document's objects."""
        doc = doc or case.doc
        rule = self.rules[case.endpoint]
        defaults = {**DEFAULT_PARAMS, **ENDPOINT_PARAMS.get(case.endpoint, {})}
        values = {arg: self.value(case.params.get(arg, defaults.get(arg, arg)), (objects or {}).get(arg, doc), role)
                  for arg in rule.arguments}
        return self.adapter.build(case.endpoint, values, method=case.method)

    def send(self, case: Case, role: str, *, doc: str | None = None, client=None, csrf: str | None | bool = True,
             malformed: bool = False, objects: dict | None = None):
        """The case's request as `role`. csrf: True sends the session's token, None none, a string that one."""
        doc = doc or case.doc
        client = client or (self.client(role, throwaway=True) if case.fresh else self.clients[role])
        token = client.csrf if csrf is True else csrf
        headers = {"X-CSRFToken": token} if token else {}
        options: dict = {"method": case.method, "headers": headers, "query_string": case.query,
                         "follow_redirects": False}
        if malformed:
            if case.json is not None:
                options.update(data="{not json", content_type="application/json")
        elif case.json is not None:
            options["json"] = self.resolve(case.json, doc, role)
        elif case.form is not None or case.changes_state:
            form = self.resolve(case.form or {}, doc, role)
            options["data"] = {**form, **({"csrf_token": token} if token else {})}
        return client.open(self.url(case, role, doc, objects), **options)

    def exists(self, kind: str, row_id: int) -> bool:
        from editor.comments.models import Comment
        from editor.provenance.models import ProvenanceLink
        from editor.survey.models import Theme

        model = {"comment": Comment, "link": ProvenanceLink, "theme": Theme}[kind]
        services = self.app.extensions["constituent"]
        try:
            return services.db.get(model, row_id) is not None
        finally:
            services.db.remove()

    def close(self) -> None:
        close(self.app)


@pytest.fixture(scope="module")
def site(world):
    site = Site(world)
    yield site
    site.close()


# --- judging an answer -------------------------------------------------------------------------------


def _to_login(response) -> bool:
    return 300 <= response.status_code < 400 and urlparse(response.headers.get("Location", "")).path == "/login"


def _is_csrf_refusal(response) -> bool:
    if response.status_code != 400:  # (and a PDF's body is not text)
        return False
    body = response.get_data(as_text=True)
    return "CSRF" in body or "did not come from this site" in body


def verdict(response, also_denied=()) -> str:
    """"allowed", "denied", or what else happened."""
    status = response.status_code
    if _is_csrf_refusal(response):
        return "csrf-refused (a test setup problem)"
    if status in (401, 403, 404) or status in also_denied or _to_login(response):
        return "denied"
    if 200 <= status < 400 or status in (400, 409, 422):
        return "allowed"
    return f"unexpected {status}"


def describe(response) -> str:
    body = response.get_data(as_text=True)
    where = f" → {response.headers.get('Location')}" if 300 <= response.status_code < 400 else ""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))[:300]
    return f"{response.status_code}{where}: {text}"


def _params(cases, roles=ROLES):
    """(case, role) parameters."""
    return [pytest.param(c, role, id=f"{c.id}|{role}") for c in cases for role in roles]


# --- coverage ----------------------------------------------------------------------------------------


def _collab_events(app) -> set[str]:
    """Every event the server handles, by namespace, and every y-protocols message kind."""
    services = app.extensions["constituent"]
    server = services.socketio.server
    namespaces = set(server.handlers) | set(server.namespace_handlers)
    assert namespaces <= {"/collab"}, (
        f"socket namespaces {sorted(namespaces - {'/collab'})} have no entries: add their events to "
        "SOCKET_EVENTS and to test_socket_events in tests/test_role_matrix.py")
    handler = server.namespace_handlers["/collab"]
    events = {name[3:] for name in dir(type(handler)) if name.startswith("on_")}
    events |= set(server.handlers.get("/collab", {}))
    events.discard("y")
    events |= {f"y:sync-{step.name.lower()}" for step in protocol.SyncStep}
    events |= {f"y:{kind.name.lower()}" for kind in protocol.MessageType if kind != protocol.MessageType.SYNC}
    # The raw endpoint: its handshake decides who joins as what (the y message kinds are the same).
    if any(rule.endpoint == "live.yjs" for rule in app.url_map.iter_rules()):
        events.add("yjs:handshake")
    return events


def test_every_route_and_event_has_an_entry(site):
    routes = {}
    for rule in site.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.setdefault((rule.endpoint, method), []).append(rule.rule)
    shared = {key: rules for key, rules in routes.items() if len(rules) > 1}
    assert not shared, f"endpoints with several rules (give each rule its own endpoint): {shared}"
    covered = {(c.endpoint, c.method) for c in CASES}
    missing = sorted(routes.keys() - covered)
    assert not missing, "routes without an entry in the role matrix: add a case(...) line to CASES in " \
        "tests/test_role_matrix.py for each of: " + "; ".join(f"{m} {routes[(e, m)][0]} ({e})" for e, m in missing)
    stale = sorted(covered - routes.keys())
    assert not stale, f"CASES name routes that no longer exist; remove or update them: {stale}"

    events = _collab_events(site.app)
    missing_events = sorted(events - SOCKET_EVENTS.keys())
    assert not missing_events, ("socket events without an entry: add them to SOCKET_EVENTS and test them in "
                                f"test_socket_events (tests/test_role_matrix.py): {missing_events}")
    stale_events = sorted(SOCKET_EVENTS.keys() - events)
    assert not stale_events, f"SOCKET_EVENTS names events that no longer exist: {stale_events}"
    print(f"\nrole matrix: {ROUTES_COVERED} routes (rule × method) in {len(CASES)} cases, {EVENTS_COVERED} "
          f"socket events and message kinds, {len(ROLES)} roles")
    assert ROUTES_COVERED == len(routes) and EVENTS_COVERED == len(events)


# --- the matrix --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "role"), _params(CASES))
def test_matrix(site, c: Case, role: str):
    response = site.send(c, role)
    expected = "allowed" if role in c.allowed else "denied"
    got = verdict(response, c.also_denied)
    assert got == expected, f"{c.id} as {role}: expected {expected}, got {got} ({describe(response)})"
    if c.doc == "draft" and role in ("public", "petitioner"):
        assert response.status_code == 404, f"the draft must be invisible: {describe(response)}"
    if c.check is not None:
        c.check(site, role, response, c.allowed)


def _settle(problems: dict, what: str) -> None:
    """Fail listing every problem found."""
    assert not problems, f"{what}:\n" + "\n".join(f"{key}: {why}" for key, why in sorted(problems.items()))


def test_drafts_are_invisible(site):
    """Every route with a document, pointed at the unpublished draft, refuses the public and a
    petitioner exactly as it refuses a document that does not exist (the draft holds the same
    kinds of objects as the published document, so only the document's visibility differs)."""
    problems = {}
    for c in CASES:
        if c.doc == "draft" or "slug" not in site.rules[c.endpoint].arguments:
            continue
        for role in ("public", "petitioner"):
            response = site.send(c, role, doc="draft")
            missing = site.send(c, role, doc="missing")
            where = [(r.status_code, (r.headers.get("Location") or "").replace(slug, "<slug>"))
                     for r, slug in ((response, DRAFT), (missing, "no-such-document"))]
            if verdict(response) != "denied" or where[0] != where[1]:
                problems[(c.id, role)] = f"the draft: {describe(response)}; a missing document: {describe(missing)}"
    _settle(problems, "drafts answered differently from missing documents")


#: Rule arguments that name an object of the document (not a unit, a key or a token).
OBJECT_ARGUMENTS = {"petition_id", "comment_id", "number", "amendment_id", "link_id", "source_id", "event_id",
                    "theme_id", "answer_id", "obligation_id"}


def test_objects_of_another_document_are_not_reached_through_this_one(site):
    """A URL naming a document and an object of another document (the unpublished draft's
    petition, comment, link…, or the assembly document's amendments through the drafting one)
    reaches nothing, for any role: GET reads nothing, DELETE deletes nothing."""
    problems = {}
    for c in CASES:
        rule = site.rules[c.endpoint]
        wanted = set(rule.arguments) & OBJECT_ARGUMENTS
        if c.method not in ("GET", "DELETE") or c.doc == "draft" or not wanted or "slug" not in rule.arguments:
            continue
        amendments = bool(wanted & {"number", "amendment_id"})
        doc = "drafting" if amendments else c.doc
        objects = {arg: ("assembly" if amendments else "draft") for arg in wanted}
        for role in ROLES:
            response = site.send(c, role, doc=doc, objects=objects)
            if verdict(response) != "denied":
                problems[(c.id, role)] = f"{objects}: {describe(response)}"
            if c.method == "DELETE":
                kind, arg = ("link", "link_id") if "link_id" in wanted else ("comment", "comment_id")
                row = site.value(c.params.get(arg, DEFAULT_PARAMS[arg]), "draft", role)
                if not site.exists(kind, row):
                    problems[(c.id, role)] = f"the draft's {kind} {row} was deleted through {doc}"
    _settle(problems, "objects of another document reached")


#: Roles allowed some request on each route: a malformed body cannot say which action it meant, so
#: a role allowed any of them (the presiding administrator on an amendment's state) may get a 400.
_ALLOWED_ON_ROUTE: dict[tuple[str, str], set] = {}
for _c in CASES:
    _ALLOWED_ON_ROUTE.setdefault((_c.endpoint, _c.method), set()).update(_c.allowed)

#: Stage refusals (also_denied) are left out: the same routes are checked in their own stage.
_MALFORMED = [p for p in _params([c for c in CASES if c.changes_state and not c.also_denied])
              if p.values[1] not in _ALLOWED_ON_ROUTE[(p.values[0].endpoint, p.values[0].method)]]


@pytest.mark.parametrize(("c", "role"), _MALFORMED)
def test_denied_before_input_is_read(site, c: Case, role: str):
    """A denied role sending a malformed body (not JSON, or an empty form) is still denied: the
    route decides permission before it reads the input."""
    response = site.send(c, role, malformed=True)
    got = verdict(response, c.also_denied)
    assert got == "denied", f"{c.id} as {role} with a malformed body: {got} ({describe(response)})"


# --- CSRF ----------------------------------------------------------------------------------------------

#: No state-changing route is exempt from CSRF protection: even the token-authenticated review
#: routes (/review/<token>, /api/v1/review/<token>) need the session's CSRF token.


def _csrf_cases() -> list[Case]:
    """One case per state-changing route (the first entry for it)."""
    seen, out = set(), []
    for c in CASES:
        if c.changes_state and (c.endpoint, c.method) not in seen and c.allowed:
            seen.add((c.endpoint, c.method))
            out.append(c)
    return out


def _acting_role(c: Case) -> str:
    """Who is allowed to do it (the administrator when they are)."""
    return "admin" if "admin" in c.allowed else sorted(c.allowed)[0]


@pytest.mark.parametrize("variant", ["no token", "another session's token"])
@pytest.mark.parametrize("c", _csrf_cases(), ids=lambda c: f"{c.method} {c.endpoint}")
def test_csrf_every_state_changing_route_refuses_a_request_without_a_valid_token(site, c: Case, variant: str):
    role = _acting_role(c)
    foreign = site.clients["public"].csrf if role != "public" else site.clients["viewer"].csrf
    response = site.send(c, role, csrf=None if variant == "no token" else foreign)
    assert _is_csrf_refusal(response), f"{c.id} as {role} with {variant}: {describe(response)}"


#: State-changing routes nobody in the matrix may use (they need a credential no column holds),
#: whose CSRF refusal is tested where that credential is made.
CSRF_TESTED_ELSEWHERE = {
    ("answering.kiosk_send", "POST"): "test_survey_answering.py::test_a_kiosk_refuses_answers_sent_without_its_page_token",
    **{(endpoint, "POST"): "test_participation.py::test_a_participants_requests_without_the_pages_token_are_refused_"
                           "and_change_nothing"
       for endpoint in ("participation.comment", "participation.support", "participation.account", "participation.link")},
    **{(endpoint, "POST"): "test_follows.py::test_follow_requests_without_the_pages_token_or_a_participant_are_"
                           "refused_and_change_nothing"
       for endpoint in ("participation.follow", "participation.unfollow")},
    ("participation.stop", "POST"): "test_follows.py::test_the_link_in_the_message_stops_the_updates_on_its_button_"
                                    "not_on_opening",
    **{(endpoint, "POST"): "test_events_calendar.py::test_an_organisers_requests_without_the_pages_token_are_refused_"
                           "and_change_nothing"
       for endpoint in ("events_calendar.register", "events_calendar.conclusions")},
}


def test_every_state_changing_route_with_an_entry_is_csrf_tested():
    """Every state-changing route of the matrix is in the CSRF test above (none silently left out)."""
    changing = {(c.endpoint, c.method) for c in CASES if c.changes_state}
    tested = {(c.endpoint, c.method) for c in _csrf_cases()} | set(CSRF_TESTED_ELSEWHERE)
    assert changing - tested == set()


def test_csrf_refusals_change_nothing(site):
    """Requests that would change something, sent without a token by someone allowed to send
    them, are refused and nothing changes; the same requests with the token do change it."""
    draft = site.world.ids["draft"]
    admin, ana = site.clients["admin"], site.clients["committee"]
    api = f"/api/v1/documents/{DRAFT}"

    def without_token(client, method, url, **kwargs):
        response = client.open(url, method=method, follow_redirects=False, **kwargs)
        assert _is_csrf_refusal(response), f"{method} {url}: {describe(response)}"

    # Signing out.
    throwaway = site.client("admin", throwaway=True)
    without_token(throwaway, "POST", "/logout")
    assert throwaway.get("/notifications").status_code == 200, "signed out without a token"
    # Deleting a provenance link and a survey theme.
    link, theme = draft["throwaway_link"]["csrf"], draft["throwaway_theme"]["csrf"]
    without_token(admin, "DELETE", f"{api}/links/{link}")
    without_token(admin, "POST", f"/d/{DRAFT}/survey/themes/{theme}/delete", data={})
    assert site.exists("link", link) and site.exists("theme", theme)
    # Moving the document on, freezing a version, commenting.
    stage = lambda: admin.get(f"{api}/stages").get_json()["current"]  # noqa: E731
    versions = lambda: len(admin.get(f"{api}/versions").get_json()["versions"])  # noqa: E731
    comments = lambda: admin.get(f"{api}/comments").get_json()["open"]  # noqa: E731
    before = stage(), versions(), comments()
    without_token(admin, "POST", f"{api}/stages/advance", json={"expect": "legal_review"})
    without_token(admin, "POST", f"/d/{DRAFT}/versions", data={"name": "sin token"})
    without_token(ana, "POST", f"{api}/comments", json={"unit": WATER, "body": "Sin token"})
    assert (stage(), versions(), comments()) == before
    # Tabling an amendment (asa, in the assembly stage).
    asa = site.clients["assembly"]
    count = len(asa.get(f"/api/v1/documents/{PUBLISHED}/amendments").get_json()["amendments"])
    without_token(asa, "POST", f"/api/v1/documents/{PUBLISHED}/amendments",
                  json={"kind": "deletion", "units": [ANIMALS], "table": True})
    assert len(asa.get(f"/api/v1/documents/{PUBLISHED}/amendments").get_json()["amendments"]) == count
    # A petitioner's review: the link is a credential, the form still needs the session's token.
    petitioner = site.clients["petitioner"]
    token = site.value("token", "consultation", "petitioner")
    scope = petitioner.get(f"/api/v1/review/{token}").get_json()
    without_token(petitioner, "POST", f"/api/v1/review/{token}",
                  json={"petition": scope["petition"]["id"], "decision": "approve", "seen": scope["seen"]})
    without_token(petitioner, "POST", f"/review/{token}",
                  data={"petition": scope["petition"]["id"], "decision": "approve", "seen": scope["seen"]})
    assert petitioner.get(f"/api/v1/review/{token}").get_json()["review"] is None

    # The same requests with the token take effect (so the refusals above were real).
    assert comments() == before[2]
    created = ana.post(f"{api}/comments", json={"unit": WATER, "body": "Con token"}, headers={"X-CSRFToken": ana.csrf})
    assert created.status_code == 201 and comments() == before[2] + 1
    assert admin.delete(f"{api}/links/{link}", headers={"X-CSRFToken": admin.csrf}).status_code == 200
    assert admin.post(f"/d/{DRAFT}/survey/themes/{theme}/delete", data={"csrf_token": admin.csrf}).status_code == 302
    assert not site.exists("link", link) and not site.exists("theme", theme)
    assert throwaway.post("/logout", data={"csrf_token": throwaway.csrf}).status_code == 302
    assert _to_login(throwaway.get("/notifications"))


# --- socket events ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(world):
    """A real server over the world's own copy (Socket.IO needs a real transport to be trusted)."""
    server = LiveServer(world.socket_instance).start()
    yield server
    server.stop()


def _cookie(live, world: World, role: str) -> str | None:
    """The Cookie header a role's browser sends: a session, or (petitioner) the anonymous session
    of someone who opened their review link."""
    if role in ACCOUNT_OF:
        return live.cookie(ACCOUNT_OF[role])
    session = requests.Session()
    if role == "petitioner":
        token = world.ids["*"]["token"]["petitioner"]
        assert session.get(f"{live.url}/review/{token}", timeout=10).status_code == 200
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies) or None


def _barrier(client) -> bool:
    """Ask for a sync step 2 and wait for it: the room has handled everything sent before."""
    client.synced.clear()
    with client.lock:
        client.send(protocol.sync_step1(client.doc.get_state()))
    return client.synced.wait(10)


def _until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _paragraph_update(words: str) -> bytes:
    """An update from a replica of nothing: a paragraph appended to the body."""
    from pycrdt import Doc, XmlElement, XmlFragment, XmlText

    doc = Doc()
    doc.get("body", type=XmlFragment).children.append(XmlElement("p", {}, [XmlText(words)]))
    return doc.get_update()


def _refused(client, code: str) -> bool:
    return client.wait_for(lambda c: any(e.get("code") == code for e in c.errors), timeout=10)


@pytest.mark.parametrize("role", ROLES)
def test_socket_events(live, world, role):
    """Every /collab event and y message kind as `role`, checked against the live text read
    through the API (SOCKET_EVENTS says what each may do; JOIN who joins where, as what)."""
    from collab_client import NS, CollabClient, YjsClient

    admin = live.login("admin")
    text = lambda doc: admin.get(f"{live.url}/api/v1/documents/{DOCS[doc]}/text", timeout=10).text  # noqa: E731
    cookie = _cookie(live, world, role)
    clients: list = []
    problems: dict[tuple[str, str], str] = {}

    def expect(event: str, doc: str, ok: bool, message: str) -> None:
        if not ok:
            problems.setdefault((event, doc), message)

    def connect(name: str = role):
        client = CollabClient(live.url, cookie, name=name).connect()
        clients.append(client)
        return client

    def typed(client, words: str, send: bool = True) -> None:
        """Type `words` at the start of Artículo 2 (as an update, or only locally)."""
        client._remote = not send
        try:
            client.edit(lambda body: _first_p_text(client, 1).insert(0, words + " "))
        finally:
            client._remote = False

    try:
        observer = CollabClient(live.url, live.cookie("admin"), name="observer").connect()
        clients.append(observer)
        assert observer.join(DOCS["drafting"])["ok"]

        # connect: everyone; it grants nothing by itself (a y message before join is refused).
        idle = connect()
        expect("connect", "-", idle.sio.connected, "could not connect")
        idle.slug = DOCS["drafting"]
        idle.send(protocol.sync_update(b"\x00"))
        expect("connect", "-", _refused(idle, "not-joined"), "a y message before join was not refused")

        # join: the ack's role per document.
        for doc, wanted in JOIN.items():
            client = connect()
            ack = client.join(DOCS[doc], wait=False)
            got = ack.get("role") if ack.get("ok") else None
            expect("join", doc, got == wanted[role], f"ack {ack}, expected role {wanted[role]}")
            if got is not None:
                expect("y:sync-step1", doc, client.synced.wait(10), "no sync step 2 answered the step 1")

        # y: updates and sync step 2 on every document, applied only from editors.
        for doc in JOIN:
            writer = JOIN[doc][role] == "editor"
            client = connect()
            ack = client.join(DOCS[doc], wait=JOIN[doc][role] is not None)
            before = text(doc)
            for event, send in (("y:sync-update", True), ("y:sync-step2", False)):
                client.errors.clear()
                marker = f"MARCA{event[-5:].upper().replace('-', '')}{role.upper()}{doc.upper()}"
                if not ack.get("ok"):  # refused at join (no replica): its messages are refused too
                    client.slug = DOCS[doc]
                    update = _paragraph_update(marker)
                    client.send(protocol.sync_update(update) if send else protocol.sync_step2(update))
                    expect(event, doc, _refused(client, "not-joined"), "not refused (not-joined)")
                    expect(event, doc, marker not in text(doc), "the text changed")
                    continue
                typed(client, marker, send)
                if not send:
                    client.send(protocol.sync_step2(client.state()))
                if writer:
                    expect(event, doc, _until(lambda m=marker, d=doc: m in text(d)), "an editor's change was not applied")
                else:
                    expect(event, doc, _refused(client, "read-only"), "not refused (read-only)")
                    expect(event, doc, _barrier(client) and marker not in text(doc), "the text changed")
            if not writer:
                expect("y:sync-update", doc, text(doc) == before, "the text changed")

        # awareness: relayed from signed-in connections under their account's name; never a change
        # to the text; an anonymous follower's is not relayed.
        client = connect()
        assert client.join(DOCS["drafting"])["ok"]
        before = text("drafting")
        name = f"presencia-{role}"
        client_id = client.doc.client_id
        client.send(protocol.encode_awareness([protocol.AwarenessEntry(client_id, 1, {"user": {"name": name}})]))

        def relayed(o) -> list:
            return [e.state for m in o.awareness for e in protocol.decode_awareness(m)
                    if e.client_id == client_id and e.state]

        if role in SIGNED_IN:
            expect("y:awareness", "drafting", observer.wait_for(lambda o: relayed(o)), "the presence was not relayed")
            shown = relayed(observer)
            expect("y:awareness", "drafting", all(state["user"]["name"] != name for state in shown),
                   f"the name the client sent was shown: {shown}")
        else:
            expect("y:awareness", "drafting", _barrier(client) and not relayed(observer),
                   "an anonymous follower's presence was relayed")
        expect("y:awareness", "drafting", _barrier(client) and text("drafting") == before, "the text changed")

        # disconnect: the connection's presence is withdrawn from the others.
        seen = len(observer.awareness)
        client_id = client.doc.client_id
        client.close()

        def withdrawn(o) -> bool:
            return any(e.client_id == client_id and e.state is None
                       for m in o.awareness[seen:] for e in protocol.decode_awareness(m))

        if role in SIGNED_IN:
            expect("disconnect", "drafting", observer.wait_for(withdrawn), "its presence stayed")

        # leave: afterwards the connection's messages are refused and change nothing.
        client = connect()
        assert client.join(DOCS["drafting"])["ok"]
        ack = client.sio.call("leave", {"document": DOCS["drafting"]}, namespace=NS, timeout=10)
        expect("leave", "drafting", ack == {"ok": True}, f"ack {ack}")
        again = client.sio.call("leave", {"document": DOCS["drafting"]}, namespace=NS, timeout=10)
        expect("leave", "drafting", again.get("ok") is False, f"leaving twice: {again}")
        before = text("drafting")
        client.errors.clear()
        typed(client, f"TRASSALIR{role.upper()}")
        expect("leave", "drafting", _refused(client, "not-joined"), "a y message after leave was not refused")
        expect("leave", "drafting", text("drafting") == before, "the text changed after leave")

        # /yjs: the same people, with the same role, on every document; updates only from editors.
        for doc, wanted in JOIN.items():
            raw = YjsClient(live.url, cookie, name=f"{role}-yjs")
            clients.append(raw)
            ack = raw.join(DOCS[doc])
            got = ack.get("role") if ack.get("ok") else None
            expect("yjs:handshake", doc, got == wanted[role], f"got {ack}, expected role {wanted[role]}")
            if not ack.get("ok"):
                expect("yjs:handshake", doc, ack.get("status") == 404, f"refused with {ack}")
                continue
            marker = f"VIAYJS{role.upper()}{doc.upper()}"
            typed(raw, marker)
            if wanted[role] == "editor":
                expect("yjs:handshake", doc, _until(lambda m=marker, d=doc: m in text(d)), "an editor's change was not applied")
            else:
                expect("yjs:handshake", doc, _refused(raw, "read-only"), "not refused (read-only)")
                expect("yjs:handshake", doc, _barrier(raw) and marker not in text(doc), "the text changed")
    finally:
        for client in clients:
            client.close()

    _settle(problems, f"socket events as {role} (event, document)")
