"""Manual review decisions of one dataset, saved in the workspace with undo (:class:`DecisionStore`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from dq_core.errors import DataError
from dq_core.filtering.rules import Decision, json_scalar_id

DECISIONS_FILE = "decisions.json"
HISTORY_LIMIT = 200


class DecisionStore:
    """Manual review decisions of one dataset, saved at once (atomically) in the workspace, with undo.

    One JSON file holds the decisions and an undo history of diffs ({row_id: previous decision or None}
    per change), so a crash never leaves the two out of step. A reload reads the same file back.
    """

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / DECISIONS_FILE

    @classmethod
    def for_dataset(cls, workspace, ds_id: str) -> DecisionStore:
        return cls(workspace.recipes_dir(ds_id))

    def _read(self) -> dict:
        if not self.path.exists():
            return {"version": 1, "decisions": [], "history": []}
        try:
            obj = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"the saved review decisions ({self.path}) cannot be read ({type(exc).__name__}); "
                            "move the file away to start over") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("decisions"), list):
            raise DataError(f"the saved review decisions ({self.path}) are not in the expected format")
        obj.setdefault("history", [])
        return obj

    def _write(self, decisions: dict[str, Decision], history: list) -> None:
        from dq_core.data.io import atomic_write_text

        obj = {"version": 1,
               "decisions": [d.to_dict() for d in sorted(decisions.values(),
                                                         key=lambda d: (isinstance(d.row_id, str), d.row_id))],
               "history": history[-HISTORY_LIMIT:]}
        atomic_write_text(self.path, json.dumps(obj, ensure_ascii=False))

    def decisions(self) -> tuple[Decision, ...]:
        return tuple(Decision.from_dict(d) for d in self._read()["decisions"])

    def as_dict(self) -> dict[str, Decision]:
        return {str(d.row_id): d for d in self.decisions()}

    def set(self, changes: Iterable[Decision | tuple]) -> int:
        """Set decisions; a ``(row_id, None)`` pair clears one. One undo step per call. Returns rows changed."""
        obj = self._read()
        cur = {str(d["row_id"]): Decision.from_dict(d) for d in obj["decisions"]}
        diff = {}
        for ch in changes:
            if isinstance(ch, Decision):
                key, new = str(ch.row_id), ch
                rid = ch.row_id
            else:
                rid, new = json_scalar_id(ch[0]), ch[1]
                key = str(rid)
            old = cur.get(key)
            if (old.to_dict() if old else None) == (new.to_dict() if new else None):
                continue
            if key not in diff:
                diff[key] = {"row_id": rid, "previous": old.to_dict() if old else None}
            if new is None:
                cur.pop(key, None)
            else:
                cur[key] = new
        if not diff:
            return 0
        history = obj["history"] + [list(diff.values())]
        self._write(cur, history)
        return len(diff)

    def clear(self) -> int:
        return self.set([(d.row_id, None) for d in self.decisions()])

    def can_undo(self) -> bool:
        return bool(self._read()["history"])

    def undo(self) -> int:
        """Revert the last change (single or bulk); returns rows restored, 0 when there is nothing to undo."""
        obj = self._read()
        if not obj["history"]:
            return 0
        step = obj["history"].pop()
        cur = {str(d["row_id"]): Decision.from_dict(d) for d in obj["decisions"]}
        for entry in step:
            key = str(entry["row_id"])
            prev = entry.get("previous")
            if prev is None:
                cur.pop(key, None)
            else:
                cur[key] = Decision.from_dict(prev)
        self._write(cur, obj["history"])
        return len(step)
