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
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dq_core import settings
from dq_core.data.dataset import ColumnMapping, TextDataset, content_fingerprint
from dq_core.data.io import atomic_write_bytes, atomic_write_text
from dq_core.errors import DataError
from dq_core.util.jsonsafe import dumps_json

CACHE_VERSION = 1
log = logging.getLogger(__name__)


def home() -> Path:
    return settings.get("DQ_HOME")


def config_key(*parts) -> str:
    """A short stable key for a cache entry: fingerprints + parameters + the cache version."""
    payload = dumps_json([CACHE_VERSION, *parts], indent=None, sort_keys=True)
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
        # Loading the file again repairs a damaged copy (a truncated data.parquet, a meta.json without
        # its mapping): the check reads only meta.json and the Parquet footer, so it stays cheap.
        if not meta_path.exists() or self._stored_damage(d) is not None:
            buf = _frame_to_parquet(ds.frame)
            atomic_write_bytes(d / "data.parquet", buf)
            meta = {"id": ds_id, "name": ds.name, "source": ds.source, "notes": list(ds.notes),
                    "fingerprint": ds.fingerprint, "mapping": ds.mapping.to_dict(), "n_rows": len(ds)}
            atomic_write_text(meta_path, dumps_json(meta))
        return ds_id

    @staticmethod
    def _stored_damage(d: Path) -> str | None:
        """What is wrong with a stored dataset folder (None when meta.json and the Parquet footer are sound)."""
        import pyarrow.parquet as pq

        try:
            meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                return "meta.json is not a record"
            ColumnMapping.from_dict(meta["mapping"])
            n_rows = pq.ParquetFile(d / "data.parquet").metadata.num_rows
        except FileNotFoundError as exc:
            return f"{Path(exc.filename or '').name or 'a file'} is missing"
        except (KeyError, TypeError, AttributeError):
            return "meta.json has no column mapping"
        except (OSError, ValueError, RecursionError) as exc:
            return f"a file cannot be read ({type(exc).__name__})"
        if isinstance(meta.get("n_rows"), int) and meta["n_rows"] != n_rows:
            return f"data.parquet holds {n_rows} rows, meta.json says {meta['n_rows']}"
        return None

    def load_dataset(self, ds_id: str) -> TextDataset:
        d = self.datasets_dir() / _safe_id(ds_id)
        if not (d / "meta.json").exists() and not (d / "data.parquet").exists():
            raise DataError(f"dataset '{ds_id}' is not in the workspace {self.root}; load it again")
        damage = self._stored_damage(d)
        try:
            if damage is None:
                meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
                frame = pd.read_parquet(d / "data.parquet")
                mapping = ColumnMapping.from_dict(meta["mapping"])
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a damaged file
            damage = f"a file cannot be read ({type(exc).__name__})"
        if damage is not None:
            raise DataError(f"the stored copy of dataset '{ds_id}' in the workspace is damaged ({damage}); load "
                            "the file again to repair it")
        for c in ("text", "label", "split"):
            if c in frame.columns:
                frame[c] = frame[c].astype("string")
        return TextDataset(frame=frame, mapping=mapping, name=str(meta.get("name", ds_id)),
                           source=meta.get("source", ""), notes=tuple(meta.get("notes", ())),
                           fingerprint=meta.get("fingerprint") or content_fingerprint(frame))

    def list_datasets(self) -> list[dict]:
        out = []
        if self.datasets_dir().is_dir():
            for meta in sorted(self.datasets_dir().glob("*/meta.json"), key=lambda p: p.stat().st_mtime,
                               reverse=True):
                try:
                    m = json.loads(meta.read_text(encoding="utf-8"))
                except (OSError, ValueError, RecursionError):
                    continue
                if isinstance(m, dict) and "id" in m:
                    out.append(m)
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
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - truncated header, bad magic, EOF: a corrupt entry is a miss
            _drop_damaged(p)
            return None

    def save_json(self, kind: str, key: str, obj) -> Path:
        p = self.cache_path(kind, key, ".json")
        atomic_write_text(p, dumps_json(obj, indent=None))
        return p

    def has_json(self, kind: str, key: str) -> bool:
        p = self.cache_path(kind, key, ".json")
        try:
            return p.is_file() and p.stat().st_size > 0  # an empty file is a damaged entry, not a hit
        except OSError:
            return False

    def load_json(self, kind: str, key: str):
        p = self.cache_path(kind, key, ".json")
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError):  # empty, truncated, not UTF-8, absurdly nested
            _drop_damaged(p)
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
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - pyarrow raises many types for a damaged file
            _drop_damaged(p)
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


def _drop_damaged(p: Path) -> None:
    """A damaged cache file is deleted and said (the caller recomputes it): never trusted, never a crash."""
    log.warning("note: the cache file %s/%s was damaged; it was deleted and will be recomputed",
                p.parent.name, p.name)
    try:
        p.unlink()
    except OSError:
        pass


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


