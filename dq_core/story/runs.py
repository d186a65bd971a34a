"""The runs of the story: each finished run read back (report/load.load_run), its metrics, and the paired
comparison of every later run against the first (compare_runs), as `dq report` shows them. A run records
the dataset it trained on (metrics.json ``dataset``: name, fingerprint, rows); one trained on another
dataset than DATA is said so and shown apart, never compared as if it were DATA's."""

from __future__ import annotations

from dq_core.data.dataset import TextDataset


def dataset_match(record, ds: TextDataset) -> tuple[bool | None, str]:
    """(True / False / None = not recorded, a sentence) for whether ``record`` trained on ``ds``."""
    rec = record.metrics.get("dataset") or {}
    fp, n = rec.get("fingerprint"), rec.get("n_rows")
    if not fp:
        return None, (f"run '{record.name}' does not record which dataset it trained on; it is shown as "
                      "given, not checked against DATA")
    if fp == ds.fingerprint:
        return True, ""
    rows = f"{int(n):,} rows" if isinstance(n, int | float) else "an unknown number of rows"
    return False, (f"run '{record.name}' was trained on another dataset ('{rec.get('name')}', {rows}, "
                   f"fingerprint {str(fp)[:12]}) than DATA ('{ds.name}', {len(ds):,} rows, fingerprint "
                   f"{ds.fingerprint[:12]}); it is shown apart and left out of the comparison")


def _run_dict(name: str, record) -> dict:
    from dq_core.report.content import confusion_frame, run_summary_lines

    ev = record.evaluation
    return {"name": name, "run_id": record.run_id, "path": str(record.path),
            "headline": {k: v for k, v in record.headline().items()},
            "n_test": ev.n, "summary": run_summary_lines(record),
            "labels": list(ev.labels), "confusion": confusion_frame(ev).values.tolist(),
            "dataset": record.metrics.get("dataset"), "trainer": record.metrics.get("trainer"),
            "backbone": (record.metrics.get("training") or {}).get("backbone"),
            "seed": (record.config.get("train") or {}).get("seed")}


def runs_section(run_dirs, ds: TextDataset, *, seed: int = 0) -> tuple[dict, dict]:
    """Runs on DATA (compared, the first is the baseline) and runs on another dataset (apart, with the line
    that says so), and {name: EvaluationResult} of the compared runs for the HTML's figures. Raises DataError, before anything is written, for a folder that is no finished run."""
    from dq_core.report.content import difference_sentence
    from dq_core.report.load import compare_runs, display_names, load_run

    records = [load_run(d) for d in run_dirs]
    matched, apart, notes = [], [], []
    for rec in records:
        same, line = dataset_match(rec, ds)
        (apart if same is False else matched).append(rec)
        if line:
            notes.append(line)
    # names as compare_runs gives them to the matched runs, so the comparison's names are the table's
    out = {"runs": [_run_dict(n, r) for n, r in zip(display_names(matched), matched, strict=True)],
           "apart": [_run_dict(n, r) for n, r in zip(display_names(apart), apart, strict=True)],
           "notes": notes, "comparison": None, "differences": []}
    evaluations = {x["name"]: r.evaluation for x, r in zip(out["runs"], matched, strict=True)}
    if len(matched) > 1:
        cmp = compare_runs(matched, seed=seed)
        out["comparison"] = cmp.to_dict()
        # the bootstrap's own a / b (the two runs' values) override the names in to_dict: keep them apart
        out["differences"] = [{**d.to_dict(), "baseline": d.a, "run": d.b,
                                "sentence": difference_sentence(d)} for d in cmp.differences]
    return out, evaluations
