"""Import of organisations with their context attributes (domain.md §9).

Rows create or update organisations by code (the stable key). The kind and the parent of an existing
organisation never change (a row that tries is an error), parents may come later in the same file, and
every organisation must end up inside the uploader's subtree. The file is streamed and validated as a
whole first; the validated rows (a region has a few thousand organisations at most) are then written
through the same services as the organisation pages, so each creation or change is audited.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.extensions import db
from app.imports.formats import BOOLEANS, KINDS, PROFILES, SETTLEMENTS, vocabulary_key
from app.orgs.models import Organisation
from app.orgs.requisites import REQUISITE_FIELDS, clean_requisites
from app.orgs.services import ALLOWED_PARENTS, CODE_RE, create_organisation, update_organisation

MAX_ROWS = 50_000
FIELDS = ("short_name", "settlement", "remote", "preschool_groups", "students", "profile", "low_income_share",
          "non_native_share", "ovz_share", "unqualified_teachers_share", "teacher_vacancies") + REQUISITE_FIELDS
SHARES = ("low_income_share", "non_native_share", "ovz_share", "unqualified_teachers_share")
CENT = Decimal("0.01")


@dataclass
class OrgRow:
    row_no: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    data: dict  # present optional columns only: an absent column leaves the stored value alone


@dataclass
class Loaded:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


# Organisations imports run one at a time (PostgreSQL; SQLite has one writer anyway): two of the same file at once
# both found its codes new and the second died on the unique code instead of finding the first one done.
ORGANISATIONS_LOCK = 0x55_4B_4F_4F_52_47  # any constant shared by all organisations imports ("UKOORG")


def serialise() -> None:
    """Wait, in the import's transaction, for any other organisations import to commit or roll back."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ORGANISATIONS_LOCK})")


