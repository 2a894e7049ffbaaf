"""The words of a finding prefilled from a computed result: one text for the «Сформулировать вывод» form and
the demo's findings, so neither prints machine output into the documents that cite the finding (Python lists,
raw floats, sign codes). Numbers go through the shared Russian formatters (app.core.russian)."""

import re

from app.analysis import dashboard
from app.analysis.report import SIGN_TITLES
from app.core import russian as ru

SIGN_CODE = re.compile(r"\bK\d\s*—\s*")


def _list(value) -> str:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value if v not in (None, ""))
    return str(value or "")


def _years(value) -> str:
    years = [str(y) for y in value] if isinstance(value, (list, tuple)) else [str(value)] if value else []
    if not years:
        return ""
    return f"{years[0]} г." if len(years) == 1 else f"{', '.join(years[:-1])} и {years[-1]} гг."


def sign_words(sign: str | None) -> str:
    return SIGN_TITLES.get(sign or "", "признак необъективности результатов")


def explanation_words(text: str | None) -> str:
    """A verdict's explanation without the signs' codes («K2 — трудные задания…» → «трудные задания…»)."""
    return SIGN_CODE.sub("", text or "").strip()


def prefill(result) -> tuple[str, str, list[int]]:
    """(problem, evidence, organisation ids) of a finding drawn from the computed `result`."""
    p = result.payload or {}
    school = result.school.display_name if result.school else ""
    where = ", ".join(x for x in (result.subject, f"{result.grade} класс" if result.grade else None,
                                  f"{result.year} г." if result.year else None) if x)
    if result.kind == "marker":
        problem = f"{school}: признаки необъективности результатов ({sign_words(result.sign)})"
        evidence = (f"{school}, {where}: {sign_words(result.sign)}, статистика {ru.number(p.get('statistic'))} "
                    f"при пороге {ru.number(p.get('threshold'))}. {p.get('detail') or ''}").strip()
    elif result.kind == "verdict":
        problem = f"{school}: {p.get('verdict_label') or 'признаки необъективности результатов'}"
        evidence = f"{school}, {result.year} г.: {explanation_words(p.get('explanation'))}".strip()
    elif result.kind == "shnor":
        problem = f"{school}: низкие образовательные результаты (ШНОР)"
        evidence = f"{school}: {_list(p.get('reasons'))} ({_years(p.get('years'))})."
    elif result.kind == "shnsu":
        problem = f"{school}: школа функционирует в сложных социальных условиях (ШНСУ)"
        evidence = (f"{school}: индекс социального контекста {ru.number(p.get('social_index'))}; "
                    f"факторы: {_list(p.get('factors'))}.")
    elif result.kind == "cluster_position":
        problem = f"{school}: результаты {dashboard.position_label(p.get('position'))}"
        evidence = (f"{school}: средний процент выполнения {ru.percent(p.get('value'), 1)} при среднем по школам "
                    f"со схожими условиями {ru.percent(p.get('cluster_mean'), 1)} (отклонение "
                    f"{ru.signed(p.get('z'))} ст. откл.).")
    else:
        problem = f"{school}: результат анализа"
        evidence = "; ".join(f"{k}: {_list(v)}" for k, v in p.items())
    return problem, evidence, [result.school_id] if result.school_id else []
