"""Import of assessment results (domain.md §9 v1): one row per student and work.

Two phases. Validation streams the file once, checks every cell, resolves school codes within the
uploader's subtree, replaces the participant code by its salted SHA-256 and writes the clean rows to a
spool file on disk (memory stays flat however long the file is). Loading then happens in the caller's
single transaction:

- on PostgreSQL, when no stored result shares a work and a school with the file (a first import), the
  spool is copied straight into assessment_results with COPY; the unique index refuses duplicated rows,
  and then the staging path below runs to name them;
- otherwise the spool goes into a temporary staging table (COPY, or executemany on SQLite), duplicated
  natural keys are looked for there, stored rows whose values differ are updated and new ones
  inserted, so a repeated file (or the same rows in another file) changes nothing. A stored row under a hash
  an earlier rule gave the code (as typed, or str.upper()) is the same participant: it takes the current hash.
"""

import hashlib
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from array import array
from datetime import date
from itertools import repeat
from operator import itemgetter, le

from flask import current_app
from psycopg.errors import UniqueViolation
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.russian import plural
from app.extensions import db
from app.imports.formats import PROCEDURES, PROCEDURES_WITHOUT_MARK, RESULTS_SPEC
from app.imports import structures as work_structures
from app.imports import partitions, summaries
from app.imports.models import MarkBoundary, WorkStructure
from app.imports.readers import FileRejected
from app.imports.report import MAX_REPORTED
from app.orgs.models import Organisation
from app.imports.models import AssessmentResult as R


def _tasks(n: int) -> str:
    """«24 задания», «25 заданий», «21 задание»."""
    return plural(n, ("задание", "задания", "заданий"))


YEAR_MIN = 2000
GRADE_MIN, GRADE_MAX = 1, 11
MAX_SCORE_LIMIT = 1000
SUBJECT_MAX, CLASS_MAX, STUDENT_CODE_MAX = 100, 20, 100
SPOOL_CHUNK = 1024 * 1024
SQLITE_BATCH = 5000
HIDDEN = "(скрыто)"  # what the error report shows instead of a participant code
SPOOL_COLUMNS = ("procedure", "year", "subject", "grade", "school_id", "class_label", "student_hash", "task_scores",
                 "primary_score", "max_score", "mark", "term_mark", "import_id")
EARLIER_COLUMNS = ("ordinal", "earlier_hash")
KEY = ("procedure", "year", "subject", "grade", "school_id", "student_hash")
VALUES = ("class_label", "task_scores", "primary_score", "max_score", "mark", "term_mark")


@dataclass
class Validated:
    rows: int = 0
    valid: int = 0
    # (procedure, year, subject, grade) → (max_score, first row, school ids): a few hundred works at most
    works: dict = field(default_factory=dict)
    task_count: int = 0
    # work → WorkTasks: the task structure each work of the file has (labels, maxima, where they come from)
    structures: dict = field(default_factory=dict)


@dataclass
class WorkTasks:
    labels: tuple
    maxima: tuple  # int or None per task
    source: str  # 'declared' | 'file'
    row_no: int  # the row that fixed it (for messages)
    caps: tuple = ()  # per-task cap for the fast path (the work's maximum bounds the unknown ones)

    def __post_init__(self):
        self.caps = tuple(MAX_SCORE_LIMIT if m is None else m for m in self.maxima)

    @property
    def total(self) -> int | None:
        return None if any(m is None for m in self.maxima) else sum(self.maxima)


def participant_code(code: str) -> str:
    """The form of a participant code that is hashed: one participant, one form, however the code was typed.

    NFKC first, so that what differs only in encoding is one code: a «й» typed as one character or as «и» with a
    combining breve (a Mac, a PDF copy), full-width «Ｄ－２» from an IME, a no-break space. Then casefold() before
    upper(): upper() alone leaves apart letters that have one lower-case form («ẞ» and «ß» → «SS»), casefold() alone
    would give small letters and so change the hash of every stored code in capitals. The result is upper case
    because that is what the rule before this one hashed: a code of ASCII or Cyrillic capitals and digits («Д-2»,
    «AB-7», «Ё-12») is returned as it is (a test checks every such character), so rows stored by that rule keep
    matching. «Ё» stays apart from «Е» and a Latin «A» from a Cyrillic «А»: they are other characters of a code
    (a school may well issue both), and folding them would also change the hash of codes stored in capitals.
    Spaces around the code are dropped (the reader already trims cells); spaces inside are part of the code."""
    if code.isascii():
        return code.strip().upper()  # NFKC and casefold() change nothing in ASCII but lower case
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", code).casefold()).upper().strip()


def _salted():
    """Salted SHA-256 of a text as it is; the salt is the deployment's STUDENT_CODE_SALT."""
    base = hashlib.sha256(current_app.config["STUDENT_CODE_SALT"].encode("utf-8") + b"\x00")

    def salted(text: str) -> str:
        h = base.copy()
        h.update(text.encode("utf-8"))
        return h.hexdigest()
    return salted


def student_hasher():
    """Salted SHA-256 of a participant code in its one form (participant_code): «d-2» and «D-2» are one
    participant, typed once with Caps Lock and once without (they became two pupils, attack 21)."""
    salted = _salted()
    return lambda code: salted(participant_code(code))


