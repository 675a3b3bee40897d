"""The survey's theme coder: an editable Spanish taxonomy, automatic and manual coding, counts.

A theme ("inseguridad") has a name and synonyms: the words and phrases people write for it
("seguridad pública", "delincuencia", "robos"). Texts and synonyms are compared as sequences of
stems (`text.terms`: case and accents folded, plurals and common endings folded, stop words
out), so "Inseguridad", "la INSEGURIDAD en las calles" and "inseguridades" meet, and a
phrase matches only as consecutive content words ("calidad del aire" in "la mala calidad del
aire"). A synonym written with a leading "-" is an exception: where that phrase occurs, its
words do not count for the theme ("-metros cuadrados" keeps "9 metros cuadrados de áreas
verdes" out of movilidad, whose synonyms include "metro").

Counts are of respondents, not answers: a respondent who names water in three answers counts
once for agua. Spikes: see `counts_by_week`.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, insert, select

from ..models import Document
from ..provenance.models import ProvenanceLink
from ..provenance.text import STOPWORDS, fold, phrase_terms, stem
from .models import Answer, Coding, Respondent, Survey, SurveyQuestion, Theme


class TaxonomyError(ValueError):
    """A theme or coding request that cannot be carried out, with a message for the user."""


@dataclass(frozen=True)
class ThemeSpec:
    key: str
    name: str
    synonyms: tuple[str, ...]
    description: str = ""


#: The default taxonomy, from the case study's most frequent answers (insecurity, contamination,
#: corruption, traffic, culture; corruption, employment, mobility, water, education, poverty)
#: and the other concerns Mexico City's residents raise. Editable per document.
DEFAULT_THEMES: tuple[ThemeSpec, ...] = (
    ThemeSpec("agua", "Agua", (
        "agua", "agua potable", "falta de agua", "escasez de agua", "sin agua", "tandeo", "pipas de agua",
        "fugas de agua", "ríos", "río", "ríos vivos", "rescate de ríos", "lagos", "lago", "canales",
        "inundaciones", "inundación", "drenaje", "lluvia", "captación de lluvia", "acuífero", "hídrico",
    ), "Acceso al agua, su escasez y calidad; ríos, lagos e inundaciones."),
    ThemeSpec("inseguridad", "Inseguridad", (
        "inseguridad", "inseguro", "insegura", "seguridad", "seguridad pública", "seguridad ciudadana",
        "falta de seguridad", "seguro", "segura", "delincuencia", "delincuentes", "robo", "robos", "asalto",
        "asaltos", "asaltantes", "violencia", "crimen", "crimen organizado", "criminalidad", "narcotráfico",
        "narco", "narcomenudeo", "secuestros", "homicidios", "asesinatos", "extorsión", "policía",
        "-seguro social", "-seguridad social", "-estoy seguro", "-estoy segura",
    ), "Delincuencia, violencia y la seguridad de las personas en la calle y en casa."),
    ThemeSpec("contaminacion", "Contaminación", (
        "contaminación", "contaminado", "contaminada", "contaminantes", "contaminar", "smog", "esmog",
        "contingencia", "contingencia ambiental", "contingencias ambientales", "calidad del aire",
        "mala calidad del aire", "aire limpio", "aire sucio", "ozono", "emisiones", "hoy no circula",
        "medio ambiente", "ambiental", "ambientales", "ecología", "ecológico", "cambio climático",
        "respirar",
    ), "Contaminación del aire, del agua y del suelo; la crisis ambiental y el medio ambiente."),
    ThemeSpec("corrupcion", "Corrupción", (
        "corrupción", "corrupto", "corruptos", "corrupta", "corruptas", "mordida", "mordidas", "moches",
        "soborno", "sobornos", "impunidad", "transparencia", "rendición de cuentas", "mal gobierno",
        "malos gobernantes",
    ), "Corrupción e impunidad de autoridades y particulares; transparencia."),
    ThemeSpec("movilidad", "Movilidad", (
        "movilidad", "tráfico", "tránsito", "transporte", "transporte público", "metro", "metrobús",
        "microbuses", "peseros", "camiones", "embotellamientos", "congestionamiento", "vialidad", "vial",
        "caos vial", "bicicleta", "bici", "ciclovías", "ecobici", "banquetas", "peatones", "baches",
        "autos", "coches", "segundo piso",
        "-metros cuadrados", "-metro cuadrado",
    ), "Tráfico, transporte público, caminar y andar en bicicleta."),
    ThemeSpec("areas-verdes", "Áreas verdes", (
        "áreas verdes", "espacios verdes", "zonas verdes", "verde", "parques", "parque", "árboles",
        "arbolado", "jardines", "bosques", "bosque", "reforestación", "reforestar", "plantar árboles",
        "naturaleza", "vegetación",
    ), "Parques, árboles, bosques y espacios verdes."),
    ThemeSpec("cultura", "Cultura", (
        "cultura", "cultural", "culturales", "museos", "arte", "artes", "teatro", "música", "danza",
        "tradiciones", "historia", "histórico", "centro histórico", "patrimonio", "gastronomía", "comida",
        "bibliotecas", "cine", "festivales", "diversidad cultural",
        "-falta de comida",
    ), "Vida cultural, patrimonio, historia y tradiciones de la ciudad."),
    ThemeSpec("educacion", "Educación", (
        "educación", "educativa", "educativo", "educación de calidad", "escuelas", "escuela",
        "universidades", "universidad", "UNAM", "maestros", "profesores", "enseñanza", "estudiar",
        "estudios", "becas", "preparatorias", "aprender",
    ), "Escuelas y universidades, su calidad y su acceso."),
    ThemeSpec("empleo", "Empleo", (
        "empleo", "empleos", "desempleo", "desempleados", "trabajo", "trabajos", "falta de trabajo",
        "salario", "salarios", "salario mínimo", "sueldos", "economía", "oportunidades de trabajo",
        "oportunidades laborales", "informalidad",
    ), "Trabajo, desempleo, salarios y economía."),
    ThemeSpec("pobreza", "Pobreza", (
        "pobreza", "pobres", "marginación", "marginados", "hambre", "falta de comida", "indigencia",
        "situación de calle", "carencias", "necesidades básicas",
    ), "Pobreza, marginación y hambre."),
    ThemeSpec("desigualdad", "Desigualdad", (
        "desigualdad", "desigualdades", "discriminación", "exclusión", "inclusión", "incluyente",
        "equidad", "igualdad", "clasismo", "racismo",
    ), "Desigualdad social y discriminación."),
    ThemeSpec("vivienda", "Vivienda", (
        "vivienda", "viviendas", "vivienda digna", "renta", "rentas", "gentrificación", "inmobiliarias",
        "desarrollos inmobiliarios", "uso de suelo", "departamentos",
    ), "Acceso a la vivienda, rentas y desarrollo inmobiliario."),
    ThemeSpec("salud", "Salud", (
        "salud", "hospitales", "hospital", "médicos", "clínicas", "medicinas", "servicios de salud",
        "seguro social", "seguridad social", "enfermedades", "obesidad", "salud mental",
    ), "Servicios de salud, hospitales y medicinas."),
    ThemeSpec("basura", "Basura y limpieza", (
        "basura", "limpieza", "limpia", "limpias", "sucia", "sucias", "suciedad", "reciclaje", "reciclar",
        "residuos", "tiraderos", "separar la basura",
        "-aire limpio",
    ), "Basura, limpieza de calles y reciclaje."),
    ThemeSpec("sobrepoblacion", "Sobrepoblación", (
        "sobrepoblación", "mucha gente", "demasiada gente", "exceso de población", "crecimiento urbano",
        "hacinamiento", "densidad",
    ), "Demasiada gente, crecimiento desordenado."),
    ThemeSpec("participacion", "Participación ciudadana", (
        "participación", "participación ciudadana", "participar", "votar", "democracia", "ciudadanía",
        "organizarse", "organizarme", "organizarnos", "juntas vecinales", "comités vecinales", "asambleas vecinales",
        "comunidad", "civismo",
    ), "Que la gente participe, vote y se organice; democracia."),
    ThemeSpec("derechos", "Derechos y diversidad", (
        "derechos humanos", "diversidad sexual", "LGBT", "LGBTI", "LGBTTTI", "matrimonio igualitario",
        "igualdad de género", "violencia de género", "machismo", "feminicidios", "derechos de las mujeres",
        "mujeres", "personas trans",
    ), "Derechos humanos, igualdad de género y diversidad sexual."),
    ThemeSpec("animales", "Animales", (
        "animales", "derechos de los animales", "maltrato animal", "mascotas", "perros callejeros",
        "perros", "gatos",
    ), "Protección y bienestar de los animales."),
)

_SLUG = re.compile(r"[^a-z0-9]+")


def theme_key(name: str) -> str:
    """A theme's key from its name: "Áreas verdes" → "areas-verdes"."""
    return _SLUG.sub("-", fold(name)).strip("-")[:60]


