"""Text tables of every command's results, for a terminal: what `--format table` writes."""

from __future__ import annotations

from typing import IO




def write_table(handle: IO[str], rows: list[list], header: list[str]) -> None:
    """An aligned text table; the last column is cut to fit the terminal."""
    import shutil

    width = shutil.get_terminal_size((120, 24)).columns
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    room = max(20, width - sum(widths) - 2 * len(widths))
    for row in cells:
        last = row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"
        handle.write("  ".join([c.ljust(w) for c, w in zip(row, widths)] + [last]).rstrip() + "\n")


def _figure(value) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def write_agreement_table(handle: IO[str], report: dict) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    out(f"Units (passages): {report['n_units']}, coded by two coders or more: {report['n_units_coded_twice']}")
    out(f"Coders: {', '.join(report['coders'])}    Labels: {', '.join(report['labels'])}")
    out()
    interval = report["krippendorff_alpha_ci95"]
    ci = f"  (95% CI {interval[0]:.3f} to {interval[1]:.3f}, {report['bootstrap']['resamples']} bootstrap resamples)" if interval else ""
    out(f"Krippendorff's alpha (nominal)  {_figure(report['krippendorff_alpha'])}{ci}")
    out(f"Percent agreement               {_figure(report['percent_agreement'])}  (pairs of coders agreeing, per unit)")
    out(f"Fleiss' kappa                   {_figure(report['fleiss_kappa'])}  ({report['fleiss_units']} units coded by every coder)")
    out(f"Gwet's AC1                      {_figure(report['gwet_ac1'])}  (q = {len(report['labels'])}, every label of the codebook)")
    out()
    out("Cohen's kappa by pair of coders:")
    for pair in report["cohen_kappa"]:
        out(f"  {pair['coders'][0]} / {pair['coders'][1]}: {_figure(pair['kappa'])}  ({pair['n_units']} units)")
    out()
    out("Alpha per label (the label against the rest):")
    for label, figures in report["per_label"].items():
        out(f"  {label:<10} {_figure(figures['krippendorff_alpha'])}")
    for pair, matrix in ((c["coders"], c["matrix"]) for c in report["confusion"]):
        out()
        out(f"Confusion, rows {pair[0]}, columns {pair[1]}:")
        width = max(len(label) for label in report["labels"]) + 2
        out(" " * width + "".join(label.rjust(width) for label in report["labels"]))
        for label, row in zip(report["labels"], matrix):
            out(label.ljust(width) + "".join(str(v).rjust(width) for v in row))
    if report.get("gold"):
        out()
        out("Each coder against the gold (adjudicated) labels:")
        for row in report["gold"]:
            out(f"  {row['coder']}: agreement {_figure(row['agreement'])}, kappa {_figure(row['kappa'])}  ({row['n_units']} units)")
    model = report.get("model")
    if model:
        out()
        out(f"The model as a coder ({model['out_of_fold_passages']} passages by out-of-fold predictions, {model['scored_passages']} scored):")
        out(f"  alpha, coders only {_figure(model['krippendorff_alpha_coders_only'])}; with the model {_figure(model['krippendorff_alpha_with_model'])}")
        out(f"  mean Cohen's kappa: model with each coder {_figure(model['mean_kappa_model_with_coders'])}; between coders {_figure(model['mean_kappa_between_coders'])}")
    for note in report["notes"]:
        out(f"Note: {note}")
    out()
    out("Reading guide (Krippendorff): alpha >= 0.800 reliable; 0.667 to 0.800 for tentative conclusions only;")
    out("below 0.667, the coding is not reliable enough to draw conclusions from.")


