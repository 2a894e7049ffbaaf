"""Reading the analysis inputs from the database into pandas: results (one streamed SQL query, no ORM
objects: a region is 300,000 rows) and schools with their context attributes."""

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.analysis.methods.tasks import task_matrix
from app.extensions import db, reading
from app.imports.models import AssessmentResult, MarkBoundary, WorkStructure
from app.orgs.models import Organisation

CHUNK = 50_000
RESULT_COLUMNS = ["year", "procedure", "subject", "grade", "school_id", "primary_score", "max_score", "mark",
                  "term_mark", "task_scores"]
SCHOOL_COLUMNS = ["id", "code", "name", "municipality_id", "municipality_code", "profile", "settlement", "remote",
                  "students", "low_income_share", "non_native_share", "ovz_share"]


def load_results(*, years, school_ids=None, procedure=None, with_ids: bool = False,
                 task_text: bool = True) -> pd.DataFrame:
    """Assessment results of `years` (optionally only `school_ids`, one `procedure`) as a DataFrame with
    RESULT_COLUMNS (task_scores as the stored JSON text, or None) plus task_1 … task_N, the task scores as
    numbers. One query in the rows' id order (so the parts of a fanned-out run put back together are the very
    frame one query gives), fetched in chunks of CHUNK rows; `with_ids` adds the row ids as a first column `id`.
    `task_text=False` (the analysis jobs): each chunk's JSON text is parsed and dropped as the chunk arrives, so the
    text — a string object a row, most of a row's memory — is never held for the whole region."""
    r = AssessmentResult.__table__.c
    stmt = select(r.year, r.procedure, r.subject, r.grade, r.school_id, r.primary_score, r.max_score, r.mark,
                  r.term_mark, r.task_scores.cast(db.Text).label("task_scores"), r.id).where(r.year.in_(list(years)))
    if school_ids is not None:
        ids = sorted({int(s) for s in school_ids})
        if not ids:
            return empty_results(with_ids)
        stmt = stmt.where(r.school_id.in_(ids))
    if procedure:
        stmt = stmt.where(r.procedure == procedure)
    stmt = stmt.order_by(r.id)
    # Options on the statement, not the connection: a connection's options would outlive this query
    # (and make the session's own SAVEPOINT/ROLLBACK statements server-side cursors on PostgreSQL).
    # The rows are committed imports: a read replica serves them when one is configured (app/extensions.py).
    with reading() as connection:
        result = connection.execute(stmt.execution_options(stream_results=True, yield_per=CHUNK))
        frames = [_chunk(rows, with_ids) if task_text else without_task_text(with_task_columns(_chunk(rows, with_ids)))
                  for rows in result.partitions(CHUNK)]
    if not frames:
        return without_task_text(empty_results(with_ids)) if not task_text else empty_results(with_ids)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if task_text:
        return with_task_columns(frame)
    # chunks with fewer tasks left NaN in the others' task columns; the task columns last, in task order
    tasks = sorted((c for c in frame.columns if c.startswith("task_") and c[5:].isdigit()), key=lambda c: int(c[5:]))
    return frame[[c for c in frame.columns if c not in tasks] + tasks]


