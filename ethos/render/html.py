"""HTML through Jinja2 templates with autoescape: every value a template shows is escaped, whatever
it holds (a transcript's text, a file name, a codebook's title). Templates are package data."""

from __future__ import annotations

import functools
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)


def render(template: str, **context) -> str:
    """The template ``template`` (a file of ``ethos/render/templates``) rendered with ``context``."""
    return _environment().get_template(template).render(**context)
