"""Time helpers: everything is stored in UTC and shown in the organisation's time zone."""

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today_in(tz_name: str) -> date:
    return datetime.now(ZoneInfo(tz_name)).date()


def local_day(moment: datetime | date | str | None, tz_name: str) -> date | None:
    """The calendar day a stored moment falls on in `tz_name` (orgs.services.org_time_zone: the organisation's day),
    the one rule of every feature that dates a moment: a naive moment (or its ISO text) is UTC, as everything is
    stored (SQLite hands stored moments back naive from aggregates); a date stays as it is. A document signed at 01:30
    in Moscow was dated the UTC day before where its naive moment was taken as already local."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(tz_name)).date()


# The Russian zones by the city a reader knows them by; any other zone is named by its offset alone.
ZONE_CITIES = {
    "Europe/Kaliningrad": "Калининград", "Europe/Moscow": "Москва", "Europe/Samara": "Самара",
    "Asia/Yekaterinburg": "Екатеринбург", "Asia/Omsk": "Омск", "Asia/Novosibirsk": "Новосибирск",
    "Asia/Krasnoyarsk": "Красноярск", "Asia/Irkutsk": "Иркутск", "Asia/Yakutsk": "Якутск",
    "Asia/Vladivostok": "Владивосток", "Asia/Magadan": "Магадан", "Asia/Kamchatka": "Петропавловск-Камчатский",
}


def zone_label(tz_name: str, at: datetime | None = None) -> str:
    """«UTC+3 (Москва)»: a time zone as a reader names it, never its IANA id («Europe/Moscow»)."""
    offset = (at or utcnow()).astimezone(ZoneInfo(tz_name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    text = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    city = ZONE_CITIES.get(tz_name)
    return f"{text} ({city})" if city else text


def format_date(value: date | datetime | None, tz_name: str | None = None) -> str:
    """ДД.ММ.ГГГГ, the official short date form. A moment (an aware datetime, stored in UTC) is dated in `tz_name`:
    a document published at 01:10 in Moscow on the 6th is dated the 6th, not the UTC 5th beside its registration
    date of the 6th."""
    if value is None:
        return ""
    if tz_name is not None and isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(tz_name))
    return value.strftime("%d.%m.%Y")


def format_datetime(value: datetime | None, tz_name: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz_name)).strftime("%d.%m.%Y %H:%M")


def academic_year_of(day: date) -> str:
    """The academic year (учебный год) a day falls in, as '2025/26'; it starts on 1 September."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def is_academic_year(text: str | None) -> bool:
    """Whether `text` names an academic year as cycles carry it: '2025/26' (digits 0–9, consecutive years)."""
    match = re.fullmatch(r"(\d{4})/(\d{2})", (text or "").strip(), re.ASCII)  # ASCII: \d takes any script's digits
    return match is not None and (int(match[1]) + 1) % 100 == int(match[2])


PERIOD_YEARS = (2000, 2099)


def period_year_problem(text: str | None) -> str | None:
    """A period whose (first) year no cycle or monitoring runs in, in Russian, or None: four digits let «0000» and
    «9999/00» through, whose calendar bounds do not exist and whose next period has five digits."""
    head = (text or "").strip()[:4]
    if head.isascii() and head.isdigit() and not PERIOD_YEARS[0] <= int(head) <= PERIOD_YEARS[1]:
        return f"Год периода — от {PERIOD_YEARS[0]} до {PERIOD_YEARS[1]}."
    return None


def period_bounds(period: str) -> tuple[date, date] | None:
    """The first and last day of a period: '2025/26' -> 1 September 2025 – 31 August 2026 (the academic year);
    a plain year '2025' -> 1 January – 31 December 2025; None for anything else."""
    text = (period or "").strip()
    try:
        if "/" in text:
            start = int(text.split("/")[0])
            return date(start, 9, 1), date(start + 1, 8, 31)
        year = int(text)
        # inside the try: a year the calendar lacks («0000», which the period fields' four digits let through) made
        # date() raise, and the repeat measurement's form answered 500
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None


def next_period(period: str) -> str:
    """'2025/26' -> '2026/27'; a plain year '2025' -> '2026'."""
    if "/" in period:
        start = int(period.split("/")[0]) + 1
        return f"{start}/{(start + 1) % 100:02d}"
    return str(int(period) + 1)
