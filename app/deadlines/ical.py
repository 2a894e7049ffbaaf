"""Personal iCalendar feed (RFC 5545) behind a revocable secret link.

The secret is random and shown once; only its SHA-256 is stored (as for API tokens), so the table is useless
to whoever reads it. Issuing a new link revokes the previous one; a revoked or unknown link answers 404.
The feed holds the user's own deadlines of the calendar page — their tasks and those of the people they stand in
for, the stages they are responsible for, the data requests they sent — never the rest of their subtree: the link
is a bearer secret that lives in calendar programs, phones and proxies' logs, so whoever finds it learns what its
owner must do and nothing more. Events are all-day (VALUE=DATE) with a UID that stays the same for an item across
refreshes, so calendar programs update events instead of duplicating them.
"""

import hmac
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.api.services import hash_secret
from app.audit import chain
from app.auth.models import User
from app.core.timeutil import utcnow
from app.deadlines.calendar import CalendarItem, calendar_items
from app.deadlines.models import CalendarFeed
from app.deadlines.services import user_today_of
from app.extensions import db

SECRET_BYTES = 32
PREFIX_LENGTH = 8
FEED_PAST_DAYS = 92
FEED_FUTURE_DAYS = 400
UID_DOMAIN = "uko-cikl"


def active_feed(user) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                        CalendarFeed.revoked_at.is_(None)))


def issue_feed(user, *, actor) -> tuple[CalendarFeed, str]:
    """A new secret link for `user`, revoking the current one. Returns the row and the secret (shown once)."""
    revoke_feed(user, actor=actor)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    feed = CalendarFeed(user_id=user.id, token_hash=hash_secret(secret), prefix=secret[:PREFIX_LENGTH])
    db.session.add(feed)
    db.session.flush()
    chain.record(action="issue_calendar_feed", object_type="calendar_feed", object_id=feed.id, actor=actor,
                 organisation_id=user.home_organisation.id if user.home_organisation else None,
                 after={"user_id": user.id, "prefix": feed.prefix})
    return feed, secret


def revoke_feed(user, *, actor) -> bool:
    """Revoke the user's link; False when there was none. Flushes and audits, never commits."""
    feed = active_feed(user)
    if feed is None:
        return False
    feed.revoked_at = utcnow()
    db.session.flush()
    chain.record(action="revoke_calendar_feed", object_type="calendar_feed", object_id=feed.id, actor=actor,
                 organisation_id=user.home_organisation.id if user.home_organisation else None,
                 before={"prefix": feed.prefix}, after={"prefix": feed.prefix, "revoked": True})
    return True


def user_for_secret(secret: str) -> User | None:
    """The active owner of an unrevoked link, or None. The database finds the row by the secret's SHA-256 (an
    index lookup, whose timing tells nothing about the secret itself); the stored hash is then compared again in
    constant time, so no comparison of this code ever stops at the first differing character."""
    if not secret or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    row = db.session.execute(
        select(User, CalendarFeed.token_hash).join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == digest, CalendarFeed.revoked_at.is_(None), User.active.is_(True))
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row.User


# --- RFC 5545 ------------------------------------------------------------------------------------

def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets (§3.1), never splitting a UTF-8 character;
    continuation lines start with one space (which counts towards their 75)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, current, limit = [], b"", 75
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            parts.append(current)
            current, limit = b"", 74
        current += encoded
    parts.append(current)
    return "\r\n ".join(p.decode("utf-8") for p in parts)


def _date(value: date) -> str:
    return value.strftime("%Y%m%d")


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def render_feed(items: list[CalendarItem], *, now: datetime, base_url: str, calendar_name: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//УКО-Цикл//Сроки//RU",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(calendar_name)}",
    ]
    stamp = _stamp(now)
    for item in items:
        status = "выполнено" if item.done else ("просрочено" if item.overdue else "")
        summary = item.title + (f" [{status}]" if status else "")
        description = f"{item.kind_label}. {item.organisation}."
        if item.on_behalf_of:
            description += f" За {item.on_behalf_of} (заместительство)."
        lines += [
            "BEGIN:VEVENT",
            f"UID:{item.uid}@{UID_DOMAIN}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_date(item.day)}",
            f"DTEND;VALUE=DATE:{_date(item.day + timedelta(days=1))}",
            f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(description)}",
            f"URL:{base_url.rstrip('/')}{item.link}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def feed_for(user, *, now: datetime, base_url: str) -> str:
    today = user_today_of(user, now)
    items = calendar_items(user, today - timedelta(days=FEED_PAST_DAYS), today + timedelta(days=FEED_FUTURE_DAYS),
                           today=today, own_only=True)
    return render_feed(items, now=now, base_url=base_url, calendar_name=f"УКО-Цикл: сроки — {user.short_name}")
