"""Dates that make sense on a document (issue «Documents a records office would sign», rule 6).

A document is dated on the day it is signed or registered. Its context builder records what that day must
respect, as plain JSON in the context (`ctx["dating"]`, kept in the version's data snapshot):

- `not_before(ctx, day, what)`: the document reports data of `day` (an analysis finished, values collected, a
  measure ended) — it cannot be dated earlier;
- `not_after(ctx, day, what)`: the document orders something that starts on `day` (an event) — an order dated
  after the start cannot be executed;
- `deadline(ctx, day, what)`: the document sets a deadline (a reply, a decision) — it must still be ahead on the
  document's date.

Who records what (README «Документы: даты»): a decision order and a protocol — the decisions' deadlines; letters —
the reply deadline; an event order — the event's start; an effectiveness report — not before the end of the
measures it rates as finished; an analytic report — not before its calculation.

`problems(dating, on)` returns the Russian messages for a document dated `on`; the documents feature refuses the
generation (dated today), the signature and the registration with them.
"""

from datetime import date

from app.core import russian as ru


def _add(ctx: dict, kind: str, day: date | None, what: str) -> None:
    if day is not None:
        ctx.setdefault("dating", {}).setdefault(kind, []).append([day.isoformat(), what])


def not_before(ctx: dict, day: date | None, what: str) -> None:
    _add(ctx, "not_before", day, what)


def not_after(ctx: dict, day: date | None, what: str) -> None:
    _add(ctx, "not_after", day, what)


def deadline(ctx: dict, day: date | None, what: str) -> None:
    _add(ctx, "deadlines", day, what)


def problems(dating: dict | None, on: date) -> list[str]:
    """What is wrong with dating the document `on` (empty when nothing)."""
    dating = dating or {}
    out = []
    shown = ru.date_short(on)
    for iso, what in dating.get("not_before", []):
        day = date.fromisoformat(iso)
        if on < day:
            out.append(f"Документ не может быть датирован {shown}: он основан на данных от {ru.date_short(day)} "
                       f"({what}).")
    for iso, what in dating.get("not_after", []):
        day = date.fromisoformat(iso)
        if on > day:
            out.append(f"Документ, датированный {shown}, не может быть исполнен: {what} начинается "
                       f"{ru.date_short(day)}. Перенесите сроки или подготовьте документ заново.")
    for iso, what in dating.get("deadlines", []):
        day = date.fromisoformat(iso)
        if day <= on:
            out.append(f"Срок: {what} ({ru.date_short(day)}) — не позже даты документа ({shown}): в документе "
                       "не может стоять срок, который уже наступил. Измените срок.")
    return out
