import pytest

from ethos.document import Document
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
    "no-break space before the colon (Word)": (
        "Entretien avec la directrice\nEnquêteur\u00a0: Bonjour. Pouvez-vous me parler de votre parcours\u202f?\n"
        "Mme Dupré\u00a0: Alors, j’ai commencé comme éducatrice en 1998.\nEnquêteur\u202f: Et ensuite\u00a0?\nMme Dupré\u00a0: Le siège.\n",
        ["Enquêteur", "Mme Dupré", "Enquêteur", "Mme Dupré"], ["Enquêteur"],
    ),
    "job titles as labels": (
        "Enquêtrice : Vous pouvez me décrire votre rôle ?\nCheffe de service : Je suis sur le terrain tous les jours.\n"
        "Enquêtrice : Et avec le siège ?\nCheffe de service : Ils nous envoient des tableaux.\n",
        ["Enquêtrice", "Cheffe de service"] * 2, ["Enquêtrice"],
    ),
    "WhisperX brackets and colon": (
        "[SPEAKER_00]: Bonjour, vous pouvez vous présenter ?\n[SPEAKER_01]: Oui, je suis directrice générale.\n"
        "[SPEAKER_00]: Depuis quand ?\n[SPEAKER_01]: Six ans.\n",
        ["SPEAKER_00", "SPEAKER_01"] * 2, ["SPEAKER_00"],
    ),
    "two numbered interviewers": (
        "Enquêteur 1 : On commence ?\nDirecteur : Allez-y.\nEnquêteur 2 : Comment vous voyez l'évolution du secteur ?\n"
        "Directeur : Plus de contrôle, moins de moyens.\n",
        ["Enquêteur 1", "Directeur", "Enquêteur 2", "Directeur"], ["Enquêteur 1", "Enquêteur 2"],
    ),
    "interviewee's tag questions": (
        "Speaker 1 : Bonjour, vous pouvez vous présenter rapidement ?\nSpeaker 2 : Je dirige trois foyers, c'est beaucoup, vous voyez ?\n"
        "Speaker 1 : Oui oui, tout à fait.\nSpeaker 2 : Et on n'a pas les moyens, vous comprenez ? Personne ne le dit, non ?\n"
        "Speaker 1 : Hm hm.\nSpeaker 2 : Voilà, c'est comme ça, hein ?\n",
        ["Speaker 1", "Speaker 2"] * 3, ["Speaker 1"],
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


def test_a_job_title_heard_once_is_speech_unless_named():
    """A line of speech can open like a label (« Chef de projet : c'était le premier. »): one line is not enough."""
    raw = ("Enquêtrice : Vous êtes combien à la direction ?\nDirectrice adjointe : Trois, avec les budgets et les tableaux.\n"
           "Enquêtrice : Et vos postes ?\nMarie : J'en ai eu deux.\nChef de projet : c'était le premier.\nEnquêtrice : D'accord.\nMarie : Voilà.\n")
    assert [t.speaker for t in find_turns(raw)] == ["Enquêtrice", "Enquêtrice", "Marie", "Enquêtrice", "Marie"]
    assert [t.speaker for t in find_turns(raw, ["Directrice adjointe"])][:2] == ["Enquêtrice", "Directrice adjointe"]


def test_labels_the_user_names_are_speakers_even_once_or_shaped_like_a_sentence():
    raw = "Enquêtrice : Bonjour, on commence ?\nla directrice : Oui, allons-y, j'ai une heure.\nEnquêtrice : Parfait.\n"
    assert [t.speaker for t in find_turns(raw)] == ["Enquêtrice", "Enquêtrice"]
    assert [t.speaker for t in find_turns(raw, ["La Directrice"])] == ["Enquêtrice", "la directrice", "Enquêtrice"]


@pytest.mark.parametrize("label", ["Enquêteur 2", "ENQ1", "Enquêtrice_2", "Intervieweur 1"])
def test_numbered_interviewer_tags(label):
    assert is_interviewer_tag(label)


@pytest.mark.parametrize("label", ["R", "I", "Mme Bertin", "Enquêtée", "Henri", "KH", "E1", "Q2", "Speaker 1"])
def test_not_interviewer_tags(label):
    assert not is_interviewer_tag(label)


@pytest.mark.parametrize("text, expected", [("Et vous ?", True), ("est-ce que vous aimez", True), ("comment ça se passe", True), ("on était trois", False),
                                            ("Pourtant j'y crois.", False), ("C'est dur, vous voyez ? On tient, hein ?", False),
                                            ("C'est dur, non ? Et vous, vous tenez comment ?", True)])
def test_is_question(text, expected):
    assert is_question(text) is expected


def test_several_interviewees_are_kept_and_tagged():
    raw = ("Enquêtrice : Vous êtes deux à diriger ?\nMme Roy : Oui, moi pour l'hébergement et la nuit.\n"
           "M. Dias : Et moi pour l'accueil de jour et les maraudes.\nEnquêtrice : D'accord.\nMme Roy : On se partage tout, même les astreintes.\n")
    document = Document("d", raw, find_turns(raw), "d.txt", "txt")
    passages, stats = segment(document)
    assert [p.speaker for p in passages] == ["Mme Roy", "M. Dias", "Mme Roy"]
    assert stats.interviewers == ["Enquêtrice"]
