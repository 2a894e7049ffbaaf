"""XLSX exports of the situational centre's tables (the same rows as the page, numbers as numbers)."""

import io

from openpyxl import Workbook

from app.core.spreadsheets import DECIMAL_1, INTEGER, append_row, finish_sheet, generated_note
from app.orgs.services import org_time_zone
from app.situation.services import standings_total

# results: participants whole, means and shares with one decimal
RESULTS_FORMATS = {3: INTEGER, 4: DECIMAL_1, 5: DECIMAL_1, 6: DECIMAL_1, 7: DECIMAL_1}


def _book(title: str, header: list[str], rows, widths, *, org, sheet_name: str, formats=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    append_row(sheet, [f"{title} ({generated_note(org_time_zone(org))})"])
    append_row(sheet, header)
    for row in rows:
        append_row(sheet, row)
    finish_sheet(sheet, header_row=2, widths=widths, formats=formats)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _r(value, digits: int = 1):
    return None if value is None else round(value, digits)


def _filters_text(f) -> str:
    return f"{f['procedure']}, {f['year']} г." + (f", {f['subject']}" if f["subject"] else ", все предметы")


RESULTS_HEADER = ["Организация", "Код", "Участников", "Средний % выполнения", "Доля «2», %", "Доля «4» и «5», %",
                  "Изменение к прошлому году, п. п."]
OBJECTIVITY_HEADER = ["Организация", "Код", "Школ с вердиктом", "Признаки необъективности выявлены", "Наблюдение",
                      "ШНОР", "ШНСУ", "Расчёт анализа №"]


def empty_xlsx(org, table: str) -> bytes:
    header = RESULTS_HEADER if table == "results" else OBJECTIVITY_HEADER
    return _book(f"{org.display_name}: результатов оценочных процедур пока нет", header, [], [40] * len(header),
                 org=org, sheet_name="Результаты" if table == "results" else "Объективность")


def results_xlsx(org, f, total, lines) -> bytes:
    header = RESULTS_HEADER
    rows = []
    for line in [total, *lines]:
        name = ("Итого: " if line is total else "") + line.organisation.display_name
        if line is not total and not line.current.participants:
            # as the page says it («нет результатов за 2025 г.»): 0 participants read as a school that sat the work
            rows.append([name, line.organisation.code, f"нет результатов за {f['year']} г.", None, None, None, None])
            continue
        rows.append([name, line.organisation.code, line.current.participants, _r(line.current.mean),
                     _r(line.current.share(2)), _r(line.current.share(4, 5)), _r(line.delta)])
    return _book(f"Результаты: {org.display_name} — {_filters_text(f)}", header, rows, (40, 12, 12, 14, 12, 14, 16),
                 org=org, sheet_name="Результаты", formats=RESULTS_FORMATS)


def objectivity_xlsx(org, f, kids, standings) -> bytes:
    header = OBJECTIVITY_HEADER
    rows = []
    total = standings_total(standings)
    if total is not None and any(kid.kind != "school" for kid in kids):  # as the page: a line over municipalities
        rows.append([f"Итого: {org.display_name}", org.code, total.schools, total.flagged, total.watch, total.shnor,
                     total.shnsu, None])
    for kid in kids:
        s = standings[kid.id]
        if s.run is None:  # as the page says it: zeros read as «no school flagged, none in ШНОР»
            rows.append([kid.display_name, kid.code, f"анализ за {f['year']} г. не проводился", None, None, None,
                         None, None])
            continue
        rows.append([kid.display_name, kid.code, s.schools, s.flagged, s.watch, s.shnor, s.shnsu, s.run.id])
    return _book(f"Объективность и низкие результаты: {org.display_name} — {f['year']} г.", header, rows,
                 (40, 12, 14, 18, 12, 8, 8, 12), org=org, sheet_name="Объективность",
                 formats={c: INTEGER for c in range(3, 9)})


def cycles_xlsx(org, lines) -> bytes:
    header = ["Организация", "Код", "Механизм", "Цикл (период)", "Текущий блок", "Просроченных этапов"]
    rows = []
    for line in lines:
        if not line.cycles:
            rows.append([line.organisation.display_name, line.organisation.code, "нет открытых циклов", None, None,
                         None])
        for c in line.cycles:
            rows.append([line.organisation.display_name, line.organisation.code, c.mechanism, c.cycle.period,
                         c.block or "все этапы утверждены", c.overdue])
    return _book(f"Циклы управления: {org.display_name}", header, rows, (40, 12, 50, 14, 36, 12), org=org,
                 sheet_name="Циклы", formats={6: INTEGER})


def works_xlsx(school, f, works) -> bytes:
    header = ["Процедура", "Предмет", "Класс", "Участников", "Средний % выполнения", "Доля «2», %",
              "Доля «4» и «5», %", "Изменение к прошлому году, п. п.", "Муниципалитет: средний %", "Регион: средний %"]
    rows = [[w.procedure, w.subject, w.grade, w.own.participants, _r(w.own.mean), _r(w.own.share(2)),
             _r(w.own.share(4, 5)), _r(w.delta), _r(w.parent.mean) if w.parent else None,
             _r(w.region.mean) if w.region else None] for w in works]
    when = f"{f['year']} г." if f["year"] else "результатов пока нет"
    return _book(f"Результаты по работам: {school.display_name} — {when}", header, rows,
                 (10, 24, 8, 12, 14, 12, 14, 16, 16, 14), org=school, sheet_name="Работы",
                 formats={3: INTEGER, 4: INTEGER, **{c: DECIMAL_1 for c in range(5, 11)}})