def _f(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def write_evaluation_table(handle: IO[str], evaluation: dict) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    labels = evaluation["labels"]
    cv = evaluation["cross_validation"]
    out(f"{evaluation['candidate']}: {cv['n_splits']}-fold cross-validation grouped by interview "
        f"({evaluation['n_passages']} passages, {evaluation['n_documents']} interviews)")
    out(f"Macro-F1 {_f(evaluation['macro_f1'])} (fold mean {_f(evaluation['macro_f1_fold_mean'])}, sd {_f(evaluation['macro_f1_fold_sd'])}), "
        f"accuracy {_f(evaluation['accuracy'])}, Cohen's kappa against the labels {_f(evaluation['kappa'])}")
    out()
    rows = [[label, _f(v["precision"]), _f(v["recall"]), _f(v["f1"]), str(v["support"])] for label, v in evaluation["per_label"].items()]
    write_table(handle, rows, ["label", "precision", "recall", "F1", "passages"])
    out()
    out("Confusion (rows: labels of the coders, columns: predicted):")
    width = max(len(label) for label in labels) + 2
    out(" " * width + "".join(label.rjust(width) for label in labels))
    for label, row in zip(labels, evaluation["confusion"]["matrix"]):
        out(label.ljust(width) + "".join(str(v).rjust(width) for v in row))
    out()
    out("Folds:")
    for number, fold in enumerate(evaluation["folds"], 1):
        out(f"  {number}. macro-F1 {_f(fold['macro_f1'])} on {fold['n_passages']} passages of {', '.join(fold['test_docs'])}")
    if evaluation.get("learning_curve"):
        out()
        out("Learning curve (macro-F1 on the same test folds, training on N interviews):")
        for point in evaluation["learning_curve"]:
            bar = "█" * round(point["macro_f1"] * 40)
            out(f"  {point['train_interviews']:>4}  {_f(point['macro_f1'])} ± {_f(point['sd'])}  {bar}")
    if evaluation.get("per_layer"):
        out()
        out("Per layer of the corpus (out-of-fold; each layer weighs as much as the others in training):" if evaluation.get("layer_weights")
            else "Per layer of the corpus (out-of-fold):")
        labels = evaluation["labels"]
        rows = [[layer or "(no layer)", str(v["n_documents"]), str(v["n_passages"]), _f(v["macro_f1"]), _f(v["accuracy"])]
                + [_f(v["per_label"][label]["recall"]) if v["per_label"][label]["support"] else "-" for label in labels]
                for layer, v in evaluation["per_layer"].items()]
        write_table(handle, rows, ["layer", "interviews", "passages", "macro-F1", "accuracy"] + [f"recall {label}" for label in labels])
    calibration = evaluation.get("calibration")
    if calibration and "log_loss" in calibration:
        out()
        out(f"Probabilities (held-out folds): log-loss {_f(calibration['log_loss'])}, Brier {_f(calibration['brier'])}, "
            f"expected calibration error {_f(calibration['expected_calibration_error'])}")
        layers = [("all", calibration)] + list((calibration.get("per_layer") or {}).items())
        rows = [[name, _f(c["expected_calibration_error"]), str(c["confident"]["n"]), _f(c["confident"]["accuracy"]), str(c["confident"]["wrong"])]
                for name, c in layers]
        write_table(handle, rows, ["passages", "ECE", "labels at p >= 0.9", "right", "wrong"])
    if evaluation.get("checks"):
        out()
        out("Checks (edited passages, out-of-fold):")
        write_check_table(handle, evaluation["checks"], 0)


def write_check_table(handle: IO[str], report: dict, n_failures: int = 10) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    out(f"{report['n_checks']} checks, {report['out_of_fold']} judged out-of-fold (by a fold model that did not see their interview)")
    rows = []
    for capability, entry in report["capabilities"].items():
        extra = ""
        if capability == "flip" and entry.get("pairs_right", {}).get("n"):
            pairs = entry["pairs_right"]
            extra = f"original and flip both right: {pairs['both_right']}/{pairs['n']} ({_f(pairs['share'])})"
        rows.append([capability, str(entry["n"]), str(entry["behaves"]), _f(entry["share"]), extra])
    write_table(handle, rows, ["capability", "checks", "behave", "share", ""])
    for capability, entry in report["capabilities"].items():
        if entry["failures"] and n_failures:
            out()
            out(f"{capability}: {len(entry['failures'])} failures" + (f" (first {n_failures})" if len(entry["failures"]) > n_failures else ""))
            for failure in entry["failures"][:n_failures]:
                out(f"  {failure['check_id']}: expected {failure['expected']}, got {failure['predicted']} "
                    f"(original: {failure['predicted_original']})")


def _features_text(explanation: dict, count: int = 3) -> str:
    return "; ".join(f"{f['feature']} {f['contribution']:+.2f}" for f in explanation["features"][:count])


def write_score_table(handle: IO[str], documents: list[dict], labels: list[str]) -> None:
    from ..codebook import load_codebook

    titles = {label.name: label.title_fr for label in load_codebook().labels}
    for document in documents:
        rows = []
        for passage in document["passages"]:
            rows.append([passage["passage_id"], passage["label"], f"{passage['probability']:.2f}", _features_text(passage["explanation"]),
                         " ".join(passage["text"].split())])
        write_table(handle, rows, ["passage", "label", "p", "features that weighed most", "text"])
        summary = document["summary"]
        handle.write(f"\n{document['doc_id']}: {summary['passages']} passages\n")
        for label in labels:
            figures = summary["labels"][label]
            features = ", ".join(f["feature"] for f in summary["top_features"][label][:6]) or "-"
            title = titles.get(label, label)
            handle.write(f"  {label:<8} {figures['passages']:>4}  {figures['share']:>4.0%}  mean p {figures['mean_probability']:.2f}  ({title}: {features})\n")
        handle.write("\n")


def profile_columns(labels: list[str]) -> list[str]:
    columns = ["kind", "doc_id", "position", "interviews", "passages"]
    for label in labels:
        columns += [f"{label}_passages", f"{label}_share", f"{label}_low", f"{label}_high"]
    return columns


def profile_rows(result: dict) -> list[dict]:
    """One CSV row per interview, per position (mean shares) and for the difference (kind says which)."""
    def figures(row: dict, values: dict, key: str) -> dict:
        for label, value in values.items():
            row[f"{label}_share"] = round(value[key], 6)
            row[f"{label}_low"], row[f"{label}_high"] = (round(v, 6) for v in value["ci"]) if value["ci"] else ("", "")
            if "passages" in value:
                row[f"{label}_passages"] = value["passages"]
        return row

    rows = [figures({"kind": "interview", "doc_id": d["doc_id"], "position": d["position"] or "", "interviews": 1, "passages": d["passages"]}, d["labels"], "share")
            for d in result["documents"]]
    rows += [figures({"kind": "position", "position": g["position"], "interviews": g["interviews"], "passages": g["passages"]}, g["labels"], "mean_share")
             for g in result["groups"]]
    if result["difference"]:
        rows.append(figures({"kind": "difference", "position": " - ".join(result["difference"]["positions"])}, result["difference"]["labels"], "difference"))
    return rows


def _share(value: float, interval: list | None, signed: bool = False) -> str:
    sign = "+" if signed else ""
    shown = f"{100 * value:{sign}.0f}"
    return shown if interval is None else f"{shown} [{100 * interval[0]:{sign}.0f}, {100 * interval[1]:{sign}.0f}]"


def write_profile_table(handle: IO[str], result: dict) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    labels = result["labels"]
    bootstrap = result["bootstrap"]
    level = f"{100 * bootstrap['level']:.0f}%"
    source = result.get("source", {})
    by = "the coders (gold, else majority)" if source.get("labels") == "coded" else f"the model in {source.get('model')}"
    n_passages = sum(d["passages"] for d in result["documents"])
    out(f"{len(result['documents'])} interviews, {n_passages} passages labelled by {by}.")
    out(f"Shares of passages in %, with {level} bootstrap intervals ({bootstrap['resamples']} resamples, seed {bootstrap['seed']}).")
    out()
    order = {g["position"]: n for n, g in enumerate(result["groups"])}
    documents = sorted(result["documents"], key=lambda d: (order.get(d["position"], len(order)), d["doc_id"]))
    rows = [[d["doc_id"], d["position"] or "?", str(d["passages"])] + [_share(d["labels"][label]["share"], d["labels"][label]["ci"]) for label in labels]
            for d in documents]
    write_table(handle, rows, ["interview", "position", "passages"] + labels)
    if result["groups"]:
        out()
        out(f"By position: mean of the interviews' shares (each interview weighs the same), {level} intervals from resampling interviews.")
        rows = [[g["position"], str(g["interviews"]), str(g["passages"])] + [_share(g["labels"][label]["mean_share"], g["labels"][label]["ci"]) for label in labels]
                for g in result["groups"]]
        write_table(handle, rows, ["position", "interviews", "passages"] + labels)
    difference = result["difference"]
    if difference:
        first, second = difference["positions"]
        out()
        out(f"Difference {first} - {second} (percentage points, {level} interval):")
        for label in labels:
            figures = difference["labels"][label]
            out(f"  {label:<10} {_share(figures['difference'], figures['ci'], signed=True)}")
        out(f"The dualisation hypothesis expects manager above 0 ({first} more manager) and artisan below 0 ({second} more artisan).")
    if result["without_position"]:
        out()
        out(f"Without a position in {source.get('metadata', 'the metadata')} (left out of the groups): {', '.join(result['without_position'])}")
    for note in result["notes"]:
        out(f"Note: {note}")
