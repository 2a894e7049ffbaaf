from datetime import date, datetime

from sqlalchemy import CheckConstraint, false, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.catalogue.models import StageDefinition, Track
from app.core.db import Audited
from app.core.timeutil import utcnow
from app.extensions import db
from app.orgs.models import Organisation


# How an invariant indicator's lower values roll up (README, «The vertical»).
AGGREGATIONS = {
    "sum": "сумма",
    "mean_weighted": "среднее, взвешенное по числу обучающихся",
    "share_meeting": "доля организаций, достигших целевого значения",
}

COUNT_UNITS = frozenset({"ед.", "ед", "чел.", "чел", "шт.", "шт"})


def default_aggregation(unit: str | None) -> str:
    """Counts add up; rates and means are averaged weighted by the number of students."""
    return "sum" if (unit or "").strip() in COUNT_UNITS else "mean_weighted"


class Cycle(Audited, db.Model):
    """Управленческий цикл: one track, one owner organisation, one period (e.g. 2025/26)."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("track_id", "owner_id", "period"),
        CheckConstraint("state IN ('open','closed')", name="state"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="open")
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    track: Mapped[Track] = relationship()
    owner: Mapped[Organisation] = relationship()
    previous: Mapped["Cycle | None"] = relationship(remote_side=[id])
    stages: Mapped[list["Stage"]] = relationship(
        back_populates="cycle", order_by="Stage.position", cascade="all, delete-orphan"
    )
    goals: Mapped[list["Goal"]] = relationship(
        back_populates="cycle", order_by="Goal.position, Goal.id", cascade="all, delete-orphan"
    )
    indicators: Mapped[list["Indicator"]] = relationship(
        back_populates="cycle", order_by="Indicator.code", cascade="all, delete-orphan"
    )
    collection_methods: Mapped[list["CollectionMethod"]] = relationship(
        back_populates="cycle", order_by="CollectionMethod.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    audit_type = "cycle"
    audit_fields = ("state", "period", "track_id", "owner_id", "version")

    @property
    def audit_cycle_id(self) -> int:
        return self.id

    @property
    def organisation(self) -> Organisation:
        return self.owner

    @property
    def mechanism(self):
        return self.track.mechanism

    @property
    def title(self) -> str:
        return f"{self.track.mechanism.code} {self.track.title} — {self.period}"

    @property
    def track_label(self) -> str:
        """The track's own name where the mechanism has several tracks; its code alone otherwise."""
        mechanism = self.track.mechanism
        return f"{mechanism.code} «{self.track.title}»" if len(mechanism.tracks) > 1 else mechanism.code

    @property
    def short_title(self) -> str:
        """«M1.2, ГО Северный, 2026/27»: enough to tell cycles apart in task lists and breadcrumbs."""
        return f"{self.track_label}, {self.owner.display_name}, {self.period}"

    def stage(self, code: str) -> "Stage | None":
        return next((s for s in self.stages if s.code == code), None)


