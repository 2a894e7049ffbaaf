"""`flask analysis objectivity|low-results --year YEAR [--municipality CODE]`: the methods of domain.md §8
on the imported results, as CSV on standard output (for checking and scripting outside the UI).

The reference group is always the whole region (z-scores, deciles and quartiles are regional); with
--municipality only that municipality's schools are printed. Messages go to standard error in Russian.
Exit codes: 0 — done (also when nothing is flagged), 1 — no data or a bad setting, 2 — wrong arguments.
"""

import math
import sys

import click
from app.core.cli import CommandGroup
from sqlalchemy import select

from app.core.spreadsheets import csv_writer
from app.extensions import db
from app.orgs.models import Organisation

cli = CommandGroup("analysis", help="Анализ результатов: признаки необъективности, ШНОР/ШНСУ (CSV в stdout).")

_YEAR_HELP = "Год, за который выводятся результаты анализа."
_MUN_HELP = "Код муниципалитета: вывести только его школы (сравнение — со школами всего региона)."


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _number(value) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _inputs(year: int, municipality_code: str | None):
    """(results, schools of the region, ids to print, boundaries, thresholds) or exit 1 with a message."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    from app.analysis.methods.data import load_boundaries, load_results, load_schools
    from app.analysis.methods.thresholds import ThresholdsError, load_thresholds

    try:
        thresholds = load_thresholds()
    except ThresholdsError as exc:
        _fail(str(exc))
    region = None
    printed = None
    if municipality_code:
        mun = db.session.scalar(select(Organisation).where(Organisation.code == municipality_code))
        if mun is None:
            _fail(f"Организация с кодом «{municipality_code}» не найдена.")
        if mun.kind != "municipality":
            _fail(f"Организация «{municipality_code}» не муниципалитет (тип: {mun.kind_label}).")
        region = db.session.get(Organisation, mun.ancestor_ids()[0])
        printed = set(load_schools(within=mun)["id"].tolist())
        if not printed:
            _fail(f"В муниципалитете «{municipality_code}» нет школ.")
    schools = load_schools(within=region)
    years = [year - 2, year - 1, year, year + 1]
    results = load_results(years=years, school_ids=None if region is None else schools["id"].tolist())
    if not (results["year"] == year).any():
        _fail(f"Нет результатов оценочных процедур за {year} г.")
    if printed is not None and not results.loc[results["year"] == year, "school_id"].isin(printed).any():
        _fail(f"Нет результатов школ муниципалитета «{municipality_code}» за {year} г.")
    return results, schools, printed, load_boundaries(years=years), thresholds


@cli.command("objectivity",
    help=("Выводы по школам об объективности результатов (CSV): по умолчанию только школы с выводом «признаки "
          "необъективности выявлены» (список, для которого регион ограничивает долю ложных обнаружений)."))
@click.option("--year", type=int, required=True, help=_YEAR_HELP)
@click.option("--municipality", "municipality_code", help=_MUN_HELP)
@click.option("--all", "show_all", is_flag=True,
              help="Вывести и школы с отдельными признаками (наблюдение), и школы без признаков.")
def objectivity_command(year, municipality_code, show_all):
    """Per-school verdicts on the objectivity of results, as CSV: by default only the schools whose verdict is
    «признаки необъективности выявлены» (the list the region controls the false discovery rate of)."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    from app.analysis.methods.data import load_structures
    from app.analysis.methods.sign_tests import unit_tests
    from app.analysis.methods.verdicts import FLAGGED, compute_verdicts

    results, schools, printed, boundaries, thresholds = _inputs(year, municipality_code)
    tests = unit_tests(results, schools, thresholds, boundaries=boundaries if len(boundaries) else None,
                       structures=load_structures(years=[int(y) for y in results["year"].unique()]))
    present = results.loc[results["year"] == year, "school_id"].unique().tolist()
    verdicts = compute_verdicts(tests, thresholds, year=year, schools=present)
    if printed is not None:
        verdicts = verdicts[verdicts["school_id"].isin(printed)]
    shown = verdicts if show_all else verdicts[verdicts["verdict"] == FLAGGED]
    code = schools.set_index("id")["code"]
    out = csv_writer(sys.stdout, lineterminator="\n")
    out.writerow(["school_code", "verdict", "signs", "works", "combined_p", "explanation"])
    for v in shown.itertuples(index=False):
        out.writerow([code.get(v.school_id, v.school_id), v.verdict_label, "; ".join(v.signs), "; ".join(v.works),
                      _p(v.combined_p), v.explanation])
    sys.stdout.flush()
    counts = verdicts["verdict"].value_counts()
    click.echo(f"Школ: {len(verdicts)}; признаки необъективности выявлены: {counts.get(FLAGGED, 0)}; "
               f"отдельные признаки (наблюдение): {counts.get('watch', 0)}; допустимая доля ложных в списке "
               f"{thresholds['verdict_fdr'] * 100:g} %.", err=True)


