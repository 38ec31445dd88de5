
from ethos.cleaning import count_words
from ethos.document import Document
from ethos.segment import SegmentOptions, segment
from ethos.speakers import find_turns


def document(raw: str) -> Document:
    return Document("doc", raw, find_turns(raw), "doc.txt", "txt")


LONG_TURN = " ".join(
    f"Phrase numéro {i} où je raconte comment on travaillait avec les familles du quartier." for i in range(1, 31)
)
RAW = (
    "Entretien n° 9\n\nEnq : Racontez-moi.\n"
    f"Mme Roy : {LONG_TURN}\n"
    "Enq : D'accord.\nMme Roy : Oui.\nEnq : Et la suite ?\n"
    "Mme Roy : La suite, euh, c'est le siège qui [rires] a décidé de tout fermer en juin.\n"
)


def test_text_is_the_exact_raw_span_and_clean_has_no_marks():
    doc = document(RAW)
    passages, _ = segment(doc)
    for passage in passages:
        assert passage.text == doc.raw[passage.start:passage.end]
        assert "[rires]" not in passage.clean and "euh" not in passage.clean
    assert passages[-1].clean == "La suite, c'est le siège qui a décidé de tout fermer en juin."


def test_long_turns_are_cut_at_sentence_boundaries_within_the_bound():
    passages, _ = segment(document(RAW), SegmentOptions(max_words=60))
    long_passages = passages[:-1]
    assert len(long_passages) >= 6
    for passage in long_passages:
        assert passage.text.startswith("Phrase numéro") and passage.text.endswith("quartier.")
        assert count_words(passage.clean) <= 60
    assert " ".join(p.text for p in long_passages) == LONG_TURN


def test_passage_ids_are_sequential_and_unique():
    passages, _ = segment(document(RAW))
    assert [p.passage_id for p in passages] == [f"p{i:03d}" for i in range(1, len(passages) + 1)]


def test_short_turns_are_counted_not_silently_lost():
    passages, stats = segment(document(RAW))
    assert stats.short_turns == 1
    assert all(p.clean != "Oui." for p in passages)
    assert stats.interviewee_turns == 3
    assert stats.passage_words == stats.interviewee_words - 1


def test_unpunctuated_turns_are_cut_at_pauses_or_by_length():
    speech = " + ".join(f"alors on allait au marché le dimanche matin avec ma grand-mère {i}" for i in range(40))
    raw = f"ENQ: et le dimanche\nLéa: {speech}\nENQ: ah bon\nLéa: oui oui tout le temps comme ça\n"
    passages, _ = segment(document(raw), SegmentOptions(max_words=50))
    assert len(passages) > 8
    assert all(count_words(p.clean) <= 50 for p in passages)
    assert sum(count_words(p.clean) for p in passages) == count_words(speech.replace("+", "")) + 7


def test_interviewer_and_speaker_options():
    raw = "Paul : Bonjour, vous pouvez commencer.\nAnne : Je suis cheffe de service depuis trois ans déjà.\nPaul : Et avant, vous faisiez quoi exactement ?\nAnne : J'étais éducatrice en internat pendant dix ans.\n"
    by_option, stats = segment(document(raw), SegmentOptions(interviewers=("anne",)))
    assert {p.speaker for p in by_option} == {"Paul"} and stats.interviewer_found_by == "option"
    only, _ = segment(document(raw), SegmentOptions(interviewers=("Paul",), speakers=("Anne",)))
    assert {p.speaker for p in only} == {"Anne"}


def test_pseudo_speakers_are_never_passages():
    raw = "Enq: vous êtes d'ici\nMarc: oui depuis toujours dans ce quartier avec mes parents\nComments: bruit de travaux dans la rue pendant longtemps\nEnq: d'accord\nMarc: et mes grands-parents avant eux aussi\nComments: fin de la première cassette audio enregistrée\n"
    passages, _ = segment(document(raw))
    assert [p.speaker for p in passages] == ["Marc", "Marc"]


def test_min_words_holds_for_the_pieces_of_a_cut_turn_too():
    """Issue 13: with --min-words 10, an 8-word piece of a long turn was kept while an 8-word turn was dropped."""
    long_sentence = " ".join(["on a repris tout le planning avec les équipes de nuit"] * 6) + "."
    raw = ("Enq : Et alors ?\n"
           f"Mme Roy : Ça, je le dis franchement et sans détour. {long_sentence} Voilà ce qu'on a fait cette année-là.\n"
           "Enq : Bien.\nMme Roy : Huit mots pile dans cette réponse-là, pas plus.\n")
    for min_words in (5, 10, 14):
        passages, stats = segment(document(raw), SegmentOptions(max_words=40, min_words=min_words))
        assert passages and all(count_words(p.clean) >= min_words for p in passages)
        assert stats.short_turns == (1 if min_words > 8 else 0)
    # nothing is lost: the pieces of the long turn still cover it
    passages, _ = segment(document(raw), SegmentOptions(max_words=40, min_words=14))
    assert passages[0].text.startswith("Ça, je le dis") and passages[-1].text.endswith("cette année-là.")
