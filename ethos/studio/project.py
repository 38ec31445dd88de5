"""What one studio works on, loaded once: the project folder, its transcripts cut into passages, the
codebook, the model and spaCy's lemmas (through one lock: spaCy is not shared between threads)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from ..codebook import Codebook, load_codebook
from ..document import Document, Passage
from ..errors import EthosError
from ..segment import SegmentOptions
from .codings import CodingFolder
from .store import sweep_temporary_files

#: Where a project keeps its transcripts, when none are named.
TRANSCRIPTS = Path("data") / "transcripts"


class Lemmas:
    """Lemma sessions for the server's threads: one at a time (spaCy is not shared between threads), all
    sharing one memory of the lemmas already computed, on top of the persistent lemma cache."""

    def __init__(self, cache_dir: Path | None = None, use_cache: bool = True):
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.lock = threading.Lock()
        self.memo: dict = {}
        self.derived: dict = {}

    @contextmanager
    def session(self) -> Iterator[None]:
        from ..nlp import LemmaCache, lemma_session

        with self.lock:
            with lemma_session(LemmaCache(self.cache_dir) if self.use_cache else None) as session:
                session.memo = self.memo
                session.derived = self.derived
                yield

    def known(self, texts: Sequence[str]) -> bool:
        return all(text in self.memo for text in texts)

    def warm(self, texts: Sequence[str], chunk: int = 48, progress=None) -> None:
        """Lemmatise ``texts`` a few at a time, letting other requests in between."""
        from ..nlp import session_lemmas

        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        for start in range(0, len(todo), chunk):
            with self.session():
                session_lemmas(todo[start:start + chunk])
            if progress is not None:
                progress(min(len(todo), start + chunk), len(todo))


def inside(root: Path, path: Path) -> bool:
    try:
        Path(path).resolve().relative_to(root)
        return True
    except ValueError:
        return False


@dataclass
class Settings:
    """What the command line gives the studio."""

    root: Path
    transcripts: Sequence[Path] = ()
    data: Path = Path("data") / "annotated"
    model_dir: Path | None = None
    train_dir: Path | None = None
    codebook: Path | None = None
    coder: str | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    queue_size: int = 50


class Project:
    """The transcripts (documents and passages), the codebook, the model, the codings: one per server."""

    def __init__(self, settings: Settings, *, load_model: bool = True):
        from ..inputs import expand_paths, read_inputs

        self.settings = settings
        self.root = Path(settings.root).resolve()
        self.data = self._confined(settings.data, "--data")
        self.train_dir = self._confined(settings.train_dir or Path("models") / "default", "the model to retrain")
        named = [self._confined(p, "a transcript") for p in settings.transcripts]
        self.named = bool(named)
        folder = self.root / TRANSCRIPTS
        if not named and not folder.is_dir():
            raise EthosError(f"no transcripts named and no {TRANSCRIPTS} folder in {self.root}: name the transcripts to code")
        # the transcripts named first (the studio opens on the first), then the project's others: the
        # queue draws on every interview, as `ethos suggest data/transcripts` would
        files = list(dict.fromkeys(path.resolve() for path in expand_paths(named + ([folder] if folder.is_dir() else []))))
        self.codebook: Codebook = load_codebook(self._path(settings.codebook) if settings.codebook else
                                                (self.root / "data" / "codebook.toml" if (self.root / "data" / "codebook.toml").is_file() else None))
        inputs = read_inputs(files, settings.segment)
        if not inputs.documents:
            raise EthosError("the studio codes transcripts (.txt, .docx, .odt ...), not passage tables: name transcripts")
        self.documents: dict[str, Document] = inputs.documents
        self.stats = {stats.doc_id: stats for stats in inputs.stats}
        self.order = list(self.documents)
        self.passages: dict[str, list[Passage]] = {doc_id: [] for doc_id in self.documents}
        for passage in inputs.passages:
            self.passages.setdefault(passage.doc_id, []).append(passage)
        self.by_id = {(p.doc_id, p.passage_id): p for p in inputs.passages}
        sweep_temporary_files(self.data)
        self.codings = CodingFolder(self.data, self.codebook)
        self.lemmas = Lemmas(settings.cache_dir, settings.use_cache)
        self.model_lock = threading.Lock()
        self.model = None
        self.model_dir = Path(settings.model_dir) if settings.model_dir else None
        if load_model and self.model_dir is not None:
            self.load_model(self.model_dir)

    def _path(self, path: Path) -> Path:
        path = Path(path)
        return (path if path.is_absolute() else self.root / path).resolve()

    def _confined(self, path: Path, what: str) -> Path:
        resolved = self._path(path)
        if not inside(self.root, resolved):
            raise EthosError(f"{path}: {what} must be inside the project folder {self.root} (the studio reads and writes nowhere else)")
        return resolved

    def load_model(self, model_dir: Path) -> None:
        from ..model.saving import load_model

        model = load_model(model_dir)
        with self.model_lock:
            self.model, self.model_dir = model, Path(model_dir)

    @property
    def labels(self) -> list[str]:
        return list(self.codebook.names)

    def passage(self, doc_id: str, passage_id: str) -> Passage:
        try:
            return self.by_id[doc_id, passage_id]
        except KeyError:
            raise KeyError(f"no passage {passage_id} in {doc_id}") from None

    def all_passages(self) -> list[Passage]:
        return [p for doc_id in self.order for p in self.passages.get(doc_id, [])]

    def human_coders(self) -> list[str]:
        from ..annotations import GOLD

        return [c for c in self.codings.coders() if c != GOLD]

    def blind_by_default(self, coder: str) -> bool:
        """A second coder codes blind: someone else has coded in this project already."""
        return any(other != coder for other in self.human_coders())