def student_hashes():
    """code → (its hash, the hashes earlier rules gave it where they differ), for the import.

    Before attack 21 a code was hashed as typed, then upper-cased (str.upper()); a stored row of either rule is the
    same participant, and the import finds it by these hashes (load). A code already in its one form has none."""
    salted = _salted()

    def hashes(code: str) -> tuple[str, tuple[str, ...]]:
        canonical = participant_code(code)
        if canonical == code:
            return salted(code), ()
        upper = code.upper()
        earlier = (code,) if upper in (code, canonical) else (code, upper)
        return salted(canonical), tuple(map(salted, earlier))
    return hashes


def _int(value: str):
    if not value.isascii() or "_" in value:
        # int() and float() read any script's digits (a full-width «２０２５», an Arabic-Indic «٣٥») and Python's digit
        # groups («1_000»): a result is typed in 0–9, and one written otherwise would be stored as a number nobody
        # typed (attacks 8 and 12).
        return None
    try:
        return int(value)
    except ValueError:
        pass
    value = value.strip().replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _escape(value: str) -> str:
    # PostgreSQL COPY text format; validation has already refused control characters.
    return value.replace("\\", "\\\\") if "\\" in value else value


_control = re.compile(r"[\x00-\x1f\x7f]").search
NULL = "\\N"
# A word of Cyrillic and Latin letters at once: «Xимия» with a Latin «X» looks like «Химия» on every page yet is
# another subject — its rows made a second work beside the real one in the analysis and the situational centre.
_MIXED_WORD = re.compile(r"\b(?=\w*[а-яё])(?=\w*[a-z])\w+", re.IGNORECASE)


def mixed_script_word(text: str) -> str | None:
    """The first word of `text` that mixes Cyrillic and Latin letters, or None."""
    found = _MIXED_WORD.search(text)
    return found.group(0) if found else None


# Latin letters drawn as Cyrillic ones: a class «8A» typed with a Latin «A» looks like «8А» on every page yet was
# stored as another class beside it. The capitals of А, В, Е, К, М, Н, О, Р, С, Т, У, Х and the small letters that
# look alike (а, е, к, о, р, с, у, х: a Latin «b», «h», «m», «t» is not mistaken for «в», «н», «м», «т»).
_CYRILLIC_LOOKALIKES = str.maketrans("ABEKMHOPCTYXaekopcyx", "АВЕКМНОРСТУХаекорсух")


def class_label_of(cell: str) -> str:
    """A class label as stored: trimmed, its Latin lookalike letters Cyrillic («8A» → «8А»), so one class is one."""
    return cell.strip().translate(_CYRILLIC_LOOKALIKES)


def schools_in_scope(scope: Organisation) -> dict[str, tuple[int, str]]:
    rows = db.session.execute(select(Organisation.code, Organisation.id, Organisation.kind)
                              .where(Organisation.in_subtree_of(scope)))
    return {code: (org_id, kind) for code, org_id, kind in rows}


