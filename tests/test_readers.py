import zipfile

import pytest

from ethos.errors import InputError
from ethos.archive import MAX_XML_BYTES
from ethos.readers import read_transcript
from ethos.segment import segment

from builders import make_docx, make_odt

TURNS = [
    "Enquêtrice : Vous êtes arrivée quand dans l’association ?",
    "Mme Bertin : En 2015, après quinze ans dans la banque.",
    "Enquêtrice : Et qu’est-ce qui vous a fait venir ?",
    "Mme Bertin : L’envie de donner du sens, même si je reste une gestionnaire avant tout.",
]


def interviewee_texts(path):
    document = read_transcript(path)
    passages, stats = segment(document)
    assert all(p.text == document.raw[p.start:p.end] for p in passages)
    return [p.clean for p in passages], stats


def test_txt_in_windows_1252(tmp_path):
    path = tmp_path / "ent.txt"
    path.write_bytes("\r\n".join(TURNS).encode("cp1252"))
    texts, stats = interviewee_texts(path)
    assert texts == ["En 2015, après quinze ans dans la banque.", "L'envie de donner du sens, même si je reste une gestionnaire avant tout."]
    assert stats.interviewers == ["Enquêtrice"]


@pytest.mark.parametrize("builder", [make_docx, make_odt])
def test_word_processor_files(tmp_path, builder):
    path = builder(tmp_path / f"ent.{builder.__name__[5:]}", ["Entretien n° 4", *TURNS])
    texts, _ = interviewee_texts(path)
    assert texts[0] == "En 2015, après quinze ans dans la banque."


def test_vtt_with_voice_tags(tmp_path):
    path = tmp_path / "auto.vtt"
    path.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Enquêteur>Vous dirigez le pôle depuis quand ?</v>\n\n"
        "00:00:03.500 --> 00:00:06.000\n<v Marc Dias>Depuis 2019, avant j'étais éducateur.</v>\n\n"
        "00:00:06.000 --> 00:00:09.000\n<v Marc Dias>Et je le suis resté dans ma tête.</v>\n",
        encoding="utf-8",
    )
    texts, stats = interviewee_texts(path)
    assert texts == ["Depuis 2019, avant j'étais éducateur. Et je le suis resté dans ma tête."]
    assert stats.interviewers == ["Enquêteur"]


def test_srt_with_name_prefixes(tmp_path):
    path = tmp_path / "auto.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nQ: Comment ça se passe avec le siège ?\n\n"
        "2\n00:00:03,500 --> 00:00:06,000\nR: Ils nous demandent des tableaux tout le temps.\n\n"
        "3\n00:00:06,500 --> 00:00:08,000\nQ: Et vous ?\n\n"
        "4\n00:00:08,500 --> 00:00:09,000\nR: On les remplit, on n'a pas le choix.\n",
        encoding="utf-8",
    )
    texts, stats = interviewee_texts(path)
    assert texts == ["Ils nous demandent des tableaux tout le temps.", "On les remplit, on n'a pas le choix."]


def test_textgrid_tiers_are_speakers(tmp_path):
    path = tmp_path / "ent.TextGrid"
    path.write_text(
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 10\ntiers? <exists>\nsize = 2\nitem []:\n'
        '    item [1]:\n        class = "IntervalTier"\n        name = "Léa"\n        xmin = 0\n        xmax = 10\n        intervals: size = 2\n'
        '        intervals [1]:\n            xmin = 0\n            xmax = 4\n            text = ""\n'
        '        intervals [2]:\n            xmin = 4\n            xmax = 9\n            text = "oui + mes parents sont arrivés euh en soixante"\n'
        '    item [2]:\n        class = "IntervalTier"\n        name = "Sonia (ENQ)"\n        xmin = 0\n        xmax = 10\n        intervals: size = 1\n'
        '        intervals [1]:\n            xmin = 0\n            xmax = 4\n            text = "vous êtes née à Paris"\n',
        encoding="utf-8",
    )
    texts, stats = interviewee_texts(path)
    assert texts == ["oui mes parents sont arrivés en soixante"]
    assert stats.interviewers == ["Sonia (ENQ)"]


