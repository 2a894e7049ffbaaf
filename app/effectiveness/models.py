"""Effectiveness evaluation (анализ эффективности принятых мер) of a cycle: the official's conclusions, the
assessment of each measure (computed from the indicators it was expected to move, with an override) and the
proposals that become draft goals and indicator corrections of the next period's cycle."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Audited
from app.core.timeutil import utcnow
from app.cycles.models import Cycle, Indicator, Stage
from app.extensions import db
from app.orgs.models import Organisation

RESULTS = {"moved": "показатели изменились в нужную сторону", "not_moved": "показатели не изменились",
           "not_measurable": "эффект не измерим"}
RESULT_SHORT = {"moved": "есть эффект", "not_moved": "нет эффекта", "not_measurable": "не измерим"}
PROPOSAL_KINDS = {"goal": "цель следующего цикла", "indicator_correction": "корректировка показателя"}


class EffectivenessEvaluation(Audited, db.Model):
    """One per cycle, on its EFF stage: the conclusions; numbers are computed from indicator values."""

    __tablename__ = "effectiveness_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), unique=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    conclusions: Mapped[str | None] = mapped_column(
        Text, info={"max_length": 20000, "label": "Выводы об эффективности принятых мер"})
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[Cycle] = relationship()
    stage: Mapped[Stage] = relationship()
    assessments: Mapped[list["MeasureAssessment"]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan", order_by="MeasureAssessment.id")
    proposals: Mapped[list["EffectivenessProposal"]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan", order_by="EffectivenessProposal.id")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "effectiveness_evaluation"
    audit_fields = ("conclusions", "version")

    @property
    def organisation(self) -> Organisation:
        return self.cycle.owner

    @property
    def title(self) -> str:
        return f"Анализ эффективности ({self.cycle.short_title})"


class MeasureAssessment(Audited, db.Model):
    """Оценка меры: the computed result (refreshed whenever the evaluation is saved) and the official's
    override, which must say why."""

    __tablename__ = "effectiveness_assessments"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "measure_id"),
        CheckConstraint("computed IN ('moved','not_moved','not_measurable')", name="computed"),
        CheckConstraint("override IS NULL OR override IN ('moved','not_moved','not_measurable')", name="override"),
        CheckConstraint("override IS NULL OR note IS NOT NULL", name="note_if_override"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("effectiveness_evaluations.id", ondelete="CASCADE"),
                                               index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"), index=True)
    computed: Mapped[str] = mapped_column(String(20))
    override: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text, info={"max_length": 2000, "label": "Обоснование"})
    version: Mapped[int] = mapped_column(default=1)

    evaluation: Mapped[EffectivenessEvaluation] = relationship(back_populates="assessments")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "measure_assessment"
    audit_fields = ("measure_id", "computed", "override", "note", "version")

    @property
    def result(self) -> str:
        return self.override or self.computed

    @property
    def organisation(self) -> Organisation:
        return self.evaluation.cycle.owner

    @property
    def audit_cycle_id(self) -> int:
        return self.evaluation.cycle_id


class EffectivenessProposal(Audited, db.Model):
    """Предложение для следующего цикла: a goal, or a correction of an indicator's target. Carried into the
    next period's cycle when it starts (`applied_cycle_id` then names that cycle)."""

    __tablename__ = "effectiveness_proposals"
    __table_args__ = (
        CheckConstraint("kind IN ('goal','indicator_correction')", name="kind"),
        CheckConstraint("kind = 'goal' OR new_target IS NOT NULL", name="target_of_correction"),
        CheckConstraint("(applied_cycle_id IS NULL) = (applied_at IS NULL)", name="applied_at_iff_applied"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("effectiveness_evaluations.id", ondelete="CASCADE"),
                                               index=True)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, info={"max_length": 5000, "label": "Предложение"})
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id", ondelete="SET NULL"))
    new_target: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    applied_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))
    applied_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    evaluation: Mapped[EffectivenessEvaluation] = relationship(back_populates="proposals")
    indicator: Mapped[Indicator | None] = relationship()
    applied_cycle: Mapped[Cycle | None] = relationship(foreign_keys=[applied_cycle_id])

    __mapper_args__ = {"version_id_col": version}
    audit_type = "effectiveness_proposal"
    audit_fields = ("kind", "text", "indicator_id", "new_target", "applied_cycle_id", "version")

    @property
    def organisation(self) -> Organisation:
        return self.evaluation.cycle.owner

    @property
    def audit_cycle_id(self) -> int:
        return self.evaluation.cycle_id

    @property
    def kind_label(self) -> str:
        return PROPOSAL_KINDS[self.kind]
