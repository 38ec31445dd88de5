"""Stance features: what a speaker does with words (negation, reported discourse, critique, lexicons)."""

import io

import joblib
import numpy as np
import pytest
from sklearn.base import clone

from ethos.nlp import lemma_session, session_lemmas
from ethos.stance import (AFTER_BUT_MANAGEMENT, ENUNCIATION_NAMES, GRAMMAR, MANAGEMENT_CRITICISED, MANAGEMENT_PLAIN, MANAGEMENT_PRAISED,
                          MANAGEMENT_REPORTED, NO_SECTOR_WORD, VALUES_SUBORDINATED, family, marked_word, stance_marks)
from ethos.transformers import StanceFeatures


def marks(text: str) -> dict:
    with lemma_session(None):
        return dict(stance_marks(session_lemmas([text])[0]))


def test_negation_marks_the_words_of_its_clause_only():
    found = marks("Je ne crois pas que ce soit rentable, et les équipes le savent.")
    assert found["NÉG: rentable"] == 1 and found["NÉG: croire"] == 1
    assert not any(name.startswith("NÉG: ") and name.endswith("savoir") for name in found)


def test_reported_discourse_is_someone_elses_words():
    found = marks("Le siège nous explique qu'il faut mutualiser les fonctions support.")
    assert found["discours rapporté: mutualiser"] == 1
    assert found[MANAGEMENT_REPORTED] >= 1
    own = marks("Moi je dis qu'il faut mutualiser les fonctions support.")
    assert not any(name.startswith("discours rapporté") for name in own)
    quoted = marks("Ils appellent ça « l'efficience », voilà.")
    assert quoted["discours rapporté: efficience"] == 1


def test_critique_frames_turn_management_words_around():
    critical = marks("On nous impose des indicateurs au détriment du temps passé avec les jeunes.")
    assert critical["critique: indicateur"] == 1 and critical[MANAGEMENT_CRITICISED] >= 1
    assert critical[ENUNCIATION_NAMES["on nous"]] == 1
    convinced = marks("Le tableau de bord est un outil efficace, il nous permet de piloter.")
    assert convinced[MANAGEMENT_PRAISED] >= 1 and MANAGEMENT_CRITICISED not in convinced
    plain = marks("Le budget est voté en décembre par le conseil d'administration.")
    assert plain[MANAGEMENT_PLAIN] >= 1 and MANAGEMENT_CRITICISED not in plain


def test_values_placed_before_a_but_about_management():
    found = marks("Les valeurs, oui, on y tient. Mais une association qui n'est pas à l'équilibre budgétaire ne protège plus personne.")
    assert found[AFTER_BUT_MANAGEMENT] >= 1 and found[VALUES_SUBORDINATED] == 1


def test_a_digression_has_no_word_of_the_sector():
    assert marks("Le dimanche on allait à la plage avec ma grand-mère, on mangeait des glaces.")[NO_SECTOR_WORD] == 1
    assert NO_SECTOR_WORD not in marks("Les éducateurs passent leurs soirées avec les jeunes du foyer.")


def test_first_person_and_impersonal_enunciation():
    found = marks("Je pense qu'il faut changer. Il faut piloter.")
    assert found[ENUNCIATION_NAMES["je"]] == 1 and found[ENUNCIATION_NAMES["il faut"]] == 2


def test_marked_word_names_the_lemma_of_a_scope_feature():
    assert marked_word("NÉG: rentable") == "rentable"
    assert marked_word("discours rapporté: efficience") == "efficience"
    assert marked_word(MANAGEMENT_CRITICISED) is None


def test_grammar_words_are_reported_by_family():
    grammar = frozenset({"je", "ce", "être", "nous", "on", "ne", "pas"})
    assert family("je être", grammar) == "je, me, moi, mon (première personne)"
    assert family("ne pas", grammar) == "négation (ne, pas, jamais)"
    assert family("ce être", grammar) == GRAMMAR
    assert family("on nous", grammar) == GRAMMAR  # two families: plain grammar
    assert family("indicateur", grammar) is None and family("je piloter", grammar) is None