def synonyms_of(theme: Theme) -> list[str]:
    try:
        value = json.loads(theme.synonyms or "[]")
    except ValueError:
        return []
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


def clean_synonyms(lines: Iterable[str]) -> list[str]:
    """Synonyms as an analyst typed them (one per line): trimmed, blanks and repeats out."""
    seen, out = set(), []
    for line in lines:
        value = " ".join(line.split())
        if value and value.lower() not in seen:
            seen.add(value.lower())
            out.append(value[:200])
    return out


def empty_synonyms(synonyms: Iterable[str]) -> list[str]:
    """The synonyms that have no content word (only stop words: "más", "de la") and so never match."""
    return [s for s in synonyms if not phrase_terms(s.lstrip("-"))]


# --- the compiled taxonomy and the coder ------------------------------------------------------


_Phrase = tuple[tuple[str, ...], str]


@dataclass(frozen=True)
class Taxonomy:
    """Themes compiled for fast matching: single stems and phrases indexed by their first stem."""

    keys: tuple[str, ...]
    single: dict[str, tuple[str, ...]]
    phrases: dict[str, tuple[_Phrase, ...]]
    exceptions: dict[str, tuple[_Phrase, ...]]


def compile_taxonomy(themes: Iterable[Theme | ThemeSpec]) -> Taxonomy:
    """Compile themes (rows or specs); a theme's name counts as one of its synonyms."""
    single: dict[str, set[str]] = defaultdict(set)
    phrases: dict[str, set[_Phrase]] = defaultdict(set)
    exceptions: dict[str, set[_Phrase]] = defaultdict(set)
    keys = []
    for theme in themes:
        key = theme.key
        keys.append(key)
        words = list(theme.synonyms) if isinstance(theme, ThemeSpec) else synonyms_of(theme)
        for synonym in [theme.name, *words]:
            excluded = synonym.startswith("-")
            stems = phrase_terms(synonym[1:] if excluded else synonym)
            if not stems:
                continue
            if excluded:
                exceptions[stems[0]].add((stems, key))
            elif len(stems) == 1:
                single[stems[0]].add(key)
            else:
                phrases[stems[0]].add((stems, key))
    return Taxonomy(
        keys=tuple(keys),
        single={s: tuple(sorted(k)) for s, k in single.items()},
        phrases={s: tuple(sorted(p)) for s, p in phrases.items()},
        exceptions={s: tuple(sorted(p)) for s, p in exceptions.items()},
    )


