"""The analysis job: load the cycle's results, run the methods of domain.md §8, store every result with
the fingerprint of the inputs, then rebuild the cycle's indicator dashboard.

Runs in an RQ worker (queue `default`), inline after the request's commit when Redis is absent, or
synchronously (demo, tests). It takes the run's id and reloads everything; a run that is not queued is
left alone (app.jobs.tracked claims it with one conditional UPDATE). Progress is written on a separate
connection (as imports do), so the page sees it move while the job's own transaction is still open.
"""

import gc
import hashlib
import json
import logging
import math
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, delete, select, text, update

from app.analysis import fanout
from app.analysis.models import AnalysisPart, AnalysisResult, AnalysisRun
from app.core.errors import DomainError, ValidationFailed
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import registry
from app.jobs.progress import Progress
from app.jobs.queue import dispatch_ready, enqueue_after_commit, job
from app.jobs.tracked import domain_message, enqueue_tracked, in_worker, run_tracked
from app.orgs.models import Organisation
from app.analysis.dashboard import refresh_dashboard

log = logging.getLogger(__name__)
FINGERPRINT_VERSION = 3  # 3: the rows hashed school by school (fanned-out runs)


_frozen = 0  # depth of frozen_heap blocks in this process
# Inline jobs (no Redis) run in the web server's threads: the depth must not miss an update, or the heap would stay
# frozen for the life of the process.
_frozen_lock = threading.Lock()


@contextmanager
def frozen_heap():
    """The objects alive when the computation starts (the application's modules, SQLAlchemy's and pandas' own:
    ≈ 330,000 of them) left out of the cyclic garbage collector's full collections until it ends (gc.freeze).
    Reading and storing a region's rows makes millions of short-lived containers; the full collections they
    trigger — ≈ 2 a 100,000 rows — each walked that whole heap again: ≈ 0.2 s each, a quarter of the single job's
    time at 2,400 schools (bench/analysis.py --scale). The job's own objects are collected as before; the frozen
    ones are still freed by reference counting, and any cycle among them waits only until the block ends.
    Reentrant and safe across threads (inline jobs); frozen while any block of the process is open."""
    global _frozen
    with _frozen_lock:
        if not _frozen:
            gc.freeze()
        _frozen += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen -= 1
            if not _frozen:
                gc.unfreeze()


