import pytest

from ethos.readers import Document
from ethos.segment import segment
from ethos.speakers import find_interviewers, find_turns, is_interviewer_tag, is_question


def speakers_and_interviewer(raw: str):
    turns = find_turns(raw)
    interviewers, how = find_interviewers(turns, raw)
    return [t.speaker for t in turns], interviewers, how


STYLES = {
    "french colon": (
        "Entretien n° 3\nDurée : 58 minutes\n\nEnquêteur : Pouvez-vous vous présenter ?\n"
        "Mme Bertin : Oui, je suis directrice depuis 2012.\nEnquêteur : Et avant ?\nMme Bertin : La banque.\n",
        ["Enquêteur", "Mme Bertin", "Enquêteur", "Mme Bertin"], ["Enquêteur"],
    ),
    "Q/R": ("Q : Vous êtes là depuis quand ?\nR : Depuis dix ans.\nQ : Et ça vous plaît ?\nR : Oui.\n", ["Q", "R", "Q", "R"], ["Q"]),
    "E/I with time codes": (
        "[00:00:03] E : Bonjour, on commence ?\n[00:00:05] I : Oui allez.\n[00:01:10] E : Votre parcours ?\n[00:01:12] I : Comptable.\n",
        ["E", "I", "E", "I"], ["E"],
    ),
    "(ENQ) tag": (
        "Claire (ENQ) : Comment ça se passe ?\nAwa Ndiaye : Bien, enfin ça dépend.\nClaire (ENQ) : C'est-à-dire ?\nAwa Ndiaye : Les nuits.\n",
        ["Claire (ENQ)", "Awa Ndiaye", "Claire (ENQ)", "Awa Ndiaye"], ["Claire (ENQ)"],
    ),
    "brackets": (
        "[Enquêtrice] Vous travaillez où ?\n[Sylvie] Au siège.\n[rires]\n[Enquêtrice] Depuis ?\n[Sylvie] Trois ans.\n",
        ["Enquêtrice", "Sylvie", "Enquêtrice", "Sylvie"], ["Enquêtrice"],
    ),
    "Enq.": ("Enq. : Et les équipes ?\nM. Ferrand : Elles tiennent.\nEnq. : Vraiment ?\nM. Ferrand : Oui.\n", ["Enq.", "M. Ferrand", "Enq.", "M. Ferrand"], ["Enq."]),
    "CFPP initials": ("ENQ: vous habitez où\nKH: dans le onzième + depuis toujours\nENQ: ah oui\nKH: oui\n", ["ENQ", "KH", "ENQ", "KH"], ["ENQ"]),
    "names only, interviewer asks": (
        "Entretien avec un directeur\n\nSophie : Vous pouvez me parler de votre poste ?\nBernard : Je dirige le foyer, trente places.\n"
        "Sophie : Et l'association ?\nBernard : Elle a fusionné l'an dernier avec une autre.\nSophie : Comment l'avez-vous vécu ?\n"
        "Bernard : Mal, au début.\n",
        ["Sophie", "Bernard"] * 3, ["Sophie"],
    ),
    "unpunctuated, questions by wording": (
        "Marc: est-ce que vous habitez le quartier depuis longtemps\nLéa: depuis mes six ans on est arrivés en soixante\n"
        "Marc: et comment c'était à l'époque\nLéa: c'était très différent il y avait des usines partout\n",
        ["Marc", "Léa", "Marc", "Léa"], ["Marc"],
    ),
}


@pytest.mark.parametrize("name", STYLES)
def test_speaker_label_styles(name):
    raw, speakers, interviewers = STYLES[name]
    found_speakers, found_interviewers, _ = speakers_and_interviewer(raw)
    assert found_speakers == speakers
    assert found_interviewers == interviewers


def test_turn_offsets_point_at_the_speech():
    raw = STYLES["french colon"][0]
    turns = find_turns(raw)
    assert [raw[t.start:t.end] for t in turns][:2] == ["Pouvez-vous vous présenter ?", "Oui, je suis directrice depuis 2012."]


def test_continuation_paragraphs_belong_to_the_previous_speaker():
    raw = "Q : Et alors ?\nR : Alors on a tout repris.\n\nEt puis on a recruté.\nQ : D'accord.\nR : Voilà.\n"
    turns = find_turns(raw)
    assert raw[turns[1].start:turns[1].end] == "Alors on a tout repris.\n\nEt puis on a recruté."


def test_sentence_with_a_colon_is_not_a_speaker():
    raw = ("Q : Et la réforme ?\nR : Je vais vous dire une chose.\nAlors là je dirais : non.\nQ : Non ?\n"
           "R : Non. Et je le redis encore.\nAlors là je dirais : non.\n")
    assert [t.speaker for t in find_turns(raw)] == ["Q", "R", "Q", "R"]


def test_file_without_labels_is_one_speaker():
    raw = "Je suis arrivée en 2004.\nJ'ai tout appris ici.\n\nPuis j'ai eu le poste."
    turns = find_turns(raw)
    assert [t.speaker for t in turns] == [None, None]
    assert find_interviewers(turns, raw) == ([], "single speaker")


@pytest.mark.parametrize("label", ["Enquêteur", "enquetrice", "Q", "E", "Enq.", "ENQ", "Sonia Branca-Rosoff (ENQ)", "Sonia Branca-Rosoff Enq", "Florence (Enq.)", "Intervieweuse"])
def test_interviewer_tags(label):
    assert is_interviewer_tag(label)


@pytest.mark.parametrize("label", ["R", "I", "Mme Bertin", "Enquêtée", "Henri", "KH"])
def test_not_interviewer_tags(label):
    assert not is_interviewer_tag(label)


@pytest.mark.parametrize("text, expected", [("Et vous ?", True), ("est-ce que vous aimez", True), ("comment ça se passe", True), ("on était trois", False), ("Pourtant j'y crois.", False)])
def test_is_question(text, expected):
    assert is_question(text) is expected


def test_several_interviewees_are_kept_and_tagged():
    raw = ("Enquêtrice : Vous êtes deux à diriger ?\nMme Roy : Oui, moi pour l'hébergement et la nuit.\n"
           "M. Dias : Et moi pour l'accueil de jour et les maraudes.\nEnquêtrice : D'accord.\nMme Roy : On se partage tout, même les astreintes.\n")
    document = Document("d", raw, find_turns(raw), "d.txt", "txt")
    passages, stats = segment(document)
    assert [p.speaker for p in passages] == ["Mme Roy", "M. Dias", "Mme Roy"]
    assert stats.interviewers == ["Enquêtrice"]
