"""Every ``DQ_*`` environment variable: its type, default, allowed values and help, declared once.

Values are read when used (:func:`get` looks at ``os.environ`` on each call), so a test that sets a
variable, or a job worker that inherits the server's environment, sees the value in force. An empty value
counts as unset. A bad value is one :class:`DataError` in one style, ``DQ_<NAME>='value' must be ...``, which
the CLI prints as ``error: ...`` (exit 2). No other module reads ``DQ_*`` from the environment (a test
checks it), and the README's settings tables are rendered from here (``python -m dq_core.settings
README.md`` rewrites them; a test checks they match).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from dq_core.errors import DataError

KINDS = ("int", "flag", "choice", "path", "text", "pause")
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
GROUPS = ("paths", "tuning", "serving", "limits")


@dataclass(frozen=True)
class Setting:
    """One variable. ``default`` is what :func:`get` returns when it is unset (None: the code that uses it
    decides, e.g. "all cores"); ``shown_default`` is how the README writes that default."""

    name: str
    kind: str
    default: object
    help: str
    group: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    shown_default: str = ""
    internal: bool = False  # a hand-off or test hook: declared here, left out of the README

    def expected(self) -> str:
        """What a good value looks like, for the error message."""
        if self.kind == "int":
            return "a positive whole number" if self.minimum == 1 else f"a whole number, {self.minimum} or more"
        if self.kind == "flag":
            return "1 or 0 (also true/false, yes/no, on/off)"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "pause":
            return "<phase>:<seconds>, seconds a number"
        return "a non-empty value"

    def parse(self, raw: str) -> object:
        """The typed value of the non-empty string ``raw``; DataError when it is not one."""
        value = raw.strip()
        if self.kind == "int":
            try:
                number = int(value)  # accepts 1_000_000, as Python does
            except ValueError:
                number = None
            if number is not None and (self.minimum is None or number >= self.minimum):
                return number
        elif self.kind == "flag" and value.lower() in TRUE + FALSE:
            return value.lower() in TRUE
        elif self.kind == "choice" and value.lower() in self.choices:
            return value.lower()
        elif self.kind == "path":
            return Path(value).expanduser().resolve()
        elif self.kind == "text":
            return value
        elif self.kind == "pause":
            phase, sep, seconds = value.partition(":")
            try:
                pause = float(seconds)
            except ValueError:
                pause = None
            if phase and sep and pause is not None:
                return phase, min(max(pause, 0.0), 600.0)
        raise DataError(f"{self.name}={raw!r} must be {self.expected()}")


_DECLARED = (
    # Where data and the workspace live
    Setting("DQ_DATA_DIR", "path", "data", "the only folder the dashboard reads server-side paths from; `../` "
            "escapes, absolute paths elsewhere and symlinks out of it are refused", "paths",
            shown_default="`./data`"),
    Setting("DQ_HOME", "path", ".dq", "the workspace: `datasets/<id>/data.parquet + meta.json` (each loaded "
            "dataset, id = content fingerprint), `cache/` (expensive results keyed by fingerprints), `recipes/`, "
            "`runs/`", "paths", shown_default="`./.dq`"),
    Setting("DQ_MODELS_DIR", "path", None, "the only folder the Train page's *Model folder* field takes "
            "model folders from (give the folder's name)", "paths", shown_default="`DQ_HOME/models`"),
    # Tuning knobs
    Setting("DQ_PREFETCH_EMBEDDINGS", "flag", True, "the app starts embedding the active dataset and reference "
            "in a background thread as soon as they are opened (Coverage, Shift, Clean and the baseline all need "
            "them); the sidebar shows its progress. `0` waits until a page asks", "tuning"),
    Setting("DQ_EMBED_PRECISION", "choice", "auto", "`float32`, `float16`, or `bfloat16` (the default on CPUs "
            "with native bf16: ~3x faster, cosine ≥ 0.99 to float32); `auto` picks", "tuning",
            choices=("auto", "float32", "bfloat16", "float16"), shown_default="auto"),
    Setting("DQ_EMBED_THREADS", "int", None, "torch threads for embedding (by default timed against 1 thread "
            "as it goes)", "tuning", minimum=1, shown_default="auto"),
    Setting("DQ_EMBED_TOKENIZER_THREADS", "int", None, "tokeniser threads while embedding (by default 1 on a "
            "CPU, up to 4 beside a GPU)", "tuning", minimum=1, shown_default="auto"),
    Setting("DQ_LONG_TEXTS", "choice", "truncate", "how texts longer than the model's window are embedded: "
            "`truncate` (their first tokens) or `chunks` (mean of consecutive windows); `dq embed "
            "--long-texts` overrides it for one command", "tuning", choices=("truncate", "chunks")),
    Setting("DQ_WARM_UMAP", "flag", True, "compile umap-learn's numba code in the background at app start",
            "tuning"),
    Setting("DQ_MAP_METHOD", "choice", "umap", "`pca` skips UMAP on the Coverage map", "tuning",
            choices=("umap", "pca")),
    Setting("DQ_ANN_THREADS", "int", None, "threads for the approximate neighbour graph (sets over 20k rows); "
            "`1` makes the graph identical run to run", "tuning", minimum=1, shown_default="all cores"),
    Setting("DQ_SHIFT_AUTO_EMBED_ROWS", "int", 3000, "the Shift page embeds a pair of at most this many texts "
            "without asking; larger pairs wait for a click", "tuning", minimum=0),
    Setting("DQ_TORCH_THREADS", "int", None, "torch threads of a training run's worker (e.g. `1` on a 2-core "
            "server, so the dashboard stays responsive while a run trains)", "tuning", minimum=1,
            shown_default="all cores"),
    # Serving the dashboard
    Setting("DQ_DEFAULT_DEMO", "text", "tweets_airline", "the bundled demo a new session opens when it has no "
            "dataset", "serving"),
    Setting("DQ_SESSION_SCRATCH", "flag", False, "`1`: every browser session works in its own scratch space "
            "(`DQ_HOME/sessions/<key>/`) and the sidebar's toggle is locked on", "serving"),
    Setting("DQ_MAX_TRAINING_RUNS", "int", 1, "training runs of one workspace that run at once; the rest "
            "queue", "serving", minimum=1),
    Setting("DQ_FRAME_ANCESTORS", "text", "'self'", "the CSP `frame-ancestors` source list of `dq app` (e.g. "
            "`'self' https://intranet.example`); anything but `'self'` also drops X-Frame-Options", "serving",
            shown_default="`'self'`"),
    # Limits on what is loaded
    Setting("DQ_MAX_ROWS", "int", 2_000_000, "rows of a loaded file or datasets folder", "limits", minimum=1),
    Setting("DQ_MAX_COLUMNS", "int", 20_000, "columns (wide files load in linear time)", "limits", minimum=1),
    Setting("DQ_MAX_BYTES", "int", 1_000_000_000, "bytes of a file, and of a Parquet file's data once "
            "decompressed", "limits", minimum=1),
    Setting("DQ_MAX_RESAMPLES", "int", 20_000, "bootstrap resamples and permutations of a shift test "
            "(`--bootstrap`, `--permutations`)", "limits", minimum=1),
    # Internal: hand-offs and test hooks
    Setting("DQ_OPEN", "path", None, "set by `dq app --open DIR` for the app it starts: a session with no "
            "dataset opens that `dq compute` output", "internal", internal=True),
    Setting("DQ_WORKER_PAUSE", "pause", None, "test hook `<phase>:<seconds>`: a training worker holds for that "
            "long (at most 600 s) when it reaches the phase (the run-fault tests kill it there)", "internal",
            internal=True),
)
SETTINGS: dict[str, Setting] = {s.name: s for s in _DECLARED}


def get(name: str) -> object:
    """The value of variable ``name`` now: parsed from the environment, or its default when unset or empty.
    A path's default resolves against the working directory, as a set value does."""
    setting = SETTINGS[name]
    raw = os.environ.get(name, "")
    if raw.strip():
        return setting.parse(raw)
    if setting.kind == "path" and setting.default is not None:
        return Path(str(setting.default)).resolve()
    return setting.default


