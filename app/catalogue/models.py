from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.timeutil import utcnow
from app.extensions import db

# Whom a mechanism concerns (its audience): the preschool mechanism M2.4 and the mechanisms that mirror it one level
# down (I2.4, `upper: M2.4`) the kindergartens (ДОО, kind `preschool`) and the schools with preschool groups
# (Organisation.serves), every other mechanism the schools. The one
# rule behind «все образовательные организации» of a data request, the demo's addressees and the mechanisms offered
# to an institution opening its own cycle (README, «Audience of a mechanism»).
PRESCHOOL_MECHANISMS = frozenset({"M2.4"})
# The mechanisms of children's talents (M1.3: programmes for highly motivated children, olympiad preparation) and of
# upbringing (M2.3: children's associations, volunteering, holidays; regionally R1.3 and R2.5), which the
# institutions of additional education (ДДТ, kind `additional`) run beside the schools (domain.md §2, §5): their
# requests and recommendations go to both. The mechanisms of assessment results (ВПР, ОГЭ) stay the schools'.
ADDITIONAL_MECHANISMS = frozenset({"M1.3", "M2.3", "R1.3", "R2.5"})
PRESCHOOL_AUDIENCE = ("preschool",)
SCHOOL_AUDIENCE = ("school",)
SCHOOL_AND_ADDITIONAL_AUDIENCE = ("school", "additional")
AUDIENCE_LABELS = {"preschool": "детские сады и школы с дошкольными группами", "school": "школы",
                   "additional": "организации дополнительного образования"}
INSTITUTION_KINDS = ("school", "preschool", "additional")


class StageDefinition(db.Model):
    """Блок цикла: one of the nine stages, as data (title, order, whether it may run in parallel)."""

    __tablename__ = "stage_definitions"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # A parallel stage may open before its predecessor is approved (e.g. methods alongside indicators).
    parallel: Mapped[bool] = mapped_column(default=False)


# The levels in the order of the vertical (region above municipality above school) and their headings where a list
# offers mechanisms of several levels (a region's official opens cycles at all three).
LEVEL_ORDER = ("regional", "municipal", "school")
LEVEL_HEADINGS = {"regional": "Региональный уровень", "municipal": "Муниципальный уровень",
                  "school": "Уровень образовательной организации (ВСОКО)"}


class MechanismSet(db.Model):
    """A versioned catalogue of mechanisms for one level; regions differ, so versions are kept."""

    __tablename__ = "mechanism_sets"
    __table_args__ = (
        UniqueConstraint("level", "version"),
        CheckConstraint("level IN ('regional','municipal','school')", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    mechanisms: Mapped[list["Mechanism"]] = relationship(
        back_populates="mechanism_set", order_by="Mechanism.position", cascade="all, delete-orphan"
    )


class Mechanism(db.Model):
    """Механизм управления качеством образования."""

    __tablename__ = "mechanisms"
    __table_args__ = (UniqueConstraint("set_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("mechanism_sets.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    group: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    optional: Mapped[bool] = mapped_column(default=False)
    # Set when an administrator added it for this region rather than loading it from the catalogue.
    region_specific: Mapped[bool] = mapped_column(default=False)
    # The counterpart mechanism one level up (M1.1 → R1.1, I1.1 → M1.1): its cycles' invariant indicators are
    # mandatory for this mechanism's cycles (README, «The vertical»).
    upper_code: Mapped[str | None] = mapped_column(String(20))

    mechanism_set: Mapped[MechanismSet] = relationship(back_populates="mechanisms")
    tracks: Mapped[list["Track"]] = relationship(
        back_populates="mechanism", order_by="Track.position", cascade="all, delete-orphan"
    )
    indicator_groups: Mapped[list["IndicatorGroup"]] = relationship(
        back_populates="mechanism", order_by="IndicatorGroup.position", cascade="all, delete-orphan"
    )

    @property
    def level(self) -> str:
        return self.mechanism_set.level

    @property
    def audience(self) -> tuple[str, ...]:
        """The kinds of educational organisation the mechanism concerns (PRESCHOOL_MECHANISMS, ADDITIONAL_MECHANISMS
        above)."""
        if self.code in PRESCHOOL_MECHANISMS or self.upper_code in PRESCHOOL_MECHANISMS:
            return PRESCHOOL_AUDIENCE
        if self.code in ADDITIONAL_MECHANISMS or self.upper_code in ADDITIONAL_MECHANISMS:
            return SCHOOL_AND_ADDITIONAL_AUDIENCE
        return SCHOOL_AUDIENCE

    def concerns(self, org) -> bool:
        """Whether the organisation `org` runs this mechanism's cycles: an institution those of its audience (a
        kindergarten only the preschool mechanisms, I2.4; a school with preschool groups those too,
        `Organisation.serves`; an institution of additional education only the talent and upbringing ones, whose
        requests it answers — not the assessment results' I1.1); an authority all."""
        return org.kind not in INSTITUTION_KINDS or org.serves(self.audience)

    @property
    def audience_label(self) -> str:
        """The audience in words, for the «все …» choice of a data request: «школы», «детские сады и школы с
        дошкольными группами»."""
        return ", ".join(AUDIENCE_LABELS[kind] for kind in self.audience)


class Track(db.Model):
    """Направление (трек): runs a full cycle, or a partial one listing the blocks it covers."""

    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("mechanism_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mechanism_id: Mapped[int] = mapped_column(ForeignKey("mechanisms.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(default=0)
    # None means the full nine-block cycle; otherwise the list of stage codes the track covers.
    blocks: Mapped[list | None] = mapped_column(JSON)

    mechanism: Mapped[Mechanism] = relationship(back_populates="tracks")

    @property
    def full_cycle(self) -> bool:
        return not self.blocks

    @property
    def choice_heading(self) -> str:
        """The heading a list of tracks groups this one under: its level and its mechanism's group («Муниципальный
        уровень: качество образовательных результатов»)."""
        mechanism = self.mechanism
        heading = LEVEL_HEADINGS[mechanism.level]
        return f"{heading}: {mechanism.group}" if mechanism.group else heading

    def covers(self, code: str) -> bool:
        """The track's cycle has the block `code` (a full cycle has them all)."""
        return not self.blocks or code in self.blocks

    @property
    def own_indicators(self) -> bool:
        """A cycle of this track sets its own indicators (block «Показатели»); a partial cycle without it
        evaluates its measures against the indicators of the full cycle it belongs to (app/cycles/basis.py)."""
        return self.covers("IND")


class IndicatorGroup(db.Model):
    """A required indicator group of a mechanism: the indicators stage must cover each one."""

    __tablename__ = "indicator_groups"
    __table_args__ = (UniqueConstraint("mechanism_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mechanism_id: Mapped[int] = mapped_column(ForeignKey("mechanisms.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)
    required: Mapped[bool] = mapped_column(default=True)

    mechanism: Mapped[Mechanism] = relationship(back_populates="indicator_groups")


class LibraryIndicator(db.Model):
    """An indicator of the default library (reference/indicators.yaml) offered when filling stage 2."""

    __tablename__ = "library_indicators"
    __table_args__ = (
        UniqueConstraint("code"),
        CheckConstraint("direction IN ('up','down')", name="direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mechanism_code: Mapped[str] = mapped_column(String(20), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(40))
    formula: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    periodicity: Mapped[str | None] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(4))
    group_name: Mapped[str] = mapped_column(String(300))