class _Checker:
    """Thorough per-cell checks of one row, naming every problem. The validation loop first tries a
    fast path that only accepts clean rows and falls back to this for anything unusual."""

    def __init__(self, table, schools, works, digest, year_max):
        titles = table.header.titles
        pos = {name: i for i, name in enumerate(table.columns) if name}
        self.pos = pos
        # A column absent from the file (max_score, which a declared structure makes optional) is named in the
        # error report by its Russian label: its key («max_score») read as English to the person fixing the file.
        self.t = {name: titles.get(name) or RESULTS_SPEC.label(name) for name in RESULTS_SPEC_NAMES}
        self.tasks = [(pos[name], titles[name]) for name in table.header.numbered]
        self.labels = tuple(table.header.labels)
        self.rcoi = "part1" in pos or "part2" in pos
        if self.rcoi and self.tasks:
            raise FileRejected("В файле есть и столбцы заданий, и строки частей 1 и 2 (форма РЦОИ): оставьте что-то "
                               "одно.", column=titles.get("part1") or titles.get("part2", ""))
        self.titles = titles
        self.schools, self.works, self.digest, self.year_max = schools, works, digest, year_max
        self.structures: dict = {}

    def _work_text(self, work) -> str:
        procedure, year, subject, grade = work
        return f"{procedure} {year} г., {subject}, {grade} класс"

    def structure(self, work, row_no, labels, part2_maxima):
        """(WorkTasks, None) for the work of this row, or (None, (column, value, message)). The first row of
        a work fixes its structure: the declared one if there is, else what the file brings; every later
        row, and a structure stored by an earlier import, must agree with it."""
        known = self.structures.get(work)
        if known is None:
            declared = work_structures.declared(*work)
            stored = db.session.execute(select(WorkStructure.labels, WorkStructure.maxima, WorkStructure.import_id)
                                        .where(WorkStructure.procedure == work[0], WorkStructure.year == work[1],
                                               WorkStructure.subject == work[2], WorkStructure.grade == work[3])
                                        ).first()
            if declared is not None:
                if self.rcoi and len(labels) != len(declared.labels):
                    return None, (self._parts_column(), "", f"в работе {_tasks(len(labels))}, а в структуре работы "
                                  f"({self._work_text(work)}) — {len(declared.labels)}: {declared.describe()}")
                if not self.rcoi and labels != declared.labels:
                    return None, self._label_mismatch(work, labels, declared.labels)
                for k, maximum in enumerate(part2_maxima or ()):
                    if maximum is not None and maximum != declared.maxima[k]:
                        return None, (self._parts_column(), "", f"у задания «{declared.labels[k]}» максимум "
                                      f"{maximum}, а в структуре работы — {declared.maxima[k]}")
                known = WorkTasks(declared.labels, declared.maxima, "declared", row_no)
                labels = declared.labels
            else:
                known = WorkTasks(tuple(labels), tuple(part2_maxima or (None,) * len(labels)), "file", row_no)
            if stored is not None and not _compatible(tuple(stored.labels), known.labels):
                earlier = f" (импорт № {stored.import_id})" if stored.import_id else ""
                return None, (self._parts_column(), "", f"задания работы ({', '.join(known.labels[:8])}…) не "
                              f"совпадают с загруженными ранее{earlier}: {', '.join(stored.labels[:8])}…")
            self.structures[work] = known
        elif tuple(labels) != known.labels and not (self.rcoi and known.source == "declared"
                                                    and len(labels) == len(known.labels)):
            if known.source == "declared":
                return None, (self._parts_column(), "", f"в работе {_tasks(len(labels))}, а в структуре работы "
                              f"({self._work_text(work)}) — {len(known.labels)}: "
                              f"{work_structures.Structure(known.labels, ()).describe()}")
            return None, (self._parts_column(), "", f"в строке {_tasks(len(labels))}, а в строке {known.row_no} той "
                          f"же работы — {len(known.labels)}")
        elif part2_maxima is not None and any(m is not None and m != known.maxima[k]
                                              for k, m in enumerate(part2_maxima)):
            return None, (self._parts_column(), "", f"максимумы заданий части 2 отличаются от строки {known.row_no} "
                          "той же работы")
        return known, None

    def _parts_column(self) -> str:
        return self.titles.get("part2") or self.titles.get("part1") or "задания"

    def _label_mismatch(self, work, labels, expected):
        extra = [label for label in labels if label not in expected]
        if extra:
            title = next((t for (_i, t), label in zip(self.tasks, labels) if label == extra[0]), extra[0])
            return (title, "", f"задание «{extra[0]}» не входит в структуру работы ({self._work_text(work)}): "
                    f"{work_structures.Structure(expected, ()).describe()}")
        missing = [label for label in expected if label not in labels]
        if missing:
            return ("задания", "", f"нет столбца задания «{missing[0]}» из структуры работы "
                    f"({self._work_text(work)}): {work_structures.Structure(expected, ()).describe()}")
        return ("задания", "", f"задания идут не в том порядке, что в структуре работы ({self._work_text(work)}): "
                f"{work_structures.Structure(expected, ()).describe()}")

    def _parts(self, cells, errors):
        """RCOI part 1 and part 2 of a row → ([(score, title)…], labels 1…N, maxima per task (part 1 unknown))."""
        scores, maxima = [], []
        for name, parse in (("part1", work_structures.parse_part1), ("part2", work_structures.parse_part2)):
            if name not in self.pos:
                continue
            raw = cells[self.pos[name]].strip()
            if not raw:
                continue
            parsed, problem = parse(raw)
            if parsed is None:
                errors.append((self.t[name], raw[:60], problem))
                return [], None, None
            for item in parsed:
                score, maximum = item if name == "part2" else (item, None)
                scores.append((score, self.t[name]))
                maxima.append(maximum)
        labels = tuple(str(k) for k in range(1, len(scores) + 1))
        return scores, labels, tuple(maxima)

    def check(self, row_no, cells, problems):
        """(errors, row): errors as (column, value, message); row is the spool tuple when there are none."""
        pos, t = self.pos, self.t
        errors = [(self.titles.get(col, col), "", msg) for col, msg in problems]
        raw = cells[pos["procedure"]].strip()
        procedure = PROCEDURES.get(raw.upper())
        if procedure is None:
            errors.append((t["procedure"], raw, "неизвестная процедура: допустимы ВПР, ОГЭ, ЕГЭ, НИКО, РДР"
                           if raw else "не указана процедура"))
        raw = cells[pos["year"]]
        year = _int(raw)
        if year is None or not YEAR_MIN <= year <= self.year_max:
            errors.append((t["year"], raw, f"год должен быть целым числом от {YEAR_MIN} до {self.year_max}"))
            year = None
        subject = " ".join(cells[pos["subject"]].split())
        if not subject:
            errors.append((t["subject"], "", "не указан предмет"))
        elif len(subject) > SUBJECT_MAX or _control(subject):
            errors.append((t["subject"], subject, f"название предмета: не более {SUBJECT_MAX} символов, без "
                                                  "управляющих символов"))
            subject = ""
        elif (mixed := mixed_script_word(subject)) is not None:
            errors.append((t["subject"], subject, f"в слове «{mixed}» названия предмета смешаны русские и латинские "
                                                  "буквы (например, латинская «X» вместо русской «Х»): наберите "
                                                  "его в одной раскладке"))
            subject = ""
        else:
            subject = subject[0].upper() + subject[1:]
        raw = cells[pos["grade"]]
        grade = _int(raw)
        if grade is None or not GRADE_MIN <= grade <= GRADE_MAX:
            errors.append((t["grade"], raw, f"класс должен быть целым числом от {GRADE_MIN} до {GRADE_MAX}"))
            grade = None
        code = cells[pos["school_code"]].strip()
        school = self.schools.get(code)
        if school is None:
            errors.append((t["school_code"], code, "школа с таким кодом не найдена среди организаций в вашей зоне "
                           "ответственности" if code else "не указан код школы"))
        elif school[1] != "school":
            errors.append((t["school_code"], code, "организация с этим кодом не является общеобразовательной"))
        class_label = class_label_of(cells[pos["class_label"]]) if "class_label" in pos else ""
        if len(class_label) > CLASS_MAX or _control(class_label):
            errors.append((t["class_label"], class_label, f"не более {CLASS_MAX} символов, без управляющих символов"))
        student = cells[pos["student_code"]].strip()
        if not student:
            errors.append((t["student_code"], "", "не указан код участника"))
        elif len(student) > STUDENT_CODE_MAX:
            errors.append((t["student_code"], HIDDEN, f"код участника длиннее {STUDENT_CODE_MAX} символов"))
        raw_max = cells[pos["max_score"]].strip() if "max_score" in pos else ""
        max_score = _int(raw_max) if raw_max else None
        if raw_max and (max_score is None or not 1 <= max_score <= MAX_SCORE_LIMIT):
            errors.append((t["max_score"], raw_max, f"максимальный балл должен быть целым числом от 1 до "
                                                    f"{MAX_SCORE_LIMIT}"))
            max_score = None
        raw = cells[pos["primary_score"]]
        primary = _int(raw)
        if primary is None or primary < 0:
            errors.append((t["primary_score"], raw, "первичный балл должен быть целым неотрицательным числом"))
            primary = None
        raw = cells[pos["mark"]].strip()
        mark = None
        if raw or procedure not in PROCEDURES_WITHOUT_MARK:
            mark = _int(raw)
            if mark is None or not 2 <= mark <= 5:
                errors.append((t["mark"], raw, "отметка должна быть целым числом от 2 до 5" if raw
                               else "не указана отметка"))
        term_mark = None
        if "term_mark" in pos:
            raw = cells[pos["term_mark"]].strip()
            if raw:
                term_mark = _int(raw)
                if term_mark is None or not 2 <= term_mark <= 5:
                    errors.append((t["term_mark"], raw, "отметка за период должна быть целым числом от 2 до 5"))
        # task scores, (score or None, header title) per task: from the task columns or the RCOI parts
        if self.rcoi:
            scores, labels, part2_maxima = self._parts(cells, errors)
        else:
            scores, labels, part2_maxima = [], self.labels, None
            for i, title in self.tasks:
                raw = cells[i].strip()
                score = _int(raw) if raw else None
                if raw and (score is None or score < 0):
                    errors.append((title, raw, "балл за задание должен быть целым неотрицательным числом"))
                    score = None
                scores.append((score, title))
        work = known = None
        if procedure is not None and year is not None and subject and grade is not None:
            work = (procedure, year, subject, grade)
            if labels:
                known, problem = self.structure(work, row_no, tuple(labels), part2_maxima)
                if problem is not None:
                    errors.append(problem)
        if max_score is None and not raw_max:
            if known is not None and known.total is not None:
                max_score = known.total  # the structure gives the work's maximum
            elif (labels and work is not None and known is None) or (self.rcoi and labels is None):
                pass  # the tasks themselves were refused: that is the problem to fix
            else:
                errors.append((t["max_score"], "", "не указан максимальный балл (структура работы "
                               "не задаёт максимумы всех заданий)"))
        elif max_score is not None and known is not None and known.total is not None and max_score != known.total:
            errors.append((t["max_score"], raw_max, f"максимальный балл не равен сумме максимумов заданий по "
                                                    f"структуре работы ({known.total})"))
        if primary is not None and max_score is not None and primary > max_score:
            errors.append((t["primary_score"], cells[pos["primary_score"]],
                           f"первичный балл больше максимального ({max_score})"))
        tasks_json = None
        if any(score is not None for score, _title in scores):
            total, before = 0, len(errors)
            for k, (score, title) in enumerate(scores):
                if score is None:
                    continue
                cap = known.maxima[k] if known is not None and k < len(known.maxima) else None
                if cap is not None and score > cap:
                    errors.append((title, str(score), f"балл за задание «{known.labels[k]}» больше его максимума "
                                                      f"({cap})"))
                elif max_score is not None and score > max_score:
                    errors.append((title, str(score), f"балл за задание больше максимального балла работы "
                                                      f"({max_score})"))
                total += score
            # a task already refused is the problem to fix; the sum would only repeat it
            bad_task = len(errors) > before or any(e[0] in {title for _s, title in scores} for e in errors[:before])
            if primary is not None and total != primary and not bad_task:
                errors.append((t["primary_score"], cells[pos["primary_score"]],
                               f"первичный балл не равен сумме баллов за задания ({total})"))
            tasks_json = "[" + ",".join("null" if v is None else str(v) for v, _t in scores) + "]"
        if work is not None and max_score is not None:
            known = self.works.get(work)
            if known is None:
                if not errors:
                    self.works[work] = (max_score, row_no, {school[0]})
            elif known[0] != max_score:
                errors.append((t["max_score"], raw_max, "максимальный балл отличается от указанного "
                               f"для этой работы в строке {known[1]} ({known[0]})"))
        if errors:
            if problems:
                # A cell the reader already refused (a formula) is reported once, not again as a bad value.
                refused = {self.titles.get(col, col) for col, _msg in problems}
                errors = errors[:len(problems)] + [e for e in errors[len(problems):] if e[0] not in refused]
            return errors, None
        self.works[work][2].add(school[0])
        return None, (procedure, year, subject, grade, school[0], class_label, self.digest(student), tasks_json,
                      primary, max_score, mark, term_mark)


