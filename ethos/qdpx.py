"""REFI-QDA projects (``.qdpx``): the exchange format of QDA software (NVivo, ATLAS.ti, MAXQDA, QualCoder).

A ``.qdpx`` file is a ZIP archive holding ``project.qde`` (XML in the namespace
``urn:QDA-XML:project:1.0``: users, the codebook's codes, text sources with their coded selections)
and the sources' texts under ``sources/``. :func:`read_project` turns every coding of a plain-text
selection into an annotation row; :func:`write_project` writes scored passages as a project, one coded
selection per passage. Positions are Unicode code points of a source's text as stored (a byte-order
mark is not part of the text; a Windows line ending counts as two characters), which is what the
standard's plain-text positions are.
"""

from __future__ import annotations

import re
import uuid
import warnings
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePath
from typing import IO, Mapping, Sequence
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from . import __version__
from .annotations import LABELS
from .codebook import Codebook
from .errors import InputError
from .archive import MAX_FILE_BYTES, MAX_XML_BYTES, open_archive, parse_xml, read_member
from .readers import TRANSCRIPT_SUFFIXES
from .textio import decode_text

NAMESPACE = "urn:QDA-XML:project:1.0"
PROJECT_PART = "project.qde"
SOURCES_FOLDER = "sources"
#: The user who creates every selection and coding of a project written by ethos.
ETHOS_USER = "ethos"
#: Annotation columns of an imported project: the contract's, and the code each label comes from.
COLUMNS = ("doc_id", "passage_id", "text", "label", "coder", "start", "end", "note", "code")

_NAME_SUFFIXES = TRANSCRIPT_SUFFIXES + (".rtf", ".pdf")
_RGB = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- reading --------------------------------------------------------------------------------------

