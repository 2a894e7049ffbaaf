"""School risk profile (project «500+»): the risk factors as data (data/risk_factors.yaml), validation of
questionnaire scores and priority risks, CSV import of questionnaire results, and the profile view."""

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from app.core.errors import ValidationFailed
from app.imports.readers import CHUNK_BYTES as SAMPLE_BYTES, csv_problem, single_byte_encoding

FACTORS_FILE = Path(__file__).parent / "data" / "risk_factors.yaml"
MAX_PRIORITIES = 3
SCORE_MIN, SCORE_MAX = 0, 10
HIGH_RISK = 7  # a score at or above this is shown as a high risk


@dataclass(frozen=True)
class RiskFactor:
    key: str
    title: str
    programme: str


@lru_cache(maxsize=1)
def risk_factors() -> tuple[RiskFactor, ...]:
    data = yaml.safe_load(FACTORS_FILE.read_text(encoding="utf-8"))
    return tuple(RiskFactor(key=d["key"], title=d["title"], programme=d["programme"]) for d in data)


def factor_titles() -> dict[str, str]:
    return {f.key: f.title for f in risk_factors()}


def validate_profile(year, scores: dict, priorities: list[dict]) -> tuple[dict, list[dict]]:
    """Clean scores (every factor, 0–10) and priorities (≤ 3 distinct factors, each with a programme note);
    raise ValidationFailed with every problem in Russian."""
    titles = factor_titles()
    problems = []
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        problems.append("Укажите год анкетирования (например, 2026).")
    clean = {}
    for key, title in titles.items():
        raw = (scores or {}).get(key)
        if raw is None or str(raw).strip() == "":
            problems.append(f"Не указана оценка фактора «{title}».")
            continue
        try:
            text = str(raw).replace(",", ".")
            if not text.isascii():  # float() reads a full-width «１０» or an Arabic-Indic «٣» as a number too
                raise ValueError(text)
            value = float(text)
        except ValueError:
            problems.append(f"Оценка фактора «{title}» должна быть числом от {SCORE_MIN} до {SCORE_MAX}.")
            continue
        if not SCORE_MIN <= value <= SCORE_MAX:
            problems.append(f"Оценка фактора «{title}» должна быть от {SCORE_MIN} до {SCORE_MAX}.")
            continue
        clean[key] = round(value, 2)
    unknown = sorted(set(scores or {}) - set(titles))
    if unknown:
        problems.append("Неизвестные факторы риска: " + ", ".join(unknown) + ".")
    chosen = [p for p in (priorities or []) if (p.get("factor") or "").strip()]
    if len(chosen) > MAX_PRIORITIES:
        problems.append(f"Приоритетных рисков может быть не больше {MAX_PRIORITIES}.")
    keys = [p["factor"].strip() for p in chosen]
    if len(set(keys)) != len(keys):
        problems.append("Один и тот же фактор выбран приоритетным дважды.")
    cleaned_priorities = []
    for item, key in zip(chosen, keys):
        if key not in titles:
            problems.append(f"Неизвестный фактор риска «{key}».")
            continue
        programme = (item.get("programme") or "").strip()
        if not programme:
            programme = next(f.programme for f in risk_factors() if f.key == key)
        cleaned_priorities.append({"factor": key, "programme": programme[:2000]})
    if problems:
        raise ValidationFailed(" ".join(problems), problems=problems)
    return clean, cleaned_priorities


def suggested_priorities(scores: dict) -> list[str]:
    """The three highest-scored factors (ties in the list's order): the default priority risks."""
    order = {f.key: n for n, f in enumerate(risk_factors())}
    ranked = sorted(scores, key=lambda k: (-float(scores[k]), order.get(k, 99)))
    return [k for k in ranked if float(scores[k]) > 0][:MAX_PRIORITIES]


def _unreadable(line: int, exc: csv.Error) -> ValidationFailed:
    """The csv module's refusal in Russian (its own words, «field larger than field limit (131072)», were shown)."""
    return ValidationFailed(f"Строка {line}: файл не читается как таблица CSV: {csv_problem(exc)} Проверьте "
                            "кавычки и разделители: по строке на фактор, factor;score;priority.")


def parse_csv(content: bytes) -> tuple[dict, list[dict]]:
    """Questionnaire results from CSV: columns `factor` (key or title) and `score`, optionally `priority`
    (1–3) and `programme`. UTF-8 (with or without BOM), else Windows-1251 or KOI8-R told apart as every import does
    (app.imports.readers.single_byte_encoding: KOI8-R was read as Windows-1251, «нехватка педагогов» as «ОЕИЧБФЛБ
    РЕДБЗПЗПЧ», an unknown factor); `;` or `,` separated."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode(single_byte_encoding(content[:SAMPLE_BYTES]))
        except UnicodeDecodeError:
            raise ValidationFailed("Не удалось прочитать файл: сохраните его в кодировке UTF-8.") from None
    if not text.strip():
        raise ValidationFailed("Файл пуст.")
    delimiter = ";" if text.splitlines()[0].count(";") >= text.splitlines()[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:  # the header is read here: a line past the csv module's field limit fails in it as in any row
        header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    except csv.Error as exc:
        raise _unreadable(1, exc) from None
    if not {"factor", "score"} <= header:
        raise ValidationFailed("В файле нет обязательных столбцов factor и score.")
    by_title = {f.title.lower(): f.key for f in risk_factors()}
    keys = {f.key for f in risk_factors()}
    scores, priorities, problems = {}, [], []
    try:
        rows = list(reader)
    except csv.Error as exc:  # a field past the csv module's limit, a broken quote: not a questionnaire
        raise _unreadable(reader.line_num, exc) from None
    for n, row in enumerate(rows, start=2):
        if None in row:  # DictReader puts the values past the header's columns under None, as a list
            problems.append(f"Строка {n}: значений больше, чем столбцов в заголовке ({len(reader.fieldnames)}); "
                            "проверьте разделители.")
            continue
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        name = row.get("factor", "")
        key = name if name in keys else by_title.get(name.lower())
        if key is None:
            problems.append(f"Строка {n}: неизвестный фактор риска «{name}».")
            continue
        scores[key] = row.get("score", "")
        if row.get("priority"):
            try:
                if not row["priority"].isascii():  # int() reads «٣» as 3
                    raise ValueError(row["priority"])
                rank = int(row["priority"])
            except ValueError:
                problems.append(f"Строка {n}: приоритет должен быть числом от 1 до {MAX_PRIORITIES}.")
                continue
            priorities.append((rank, {"factor": key, "programme": row.get("programme", "")}))
    if problems:
        raise ValidationFailed(" ".join(problems), problems=problems)
    return scores, [p for _rank, p in sorted(priorities, key=lambda x: x[0])]


def profile_view(profile) -> dict:
    """What the page shows: every factor with its score and level, and the priority risks with programmes."""
    titles = factor_titles()
    rows = [{"key": f.key, "title": f.title, "score": profile.scores.get(f.key),
             "high": (profile.scores.get(f.key) or 0) >= HIGH_RISK} for f in risk_factors()]
    priorities = [{"factor": p["factor"], "title": titles.get(p["factor"], p["factor"]),
                   "score": profile.scores.get(p["factor"]), "programme": p["programme"]}
                  for p in profile.priorities]
    return {"year": profile.year, "rows": rows, "priorities": priorities, "source": profile.source}
