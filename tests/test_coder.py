"""The Spanish-aware theme coder: what it assigns to the ways people write, and the spike rule."""

from __future__ import annotations

import pytest

from editor.survey.coder import DEFAULT_THEMES, ThemeSpec, code_text, compile_taxonomy, is_spike
from editor.survey.service import CHALLENGES, CRISIS, GOVERNMENT, NEUTRAL, SELF, VISIONS, WORDS

TAXONOMY = compile_taxonomy(DEFAULT_THEMES)


@pytest.mark.parametrize("text", ["inseguridad", "Inseguridad", "la inseguridad en las calles", "seguridad pública",
                                  "INSEGURIDAD!!", "inseguridades", "Seguridad Publica"])
def test_the_ways_people_write_insecurity_are_coded_as_inseguridad(text):
    assert code_text(text, TAXONOMY) == {"inseguridad"}


@pytest.mark.parametrize("text", ["Me gusta el color azul", "", "   ", "12345", "ok", "mi familia y mis amigos",
                                  "Estoy seguro de que será mejor", "el vecino de enfrente", "Me gusta bailar los sábados",
                                  "nada"])
def test_unrelated_text_gets_no_theme(text):
    assert code_text(text, TAXONOMY) == set()


@pytest.mark.parametrize(("text", "expected"), [
    ("CONTAMINACIÓN", {"contaminacion"}),
    ("contaminacion", {"contaminacion"}),
    ("Áreas Verdes", {"areas-verdes"}),
    ("los parques y los árboles", {"areas-verdes"}),
    ("la mala calidad del aire", {"contaminacion"}),
    ("tráfico, smog y corrupción", {"movilidad", "contaminacion", "corrupcion"}),
    ("Que haya agua en todas las colonias", {"agua"}),
    ("Más policías y menos impunidad", {"inseguridad", "corrupcion"}),
    ("el seguro social", {"salud"}),  # an exception of inseguridad, a synonym of salud
    ("falta de comida", {"pobreza"}),  # not cultura's "comida"
])
def test_accents_capitals_plurals_and_phrases_fold(text, expected):
    assert code_text(text, TAXONOMY) == expected


def test_a_phrase_matches_only_with_its_words_together():
    assert "contaminacion" in code_text("la calidad del aire", TAXONOMY)
    assert "contaminacion" not in code_text("la calidad de la educación y del aire", TAXONOMY)


def test_an_exception_keeps_a_phrase_out_of_a_theme_without_blocking_the_rest():
    assert code_text("9 metros cuadrados de áreas verdes por persona", TAXONOMY) == {"areas-verdes"}
    assert code_text("el metro", TAXONOMY) == {"movilidad"}
    assert code_text("el metro y 9 metros cuadrados de parque", TAXONOMY) == {"movilidad", "areas-verdes"}


def test_an_edited_taxonomy_is_what_the_coder_uses():
    custom = compile_taxonomy([ThemeSpec("ruido", "Ruido", ("bocinas", "escándalo", "mucho ruido")),
                               ThemeSpec("agua", "Agua", ("ríos",))])
    assert code_text("Las BOCINAS de los microbuses", custom) == {"ruido"}
    assert code_text("Los rios", custom) == {"agua"}
    assert code_text("la inseguridad", custom) == set()  # not a theme any more


def test_every_synthetic_phrase_is_coded_to_the_theme_it_was_written_for():
    """The synthesizer's phrases are its ground truth: the coder must recover each one's theme,
    also without accents and in capitals; the neutral ones must get no theme."""
    banks = [WORDS, CHALLENGES, VISIONS, GOVERNMENT, SELF, {"contaminacion": CRISIS}]
    strip = str.maketrans("áéíóúÁÉÍÓÚ", "aeiouAEIOU")
    for bank in banks:
        for key, phrases in bank.items():
            for phrase in phrases:
                for variant in (phrase, phrase.translate(strip), phrase.upper()):
                    themes = code_text(variant, TAXONOMY)
                    if key == NEUTRAL:
                        assert themes == set(), (variant, themes)
                    else:
                        assert key in themes, (variant, key, themes)


def test_the_spike_rule_flags_far_above_usual_weeks_only():
    assert is_spike(93, 100, 5_700, 10_000)[0]  # 93 % in a week, 57 % usually
    assert not is_spike(62, 100, 5_700, 10_000)[0]  # ordinary variation
    assert not is_spike(19, 19, 5_700, 10_000)[0]  # too few respondents that week
    assert not is_spike(4, 40, 100, 10_000)[0]  # 10 % vs 1 %: too few respondents raising it
    assert is_spike(12, 40, 100, 10_000)[0]  # 30 % vs 1 %
    flagged, usual = is_spike(93, 100, 5_700, 10_000)
    assert usual == pytest.approx(0.57)
