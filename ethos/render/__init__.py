"""How results are shown: text tables (:mod:`~ethos.render.table`) and the HTML report
(:mod:`~ethos.render.html`, Jinja2 templates with autoescape)."""
