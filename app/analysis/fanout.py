"""A region's analysis run fanned out: one job per municipality plus a combining job, so several worker hosts
share the reading of a large region's results (domain.md §8; the national picture is many such regions), and no
job holds the region's rows (issue 15 §4: the combining job holds its units and their statistics).

The jobs are in app/analysis/jobs.py; this module holds the split, the failures and what the parts stage.

    run_analysis(run)            the run's own tracked job: `dispatch` makes one part per municipality (`plan`:
                                 the schools' parent organisation) and enqueues, after its commit, a part job each
                                 and the combining job, which waits for all of them (RQ dependencies)
    run_part(part)               reads the municipality's result rows of the run's years — the work that grows
                                 with the rows —, stores its units' aggregate result rows (they need nothing of
                                 the region) and stages round 1 (`stage_part`): its units' aggregates and row
                                 statistics (app/analysis/methods/row_stats.py), each school's input digest, and
                                 for round 2 each row's unit, total score and task scores
    combine_analysis(run)        merges the parts' units in the region's order (`merge_parts`: a Prepared frame
                                 without rows), from which the methods take the region's references; K2's round 2
                                 (each participant against the region's hard and easy tasks) reads the parts'
                                 staged rows one part at a time (`round2`); stores the results: identical to the
                                 single job, which computes the same two rounds over its one frame

A part that fails (its job raised, or the reconciler found its worker gone) fails the run at once with the
municipality named (the part kind's `after_fail`, in app/analysis/services.py), cancels the other parts and clears
their staged data and the result rows the finished parts stored (so does a failed combining job, and the
reconciler finding the combining job's worker gone: the run kind's `after_fail`); the combining job of a run that is
no longer running does nothing. Nothing is left queued, running, staged or stored. Staged data is plain arrays (numpy
.npz, no pickles), cleared by the combining job.
"""

import io

from sqlalchemy import delete, select, update

from app.analysis.models import AnalysisPart, AnalysisResult
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
    """Fail the run's parts still waiting or running with `message`, clear every part's staged rows and delete the
    result rows the finished parts stored (flushes). The parts are failed first: a part finishing at that moment
    either is failed here (its update then changes nothing and it stores nothing) or has committed, and its rows are
    deleted by the statement after."""
    db.session.execute(update(AnalysisPart).where(AnalysisPart.run_id == run_id,
                                                  AnalysisPart.status.in_(registry.PENDING))
                       .values(status="failed", message=message, finished_at=utcnow())
                       .execution_options(synchronize_session=False))
    clear_staged(run_id)
    db.session.execute(delete(AnalysisResult).where(AnalysisResult.run_id == run_id)
                       .execution_options(synchronize_session=False))


def runs_failed(run_ids: list[int]) -> None:
    """The run kind's `after_fail` (its job raised, or the reconciler found the worker gone): a fanned-out run's parts
    are cancelled and what they staged or stored is deleted (nothing, for a single job: its rows were rolled back).
    Flushes."""
    for run_id in run_ids:
        cancel_parts(run_id, "Отменено: расчёт анализа не выполнен.")


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


# --- a part's summary and the two rounds (app/analysis/methods/row_stats.py) ----------------------------

