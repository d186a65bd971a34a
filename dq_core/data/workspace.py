"""The on-disk workspace (``DQ_HOME``, default ``./.dq``): stored datasets, caches, recipes and runs.

Layout::

    datasets/<id>/data.parquet + meta.json   a loaded dataset, id = content fingerprint prefix
    cache/<kind>/<key>.*                     expensive results keyed by dataset + config fingerprints
    recipes/<dataset id>/...                 filter recipes and review decisions
    exports/<dataset id>/...                 cleaned data, removal logs and recipes exported from Clean
    runs/<run id>/                           training runs (see jobs.py)

Every write is a temp file + os.replace, so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core.data.dataset import ColumnMapping, TextDataset, content_fingerprint
from dq_core.data.io import atomic_write_bytes, atomic_write_text
from dq_core.errors import DataError
from dq_core.util.jsonsafe import dumps_json

CACHE_VERSION = 1


def home() -> Path:
    return Path(os.environ.get("DQ_HOME", ".dq")).resolve()


def config_key(*parts) -> str:
    """A short stable key for a cache entry: fingerprints + parameters + the cache version."""
    payload = json.dumps([CACHE_VERSION, *parts], sort_keys=True, default=str)
    return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def default(cls) -> Workspace:
        return cls(home())

    # ------------------------------------------------------------ datasets
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    def save_dataset(self, ds: TextDataset) -> str:
        """Store the canonical frame as Parquet; returns the dataset id. Idempotent for the same content."""
        ds_id = ds.fingerprint[:16]
        d = self.datasets_dir() / ds_id
        meta_path = d / "meta.json"
        if not meta_path.exists():
            buf = _frame_to_parquet(ds.frame)
            atomic_write_bytes(d / "data.parquet", buf)
            meta = {"id": ds_id, "name": ds.name, "source": ds.source, "notes": list(ds.notes),
                    "fingerprint": ds.fingerprint, "mapping": ds.mapping.to_dict(), "n_rows": len(ds)}
            atomic_write_text(meta_path, json.dumps(meta, indent=2))
        return ds_id

    def load_dataset(self, ds_id: str) -> TextDataset:
        d = self.datasets_dir() / _safe_id(ds_id)
        try:
            meta = json.loads((d / "meta.json").read_text())
            frame = pd.read_parquet(d / "data.parquet")
        except (FileNotFoundError, json.JSONDecodeError, OSError) as exc:
            raise DataError(f"dataset '{ds_id}' is not in the workspace {self.root} ({type(exc).__name__}); "
                            "load it again") from None
        for c in ("text", "label", "split"):
            if c in frame.columns:
                frame[c] = frame[c].astype("string")
        return TextDataset(frame=frame, mapping=ColumnMapping.from_dict(meta["mapping"]), name=meta["name"],
                           source=meta.get("source", ""), notes=tuple(meta.get("notes", ())),
                           fingerprint=meta.get("fingerprint") or content_fingerprint(frame))

    def list_datasets(self) -> list[dict]:
        out = []
        if self.datasets_dir().is_dir():
            for meta in sorted(self.datasets_dir().glob("*/meta.json"), key=lambda p: p.stat().st_mtime,
                               reverse=True):
                try:
                    out.append(json.loads(meta.read_text()))
                except (OSError, json.JSONDecodeError):
                    continue
        return out

    # ------------------------------------------------------------ caches
    def cache_path(self, kind: str, key: str, suffix: str) -> Path:
        p = self.root / "cache" / kind / f"{key}{suffix}"
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def save_array(self, kind: str, key: str, arr: np.ndarray) -> Path:
        import io

        p = self.cache_path(kind, key, ".npy")
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        atomic_write_bytes(p, buf.getvalue())
        return p

    def load_array(self, kind: str, key: str, *, mmap: bool = False) -> np.ndarray | None:
        p = self.cache_path(kind, key, ".npy")
        if not p.exists():
            return None
        try:
            return np.load(p, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError):
            return None  # a corrupt entry is a miss, recomputed and overwritten

    def save_json(self, kind: str, key: str, obj) -> Path:
        p = self.cache_path(kind, key, ".json")
        atomic_write_text(p, dumps_json(obj, indent=None))
        return p

    def has_json(self, kind: str, key: str) -> bool:
        return self.cache_path(kind, key, ".json").is_file()

    def load_json(self, kind: str, key: str):
        p = self.cache_path(kind, key, ".json")
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def save_frame(self, kind: str, key: str, frame: pd.DataFrame) -> Path:
        p = self.cache_path(kind, key, ".parquet")
        atomic_write_bytes(p, _frame_to_parquet(frame))
        return p

    def load_frame(self, kind: str, key: str) -> pd.DataFrame | None:
        p = self.cache_path(kind, key, ".parquet")
        if not p.exists():
            return None
        try:
            return pd.read_parquet(p)
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------ other areas
    def recipes_dir(self, ds_id: str) -> Path:
        p = self.root / "recipes" / _safe_id(ds_id)
        p.mkdir(parents=True, exist_ok=True)
        return p

    def exports_dir(self, ds_id: str) -> Path:
        """Cleaned datasets, removal logs and recipes exported from the Clean page (kept apart from
        recipes/, whose *.json files training lists as recipes)."""
        p = self.root / "exports" / _safe_id(ds_id)
        p.mkdir(parents=True, exist_ok=True)
        return p

    def runs_dir(self) -> Path:
        p = self.root / "runs"
        p.mkdir(parents=True, exist_ok=True)
        return p


def _safe_id(ds_id: str) -> str:
    if not ds_id or not all(c.isalnum() or c in "-_" for c in ds_id):
        raise DataError(f"'{ds_id}' is not a valid workspace id")
    return ds_id


def _frame_to_parquet(frame: pd.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    # Object metadata columns of mixed types would fail in pyarrow: store them as strings.
    safe = frame.copy()
    for c in safe.columns:
        if safe[c].dtype == object:
            try:
                import pyarrow as pa

                pa.array(safe[c])
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                safe[c] = safe[c].astype(str)
    safe.to_parquet(buf, index=False)
    return buf.getvalue()


