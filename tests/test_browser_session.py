"""The public view of a sitting in real Chromium: the chair runs the sitting from its page while
an anonymous reader follows it; the reader sees the item under debate with its redline, then,
once the chair closes the vote, the result, the roll call, the change highlighted in the live text
and the announcement in the aria-live region — without reloading (the server pushes a small stamp
to the page's listening WebSocket when the sitting changes, and the page swaps in the live part;
it polls the stamp only when it cannot listen)."""

from __future__ import annotations

import re
import shutil

import pytest
import requests
from conftest import ACCOUNTS, PASSWORD, PUBLISHED, LiveServer, login
from playwright.sync_api import expect
from test_amendments import ANIMALS, assembly_template  # noqa: F401 - the instance in the assembly stage

pytestmark = pytest.mark.browser


class Client:
    """A signed-in HTTP session with its CSRF token, speaking English."""

    def __init__(self, server, who: str) -> None:
        self.url = server.url
        self.session = login(server.url, ACCOUNTS[who][0], PASSWORD)
        self.session.headers["Accept-Language"] = "en"
        page = self.session.get(f"{server.url}/d/{PUBLISHED}/amendments", timeout=10).text
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def send(self, method: str, path: str, body: dict) -> requests.Response:
        return self.session.request(method, f"{self.url}/api/v1/documents/{PUBLISHED}{path}", json=body,
                                    headers={"X-CSRFToken": self.token}, timeout=30)


@pytest.fixture
def sitting_server(assembly_template, tmp_path):  # noqa: F811 - the fixture imported above
    target = tmp_path / "instance"
    shutil.copytree(assembly_template, target)
    live = LiveServer(target).start()
    yield live
    live.stop()


def test_an_anonymous_reader_follows_the_sitting_live(sitting_server, browser):
    server = sitting_server
    asa, abel, admin = Client(server, "asa"), Client(server, "abel"), Client(server, "admin")
    made = asa.send("POST", "/amendments", {"kind": "substitution", "units": [ANIMALS], "table": True,
                                            "text": "Los animales son seres sintientes y tienen derechos."})
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    rules = admin.send("PUT", "/assembly", {"quorum": {"kind": "count", "count": 2}, "majority": "simple"})
    assert rules.status_code == 200, rules.text
    assert {m["name"] for m in rules.json()["members"]} == {"Asa", "Abel"}
    assert admin.send("POST", "/sittings", {"day": "2016-09-15", "title": "Primera sesión"}).status_code == 201

    # The chair runs the sitting from its page.
    chair_context = browser.new_context(locale="en-GB")
    chair_context.add_cookies([{"name": c.name, "value": c.value, "url": server.url} for c in admin.session.cookies])
    chair = chair_context.new_page()
    chair.set_default_timeout(15_000)
    chair.goto(f"{server.url}/d/{PUBLISHED}/sittings/1/chair")
    chair.locator("button[data-action=open]").click()
    expect(chair.locator("#sitting-state")).to_have_attribute("data-state", "open")
    chair.locator("#attendance-form input[name=present]").first.check()
    chair.locator("#attendance-form button[type=submit]").click()
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "1")
    chair.locator("button[data-action=agenda]").click()
    chair.locator(f"button[data-action=start][data-amendment='{number}']").click()
    chair.locator(f"button[data-action=open_vote][data-amendment='{number}']").click()
    expect(chair.locator("#chair-problem")).to_contain_text("quorum")  # one present of two needed
    for box in chair.locator("#attendance-form input[name=present]").all():
        box.check()
    chair.locator("#attendance-form button[type=submit]").click()
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "2")
    chair.locator(f"button[data-action=open_vote][data-amendment='{number}']").click()
    expect(chair.locator(f"#voting-list li[data-amendment='{number}']")).to_have_attribute("data-item-state",
                                                                                           "voting")

    # An anonymous reader opens the public view: the item and its redline.
    reader_context = browser.new_context(locale="es-MX")
    reader = reader_context.new_page()
    reader.set_default_timeout(15_000)
    errors: list[str] = []
    reader.on("pageerror", lambda e: errors.append(str(e)))
    asked: list[str] = []  # what the reader's page asks the server for, after the page itself
    reader.on("request", lambda r: asked.append(r.url))
    listening: list[str] = []
    reader.on("websocket", lambda ws: listening.append(ws.url))
    reader.goto(f"{server.url}/d/{PUBLISHED}/sesion/1")
    expect(reader.locator("#current-item")).to_have_attribute("data-amendment", str(number))
    expect(reader.locator("#current-item .redline ins")).to_contain_text("y tienen derechos")
    expect(reader.locator("#last-result")).to_have_count(0)

    assert asa.send("POST", f"/amendments/{number}/votes", {"choice": "for"}).status_code == 201
    assert abel.send("POST", f"/amendments/{number}/votes", {"choice": "abstain"}).status_code == 201
    chair.locator(f"button[data-action=close_vote][data-amendment='{number}']").click()
    expect(chair.locator(f"#voting-list li[data-amendment='{number}']")).to_have_attribute(
        "data-amendment-state", "adopted")

    # Without reloading, the reader sees the result, the roll call, the change and the announcement.
    result = reader.locator("#last-result")
    expect(result).to_have_attribute("data-adopted", "1")
    expect(result).to_have_attribute("data-for", "1")
    expect(result).to_have_attribute("data-abstain", "1")
    expect(result.locator(".roll-call")).to_contain_text("Asa")
    expect(result.locator(".roll-call")).to_contain_text("Abel")
    changed = reader.locator(f"#live-text .session-unit[data-guid='{ANIMALS}']")
    expect(changed).to_have_attribute("data-changed", "1")
    expect(changed.locator("ins")).to_contain_text("y tienen derechos")
    expect(reader.locator("#session-announcer")).to_have_attribute("aria-live", "polite")
    expect(reader.locator("#session-announcer")).to_contain_text(re.compile(rf"\b{number}\b.*Artículo 3"))
    expect(reader.locator("#current-item")).not_to_have_attribute("data-amendment", str(number))

    # The chair closes the sitting: its text is published as a version, and the reader is told.
    chair.locator("button[data-action=close]").click()
    expect(chair.locator("#sitting-state")).to_have_attribute("data-state", "closed")
    expect(reader.locator("#sitting-closed")).to_be_visible()
    versions = requests.get(f"{server.url}/api/v1/documents/{PUBLISHED}/sittings/1", timeout=10).json()
    assert versions["state"] == "closed" and versions["version"]
    detail = requests.get(f"{server.url}/d/{PUBLISHED}/amendments/{number}", timeout=10).text
    assert 'data-sitting="1"' in detail and f"/d/{PUBLISHED}/sesion/1" in detail
    assert errors == []
    # It followed by listening: one WebSocket, and never a poll of the stamp.
    assert listening == [f"{server.url.replace('http://', 'ws://', 1)}/d/{PUBLISHED}/sesion/1/listen"]
    assert not [url for url in asked if url.endswith("/estado")]
    chair_context.close()
    reader_context.close()


