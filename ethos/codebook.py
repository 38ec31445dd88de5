"""The codebook: the labels coders may use, with their French titles and colours for reports."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EthosError

#: The three labels every codebook keeps (the contract); a codebook may add others.
CORE_LABELS = ("manager", "artisan", "other")
DEFAULT_PATH = Path("data") / "codebook.toml"


@dataclass(frozen=True)
class Label:
    name: str
    title_fr: str
    colour: str = "#777777"
    definition: str = ""


@dataclass(frozen=True)
class Codebook:
    labels: tuple[Label, ...] = field(default_factory=lambda: (
        Label("manager", "cadre-manager", "#1f6fb2"), Label("artisan", "artisan-cadre", "#c0621b"), Label("other", "autre", "#7a7a7a"),
    ))
    path: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    @property
    def aliases(self) -> dict[str, str]:
        """Other spellings coders use for the labels, folded (no accents, lower case): the French
        titles (« autre », « Artisan-cadre »), which reports and charts show, give their labels."""
        from .text import fold

        return {fold(label.title_fr): label.name for label in self.labels if label.title_fr}


#: A colour a report may put in a style attribute: ``#rgb`` or ``#rrggbb``, nothing else.
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def load_codebook(path: Path | None = None, *, require_core: bool = False) -> Codebook:
    """The codebook at ``path``; without one, ``data/codebook.toml`` when it exists, else the three core labels.

    Any labels will do for coding and agreement; ``require_core`` (training, the ethos profile) also
    needs ``manager``, ``artisan`` and ``other``. Colours must be ``#rgb`` or ``#rrggbb``: they go
    into reports."""
    if path is None:
        if not DEFAULT_PATH.is_file():
            return Codebook()
        path = DEFAULT_PATH
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EthosError(f"{path}: no such codebook") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise EthosError(f"{path}: not a valid TOML codebook ({error})") from None
    entries = document.get("labels")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("name") for e in entries):
        raise EthosError(f"{path}: the codebook needs [[labels]] tables, each with a name")
    labels = tuple(Label(str(e["name"]).strip().lower(), str(e.get("title_fr", e["name"])), str(e.get("colour", "#777777")), str(e.get("definition", ""))) for e in entries)
    for label in labels:
        if not _COLOUR.fullmatch(label.colour):
            raise EthosError(f"{path}: the colour of '{label.name}' must be written #rgb or #rrggbb (found {label.colour[:40]!r})")
    if len({label.name for label in labels}) < len(labels):
        raise EthosError(f"{path}: a label is named twice")
    missing = [name for name in CORE_LABELS if name not in {label.name for label in labels}]
    if missing and require_core:
        raise EthosError(f"{path}: training and the ethos profile need the labels {', '.join(CORE_LABELS)} in the codebook (missing: {', '.join(missing)})")
    return Codebook(labels, str(path))
