"""Build data/annotated/gold.csv: the adjudicated label of every passage.

Where every coder who coded a passage agrees, the gold label is theirs. Where they disagree, the
adjudication below sets it, after reading all codings and the codebook, with a short note. No
original coding is ever changed.
"""

import csv
import sys
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent

#: (doc_id, passage_id) -> (gold label, note). Each decided by reading the passage, every coder's
#: label and the codebook's decision rules.
ADJUDICATED = {
    ("ent08", "p005"): ("artisan", "récit d'astreinte de nuit ; connaissance intime du résident (sevrage, frère) : proximité avec la matière, comme ent15 p012"),
    ("ent15", "p012"): ("artisan", "anecdote au plus près d'une résidente ; la posture est dans le récit (règle 1 : posture, pas vocabulaire)"),
    ("ent17", "p010"): ("artisan", "le sens du travail incarné par un parcours de personne accompagnée et le lien éducatif"),
    ("ent18", "p021"): ("artisan", "la conclusion « ça me garde les pieds dans le métier » revendique la continuité avec le métier"),
    ("ent31", "p010"): ("artisan", "le passage conclut sur le taux d'encadrement contre « la tuyauterie budgétaire » ; l'acceptation vient au passage suivant (règle 3)"),
    ("ent48", "p013"): ("artisan", "un directeur du patrimoine arrêté par le jardin d'un résident, qu'il décrit avec précision : l'attention aux personnes domine, comme ent08 p005"),
    ("ent40", "p004"): ("other", "description du financement des chantiers sans prise de position nette sur la logique marchande"),
    # the hard layer (ent49-ent72 and the short documents), adjudicated 2026-12-04
    ("ent59", "p010"): ("other", "résultats commerciaux revendiqués avec fierté, puis « sur le papier » les met à distance sans dire ce qui se perd (ce sera le passage suivant) : aucune posture ne l'emporte (règle 3)"),
    ("ent59", "p017"): ("artisan", "présence quotidienne au self avec les travailleurs, la cuisinière, le chien d'un ancien : quotidien chargé d'attachement (contre-indicateurs de « autre »)"),
    ("ent60", "p022"): ("artisan", "se voit finir comme mandataire de terrain : ne se voit pas ailleurs que dans le métier ; court mais net"),
    ("ent66", "p011"): ("artisan", "nuit de tempête, la cheffe de service roule sous les branches pour une résidente en crise : présence au plus près, comme ent08 p005"),
    ("ent67", "p025"): ("artisan", "court mais net : « la rente, c'est eux qui l'ont dit » rend au financeur son mot et s'en démarque (règle sur l'ironie et les guillemets)"),
    ("ent69", "p005"): ("artisan", "le ratio sert à protéger le temps des travailleurs sociaux ; la conclusion (« pas à l'éduc de s'épuiser ») l'emporte"),
    ("ent69", "p009"): ("manager", "conviction affirmée pour les procédures comme mode de décision ; écrites avec l'équipe, mais c'est la procédure qui est valorisée (majorité)"),
    ("ent69", "p010"): ("other", "récit d'une collègue épuisée qui s'arrête avant toute conclusion ; la leçon vient au passage suivant (comme les récits inachevés de la première couche)"),
    ("ent69", "p020"): ("other", "emploi du temps factuel ; la remarque finale sur la délégation est trop mince pour porter une posture (règle 6)"),
}


def main() -> None:
    labels = defaultdict(dict)
    passages = {}
    for name in ("coder_a.csv", "coder_b.csv", "coder_c.csv"):
        with open(DATA / "annotated" / name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                key = (row["doc_id"], row["passage_id"])
                labels[key][row["coder"]] = row["label"]
                passages.setdefault(key, row)
    rows, pending = [], []
    for key in sorted(passages):
        given = labels[key]
        if key in ADJUDICATED:
            label, note = ADJUDICATED[key]
            note = f"arbitrage ({', '.join(f'{c} {l}' for c, l in sorted(given.items()))}) : {note}"
        elif len(given) == 1:  # a revised passage whose blind coding is still to come
            label = next(iter(given.values()))
            note = f"{next(iter(given))} seul : passage révisé, codage à l'aveugle à venir"
        elif len(set(given.values())) == 1:
            label = next(iter(given.values()))
            note = f"accord {', '.join(sorted(given))}"
        else:
            pending.append(key)
            continue
        row = passages[key]
        rows.append({"doc_id": key[0], "passage_id": key[1], "text": row["text"], "label": label, "coder": "gold",
                     "start": row["start"], "end": row["end"], "note": note})
    with open(DATA / "annotated" / "gold.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["doc_id", "passage_id", "text", "label", "coder", "start", "end", "note"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} gold labels; {len(pending)} disagreements still to adjudicate: {pending}", file=sys.stderr)


if __name__ == "__main__":
    main()
