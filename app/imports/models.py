from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.timeutil import utcnow
from app.extensions import db
from app.orgs.models import Organisation

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class ImportRun(db.Model):
    """One uploaded file and its import: the user-visible status row of the background job.

    The original file is kept (`stored_path`, with its SHA-256) whatever the outcome, so nothing a user
    uploaded is lost; `rq_job_id` is the RQ job's id so the page can show progress after Redis forgets it.
    """

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint("kind IN ('organisations','results','indicator_values')", name="kind"),
        CheckConstraint("status IN ('queued','running','done','unchanged','rejected','failed')", name="status"),
        Index("ix_import_runs_kind_sha", "kind", "file_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    original_filename: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(BIGINT)
    # The organisation whose subtree the import may touch (the uploader's scope).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0–100
    rows_total: Mapped[int] = mapped_column(BIGINT, default=0)
    rows_inserted: Mapped[int] = mapped_column(BIGINT, default=0)
    rows_updated: Mapped[int] = mapped_column(BIGINT, default=0)
    rows_unchanged: Mapped[int] = mapped_column(BIGINT, default=0)
    rows_rejected: Mapped[int] = mapped_column(BIGINT, default=0)
    # Russian summary for the user; the row-level error report lives in a CSV next to the original.
    message: Mapped[str | None] = mapped_column(Text)
    error_report_path: Mapped[str | None] = mapped_column(String(500))
    options: Mapped[dict | None] = mapped_column(JSON)

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()


class AssessmentResult(db.Model):
    """One student's result in one assessment work (ВПР, ОГЭ, ЕГЭ, НИКО, РДР), pseudonymised.

    `student_hash` is a salted SHA-256 of the participant code; the code itself is never stored.
    The natural key makes re-imports idempotent.
    """

    __tablename__ = "assessment_results"
    __table_args__ = (
        Index("uq_assessment_results_natural", "procedure", "year", "subject", "grade", "school_id", "student_hash",
              unique=True),
        Index("ix_assessment_results_school_year", "school_id", "year"),
        CheckConstraint("mark IS NULL OR mark BETWEEN 2 AND 5", name="mark"),
        CheckConstraint("term_mark IS NULL OR term_mark BETWEEN 2 AND 5", name="term_mark"),
        CheckConstraint("primary_score >= 0 AND primary_score <= max_score", name="score"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    procedure: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(SmallInteger)
    subject: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(SmallInteger)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    class_label: Mapped[str | None] = mapped_column(String(20))
    student_hash: Mapped[str] = mapped_column(String(64))
    # Per-task scores as a compact list (task 1 first); None when the file has no task columns.
    task_scores: Mapped[list | None] = mapped_column(JSON)
    primary_score: Mapped[int] = mapped_column(SmallInteger)
    max_score: Mapped[int] = mapped_column(SmallInteger)
    mark: Mapped[int | None] = mapped_column(SmallInteger)
    term_mark: Mapped[int | None] = mapped_column(SmallInteger)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id", ondelete="SET NULL"))


class MarkBoundary(db.Model):
    """The lowest primary score that received each mark, per work; derived from the data unless given."""

    __tablename__ = "mark_boundaries"
    __table_args__ = (
        Index("uq_mark_boundaries_work_mark", "procedure", "year", "subject", "grade", "mark", unique=True),
        CheckConstraint("mark BETWEEN 3 AND 5", name="mark"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(SmallInteger)
    subject: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(SmallInteger)
    mark: Mapped[int] = mapped_column(SmallInteger)
    min_score: Mapped[int] = mapped_column(SmallInteger)
    derived: Mapped[bool] = mapped_column(default=True)


class WorkStructure(db.Model):
    """The task structure of one work (структура работы) as its results were imported: task labels in the
    order of the result form (`1К1`, `3(1)`, `5.2` …) and each task's maximum (None when neither the file
    nor the declared structure gives it). `task_scores` of the work's results follow this order."""

    __tablename__ = "work_structures"
    __table_args__ = (
        Index("uq_work_structures_work", "procedure", "year", "subject", "grade", unique=True),
        CheckConstraint("source IN ('declared','file')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(SmallInteger)
    subject: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(SmallInteger)
    labels: Mapped[list] = mapped_column(JSON)
    maxima: Mapped[list] = mapped_column(JSON)
    # 'declared': checked against data/work_structures.yaml; 'file': the labels the file brought
    source: Mapped[str] = mapped_column(String(10))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id", ondelete="SET NULL"))


class ResultSummary(db.Model):
    """Assessment results summed per organisation and work (сводка результатов): a school's own results, and
    for every organisation above schools the sum over its subtree. Rebuilt for the works an import touches, in
    the import's transaction, so region-wide pages (the situational centre) read a few hundred rows instead of
    aggregating 300,000 results per view. Sums, not means: any level adds up exactly."""

    __tablename__ = "result_summaries"
    __table_args__ = (
        Index("uq_result_summaries_org_work", "organisation_id", "procedure", "year", "subject", "grade", unique=True),
        Index("ix_result_summaries_work", "procedure", "year", "subject", "grade"),
        CheckConstraint("level IN ('school','group')", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(6))  # 'school': its own results; 'group': its subtree's schools
    procedure: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(SmallInteger)
    subject: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(SmallInteger)
    participants: Mapped[int] = mapped_column(Integer)
    percent_sum: Mapped[float]  # Σ 100·primary/max over the participants
    marked: Mapped[int] = mapped_column(Integer)  # participants with a 2–5 mark
    mark_2: Mapped[int] = mapped_column(Integer)
    mark_3: Mapped[int] = mapped_column(Integer)
    mark_4: Mapped[int] = mapped_column(Integer)
    mark_5: Mapped[int] = mapped_column(Integer)
