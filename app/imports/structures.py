"""Structures of assessment works (структура работы): task labels in the order of the result form and
each task's maximum.

The files a region gets do not number tasks 1…N: ВПР result forms label them by the work's own numbering
with parts and criteria (`1К1`, `3(1)`, `5.2`), and the regional processing centre (РЦОИ) gives ОГЭ/ЕГЭ
part 1 as a string of marks (`+-++-`) and part 2 as points with their maxima (`2(3)1(2)0(2)`). A work's
structure is declared as data (data/work_structures.yaml, per procedure, subject and grade, optionally
per year) and checked on import; what a file brings is stored per work (WorkStructure) so the analysis
reads real labels and maxima.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).parent / "data" / "work_structures.yaml"

# A task label as written in a header cell: an optional «задание»/«task»/«№» prefix, then the number with
# parts (3(1)), criteria (1К1) or sub-items (5.2) in any sequence.
# Digits are 0–9 only: `\d` and `str.isdigit` take other scripts' digits (and «²») too (attack 8).
_LABEL = re.compile(r"(?:(?:задание|зад\.?|з\.?|task_?|№)\s*№?\s*)?"
                    r"([0-9]{1,3}(?:\s*[КкKk]\s*[0-9]{1,2}|\s*\(\s*[0-9]{1,2}\s*\)|\.[0-9]{1,2})*)", re.IGNORECASE)
_PART2 = re.compile(r"([0-9]{1,2})\(([0-9]{1,2})\)")
DIGITS = frozenset("0123456789")
PART1_MARKS = {"+": 1, "-": 0, "−": 0, "–": 0}


def task_label(cell) -> str | None:
    """The canonical task label of a header cell («Задание 3 (1)» → «3(1)», «1k1» → «1К1»), or None."""
    text = str(cell or "").replace("\ufeff", "").strip()
    match = _LABEL.fullmatch(text)
    if match is None:
        return None
    label = re.sub(r"\s+", "", match.group(1))
    return re.sub(r"[кKk]", "К", label)


@dataclass(frozen=True)
class Structure:
    labels: tuple[str, ...]
    maxima: tuple[int | None, ...]  # None: not declared (the analysis then uses the highest score seen)

    @property
    def total(self) -> int | None:
        return None if any(m is None for m in self.maxima) else sum(self.maxima)

    def describe(self, limit: int = 12) -> str:
        shown = ", ".join(self.labels[:limit])
        return shown + (f" … (всего {len(self.labels)})" if len(self.labels) > limit else "")


@lru_cache(maxsize=1)
def _entries() -> tuple[dict, ...]:
    with open(DATA_FILE, encoding="utf-8") as fh:
        return tuple(yaml.safe_load(fh) or [])


@lru_cache(maxsize=1)
def _declared() -> dict:
    found = {}
    for entry in _entries():
        labels, maxima = [], []
        for task in entry["tasks"]:
            label = task_label(task["label"])
            if label is None:
                raise ValueError(f"{DATA_FILE.name}: bad task label {task['label']!r}")
            labels.append(label)
            maxima.append(int(task["max"]))
        structure = Structure(tuple(labels), tuple(maxima))
        for year in entry.get("years") or [None]:
            found[(entry["procedure"], _subject_key(entry["subject"]), int(entry["grade"]), year)] = structure
    return found


def declared_works() -> list[str]:
    """The works whose structure is declared, as the import page names them («ВПР, математика, 4 класс»): the
    page named the data file's path, which a region's specialist can neither open nor act on."""
    works = []
    for entry in _entries():
        years = entry.get("years")
        work = f"{entry['procedure']}, {entry['subject'].lower()}, {int(entry['grade'])} класс"
        works.append(work + (f" ({', '.join(str(y) for y in years)})" if years else ""))
    return works


def _subject_key(subject: str) -> str:
    return " ".join(subject.lower().replace("ё", "е").split())


def declared(procedure: str, year: int, subject: str, grade: int) -> Structure | None:
    """The declared structure of a work: for its year if one is given for it, else for every year."""
    table = _declared()
    key = (procedure, _subject_key(subject), int(grade))
    return table.get((*key, int(year))) or table.get((*key, None))


def parse_part1(text: str) -> tuple[list[int] | None, str]:
    """Part 1 of an RCOI row: «+» 1 point, «-» 0, a digit that many points; spaces ignored.
    (scores, "") or (None, the problem in Russian)."""
    scores = []
    for position, char in enumerate(text.replace(" ", ""), 1):
        if char in PART1_MARKS:
            scores.append(PART1_MARKS[char])
        elif char in DIGITS:  # «²» passed str.isdigit and made int() raise: the import failed in English
            scores.append(int(char))
        else:
            return None, (f"недопустимый знак «{char}» в позиции {position}: в части 1 допустимы «+», «-» и "
                          "цифры (баллы)")
    return scores, ""


def parse_part2(text: str) -> tuple[list[tuple[int, int]] | None, str]:
    """Part 2 of an RCOI row: points with their maxima, «2(3)1(2)0(2)». ([(score, max)…], "") or (None, why)."""
    compact = text.replace(" ", "")
    tasks, position = [], 0
    for match in _PART2.finditer(compact):
        if match.start() != position:
            break
        score, maximum = int(match.group(1)), int(match.group(2))
        if score > maximum:
            return None, (f"задание {len(tasks) + 1} части 2: балл {score} больше максимального ({maximum})")
        tasks.append((score, maximum))
        position = match.end()
    if position != len(compact):
        return None, (f"не удалось прочитать часть 2 с позиции {position + 1} («{compact[position:position + 12]}»): "
                      "ожидаются баллы с максимумом в скобках, например «2(3)1(2)0(2)»")
    return tasks, ""
