"""`dq embed DATA [--model DIR] --out FILE.npy`: one float32 row per input row, in input order.

Rows with empty or missing text get a zero vector (said on stderr with their count); progress (rows,
rate, ETA) goes to stderr on a terminal or with --progress. Vectors are L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

from dq_core.commands.common import add_data_args, warn
from dq_core.commands.progress import CliProgress, add_progress_args
from dq_core.errors import DataError


def add_parser(sub) -> None:
    p = sub.add_parser("embed", help="sentence embeddings of DATA's texts as a float32 .npy matrix",
                       description="Embed every row's text with a sentence-transformers model (default: the "
                       "bundled all-MiniLM-L6-v2). Vectors are cached in the workspace (DQ_HOME), so a "
                       "second run, or a run on a grown file, embeds only new texts.")
    add_data_args(p, reference=None)
    p.add_argument("--model", default=None, metavar="DIR",
                   help="a sentence-transformers model folder, or a hub name when online (default: bundled)")
    p.add_argument("--out", required=True, metavar="FILE.npy", help="where to write the (rows x dims) matrix")
    p.add_argument("--batch-size", type=int, default=None,
                   help="texts per forward pass (default 32 on CPU, 1024 on a GPU)")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                   help="model precision: auto = bfloat16 on CPUs with native bf16, else float32")
    p.add_argument("--long-texts", choices=["truncate", "chunks"], default=None,
                   help="texts longer than the model's max length: truncate (embed their first tokens; the "
                   "default, or DQ_LONG_TEXTS) or chunks (mean of the vectors of consecutive windows)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    add_progress_args(p)
    p.set_defaults(func=run)


def load_texts(args):
    """DATA as a dataset; labels are optional here (a text-only file embeds fine)."""
    from dq_core.data.codepages import text_encoding
    from dq_core.data.dataset import ColumnMapping, build_dataset, guess_mapping
    from dq_core.data.decoding import ignored_encoding_note
    from dq_core.data.io import load_dataset, read_hf_hub, read_path
    from dq_core.data.readers import with_note

    spec = args.data
    if spec.startswith("demo:") or args.label_col:
        ds, _ = load_dataset(spec, text_col=args.text_col, label_col=args.label_col, id_col=args.id_col,
                             warn=warn, require_labels=False, encoding=args.encoding)
        return _said(ds)
    encoding = text_encoding(args.encoding)
    if spec.startswith("hf:"):
        raw = with_note(read_hf_hub(spec[3:]), ignored_encoding_note(encoding, "Hub datasets"))
    else:
        raw = read_path(spec, encoding)
    # Guess the label too (kept as metadata-free label when found), but never require one: a fixed
    # placeholder label lets the text guess run on files without any label column.
    guess = guess_mapping(raw.frame, text=args.text_col)
    if guess.mapping is None:
        guess = guess_mapping(raw.frame, text=args.text_col, label="\x00no label")
        if guess.mapping is None:
            raise DataError(f"could not guess the text column; pass --text-col NAME "
                            f"(columns: {', '.join(map(str, raw.frame.columns[:12]))})")
        mapping = ColumnMapping(text=guess.mapping.text, label="", id=args.id_col)
    else:
        g = guess.mapping
        mapping = ColumnMapping(text=g.text, label=g.label, id=args.id_col or g.id)
    if not args.text_col:
        warn(f"guessed text column '{mapping.text}' (pass --text-col to choose)")
    return _said(build_dataset(raw.frame, mapping, name=Path(spec).name, source=spec, notes=raw.notes,
                               require_labels=False))


def _said(ds):
    """The loader's notes (a guessed code page, above all) go to stderr, as every other command's do."""
    for n in ds.notes:
        warn(n)
    return ds


def run(args) -> int:
    from dq_core.data.io import atomic_write_bytes
    from dq_core.data.workspace import Workspace
    from dq_core.space.embed import embed_dataset, embed_texts

    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise DataError(f"--out {out} is a folder; give a file name such as vectors.npy")
    if out.suffix.lower() != ".npy":
        raise DataError(f"--out {out.name} must end in .npy (a NumPy matrix file)")
    ds = load_texts(args)
    ws = Workspace.default()
    progress = CliProgress.from_args(args).rows("embedding")
    if args.no_cache:
        res = embed_texts(ds.texts, model=args.model, workspace=ws, batch_size=args.batch_size, progress=progress,
                          use_cache=False, precision=args.precision, long_texts=args.long_texts)
    else:
        res = embed_dataset(ds, model=args.model, workspace=ws, batch_size=args.batch_size, progress=progress,
                            precision=args.precision, long_texts=args.long_texts)
    vectors = np.ascontiguousarray(res.vectors, dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, vectors, allow_pickle=False)
    atomic_write_bytes(out, buf.getvalue())
    if res.n_empty:
        warn(f"{res.n_empty:,} rows have empty or missing text; they were skipped and got zero vectors")
    if res.n_truncated:
        warn(f"{res.n_truncated:,} texts were longer than the model's {res.max_seq_length} tokens and were "
             "truncated (--long-texts chunks embeds them whole)")
    print(f"wrote {vectors.shape[0]:,} x {vectors.shape[1]} float32 vectors to {out} "
          f"({res.n_cached:,} rows from the cache, {res.n_computed:,} texts embedded; model {res.model_name})",
          file=sys.stderr)
    return 0