def shared_texts(values) -> np.ndarray:
    """An object array of `values` in which equal strings are one object (None stays None): a region's rows hold a
    handful of distinct procedures and subjects, and a string object per row would weigh more than the row's
    numbers."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    out = np.asarray(uniques, dtype=object).take(np.maximum(codes, 0)) if len(uniques) else np.full(
        len(codes), None, dtype=object)
    out[codes < 0] = None
    return out


def _chunk(rows, with_ids: bool) -> pd.DataFrame:
    cols = list(zip(*rows))
    return pd.DataFrame({
        **({"id": np.asarray(cols[10], dtype=np.int64)} if with_ids else {}),
        "year": np.asarray(cols[0], dtype=np.int64), "procedure": shared_texts(cols[1]),
        "subject": shared_texts(cols[2]), "grade": np.asarray(cols[3], dtype=np.int64),
        "school_id": np.asarray(cols[4], dtype=np.int64), "primary_score": np.asarray(cols[5], dtype=np.int64),
        "max_score": np.asarray(cols[6], dtype=np.int64),
        "mark": np.array(cols[7], dtype=float), "term_mark": np.array(cols[8], dtype=float),
        "task_scores": np.array(cols[9], dtype=object)})


def with_task_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add task_1 … task_N (float, NaN where a row has fewer tasks or none, 0 for a null: a task not attempted)
    from task_scores (the stored JSON text, or lists), so the methods read task-level scores as numeric columns,
    parsed once here."""
    column = frame["task_scores"]
    has = column.notna().to_numpy()
    if not has.any():
        return frame
    parsed = task_matrix(column[has].tolist())
    matrix = np.full((len(frame), parsed.shape[1]), np.nan)
    matrix[has] = parsed
    extra = pd.DataFrame(matrix, columns=[f"task_{k + 1}" for k in range(parsed.shape[1])], index=frame.index)
    return pd.concat([frame, extra], axis=1)


def without_task_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without the task scores' JSON text once task_1 … task_N hold them (or none has any)."""
    if "task_scores" not in frame.columns:
        return frame
    return frame.drop(columns="task_scores")


def empty_results(with_ids: bool = False) -> pd.DataFrame:
    return pd.DataFrame({**({"id": pd.Series(dtype=np.int64)} if with_ids else {}),
                         "year": pd.Series(dtype=np.int64), "procedure": pd.Series(dtype=object),
                         "subject": pd.Series(dtype=object), "grade": pd.Series(dtype=np.int64),
                         "school_id": pd.Series(dtype=np.int64), "primary_score": pd.Series(dtype=np.int64),
                         "max_score": pd.Series(dtype=np.int64), "mark": pd.Series(dtype=float),
                         "term_mark": pd.Series(dtype=float), "task_scores": pd.Series(dtype=object)})


def load_boundaries(*, years) -> pd.DataFrame:
    """Mark boundaries (procedure, year, subject, grade, mark, min_score) stored for `years`."""
    b = MarkBoundary.__table__.c
    rows = db.session.execute(select(b.procedure, b.year, b.subject, b.grade, b.mark, b.min_score)
                              .where(b.year.in_(list(years)))).all()
    return pd.DataFrame(rows, columns=["procedure", "year", "subject", "grade", "mark", "min_score"])


def load_schools(school_ids=None, within: Organisation | None = None) -> pd.DataFrame:
    """Schools (kind 'school') with their municipality and context attributes; `within` limits them to
    an organisation's subtree, `school_ids` to the given ids."""
    o = Organisation.__table__.c
    parent = Organisation.__table__.alias("parent")
    stmt = (select(o.id, o.code, o.name, o.parent_id.label("municipality_id"), parent.c.code.label("municipality_code"),
                   o.profile, o.settlement, o.remote, o.students, o.low_income_share, o.non_native_share,
                   o.ovz_share)
            .select_from(Organisation.__table__.outerjoin(parent, parent.c.id == o.parent_id))
            .where(o.kind == "school").order_by(o.code))
    if within is not None:
        stmt = stmt.where(o.path.like(within.path + "%"))
    if school_ids is not None:
        stmt = stmt.where(o.id.in_(sorted({int(s) for s in school_ids})))
    rows = db.session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=SCHOOL_COLUMNS)
    for name in ("students", "low_income_share", "non_native_share", "ovz_share"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame["remote"] = frame["remote"].astype(object)
    return frame


def load_structures(*, years) -> dict:
    """{(procedure, year, subject, grade): (labels, maxima)} of the works of `years` whose task structure an
    import stored (app/imports: the work's own labels, maxima declared or given by the file)."""
    s = WorkStructure.__table__.c
    rows = db.session.execute(select(s.procedure, s.year, s.subject, s.grade, s.labels, s.maxima)
                              .where(s.year.in_(list(years)))).all()
    return {(r.procedure, int(r.year), r.subject, int(r.grade)): (tuple(r.labels), tuple(r.maxima)) for r in rows}
