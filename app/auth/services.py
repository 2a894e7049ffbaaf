"""Users, passwords, sessions and log-in throttling."""

from datetime import timedelta

from functools import cache
import re
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_request_context, request
from sqlalchemy import func, select, text

from app.audit import chain
from app.auth import passwords
from app.auth.models import LoginAttempt, RoleAssignment, User
from app.auth.roles import ROLES
from app.core import hooks, russian
from app.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from app.core.timeutil import utcnow
from app.extensions import db
from app.orgs.models import Organisation, OrganisationSupport
import secrets

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
# A login is what the audit log, task lists and signatures name a person by, so two must never look alike: Latin
# letters, digits and . _ - @ only. Any letter outside ASCII let an administrator create «оfficial» (Cyrillic «о»),
# «official» with a zero-width space, a soft hyphen or a right-to-left mark — each shown exactly as «official».
LOGIN_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9._@-]{0,78}[a-z0-9])?")
LOGIN_RULE = ("Логин: от 1 до 80 латинских букв, цифр и знаков «.», «_», «-», «@» (начинается и кончается буквой или "
              "цифрой), без пробелов, кириллицы и невидимых символов. Например: ivanova.mi")
WeakPassword = passwords.WeakPassword


def _hasher() -> PasswordHasher:
    # argon2id with the library defaults; the test config trades strength for speed.
    if current_app.config.get("ARGON2_FAST"):
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(fast: bool) -> str:
    """A hash of a random secret made with the current parameters, verified for unknown logins."""

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
    return hasher.hash(secrets.token_urlsafe(24))


def _verify_for_timing_only(password: str) -> None:
    """Spend the time a real verification takes, so an unknown login cannot be told apart by timing."""
    _verify(_dummy_hash(bool(current_app.config.get("ARGON2_FAST"))), password or "")


def validate_new_password(password: str, *, login: str | None = None, full_name: str | None = None) -> None:
    """Length, the common-password list, no login or name inside (app.auth.passwords); raises WeakPassword."""
    passwords.check_new_password(password, login=login, full_name=full_name)


class LoginThrottled(DomainError):
    status_code = 429


LOGIN, REAUTH = "login", "reauth"  # LoginAttempt.kind


def _failures_since(since, *, kinds=(LOGIN,), reset_on_success: bool, **where) -> int:
    """Failures of `kinds` matching `where` (login=…, address=…) in the window — after the last success of any kind
    matching `where` if `reset_on_success` (whoever made it proved the password)."""
    match = [getattr(LoginAttempt, column) == value for column, value in where.items()]
    start = since
    if reset_on_success:
        last_success = db.session.scalar(
            select(func.max(LoginAttempt.created_at)).where(*match, LoginAttempt.succeeded.is_(True)))
        start = max(since, last_success) if last_success else since
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(*match, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > start,
               LoginAttempt.kind.in_(kinds))
    )


def _known_address(login: str, address: str) -> bool:
    """Whether the account has logged in from this address (the log-in page, the right password) in the last
    LOGIN_KNOWN_ADDRESS_DAYS: its owner's own computer, which guesses from elsewhere must not shut out."""
    since = utcnow() - timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    return db.session.scalar(
        select(LoginAttempt.id).where(LoginAttempt.login == login, LoginAttempt.address == address,
                                      LoginAttempt.kind == LOGIN, LoginAttempt.succeeded.is_(True),
                                      LoginAttempt.created_at > since).limit(1)) is not None


# The key space of the per-account lock of log-in attempts (PostgreSQL advisory locks: class, hashtext(login)).
ATTEMPTS_LOCK = 0x554B4F4C  # "UKOL"


