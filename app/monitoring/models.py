from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import Audited
from app.core.timeutil import utcnow
from app.cycles.models import Cycle, Indicator
from app.extensions import db
from app.orgs.models import Organisation


class DataRequest(Audited, db.Model):
    """Запрос (сбор сведений): indicators asked of addressee organisations by a deadline, within a cycle."""

    __tablename__ = "data_requests"
    __table_args__ = (
        CheckConstraint("state IN ('draft','sent','closed')", name="state"),
        CheckConstraint("(state = 'draft') = (sent_at IS NULL)", name="sent_at_iff_not_draft"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    # The period the values are for, e.g. "2025/26"; values are keyed by (indicator, organisation, period).
    period: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Two-step request: set on the request an addressee (a municipality) passed down to its own institutions;
    # that addressee owns it (reviews and closes it) and answers the upper request from its values.
    parent_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE", use_alter=True), index=True, unique=True)
    # The stage whose request it is: «MON», the monitoring itself, or «EFF», the repeat measurement (повторное
    # измерение) of the indicators after the measures, collected while the effectiveness stage is a draft.
    stage_code: Mapped[str] = mapped_column(String(8), default="MON", server_default="MON")
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[Cycle] = relationship()
    parent_submission: Mapped["Submission | None"] = relationship(foreign_keys=[parent_submission_id])
    created_by: Mapped[User] = relationship()
    items: Mapped[list["DataRequestIndicator"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="DataRequestIndicator.position")
    submissions: Mapped[list["Submission"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="Submission.id",
        foreign_keys="Submission.request_id")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "data_request"
    audit_fields = ("state", "title", "period", "deadline", "stage_code", "version")

    @property
    def organisation(self) -> Organisation:
        """Who owns the request: the cycle's owner, or the addressee that passed its answer down."""
        if self.parent_submission is not None:
            return self.parent_submission.organisation
        return self.cycle.owner

    @property
    def indicators(self) -> list[Indicator]:
        return [item.indicator for item in self.items]


class DataRequestIndicator(db.Model):
    __tablename__ = "data_request_indicators"
    __table_args__ = (UniqueConstraint("request_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)

    request: Mapped[DataRequest] = relationship(back_populates="items")
    indicator: Mapped[Indicator] = relationship()


class Submission(Audited, db.Model):
    """One addressee's answer to a data request, with its own workflow (workflows/submission.py)."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("request_id", "organisation_id"),
        CheckConstraint("state IN ('pending','submitted','accepted','returned','not_provided')", name="state"),
        CheckConstraint("state != 'not_provided' OR not_provided_reason IS NOT NULL", name="reason_if_not_provided"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # The staff member the director delegated the submission to (None: the director answers).
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None]
    return_comment: Mapped[str | None] = mapped_column(Text)
    not_provided_reason: Mapped[str | None] = mapped_column(Text)
    last_reminded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    request: Mapped[DataRequest] = relationship(back_populates="submissions", foreign_keys=[request_id])
    organisation: Mapped[Organisation] = relationship()
    delegate: Mapped[User | None] = relationship(foreign_keys=[delegate_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])

    __mapper_args__ = {"version_id_col": version}
    audit_type = "submission"
    audit_fields = ("state", "delegate_id", "return_comment", "not_provided_reason", "version")

    @property
    def audit_cycle_id(self) -> int:
        return self.request.cycle_id

    @property
    def cycle(self) -> Cycle:
        return self.request.cycle


class IndicatorValue(Audited, db.Model):
    """Значение показателя for one organisation and period; the latest accepted source wins."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        UniqueConstraint("indicator_id", "organisation_id", "period"),
        CheckConstraint("source IN ('form','xlsx','api','import')", name="source"),
        Index("ix_indicator_values_org_period", "organisation_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    period: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    comment: Mapped[str | None] = mapped_column(Text)
    # A value computed as «доля организаций, достигших целевого значения» from the organisations below (a
    # municipality's «Рассчитать по данным подведомственных»): how many met the target, of how many counted. The
    # level above adds these counts up (README, «The vertical»): a share of shares read 50 % for 1 of 2 schools and
    # 3 of 3 alike. None for a value of the indicator itself.
    organisations_met: Mapped[int | None] = mapped_column(Integer)
    organisations_counted: Mapped[int | None] = mapped_column(Integer)
    # A weighted mean computed so: the students of the organisations counted, its weight up the levels. Weighted by
    # all the municipality's students, 3 schools' mean moved the region's figure from what it was before computing.
    students_counted: Mapped[int | None] = mapped_column(Integer)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    indicator: Mapped[Indicator] = relationship()
    organisation: Mapped[Organisation] = relationship()

    audit_type = "indicator_value"
    audit_fields = ("indicator_id", "organisation_id", "period", "value", "comment", "source", "organisations_met",
                    "organisations_counted", "students_counted")

    @property
    def audit_cycle_id(self) -> int:
        return self.indicator.cycle_id
