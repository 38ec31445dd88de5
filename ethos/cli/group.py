"""The ``ethos`` command group: one-line errors, warnings on standard error."""

from __future__ import annotations

import sys
import warnings

import click

from .. import __version__
from ..errors import EthosError


class EthosGroup(click.Group):
    """Turns every :class:`EthosError` into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EthosError as error:
            raise click.ClickException(str(error)) from None
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(1)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"Warning: {message}", err=True)


warnings.showwarning = _show_warning


@click.group(cls=EthosGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ethos")
def main():
    """Code interviews of French social-sector managers with the ethos they express.

    \b
    Labels: manager (cadre-manager), artisan (artisan-cadre), other.
    Transcripts: .txt (any common encoding), .docx, .odt, .vtt, .srt, .TextGrid, .trs;
    passage tables: .csv (comma or semicolon), .jsonl with a `text` column.

    \b
    Examples:
      ethos score data/examples/exemple01.txt
      ethos segment interview.docx
      ethos agreement data/annotated --model models/default
      ethos train --data data/annotated
    """
