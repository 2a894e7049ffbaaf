"""Follow-up of the analysis: addressed recommendations (one item per addressee), measures (the roadmap) and
management decisions. Persistence and invariants only; the workflows live in workflows/recommendation_item.py,
workflows/measure.py and workflows/decision.py, the operations in app/followup/services.py."""

from datetime import date, datetime, timedelta

from sqlalchemy import Column, CheckConstraint, Date, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.analysis.models import Finding
from app.auth.models import User
from app.core import timeutil
from app.core.db import Audited
from app.core.timeutil import utcnow
from app.cycles.models import Cycle, Indicator, Stage
from app.extensions import db
from app.orgs.models import Organisation

ADDRESSEE_GROUPS = {
    "organisations": "Выбранные организации",
    "cluster": "Все школы кластера",
    "directors": "Руководители образовательных организаций",
    "subject_teachers": "Учителя-предметники",
    "methodical_centre": "Методическая служба (ИМЦ)",
    "parents": "Родители (законные представители)",
}
MEASURE_KINDS = {
    "event": "Мероприятие",
    "training": "Повышение квалификации, обучение",
    "methodical_support": "Методическое сопровождение",
    "monitoring": "Мониторинг, диагностика",
    "inspection": "Контроль, проверка",
    "mentoring": "Наставничество",
    "network": "Сетевое взаимодействие",
    "other": "Иное",
}
DECISION_KINDS = {
    "organisational": "Организационное",
    "staff": "Кадровое",
    "financial": "Финансовое",
    "incentive": "Поощрение",
    "corrective": "Корректирующее",
}


def _in(column: str, values) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


ITEM_STATES = ("draft", "issued", "acknowledged", "in_progress", "reported", "accepted", "returned")
MEASURE_STATES = ("planned", "in_progress", "done", "verified", "cancelled")
DECISION_STATES = ("draft", "adopted", "executed", "verified")


def _link_table(name: str, left: str, left_table: str, right: str, right_table: str) -> Table:
    return Table(
        name, db.metadata,
        Column(left, ForeignKey(f"{left_table}.id", ondelete="CASCADE"), primary_key=True),
        Column(right, ForeignKey(f"{right_table}.id", ondelete="CASCADE"), primary_key=True, index=True),
    )


recommendation_findings = _link_table("recommendation_findings", "recommendation_id", "recommendations",
                                      "finding_id", "findings")
measure_recommendations = _link_table("measure_recommendations", "measure_id", "measures",
                                      "recommendation_id", "recommendations")
measure_findings = _link_table("measure_findings", "measure_id", "measures", "finding_id", "findings")
measure_indicators = _link_table("measure_indicators", "measure_id", "measures", "indicator_id", "indicators")
decision_findings = _link_table("decision_findings", "decision_id", "decisions", "finding_id", "findings")
decision_measures = _link_table("decision_measures", "decision_id", "decisions", "measure_id", "measures")


