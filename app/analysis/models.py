"""Models of the analysis feature: analysis runs and their stored results, the indicator dashboard's
precomputed rows, findings (выводы) that recommendations answer later, and school risk profiles."""

from datetime import datetime

from sqlalchemy import (
    JSON, CheckConstraint, Column, Float, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Table,
    Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import Audited
from app.core.timeutil import utcnow
from app.cycles.models import Cycle, Indicator, Stage
from app.extensions import db
from app.orgs.models import Organisation

RUN_STATUSES = ("queued", "running", "done", "failed")
RESULT_KINDS = ("aggregate", "marker", "not_computable", "skipped", "low_index", "shnor", "shnsu", "resilient",
                "cluster", "cluster_position", "stably_objective", "municipality_share", "note", "verdict")


class AnalysisRun(db.Model):
    """One run of the analysis over a cycle's schools and years: the user-visible row of the background job.

    `fingerprint` is a SHA-256 over the input rows, parameters and thresholds: the same fingerprint means
    the stored results were computed from exactly the same inputs, so a report can be reproduced."""

    __tablename__ = "analysis_runs"
    __table_args__ = (
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        CheckConstraint("(status IN ('done','failed')) = (finished_at IS NOT NULL)", name="finished_iff_over"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    # The organisation whose subtree's schools are analysed (the cycle owner).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    years: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(JSON)
    # Counts of what was computed (schools, rows, markers, …) for the run list.
    summary: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    cycle: Mapped[Cycle] = relationship()
    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def status_label(self) -> str:
        return {"queued": "в очереди", "running": "выполняется", "done": "выполнен",
                "failed": "ошибка"}[self.status]


class AnalysisResult(db.Model):
    """One stored result row of a run: a school aggregate, a marker (признак), an index value, a list
    entry (ШНОР, ШНСУ, resilient), a cluster position. The numbers live in `payload`."""

    __tablename__ = "analysis_results"
    __table_args__ = (
        Index("ix_analysis_results_run_kind", "run_id", "kind"),
        Index("ix_analysis_results_run_school", "run_id", "school_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    year: Mapped[int | None] = mapped_column(SmallInteger)
    procedure: Mapped[str | None] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[int | None] = mapped_column(SmallInteger)
    sign: Mapped[str | None] = mapped_column(String(10))  # K1..K5 for markers
    value: Mapped[float | None] = mapped_column(Float)  # the main statistic, for sorting
    payload: Mapped[dict | None] = mapped_column(JSON)

    run: Mapped[AnalysisRun] = relationship()
    school: Mapped[Organisation | None] = relationship()


class AnalysisPart(db.Model):
    """One municipality's share of a fanned-out analysis run (app/analysis/fanout.py): its job reads the results of
    `school_ids` and stages their summary (per-unit statistics, not the rows' columns) in `data` for the run's
    combining job, which clears it. The user watches the run; these rows say which municipality a failed run
    stopped at and how long each part took."""

    __tablename__ = "analysis_run_parts"
    __table_args__ = (
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
        CheckConstraint("(status IN ('done','failed')) = (finished_at IS NOT NULL)", name="finished_iff_over"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_runs.id", ondelete="CASCADE"), index=True)
    # The municipality (the schools' parent) whose schools this part reads.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    school_ids: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    message: Mapped[str | None] = mapped_column(Text)
    rq_job_id: Mapped[str | None] = mapped_column(String(80))
    rows: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Float)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    run: Mapped[AnalysisRun] = relationship()
    organisation: Mapped[Organisation] = relationship()


class DashboardRow(db.Model):
    """A precomputed row of a cycle's indicator dashboard: one indicator, one organisation (or the cycle
    owner's total when `organisation_id` is the owner), the cycle's period, with dynamics and cluster
    position. Rebuilt by `jobs.refresh_dashboard` after each analysis run or import, never per page view."""

    __tablename__ = "analysis_dashboard_rows"
    __table_args__ = (
        UniqueConstraint("cycle_id", "indicator_id", "organisation_id"),
        Index("ix_analysis_dashboard_rows_cycle", "cycle_id", "indicator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    is_total: Mapped[bool] = mapped_column(default=False)
    period: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    previous_value: Mapped[float | None] = mapped_column(Float)
    change_previous: Mapped[float | None] = mapped_column(Float)
    change_baseline: Mapped[float | None] = mapped_column(Float)
    attainment: Mapped[float | None] = mapped_column(Float)  # % of the way from baseline to target
    target_met: Mapped[bool | None]
    cluster: Mapped[int | None] = mapped_column(Integer)
    cluster_mean: Mapped[float | None] = mapped_column(Float)
    cluster_z: Mapped[float | None] = mapped_column(Float)
    cluster_position: Mapped[str | None] = mapped_column(String(100))  # the methods' position phrase
    history: Mapped[dict | None] = mapped_column(JSON)  # {period: value} of earlier periods
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator: Mapped[Indicator] = relationship()
    organisation: Mapped[Organisation] = relationship()


class ChartImage(db.Model):
    """A chart of the analysis pages drawn once per data change: the SVG under the SHA-256 of the data it was
    drawn from (`app/analysis/chart_cache.py`). Content-addressed, so a stored chart never goes stale: new data
    means a new key. Rows of a cycle are pruned when its dashboard charts are drawn again."""

    __tablename__ = "analysis_charts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    svg: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


finding_organisations = Table(
    "finding_organisations",
    db.metadata,
    Column("finding_id", ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Finding(Audited, db.Model):
    """Вывод анализа: a problem with its causes, the organisations it concerns and the evidence (statistics).

    Recommendations, measures and decisions answer findings later, so findings stay linkable by id."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    problem: Mapped[str] = mapped_column(Text, info={"max_length": 10000, "label": "Проблема"})
    causes: Mapped[str | None] = mapped_column(Text, info={"max_length": 10000, "label": "Причины"})
    evidence: Mapped[str] = mapped_column(Text, info={"max_length": 10000, "label": "Доказательства"})
    analysis_run_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_runs.id", ondelete="SET NULL"))
    # The computed result the evidence was taken from (if any), to show it beside the finding.
    source_result_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_results.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[Cycle] = relationship()
    stage: Mapped[Stage] = relationship()
    analysis_run: Mapped[AnalysisRun | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    organisations: Mapped[list[Organisation]] = relationship(secondary=finding_organisations,
                                                             order_by=Organisation.name)

    __mapper_args__ = {"version_id_col": version}
    audit_type = "finding"
    audit_fields = ("problem", "causes", "evidence", "analysis_run_id", "organisation_ids", "version")

    @property
    def organisation(self) -> Organisation:
        return self.cycle.owner

    @property
    def organisation_ids(self) -> str:
        return ",".join(str(o.id) for o in sorted(self.organisations, key=lambda o: o.id))

    @property
    def title(self) -> str:
        text = " ".join((self.problem or "").split())
        return text if len(text) <= 90 else text[:87].rstrip() + "…"


class RiskProfile(Audited, db.Model):
    """Risk profile of a school (project «500+»): questionnaire scores per risk factor and up to three
    priority risks, each with a note on its anti-risk programme (антирисковая программа)."""

    __tablename__ = "risk_profiles"
    __table_args__ = (UniqueConstraint("organisation_id", "year"),
                      CheckConstraint("source IN ('form','csv')", name="source"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    scores: Mapped[dict] = mapped_column(JSON)  # factor key → score 0–10
    priorities: Mapped[list] = mapped_column(JSON)  # [{"factor": key, "programme": text}], at most 3
    source: Mapped[str] = mapped_column(String(4), default="form")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation] = relationship()

    __mapper_args__ = {"version_id_col": version}
    audit_type = "risk_profile"
    audit_fields = ("year", "scores", "priorities", "source", "version")

    @property
    def audit_cycle_id(self) -> None:
        return None