# Below this a combined probability has underflowed (0.0) or lost its precision (a denormal): printed as a bound, so
# an expert never reads «p = 0» — a probability that small is not zero, only smaller than a double can tell.
P_FLOOR = 1e-300


def _p(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value < P_FLOOR:
        return f"<{P_FLOOR:g}"
    return f"{value:.3g}"


@cli.command("low-results",
    help="Школы с низкими результатами (ШНОР), в сложных социальных условиях (ШНСУ) и резильентные школы (CSV).")
@click.option("--year", type=int, required=True, help=_YEAR_HELP)
@click.option("--municipality", "municipality_code", help=_MUN_HELP)
def low_results_command(year, municipality_code):
    """Low-result schools (ШНОР), difficult social conditions (ШНСУ) and resilient schools, as CSV."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    from app.analysis.methods.low_results import compute_low_results
    from app.analysis.methods.data import load_structures
    from app.analysis.methods.sign_tests import unit_tests
    from app.analysis.methods.verdicts import compute_verdicts, excluded_units

    results, schools, printed, boundaries, thresholds = _inputs(year, municipality_code)
    tests = unit_tests(results, schools, thresholds, boundaries=boundaries if len(boundaries) else None,
                       structures=load_structures(years=[int(y) for y in results["year"].unique()]))
    # judged on results that can be trusted: the works that carry the signs of a school with a verdict
    verdicts = [compute_verdicts(tests, thresholds, year=y) for y in sorted(set(results["year"].tolist()))]
    low = compute_low_results(results, schools, excluded_units(tests, verdicts, thresholds), thresholds, year=year)
    code = schools.set_index("id")["code"]
    rows = []
    for r in low.shnor.itertuples(index=False):
        subjects = sorted({part.split(" — ")[0] for reason in r.reasons if reason.startswith("подтверждается долей")
                           for part in reason.split(": ", 1)[1].split("; ")})
        rows.append((r.school_id, "; ".join(subjects), "ШНОР", r.L, low.cuts.get(f"L_worst_{year}"),
                     "; ".join(r.reasons)))
    for r in low.shnsu.itertuples(index=False):
        rows.append((r.school_id, "", "ШНСУ", r.social_index, low.cuts.get("social_worst"), "; ".join(r.factors)))
    for r in low.resilient.itertuples(index=False):
        rows.append((r.school_id, "", "резильентная", r.L, low.cuts.get("resilient_L"), r.reason))
    out = csv_writer(sys.stdout, lineterminator="\n")
    out.writerow(["school_code", "subject", "grade", "list", "statistic", "threshold", "year", "reasons"])
    for school_id, subjects, name, statistic, threshold, reasons in rows:
        if printed is not None and school_id not in printed:
            continue
        out.writerow([code.get(school_id, school_id), subjects, "", name, _number(statistic), _number(threshold),
                      year, reasons])
    sys.stdout.flush()
    shown = [r for r in rows if printed is None or r[0] in printed]
    counts = {name: sum(1 for r in shown if r[2] == name) for name in ("ШНОР", "ШНСУ", "резильентная")}
    click.echo(f"ШНОР: {counts['ШНОР']}; ШНСУ: {counts['ШНСУ']}; резильентных школ: {counts['резильентная']}.",
               err=True)
    for note in low.notes:
        click.echo(note, err=True)
