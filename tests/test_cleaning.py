import pytest

from ethos import cleaning
from ethos.cleaning import MARK, clean, count_words


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("bon je reviens euh sur ce problème", "bon je reviens sur ce problème"),
        ("Heu, hum, ben oui.", "ben oui."),
        ("j’ai dit qu’on l’aurait", "j'ai dit qu'on l'aurait"),
        ("la\u00a0réunion\u202f: voilà", "la réunion : voilà"),
        ("[00:04:12] on a signé le CPOM", "on a signé le CPOM"),
        ("(00:12:45) alors voilà", "alors voilà"),
        ("c'était [rires] compliqué [silence] quoi", "c'était compliqué quoi"),
        ("et (rire) les familles (oui) nous appellent", "et les familles nous appellent"),
        ("il faut + attendre ++ encore +++ un peu", "il faut attendre encore un peu"),
        ("on a [pause] décidé (.) ensemble", "on a décidé ensemble"),
        ("les gamins [mm mm] rentrent {un autre locuteur dit mm} le soir", "les gamins rentrent le soir"),
        ("on était // on était là", "on était on était là"),
        ("les familles /migré, émigré/ arrivaient", "les familles migré arrivaient"),
        ("il a dit XXX et puis xxx voilà", "il a dit et puis voilà"),
        ("(inaudible) la direction [pi] a tranché", "la direction a tranché"),
        ("je pa- je partais -fin enfin mét~ métro", "je je partais enfin métro"),
        ("l' omelette et j' ai", "l'omelette et j'ai"),
        ("[rire-] c'est drôle [-rire]", "c'est drôle"),
        ("à NNAAMMEE avec NPERS", "à avec"),
        ("en ville. Euh, ça fait", "en ville. ça fait"),
        ("{Enq : d'accord} donc on continue", "donc on continue"),
        ("[?", "?"),
        # must not change
        ("Le taux d'occupation est à 97 %.", "Le taux d'occupation est à 97 %."),
        ("une auto-évaluation, un peut-être", "une auto-évaluation, un peut-être"),
        ("Hum-hum n'est pas humain, ni humble.", "Hum-hum n'est pas humain, ni humble."),
        ("Mme Xavier et le projet X-Or", "Mme Xavier et le projet X-Or"),
    ],
)
def test_clean(raw, expected):
    assert clean(raw) == expected


@pytest.mark.parametrize("step", cleaning.STEPS)
def test_each_step_leaves_plain_speech_alone(step):
    speech = "Les éducateurs voient les familles le mardi, et on en parle en réunion."
    assert step(speech) == speech


def test_clean_leaves_no_mark():
    raw = "[00:01:02] euh + (rire) [mm] {oui} XXX // /a, b/ (inaudible) heu ++ pa- fin"
    assert not MARK.search(clean(raw))


def test_count_words_counts_elided_words_once():
    assert count_words("l'équipe n'a pas vu qu'aujourd'hui c'est fini") == 7
