"""The ``ethos`` command line: small modules that parse options, call the library and render results.

- :mod:`~ethos.cli.group`: the ``ethos`` group (one-line errors, warnings on standard error);
- :mod:`~ethos.cli.options`: options and helpers shared by the commands;
- :mod:`~ethos.cli.transcripts`: ``segment``, ``lemmatize``;
- :mod:`~ethos.cli.agreement`: ``agreement``;
- :mod:`~ethos.cli.training`: ``train``, ``evaluate``, ``check``;
- :mod:`~ethos.cli.scoring`: ``score``, ``features``, ``suggest``;
- :mod:`~ethos.cli.profiling`: ``profile``;
- :mod:`~ethos.cli.projects`: ``qdpx-import``;
- :mod:`~ethos.cli.studio`: ``studio``.

Output formats are rendered by :mod:`ethos.render`. Importing this package registers every command.
"""

from . import agreement, profiling, projects, scoring, studio, training, transcripts  # noqa: F401  (each registers its commands)
from .group import main

__all__ = ["main"]