def _line(row, tail: str) -> str:
    procedure, year, subject, grade, school_id, class_label, student_hash, tasks_json, primary, max_score, mark, \
        term_mark = row
    return (f"{procedure}\t{year}\t{_escape(subject)}\t{grade}\t{school_id}\t"
            f"{_escape(class_label) if class_label else NULL}\t{student_hash}\t{tasks_json or NULL}\t{primary}\t"
            f"{max_score}\t{NULL if mark is None else mark}\t{NULL if term_mark is None else term_mark}{tail}")


class Spool:
    """Validated rows on disk in COPY text format (the columns of SPOOL_COLUMNS), and beside them the
    file row number of each, 4 bytes apiece, used only to name duplicated rows; and, in `earlier` (COPY text
    of EARLIER_COLUMNS), the hashes earlier rules gave the code of a row, by the row's ordinal (1-based)."""

    def __init__(self):
        self.text = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        self.numbers = tempfile.TemporaryFile("w+b")
        self.earlier = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        self._lines: list[str] = []
        self._row_numbers = array("I")
        self._earlier: list[str] = []
        self.rows = 0
        self.earlier_rows = 0

    def add(self, row_no: int, line: str, earlier: tuple = ()) -> None:
        self._lines.append(line)
        self._row_numbers.append(row_no)
        if earlier:
            ordinal = self.rows + len(self._lines)
            self._earlier.extend(f"{ordinal}\t{student_hash}\n" for student_hash in earlier)
        if len(self._lines) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self.text.write("".join(self._lines))
            self._row_numbers.tofile(self.numbers)
            self.rows += len(self._lines)
            self._lines, self._row_numbers = [], array("I")
        if self._earlier:
            self.earlier.write("".join(self._earlier))
            self.earlier_rows += len(self._earlier)
            self._earlier = []
        self.text.flush()
        self.numbers.flush()
        self.earlier.flush()

    def row_number(self, ordinal: int) -> int:
        """File row number of the ordinal-th spooled row (1-based)."""
        self.numbers.seek(4 * (ordinal - 1))
        found = array("I")
        found.frombytes(self.numbers.read(4))
        return found[0]

    def close(self) -> None:
        self.text.close()
        self.numbers.close()
        self.earlier.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def validate(table, *, scope: Organisation, report, spool: Spool, import_id: int, on_progress) -> Validated:
    """Check every row; spool the valid ones (COPY text format); errors go to `report`.

    The loop is the hot path of a 300,000-row import: a clean row is converted with a handful of C-level
    calls; any row the fast path does not accept goes through _Checker, which names each problem."""
    state = Validated(task_count=len(table.header.numbered))
    works = state.works
    schools = schools_in_scope(scope)
    hashes = student_hashes()
    year_max = date.today().year + 1
    checker = _Checker(table, schools, works, student_hasher(), year_max)
    state.structures = structures = checker.structures
    # The fast path takes rows of works the checker has already seen (it fixes each work's structure);
    # RCOI parts always go through the checker.
    fast = not checker.rcoi
    pos = checker.pos
    i_proc, i_year, i_subject, i_grade = pos["procedure"], pos["year"], pos["subject"], pos["grade"]
    i_school, i_student, i_primary = pos["school_code"], pos["student_code"], pos["primary_score"]
    i_max, i_mark = pos.get("max_score"), pos["mark"]
    i_class, i_term = pos.get("class_label"), pos.get("term_mark")
    task_index = [i for i, _title in checker.tasks]
    get_tasks = (itemgetter(*task_index) if len(task_index) > 1
                 else (lambda cells: (cells[task_index[0]],)) if task_index else None)
    school_ids = {code: org_id for code, (org_id, kind) in schools.items() if kind == "school"}
    fast_procedures = {name: name for name in PROCEDURES.values() if name not in PROCEDURES_WITHOUT_MARK}
    subjects: dict[str, str] = {}
    add = report.add
    spool_add = spool.add
    tail = f"\t{int(import_id)}\n"
    rows = 0
    for row_no, cells in table.rows():
        rows += 1
        if not rows & 4095:
            on_progress(table.fraction_read())
        line, earlier = None, ()
        if fast and not table.problems:
            try:
                procedure = fast_procedures[cells[i_proc]]
                max_raw = cells[i_max] if i_max is not None else ""
                term_raw = cells[i_term] if i_term is not None else ""
                task_cells = get_tasks(cells) if get_tasks else ()
                numbers = (cells[i_year] + cells[i_grade] + cells[i_primary] + cells[i_mark] + max_raw + term_raw
                           + "".join(task_cells))
                if not numbers.isascii() or "_" in numbers:
                    raise ValueError  # digits other than 0–9 or «1_000», which int() reads: the checker refuses (_int)
                year = int(cells[i_year])
                grade = int(cells[i_grade])
                primary = int(cells[i_primary])
                max_score = int(max_raw) if i_max is not None else None
                mark = int(cells[i_mark])
                term_mark = int(term_raw) if term_raw else None
                tasks = list(map(int, task_cells)) if get_tasks else None
            except (KeyError, ValueError):
                pass
            else:
                subject = subjects.get(cells[i_subject])
                if subject is None:
                    raw = cells[i_subject]
                    clean = " ".join(raw.split())
                    if clean and len(clean) <= SUBJECT_MAX and not _control(clean):
                        subject = subjects[raw] = clean[0].upper() + clean[1:]
                school_id = school_ids.get(cells[i_school])
                student = cells[i_student].strip()
                class_label = class_label_of(cells[i_class]) if i_class is not None else ""
                work = (procedure, year, subject, grade)
                known = works.get(work)
                shape = structures.get(work) if tasks else None
                if max_score is None:  # no such column: the checker took the work's maximum from its structure
                    max_score = known[0] if known is not None else -1
                if (known is not None and (not tasks or shape is not None)
                        and subject is not None and school_id is not None and YEAR_MIN <= year <= year_max
                        and GRADE_MIN <= grade <= GRADE_MAX and 1 <= max_score <= MAX_SCORE_LIMIT
                        and 0 <= primary <= max_score and 2 <= mark <= 5
                        and (term_mark is None or 2 <= term_mark <= 5)
                        and student and len(student) <= STUDENT_CODE_MAX
                        and len(class_label) <= CLASS_MAX and not _control(class_label)
                        and (tasks is None or (min(tasks) >= 0 and all(map(le, tasks, shape.caps or repeat(max_score)))
                                               and max(tasks) <= max_score and sum(tasks) == primary))):
                    if known[0] == max_score:
                        known[2].add(school_id)
                        student_hash, earlier = hashes(student)
                        line = (f"{procedure}\t{year}\t{_escape(subject)}\t{grade}\t{school_id}\t"
                                f"{_escape(class_label) if class_label else NULL}\t{student_hash}\t"
                                f"{'[' + ','.join(map(str, tasks)) + ']' if tasks else NULL}\t{primary}\t"
                                f"{max_score}\t{mark}\t{NULL if term_mark is None else term_mark}{tail}")
        if line is None:
            errors, row = checker.check(row_no, cells, table.problems)
            if errors:
                for column, value, message in errors:
                    add(row_no, column, value, message)
                continue
            line = _line(row, tail)
            earlier = hashes(cells[i_student].strip())[1]
        state.valid += 1
        spool_add(row_no, line, earlier)
    spool.flush()
    state.rows = rows
    on_progress(1.0)
    return state