def stage_part(frame, near_level: float, digests: dict, store=None) -> bytes:
    """What a municipality's part stages, from its rows (data.load_results with ids): round 1 — its units (their
    aggregates and the id of each unit's first row, which puts them in the region's order) with their row
    statistics; for round 2 each row's unit, total score and task scores; the input digest of each school
    (`digests`, {school id: bytes}); plain arrays in one .npz. Never the rows' other columns.

    `store(frame)`: stores the units' aggregates (aggregates.school_aggregates: a unit's own numbers, nothing of the
    region's) as the run's result rows and gives their number, staged for the run's summary — a region's largest
    kind of result rows, made by the parts instead of the combining job."""
    # Local: heavy: numpy and the statistical methods load only when a computation runs.
    import numpy as np

    # Local: heavy: the methods' modules load pandas and numpy.
    from app.analysis.methods import aggregates, row_stats, tasks

    ids = frame["id"].to_numpy()
    p = aggregates.prepare(frame.drop(columns="id"))
    stats = row_stats.of(p, near_level)
    units = p.units.drop(columns="work")
    _codes, first = np.unique(p.unit, return_index=True)
    units.insert(0, "first_id", ids[first] if len(first) else np.zeros(0, dtype=np.int64))
    block = tasks.task_block(p.results)
    schools = sorted(digests)
    stored = store(aggregates.school_aggregates(p)) if store is not None else 0
    arrays = {"units": np.frombuffer(encode(units), dtype=np.uint8), "aggregates": np.array([stored], dtype=np.int64),
              **{f"s_{name}": getattr(stats, name) for name in row_stats.ARRAYS},
              "near_level": np.array([near_level], dtype=float),
              "r_unit": p.unit, "r_score": p.score,
              "r_tasks": np.column_stack(block) if block else np.zeros((len(p.unit), 0)),
              "d_school": np.array(schools, dtype=np.int64),
              "d_digest": np.array([np.frombuffer(digests[s], dtype=np.uint8) for s in schools],
                                   dtype=np.uint8).reshape(len(schools), 32)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


class Merged:
    """Round 1 of a fanned-out run put together: the region's Prepared frame without rows (its units and works in
    the very order one query over the region gives them, the merged row statistics attached), the schools'
    digests, the number of rows and of the aggregate result rows the parts stored; `position[k]` is where the k-th
    unit of the parts (in part order) went."""

    def __init__(self, prepared, digests: dict, rows: int, position, offsets: list[int], aggregates: int = 0):
        self.prepared, self.digests, self.rows = prepared, digests, rows
        self.position, self.offsets, self.aggregates = position, offsets, aggregates


def merge_parts(blobs) -> Merged:
    """Round 1: the parts' staged summaries (an iterable of blobs, read one at a time) as one region's."""
    # Local: heavy: numpy and pandas load only when a computation runs.
    import numpy as np
    import pandas as pd

    # Local: heavy: the methods' modules load pandas and numpy.
    from app.analysis.methods import aggregates, data, row_stats

    frames, pieces, digests, offsets, rows, total, stored = [], [], {}, [], 0, 0, 0
    for blob in blobs:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            units = decode(arrays["units"].tobytes())
            stored += int(arrays["aggregates"][0])
            pieces.append(row_stats.UnitRows(**{name: arrays[f"s_{name}"] for name in row_stats.ARRAYS},
                                             near_level=float(arrays["near_level"][0])))
            for school, digest in zip(arrays["d_school"].tolist(), arrays["d_digest"]):
                digests[int(school)] = digest.tobytes()
            rows += len(arrays["r_unit"])
        del blob
        offsets.append(total)
        total += len(units)
        frames.append(units)
    if not rows:
        # no rows anywhere: the methods take the empty frame, as the single job's
        return Merged(data.without_task_text(data.empty_results()), digests, 0, np.zeros(0, dtype=np.int64), offsets,
                      stored)
    units = pd.concat(frames, ignore_index=True)
    order = np.argsort(units.pop("first_id").to_numpy(), kind="stable")
    units = units.iloc[order].reset_index(drop=True)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    # works numbered by first appearance in the region's order, as aggregates.prepare numbers them
    columns = ["procedure", "year", "subject", "grade"]
    codes, _uniques = pd.factorize(pd.MultiIndex.from_arrays([units[c].to_numpy() for c in columns]))
    _codes, first = np.unique(codes, return_index=True)
    # built as aggregates.prepare builds it (from plain arrays: the same dtypes pandas infers there)
    works = pd.DataFrame({"procedure": units["procedure"].to_numpy(dtype=object)[first],
                          "year": units["year"].to_numpy()[first].astype(int),
                          "subject": units["subject"].to_numpy(dtype=object)[first],
                          "grade": units["grade"].to_numpy()[first].astype(int)})
    units.insert(0, "work", codes.astype(np.int64))
    empty = np.zeros(0)
    prepared = aggregates.Prepared(results=pd.DataFrame(), pct=empty, score=empty, max_score=empty, mark=empty,
                                   term=empty, work=np.zeros(0, dtype=np.int64), unit=np.zeros(0, dtype=np.int64),
                                   works=works, units=units)
    prepared.cache["unit_rows"] = row_stats.merge(pieces, order, units["work"].to_numpy())
    return Merged(prepared, digests, rows, position, offsets, stored)


def round2(blobs, merged: Merged, tmax, easy, hard):
    """Round 2: K2's sums over every part's rows against the region's hard and easy tasks (row_stats.k2_sums), one
    part's rows at a time (an iterable of the same blobs in the same order as merge_parts read)."""
    # Local: heavy: numpy and the statistical methods load only when a computation runs.
    import numpy as np

    # Local: heavy: the methods' modules load pandas and numpy.
    from app.analysis.methods import row_stats

    unit_work = merged.prepared.units["work"].to_numpy()
    nu = len(unit_work)

    def pieces():
        for k, blob in enumerate(blobs):
            offset = merged.offsets[k]
            with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
                unit = merged.position[offset + arrays["r_unit"]]
                matrix = arrays["r_tasks"]
                block = [matrix[:, t] for t in range(matrix.shape[1])]
                piece = row_stats.k2_sums(unit, unit_work[unit], arrays["r_score"], block, nu, tmax, easy, hard)
            del blob, matrix, block
            yield piece

    return row_stats.Round2.combined(pieces())