def read_project(
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    labels: Sequence[str] = LABELS,
    only_mapped: bool = False,
) -> list[dict]:
    """One annotation row per coding of a plain-text selection in the project at ``path``.

    A row has the contract's ``doc_id`` (the source's name, else its text file's stem), ``passage_id``
    (``s<start>-<end>``, so that coders who selected the same span code the same passage), ``text``
    (exactly the selected span), ``start``, ``end``, ``label``, ``coder`` (the name of the coding's
    creating user, else the selection's), ``note`` (the selection's description) and ``code``, the
    code's path in the codebook (``parent/child``). The label is the code's mapped label when
    ``mapping`` (code name or path -> label, case-insensitive) has it, the codebook label of that name
    when there is one, else the code's name, with a warning; ``only_mapped`` leaves those codings out.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file" if not path.exists() else f"{path}: is a folder, not a .qdpx file")
    with open_archive(path) as archive:
        return _read_codings(path, archive, mapping or {}, labels, only_mapped)


def _read_codings(path: Path, archive: zipfile.ZipFile, mapping: Mapping[str, str], labels: Sequence[str], only_mapped: bool) -> list[dict]:
    members = {name.lower(): name for name in archive.namelist()}
    root = parse_xml(read_member(archive, path, _project_part(path, members)), path)
    if _local(root.tag) != "Project":
        raise InputError(f"{path}: not a REFI-QDA project (its {PROJECT_PART} holds <{_local(root.tag)}>, not <Project>)")
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    users = {_guid(u.get("guid")): u.get("name") or u.get("id") or _guid(u.get("guid")) for u in root.iter(ns + "User")}
    codes = _codes(root, ns)
    wanted = {key.strip().casefold(): label for key, label in mapping.items()}
    known = {label.casefold(): label for label in labels}
    used_keys: set[str] = set()
    unknown: dict[str, int] = {}
    left_out = empty = 0
    rows: list[dict] = []
    seen_docs: dict[str, str] = {}
    read = selected = 0  # characters of source text read, and selected: both bounded (hostile projects)
    sources = root.find(ns + "Sources")
    for source in sources.findall(ns + "TextSource") if sources is not None else ():
        selections = [s for s in source.findall(ns + "PlainTextSelection") if s.find(ns + "Coding") is not None]
        if not selections:
            continue
        text, stem = _source_text(path, archive, members, source, ns)
        read += len(text)
        if read > MAX_FILE_BYTES:
            raise InputError(f"{path}: the sources' texts add up to more than {MAX_FILE_BYTES // 2**20} Mi characters; refused")
        doc_id = _doc_id(source, stem)
        if doc_id in seen_docs:
            raise InputError(f"{path}: two coded sources are named '{doc_id}'; rename one in your QDA software and export again")
        seen_docs[doc_id] = source.get("guid", "")
        for selection in sorted(selections, key=lambda s: _positions(path, doc_id, s, len(text))):
            start, end = _positions(path, doc_id, selection, len(text))
            if start == end:
                empty += 1
                continue
            selected += (end - start) * len(selection.findall(ns + "Coding"))
            if selected > MAX_XML_BYTES:
                raise InputError(f"{path}: the coded selections add up to more than {MAX_XML_BYTES // 2**20} Mi characters; refused")
            span = text[start:end]
            description = selection.find(ns + "Description")
            note = " ".join((description.text or "").split()) if description is not None else ""
            for coding in selection.findall(ns + "Coding"):
                reference = coding.find(ns + "CodeRef")
                target = _guid(reference.get("targetGUID")) if reference is not None else ""
                if target not in codes:
                    raise InputError(f"{path}: a coding in source '{doc_id}' ({start}-{end}) refers to no code of the codebook ({target or 'no CodeRef'})")
                name, code_path = codes[target]
                key = code_path.casefold() if code_path.casefold() in wanted else name.strip().casefold()
                if key in wanted:
                    used_keys.add(key)
                    label = wanted[key]
                elif name.strip().casefold() in known:
                    label = known[name.strip().casefold()]
                elif only_mapped:
                    left_out += 1
                    continue
                else:
                    label = name
                    unknown[name] = unknown.get(name, 0) + 1
                creator = coding.get("creatingUser") or selection.get("creatingUser")
                coder = users.get(_guid(creator), _guid(creator)) if creator else "unknown"
                rows.append({"doc_id": doc_id, "passage_id": f"s{start}-{end}", "text": span, "label": label, "coder": coder,
                             "start": start, "end": end, "note": note, "code": code_path})
    _warn_about(wanted, used_keys, unknown, left_out, empty, labels)
    if not rows and not left_out:
        warnings.warn(f"{path}: the project has no coded text selections", stacklevel=3)
    return rows


def _warn_about(wanted: dict, used_keys: set, unknown: dict[str, int], left_out: int, empty: int, labels: Sequence[str]) -> None:
    unused = [key for key in wanted if key not in used_keys]
    if unused:
        warnings.warn(f"no coding uses the mapped code{'s' if len(unused) > 1 else ''} {', '.join(unused)}", stacklevel=4)
    if unknown:
        shown = ", ".join(list(unknown)[:8]) + (" …" if len(unknown) > 8 else "")
        warnings.warn(f"{sum(unknown.values())} codings have codes that are neither mapped nor codebook labels ({', '.join(labels)}): "
                      f"{shown}; their label is the code's name (map them with --map CODE=LABEL, or leave them out with --only-mapped)", stacklevel=4)
    if left_out:
        warnings.warn(f"{left_out} codings left out: their codes are neither mapped nor codebook labels", stacklevel=4)
    if empty:
        warnings.warn(f"{empty} empty selections left out", stacklevel=4)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _guid(value: str | None) -> str:
    """GUIDs compare without case or braces (the standard allows ``{...}``)."""
    return (value or "").strip().strip("{}").lower()


def _project_part(path: Path, members: dict[str, str]) -> str:
    if PROJECT_PART in members:
        return members[PROJECT_PART]
    candidates = [name for lower, name in members.items() if lower.endswith(".qde") and "/" not in lower]
    if len(candidates) == 1:
        return candidates[0]
    raise InputError(f"{path}: not a REFI-QDA project (no {PROJECT_PART} inside)")


def _codes(root, ns: str) -> dict[str, tuple[str, str]]:
    """Every code of the codebook by GUID: its name and its path (``parent/child``)."""
    codes: dict[str, tuple[str, str]] = {}
    codebook = root.find(ns + "CodeBook")
    holder = codebook.find(ns + "Codes") if codebook is not None else None
    # depth first, in document order, without recursion: a hostile project may nest codes thousands deep
    stack = [(code, "") for code in reversed(holder.findall(ns + "Code"))] if holder is not None else []
    while stack:
        code, parent = stack.pop()
        name = code.get("name") or ""
        code_path = f"{parent}/{name}" if parent else name
        codes[_guid(code.get("guid"))] = (name, code_path)
        stack.extend((child, code_path) for child in reversed(code.findall(ns + "Code")))
    return codes


def _source_text(path: Path, archive: zipfile.ZipFile, members: dict[str, str], source, ns: str) -> tuple[str, str | None]:
    """The plain text of a source, and the stem of its text file when it has one."""
    label = source.get("name") or source.get("guid") or "?"
    inline = source.find(ns + "PlainTextContent")
    if inline is not None:
        return (inline.text or "").removeprefix("\ufeff"), None
    reference = source.get("plainTextPath")
    if not reference:
        raise InputError(f"{path}: source '{label}' has neither PlainTextContent nor a plainTextPath")
    member = _internal_member(path, members, label, reference)
    text, _ = decode_text(read_member(archive, path, member), source=f"{path}: {member}")
    return text, PurePath(member).stem


def _internal_member(path: Path, members: dict[str, str], label: str, reference: str) -> str:
    """The archive member a plainTextPath names; paths that leave the archive are refused."""
    scheme, separator, rest = reference.partition("://")
    if not separator:
        scheme, rest = "", reference  # some tools write the bare file name of sources/
    if scheme.lower() not in ("", "internal", "relative"):
        raise InputError(f"{path}: source '{label}' has its text outside the project ({reference}); ethos reads only texts stored inside it")
    parts = re.split(r"[\\/]", rest)
    if rest.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", rest) or ".." in parts or ".." in re.split(r"[\\/]", unquote(rest)):
        raise InputError(f"{path}: source '{label}' points outside the archive ({reference}); refused")
    for candidate in (rest, unquote(rest)):
        name = "/".join([SOURCES_FOLDER] + [p for p in re.split(r"[\\/]", candidate) if p not in ("", ".")])
        if name.lower() in members:
            return members[name.lower()]
    where = "outside the project" if scheme.lower() == "relative" else "missing from the archive"
    raise InputError(f"{path}: the text of source '{label}' ({reference}) is {where}")


def _doc_id(source, stem: str | None) -> str:
    name = " ".join((source.get("name") or "").split())
    if name:
        suffix = PurePath(name).suffix.lower()
        return name[: -len(suffix)] if suffix in _NAME_SUFFIXES and len(name) > len(suffix) else name
    return stem or _guid(source.get("guid"))


def _positions(path: Path, doc_id: str, selection, length: int) -> tuple[int, int]:
    try:
        start, end = int(selection.get("startPosition", "")), int(selection.get("endPosition", ""))
    except ValueError:
        raise InputError(f"{path}: a selection of source '{doc_id}' has no whole-number startPosition and endPosition") from None
    if not 0 <= start <= end <= length:
        raise InputError(f"{path}: a selection of source '{doc_id}' spans {start}-{end}, outside its text of {length} characters")
    return start, end


# --- writing --------------------------------------------------------------------------------------

def write_project(handle: IO[bytes], documents: Sequence[dict], texts: Mapping[str, str], codebook: Codebook, *, name: str = "ethos") -> None:
    """Scored transcripts as a REFI-QDA project written to the binary ``handle``.

    ``documents`` is :func:`ethos.explain.score_documents`'s list. Each becomes a text source whose
    text is ``texts[doc_id]`` (the decoded transcript, which passage offsets index); a document with no
    text there (a passage table) gets its passages one after another, separated by blank lines. The
    codebook's labels are the codes, with their colours; the user ``ethos`` creates one selection per
    passage (named by its passage_id, described by its label's probability and features) and its coding.
    """
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    user = _new_guid()
    made = {"creatingUser": user, "creationDateTime": now}
    project = ET.Element("Project", {"xmlns": NAMESPACE, "name": _xml_text(name), "origin": f"ethos {__version__}", "creatingUserGUID": user,
                                         "creationDateTime": now, "modifyingUserGUID": user, "modifiedDateTime": now})
    users = ET.SubElement(project, "Users")
    ET.SubElement(users, "User", {"guid": user, "name": ETHOS_USER, "id": ETHOS_USER})
    code_guids = _write_codebook(project, codebook, [p["label"] for d in documents for p in d["passages"]])
    sources = ET.SubElement(project, "Sources")
    files: dict[str, str] = {}
    for document in documents:
        text, spans = _source_of(document, texts.get(document["doc_id"]))
        source_guid = _new_guid()
        files[f"{SOURCES_FOLDER}/{source_guid}.txt"] = text
        source = ET.SubElement(sources, "TextSource", {"guid": source_guid, "name": _xml_text(str(document["doc_id"])),
                                                            "plainTextPath": f"internal://{source_guid}.txt", **made})
        for passage, (start, end) in sorted(zip(document["passages"], spans), key=lambda item: item[1]):
            selection = ET.SubElement(source, "PlainTextSelection", {"guid": _new_guid(), "name": _xml_text(str(passage["passage_id"])),
                                                                         "startPosition": str(start), "endPosition": str(end), **made})
            ET.SubElement(selection, "Description").text = _xml_text(_describe(passage))
            coding = ET.SubElement(selection, "Coding", {"guid": _new_guid(), **made})
            ET.SubElement(coding, "CodeRef", {"targetGUID": code_guids[passage["label"]]})
    qde = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(project, encoding="unicode").encode("utf-8")
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PROJECT_PART, qde)
        for member, text in files.items():
            archive.writestr(member, text.encode("utf-8"))


def _new_guid() -> str:
    return str(uuid.uuid4())


def _xml_text(value: str) -> str:
    """Characters XML 1.0 cannot hold are dropped (they would make the project unreadable)."""
    return _NOT_XML.sub("", value)


def _write_codebook(project, codebook: Codebook, used: Sequence[str]) -> dict[str, str]:
    codes = ET.SubElement(ET.SubElement(project, "CodeBook"), "Codes")
    guids: dict[str, str] = {}
    entries = [(label.name, label.colour, label.title_fr, label.definition) for label in codebook.labels]
    entries += [(label, "", label, "") for label in dict.fromkeys(used) if label not in codebook.names]
    for label, colour, title, definition in entries:
        guids[label] = _new_guid()
        attributes = {"guid": guids[label], "name": _xml_text(label), "isCodable": "true"}
        if _RGB.match(colour):
            attributes["color"] = colour
        code = ET.SubElement(codes, "Code", attributes)
        ET.SubElement(code, "Description").text = _xml_text(" ".join(f"{title}: {definition}".split()) if definition else title)
    return guids


def _source_of(document: dict, raw: str | None) -> tuple[str, list[tuple[int, int]]]:
    """A document's source text and its passages' spans in it."""
    passages = document["passages"]
    if raw is not None:
        for passage in passages:
            if raw[passage["start"]:passage["end"]] != passage["text"]:
                raise ValueError(f"passage {passage['passage_id']} of {document['doc_id']} is not at {passage['start']}-{passage['end']} of its transcript")
        return raw, [(p["start"], p["end"]) for p in passages]
    pieces, spans, offset = [], [], 0
    for passage in passages:
        spans.append((offset, offset + len(passage["text"])))
        pieces.append(passage["text"])
        offset += len(passage["text"]) + 2
    return "\n\n".join(pieces), spans


def _describe(passage: dict) -> str:
    features = "; ".join(f"{f['feature']} {f['contribution']:+.2f}" for f in passage["explanation"]["features"][:5])
    return f"ethos: {passage['label']} (p = {passage['probability']:.2f})" + (f"; {features}" if features else "")
