"""``ethos studio``: a local web application for coding transcripts, over the project's own files.

- :mod:`~ethos.studio.store`: one annotation file kept durably (atomic, fsync'd rewrites under a lock,
  rows the studio does not change written back byte for byte);
- :mod:`~ethos.studio.codings`: every annotation file of the data folder, reloaded when changed on disk,
  and the coder's own file written;
- :mod:`~ethos.studio.project`: the transcripts, the codebook, the model and the lemmas, loaded once;
- :mod:`~ethos.studio.work`: what the pages show (suggestions, explanations, the queue, disagreements, agreement);
- :mod:`~ethos.studio.retrain`: retraining in the background (``ethos train`` in a child process);
- :mod:`~ethos.studio.security`: the token, Host and Origin checks and the headers of every response;
- :mod:`~ethos.studio.app`: the Flask routes; :mod:`~ethos.studio.server`: serving on 127.0.0.1.

The library never imports click; ``ethos/cli/studio.py`` parses the options and calls :func:`~ethos.studio.server.serve`.
"""
