"""Markdown tables of a results folder (coverage configs + extrapolation), for docs/validation.md.

Usage::

    uv run python -m validation.report validation/results/baseline
    uv run python -m validation.report validation/results/after \
        --compare validation/results/baseline

    uv run python -m validation.report validation/results/baseline --update-doc docs/validation.md

Summaries are recomputed from the stored repetitions (so a change of the summary code applies).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from validation import coverage, extrapolation

BEGIN = "<!-- BEGIN RESULTS TABLES (python -m validation.report --update-doc) -->"
END = "<!-- END RESULTS TABLES -->"


def _load(folder: str) -> tuple[dict[str, dict], dict | None]:
    docs, ext = {}, None
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name)) as fh:
            doc = json.load(fh)
        if name == "extrapolation.json":
            ext = doc
        elif "config" in doc:
            doc["summary"] = coverage.summarise(doc["records"], doc["setup"])
            if doc["config"] in coverage.CONFIGS and coverage.CONFIGS[doc["config"]].extra_summary:
                doc["extra"] = coverage.CONFIGS[doc["config"]].extra_summary(
                    doc["records"], doc["setup"]
                )
            docs[doc["config"]] = doc
    return docs, ext


def tables(folder: str, compare: str | None = None) -> str:
    docs, ext = _load(folder)
    before = _load(compare)[0] if compare else {}
    out = []
    order = [n for n in coverage.CONFIGS if n in docs] + [
        n for n in docs if n not in coverage.CONFIGS
    ]
    for name in order:
        doc = docs[name]
        secs = doc["rep_seconds"] + doc.get("setup_seconds", 0.0)
        out.append(
            f"### {name}\n\n{doc['description']}  \n"
            f"{len(doc['records'])} repetitions, B = {doc['bootstrap']} bootstrap replicates, "
            f"{secs / 60:.1f} min here. Truth: {doc['setup']['truth_method']}.\n"
        )
        out.append(coverage.format_table(doc))
        if name in before:
            out.append("\nBefore -> after (coverage):\n")
            for key, s in doc["summary"].items():
                b = before[name]["summary"].get(key, {})
                if s.get("reps") and b.get("reps"):
                    out.append(f"- {key}: {100 * b['coverage']:.1f}% -> {100 * s['coverage']:.1f}%")
        if "extra" in doc:
            e = doc["extra"]
            out.append(
                f"\nZero errors at a true FMR of 4/n: **{100 * e['zero_error_frequency']:.1f}% ± "
                f"{100 * e['zero_error_mc_se']:.1f}** of repetitions (allowed <= 5%; "
                f"{100 * e['zero_error_if_independent']:.1f}% if comparisons were independent); "
                f"count variance / Poisson variance = {e['count_variance_over_poisson']:.2f}; "
                f"{'pass' if e['pass'] else '**FAIL**'}."
            )
        out.append("")
    if ext is not None:
        rows = extrapolation.summarise(ext["records"])
        secs = sum(r.get("seconds", 0.0) for r in ext["records"])
        st = ext["settings"]
        out.append(
            f"### extrapolation\n\nFit on {st['fit_gallery']:,} distractors, measured on "
            f"{st['fit_gallery'] * st['growth']:,}; {st['probes']:,} non-mated probes; scale "
            f"bootstrap B = {st['bootstrap']}; {len(ext['records'])} data sets, "
            f"{secs / 60:.1f} min here.\n"
        )
        out.append(extrapolation.format_table(rows))
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m validation.report")
    ap.add_argument("folder")
    ap.add_argument("--compare", help="an earlier results folder (e.g. the baseline)")
    ap.add_argument(
        "--update-doc",
        metavar="MD",
        help=f"replace the text between {BEGIN!r} and {END!r} in this Markdown file",
    )
    a = ap.parse_args(argv)
    text = tables(a.folder, a.compare)
    if a.update_doc:
        with open(a.update_doc) as fh:
            doc = fh.read()
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(a.update_doc, "w") as fh:
            fh.write(f"{head}{BEGIN}\n\n{text}\n{END}{tail}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