def _serialise_attempts(login: str) -> None:
    """Wait, in this request's transaction, for any other attempt at the same account to commit or roll back.

    Counting the failures and recording this attempt are two steps: guesses sent at the same moment (one per web
    worker) each counted the failures before any was recorded, so a burst got a guess past the limit per worker
    (attack 8: six recorded failures against a limit of five, with two workers). SQLite has one writer anyway."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:login))"),
                     {"space": ATTEMPTS_LOCK, "login": login})


def check_throttle(login: str, address: str, *, kinds=(LOGIN,)) -> None:
    """Refuse further attempts after too many failures (of `kinds`) in a sliding window (10 minutes by default).

    Guesses must not let anyone shut an account's owner out (attack 13: five wrong passwords from anywhere locked
    the head out of the system for the window, renewable by one guess every two minutes — before a signing
    deadline, a denial of service). So the account's limit counts per address: LOGIN_MAX_FAILURES_PER_ACCOUNT
    failures at this account from this address refuse this address only; a success from it resets its count.
    Guesses spread over many addresses meet a second limit, LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES failures
    at the account from all addresses together: past it only an address the account has logged in from before
    (`_known_address`) may still try — the owner at their own computer gets in, a new address waits out the window.
    Each address has its own limit across accounts too. Attempts at one account are serialised until the caller
    commits the one it records, so the counts are never read stale. The log-in counts log-in failures only: a
    signer mistyping the password at a signature must not be locked out of the system (a re-entry has its own
    count, `verify_password_reentry`).
    """
    _serialise_attempts(login)
    cfg = current_app.config
    window = cfg["LOGIN_WINDOW_SECONDS"]
    since = utcnow() - timedelta(seconds=window)
    minutes = max(1, window // 60)
    if (_failures_since(since, kinds=kinds, reset_on_success=True, login=login, address=address)
            >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        raise LoginThrottled(f"Слишком много неудачных попыток входа для этой учётной записи с этого адреса. "
                             f"Повторите через {minutes} мин.")
    # An address's count is not reset by a success: logging into one's own account between guesses at
    # other accounts must not reopen the door.
    if (_failures_since(since, kinds=kinds, reset_on_success=False, address=address)
            >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        raise LoginThrottled(f"Слишком много неудачных попыток входа с этого адреса. Повторите через {minutes} мин.")
    # Nor is the account's count over all addresses: the owner's success says nothing about the guessers.
    if (_failures_since(since, kinds=kinds, reset_on_success=False, login=login)
            >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES"] and not _known_address(login, address)):
        raise LoginThrottled(f"Слишком много неудачных попыток входа для этой учётной записи с разных адресов: "
                             f"с адреса, с которого в неё ещё не входили, вход временно закрыт. Войдите со своего "
                             f"рабочего компьютера или повторите через {minutes} мин.")


def normalise_login(login: str | None) -> str:
    """The login as stored and looked up: NFKC (a full-width «ｈｅａｄ» typed with an IME is «head»), trimmed, lower
    case. Whether it is a valid login at all is `create_user`'s question (LOGIN_PATTERN)."""
    return unicodedata.normalize("NFKC", login or "").strip().lower()


def authenticate(login: str, password: str, *, address: str) -> User:
    """Return the user for valid credentials, recording the attempt; raise with a Russian message otherwise."""
    login = normalise_login(login)
    check_throttle(login, address)
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        _verify_for_timing_only(password)
        ok = False
    else:
        # Verify first, then look at `active`: a disabled account takes as long as any other.
        ok = check_password(user, password) and user.active
    db.session.add(LoginAttempt(login=login, address=address, succeeded=ok))
    if not ok:
        # Same message whether the login exists or not, so accounts cannot be enumerated.
        raise DomainError("Неверный логин или пароль.")
    chain.record(action="login", object_type="user", object_id=user.id, actor=user)
    return user


class ReauthRefused(ValidationFailed):
    """A refused password re-entry. The attempt (and its audit entry) is recorded, so the caller commits."""

    status_code = 422


class ReauthThrottled(ReauthRefused):
    status_code = 429

    def __init__(self, minutes: int):
        super().__init__(f"Слишком много неверных вводов пароля: действие заблокировано. "
                         f"Повторите через {minutes} мин.")
        self.minutes = minutes


def _client_address() -> str:
    return (request.remote_addr or "-") if has_request_context() else "-"


