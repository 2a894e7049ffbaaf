"""Personal API tokens: issue, revoke, and resolve a bearer secret to its owner.

The secret is random, shown once and never stored: the database keeps its SHA-256 (enough to find the
token, useless to anyone who reads the table) and a short prefix so the owner can tell tokens apart.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select, update

from app.api.models import ApiToken
from app.audit import chain
from app.auth.models import User
from app.core.access import TokenRefused
from app.core.errors import NotFound, ValidationFailed
from app.core.timeutil import utcnow
from app.extensions import db

SECRET_PREFIX = "uko_"  # noqa: S105 (the public prefix of every token, not a secret)
PREFIX_LENGTH = 12  # "uko_" and 8 characters of the random part: ApiToken.prefix is String(12)
MAX_ACTIVE_TOKENS = 20
# last_used_at is a hint for the owner ("still in use?"), not a log: refreshing it at most this often keeps
# a busy client from writing to the token row on every request.
LAST_USED_RESOLUTION = timedelta(minutes=10)


def token_lifetime() -> timedelta:
    """How long a token issued now stays valid (API_TOKEN_DAYS, at least a day)."""
    return timedelta(days=max(1, int(current_app.config.get("API_TOKEN_DAYS", 90))))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown to the owner once, right after issuing; not recoverable afterwards


def _home_organisation_id(user: User) -> int | None:
    org = user.home_organisation
    return org.id if org is not None else None


def issue_token(user: User, *, name: str, actor: User) -> IssuedToken:
    """Issue a personal token acting as `user`; flushes and audits, never commits."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Укажите название токена (например, «Выгрузка из АИС»).")
    if len(name) > 200:
        raise ValidationFailed("Название токена — не более 200 символов.")
    # Tokens issued at the same moment would each count the others' absence and pass the limit together: the owner's
    # row is locked first (PostgreSQL; SQLite serialises writers), so the second waits and counts the first. FOR NO
    # KEY UPDATE, not FOR UPDATE: the request has already inserted rows referring to the user (its one-time form
    # token), each holding a KEY SHARE lock on it, and two FOR UPDATE behind the other's KEY SHARE deadlocked.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    now = utcnow()
    active = db.session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now))
    if active >= MAX_ACTIVE_TOKENS:
        raise ValidationFailed(f"У вас уже {MAX_ACTIVE_TOKENS} действующих токенов: отзовите ненужные, "
                               "прежде чем выпускать новый.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:PREFIX_LENGTH], token_hash=hash_secret(secret),
                     created_at=now, expires_at=now + token_lifetime())
    db.session.add(token)
    db.session.flush()
    chain.record(action="issue_api_token", object_type="api_token", object_id=token.id, actor=actor,
                 organisation_id=_home_organisation_id(user),
                 after={"name": token.name, "prefix": token.prefix, "user_id": user.id,
                        "expires_at": token.expires_at.isoformat()})
    return IssuedToken(token, secret)


def own_token(user: User, token_id: int) -> ApiToken:
    """The user's own token; anyone else's (or none) is not found, whatever roles the user holds."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("Токен не найден.")
    return token


def revoke_token(token: ApiToken, *, actor: User) -> bool:
    """Revoke the token; False when it already was, or has expired (nothing changes). Flushes and audits, never
    commits."""
    if not token.active:
        return False
    token.revoked_at = utcnow()
    db.session.flush()
    chain.record(action="revoke_api_token", object_type="api_token", object_id=token.id, actor=actor,
                 organisation_id=_home_organisation_id(token.user),
                 before={"revoked": False}, after={"name": token.name, "prefix": token.prefix, "revoked": True})
    return True


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, those still in force first (revoked and expired ones after, newest first)."""
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    return sorted(tokens, key=lambda t: not t.active)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes (stored as UTC); PostgreSQL returns aware ones.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def user_for_bearer(secret: str) -> User | None:
    """The active owner of a valid, unrevoked, unexpired token, or None; an expired token is refused with its own
    reason (TokenRefused), so the client's operator knows to issue a new one rather than hunt for a typo. Notes the
    use on the token (and commits that alone, before the request does any work of its own) when the last note is
    older than the resolution."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    row = db.session.execute(
        select(ApiToken.id, ApiToken.last_used_at, ApiToken.expires_at, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None), User.active.is_(True))
    ).one_or_none()
    if row is None:
        return None
    token_id, last_used_at, expires_at, user = row
    now = utcnow()
    if _aware(expires_at) <= now:
        raise TokenRefused(f"Срок действия API-токена истёк {_aware(expires_at):%d.%m.%Y} (UTC): выпустите новый "
                           "токен на странице «API-токены».")
    last = _aware(last_used_at)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
    return user