class NoProgress:
    """For runs computed in the caller's transaction (demo, CLI): nobody watches a progress bar."""

    commits_session = False

    def set(self, percent: float, *, force: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


def run_now(run: AnalysisRun) -> AnalysisRun:
    """Compute a queued run in the caller's transaction (flushes, never commits)."""
    run.status, run.started_at = "running", utcnow()
    summary = execute(run, NoProgress())
    run.status, run.progress, run.finished_at, run.summary = "done", 100, utcnow(), summary
    run.message = summary_message(summary)
    db.session.flush()
    return run


@job(queue="default", timeout=1800)
def run_analysis(run_id: int, job_id: str | None = None) -> None:
    """Compute one queued analysis run through app.jobs.tracked.run_tracked: its outcome (done, or failed with
    a message) lands on the row. Unexpected errors are re-raised after the failure is recorded, so RQ records
    them too. `job_id` is accepted for older queued jobs that still pass it."""
    run_tracked("analysis_run", [run_id], lambda _ids: _work(run_id))
    # Follow-up jobs the run committed (its dashboard's charts): a worker has no request to dispatch them after.
    dispatch_ready()


def _work(run_id: int) -> None:
    run = db.session.get(AnalysisRun, run_id)
    if (run.params or {}).get("fanout"):
        dispatch(run)  # the run stays running: its combining job finishes it
        return
    progress = Progress("analysis_run", run.id, commit_on_sqlite=True)
    try:
        summary = execute(run, progress)
    finally:
        progress.close()
    run = db.session.get(AnalysisRun, run_id)
    run.status, run.progress, run.finished_at = "done", 100, utcnow()
    run.summary = summary
    run.message = summary_message(summary)


def summary_message(summary: dict) -> str:
    parts = [f"Школ: {summary.get('schools', 0)}", f"строк результатов: {summary.get('rows', 0)}",
             f"признаков необъективности: {summary.get('markers', 0)}",
             f"ШНОР: {summary.get('shnor', 0)}", f"ШНСУ: {summary.get('shnsu', 0)}"]
    if summary.get("years_with_data") is not None and len(summary["years_with_data"]) < 2:
        parts.append("данные только за один год: динамика и правило двух лет не применимы")
    return "; ".join(parts) + "."


# --- the computation -------------------------------------------------------------------------

def reference_school_ids(run: AnalysisRun) -> list[int]:
    """The schools the run's results are read for: every school of the reference region, by id."""
    params = run.params or {}
    reference = db.session.get(Organisation, params.get("reference_organisation_id") or run.organisation_id)
    return list(db.session.scalars(
        select(Organisation.id).where(Organisation.in_subtree_of(reference), Organisation.kind == "school")
        .order_by(Organisation.id)))


def load_inputs(run: AnalysisRun, results=None):
    """(results, schools, boundaries, thresholds, structures) the run's numbers are computed from: the reference
    region's schools, their results over the run's years and the works' mark boundaries. `results`: what the
    methods take instead of the rows (a fanned-out run's merged units); the rows are read here when None."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    from app.analysis.methods import data, thresholds

    school_ids = reference_school_ids(run)
    limits = thresholds.load_thresholds()
    if results is None:
        results = data.load_results(years=list(run.years), school_ids=school_ids, task_text=False)
    connection = db.session.connection()
    options = connection.get_execution_options()
    if options.get("stream_results") or options.get("yield_per"):
        # Streaming options set on the connection itself would turn every later statement of the job's
        # transaction into a server-side cursor (PostgreSQL refuses DECLARE … CURSOR FOR UPDATE).
        connection.execution_options(stream_results=False, yield_per=None)
    schools = data.load_schools(school_ids)
    boundaries = data.load_boundaries(years=list(run.years))
    return results, schools, boundaries, limits, data.load_structures(years=list(run.years))


def fingerprint(digests: dict, rows: int, schools, boundaries, limits, params: dict) -> str:
    """SHA-256 over the input rows (each school's digest, school_digests, in school order), the schools' context,
    the mark boundaries, parameters and thresholds. Per school, so the parts of a fanned-out run give it without
    the region's rows ever being in one place; the rows' order, how they were read, does not change it."""
    digest = hashlib.sha256()
    digest.update(f"uko-analysis-v{FINGERPRINT_VERSION}\n".encode())
    digest.update(f"results:{rows}\n".encode())
    for school in sorted(digests):
        digest.update(f"{school}:".encode() + digests[school])
    for name, frame in (("schools", schools), ("boundaries", boundaries)):
        _hash_rows(digest, name, list(frame.columns), [frame[c].to_numpy() for c in frame.columns])
    digest.update(_canonical_json(dict(limits)).encode())
    digest.update(_canonical_json(params).encode())
    return digest.hexdigest()


def school_digests(results) -> dict[int, bytes]:
    """{school id: SHA-256 of its result rows} (data.load_results' columns but the row ids; task columns past the
    school's last task score left out, so a part with fewer tasks than the region hashes its rows the same)."""
    # Local: heavy: numpy loads only when a computation runs.
    import numpy as np

    names = [c for c in results.columns if c != "id"]
    if not len(results):
        return {}
    arrays = {c: results[c].to_numpy() for c in names}
    tasks = [c for c in names if c.startswith("task_") and c[5:].isdigit()]
    others = [c for c in names if c not in tasks]
    schools = arrays["school_id"]
    order = np.argsort(schools, kind="stable")
    heads = np.flatnonzero(np.diff(schools[order], prepend=schools[order[0]] - 1))
    out = {}
    for a, b in zip(heads, np.append(heads[1:], len(order))):
        rows = order[a:b]
        used = [c for c in tasks if not np.isnan(arrays[c][rows]).all()]
        columns = others + tasks[:tasks.index(used[-1]) + 1] if used else others
        digest = hashlib.sha256()
        _hash_rows(digest, "results", columns, [arrays[c][rows] for c in columns])
        out[int(schools[rows[0]])] = digest.digest()
    return out


def _hash_rows(digest, name: str, columns: list[str], values: list) -> None:
    """Rows given column by column into `digest`, in a canonical order (sorted by every column), on integer codes:
    text as codes of its sorted distinct values, whose canonical JSON is hashed too (missing: −1)."""
    # Local: heavy: numpy and pandas load only when a computation runs.
    import numpy as np
    import pandas as pd

    size = len(values[0]) if values else 0
    digest.update(f"{name}:{','.join(map(str, columns))}:{size}\n".encode())
    if not size:
        return
    coded = []
    for column in values:
        if column.dtype.kind in "iufb":
            coded.append((column, None))
            continue
        column = np.asarray(column, dtype=object)
        try:
            codes, uniques = pd.factorize(column, sort=True)
        except TypeError:  # unhashable or unorderable values (lists, mixed types): by their JSON
            codes, uniques = pd.factorize(np.array([_canonical_json(v) for v in column], dtype=object), sort=True)
        coded.append((codes, [_canonical_json(u) for u in uniques]))
    order = np.lexsort([c for c, _u in reversed(coded)])
    for column, uniques in coded:
        if uniques is not None:
            digest.update("\0".join(uniques).encode() + b"\n")
        digest.update(np.ascontiguousarray(column[order]).tobytes())


def _canonical_json(value) -> str:
    return json.dumps(plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def plain(value):
    """JSON-friendly primitives from numpy/pandas values (NaN → None)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return plain(value.tolist())
    if hasattr(value, "item"):
        return plain(value.item())
    try:
        # Local: heavy: pandas and the statistical methods load only when a computation runs.
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


TYPED = ("school_id", "year", "procedure", "subject", "grade", "sign")


RECORDS_AT_ONCE = 2000  # frame_rows turns a frame into dicts this many rows at a time


def frame_rows(frame, kind: str, run_id: int, *, value_column: str | None = None, keep=None):
    """Result rows from a DataFrame (or Series) of a method: the key columns typed, everything in payload. Yields
    them, RECORDS_AT_ONCE frame rows turned into dicts at a time: a region's 24,000 unit aggregates made into dicts
    at once were the combining job's largest allocation (issue 15 §4)."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    import pandas as pd

    if frame is None:
        return
    if isinstance(frame, pd.Series):
        frame = frame.rename(frame.name or "value").reset_index()
    if len(frame) == 0:
        return
    if "school_id" not in frame.columns and frame.index.name == "school_id":
        frame = frame.reset_index()
    for start in range(0, len(frame), RECORDS_AT_ONCE):
        yield from _records_as_rows(frame.iloc[start:start + RECORDS_AT_ONCE].to_dict("records"), kind, run_id,
                                    value_column, keep)


def _records_as_rows(records: list[dict], kind: str, run_id: int, value_column: str | None, keep):
    for record in records:
        record = {str(k): plain(v) for k, v in record.items()}
        school_id = record.get("school_id")
        if keep is not None and school_id is not None and int(school_id) not in keep:
            continue
        row = {"run_id": run_id, "kind": kind, "payload": record}
        for name in TYPED:
            v = record.get(name)
            row[name] = (int(v) if name in ("school_id", "year", "grade") and v is not None else v)
        if row["sign"] is not None:
            row["sign"] = str(row["sign"])[:10]
        stat = record.get(value_column) if value_column else None
        row["value"] = float(stat) if isinstance(stat, (int, float)) and not isinstance(stat, bool) else None
        yield row


def execute(run: AnalysisRun, progress: Progress, merged: fanout.Merged | None = None) -> dict:
    """Everything between 'running' and 'done': returns the run's summary; results are flushed. `merged`: a
    fanned-out run's parts put together (their units and row statistics, not their rows); the rows are read here
    when None."""
    with frozen_heap():
        return _execute(run, progress, merged)


def _execute(run: AnalysisRun, progress: Progress, merged: fanout.Merged | None) -> dict:
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    import pandas as pd

    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    from app.analysis.methods import pipeline

    progress.set(2, force=True)
    results, schools, boundaries, limits, structures = load_inputs(
        run, None if merged is None else merged.prepared)
    digests, n_rows = (school_digests(results), len(results)) if merged is None else (merged.digests, merged.rows)
    progress.set(20, force=True)
    # Kept aside until the end: writing the run row now would lock it against the progress updates. How the run
    # was computed (one job or fanned out) is not an input: both give the same numbers and the same fingerprint.
    params = {k: v for k, v in (run.params or {}).items() if k != "fanout"}
    digest = fingerprint(digests, n_rows, schools, boundaries, limits, {
        "years": list(run.years), **params,
        "structures": sorted([list(map(str, key)), list(labels), list(maxima)]
                             for key, (labels, maxima) in structures.items())})
    scope = run.organisation
    keep = set(db.session.scalars(select(Organisation.id).where(
        Organisation.in_subtree_of(scope), Organisation.kind == "school")))
    stale = delete(AnalysisResult).where(AnalysisResult.run_id == run.id)
    # a fanned-out run's aggregate rows are its parts' (committed before this job ran)
    db.session.execute(stale if merged is None else stale.where(AnalysisResult.kind != "aggregate"))

    # Each kind is inserted as soon as its rows are made, and the frame it came from is let go: a region's result
    # rows are never all in memory at once, as JSON or as frames (issue 15 §4). The aggregates and the markers are
    # stored as soon as the markers are made, before the signs' tests and the verdicts (`store`), in the same order
    # as the rest — unless a progress update commits the job's session (SQLite): no result is seen before the run's
    # own commit, so there they are stored after the verdicts.
    rows = StoredRows()
    if merged is not None and merged.aggregates:
        rows.count["aggregate"] = merged.aggregates  # for the summary, as the single job counts what it stores

    def put(frame, kind: str, *, value_column: str | None = None, scoped: bool = True) -> None:
        rows.add(frame_rows(frame, kind, run.id, value_column=value_column, keep=keep if scoped else None))
        rows.store()

    notes = []

    def store(aggregates, markers) -> None:
        put(aggregates, "aggregate", value_column="mean_percent")
        notes.extend(getattr(markers, "notes", None) or [])
        put(markers.markers, "marker", value_column="statistic")
        put(getattr(markers, "not_computable", None), "not_computable")
        put(getattr(markers, "skipped", None), "skipped")

    early = not progress.commits_session
    done = pipeline.compute(results, schools, limits, boundaries=boundaries, structures=structures,
                            years=list(run.years), progress=lambda percent: progress.set(percent, force=True),
                            keep_tests=False,  # not stored: the verdicts carry what they quote
                            with_aggregates=merged is None,  # a fanned-out run's parts stored them (read_part)
                            store=store if early else None)
    # not stored either: the prepared frame and, in the single job, the rows
    done.prepared = results = None
    years_with_data = done.years_with_data
    progress.set(85, force=True)
    progress.close()  # from here on the job's own transaction writes: no second writer on the same rows
    run.fingerprint = digest
    if not early:
        store(done.aggregates, done.markers)
    done.aggregates = done.markers = None
    if done.judged:
        put(done.judged[-1], "verdict", value_column="combined_p")
    done.judged = None
    put(_as_school_frame(done.stable), "stably_objective")
    if done.shares is not None:
        put(done.shares, "municipality_share", value_column="share", scoped=False)
    low, done.low = done.low, None
    notes += list(getattr(low, "notes", None) or [])
    put(low.index, "low_index", value_column=_first(low.index, ("index", "L", "value")))
    put(low.shnor, "shnor")
    put(low.shnsu, "shnsu", value_column="social_index")
    put(_as_school_frame(low.resilient), "resilient")
    del low
    rows.add([{"run_id": run.id, "kind": "note", "payload": {"text": str(note)}, "value": None,
               **{name: None for name in TYPED}} for note in notes])
    rows.store()
    clustering = done.clustering
    labels = clustering.labels
    label_frame = (labels.rename("cluster").rename_axis("school_id").reset_index()
                   if isinstance(labels, pd.Series) else labels)
    put(label_frame, "cluster", value_column="cluster")
    profiles = getattr(clustering, "profiles", None)
    if profiles is not None and len(profiles):
        profile_frame = profiles.reset_index() if not isinstance(profiles.index, pd.RangeIndex) else profiles
        put(profile_frame, "cluster_profile", scoped=False)
    if done.compared is not None:
        put(done.compared, "cluster_position", value_column="z")
    db.session.flush()

    refresh_dashboard(run.cycle, run=run)
    count = rows.count
    return {"schools": len(keep), "rows": int(n_rows), "years_with_data": years_with_data,
            "markers": count.get("marker", 0), "flagged_schools": len(rows.flagged),
            "shnor": count.get("shnor", 0), "shnsu": count.get("shnsu", 0), "resilient": count.get("resilient", 0),
            "clusters": int(getattr(clustering, "k", 0) or 0),
            "cluster_criterion": plain(getattr(clustering, "criterion", None)), "results": count}


STORED = ("run_id", "kind", "school_id", "year", "procedure", "subject", "grade", "sign", "value")
# Element i of each row array (STORED, then the payload's JSON text), typed; in the array's order (the ids follow it).
STORE_POSTGRES = text(
    "INSERT INTO analysis_results (run_id, kind, school_id, year, procedure, subject, grade, sign, value, payload) "
    "SELECT (e.item->>0)::integer, e.item->>1, (e.item->>2)::integer, (e.item->>3)::smallint, e.item->>4, "
    "e.item->>5, (e.item->>6)::smallint, e.item->>7, (e.item->>8)::float8, (e.item->>9)::json "
    "FROM json_array_elements(convert_from(:rows, 'UTF8')::json) WITH ORDINALITY AS e(item, n) ORDER BY e.n")
STORE_SQLITE = text(
    "INSERT INTO analysis_results (run_id, kind, school_id, year, procedure, subject, grade, sign, value, payload) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
    "json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), "
    "json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'), "
    "json_extract(value, '$[9]') FROM json_each(:rows) ORDER BY key")


class StoredRows:
    """The run's result rows as they will be inserted: one statement per kind and per STATEMENT_BYTES of its rows,
    whatever the region's size (issue 15 §4: a region of 4,800 schools has ≈ 90,000 rows, which an executemany sends
    as a statement per page of parameters). Each row is kept as its JSON text from the moment it is made (a dict a
    row weighed several times more) and travels in one JSON array per statement; its payload as a JSON text inside
    it, so the stored text is what the JSON column itself would store (no re-rendering of numbers by the database's
    JSON functions).

    Each kind's array is built as UTF-8 bytes as the rows come, and PostgreSQL gets those very bytes (a bytea
    parameter the statement decodes): a list of texts joined into one string and encoded for the driver held the
    kind's rows three times over at the insert. An array that reaches STATEMENT_BYTES is inserted at once, and the
    job stores each kind as soon as it is made (`store`), so the rows' JSON is never all in memory
    (`bench/analysis.py --scale`)."""

    STATEMENT_BYTES = 4 << 20

    def __init__(self):
        self.arrays: dict[str, bytearray] = {}
        self.count: dict[str, int] = {}
        self.flagged: set[int] = set()

    def add(self, rows) -> None:
        """Take rows (an iterable of frame_rows' dicts); inserts a kind's array as soon as it is STATEMENT_BYTES."""
        # Local: heavy: the methods' modules load pandas and numpy.
        from app.analysis.methods.verdicts import FLAGGED

        for row in rows:
            kind = row["kind"]
            self.count[kind] = self.count.get(kind, 0) + 1
            if kind == "verdict" and row["payload"].get("verdict") == FLAGGED:
                self.flagged.add(row["school_id"])
            array = self.arrays.get(kind)
            if array is None:
                array = self.arrays[kind] = bytearray(b"[")
            else:
                array += b","
            array += json.dumps(
                [row[name] for name in STORED] + [json.dumps(row["payload"], ensure_ascii=False, allow_nan=False)],
                ensure_ascii=False, allow_nan=False).encode()
            if len(array) >= self.STATEMENT_BYTES:
                self._insert(kind)

    def store(self) -> None:
        """Insert every kind's rows not inserted yet (one statement a kind; flushes nothing else)."""
        for kind in list(self.arrays):
            self._insert(kind)

    def _insert(self, kind: str) -> None:
        postgres = db.session.get_bind().dialect.name == "postgresql"
        array = self.arrays.pop(kind)
        array += b"]"
        # SQLite's JSON functions take text (a BLOB would be read as its binary JSONB)
        db.session.execute(STORE_POSTGRES if postgres else STORE_SQLITE,
                           {"rows": array if postgres else array.decode()})


def _first(frame, names) -> str | None:
    if frame is None:
        return None
    return next((n for n in names if n in getattr(frame, "columns", ())), None)


def _as_school_frame(value):
    """A method's school list (ids, Series or DataFrame) as a DataFrame with a school_id column."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return value if "school_id" in value.columns else value.reset_index()
    if isinstance(value, pd.Series):
        if value.dtype == bool:
            return pd.DataFrame({"school_id": list(value[value].index)})
        return pd.DataFrame({"school_id": list(value)})
    return pd.DataFrame({"school_id": sorted(int(v) for v in value)})


# --- a region fanned out: one job per municipality, a combining job (app/analysis/fanout.py) ---------------

def dispatch(run: AnalysisRun) -> list[AnalysisPart]:
    """Split a claimed run into parts and enqueue their jobs and the combining job after the commit (flushes)."""
    groups = fanout.plan(reference_school_ids(run))
    if not groups:
        raise ValidationFailed("В регионе нет школ: анализировать нечего.")
    base = run.rq_job_id or f"analysis-{run.id}"
    parts = [AnalysisPart(run_id=run.id, organisation_id=org, school_ids=schools, status="queued",
                          rq_job_id=f"{base}-m{org}") for org, schools in groups]
    db.session.add_all(parts)
    db.session.flush()
    # From now on the run's job is the combining one: the reconciler sees it waiting (deferred), not over.
    run.rq_job_id = f"{base}-combine"
    run.progress = 5
    for part in parts:
        enqueue_tracked("analysis_part", part.id, job_id=part.rq_job_id)
    enqueue_after_commit(combine_analysis, run.id, job_id=run.rq_job_id, after=[p.rq_job_id for p in parts])
    log.info("analysis run %s: %d parts", run.id, len(parts))
    return parts


# --- a municipality's part -----------------------------------------------------------------------------

@job(queue="default", timeout=1800)
def run_part(part_id: int) -> None:
    """Read and stage one municipality's rows (a tracked job: the part row says done or failed, and a failed part
    fails its run)."""
    run_tracked("analysis_part", [part_id], lambda _ids: _read_part_frozen(part_id))


def _read_part_frozen(part_id: int) -> int:
    # a part is small, but a worker runs many: its chunks of rows triggered the same full collections (frozen_heap)
    with frozen_heap():
        return read_part(part_id)


def read_part(part_id: int) -> int:
    """The part's work: its rows of the run's years, parsed and staged on the part row; the number of rows.
    A part of a run no longer running (another part failed) is refused. Flushes, never commits."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    from app.analysis.methods import data, thresholds

    part = db.session.get(AnalysisPart, part_id)
    run = db.session.get(AnalysisRun, part.run_id)
    if run.status != "running":
        raise ValidationFailed("Расчёт анализа уже не выполняется; чтение результатов муниципалитета отменено.")
    started = time.perf_counter()
    frame = data.load_results(years=list(run.years), school_ids=part.school_ids, with_ids=True, task_text=False)
    near_level = thresholds.load_thresholds()["k3_near_max_level"]
    # its units' aggregate rows are the run's result rows as they are (the same for the run's schools as the single
    # job's): stored here, in the part's transaction, not by the combining job
    keep = set(db.session.scalars(select(Organisation.id).where(
        Organisation.in_subtree_of(run.organisation), Organisation.kind == "school",
        Organisation.id.in_(list(part.school_ids)))))
    rows = StoredRows()

    def store(aggregates) -> int:
        rows.add(frame_rows(aggregates, "aggregate", run.id, value_column="mean_percent", keep=keep))
        rows.store()
        return rows.count.get("aggregate", 0)

    blob = fanout.stage_part(frame, near_level, school_digests(frame), store=store)
    total = db.session.query(AnalysisPart).filter(AnalysisPart.run_id == run.id).count()
    done = db.session.execute(
        update(AnalysisPart).where(AnalysisPart.id == part_id, AnalysisPart.status == "running")
        .values(status="done", data=blob, rows=len(frame), seconds=round(time.perf_counter() - started, 3),
                finished_at=utcnow()).execution_options(synchronize_session=False))
    if not done.rowcount:
        # cancelled meanwhile (another part failed): its result rows must not outlive the run (rolled back)
        raise ValidationFailed("Расчёт анализа уже не выполняется; результаты муниципалитета не сохранены.")
    step = max(1, fanout.READ_SHARE // max(total, 1))
    db.session.execute(
        update(AnalysisRun).where(AnalysisRun.id == run.id, AnalysisRun.status == "running")
        .values(progress=case((AnalysisRun.progress + step > 5 + fanout.READ_SHARE, 5 + fanout.READ_SHARE),
                              else_=AnalysisRun.progress + step))
        .execution_options(synchronize_session=False))
    db.session.expire(part)
    return len(frame)


# --- the combining job ---------------------------------------------------------------------------------

@job(queue="default", timeout=1800)
def combine_analysis(run_id: int) -> None:
    """Compute a fanned-out run from its staged parts; runs after every part's job, whether it succeeded or not."""
    try:
        combined = combine(run_id)
    except DomainError as exc:
        log.info("analysis run %s refused: %s", run_id, exc.message)
        fanout.fail_run(run_id, domain_message(exc))
        if in_worker():
            raise
        return
    except Exception:
        log.exception("analysis run %s: combining failed", run_id)
        fanout.fail_run(run_id, registry.get("analysis_run").internal_error)
        raise
    if combined:
        # Follow-up jobs the run committed (its dashboard's charts): a worker has no request to dispatch them after.
        dispatch_ready()


def combine(run_id: int) -> bool:
    """Put the parts together, compute, store and finish the run in one commit; False when there was nothing to
    do (the run failed already, or is not a fanned-out one still running)."""
    run = db.session.get(AnalysisRun, run_id)
    if run is None or run.status != "running":
        db.session.rollback()
        return False
    parts = list(db.session.scalars(select(AnalysisPart).where(AnalysisPart.run_id == run_id)
                                    .order_by(AnalysisPart.id)))
    if not parts:
        raise ValidationFailed("Расчёт не разделён на части по муниципалитетам.")
    unfinished = [p for p in parts if p.status != "done"]
    if unfinished:
        # A part failed (its failure failed the run already, unless that commit was lost) or never ran.
        raise ValidationFailed(fanout.part_failure(unfinished[0].organisation.name,
                                                   unfinished[0].message or "его часть расчёта не была выполнена."))
    # Round 1: every part's staged summary by one streamed query (not a query per municipality), each decoded as it
    # arrives and its blob let go; round 2 (K2's sums against the region's hard and easy tasks, which round 1
    # decides) reads the parts' rows the same way when the methods ask for it: one part's rows at a time.
    def staged():
        result = db.session.execute(select(AnalysisPart.data).where(AnalysisPart.run_id == run_id)
                                    .order_by(AnalysisPart.id).execution_options(stream_results=True, yield_per=1))
        try:
            yield from result.scalars()
        finally:
            result.close()  # the server-side cursor, also when a reader stops early

    with frozen_heap():
        merged = fanout.merge_parts(staged())
    merged.prepared.cache["k2_round"] = lambda tmax, easy, hard: fanout.round2(staged(), merged, tmax, easy, hard)
    progress = Progress("analysis_run", run.id, commit_on_sqlite=True)
    try:
        summary = execute(run, progress, merged=merged)
    finally:
        progress.close()
    run = db.session.get(AnalysisRun, run_id)
    run.status, run.progress, run.finished_at = "done", 100, utcnow()
    run.summary = {**summary, "parts": len(parts)}
    run.message = summary_message(summary)
    fanout.clear_staged(run_id)
    db.session.commit()
    return True