def render_table(group: str) -> str:
    """The Markdown table of the public variables of ``group``, as the README shows it."""
    rows = ["| variable | default | what |", "|---|---|---|"]
    for s in _DECLARED:
        if s.group == group and not s.internal:
            default = s.shown_default or f"`{int(s.default) if s.kind == 'flag' else s.default}`"
            rows.append(f"| `{s.name}` | {default} | {s.help} |")
    return "\n".join(rows)


# A block's body never holds "<!--", so an empty block cannot swallow the next one.
_BLOCK = re.compile(r"(<!-- settings:(\w+) -->\n)((?:(?!<!--).)*?)(<!-- /settings -->)", re.S)


def render_readme(text: str) -> str:
    """``text`` with each ``<!-- settings:GROUP -->`` ... ``<!-- /settings -->`` block re-rendered."""
    return _BLOCK.sub(lambda m: m.group(1) + render_table(m.group(2)) + "\n" + m.group(4), text)


def readme_groups(text: str) -> list[str]:
    """The groups whose tables ``text`` holds, in order."""
    return [m.group(2) for m in _BLOCK.finditer(text)]


if __name__ == "__main__":  # python -m dq_core.settings README.md: rewrite the README's tables
    for file in sys.argv[1:]:
        path = Path(file)
        path.write_text(render_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