TEXTS = [
    "On nous impose des indicateurs au détriment du temps passé avec les jeunes.",
    "Le tableau de bord est un outil efficace, il nous permet de piloter.",
    "Je ne crois pas que ce soit rentable.",
    "Le dimanche on allait à la plage avec ma grand-mère.",
    "Le siège nous explique qu'il faut mutualiser.",
    "Les indicateurs, on les remplit, mais au détriment des jeunes.",
]


def test_the_transformer_is_an_honest_estimator():
    with lemma_session(None):
        tokens = session_lemmas(TEXTS)
        step = StanceFeatures(weight=0.5, min_df=2)
        assert step.fit(tokens) is step
        matrix = step.transform(tokens)
        assert matrix.shape == (len(TEXTS), len(step.vocabulary_)) == (len(TEXTS), len(step.get_feature_names_out()))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
        assert np.allclose(norms[norms > 0], 0.5)
        assert all(name in step.vocabulary_ for name in ("lexique: gestion", "gestion critiquée"))
        assert "NÉG: rentable" not in step.vocabulary_  # seen once: left out
        again = clone(step)
        assert again.get_params() == step.get_params() and not hasattr(again, "vocabulary_")
        buffer = io.BytesIO()
        joblib.dump(step, buffer)
        buffer.seek(0)
        assert (joblib.load(buffer).transform(tokens) != matrix).nnz == 0
        without_words = StanceFeatures(scoped_words=False, min_df=1).fit(tokens)
        assert not any(marked_word(name) for name in without_words.vocabulary_)


def test_no_stance_feature_names_a_number():
    """« neuves » is lemmatised « neuf »: as a feature it would read as a number (nine), which models never hold."""
    with lemma_session(None):
        tokens = session_lemmas(["On a signé le CPOM avec l'ARS et on a ouvert des chambres. Les chambres sont neuves."] * 2)
        vocabulary = StanceFeatures(min_df=1).fit(tokens).vocabulary_
    assert any(marked_word(name) == "chambre" for name in vocabulary)
    assert not any(marked_word(name) == "neuf" for name in vocabulary)


@pytest.mark.parametrize("text", ["", "Oui.", "+ + XXX"])
def test_passages_without_words(text):
    with lemma_session(None):
        tokens = session_lemmas([text, TEXTS[0], TEXTS[0]])
        matrix = StanceFeatures().fit(tokens).transform(tokens)
    assert np.isfinite(matrix.toarray()).all()


UNPUNCTUATED = ("le tableau de bord on le regarde tous les lundis avec les indicateurs de la semaine et les taux "
                "les équipes passent des heures devant l'écran au lieu d'être avec les jeunes du foyer "
                "franchement c'est absurde et personne au siège ne veut l'entendre quand on le dit aux réunions")


def test_an_unpunctuated_passage_is_read_in_pseudo_sentences():
    # read as one sentence of forty words, the indicators would meet « au lieu de » and « absurde »
    found = marks(UNPUNCTUATED)
    assert found[MANAGEMENT_PLAIN] == 3 and MANAGEMENT_CRITICISED not in found
    assert "critique: indicateur" not in found and "critique: écran" in found  # « au lieu de » frames its own part only
    # punctuated, the same speech is read sentence by sentence as before
    punctuated = marks("Le tableau de bord, on le regarde tous les lundis. C’est absurde.")
    assert punctuated[MANAGEMENT_PLAIN] >= 1 and MANAGEMENT_CRITICISED not in punctuated


@pytest.mark.parametrize("filler", ["ben", "hein", "enfin", "bon"])
def test_fillers_move_no_pseudo_sentence_boundary(filler):
    from ethos.text import pseudo_sentence_starts

    words = [(w, w not in ("le", "de", "on", "les", "et", "la", "au", "du", "l'", "d'")) for w in UNPUNCTUATED.split()]
    starts = pseudo_sentence_starts(words)
    assert len(starts) >= 3 and starts[0] == 0
    with_filler = words[:5] + [(filler, True)] + words[5:]
    assert pseudo_sentence_starts(with_filler) == [s + (s > 5) for s in starts]
    assert pseudo_sentence_starts(words[:10]) == [0]  # short: one sentence
    assert pseudo_sentence_starts([("Bon", True), (".", False)] + words) == [0]  # punctuated: its sentences
