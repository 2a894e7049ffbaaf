from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.roles import ASSIGNED_ROLES, ROLES, SUPPORT_ROLES
from app.core import hooks
from app.core.timeutil import utcnow
from app.extensions import db
from app.orgs.models import CENTRE_KINDS, Organisation, OrganisationSupport, support_generation

_ROLE_LIST = ",".join(f"'{r}'" for r in ROLES)


class User(UserMixin, db.Model):
    """Пользователь. `session_version` is bumped to invalidate every existing session server-side."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    roles: Mapped[list["RoleAssignment"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login stores get_id() in the session: embedding the version makes every older session
    # (and remember-me cookie) fail to load once the version moves on.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def short_name(self) -> str:
        """И.О. Фамилия, the form used in signature blocks."""
        parts = self.full_name.split()
        if len(parts) >= 2:
            initials = "".join(f"{p[0]}." for p in parts[1:3])
            return f"{initials} {parts[0]}"
        return self.full_name

    def role_codes(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *roles: str) -> bool:
        return any(r.role in roles for r in self.roles)

    @property
    def is_regional_admin(self) -> bool:
        """An administrator at the top of a tree (the region): what is shared by every organisation below it (the
        catalogue of mechanisms, the document templates) is changed only by such an administrator, never by one
        of a municipality, whose rights hold in its own subtree."""
        return any(r.role == "admin" and r.organisation.parent_id is None for r in self.roles)

    def roles_over(self, org: Organisation) -> set[str]:
        """Roles this user holds over `org`: those assigned at org itself or at one of its ancestors, the support
        roles held at a centre that supports org or one of its ancestors (support_grants), and the assignment-scoped
        roles (a regional expert) over the organisations assigned to the user (assigned_grants) and over the very
        organisation where they are held, not its subtree (the region's own objects: the campaign's documents, which
        the expert signs)."""
        held = {r.role for r in self.roles if org.path.startswith(r.organisation.path)
                and (r.role not in ASSIGNED_ROLES or r.organisation_id == org.id)}
        held |= {role for role, path, _ in self.support_grants() if org.path.startswith(path)}
        return held | {role for role, path, _ in self.assigned_grants() if org.path.startswith(path)}

    def support_grants(self) -> list[tuple[str, str, int]]:
        """(role, supported organisation's path, its id) for each support role (ИМЦ methodologist, РЦОКО analyst)
        the user holds at a centre, for each organisation that centre supports. No query for a user without such
        a role; one query per user object otherwise, loaded again after the relation changes."""
        if not any(r.role in SUPPORT_ROLES and r.organisation.kind in CENTRE_KINDS for r in self.roles):
            return []
        cached = self.__dict__.get("_support_grants")
        if cached is not None and cached[0] == support_generation():
            return cached[1]
        rows = db.session.execute(
            select(RoleAssignment.role, Organisation.path, Organisation.id)
            .join(OrganisationSupport, OrganisationSupport.centre_id == RoleAssignment.organisation_id)
            .join(Organisation, Organisation.id == OrganisationSupport.supported_id)
            .where(RoleAssignment.user_id == self.id, RoleAssignment.role.in_(SUPPORT_ROLES))).all()
        grants = [(r.role, r.path, r.id) for r in rows]
        self.__dict__["_support_grants"] = (support_generation(), grants)
        return grants

    def assigned_grants(self) -> list[tuple[str, str, int]]:
        """(role, organisation's path, its id) for each assignment-scoped role the user holds (ASSIGNED_ROLES: the
        regional expert) and each organisation assigned to the user inside the subtree where the role is held —
        the answer of the `assigned_organisations` hook (the assessment: municipalities of published or closed
        campaigns). Without any, the role reads only the organisation where it is held itself. No query for a user
        without such a role; one per user object otherwise, loaded again after an assignment changes
        (assignment_generation)."""
        held = [r for r in self.roles if r.role in ASSIGNED_ROLES]
        if not held:
            return []
        cached = self.__dict__.get("_assigned_grants")
        if cached is not None and cached[0] == assignment_generation():
            return cached[1]
        assigned = hooks.assigned_organisations(self)
        grants = sorted({(r.role, path, org_id) for r in held for path, org_id in assigned
                         if path.startswith(r.organisation.path)})
        self.__dict__["_assigned_grants"] = (assignment_generation(), grants)
        return grants

    def can_see(self, org: Organisation) -> bool:
        return bool(self.roles_over(org))

    def scope_paths(self, roles=None) -> list[str]:
        own = {r.organisation.path for r in self.roles
               if r.role not in ASSIGNED_ROLES and (roles is None or r.role in roles)}
        granted = [*self.support_grants(), *self.assigned_grants()]
        return sorted(own | {path for role, path, _ in granted if roles is None or role in roles})

    @property
    def home_organisation(self) -> Organisation | None:
        """The organisation of the user's first role, whose time zone we show times in."""
        return self.roles[0].organisation if self.roles else None

    def __repr__(self) -> str:
        return f"<User {self.login}>"


_assignment_generation = [0]


def assignment_generation() -> int:
    """Bumped whenever what the `assigned_organisations` hook answers may have changed (an expert assigned, a
    campaign published): cached assigned grants of an older generation are loaded again."""
    return _assignment_generation[0]


def bump_assignment_generation() -> None:
    _assignment_generation[0] += 1


class RoleAssignment(db.Model):
    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "organisation_id"),
        CheckConstraint(f"role IN ({_ROLE_LIST})", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")
    organisation: Mapped[Organisation] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return ROLES[self.role]


class LoginAttempt(db.Model):
    """Failed and successful log-ins and password re-entries (`kind`), kept for throttling per account and per
    address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_login_created", "login", "created_at"),
        Index("ix_login_attempts_address_created", "address", "created_at"),
        CheckConstraint("kind IN ('login','reauth')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    # «login»: the log-in page; «reauth»: a password re-entered at signing, «Ознакомлен» or a password change.
    kind: Mapped[str] = mapped_column(String(10), default="login", server_default="login")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormSubmission(db.Model):
    """A create form's one-time token, stored with the creation it made (app.auth.submit_once): a second
    POST of the same rendered form finds it and is answered with the first one's redirect."""

    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