def verify_password_reentry(user: User, password: str | None, *, purpose: str, message: str,
                            audit: bool = True, address: str | None = None) -> None:
    """Check a re-entered password (password change, signing, «Ознакомлен») under the log-in throttle's limits.

    A re-entry is refused once the re-entry and log-in failures together reach the limits (`check_throttle`: per
    account and address, per address, per account from addresses it has not logged in from) in the same sliding
    window: an account and address refused at the log-in page give no guesses here. The log-in
    page counts only its own failures, so wrong passwords typed at a signature do not lock the signer out of the
    system; a stolen session thus gets at most one limit of guesses here besides the log-in page's. Past the
    limit even the right password is refused (429) until the window has passed. Each failure is recorded (and
    audited unless the caller audits it itself), so the caller commits on ReauthRefused.
    """
    address = address or _client_address()
    try:
        check_throttle(user.login, address, kinds=(LOGIN, REAUTH))
    except LoginThrottled:
        minutes = max(1, current_app.config["LOGIN_WINDOW_SECONDS"] // 60)
        if audit:
            chain.record(action="reauth_throttled", object_type="user", object_id=user.id, actor=user,
                         after={"purpose": purpose, "address": address})
        raise ReauthThrottled(minutes) from None
    ok = bool(password) and check_password(user, password)
    db.session.add(LoginAttempt(login=user.login, address=address, succeeded=ok, kind=REAUTH))
    if not ok:
        if audit:
            chain.record(action="reauth_failed", object_type="user", object_id=user.id, actor=user,
                         after={"purpose": purpose, "address": address})
        raise ReauthRefused(message)


def end_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie of the user, on the server side."""
    user.session_version += 1


def change_password(user: User, *, current: str, new: str, actor: User) -> bool:
    """Raises ReauthRefused for a wrong current password (the caller commits the recorded attempt). True when the
    change also revoked the user's calendar link (the page says so)."""
    verify_password_reentry(user, current, purpose="change_password", message="Текущий пароль указан неверно.")
    validate_new_password(new, login=user.login, full_name=user.full_name)
    user.password_hash = hash_password(new)
    end_sessions(user)
    chain.record(action="change_password", object_type="user", object_id=user.id, actor=actor)
    # The iCalendar link was handed out under the old password: whoever changes it after a leak expects old feeds to
    # stop too (attack 21). API tokens stay: they serve other systems (README, «API»).
    return bool(hooks.password_changed(user, actor=actor))


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Enable or disable `user`'s account. An account is one for all the user's roles, so only an administrator
    over every organisation where the user holds a role may switch it: a municipality's administrator disabled the
    regional administrator, who also held a role in that municipality (attack 7)."""
    beyond = sorted({r.organisation.display_name for r in user.roles
                     if "admin" not in actor.roles_over(r.organisation)})
    if beyond:
        raise PermissionDenied("Пользователь работает и в организациях вне вашей зоны администрирования ("
                               + ", ".join(beyond) + "): включить или отключить его учётную запись может только "
                               "администратор, которому подчинены они все.")
    before = {"active": user.active}
    user.active = active
    if not active:
        end_sessions(user)
    chain.record(action="enable_user" if active else "disable_user", object_type="user", object_id=user.id,
                 actor=actor, actor_role="admin", before=before, after={"active": active})


def create_user(*, login: str, full_name: str, password: str, position: str | None = None,
                email: str | None = None, phone: str | None = None, roles=(), actor: User | None = None,
                password_policy: bool = True) -> User:
    """Create a user with (role, organisation) pairs; passwords are hashed with argon2id.

    `password_policy=False` is for the demo seed only, whose users share a published password."""
    login = normalise_login(login)
    if not LOGIN_PATTERN.fullmatch(login):
        raise ValidationFailed(LOGIN_RULE)
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise ValidationFailed(f"Пользователь с логином «{login}» уже существует.")
    if password_policy:
        validate_new_password(password, login=login, full_name=full_name)
    user = User(login=login, full_name=full_name.strip(), position=position, email=email, phone=phone,
                password_hash=hash_password(password))
    for role, org in roles:
        if role not in ROLES:
            raise ValidationFailed(f"Неизвестная роль «{role}».")
        user.roles.append(RoleAssignment(role=role, organisation=org))
    db.session.add(user)
    db.session.flush()
    chain.record(action="create_user", object_type="user", object_id=user.id, actor=actor,
                 actor_role="admin" if actor else "system",
                 after={"login": login, "roles": [[r, o.code] for r, o in roles]})
    return user


def users_with_role_at(org: Organisation, roles) -> list[User]:
    """Active users holding one of `roles` at the nearest level of org's ancestry that has any."""
    for org_id in reversed(org.ancestor_ids()):
        users = db.session.scalars(
            select(User).join(RoleAssignment)
            .where(RoleAssignment.organisation_id == org_id, RoleAssignment.role.in_(roles), User.active.is_(True))
            .order_by(User.id).distinct()
        ).all()
        if users:
            return list(users)
    return []


def no_account_note(names: list[str], then: str) -> str:
    """What to do about organisations whose task reached no one, as they have no director's account (a new
    municipality's schools often have none yet); `then`: what follows the appointment. Empty for no names."""
    if not names:
        return ""
    where = "в организации" if len(names) == 1 else "в организациях"
    return (f"Задача не дошла до исполнителя: {where} {', '.join(russian.quote(n) for n in names)} нет руководителя "
            f"с учётной записью. Администратор назначает роль «{ROLES['director']}» в разделе «Пользователи»; "
            f"{then}")


def users_supporting(org: Organisation, roles) -> list[User]:
    """Active users holding one of `roles` at a centre (ИМЦ, РЦОКО) that supports `org` itself."""
    return list(db.session.scalars(
        select(User).join(RoleAssignment)
        .join(OrganisationSupport, OrganisationSupport.centre_id == RoleAssignment.organisation_id)
        .where(OrganisationSupport.supported_id == org.id, RoleAssignment.role.in_(roles), User.active.is_(True))
        .order_by(User.id).distinct()))


def grant_role(user: User, role: str, org: Organisation, *, actor: User) -> None:
    if role not in ROLES:
        raise ValidationFailed(f"Неизвестная роль «{role}».")
    if any(r.role == role and r.organisation_id == org.id for r in user.roles):
        raise ValidationFailed("Эта роль в этой организации уже назначена.")
    user.roles.append(RoleAssignment(role=role, organisation=org))
    db.session.flush()
    chain.record(action="grant_role", object_type="user", object_id=user.id, actor=actor, actor_role="admin",
                 organisation_id=org.id, after={"role": role, "organisation": org.code})


def user_in_admin_scope(actor: User, user_id: int) -> User:
    """A user one of whose roles lies where `actor` is an administrator; anyone else (or none) is not found."""
    user = db.session.get(User, user_id)
    if user is None or not any("admin" in actor.roles_over(r.organisation) for r in user.roles):
        raise NotFound("Пользователь не найден.")
    return user