def _share(raw: str):
    if not raw.isascii() or "_" in raw:
        return None  # only the digits 0–9 (results._int says why)
    try:
        value = Decimal(raw.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or not 0 <= value <= 100:
        return None
    return value.quantize(CENT)


def _count(raw: str, hi: int):
    if not raw.isascii() or "_" in raw:
        return None  # only the digits 0–9 (results._int says why)
    try:
        value = int(raw.replace(" ", ""))
    except ValueError:
        return None
    return value if 0 <= value <= hi else None


def _parse_row(row_no, cells, pos, titles, add) -> OrgRow | None:
    def cell(name):
        i = pos.get(name)
        return cells[i].strip() if i is not None else ""

    ok = True

    def bad(name, value, message):
        nonlocal ok
        ok = False
        add(row_no, titles.get(name, name), value, message)

    code = cell("code")
    if not code:
        bad("code", "", "не указан код организации")
    elif not CODE_RE.match(code):
        bad("code", code, "недопустимый код: до 40 символов, только буквы, цифры, «.», «_», «-»")
    name = " ".join(cell("name").split())
    if not name:
        bad("name", "", "не указано полное наименование")
    elif len(name) > 500:
        bad("name", name, "наименование длиннее 500 символов")
    raw_kind = cell("kind")
    kind = KINDS.get(vocabulary_key(raw_kind))
    if kind is None:
        bad("kind", raw_kind, "неизвестный тип организации: region, municipality, school, preschool, additional, "
                              "methodical_centre (или по-русски: регион, муниципалитет, школа, …)"
            if raw_kind else "не указан тип организации")
    parent_code = cell("parent_code") or None
    data = {}
    if "short_name" in pos:
        short = " ".join(cell("short_name").split())
        if len(short) > 200:
            bad("short_name", short, "краткое наименование длиннее 200 символов")
        data["short_name"] = short or None
    for column, vocabulary, allowed in (("settlement", SETTLEMENTS, "city, town, village (город, пгт, село)"),
                                        ("profile", PROFILES, "ordinary, lyceum, gymnasium, in_depth "
                                                              "(общеобразовательная, лицей, гимназия, суиоп)")):
        if column in pos:
            raw = cell(column)
            value = vocabulary.get(vocabulary_key(raw)) if raw else None
            if raw and value is None:
                bad(column, raw, f"недопустимое значение: {allowed}")
            data[column] = value
    if "remote" in pos:
        raw = cell("remote")
        value = BOOLEANS.get(raw.lower()) if raw else None
        if raw and value is None:
            bad("remote", raw, "укажите 1 (удалённая) или 0 (нет)")
        data["remote"] = value
    if "preschool_groups" in pos:
        raw = cell("preschool_groups")
        value = BOOLEANS.get(raw.lower()) if raw else False
        if raw and value is None:
            bad("preschool_groups", raw, "укажите 1 (есть дошкольные группы) или 0 (нет)")
        elif value and kind is not None and kind != "school":
            bad("preschool_groups", raw, "дошкольные группы отмечаются только у школы")
        data["preschool_groups"] = bool(value)
    for column, hi in (("students", 100_000), ("teacher_vacancies", 1000)):
        if column in pos:
            raw = cell(column)
            value = _count(raw, hi) if raw else None
            if raw and value is None:
                bad(column, raw, f"должно быть целое число от 0 до {hi}")
            data[column] = value
    for column in SHARES:
        if column in pos:
            raw = cell(column)
            value = _share(raw) if raw else None
            if raw and value is None:
                bad(column, raw, "доля в процентах: число от 0 до 100 (например, 12,5)")
            data[column] = value
    for column in REQUISITE_FIELDS:
        if column in pos:
            raw = cell(column)
            cleaned, problems = clean_requisites({column: raw})
            if problems:
                bad(column, raw, problems[0].split(": ", 1)[-1])
            data[column] = cleaned[column]
    if not ok:
        return None
    return OrgRow(row_no=row_no, code=code, name=name, kind=kind, parent_code=parent_code, data=data)


def validate(table, *, scope: Organisation, report, on_progress) -> tuple[list[OrgRow], dict, int]:
    """Read and check every row; then resolve parents (in the file or in the database) and scope.
    Returns the rows in an order where every parent comes before its children, and the existing
    organisations by code, and the number of data rows read."""
    pos = {name: i for i, name in enumerate(table.columns) if name}
    titles = table.header.titles
    add = report.add
    rows: dict[str, OrgRow] = {}
    count = 0
    for row_no, cells in table.rows():
        count += 1
        if count > MAX_ROWS:
            add(row_no, "", "", f"слишком много строк: не более {MAX_ROWS} организаций в одном файле")
            break
        if not count & 255:
            on_progress(table.fraction_read())
        for column, message in table.problems:
            add(row_no, titles.get(column, column), "", message)
        parsed = _parse_row(row_no, cells, pos, titles, add)
        if parsed is None:
            continue
        if parsed.code in rows:
            add(row_no, titles["code"], parsed.code, f"код повторяется: он уже был в строке {rows[parsed.code].row_no}")
            continue
        rows[parsed.code] = parsed
    on_progress(1.0)

    wanted = set(rows) | {r.parent_code for r in rows.values() if r.parent_code}
    existing: dict[str, Organisation] = {}
    wanted_list = sorted(wanted)
    for start in range(0, len(wanted_list), 500):
        chunk = wanted_list[start:start + 500]
        for org in db.session.scalars(select(Organisation).where(Organisation.code.in_(chunk))):
            existing[org.code] = org

    t_code, t_kind = titles.get("code", "code"), titles.get("kind", "kind")
    t_parent = titles.get("parent_code", "parent_code")
    usable: dict[str, OrgRow] = {}
    for row in rows.values():
        org = existing.get(row.code)
        if org is None:
            usable[row.code] = row
            continue
        if not org.is_within(scope):
            add(row.row_no, t_code, row.code, "организация с этим кодом уже есть вне вашей зоны ответственности")
        elif org.kind != row.kind:
            add(row.row_no, t_kind, row.kind, f"тип существующей организации не меняется (в системе: {org.kind})")
        elif row.parent_code is not None and row.parent_code != (org.parent.code if org.parent else None):
            add(row.row_no, t_parent, row.parent_code, "вышестоящая организация существующей организации не меняется "
                f"(в системе: {org.parent.code if org.parent else 'нет'})")
        else:
            usable[row.code] = row

    # Parent resolution: an existing parent must be in scope; a parent in the file must itself resolve.
    ordered: list[OrgRow] = []
    done: set[str] = set()
    kind_of = {code: row.kind for code, row in rows.items()}
    pending = [row for row in usable.values() if row.code not in existing]
    ordered.extend(row for row in usable.values() if row.code in existing)
    done.update(row.code for row in ordered)
    while pending:
        progressed, waiting = False, []
        for row in pending:
            parent = row.parent_code
            if parent is None:
                add(row.row_no, t_parent, "", "не указан код вышестоящей организации")
                progressed = True
                continue
            if parent in existing:
                # Already in the database: its kind and place are fixed, whatever its own row says.
                parent_org = existing[parent]
                if not parent_org.is_within(scope):
                    add(row.row_no, t_parent, parent, "вышестоящая организация вне вашей зоны ответственности")
                    progressed = True
                    continue
                parent_kind = parent_org.kind
            elif parent in done:
                parent_kind = kind_of[parent]
            elif parent in usable:
                waiting.append(row)
                continue
            elif parent in rows:
                add(row.row_no, t_parent, parent, "вышестоящая организация указана в строке с ошибками")
                progressed = True
                continue
            else:
                add(row.row_no, t_parent, parent, "вышестоящая организация не найдена ни в файле, ни в системе")
                progressed = True
                continue
            if parent_kind not in ALLOWED_PARENTS.get(row.kind, ()):
                add(row.row_no, t_kind, row.kind, f"организация этого типа не может входить в организацию типа "
                                                  f"«{parent_kind}»")
            else:
                ordered.append(row)
                done.add(row.code)
            progressed = True
        if not progressed:
            for row in waiting:
                add(row.row_no, t_parent, row.parent_code, "вышестоящие организации ссылаются друг на друга по кругу "
                    "или на строку с ошибками")
            break
        pending = waiting
    return ordered, existing, count


def _same(old, new) -> bool:
    if isinstance(new, Decimal):
        return old is not None and Decimal(str(old)).quantize(CENT) == new
    return old == new


def load(rows: list[OrgRow], existing: dict, *, actor, on_progress) -> Loaded:
    """Create and update in parent-first order, through the organisation services (audited)."""
    result = Loaded()
    created: dict[str, Organisation] = {}
    for n, row in enumerate(rows, 1):
        org = existing.get(row.code)
        if org is None:
            parent = created.get(row.parent_code) or existing.get(row.parent_code)
            context = {k: v for k, v in row.data.items() if k != "short_name"}
            created[row.code] = create_organisation(code=row.code, name=row.name, kind=row.kind, parent=parent,
                                                    short_name=row.data.get("short_name"), actor=actor, **context)
            result.inserted += 1
        else:
            changes = {k: v for k, v in row.data.items() if not _same(getattr(org, k), v)}
            if org.name != row.name or changes:
                update_organisation(org, data={"name": row.name, **changes}, actor=actor)
                result.updated += 1
            else:
                result.unchanged += 1
        if not n & 63:
            on_progress(n / len(rows))
    return result
