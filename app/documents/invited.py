"""Those invited to a meeting (a protocol's «Приглашённые»): typed by the official in the «Сформировать» form, one a
line («Фамилия И.О. — должность, организация»), kept in the edition's `params["invited"]` as a list of lines.

A type asks for them when its template's sidecar declares the variable `invited` (the template's contract says what
the document prints, so no second list of such types is kept).
"""

from __future__ import annotations

import re

from app.core.errors import ValidationFailed
from app.core.hardening import without_invisible
from app.documents import rendering

PARAM = "invited"
MAX_LINES = 30
LINE_MAX = 300
# the textarea's own limit: the lines, their breaks and some blank lines between them
TEXT_MAX = MAX_LINES * (LINE_MAX + 2) + 200
# A line break of any kind parts the lines; every other control character (a tab included: it prints as a gap of
# unknown width in Word) is refused, not dropped, so what prints is what the official sees in the box.
_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# «Иванов И.И. - директор», «… – директор»: the dash of the pattern, whatever key typed it
_DASH = re.compile(r"\s+[-–—]+\s+")


def asks_invited(type_key: str) -> bool:
    """Whether documents of the type print those invited (their template declares `invited`)."""
    return PARAM in rendering.declared_variables(type_key)


def parse_invited(text: str | None) -> list[str]:
    """The typed lines as the document prints them (blank lines skipped, spaces and the dash made even);
    raises ValidationFailed with every problem, in Russian, where a line cannot be printed as it is."""
    text = without_invisible(text or "")
    if len(text) > TEXT_MAX:
        raise ValidationFailed(f"Приглашённые: не более {TEXT_MAX} символов.")
    lines, problems = [], []
    for n, raw in enumerate(_BREAKS.split(text), 1):
        if _CONTROL.search(raw):
            problems.append(f"Строка {n}: недопустимые управляющие символы (например, табуляция) — уберите их.")
            continue
        line = _DASH.sub(" — ", " ".join(raw.split()), count=1)
        if not line:
            continue
        if len(line) > LINE_MAX:
            problems.append(f"Строка {n}: не более {LINE_MAX} символов (сейчас {len(line)}).")
        elif " — " not in line.strip("—- ") or line.startswith(("—", "-", "–")):
            problems.append(f"Строка {n}: укажите через тире фамилию с инициалами и должность с организацией "
                            "(«Иванова А.А. — директор МБОУ СОШ № 1»).")
        elif line in lines:
            problems.append(f"Строка {n}: «{line}» уже указан(а) выше.")
        else:
            lines.append(line)
    if not problems and len(lines) > MAX_LINES:
        problems.append(f"Не более {MAX_LINES} приглашённых (указано {len(lines)}); больше — приложите список к "
                        "протоколу.")
    if problems:
        raise ValidationFailed("Список приглашённых не принят, ничего не изменено.", problems=problems)
    return lines


def invited_text(params: dict | None) -> str:
    """The edition's invited as the form shows them again (one a line), so a new edition keeps them."""
    value = (params or {}).get(PARAM) or []
    return "\n".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else ""