_stem = lru_cache(maxsize=200_000)(stem)


def _terms(text: str) -> list[str]:
    """`text.terms`, with each word's stem remembered (answers repeat the same few words)."""
    return [_stem(w) for w in fold(text).split() if w not in STOPWORDS and len(w) > 1]


def _at(tokens: Sequence[str], i: int, phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return i + n <= len(tokens) and tuple(tokens[i : i + n]) == phrase


def code_tokens(tokens: Sequence[str], taxonomy: Taxonomy) -> set[str]:
    masked: set[tuple[str, int]] = set()
    if taxonomy.exceptions:
        for i, token in enumerate(tokens):
            for phrase, key in taxonomy.exceptions.get(token, ()):
                if _at(tokens, i, phrase):
                    masked.update((key, j) for j in range(i, i + len(phrase)))
    found: set[str] = set()
    for i, token in enumerate(tokens):
        for key in taxonomy.single.get(token, ()):
            if (key, i) not in masked:
                found.add(key)
        for phrase, key in taxonomy.phrases.get(token, ()):
            if key not in found and _at(tokens, i, phrase) and not any(
                (key, j) in masked for j in range(i, i + len(phrase))
            ):
                found.add(key)
    return found


def code_text(text: str, taxonomy: Taxonomy) -> set[str]:
    """The keys of the themes `text` raises (empty when none)."""
    return code_tokens(_terms(text), taxonomy)


# --- the taxonomy in the database --------------------------------------------------------------


def themes_of(db, document: Document) -> list[Theme]:
    """The document's themes, in alphabetical order as a reader expects it ("Áreas" with the A's)."""
    themes = db.scalars(select(Theme).where(Theme.document_id == document.id).order_by(Theme.id))
    return sorted(themes, key=lambda t: (fold(t.name), t.id))


def load_taxonomy(db, document: Document) -> Taxonomy:
    return compile_taxonomy(themes_of(db, document))


def ensure_taxonomy(db, document: Document) -> list[Theme]:
    """The document's themes; the default taxonomy is created first when it has none (caller commits)."""
    themes = themes_of(db, document)
    if themes:
        return themes
    for spec in DEFAULT_THEMES:
        db.add(Theme(document_id=document.id, key=spec.key, name=spec.name,
                     synonyms=json.dumps(list(spec.synonyms), ensure_ascii=False), description=spec.description))
    db.flush()
    return themes_of(db, document)


def add_theme(db, document: Document, name: str, synonyms: Iterable[str] = (), description: str = "") -> Theme:
    name = " ".join((name or "").split())
    if not name:
        raise TaxonomyError("a theme needs a name")
    if len(name) > 120:
        raise TaxonomyError("a theme's name has at most 120 characters")
    key = theme_key(name)
    if not key:
        raise TaxonomyError(f"{name!r} has no letters or digits to make a key from")
    if db.scalar(select(Theme.id).where(Theme.document_id == document.id, Theme.key == key)):
        raise TaxonomyError(f"there is already a theme {key!r}")
    theme = Theme(document_id=document.id, key=key, name=name, description=description.strip(),
                  synonyms=json.dumps(clean_synonyms(synonyms), ensure_ascii=False))
    db.add(theme)
    db.flush()
    return theme


def update_theme(db, theme: Theme, name: str, synonyms: Iterable[str], description: str | None = None) -> Theme:
    """Rename a theme and replace its synonyms (its key, and so its links, stay)."""
    name = " ".join((name or "").split())
    if not name:
        raise TaxonomyError("a theme needs a name")
    if len(name) > 120:
        raise TaxonomyError("a theme's name has at most 120 characters")
    theme.name = name
    theme.synonyms = json.dumps(clean_synonyms(synonyms), ensure_ascii=False)
    if description is not None:
        theme.description = description.strip()
    db.flush()
    return theme


def delete_theme(db, theme: Theme) -> int:
    """Delete a theme, its codings and the links of units to it; returns how many links went."""
    links = db.execute(
        delete(ProvenanceLink).where(ProvenanceLink.source_kind == "theme", ProvenanceLink.source_id == theme.id)
    ).rowcount
    db.execute(delete(Coding).where(Coding.theme_id == theme.id))
    db.delete(theme)
    db.flush()
    return links or 0


# --- coding answers ------------------------------------------------------------------------------

CHUNK = 20_000


def _survey_answers(survey_id: int):
    return select(Answer.id).join(SurveyQuestion, SurveyQuestion.id == Answer.question_id).where(
        SurveyQuestion.survey_id == survey_id
    )


def code_survey(db, survey: Survey, taxonomy: Taxonomy | None = None) -> int:
    """Code every answer to the survey's coded questions; returns how many codings were written.

    Automatic codings are replaced; answers an analyst coded by hand are left as they are. The
    caller commits.
    """
    themes = themes_of(db, db.get(Document, survey.document_id))
    taxonomy = taxonomy or compile_taxonomy(themes)
    ids = {t.key: t.id for t in themes}
    db.execute(
        delete(Coding).where(Coding.source == "auto", Coding.answer_id.in_(_survey_answers(survey.id)))
    )
    rows = db.execute(
        select(Answer.id, Answer.text)
        .join(SurveyQuestion, SurveyQuestion.id == Answer.question_id)
        .where(SurveyQuestion.survey_id == survey.id, SurveyQuestion.coded.is_(True),
               Answer.coded_by_hand.is_(False))
    ).all()
    seen: dict[str, tuple[int, ...]] = {}
    batch: list[dict] = []
    written = 0
    for answer_id, text in rows:
        theme_ids = seen.get(text)
        if theme_ids is None:
            theme_ids = seen[text] = tuple(sorted(ids[k] for k in code_text(text, taxonomy) if k in ids))
        for theme_id in theme_ids:
            batch.append({"answer_id": answer_id, "theme_id": theme_id, "source": "auto", "coder_id": None})
        if len(batch) >= CHUNK:
            db.execute(insert(Coding.__table__), batch)
            written += len(batch)
            batch = []
    if batch:
        db.execute(insert(Coding.__table__), batch)
        written += len(batch)
    return written


def code_document(db, document: Document) -> int:
    """Re-code every survey of the document (after its taxonomy changed); the caller commits."""
    taxonomy = load_taxonomy(db, document)
    return sum(
        code_survey(db, survey, taxonomy)
        for survey in db.scalars(select(Survey).where(Survey.document_id == document.id).order_by(Survey.id))
    )


def answer_document_id(db, answer: Answer) -> int:
    return db.scalar(
        select(Survey.document_id)
        .join(SurveyQuestion, SurveyQuestion.survey_id == Survey.id)
        .where(SurveyQuestion.id == answer.question_id)
    )


def recode_answer(db, answer: Answer, theme_keys: Iterable[str], user=None) -> list[Theme]:
    """An analyst's coding of one answer: its themes become exactly `theme_keys` (possibly none),
    marked manual; the automatic coder leaves the answer alone from now on. The caller commits."""
    document_id = answer_document_id(db, answer)
    wanted = set(theme_keys)
    themes = list(db.scalars(select(Theme).where(Theme.document_id == document_id, Theme.key.in_(wanted))))
    unknown = wanted - {t.key for t in themes}
    if unknown:
        raise TaxonomyError(f"unknown theme(s): {', '.join(sorted(unknown))}")
    db.execute(delete(Coding).where(Coding.answer_id == answer.id))
    for theme in themes:
        db.add(Coding(answer_id=answer.id, theme_id=theme.id, source="manual", coder_id=getattr(user, "id", None)))
    answer.coded_by_hand = True
    db.flush()
    return sorted(themes, key=lambda t: t.name)


def release_answer(db, answer: Answer) -> list[Theme]:
    """Give an answer coded by hand back to the automatic coder (its manual codings go)."""
    document = db.get(Document, answer_document_id(db, answer))
    db.execute(delete(Coding).where(Coding.answer_id == answer.id))
    answer.coded_by_hand = False
    themes = {t.key: t for t in themes_of(db, document)}
    keys = code_text(answer.text, compile_taxonomy(themes.values()))
    for key in keys:
        db.add(Coding(answer_id=answer.id, theme_id=themes[key].id, source="auto"))
    db.flush()
    return sorted((themes[k] for k in keys), key=lambda t: t.name)


def themes_by_answer(db, answer_ids: Sequence[int]) -> dict[int, list[Theme]]:
    """The themes of each answer, by answer id (answers without a theme are absent)."""
    out: dict[int, list[Theme]] = defaultdict(list)
    if not answer_ids:
        return {}
    rows = db.execute(
        select(Coding.answer_id, Theme).join(Theme, Theme.id == Coding.theme_id)
        .where(Coding.answer_id.in_(list(answer_ids))).order_by(Theme.name)
    )
    for answer_id, theme in rows:
        out[answer_id].append(theme)
    return dict(out)


# --- counts ------------------------------------------------------------------------------------
#
# Counts come from one tally per request: the document's respondents (id, borough, day) and the
# distinct (respondent, theme) pairs of their codings, two plain queries that behave alike on
# SQLite and PostgreSQL, aggregated here. The overview page asks for all its counts at once
# (`overview`), so that it reads the pairs once.


@dataclass(frozen=True)
class ThemeCount:
    theme: Theme
    respondents: int  # respondents who raised the theme at least once
    share: float  # of all the document's respondents (0..1)


@dataclass(frozen=True)
class BoroughCount:
    borough: str  # "" when respondents did not say
    respondents: int
    themes: dict[str, int]  # theme key → respondents of this borough who raised it

    def share(self, key: str) -> float:
        return self.themes.get(key, 0) / self.respondents if self.respondents else 0.0


@dataclass(frozen=True)
class Spike:
    key: str
    week: date
    raised: int
    respondents: int
    share: float
    usual: float  # the theme's share in the other weeks


@dataclass(frozen=True)
class WeekCount:
    week: date  # the Monday that starts it
    respondents: int
    themes: dict[str, int]
    spikes: dict[str, Spike] = field(default_factory=dict)

    def share(self, key: str) -> float:
        return self.themes.get(key, 0) / self.respondents if self.respondents else 0.0


@dataclass
class _Tally:
    themes: list[Theme]
    #: respondent id → (borough, Monday of the week responded); restricted to those who
    #: answered `question_id` when counting one question
    respondents: dict[int, tuple[str, date]]
    pairs: list[tuple[int, int]]  # distinct (respondent id, theme id)
    channels: dict[str, int] = field(default_factory=dict)  # respondents per channel (web, kiosk…)


def _day_expr(db):
    column = Respondent.responded_at
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))  # the UTC day, whatever the session's zone
    return func.date(column)  # SQLite keeps the UTC wall time (survey.py converts before storing)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _respondent_ids(document: Document):
    return select(Respondent.id).join(Survey, Survey.id == Respondent.survey_id).where(
        Survey.document_id == document.id
    )


