"""Durability: whatever another client has seen survives a kill -9 of the server."""

from __future__ import annotations

import re
import threading
import time

import pytest
from collab_client import CollabClient, YjsClient
from conftest import PUBLISHED, LiveServer
from test_collab import _first_p_text

MARKER = re.compile(r"\[(\d+)\]")


@pytest.mark.parametrize("kind", [CollabClient, YjsClient], ids=["collab", "yjs"])
def test_kill_9_mid_stream_loses_nothing_that_was_broadcast(instance, kind):
    server = LiveServer(instance).start()
    writer = kind(server.url, server.cookie("ana"), "writer").connect()
    observer = kind(server.url, server.cookie("bruno"), "observer").connect()
    writer.join(PUBLISHED)
    observer.join(PUBLISHED)

    stop = threading.Event()

    def stream():
        i = 0
        while not stop.is_set():
            try:
                marker = f"[{i}]"
                writer.edit(lambda body, m=marker: _first_p_text(writer, 2).insert(len(_first_p_text(writer, 2)), m))
            except Exception:  # noqa: BLE001 - the server went away under us
                return
            i += 1
            time.sleep(0.002)

    thread = threading.Thread(target=stream)
    thread.start()
    assert observer.wait_for(lambda c: len(MARKER.findall(str(_first_p_text(c, 2)))) >= 200, timeout=30)
    server.kill()  # SIGKILL while the writer is still streaming
    stop.set()
    thread.join(10)
    with observer.lock:
        seen = {int(m) for m in MARKER.findall(str(_first_p_text(observer, 2)))}
    writer.close()
    observer.close()
    assert len(seen) >= 200

    restarted = LiveServer(instance)
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        reader = kind(restarted.url, restarted.cookie("vera"), "reader").connect()
        reader.join(PUBLISHED)
        with reader.lock:
            restored = {int(m) for m in MARKER.findall(str(_first_p_text(reader, 2)))}
        reader.close()
        missing = seen - restored
        assert not missing, f"{len(missing)} broadcast updates lost, e.g. {sorted(missing)[:10]}"
        # and the text is still the text: markers in the order they were typed
        assert sorted(restored) == list(range(len(restored)))
    finally:
        restarted.stop()