class Recommendation(Audited, db.Model):
    """Адресная рекомендация: one text to one addressee group, expanded into an item per addressee organisation.

    It has no state of its own: each addressee's item runs its own workflow; `issued_at` marks that the head
    issued all items at once (after that the text and addressees are frozen)."""

    __tablename__ = "recommendations"
    __table_args__ = (
        CheckConstraint(_in("addressee_group", ADDRESSEE_GROUPS), name="addressee_group"),
        CheckConstraint("(issued_at IS NULL) = (issued_by_id IS NULL)", name="issued_by_iff_issued"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, info={"max_length": 10000, "label": "Текст рекомендации"})
    addressee_group: Mapped[str] = mapped_column(String(30))
    # The subject for 'subject_teachers', the cluster name for 'cluster', a free note otherwise.
    addressee_note: Mapped[str | None] = mapped_column(String(300))
    # Free-text basis, used when the cycle has no findings (analysis not recorded as findings) or as a comment.
    basis: Mapped[str | None] = mapped_column(Text, info={"max_length": 10000, "label": "Основание"})
    response_deadline: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[Cycle] = relationship()
    stage: Mapped[Stage] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    findings: Mapped[list[Finding]] = relationship(
        secondary=recommendation_findings, order_by="Finding.id")
    items: Mapped[list["RecommendationItem"]] = relationship(
        back_populates="recommendation", cascade="all, delete-orphan", order_by="RecommendationItem.id")
    measures: Mapped[list["Measure"]] = relationship(secondary=measure_recommendations,
                                                     viewonly=True, order_by="Measure.id")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "recommendation"
    audit_fields = ("text", "addressee_group", "addressee_note", "basis", "response_deadline", "version")

    @property
    def organisation(self) -> Organisation:
        return self.cycle.owner

    @property
    def is_draft(self) -> bool:
        return self.issued_at is None

    @property
    def title(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= 90 else text[:87] + "…"

    @property
    def addressee_label(self) -> str:
        label = ADDRESSEE_GROUPS.get(self.addressee_group, self.addressee_group)
        return f"{label}: {self.addressee_note}" if self.addressee_note else label


class RecommendationItem(Audited, db.Model):
    """One addressee's copy of a recommendation, with its own workflow (workflows/recommendation_item.py)."""

    __tablename__ = "recommendation_items"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "organisation_id"),
        CheckConstraint(_in("state", ITEM_STATES), name="state"),
        CheckConstraint("(state = 'draft') = (issued_at IS NULL)", name="issued_at_iff_issued"),
        # «Ознакомлен»: the director's sign-off is recorded exactly when the item is past 'issued'.
        CheckConstraint("(state IN ('draft','issued')) = (acknowledged_at IS NULL)",
                        name="acknowledged_at_iff_acknowledged"),
        CheckConstraint("(acknowledged_at IS NULL) = (acknowledged_by_id IS NULL)",
                        name="acknowledged_by_iff_acknowledged"),
        CheckConstraint("state NOT IN ('in_progress','reported','accepted','returned') OR action_plan IS NOT NULL",
                        name="action_plan_when_in_progress"),
        CheckConstraint("state NOT IN ('reported','accepted') OR (report IS NOT NULL AND reported_at IS NOT NULL)",
                        name="report_when_reported"),
        CheckConstraint("(state = 'accepted') = (accepted_at IS NOT NULL)", name="accepted_at_iff_accepted"),
        CheckConstraint("state != 'returned' OR return_comment IS NOT NULL", name="comment_when_returned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"),
                                                   index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    due_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action_plan: Mapped[str | None] = mapped_column(Text,
                                                    info={"max_length": 10000, "label": "Планируемые действия и сроки"})
    planned_completion: Mapped[date | None] = mapped_column(Date)
    report: Mapped[str | None] = mapped_column(Text, info={"max_length": 10000, "label": "Что сделано"})
    reported_at: Mapped[datetime | None]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    recommendation: Mapped[Recommendation] = relationship(back_populates="items")
    organisation: Mapped[Organisation] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])

    __mapper_args__ = {"version_id_col": version}
    audit_type = "recommendation_item"
    audit_fields = ("state", "due_date", "action_plan", "planned_completion", "report", "return_comment",
                    "acknowledged_by_id", "version")

    @property
    def audit_cycle_id(self) -> int:
        return self.recommendation.cycle_id

    @property
    def plan_is_late(self) -> bool:
        """The school's planned completion falls after the item's deadline: allowed (it may honestly need longer),
        said to the director on saving and marked on the item's page."""
        return self.planned_completion is not None and self.planned_completion > self.due_date

    @property
    def cycle(self) -> Cycle:
        return self.recommendation.cycle


def local_day(moment: datetime | str | None, tz_name: str) -> date | None:
    """The day a stored moment (UTC) falls on where the cycle's owner works (`tz_name`: orgs.services.org_time_zone),
    the day its end date and `today` are counted in: a value entered at 01:30 in Moscow on the day after a measure's
    end date was dated by its UTC day (22:30 of the end date) and taken for one measured while the measure ran.
    SQLite hands aggregates back as text, naive. The rule is app/core/timeutil.local_day, the documents' own."""
    return timeutil.local_day(moment, tz_name)


def remeasured_from(start_date: date, end_date: date, done_at: datetime | None, today: date,
                    tz_name: str) -> date | None:
    """The first day an indicator's value can show a measure's effect, or None while the measure runs (neither past
    its end date nor marked done). A measure ends with its end date — a value measured on that day was measured while
    it still ran, so only the next day's counts — or earlier, on the day it is marked done; a value taken before it
    began tells nothing of it either: a roadmap's measure marked done the day before it was to start was rated «нет
    эффекта» on the values the monitoring had collected before it (walk 19). Days are the dates of the stored
    moments in the owner's time zone (local_day), as the values' own (app/effectiveness/services.indicator_rows) and
    as the end date and `today` are. The one rule of the evaluation and of
    the integrity panel and its counts (remeasured): the panel once said «measured after the measure» of a value
    taken on its end date, and owed a new one of a measure marked done early that the evaluation rated on values
    taken after it was done. The panel still owes a new measurement only once the end date has passed: a measure
    marked done early is rated once measured again, but nothing is owed before its planned end."""
    done_on = local_day(done_at, tz_name)
    if done_on is None and end_date >= today:
        return None
    after_end = end_date + timedelta(days=1)
    ended_on = min(after_end, done_on) if done_on is not None else after_end
    return max(ended_on, start_date)