def _tally(db, document: Document, question_id: int | None = None, theme: Theme | None = None,
           survey_id: int | None = None, channel: str | None = None) -> _Tally:
    """The respondents counted (of one survey and one channel, when given) and their themes."""
    themes = themes_of(db, document)
    day = _day_expr(db)
    who = _respondent_ids(document)
    if survey_id is not None:
        who = who.where(Respondent.survey_id == survey_id)
    if channel is not None:
        who = who.where(Respondent.channel == channel)
    people = (
        select(Respondent.id, Respondent.borough, day, Respondent.channel)
        .join(Survey, Survey.id == Respondent.survey_id)
        .where(Survey.document_id == document.id)
    )
    if survey_id is not None:
        people = people.where(Respondent.survey_id == survey_id)
    if channel is not None:
        people = people.where(Respondent.channel == channel)
    if question_id is not None:
        people = people.where(Respondent.id.in_(select(Answer.respondent_id).where(Answer.question_id == question_id)))
    respondents = {}
    channels: dict[str, int] = defaultdict(int)
    for rid, borough, value, via in db.execute(people):
        respondents[rid] = (borough or "", _monday(_as_date(value)))
        channels[via] += 1
    pairs = (  # driven from the answers, in respondent order: much faster than from the codings
        select(Answer.respondent_id, Coding.theme_id)
        .select_from(Answer)
        .join(Coding, Coding.answer_id == Answer.id)
        .where(Answer.respondent_id.in_(who))
        .distinct()
    )
    if question_id is not None:
        pairs = pairs.where(Answer.question_id == question_id)
    if theme is not None:
        pairs = pairs.where(Coding.theme_id == theme.id)
    return _Tally(themes, respondents, [tuple(p) for p in db.execute(pairs)], dict(channels))


