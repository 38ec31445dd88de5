"""`ethos studio`: the coding workbench, a local web application over the project's files."""

from __future__ import annotations

from pathlib import Path

import click

from .group import main
from .options import ANNOTATED, cache_options, codebook_option, default_model_dir, model_option, segment_options, segment_settings


@main.command()
@click.argument("transcripts", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--coder", metavar="NAME", envvar="ETHOS_CODER", help="Who is coding [env: ETHOS_CODER; default: asked on the first page].")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port on 127.0.0.1 (0: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=ANNOTATED, show_default=True,
              help="Annotation folder: read whole, and each coder's codings written to a file of their own there.")
@click.option("--queue-size", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Passages in each coder's queue.")
@model_option
@codebook_option
@segment_options
@cache_options
def studio(transcripts, coder, port, no_browser, data_dir, queue_size, model_dir, codebook, interviewers, speakers, max_words, min_words,
           n_process, cache_dir, no_cache):
    """Code transcripts in a browser: the coding workbench, on this computer only.

    Serves a local web application on 127.0.0.1 and prints its URL, with a token that every request
    must carry (the page keeps it in a cookie). Opens on the first TRANSCRIPT (default: the project's
    data/transcripts). Code each passage with the mouse or a key per label, with a note; see the
    model's suggestion and why (never saved unless accepted); work through the queue of passages
    `ethos suggest` would propose, blind for a second coder; adjudicate disagreements into `gold`
    rows; watch agreement; retrain the model in the background. Every coding is on disk, in the
    annotation format (one file per coder under --data), before the page shows it saved. Stop with Ctrl+C.

    \b
    Examples:
      ethos studio data/transcripts/ent01.txt
      ethos studio --coder claire --no-browser
      ethos studio entretiens/ --data data/annotated --port 8765
    """
    from ..studio.codings import check_coder_name
    from ..studio.project import Project, Settings
    from ..studio.server import serve

    if coder:
        coder = check_coder_name(coder)
    model = model_dir or default_model_dir()
    settings = Settings(root=Path.cwd(), transcripts=list(transcripts), data=data_dir, model_dir=model if (model / "manifest.json").exists() else None,
                        train_dir=model_dir or Path("models") / "default", codebook=codebook, coder=coder, cache_dir=cache_dir,
                        use_cache=not no_cache, segment=segment_settings(interviewers, speakers, max_words, min_words), queue_size=queue_size)
    click.echo("Loading the transcripts and the model …", err=True)
    project = Project(settings)
    click.echo(f"{sum(len(p) for p in project.passages.values())} passages in {len(project.documents)} transcripts; codings in {project.data}; "
               f"model {project.model_dir or 'none (train one on the Model page)'}. Stop with Ctrl+C.", err=True)
    serve(project, port, open_browser=not no_browser, announce=lambda url: click.echo(url))