RESULTS_SPEC_NAMES = [c.name for c in RESULTS_SPEC.columns]


@dataclass
class Loaded:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    boundaries: int = 0
    removed: int = 0  # stored rows of a participant that an earlier rule of codes had made a second one


def load(spool: Spool, state: Validated, *, import_id: int, report, on_progress, titles: dict) -> Loaded:
    """Move the spooled rows into assessment_results in the current transaction (no commit).
    Duplicated natural keys are reported (the caller then rolls back)."""
    conn = db.session.connection()
    postgresql = conn.dialect.name == "postgresql"
    result = Loaded()
    if postgresql:
        # Results imports run one at a time: each is one long transaction, and two overlapping ones
        # would otherwise race between the "which keys exist" check and the insert.
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({RESULTS_LOCK})")
        partitions.ensure_years({work[1] for work in state.works}, conn)
    # PostgreSQL only: a SAVEPOINT that opens an SQLite transaction would commit it on release, and
    # SQLite gains nothing from skipping the staging table anyway.
    if postgresql and not _overlaps(state.works):
        savepoint = db.session.begin_nested()
        try:
            # Asking the session for its connection is what emits the SAVEPOINT (it is lazy).
            _bulk_load(db.session.connection(), spool, "assessment_results", on_progress)
        except (IntegrityError, UniqueViolation):
            # Only duplicated rows within the file can collide here; the staging path names them.
            savepoint.rollback()
            on_progress(0)
        else:
            savepoint.commit()
            result.inserted = state.valid
            on_progress(0.9)
            result.boundaries = derive_boundaries(state.works)
            save_structures(state.structures, import_id)
            summaries.refresh(state.works)
            return result
    stage = f"import_stage_{int(import_id)}"
    if postgresql:
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {stage} (ordinal bigserial, procedure varchar(10), year smallint, "
            "subject varchar(100), grade smallint, school_id integer, class_label varchar(20), "
            "student_hash varchar(64), task_scores text, primary_score smallint, max_score smallint, mark smallint, "
            "term_mark smallint, import_id integer) ON COMMIT DROP")
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{stage}")
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {stage} (ordinal INTEGER PRIMARY KEY, procedure TEXT, year INTEGER, subject TEXT, "
            "grade INTEGER, school_id INTEGER, class_label TEXT, student_hash TEXT, task_scores TEXT, "
            "primary_score INTEGER, max_score INTEGER, mark INTEGER, term_mark INTEGER, import_id INTEGER)")
    _bulk_load(conn, spool, stage, on_progress)
    result.duplicates = _report_duplicates(conn, stage, spool, report, titles)
    if result.duplicates:
        return result
    on_progress(0.6)
    earlier = None
    if spool.earlier_rows:
        earlier = f"{stage}_earlier"
        if postgresql:
            conn.exec_driver_sql(f"CREATE TEMP TABLE {earlier} (ordinal bigint, earlier_hash varchar(64)) "
                                 "ON COMMIT DROP")
        else:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{earlier}")
            conn.exec_driver_sql(f"CREATE TEMP TABLE {earlier} (ordinal INTEGER, earlier_hash TEXT)")
        _bulk_load(conn, spool, earlier, lambda _fraction: None, earlier=True)
    _move(conn, stage, import_id, result, earlier)
    for table in (stage, earlier) if earlier else (stage,):
        conn.exec_driver_sql(f"DROP TABLE {'' if postgresql else 'temp.'}{table}")
    result.unchanged = state.valid - result.inserted - result.updated
    on_progress(0.9)
    result.boundaries = derive_boundaries(state.works)
    save_structures(state.structures, import_id)
    summaries.refresh(state.works)
    return result


