"""The data snapshot of a rendered version: the template context as plain JSON, kept on the version.

`dump(context, folder)` → a JSON-safe dict: dates, datetimes and decimals are tagged so `load` gives them
back as they were; `context["charts"]` ({name: png bytes}) are written as files under STORAGE_DIR/`folder`
and the snapshot keeps their paths and SHA-256. `load(snapshot)` → the context again (charts read back
and checked). The registered copy of a signed version is rendered from this snapshot, so it shows exactly
the data that was signed even when the cycle's data changed afterwards.
"""

import hashlib
import uuid
from datetime import date, datetime
from decimal import Decimal

from app.core.errors import ValidationFailed
from app.documents.storage import storage_root

FORMAT = 1


def _plain(value):
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)  # anything else renders through str() in the template anyway


def _restore(value):
    if isinstance(value, dict):
        if len(value) == 1:
            (key, raw), = value.items()
            if key == "__datetime__":
                return datetime.fromisoformat(raw)
            if key == "__date__":
                return date.fromisoformat(raw)
            if key == "__decimal__":
                return Decimal(raw)
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def dump(context: dict, folder: str) -> dict:
    """The snapshot of `context`; chart images are stored as files under STORAGE_DIR/`folder`."""
    charts = {}
    for name, png in (context.get("charts") or {}).items():
        relative = f"{folder}/chart-{uuid.uuid4().hex}.png"
        target = storage_root() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)
        charts[str(name)] = {"path": relative, "sha256": hashlib.sha256(png).hexdigest()}
    data = {key: _plain(value) for key, value in context.items() if key != "charts"}
    return {"format": FORMAT, "context": data, "charts": charts, "has_charts": "charts" in context}


def load(snapshot: dict) -> dict:
    """The context a snapshot was made from. Raises ValidationFailed when a chart file is missing or altered."""
    context = _restore(snapshot.get("context") or {})
    if snapshot.get("has_charts"):
        charts = {}
        for name, meta in (snapshot.get("charts") or {}).items():
            path = storage_root() / meta["path"]
            if not path.is_file():
                raise ValidationFailed(f"Иллюстрация «{name}» подписанной редакции отсутствует в хранилище.")
            png = path.read_bytes()
            if hashlib.sha256(png).hexdigest() != meta["sha256"]:
                raise ValidationFailed(f"Иллюстрация «{name}» подписанной редакции изменена в хранилище.")
            charts[name] = png
        context["charts"] = charts
    return context
