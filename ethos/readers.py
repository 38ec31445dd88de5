"""Reading transcripts in the formats researchers have them.

:func:`read_transcript` picks a reader by extension. Plain text and word-processor files give the
document's text, whose speaker turns :mod:`ethos.speakers` finds from line-initial labels; subtitle
files (``.vtt``, ``.srt``), Praat ``.TextGrid`` and Transcriber ``.trs`` files carry their turns, which
are rendered as ``Speaker: text`` lines. Either way a :class:`Document` holds the text that passage
offsets point into, and its turns.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Sequence

from . import speakers
from .archive import MAX_FILE_BYTES, MAX_XML_BYTES, parse_xml, zip_part
from .document import Document, Turn
from .errors import InputError
from .text import fold, nfc
from .textio import read_text

TRANSCRIPT_SUFFIXES = (".txt", ".docx", ".odt", ".vtt", ".srt", ".textgrid", ".trs")


def read_transcript(path: Path, speakers: Sequence[str] = ()) -> Document:
    """Read one transcript file, whatever its format. ``speakers`` are labels to take for speakers
    even where they would not be recognised (used once, or shaped like a sentence)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the transcript files (for example {path}/*.txt)")
    suffix = path.suffix.lower()
    if suffix not in TRANSCRIPT_SUFFIXES:
        known = ", ".join(TRANSCRIPT_SUFFIXES + (".csv", ".jsonl"))
        raise InputError(f"{path}: unknown file type '{path.suffix}' (ethos reads {known})")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path}: file too large ({path.stat().st_size // 2**20} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB)")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    reader = _READERS[suffix]
    document = reader(path, tuple(speakers))
    if document.doc_id != nfc(document.doc_id):  # a file name written on a Mac
        document = dataclasses.replace(document, doc_id=nfc(document.doc_id))
    if not document.raw.strip():
        raise InputError(f"{path}: the file holds no text")
    return document


def _labelled(path: Path, raw: str, fmt: str, known: Sequence[str], encoding: str | None = None) -> Document:
    """A document whose turns are found from line-initial labels. Its text is composed (NFC): a file
    typed on a Mac may write « é » as « e » and an accent, which no label or word would match."""
    raw = nfc(raw)
    return Document(path.stem, raw, speakers.find_turns(raw, known), str(path), fmt, encoding)


def document_from_text(doc_id: str, raw: str) -> Document:
    """A plain-text transcript held in memory (a check item, a pasted excerpt), read as a .txt file is."""
    return _labelled(Path(f"{doc_id}.txt"), re.sub(r"\r(?!\n)", "\n", raw), "txt", ())


def _read_txt(path: Path, known: Sequence[str] = ()) -> Document:
    raw, encoding = read_text(path)
    # Windows line ends stay: offsets then count characters as QDA software does (a CRLF is two), so
    # that a passage coded there lines up with ethos's; a lone CR (old Macs) is a line end too
    return _labelled(path, re.sub(r"\r(?!\n)", "\n", raw), "txt", known, encoding)


# --- word-processor files -------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def _docx_paragraph(paragraph) -> str:
    parts = []
    for node in paragraph.iter():
        if node.tag == _W + "t" and node.text:
            parts.append(node.text)
        elif node.tag == _W + "tab":
            parts.append("\t")
        elif node.tag in (_W + "br", _W + "cr"):
            parts.append("\n")
    return "".join(parts)


def _read_docx(path: Path, known: Sequence[str] = ()) -> Document:
    root = parse_xml(zip_part(path, "word/document.xml"), path)
    paragraphs = [_docx_paragraph(p) for p in root.iter(_W + "p")]
    return _labelled(path, "\n".join(paragraphs), "docx", known)


def _count(value: str | None, default: int) -> int:
    """A whole-number attribute, ``default`` when missing or not a number."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _odt_spaces(node) -> int:
    return max(0, _count(node.get(_TEXT_NS + "c"), 1))


def _odt_text(node) -> str:
    parts = [node.text or ""]
    # depth first without recursion: a hostile file may nest elements thousands deep
    stack, tails = [iter(node)], []
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            if tails:
                parts.append(tails.pop())
            continue
        tag = child.tag
        if tag == _TEXT_NS + "s":
            parts.append(" " * _odt_spaces(child))
        elif tag == _TEXT_NS + "tab":
            parts.append("\t")
        elif tag == _TEXT_NS + "line-break":
            parts.append("\n")
        elif tag != _TEXT_NS + "note":
            parts.append(child.text or "")
            stack.append(iter(child))
            tails.append(child.tail or "")
            continue
        parts.append(child.tail or "")
    return "".join(parts)


def _read_odt(path: Path, known: Sequence[str] = ()) -> Document:
    root = parse_xml(zip_part(path, "content.xml"), path)
    spaces = sum(_odt_spaces(node) for node in root.iter(_TEXT_NS + "s"))
    if spaces > MAX_XML_BYTES:
        raise InputError(f"{path}: content.xml asks for {spaces} repeated spaces; refused")
    paragraphs = [_odt_text(p) for p in root.iter() if p.tag in (_TEXT_NS + "p", _TEXT_NS + "h")]
    return _labelled(path, "\n".join(paragraphs), "odt", known)


# --- files that carry their turns -----------------------------------------------------------------

def render_utterances(doc_id: str, utterances: list[tuple[str | None, str]], path: Path, fmt: str, encoding: str | None = None) -> Document:
    """Lay out ``(speaker, text)`` utterances as ``Speaker: text`` lines, merging consecutive ones."""
    merged: list[list] = []
    for speaker, text in utterances:
        text = nfc(" ".join(text.split()))
        speaker = nfc(speaker) if speaker else speaker
        if not text:
            continue
        if merged and merged[-1][0] == speaker:
            merged[-1][1].append(text)
        else:
            merged.append([speaker, [text]])
    lines, turns, offset = [], [], 0
    for speaker, texts in merged:
        label = f"{speaker}: " if speaker else ""
        body = " ".join(texts)
        turns.append(Turn(speaker, offset + len(label), offset + len(label) + len(body)))
        line = label + body
        lines.append(line)
        offset += len(line) + 1
    return Document(doc_id, "\n".join(lines), tuple(turns), str(path), fmt, encoding, structured=True)


_CUE_TIMING = re.compile(r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>\n]+>")
_INLINE_SPEAKER = re.compile(r"^\s*(?:-\s*)?(?:\[([^\]]{1,40})\][ \t]*:?|([^\W\d][\w.'’\- ]{0,38}?)[ \t\u00a0\u202f]*:)\s+")


def _subtitle_utterances(text: str) -> list[tuple[str | None, str]]:
    utterances: list[tuple[str | None, str]] = []
    speaker: str | None = None
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        lines = block.strip("\n").split("\n")
        while lines and not _CUE_TIMING.match(lines[0]):
            lines = lines[1:]
        if not lines:
            continue
        for line in lines[1:]:
            voice = _VOICE.search(line)
            if voice:
                speaker = voice.group(1).strip()
            line = _TAG.sub("", line)
            inline = _INLINE_SPEAKER.match(line)
            if inline and not voice:
                named = (inline.group(1) or inline.group(2)).strip()
                # « [rires] oui » is an event, « Et le siège nous dit : faites plus » a sentence: neither names a speaker
                if fold(named) not in speakers.EVENT_WORDS and (inline.group(1) or len(named.split()) <= 4):
                    speaker = named
                    line = line[inline.end():]
            utterances.append((speaker, line))
    return utterances


def _read_subtitles(path: Path, known: Sequence[str] = ()) -> Document:
    text, encoding = read_text(path)
    if path.suffix.lower() == ".vtt" and not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise InputError(f"{path}: not a WebVTT file (it must start with WEBVTT)")
    utterances = _subtitle_utterances(text)
    if not utterances:
        raise InputError(f"{path}: no subtitle cues found (expected lines like 00:00:01,000 --> 00:00:04,000)")
    return render_utterances(path.stem, utterances, path, path.suffix.lower()[1:], encoding)


_TG_STRING = r'"((?:[^"]|"")*)"'
_TG_TIER = re.compile(r'class\s*=\s*"IntervalTier"\s*name\s*=\s*' + _TG_STRING)
_TG_INTERVAL = re.compile(r"xmin\s*=\s*([\d.eE+-]+)\s*xmax\s*=\s*([\d.eE+-]+)\s*text\s*=\s*" + _TG_STRING)
_TG_SHORT_TIER = re.compile(r'"IntervalTier"\s*' + _TG_STRING + r"\s*[\d.eE+-]+\s*[\d.eE+-]+\s*(\d+)")
_TG_SHORT_INTERVAL = re.compile(r"([\d.eE+-]+)\s+([\d.eE+-]+)\s+" + _TG_STRING)


def _seconds(path: Path, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(f"{path}: '{value}' is not a time in seconds") from None


def _read_textgrid(path: Path, known: Sequence[str] = ()) -> Document:
    text, encoding = read_text(path)
    if "TextGrid" not in text[:200]:
        raise InputError(f"{path}: not a Praat TextGrid (no 'TextGrid' header)")
    timed: list[tuple[float, str, str]] = []
    tiers = list(_TG_TIER.finditer(text))
    if tiers:
        bounds = [m.start() for m in tiers] + [len(text)]
        for i, tier in enumerate(tiers):
            name = tier.group(1).replace('""', '"')
            for interval in _TG_INTERVAL.finditer(text, tier.end(), bounds[i + 1]):
                timed.append((_seconds(path, interval.group(1)), name, interval.group(3).replace('""', '"')))
    else:
        short = list(_TG_SHORT_TIER.finditer(text))
        bounds = [m.start() for m in short] + [len(text)]
        for i, tier in enumerate(short):
            name = tier.group(1).replace('""', '"')
            for interval in _TG_SHORT_INTERVAL.finditer(text, tier.end(), bounds[i + 1]):
                timed.append((_seconds(path, interval.group(1)), name, interval.group(3).replace('""', '"')))
    if not timed:
        raise InputError(f"{path}: no interval tiers with text found in this TextGrid")
    timed.sort(key=lambda item: item[0])
    return render_utterances(path.stem, [(name, words) for _, name, words in timed], path, "textgrid", encoding)


def _trs_text(node) -> str:
    parts = [node.text or ""]
    for child in node:
        if child.tag == "Event":
            desc = child.get("desc", "")
            extent = child.get("extent", "instantaneous")
            if extent == "instantaneous":
                parts.append(f" [{desc}] ")
            elif extent == "begin":
                parts.append(f" [{desc}-] ")
            elif extent == "end":
                parts.append(f" [-{desc}] ")
            else:
                parts.append(f" [{desc}] ")
        elif child.tag == "Comment":
            parts.append(f" {{{child.get('desc', '')}}} ")
        parts.append(child.tail or "")
    return "".join(parts)


def _read_trs(path: Path, known: Sequence[str] = ()) -> Document:
    data = path.read_bytes()
    # Transcriber files declare a DTD that defusedxml (rightly) refuses: drop the declaration only.
    data = re.sub(rb"<!DOCTYPE[^>\[]*>", b"", data, count=1)
    root = parse_xml(data, path)
    if root.tag != "Trans":
        raise InputError(f"{path}: not a Transcriber file (root element is <{root.tag}>)")
    names = {s.get("id"): s.get("name") or s.get("id") for s in root.iter("Speaker")}
    utterances = []
    for turn in root.iter("Turn"):
        ids = (turn.get("speaker") or "").split()
        if len(ids) > 1:
            # overlapping speech: <Who nb="n"/> switches speakers inside the turn
            current = 0
            chunks: dict[int, list[str]] = {}
            text_parts = [turn.text or ""]
            for child in turn:
                if child.tag == "Who":
                    chunks.setdefault(current, []).append("".join(text_parts))
                    text_parts = []
                    current = _count(child.get("nb"), 1) - 1
                elif child.tag == "Event":
                    text_parts.append(f" [{child.get('desc', '')}] ")
                text_parts.append(child.tail or "")
            chunks.setdefault(current, []).append("".join(text_parts))
            for index, texts in sorted(chunks.items()):
                if 0 <= index < len(ids):
                    utterances.append((names.get(ids[index], ids[index]), " ".join(texts)))
        else:
            speaker = names.get(ids[0], ids[0]) if ids else None
            utterances.append((speaker, _trs_text(turn)))
    return render_utterances(path.stem, utterances, path, "trs", "xml")


_READERS = {
    ".txt": _read_txt,
    ".docx": _read_docx,
    ".odt": _read_odt,
    ".vtt": _read_subtitles,
    ".srt": _read_subtitles,
    ".textgrid": _read_textgrid,
    ".trs": _read_trs,
}
