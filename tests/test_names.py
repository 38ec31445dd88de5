"""Finding names to mask in reports: proper nouns, capitals inside a sentence, speakers, titles."""

import pytest

from ethos.names import label_words, marked_names, name_pattern, name_spans, name_words, titled_names
from ethos.nlp import Token


def tokens(*spec):
    """Tokens from ``"text/POS"`` strings (``*`` after POS for a stop word)."""
    out, position = [], 0
    for item in spec:
        text, pos = item.rsplit("/", 1)
        out.append(Token(text, text.lower(), pos.rstrip("*"), pos.endswith("*"), position))
        position += len(text) + 1
    return out


@pytest.mark.parametrize("spec, expected", [
    # a proper noun, inside a sentence or at its start
    (["on/PRON*", "a/AUX*", "eu/VERB", "Dylan/PROPN", ",/PUNCT"], {"Dylan"}),
    (["Sofiane/PROPN", "est/AUX*", "parti/VERB"], {"Sofiane"}),
    # a capital inside a sentence, whatever the tagger says
    (["à/ADP*", "Saint-Étienne/NOUN", "et/CCONJ*", "à/ADP*", "Feurs/ADJ"], {"Saint-Étienne", "Feurs"}),
    # at the start of a sentence: no function word, no word of spoken French, no word also seen in lower case
    (["Alors/PROPN*", ",/PUNCT", "on/PRON*", "avance/VERB"], set()),
    (["Bon/PROPN", ",/PUNCT", "ça/PRON*", "tourne/VERB", "./PUNCT", "Ben/PROPN", "oui/ADV"], set()),
    (["Pierre/PROPN", "fait/VERB", "./PUNCT", "la/DET*", "pierre/NOUN"], set()),
    (["Pierre/PROPN", "fait/VERB", "./PUNCT", "Bon/PROPN", "./PUNCT"], {"Pierre"}),
    # one letter is no name (« de A à Z »)
    (["de/ADP*", "A/NOUN", "à/ADP*", "Z/NOUN"], set()),
    # nor the particle of a name, which starts sentences too (« Le groupe des ados »)
    (["avec/ADP*", "Mme/NOUN", "Le/DET*", "Goff/PROPN", "et/CCONJ*", "De/ADP*", "Smet/PROPN"], {"Goff", "Smet"}),
    # an ordinary capital at the start of a sentence, after a colon or a quotation mark
    (["Ensuite/ADV", "j'/PRON*", "ai/AUX*", "fait/VERB", ":/PUNCT", "Ça/PRON*", "va/VERB", "«/PUNCT", "Tu/PRON*"], set()),
    # acronyms, titles and numbers are not names (the title's name is)
    (["l'/DET*", "ASE/PROPN", "et/CCONJ*", "le/DET*", "CPOM/NOUN", "de/ADP*", "Mme/NOUN", "Roux/PROPN", "Trente-six/NUM"], {"Roux"}),
    (["bonjour/INTJ", "Madame/NOUN", "Lemaire/PROPN", ",/PUNCT", "merci/INTJ", "Docteur/NOUN"], {"Lemaire"}),
    # lower-case words are names when the tagger always calls them so, or after a title
    (["la/DET*", "pierre/NOUN", "et/CCONJ*", "pierre/PROPN"], set()),
    (["dans/ADP*", "le/DET*", "placard/NOUN", ",/PUNCT", "la/DET*", "clé/PROPN", "est/AUX*", "là/ADV*"], set()),
    (["j'/PRON*", "ai/AUX*", "vu/VERB", "sylvie/PROPN", ",/PUNCT", "chez/ADP*", "martin/PROPN", "à/ADP*", "quimper/NOUN"], {"sylvie", "martin"}),
    (["et/CCONJ*", "monsieur/NOUN", "roux/ADJ", ",/PUNCT", "madame/NOUN", "est/AUX*", "là/ADV*", "Mme/NOUN", "la/DET*", "directrice/NOUN"], {"roux", "Roux"}),
    (["je/PRON*", "me/PRON*", "bats/VERB", ",/PUNCT", "Me/NOUN", "Vasseur/PROPN"], {"Vasseur"}),  # « me » is no title, « Me » is
    # capitals of any script; an acronym stays, a surname in capitals beside a first name goes
    (["avec/ADP*", "Hélène/PROPN", "Œuvray/PROPN", "et/CCONJ*", "Łukasz/PROPN", "de/ADP*", "l'/DET*", "ASE/PROPN"], {"Hélène", "Œuvray", "Łukasz"}),
    (["avec/ADP*", "Nathalie/PROPN", "BERTRAND/PROPN", ",/PUNCT", "DUPONT/PROPN", "Gérard/PROPN", "et/CCONJ*", "le/DET*", "CPOM/NOUN"],
     {"Nathalie", "BERTRAND", "DUPONT", "Gérard"}),
    # a hyphen joined to a name ends no sentence
    (["à/ADP*", "Châtillon/PROPN", "-/PUNCT", "Montrouge/PROPN"], {"Châtillon", "Montrouge"}),
    # interjections the tagger takes for names at the start of a sentence
    (["Bonjour/PROPN", ",/PUNCT", "on/PRON*", "commence/VERB", "?/PUNCT", "Super/PROPN", ",/PUNCT", "Ok/PROPN"], set()),
])
def test_name_words(spec, expected):
    """``expected`` in their written case; each is masked in lower case too, unless the text has that
    word in lower case as a common word, and a lower-case one with its capital too."""
    common = {t.text for t in tokens(*spec) if t.text.islower() and (t.pos != "PROPN" or t.is_stop)}
    variants = {w.lower() for w in expected if w.lower() not in common} | {w[0].upper() + w[1:] for w in expected if w.islower()}
    assert name_words([tokens(*spec)]) == expected | variants