def remeasured(measured_on: date | None, since: date | None) -> bool:
    """Was the indicator measured (its latest accepted value on `measured_on`, its local_day) late enough to show the
    effect of a measure that ended as remeasured_from says (`since`)? False while the measure runs (`since` None)."""
    return since is not None and measured_on is not None and measured_on >= since


class Measure(Audited, db.Model):
    """Мера (мероприятие) of the roadmap: who does what, from when to when, to move which indicators."""

    __tablename__ = "measures"
    __table_args__ = (
        CheckConstraint(_in("state", MEASURE_STATES), name="state"),
        CheckConstraint(_in("kind", MEASURE_KINDS), name="kind"),
        CheckConstraint("end_date >= start_date", name="end_not_before_start"),
        CheckConstraint("(state = 'cancelled') = (cancel_reason IS NOT NULL)", name="reason_iff_cancelled"),
        CheckConstraint("(state IN ('done','verified')) = (done_at IS NOT NULL)", name="done_at_iff_done"),
        CheckConstraint("(state = 'verified') = (verified_at IS NOT NULL)", name="verified_at_iff_verified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(30))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    participants: Mapped[str | None] = mapped_column(Text, info={"max_length": 2000, "label": "Участники"})
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    expected_result: Mapped[str | None] = mapped_column(Text, info={"max_length": 4000, "label": "Ожидаемый результат"})
    state: Mapped[str] = mapped_column(String(20), default="planned")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    result_note: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[Cycle] = relationship()
    stage: Mapped[Stage] = relationship()
    responsible: Mapped[User] = relationship(foreign_keys=[responsible_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=measure_recommendations, order_by="Recommendation.id")
    findings: Mapped[list[Finding]] = relationship(secondary=measure_findings,
                                                     order_by="Finding.id")
    indicators: Mapped[list[Indicator]] = relationship(secondary=measure_indicators, order_by="Indicator.code")
    decisions: Mapped[list["Decision"]] = relationship(secondary=decision_measures, viewonly=True,
                                                       order_by="Decision.id")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "measure"
    audit_fields = ("state", "title", "kind", "responsible_id", "participants", "start_date", "end_date",
                    "expected_result", "cancel_reason", "result_note", "version")

    @property
    def organisation(self) -> Organisation:
        return self.cycle.owner

    @property
    def kind_label(self) -> str:
        return MEASURE_KINDS.get(self.kind, self.kind)


class Decision(Audited, db.Model):
    """Управленческое решение: what is decided, by when, who answers for it, and the analysis it rests on."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_in("state", DECISION_STATES), name="state"),
        CheckConstraint(_in("kind", DECISION_KINDS), name="kind"),
        CheckConstraint("(state = 'draft') = (adopted_at IS NULL)", name="adopted_at_iff_adopted"),
        CheckConstraint("(adopted_at IS NULL) = (adopted_by_id IS NULL)", name="adopted_by_iff_adopted"),
        CheckConstraint("(state IN ('executed','verified')) = (executed_at IS NOT NULL)",
                        name="executed_at_iff_executed"),
        CheckConstraint("(state = 'verified') = (verified_at IS NOT NULL)", name="verified_at_iff_verified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, info={"max_length": 10000, "label": "Текст решения"})
    kind: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[date] = mapped_column(Date)
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    participants: Mapped[str | None] = mapped_column(Text, info={"max_length": 2000, "label": "Участники"})
    basis: Mapped[str | None] = mapped_column(Text, info={"max_length": 10000, "label": "Основание"})
    state: Mapped[str] = mapped_column(String(20), default="draft")
    execution_note: Mapped[str | None] = mapped_column(Text)
    adopted_at: Mapped[datetime | None]
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[Cycle] = relationship()
    stage: Mapped[Stage] = relationship()
    responsible: Mapped[User] = relationship(foreign_keys=[responsible_id])
    adopted_by: Mapped[User | None] = relationship(foreign_keys=[adopted_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    findings: Mapped[list[Finding]] = relationship(secondary=decision_findings,
                                                     order_by="Finding.id")
    measures: Mapped[list[Measure]] = relationship(secondary=decision_measures,
                                                   order_by="Measure.start_date, Measure.id")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "decision"
    audit_fields = ("state", "text", "kind", "deadline", "responsible_id", "participants", "basis",
                    "execution_note", "version")

    @property
    def organisation(self) -> Organisation:
        return self.cycle.owner

    @property
    def kind_label(self) -> str:
        return DECISION_KINDS.get(self.kind, self.kind)

    @property
    def title(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= 90 else text[:87] + "…"