def _theme_counts(tally: _Tally) -> list[ThemeCount]:
    per: dict[int, int] = defaultdict(int)
    for _rid, theme_id in tally.pairs:
        per[theme_id] += 1
    total = len(tally.respondents)
    out = [ThemeCount(t, per.get(t.id, 0), per.get(t.id, 0) / total if total else 0.0) for t in tally.themes]
    out.sort(key=lambda c: (-c.respondents, fold(c.theme.name)))
    return out


def _by_borough(tally: _Tally) -> list[BoroughCount]:
    keys = {t.id: t.key for t in tally.themes}
    totals: dict[str, int] = defaultdict(int)
    for borough, _week in tally.respondents.values():
        totals[borough] += 1
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rid, theme_id in tally.pairs:
        place = tally.respondents.get(rid)
        if place is not None:
            per[place[0]][keys[theme_id]] += 1
    out = [BoroughCount(b, n, dict(per.get(b, {}))) for b, n in totals.items()]
    out.sort(key=lambda c: (-c.respondents, fold(c.borough)))
    return out


def _by_week(tally: _Tally) -> list[WeekCount]:
    keys = {t.id: t.key for t in tally.themes}
    totals: dict[date, int] = defaultdict(int)
    for _borough, week in tally.respondents.values():
        totals[week] += 1
    per: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    theme_total: dict[str, int] = defaultdict(int)
    for rid, theme_id in tally.pairs:
        place = tally.respondents.get(rid)
        if place is not None:
            per[place[1]][keys[theme_id]] += 1
            theme_total[keys[theme_id]] += 1
    grand_total = len(tally.respondents)
    out = []
    for week in sorted(totals):
        counts = dict(per.get(week, {}))
        spikes = {}
        for key, n in counts.items():
            flagged, usual = is_spike(n, totals[week], theme_total[key] - n, grand_total - totals[week])
            if flagged:
                spikes[key] = Spike(key, week, n, totals[week], n / totals[week], usual)
        out.append(WeekCount(week, totals[week], counts, spikes))
    return out


