"""Charts drawn once per data change.

matplotlib takes 0.1–0.5 s per chart, so pages never draw on every view. A chart is identified by the SHA-256
of what it is drawn from (its kind, the drawing version and the plain data: names, values, lines); the SVG is
stored under that key (`ChartImage`, shared by every web process) and kept in a small in-process LRU in front of
it. The same data always gives the same key, different data a different one, so a stored chart is never stale
and needs no invalidation: when the data changes the page asks for a new key and that chart is drawn once.

The dashboard's charts are separate images (`/analysis/cycles/<id>/dashboard/charts/<indicator>.svg?v=<key>`)
sent with the key as ETag (a repeat view gets 304 Not Modified) and a long private max-age (the URL changes with
the data). The job that rebuilds a cycle's dashboard draws the charts of its full view ahead of the first visit
(`dashboard.render_dashboard_charts`); a user who sees a part of the cycle (a school) gets their own chart drawn on
first view. The other analysis pages keep their chart inline in the page, taken from the same store.

Why server-side SVG rather than a chart library in the browser: the same drawing code makes the PNG charts of
the analytic report (one look on screen and on paper), the pages need no JavaScript (the CSP allows no inline
script; every page works with scripts off and prints as it looks), and Russian labels are laid out by one font
on every machine. Drawn once per data change, the server cost is one chart per change, not per view.
"""

import hashlib
import json
import threading
from collections import OrderedDict
from datetime import timedelta

from flask import g, has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.analysis import charts
from app.analysis.models import ChartImage
from app.core import russian as ru
from app.extensions import db
from app.monitoring.values import unit_rule
from markupsafe import Markup

# bump when the drawing code changes: every chart gets a new key and is drawn again (2: short names; 3: the total
# in the table's format, «73,0» beside the table's «73,0», not «73»)
VERSION = 3
MEMORY_LIMIT = 128  # charts kept in each process (≈ 20–60 KB each)
KEEP_OLD = timedelta(days=1)  # charts of a cycle older than this are pruned when its charts are redrawn

DRAW = {"indicator": charts.indicator_chart, "shares": charts.shares_chart, "signs": charts.sign_counts_chart,
        "clusters": charts.cluster_chart}

_memory: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def key_of(kind: str, data: dict) -> str:
    """The chart's identity: SHA-256 over its kind, the drawing version and its data (JSON, keys sorted)."""
    text = json.dumps([VERSION, kind, data], ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def forget_memory() -> None:
    """Empty this process's LRU (tests: make the next look-up go to the stored charts)."""
    with _lock:
        _memory.clear()


def _remember(key: str, body: bytes) -> None:
    with _lock:
        _memory[key] = body
        _memory.move_to_end(key)
        while len(_memory) > MEMORY_LIMIT:
            _memory.popitem(last=False)


def svg(kind: str, data: dict, *, cycle_id: int | None = None, key: str | None = None) -> tuple[str, bytes]:
    """(key, SVG bytes) of the chart: from memory, else from the store, else drawn now and added to the session
    (the caller commits: `commit_stored()`; pages on GET do it after the response is built)."""
    key = key or key_of(kind, data)
    with _lock:
        body = _memory.get(key)
        if body is not None:
            _memory.move_to_end(key)
    if body is not None:
        return key, body
    stored = db.session.scalar(select(ChartImage.svg).where(ChartImage.key == key))
    if stored is not None:
        body = stored.encode("utf-8")
    else:
        body = DRAW[kind](**data)
        db.session.add(ChartImage(key=key, kind=kind, cycle_id=cycle_id, svg=body.decode("utf-8")))
        if has_request_context():
            g.analysis_charts_drawn = True
    _remember(key, body)
    return key, body


def commit_stored() -> None:
    """Commit charts drawn in this transaction; another process storing the same chart first is fine."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def inline(kind: str, data: dict, *, cycle_id: int | None = None):
    """The chart as markup to place inside a page (XML prolog and doctype dropped; no script in it)."""

    text = svg(kind, data, cycle_id=cycle_id)[1].decode("utf-8")
    # S704: the SVG is drawn by app/core/charts.py from numbers, its labels escaped there; the prolog is dropped.
    return Markup(text[text.index("<svg"):])  # noqa: S704


# --- the dashboard's charts ------------------------------------------------------------------------------

def value_digits(rows) -> int:
    """The decimals of the dashboard's values, the table's (dashboard.shown_numbers) and its charts': those the
    organisations' values need (their own and their past periods'), at least one — a computed mean is not more
    precise than its data («71,9», not «71,93»; «68,4», not «68,40»); a head count's are whole and do not count."""
    measured = [v for r in rows if not r.is_total and unit_rule(r.indicator.unit) != "count"
                for v in (r.value, *(r.history or {}).get("periods", {}).values()) if v is not None]
    return max(1, ru.decimals(measured))


def indicator_data(ind, group) -> dict:
    """What an indicator's chart is drawn from: its organisations' values (in the table's order), total, lines
    (`summed` only where the total is its organisations' sum: other charts keep the key they were stored under),
    and the decimals the table prints the indicator's values with when it shows the indicator (value_digits of its
    rows: the page's chart and the chart's own URL read the same rows)."""
    total = next((r for r in group if r.is_total), None)
    data = {"title": f"{ind.code} {ind.name}",
            "bars": [[r.organisation.display_name, r.value] for r in group if not r.is_total],
            "total": total.value if total is not None else None,
            "target": float(ind.target) if ind.target is not None else None,
            "baseline": float(ind.baseline) if ind.baseline is not None else None,
            "unit": ind.unit or None, "digits": value_digits(group)}
    if total is not None and (total.history or {}).get("made_by") == "сумма":
        data["summed"] = True
    return data


def by_indicator(cycle, rows) -> list[tuple]:
    """(indicator, its chart data) for each indicator of the cycle with rows, in the cycle's order."""
    groups: dict[int, list] = {}
    for row in rows:
        groups.setdefault(row.indicator_id, []).append(row)
    return [(ind, indicator_data(ind, groups[ind.id])) for ind in cycle.indicators if groups.get(ind.id)]