def save_structures(structures: dict, import_id: int) -> None:
    """Store each work's task structure (labels, maxima) the first time its results arrive. Validation
    has refused any file that disagrees with a stored one, so an existing row only gains maxima it lacked."""
    for (procedure, year, subject, grade), tasks in structures.items():
        stored = db.session.scalar(select(WorkStructure).where(
            WorkStructure.procedure == procedure, WorkStructure.year == year, WorkStructure.subject == subject,
            WorkStructure.grade == grade))
        if stored is None:
            db.session.add(WorkStructure(procedure=procedure, year=year, subject=subject, grade=grade,
                                         labels=list(tasks.labels), maxima=list(tasks.maxima), source=tasks.source,
                                         import_id=import_id))
        else:
            # one structure is a prefix of the other (validation refused the rest): keep the longer one and
            # every maximum either of them knows
            longer = tasks if len(tasks.labels) > len(stored.labels) else None
            maxima = [old if old is not None else new for old, new in
                      zip(list(stored.maxima) + [None] * len(tasks.maxima), list(tasks.maxima) +
                          [None] * len(stored.maxima))][:max(len(stored.maxima), len(tasks.maxima))]
            if longer is not None:
                stored.labels = list(longer.labels)
            if maxima != list(stored.maxima):
                stored.maxima = maxima
    db.session.flush()


