"""A seeded instance that looks like the real thing, for tests that walk the public site
(accessibility, open data, both languages): the test accounts and documents of conftest, plus
the demo constitution "Los Ríos" with its sample petitions (signatures over time, thresholds
crossed), a small synthetic survey coded into themes, citizen events and their links.

Load them in a test module with `pytest_plugins = ("demo_site",)`.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import LiveServer

from editor.demo import DEMO_SLUG

#: Respondents of the demo's synthetic survey here (the demo itself has 26,000): enough for
#: every theme to have answers, small enough to build in a few seconds.
RESPONDENTS = 400


def seed_demo_document(instance) -> list[str]:
    """Add the demo constitution, published, with its provenance, to an instance folder."""
    from editor import create_app
    from editor.demo import sample_body, seed_provenance
    from editor.documents import create_document

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    try:
        with app.app_context():
            document = create_document(services, DEMO_SLUG, "Constitución Política de la Ciudad de Los Ríos (proyecto)",
                                       sample_body(), language="spa", published=True)
            return seed_provenance(services, document, respondents=RESPONDENTS)
    finally:
        services.db.remove()
        services.rooms.close_all()
        services.engine.dispose()


@pytest.fixture(scope="session")
def demo_template(seeded_template, tmp_path_factory):
    instance = tmp_path_factory.mktemp("demo-instance")
    shutil.copytree(seeded_template, instance, dirs_exist_ok=True)
    seed_demo_document(instance)
    return instance


@pytest.fixture(scope="module")
def demo_server(demo_template, tmp_path_factory):
    """One server over a private copy of the demo instance for a whole test module (the tests
    that use it only read)."""
    instance = tmp_path_factory.mktemp("demo-live")
    shutil.copytree(demo_template, instance, dirs_exist_ok=True)
    live = LiveServer(instance).start()
    yield live
    live.stop()