class Stage(Audited, db.Model):
    """Блок цикла within one cycle, with its own approval workflow (workflows/stage.py)."""

    __tablename__ = "stages"
    __table_args__ = (
        UniqueConstraint("cycle_id", "code"),
        CheckConstraint("state IN ('waiting','draft','on_review','approved')", name="state"),
        CheckConstraint("(state = 'approved') = (approved_at IS NOT NULL)", name="approved_at_iff_approved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(ForeignKey("stage_definitions.code"))
    position: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    # Free-text content for stages whose structured content arrives with later features.
    summary: Mapped[str | None] = mapped_column(Text, info={"max_length": 20000, "label": "Содержание этапа"})
    return_comment: Mapped[str | None] = mapped_column(Text)
    # Touched by every content edit, so an edit racing a submit collides on the stage's version.
    content_updated_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[Cycle] = relationship(back_populates="stages")
    definition: Mapped[StageDefinition] = relationship(lazy="joined")
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    __mapper_args__ = {"version_id_col": version}
    audit_type = "stage"
    audit_fields = ("state", "responsible_id", "deadline", "summary", "version")

    @property
    def organisation(self) -> Organisation:
        return self.cycle.owner

    @property
    def title(self) -> str:
        return self.definition.title

    def previous_stage(self) -> "Stage | None":
        earlier = [s for s in self.cycle.stages if s.position < self.position]
        return earlier[-1] if earlier else None

    def next_stage(self) -> "Stage | None":
        later = [s for s in self.cycle.stages if s.position > self.position]
        return later[0] if later else None


class _CycleContent(Audited):
    """Shared columns of the rows that make up a cycle's stage content."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def organisation(self) -> Organisation:
        return self.cycle.owner


class Goal(_CycleContent, db.Model):
    """Цель: direction, the goal statement, its justification (обоснование) and realism (реалистичность)."""

    __tablename__ = "goals"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    direction: Mapped[str] = mapped_column(String(500))
    statement: Mapped[str] = mapped_column(Text, info={"max_length": 4000, "label": "Цель"})
    justification: Mapped[str] = mapped_column(Text, info={"max_length": 8000, "label": "Обоснование"})
    realism: Mapped[str] = mapped_column(Text, info={"max_length": 8000, "label": "Реалистичность"})
    # Link to a goal of a higher-level cycle (e.g. the regional goal a municipal goal serves).
    parent_goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))

    cycle: Mapped[Cycle] = relationship(back_populates="goals")
    audit_type = "goal"
    audit_fields = ("direction", "statement", "justification", "realism", "parent_goal_id")
    parent_goal: Mapped["Goal | None"] = relationship(foreign_keys=[parent_goal_id], remote_side="Goal.id")

    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}


class Indicator(_CycleContent, db.Model):
    """Показатель of a cycle; `group_name` is one of the mechanism's indicator groups."""

    __tablename__ = "indicators"
    __table_args__ = (
        UniqueConstraint("cycle_id", "code"),
        CheckConstraint("direction IN ('up','down')", name="direction"),
        CheckConstraint("aggregation IN ('sum','mean_weighted','share_meeting')", name="aggregation"),
    )

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text, info={"max_length": 2000, "label": "Наименование"})
    unit: Mapped[str] = mapped_column(String(40))
    definition: Mapped[str] = mapped_column(Text, info={"max_length": 4000, "label": "Определение / формула расчёта"})
    group_name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text, info={"max_length": 2000, "label": "Источник данных"})
    collection_method: Mapped[str] = mapped_column(Text, info={"max_length": 2000, "label": "Метод сбора"})
    periodicity: Mapped[str] = mapped_column(String(100))
    baseline: Mapped[float | None] = mapped_column(Numeric(14, 4))
    target: Mapped[float | None] = mapped_column(Numeric(14, 4))
    direction: Mapped[str] = mapped_column(String(4), default="up")
    responsible: Mapped[str] = mapped_column(String(300))
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id", ondelete="SET NULL"))
    # The vertical (README, «The vertical»): an invariant indicator is mandatory for the cycles of the
    # counterpart mechanism one level down, which inherit it (upper_indicator_id) with its target as default;
    # `aggregation` says how the lower values roll up into this level's value.
    invariant: Mapped[bool] = mapped_column(default=False, server_default=false())
    aggregation: Mapped[str] = mapped_column(String(20), default="mean_weighted", server_default="mean_weighted")
    upper_indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id", ondelete="SET NULL"),
                                                           index=True)

    cycle: Mapped[Cycle] = relationship(back_populates="indicators")
    upper_indicator: Mapped["Indicator | None"] = relationship(
        foreign_keys=[upper_indicator_id], remote_side="Indicator.id")
    audit_type = "indicator"
    audit_fields = ("code", "name", "unit", "definition", "group_name", "source", "collection_method",
                    "periodicity", "baseline", "target", "direction", "responsible", "invariant", "aggregation",
                    "upper_indicator_id")

    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    @property
    def direction_label(self) -> str:
        return "чем больше, тем лучше" if self.direction == "up" else "чем меньше, тем лучше"

    @property
    def aggregation_label(self) -> str:
        return AGGREGATIONS.get(self.aggregation, self.aggregation)

    def meets(self, value) -> bool:
        """The value reaches this indicator's target (in its direction); False when there is no target."""
        if value is None or self.target is None:
            return False
        return value >= self.target if self.direction == "up" else value <= self.target


class CollectionMethod(_CycleContent, db.Model):
    """Метод сбора и обработки информации: source, method, tool and schedule."""

    __tablename__ = "collection_methods"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(Text, info={"max_length": 2000, "label": "Источник информации"})
    method: Mapped[str] = mapped_column(Text, info={"max_length": 2000, "label": "Метод"})
    tool: Mapped[str] = mapped_column(Text, info={"max_length": 2000, "label": "Инструмент"})
    schedule: Mapped[str] = mapped_column(Text, info={"max_length": 2000, "label": "График"})

    cycle: Mapped[Cycle] = relationship(back_populates="collection_methods")
    audit_type = "collection_method"
    audit_fields = ("source", "method", "tool", "schedule")

    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}
