"""Sample data for `constituent demo`: demo accounts and a short constitution written for this project."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from akoma_ntoso import iter_units
from akoma_ntoso.safexml import parse_xml

from . import clock
from .accounts import add_user
from .documents import create_document, get_document
from .livetext import read_live
from .models import User
from .petitions.service import import_petitions
from .provenance.links import create_link
from .provenance.models import CitizenEvent
from .services import services_of
from .stages.current import stored_stages
from .survey.coder import code_survey, ensure_taxonomy
from .survey.demo_survey import synthesize_demo_survey
from .survey.models import Theme

DEMO_PASSWORD = "constituyente-demo"
DEMO_SLUG = "constitucion-los-rios"
DEMO_ACCOUNTS = [
    ("admin@demo.constituent.mx", "admin", "Administración"),
    ("ana@demo.constituent.mx", "committee", "Ana Torres"),
    ("bruno@demo.constituent.mx", "committee", "Bruno Méndez"),
    ("lucia@demo.constituent.mx", "legal", "Lucía Herrera"),
    ("asamblea@demo.constituent.mx", "assembly", "Diputada Rosa Vidal"),
    ("asamblea2@demo.constituent.mx", "assembly", "Diputado Omar Ruiz"),
    ("voluntaria@demo.constituent.mx", "volunteer", "Marta Quiroz (voluntaria)"),
    ("visitante@demo.constituent.mx", "viewer", "Visitante"),
]
SAMPLE = Path(__file__).with_name("sample") / "constitucion-demo.xml"
SAMPLE_PETITIONS = Path(__file__).with_name("sample") / "peticiones-demo.json"
#: The size of the case study's survey; `CONSTITUENT_DEMO_RESPONDENTS` makes it smaller.
DEMO_RESPONDENTS = 26_000

#: Survey themes the sample text addresses (theme key → eIds), linked when the demo is created.
#: "inseguridad" and "contaminacion", the most raised, are deliberately left for the coverage page.
SAMPLE_THEME_LINKS = {
    "agua": ("art_1",),
    "areas-verdes": ("art_2",),
    "movilidad": ("art_3", "art_3_Bis"),
    "animales": ("art_4",),
    "corrupcion": ("art_6",),
    "participacion": ("art_7",),
}
SAMPLE_EVENTS = (
    {
        "title": "Foro vecinal sobre el agua en el oriente de la ciudad",
        "held_on": date(2016, 4, 9),
        "place": "Casa de Cultura de Las Acequias",
        "organiser": "Comités vecinales del oriente",
        "participants": 180,
        "conclusions": "El tandeo deja a colonias enteras sin agua varios días por semana.\n"
                       "Pedimos que la constitución garantice el suministro diario y que la gestión del agua siga siendo pública.",
        "links": (("art_1__para_A", "motivated"), ("art_1__para_B", "motivated")),
    },
    {
        "title": "Mesa de jóvenes sobre gobierno abierto",
        "held_on": date(2016, 5, 14),
        "place": "Universidad de Los Ríos",
        "organiser": "Consejo de la Juventud",
        "participants": 64,
        "conclusions": "Los datos públicos deben publicarse en formatos abiertos y reutilizables.\n"
                       "Las consultas ciudadanas deben ser vinculantes cuando participe al menos el diez por ciento del padrón.",
        "links": (("art_6", "motivated"), ("art_7", "related")),
    },
)


def sample_body() -> etree._Element:

    return parse_xml(SAMPLE.read_bytes())


def seed_provenance(services, document, respondents: int | None = None) -> list[str]:
    """Sample petitions (with signatures over time, linked by their references), a synthetic
    survey coded into themes, two citizen events, and the links of themes and events.

    The survey is the project's own questionnaire, open for answers, with synthetic answers over
    the project's sample neighbourhoods: nothing outside the checkout is needed."""

    db = services.db
    units = read_live(services, document.slug).units
    by_eid = {u.eid: u for u in iter_units(units)}
    import_petitions(db, document, SAMPLE_PETITIONS.read_bytes(), "json", units=units)
    ensure_taxonomy(db, document)
    if respondents is None:
        respondents = DEMO_RESPONDENTS
    notes: list[str] = []
    code_survey(db, synthesize_demo_survey(db, document, respondents=respondents))
    themes = {t.key: t for t in db.scalars(select(Theme).where(Theme.document_id == document.id))}
    for key, eids in SAMPLE_THEME_LINKS.items():
        for eid in eids:
            if key in themes and eid in by_eid:
                create_link(db, document, units, by_eid[eid].guid, "theme", themes[key].id, "addresses", origin="import")
    for spec in SAMPLE_EVENTS:
        fields = {k: v for k, v in spec.items() if k != "links"}
        event = CitizenEvent(document_id=document.id, **fields)
        db.add(event)
        db.flush()
        for eid, relation in spec["links"]:
            create_link(db, document, units, by_eid[eid].guid, "event", event.id, relation, origin="import")
    db.commit()
    return notes


#: The demo's calendar, in days from the day it is created: (planned start, planned end) of each
#: stage in order (drafting, legal review, consultation, assembly, approved, published).
DEMO_PLAN = ((-30, 20), (21, 35), (36, 65), (66, 125), (126, 140), (141, 141))


def plan_stages(db, document) -> None:
    """Planned dates for the demo document's stages, so that its process page shows a calendar
    and a next deadline."""
    today = clock.now().date()
    stages = stored_stages(db, document)
    for stage, (start, end) in zip(stages, DEMO_PLAN, strict=False):
        stage.planned_start, stage.planned_end = today + timedelta(days=start), today + timedelta(days=end)
    db.commit()


def seed(app) -> tuple[list[tuple[str, str]], str, list[str]]:
    """Create what is missing (idempotent): accounts and the published sample document."""
    services = services_of(app)
    db = services.db
    for email, role, name in DEMO_ACCOUNTS:
        if db.scalar(select(User).where(User.email == email)) is None:
            add_user(db, email, role, DEMO_PASSWORD, name)
    if get_document(db, DEMO_SLUG) is None:
        document = create_document(
            services,
            DEMO_SLUG,
            "Constitución Política de la Ciudad de Los Ríos (proyecto)",
            sample_body(),
            language="spa",
            published=True,
        )
        notes = seed_provenance(services, document, respondents=app.config["DEMO_RESPONDENTS"])
        plan_stages(db, document)
    else:
        notes = []
    db.remove()
    return [(email, role) for email, role, _ in DEMO_ACCOUNTS], DEMO_SLUG, notes