def total_respondents(db, document: Document) -> int:
    return db.scalar(
        select(func.count(Respondent.id)).join(Survey, Survey.id == Respondent.survey_id)
        .where(Survey.document_id == document.id)
    ) or 0


def theme_counts(db, document: Document, question_id: int | None = None) -> list[ThemeCount]:
    """Every theme of the document with the respondents who raised it (in any coded answer, or in
    their answer to one question) and their share of all respondents (of those who answered
    that question); most raised first."""
    themes = themes_of(db, document)
    if question_id is None:
        total = total_respondents(db, document)
    else:
        total = db.scalar(select(func.count(func.distinct(Answer.respondent_id))).where(
            Answer.question_id == question_id)) or 0
    stmt = (
        select(Coding.theme_id, func.count(func.distinct(Answer.respondent_id)))
        .select_from(Answer)
        .join(Coding, Coding.answer_id == Answer.id)
        .where(Answer.respondent_id.in_(_respondent_ids(document)))
        .group_by(Coding.theme_id)
    )
    if question_id is not None:
        stmt = stmt.where(Answer.question_id == question_id)
    per = dict(db.execute(stmt).all())
    out = [ThemeCount(t, per.get(t.id, 0), per.get(t.id, 0) / total if total else 0.0) for t in themes]
    out.sort(key=lambda c: (-c.respondents, fold(c.theme.name)))
    return out