def _compatible(stored: tuple, new: tuple) -> bool:
    """Results of one work imported in several files must number their tasks alike; a file may carry fewer
    or more tasks of the same numbering (a v1 file with task_1 … task_N), not other labels."""
    shorter, longer = sorted((stored, new), key=len)
    return longer[:len(shorter)] == shorter


RESULTS_LOCK = 0x55_4B_4F_49_4D_50  # any constant shared by all results imports ("UKOIMP")


def _overlaps(works: dict) -> bool:
    """Does any stored result share a work and a school with the file? (Uses the natural key's prefix.)"""
    for (procedure, year, subject, grade), (_max, _row, school_ids) in works.items():
        ids = sorted(school_ids)
        for start in range(0, len(ids), 500):
            found = db.session.scalar(select(R.id).where(
                R.procedure == procedure, R.year == year, R.subject == subject, R.grade == grade,
                R.school_id.in_(ids[start:start + 500])).limit(1))
            if found is not None:
                return True
    return False


def _bulk_load(conn, spool: Spool, table: str, on_progress, *, earlier: bool = False) -> None:
    """The spool into `table` (its SPOOL_COLUMNS), or with `earlier` its earlier hashes (EARLIER_COLUMNS):
    COPY on PostgreSQL, executemany in batches on SQLite."""
    text, columns, rows = (spool.earlier, EARLIER_COLUMNS, spool.earlier_rows) if earlier else \
        (spool.text, SPOOL_COLUMNS, spool.rows)
    text.seek(0, 2)
    size = text.tell() or 1
    text.seek(0)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        done = 0
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            while chunk := text.read(SPOOL_CHUNK):
                copy.write(chunk)
                done += len(chunk)
                on_progress(0.5 * done / size)
        return
    # S608 here and below: table and column names are the module's constants and the staging table's generated
    # name, ids are int(); file values only ever go as parameters or through COPY.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    batch, done = [], 0
    for line in text:
        batch.append(tuple(None if v == NULL else v.replace("\\\\", "\\")
                           for v in line.rstrip("\n").split("\t")))
        if len(batch) >= SQLITE_BATCH:
            conn.exec_driver_sql(sql, batch)
            done += len(batch)
            batch = []
            on_progress(0.5 * done / max(rows, 1))
    if batch:
        conn.exec_driver_sql(sql, batch)


def _report_duplicates(conn, stage: str, spool: Spool, report, titles: dict) -> int:
    keys = ", ".join(KEY)
    # A cheap hash aggregate answers "any duplicates?"; row numbers are looked up only when there are.
    if conn.exec_driver_sql(f"SELECT 1 FROM {stage} GROUP BY {keys} HAVING count(*) > 1 LIMIT 1").first() is None:  # noqa: S608
        return 0
    rows = conn.exec_driver_sql(
        f"SELECT ordinal, first FROM (SELECT ordinal, min(ordinal) OVER w AS first, count(*) OVER w AS n "  # noqa: S608
        f"FROM {stage} WINDOW w AS (PARTITION BY {keys})) AS s WHERE n > 1 AND ordinal <> first "
        f"ORDER BY ordinal LIMIT {MAX_REPORTED}").fetchall()
    for ordinal, first in rows:
        report.add(spool.row_number(ordinal), titles.get("student_code", "student_code"), HIDDEN,
                   f"строка повторяет строку {spool.row_number(first)}: тот же участник, та же работа и школа")
    return len(rows)


