"""A region's analysis run fanned out: one job per municipality plus a combining job, so several worker hosts
share the reading of a large region's results (domain.md §8; the national picture is many such regions).

The jobs are in app/analysis/jobs.py; this module holds the split, the failures and the staged frames.

    run_analysis(run)            the run's own tracked job: `dispatch` makes one part per municipality (`plan`:
                                 the schools' parent organisation) and enqueues, after its commit, a part job each
                                 and the combining job, which waits for all of them (RQ dependencies)
    run_part(part)               reads the municipality's result rows of the run's years and parses their task
                                 scores — the work that grows with the rows — and stages them on the part row
    combine_analysis(run)        puts the parts together in the rows' id order (the very frame one query over the
                                 region gives), computes every method once over the region (the verdicts, ШНОР
                                 and the clusters compare a school with the whole region, so they cannot be
                                 computed per municipality) and stores the results: identical to the single job

A part that fails (its job raised, or the reconciler found its worker gone) fails the run at once with the
municipality named (the part kind's `after_fail`, in app/analysis/services.py), cancels the other parts and clears
their staged rows; the combining job of a run that is no longer running does nothing. Nothing is left queued,
running or staged. Staged data is plain arrays (numpy .npz, no pickles), cleared by the combining job.
"""

import io

from sqlalchemy import select, update

from app.analysis.models import AnalysisPart
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import registry
from app.jobs.tracked import fail
from app.orgs.models import Organisation

READ_SHARE = 55  # percent of the run's progress bar the parts fill (5 → 60), the combining job the rest


# --- the split ---------------------------------------------------------------------------------------

def plan(school_ids) -> list[tuple[int, list[int]]]:
    """[(municipality id, its school ids)] by id: each school goes with its parent organisation (a school directly
    under the region forms the region's own part)."""
    ids = list(school_ids)
    groups: dict[int, list[int]] = {}
    for start in range(0, len(ids), 5000):
        for school_id, parent_id in db.session.execute(
                select(Organisation.id, Organisation.parent_id).where(Organisation.id.in_(ids[start:start + 5000]))):
            groups.setdefault(parent_id or school_id, []).append(school_id)
    return sorted((org, sorted(schools)) for org, schools in groups.items())


# --- failures --------------------------------------------------------------------------------------------

def part_failure(municipality: str, reason: str) -> str:
    """The run's Russian reason when one municipality's part failed."""
    return (f"Расчёт по муниципалитету «{municipality}» не выполнен: {reason.rstrip('.')}. Результаты анализа не "
            "сохранены; запустите анализ снова.")


def parts_failed(part_ids: list[int]) -> None:
    """The part kind's `after_fail`: fail each failed part's run with the municipality named, cancel the run's other
    parts and clear what they staged (flushes, in the failing transaction)."""
    rows = db.session.execute(
        select(AnalysisPart.run_id, AnalysisPart.message, Organisation.name)
        .join(Organisation, Organisation.id == AnalysisPart.organisation_id)
        .where(AnalysisPart.id.in_(list(part_ids))).order_by(AnalysisPart.id)).all()
    seen = set()
    for run_id, message, name in rows:
        if run_id in seen:
            continue
        seen.add(run_id)
        fail(registry.get("analysis_run"), [run_id], part_failure(name, message or ""))
        cancel_parts(run_id, f"Отменено: не выполнен расчёт по муниципалитету «{name}».")


def fail_run(run_id: int, message: str) -> None:
    """Fail a fanned-out run (if still pending) and clear what its parts staged, in a transaction of its own."""
    db.session.rollback()
    fail(registry.get("analysis_run"), [run_id], message)
    cancel_parts(run_id, "Отменено: расчёт анализа не выполнен.")
    db.session.commit()


def cancel_parts(run_id: int, message: str) -> None:
    """Fail the run's parts still waiting or running with `message` and clear every part's staged rows (flushes)."""
    db.session.execute(update(AnalysisPart).where(AnalysisPart.run_id == run_id,
                                                  AnalysisPart.status.in_(registry.PENDING))
                       .values(status="failed", message=message, finished_at=utcnow())
                       .execution_options(synchronize_session=False))
    clear_staged(run_id)