def theme_respondents(db, theme: Theme) -> int:
    """How many respondents raised `theme` (each counted once however many answers raised it)."""
    return db.scalar(
        select(func.count(func.distinct(Answer.respondent_id)))
        .select_from(Coding).join(Answer, Answer.id == Coding.answer_id)
        .where(Coding.theme_id == theme.id)
    ) or 0


def counts_by_borough(db, document: Document, theme: Theme | None = None) -> list[BoroughCount]:
    """Respondents per borough and, per theme (or for `theme` only), those of them who raised it;
    the boroughs with most respondents first."""
    return _by_borough(_tally(db, document, theme=theme))


#: A week is flagged as a spike for a theme when, among that week's respondents, the share who
#: raised the theme is far above its usual share (among all the other weeks' respondents): at
#: least SPIKE_RATIO times it and SPIKE_POINTS more in absolute terms, and so unlikely by chance
#: (binomial upper tail at the usual share at most SPIKE_P), with at least SPIKE_MIN_RAISED
#: respondents raising it in a week of at least SPIKE_MIN_WEEK respondents. Shares rather than
#: raw counts, so that a week with many respondents (a campaign) is not a spike of every theme.
SPIKE_RATIO = 1.25
SPIKE_POINTS = 0.10
SPIKE_P = 1e-4
SPIKE_MIN_RAISED = 5
SPIKE_MIN_WEEK = 20