def test_transcriber_trs(tmp_path):
    path = tmp_path / "ent.trs"
    path.write_bytes(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE Trans SYSTEM "trans-14.dtd">\n<Trans><Speakers>'
        '<Speaker id="spk1" name="BA725"/><Speaker id="spk2" name="OU"/></Speakers><Episode><Section type="report">'
        '<Turn speaker="spk2" startTime="0" endTime="2"><Sync time="0"/>depuis quand habitez-vous à Orléans ?</Turn>'
        '<Turn speaker="spk1" startTime="2" endTime="5"><Sync time="2"/>eh bien euh depuis l\'âge de trois ans<Event desc="rire" type="noise" extent="instantaneous"/> voilà</Turn>'
        "</Section></Episode></Trans>".encode("latin-1")
    )
    texts, stats = interviewee_texts(path)
    assert texts == ["eh bien depuis l'âge de trois ans voilà"]
    assert stats.interviewers == ["OU"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"   \n\n  ", "no text"),
        ("binary.txt", b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
        ("fake.docx", b"this is not a zip", "not a valid .docx"),
        ("fake.odt", b"PK\x03\x04 truncated", "not a valid .odt"),
        ("notes.pdf", b"%PDF-1.4", "unknown file type"),
        ("bad.vtt", b"00:00:01.000 --> 00:00:02.000\nhello", "not a WebVTT"),
        ("bad.TextGrid", b"hello", "not a Praat TextGrid"),
        ("bad.trs", b"<Trans><unclosed>", "malformed XML"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_transcript(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_transcript(tmp_path / "absent.txt")
    with pytest.raises(InputError, match="is a folder"):
        read_transcript(tmp_path)


def test_truncated_docx(tmp_path):
    path = make_docx(tmp_path / "ent.docx", TURNS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="docx"):
        read_transcript(path)


def test_docx_entity_expansion_refused(tmp_path):
    path = tmp_path / "bomb.docx"
    xml = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", xml)
    with pytest.raises(InputError, match="entities"):
        read_transcript(path)


def test_zip_bomb_refused_without_reading_it(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<a>" + b" " * (MAX_XML_BYTES + 10) + b"</a>")
    assert path.stat().st_size < 1_000_000
    with pytest.raises(InputError, match="too large"):
        read_transcript(path)


def test_decomposed_accents_are_composed(tmp_path):
    """A file typed on a Mac may write « é » as « e » and a combining accent: labels and words still match."""
    import unicodedata

    text = "Enquêteur : Et les équipes ?\nMme Dupré : Elles tiennent, on est soudés.\nEnquêteur : Vraiment ?\nMme Dupré : Oui, vraiment, on a traversé la fusion ensemble.\n"
    path = tmp_path / "nfd.txt"
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    texts, stats = interviewee_texts(path)
    assert stats.interviewers == ["Enquêteur"] and stats.interviewer_found_by == "tag"
    assert texts == ["Elles tiennent, on est soudés.", "Oui, vraiment, on a traversé la fusion ensemble."]


def test_windows_line_ends_are_kept_so_offsets_count_as_qda_software_does(tmp_path):
    """Word on Windows saves .txt with CRLF; QDA software counts it as two characters, and so does ethos."""
    text = ("Enquêteur : Bonjour, vous pouvez vous présenter ?\r\nMme Dupré : Alors, j’ai commencé comme éducatrice en 1998.\r\n\r\n"
            "Et puis je suis devenue cheffe de service.\r\nEnquêteur : Et ensuite ?\r\nMme Dupré : Le siège, avec les tableaux de bord.\r")
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.encode("cp1252"))
    document = read_transcript(path)
    assert document.raw == text[:-1] + "\n"  # a lone CR (old Macs) ends a line as LF does, in one character
    passages, _ = segment(document)
    assert [(p.start, p.end) for p in passages] == [(text.index("Alors"), text.index("service.") + 8), (text.index("Le siège"), len(text) - 1)]
    assert passages[0].clean == "Alors, j'ai commencé comme éducatrice en 1998. Et puis je suis devenue cheffe de service."


def test_subtitle_events_and_sentences_with_a_colon_name_no_speaker(tmp_path):
    path = tmp_path / "auto.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nQ: Comment ça se passe avec le siège ?\n\n"
        "2\n00:00:03,500 --> 00:00:06,000\nR: [rires] Ils nous demandent des tableaux tout le temps.\n\n"
        "3\n00:00:06,500 --> 00:00:08,000\n[rires] oui vraiment, tout le temps, chaque semaine.\n\n"
        "4\n00:00:08,500 --> 00:00:09,000\nEt le siège nous dit encore une fois : faites plus.\n\n"
        "5\n00:00:09,500 --> 00:00:10,000\nQ: Et vous ?\n",
        encoding="utf-8",
    )
    document = read_transcript(path)
    assert [t.speaker for t in document.turns] == ["Q", "R", "Q"]
    texts, _ = interviewee_texts(path)
    assert texts == ["Ils nous demandent des tableaux tout le temps. oui vraiment, tout le temps, chaque semaine. "
                     "Et le siège nous dit encore une fois : faites plus."]
