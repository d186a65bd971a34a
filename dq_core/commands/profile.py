"""`dq profile DATA [--reference REF]`: the Overview page's numbers as JSON."""

from __future__ import annotations

from dq_core.commands.common import add_data_args, load_inputs, print_json
from dq_core.metrics.profile import compute_profile


def add_parser(sub) -> None:
    p = sub.add_parser("profile", help="class balance, text lengths, empties and duplicates as JSON")
    add_data_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    ds, ref = load_inputs(args)
    out = compute_profile(ds).to_dict()
    if ref is not None:
        out["reference"] = compute_profile(ref).to_dict()
    print_json(out)
    return 0