def binomial_tail(x: int, n: int, p: float) -> float:
    """P(X ≥ x) for X ~ Binomial(n, p), summed in log space (exact; n of a week is small)."""
    if x <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    return min(1.0, sum(
        math.exp(base - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
        for k in range(x, n + 1)
    ))


def is_spike(raised: int, respondents: int, other_raised: int, other_respondents: int) -> tuple[bool, float]:
    """(whether a week is a spike, the theme's usual share): see SPIKE_RATIO."""
    if other_respondents <= 0:
        return False, 0.0
    usual = other_raised / other_respondents
    if respondents < SPIKE_MIN_WEEK or raised < SPIKE_MIN_RAISED:
        return False, usual
    share = raised / respondents
    if share < usual * SPIKE_RATIO or share - usual < SPIKE_POINTS:
        return False, usual
    return binomial_tail(raised, respondents, usual) <= SPIKE_P, usual


def counts_by_week(db, document: Document, theme: Theme | None = None) -> list[WeekCount]:
    """Respondents per week (Monday to Sunday, by UTC date) and, per theme (or for `theme`
    only), those of them who raised it, oldest week first, with spikes flagged (SPIKE_RATIO)."""
    return _by_week(_tally(db, document, theme=theme))


@dataclass(frozen=True)
class Overview:
    respondents: int
    themes: list[ThemeCount]
    boroughs: list[BoroughCount]
    weeks: list[WeekCount]
    #: Respondents per channel (import, web, kiosk, tablet, paper).
    channels: dict[str, int] = field(default_factory=dict)

    @property
    def spikes(self) -> list[Spike]:
        return [s for w in self.weeks for s in w.spikes.values()]


def overview(db, document: Document, question_id: int | None = None, survey_id: int | None = None,
             channel: str | None = None) -> Overview:
    """All the counts of the analysts' page from one tally (optionally of one question, one
    survey, one channel)."""
    tally = _tally(db, document, question_id, survey_id=survey_id, channel=channel)
    return Overview(len(tally.respondents), _theme_counts(tally), _by_borough(tally), _by_week(tally),
                    tally.channels)