def _move(conn, stage: str, import_id: int, result: Loaded, earlier: str | None = None) -> None:
    """Staging → assessment_results: update the stored rows whose values differ, insert the new ones.

    When no stored result shares a work and a school with the file (the usual first import), a plain
    INSERT … SELECT does it; otherwise one UPDATE … FROM and one INSERT … WHERE NOT EXISTS, both set-based.

    `earlier` (a table of EARLIER_COLUMNS) names, per staged row, the hashes earlier rules gave its code
    (student_hashes): a stored row of the same work and school under one of them is the same participant. Before
    the update it takes the row's current hash and values; should the participant have two stored rows (a row of
    the earlier rule beside one of the current rule, loaded after it), the extra one is deleted, keeping the
    current one, else the oldest. Both statements are set-based too, and run only when a code of the file had an
    earlier form."""
    postgresql = conn.dialect.name == "postgresql"
    as_json = "{}::json" if postgresql else "{}"
    as_jsonb = "{}::jsonb" if postgresql else "json({})"
    columns = ", ".join(KEY + VALUES)
    select_columns = ", ".join(as_json.format("s." + c) if c == "task_scores" else "s." + c for c in KEY + VALUES)
    key_join = " AND ".join(f"r.{c} = s.{c}" for c in KEY)
    work_join = " AND ".join(f"r.{c} = s.{c}" for c in KEY[:-1])
    overlap = conn.exec_driver_sql(
        f"SELECT 1 FROM {stage} AS s WHERE EXISTS (SELECT 1 FROM assessment_results AS r WHERE {work_join}) "  # noqa: S608
        "LIMIT 1").first()
    insert = (f"INSERT INTO assessment_results ({columns}, import_id) "  # noqa: S608
              f"SELECT {select_columns}, {int(import_id)} FROM {stage} AS s")
    if overlap is None:
        result.inserted = conn.exec_driver_sql(insert).rowcount
        return
    if postgresql:
        conn.exec_driver_sql(f"ANALYZE {stage}")
    target = ", ".join(as_jsonb.format("r." + c) if c == "task_scores" else "r." + c for c in VALUES)
    source = ", ".join(as_jsonb.format("s." + c) if c == "task_scores" else "s." + c for c in VALUES)
    differs = f"({target}) IS DISTINCT FROM ({source})" if postgresql else f"({target}) IS NOT ({source})"
    updates = ", ".join(f"{c} = {as_json.format('s.' + c)}" if c == "task_scores" else f"{c} = s.{c}"
                        for c in VALUES)
    rewritten = 0
    if earlier is not None:
        if postgresql:
            conn.exec_driver_sql(f"ANALYZE {earlier}")
        current = " AND ".join(f"k.{c} = s.{c}" for c in KEY)
        result.removed = conn.exec_driver_sql(
            "DELETE FROM assessment_results WHERE id IN (SELECT id FROM (SELECT r.id AS id, "  # noqa: S608
            "row_number() OVER (PARTITION BY s.ordinal ORDER BY r.id) AS n, "
            f"EXISTS (SELECT 1 FROM assessment_results AS k WHERE {current}) AS has_current "
            f"FROM {earlier} AS e JOIN {stage} AS s ON s.ordinal = e.ordinal "
            f"JOIN assessment_results AS r ON {work_join} AND r.student_hash = e.earlier_hash) AS m "
            "WHERE has_current OR n > 1)").rowcount
        rewritten = conn.exec_driver_sql(
            f"UPDATE assessment_results AS r SET student_hash = s.student_hash, {updates}, "  # noqa: S608
            f"import_id = {int(import_id)} FROM {earlier} AS e JOIN {stage} AS s ON s.ordinal = e.ordinal "
            f"WHERE {work_join} AND r.student_hash = e.earlier_hash").rowcount
    result.updated = rewritten + conn.exec_driver_sql(
        f"UPDATE assessment_results AS r SET {updates}, import_id = {int(import_id)} FROM {stage} AS s "  # noqa: S608
        f"WHERE {key_join} AND {differs}").rowcount
    result.inserted = conn.exec_driver_sql(
        f"{insert} WHERE NOT EXISTS (SELECT 1 FROM assessment_results AS r WHERE {key_join})").rowcount  # noqa: S608


def derive_boundaries(works) -> int:
    """Lowest primary score that received each mark 3–5, per work, from all results stored for it.
    Boundaries given explicitly (derived=False) are left alone. Returns how many rows changed."""
    changed = 0
    for procedure, year, subject, grade in works:
        found = dict(db.session.execute(
            select(R.mark, db.func.min(R.primary_score))
            .where(R.procedure == procedure, R.year == year, R.subject == subject, R.grade == grade,
                   R.mark.between(3, 5))
            .group_by(R.mark)).all())
        existing = {b.mark: b for b in db.session.scalars(select(MarkBoundary).where(
            MarkBoundary.procedure == procedure, MarkBoundary.year == year, MarkBoundary.subject == subject,
            MarkBoundary.grade == grade))}
        for mark, min_score in found.items():
            boundary = existing.get(mark)
            if boundary is None:
                db.session.add(MarkBoundary(procedure=procedure, year=year, subject=subject, grade=grade, mark=mark,
                                            min_score=min_score, derived=True))
                changed += 1
            elif boundary.derived and boundary.min_score != min_score:
                boundary.min_score = min_score
                changed += 1
    db.session.flush()
    return changed