def test_a_reader_whose_network_refuses_websockets_follows_the_sitting_by_polling(sitting_server, browser):
    server = sitting_server
    asa, admin = Client(server, "asa"), Client(server, "admin")
    made = asa.send("POST", "/amendments", {"kind": "substitution", "units": [ANIMALS], "table": True,
                                            "text": "Los animales son seres sintientes y tienen derechos."})
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    assert admin.send("PUT", "/assembly", {"quorum": {"kind": "count", "count": 1}, "majority": "simple"}).status_code == 200
    assert admin.send("POST", "/sittings", {"day": "2016-09-15", "title": "Primera sesión"}).status_code == 201
    assert admin.send("POST", "/sittings/1/actions", {"action": "open"}).status_code == 200

    context = browser.new_context(locale="es-MX")
    reader = context.new_page()
    reader.set_default_timeout(15_000)
    # A proxy on the way that refuses WebSockets: every attempt is closed at once.
    refused: list[str] = []

    def refuse(ws) -> None:
        refused.append(ws.url)
        ws.close()

    reader.route_web_socket(re.compile(r".*/listen$"), refuse)
    asked: list[str] = []
    reader.on("request", lambda r: asked.append(r.url))
    reader.goto(f"{server.url}/d/{PUBLISHED}/sesion/1")
    expect(reader.locator("#current-item")).not_to_have_attribute("data-amendment", str(number))

    assert admin.send("POST", "/sittings/1/agenda", {"amendments": [number]}).status_code == 200
    assert admin.send("POST", "/sittings/1/actions", {"action": "start", "amendment": number}).status_code == 200
    # Told all the same, by asking the stamp.
    expect(reader.locator("#current-item")).to_have_attribute("data-amendment", str(number))
    expect(reader.locator("#current-item .redline ins")).to_contain_text("y tienen derechos")
    assert refused and any(url.endswith("/estado") for url in asked)
    context.close()
