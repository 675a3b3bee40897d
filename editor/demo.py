"""Sample data for `constituent demo`: demo accounts and a short constitution written for this project."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from sqlalchemy import select

from . import services_of
from .accounts import add_user
from .documents import create_document, get_document
from .models import User

DEMO_PASSWORD = "constituyente-demo"
DEMO_SLUG = "constitucion-los-rios"
DEMO_ACCOUNTS = [
    ("admin@demo.constituent.mx", "admin", "Administración"),
    ("ana@demo.constituent.mx", "committee", "Ana Torres"),
    ("bruno@demo.constituent.mx", "committee", "Bruno Méndez"),
    ("visitante@demo.constituent.mx", "viewer", "Visitante"),
]
SAMPLE = Path(__file__).with_name("sample") / "constitucion-demo.xml"


def sample_body() -> etree._Element:
    from akoma_ntoso.safexml import parse_xml

    return parse_xml(SAMPLE.read_bytes())


def seed(app) -> tuple[list[tuple[str, str]], str]:
    """Create what is missing (idempotent): accounts and the published sample document."""
    services = services_of(app)
    db = services.db
    for email, role, name in DEMO_ACCOUNTS:
        if db.scalar(select(User).where(User.email == email)) is None:
            add_user(db, email, role, DEMO_PASSWORD, name)
    if get_document(db, DEMO_SLUG) is None:
        create_document(
            services,
            DEMO_SLUG,
            "Constitución Política de la Ciudad de Los Ríos (proyecto)",
            sample_body(),
            language="spa",
            published=True,
        )
    db.remove()
    return [(email, role) for email, role, _ in DEMO_ACCOUNTS], DEMO_SLUG