def test_label_and_titled_words():
    assert label_words(["Mme Castel", "Claire (ENQ)", "Enquêtrice", "Speaker 2", "Q", "KH", "M. Le Goff", None]) == {"Castel", "Claire", "Goff", "KH"}
    assert label_words(["Cheffe de service", "Directrice adjointe", "sylvie marchand"]) == {"sylvie", "marchand"}
    text = "J'ai vu Monsieur Roux, puis Mme Le Goff et le Dr Martin ; madame la directrice, Mme. Pierre, madame MARCHAND, monsieur le maire"
    assert titled_names(text) == {"Roux", "Goff", "Martin", "Pierre", "MARCHAND"}


def test_names_are_masked_with_their_capitals_only():
    pattern = name_pattern({"Pierre", "Dylan", "Saint-Étienne", "D’Amico"})
    text = "Pierre, à Saint-Étienne, a ramassé la pierre ; Dylan’s, Dylans, Jean-Pierre, D'Amico et SaintÉtienne."
    masked = [(start, text[start:end]) for start, end in name_spans(text, pattern)]
    # a hyphen ends a word: the tagger cuts « Jean-Pierre » in two, and each half found is masked
    assert masked == [(0, "Pierre"), (10, "Saint-Étienne"), (47, "Dylan"), (69, "Pierre"), (77, "D'Amico")]
    assert name_pattern(set()) is None and name_spans(text, None) == []


def test_names_inside_transcription_marks():
    text = "[rire de Julie] on y va (Sylvain tousse) [Rires] [Rires nerveux] (inaudible) [Katie, Youcel] (en aparté à Sofiane)"
    assert marked_names(text) == {"Julie", "Sylvain", "Katie", "Youcel", "Sofiane"}


def test_a_name_that_only_opens_sentences_is_found_with_the_models_words():
    """Issue 13: « Karima » at the start of sentences, tagged as a noun, is a name when neither the
    transcript writes it in lower case nor the model knows it as a word (the model's own rule)."""
    spec = ["Karima/NOUN", "m'/PRON*", "appelle/VERB", "./PUNCT", "Concrètement/ADV", ",/PUNCT", "on/PRON*", "y/PRON*", "va/VERB",
            "./PUNCT", "Tableaux/NOUN", "et/CCONJ*", "tableaux/NOUN", "./PUNCT", "Excusez/VERB", "-moi/PRON*"]
    known = {"appeler", "concrètement", "aller", "tableau"}
    assert name_words([tokens(*spec)], known) == {"Karima", "karima"}
    assert name_words([tokens(*spec)]) == set()  # without a model's words, only the tagger decides at a sentence start


def test_the_model_never_learns_a_word_only_written_with_a_capital():
    from ethos.features import name_like_lemmas
    from ethos.transformers import LemmaText, StanceFeatures

    passages = [tokens("Karima/NOUN", "refuse/VERB", "le/DET*", "tableau/NOUN", "./PUNCT"),
                tokens("Karima/NOUN", "ne/ADV*", "remplit/VERB", "pas/ADV*", "le/DET*", "tableau/NOUN", "./PUNCT"),
                tokens("Le/DET*", "tableau/NOUN", ",/PUNCT", "Karima/NOUN", "le/PRON*", "refuse/VERB")]
    assert name_like_lemmas(passages) == {"karima"}
    assert all("karima" not in text.split() for text in LemmaText().fit_transform(passages))
    stance = StanceFeatures(min_df=1).fit(passages)
    assert not any("karima" in name for name in stance.vocabulary_)