def clear_staged(run_id: int) -> None:
    db.session.execute(update(AnalysisPart).where(AnalysisPart.run_id == run_id, AnalysisPart.data.is_not(None))
                       .values(data=None).execution_options(synchronize_session=False))


# --- staged frames -------------------------------------------------------------------------------------

def encode(frame) -> bytes:
    """A results frame as plain arrays (no pickles): numbers as they are, a text column as its values' UTF-8 joined
    by NUL (which JSON text and names never hold) with a mask of the missing ones. Uncompressed: compressing took
    longer than reading the rows (the column is stored uncompressed too, see the migration)."""
    # Local: heavy: numpy and pandas load only when a computation runs.
    import numpy as np
    import pandas as pd

    arrays = {"columns": np.array([str(c) for c in frame.columns], dtype=str)}
    for i, name in enumerate(frame.columns):
        column = frame[name]
        if column.dtype.kind in "iufb":
            arrays[f"v{i}"] = column.to_numpy()
            continue
        missing = pd.isna(column).to_numpy(dtype=bool)
        arrays[f"m{i}"] = missing
        joined = "\0".join("" if m else str(v) for v, m in zip(column.tolist(), missing)).encode()
        arrays[f"t{i}"] = np.frombuffer(joined, dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode(blob: bytes):
    """The frame `encode` staged (text columns as object arrays with None, as data.load_results gives them)."""
    # Local: heavy: pandas loads only when a computation runs.
    import pandas as pd

    columns, values = decode_columns(blob)
    return pd.DataFrame(values, columns=columns)


def decode_columns(blob: bytes) -> tuple[list[str], dict]:
    """(column names, {name: array}) of a staged frame; equal texts share one string object (a region's rows hold
    a handful of distinct procedures and subjects: a string object a row would cost more than the numbers)."""
    # Local: heavy: numpy loads only when a computation runs.
    import numpy as np

    # Local: heavy: the methods' data module loads pandas and numpy.
    from app.analysis.methods.data import shared_texts

    with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
        columns = arrays["columns"].tolist()
        values = {}
        for i, name in enumerate(columns):
            if f"v{i}" in arrays:
                values[name] = arrays[f"v{i}"]
                continue
            missing = arrays[f"m{i}"]
            text = shared_texts(arrays[f"t{i}"].tobytes().decode().split("\0") if len(missing) else [])
            text[missing] = None
            values[name] = text
    return columns, values


def join_staged(blobs):
    """The parts' staged frames (an iterable of blobs, read one at a time) as the one frame a single query gives:
    rows in id order, the id column dropped, the task columns task_1 … task_N after the others (NaN where a part's
    rows have fewer tasks). Column by column: each part's piece of a column is freed once the column is put
    together, so the join holds the parts' rows once plus one column, not the parts and a concatenated copy."""
    # Local: heavy: numpy and pandas load only when a computation runs.
    import numpy as np
    import pandas as pd

    # Local: heavy: the methods' data module loads pandas and numpy.
    from app.analysis.methods import data

    pieces, lengths, names = [], [], []
    for blob in blobs:
        columns, values = decode_columns(blob)
        del blob
        size = len(values[columns[0]]) if columns else 0
        if not size:
            continue
        pieces.append(values)
        lengths.append(size)
        names += [c for c in columns if c not in names]
    if not pieces:
        return data.empty_results()
    order = np.argsort(np.concatenate([p.pop("id") for p in pieces]), kind="stable")
    tasks = sorted((c for c in names if c.startswith("task_") and c[5:].isdigit()), key=lambda c: int(c[5:]))
    names = [c for c in names if c != "id" and c not in tasks] + tasks
    joined = {}
    for name in names:
        parts = []
        for values, size in zip(pieces, lengths):
            piece = values.pop(name, None)
            parts.append(np.full(size, np.nan) if piece is None else piece)
        joined[name] = np.concatenate(parts)[order] if len(parts) > 1 else parts[0][order]
        del parts
    return pd.DataFrame(joined, columns=names)
