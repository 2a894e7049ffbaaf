from datetime import datetime

from sqlalchemy import (CheckConstraint, ForeignKey, Integer, LargeBinary, Numeric, String, UniqueConstraint, and_,
                        false, or_)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.core.db import Audited
from app.core.timeutil import utcnow
from app.extensions import db

ORG_KINDS = {
    "region": "Регион",
    "municipality": "Муниципалитет",
    "school": "Общеобразовательная организация",
    "preschool": "Дошкольная образовательная организация",
    "additional": "Организация дополнительного образования",
    "methodical_centre": "Методический центр",
    "assessment_centre": "Региональный центр оценки качества образования",
}
# Which organisation kinds run cycles at which level of the mechanism catalogue.
LEVEL_OF_KIND = {
    "region": "regional",
    "municipality": "municipal",
    "school": "school",
    "preschool": "school",
    "additional": "school",
}
SETTLEMENTS = {"city": "город", "town": "посёлок городского типа", "village": "сельская местность"}
PROFILES = {"ordinary": "общеобразовательная", "lyceum": "лицей", "gymnasium": "гимназия",
            "in_depth": "с углублённым изучением предметов"}


def ancestor_paths(path: str) -> list[str]:
    """The materialised paths of the organisations above the one at `path`, the root first ("/1/4/17/" →
    ["/1/", "/1/4/"]): a subtree's organisation finds its municipality or region among rows keyed by path."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts))]


class Organisation(Audited, db.Model):
    """Организация: a node of the region → municipality → institution hierarchy.

    `path` is the materialised chain of ids ("/1/4/17/"), so a subtree is one indexed LIKE prefix
    query; ids (digits only) are used rather than codes because codes may contain LIKE wildcards.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("kind IN ('region','municipality','school','preschool','additional',"
                        "'methodical_centre','assessment_centre')", name="kind"),
        CheckConstraint("settlement IS NULL OR settlement IN ('city','town','village')", name="settlement"),
        CheckConstraint("profile IS NULL OR profile IN ('ordinary','lyceum','gymnasium','in_depth')",
                        name="profile"),
        CheckConstraint("students IS NULL OR students >= 0", name="students"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    timezone: Mapped[str | None] = mapped_column(String(60))
    # Context attributes (domain.md §2) for fair comparison of schools.
    settlement: Mapped[str | None] = mapped_column(String(20))
    remote: Mapped[bool | None]
    # Дошкольные группы: a school that also runs preschool programmes, so the preschool mechanisms concern it beside
    # the kindergartens (I2.4 «для ОО, реализующих программы ДО»; `serves`).
    preschool_groups: Mapped[bool] = mapped_column(default=False, server_default=false())
    students: Mapped[int | None] = mapped_column(Integer)
    profile: Mapped[str | None] = mapped_column(String(20))
    low_income_share: Mapped[float | None] = mapped_column(Numeric(5, 2))
    non_native_share: Mapped[float | None] = mapped_column(Numeric(5, 2))
    ovz_share: Mapped[float | None] = mapped_column(Numeric(5, 2))
    unqualified_teachers_share: Mapped[float | None] = mapped_column(Numeric(5, 2))
    teacher_vacancies: Mapped[int | None] = mapped_column(Integer)
    # Реквизиты for the бланк of the organisation's letters (app/orgs/requisites.py checks them).
    address: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(200))
    okpo: Mapped[str | None] = mapped_column(String(10))
    ogrn: Mapped[str | None] = mapped_column(String(15))
    inn: Mapped[str | None] = mapped_column(String(12))
    kpp: Mapped[str | None] = mapped_column(String(9))
    head_position: Mapped[str | None] = mapped_column(String(200))
    # The emblem (герб) printed above the name on the бланк: PNG/JPEG up to 512 KB, loaded only when asked for;
    # its SHA-256 is loaded with the row, so a document (or the audit log) knows whether there is one for free.
    emblem: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    emblem_sha256: Mapped[str | None] = mapped_column(String(64))

    audit_type = "organisation"
    audit_fields = ("code", "kind", "name", "short_name", "timezone", "settlement", "remote", "preschool_groups",
                    "students", "profile", "low_income_share", "non_native_share", "ovz_share",
                    "unqualified_teachers_share", "teacher_vacancies", "address", "phone", "email", "website", "okpo",
                    "ogrn", "inn", "kpp", "head_position", "emblem_sha256")

    parent: Mapped["Organisation | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Organisation"]] = relationship(back_populates="parent", order_by="Organisation.name")

    @property
    def organisation(self) -> "Organisation":
        """Scope checks ask every object for its organisation; an organisation is its own."""
        return self

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def kind_label(self) -> str:
        return ORG_KINDS.get(self.kind, self.kind)

    @property
    def level(self) -> str | None:
        return LEVEL_OF_KIND.get(self.kind)

    @classmethod
    def in_subtree_of(cls, org: "Organisation"):
        """SQL condition: the row is `org` or lies below it."""
        return cls.path.like(org.path + "%")

    def serves(self, audience) -> bool:
        """Whether the organisation is among the institutions of `audience` (kinds, Mechanism.audience): one of
        those kinds, or a school with preschool groups where the kindergartens are asked."""
        return self.kind in audience or ("preschool" in audience and self.kind == "school"
                                         and bool(self.preschool_groups))

    @classmethod
    def serving(cls, audience):
        """SQL condition: `serves` for a row."""
        condition = cls.kind.in_(tuple(audience))
        if "preschool" in audience:
            condition = or_(condition, and_(cls.kind == "school", cls.preschool_groups.is_(True)))
        return condition

    def is_within(self, other: "Organisation") -> bool:
        """True when self is `other` or lies in its subtree."""
        return self.path.startswith(other.path)

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


_support_generation = [0]


def support_generation() -> int:
    """Bumped on every change of the support relation: a user's cached grants (User.support_grants) of an older
    generation are loaded again."""
    return _support_generation[0]


def bump_support_generation() -> None:
    _support_generation[0] += 1


# Which kinds of organisation are centres that support others (ИМЦ, РЦОКО), and which kinds they may support.
CENTRE_KINDS = ("methodical_centre", "assessment_centre")
SUPPORTED_KINDS = ("region", "municipality")


class OrganisationSupport(db.Model):
    """Отношение сопровождения: a centre (ИМЦ, РЦОКО) serves an organisation (a municipality, the region). The
    roles its methodologists and analysts hold at the centre are valid in the supported organisation's subtree
    too (`User.roles_over`); an administrator configures it on the centre's page."""

    __tablename__ = "organisation_supports"
    __table_args__ = (
        UniqueConstraint("centre_id", "supported_id"),
        CheckConstraint("centre_id <> supported_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    supported_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    centre: Mapped[Organisation] = relationship(foreign_keys=[centre_id])
    supported: Mapped[Organisation] = relationship(foreign_keys=[supported_id])

    @property
    def organisation(self) -> Organisation:
        return self.centre
