"""`make demo` on its own: starts, serves the document list, and the demo accounts can sign in."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import requests
from conftest import ROOT, free_port, login


def test_make_demo_serves_the_document_list(tmp_path):
    port = free_port()
    env = {**os.environ, "CONSTITUENT_INSTANCE": str(tmp_path / "instance"), "PORT": str(port),
           "CONSTITUENT_DEMO_RESPONDENTS": "2000"}
    env.pop("SECRET_KEY", None)
    log = open(tmp_path / "demo.log", "wb")
    process = subprocess.Popen(["make", "--no-print-directory", "demo"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        page = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                page = requests.get(url + "/", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.25)
        assert page is not None and page.status_code == 200
        assert "Constitución Política de la Ciudad de Los Ríos" in page.text
        printed = (tmp_path / "demo.log").read_text()
        assert "ana@demo.constituent.mx" in printed and f"http://127.0.0.1:{port}/" in printed
        # The printed accounts work, and the editor page is reachable for a committee member.
        session = login(url, "ana@demo.constituent.mx", "constituyente-demo")
        editor = session.get(url + "/d/constitucion-los-rios/edit", timeout=10)
        assert 'data-role="editor"' in editor.text
        # The sample document comes with its provenance: petitions linked by their references,
        # a synthetic survey coded into themes, citizen events.
        article = requests.get(url + "/d/constitucion-los-rios/art_1", timeout=10).text
        assert "Agua suficiente y de calidad en todas las colonias" in article
        assert "Foro vecinal sobre el agua" in article and ">Agua</a>" in article
        themes = requests.get(url + "/d/constitucion-los-rios/themes", timeout=10).text
        assert "2,000" in themes or "2.000" in themes
        coverage = requests.get(url + "/d/constitucion-los-rios/coverage", timeout=10).text
        assert "Inseguridad" in coverage and "Licencias de maternidad" in coverage
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
