"""The context of the analytic report (аналитическая справка) of a cycle, for the documents pipeline.

`report_context(cycle)` returns plain primitives (str, int, float, None, lists and dicts of them) and
`charts: {name: png_bytes}`; the documents feature turns each chart into a docxtpl InlineImage under the
same name. The numbers are those of the cycle's latest finished analysis run (its fingerprint is in the
context, so the report can be traced to exactly the inputs it was computed from).

Chart names: `indicators`, `indicators_2`, … (each indicator's values per organisation), `signs` (markers per sign),
`flagged_share` (share of flagged schools per municipality), `clusters` (school positions in clusters).

`analytic_report` is the document type's context builder, registered with the documents feature at start-up
(the descriptor's setup): the whole of `report_context` reaches the template — flagged schools with their signs,
the ШНОР / ШНСУ tables, clusters, shares by municipality — not only the keys a generic builder knows.
"""

from sqlalchemy import select

from app.analysis import charts, services
from app.analysis.dashboard import compute_rows, position_label
from app.analysis.methods.verdicts import chance
from app.analysis.models import AnalysisResult
from app.analysis.sections import ELSEWHERE, SECTION_KINDS, kinds_for, sections_for
from app.core import dating
from app.core import russian as ru
from app.documents.contexts import indicator_values, local_day, refuse, register_builder
from app.extensions import db
from app.orgs.models import Organisation

SIGN_TITLES = {
    "K1": "высокие результаты, не подтверждённые профилем и экзаменами",
    "K2": "трудные задания выполнены лучше лёгких",
    "K3": "аномальное распределение баллов",
    "K4": "расхождение с отметками в журнале",
    "K5": "результаты не подтверждены в следующем году",
}


def _num(value, digits: int = 2):
    if value is None:
        return None
    try:
        return round(float(value), digits)
    except (TypeError, ValueError):
        return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _indicators(cycle, run) -> list[dict]:
    rows = compute_rows(cycle, run)
    names = {o.id: o.display_name for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_({r["organisation_id"] for r in rows} or {0})))}
    out = []
    for ind in cycle.indicators:
        mine = [r for r in rows if r["indicator_id"] == ind.id]
        total = next((r for r in mine if r["is_total"]), None)
        out.append({
            "code": ind.code, "name": ind.name, "unit": ind.unit, "direction": ind.direction_label,
            "baseline": _num(ind.baseline), "target": _num(ind.target),
            "value": _num(total["value"]) if total else None,
            "previous": _num(total["previous_value"]) if total else None,
            "change_previous": _num(total["change_previous"]) if total else None,
            "change_baseline": _num(total["change_baseline"]) if total else None,
            "attainment": _num(total["attainment"], 1) if total else None,
            "target_met": total["target_met"] if total else None,
            "summed": bool(total) and total["history"].get("made_by") == "сумма",
            "history": {p: _num(v) for p, v in (total["history"]["periods"] if total else {}).items()},
            "organisations": [{
                "name": names.get(r["organisation_id"], ""), "value": _num(r["value"]),
                "previous": _num(r["previous_value"]), "change_baseline": _num(r["change_baseline"]),
                "attainment": _num(r["attainment"], 1), "target_met": r["target_met"],
                "cluster_position": position_label(r["cluster_position"]) if r["cluster_position"] else "",
            } for r in sorted((r for r in mine if not r["is_total"]),
                              key=lambda r: names.get(r["organisation_id"], ""))],
        })
    return out


def _results(run, kinds) -> dict[str, list[AnalysisResult]]:
    out = {k: [] for k in kinds}
    if run is None:
        return out
    for row in services.results(run, kinds):
        out[row.kind].append(row)
    return out


def report_context(cycle) -> dict:
    run = services.latest_run(cycle)
    kinds = ("marker", "verdict", "municipality_share", "stably_objective", "shnor", "shnsu", "resilient", "cluster",
             "cluster_position", "note")
    # Only the analyses that belong to the cycle's mechanism (app/analysis/sections.py): the upbringing or the
    # preschool report does not repeat the objectivity signs and the ШНОР lists of the results' mechanisms.
    mechanism_code = cycle.track.mechanism.code
    own = sections_for(mechanism_code)
    found = _results(run, tuple(k for k in kinds if k in kinds_for(mechanism_code) or k == "note"))
    for kind in kinds:
        found.setdefault(kind, [])
    school_name = lambda r: r.school.display_name if r.school else ""  # noqa: E731
    # the list of the report is the schools whose verdict is «признаки необъективности выявлены», each with why
    flagged = [{
        "school": school_name(r), "year": r.year, "verdict": (r.payload or {}).get("verdict_label", ""),
        "signs": _text((r.payload or {}).get("signs")), "sign": _text((r.payload or {}).get("signs")),
        "sign_title": "; ".join(e.get("words", "") for e in (r.payload or {}).get("evidence") or []),
        "works": _text((r.payload or {}).get("works")), "combined_p": (r.payload or {}).get("combined_p"),
        "detail": _text((r.payload or {}).get("explanation")),
    } for r in sorted(found["verdict"], key=lambda r: (r.value if r.value is not None else 1.0, school_name(r)))
        if (r.payload or {}).get("verdict") == "flagged"]
    mun_ids = {(r.payload or {}).get("municipality_id") for r in found["municipality_share"]}
    mun_names = {o.id: o.display_name for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_({int(i) for i in mun_ids if i is not None} or {0})))}
    shares = [{
        "municipality": mun_names.get((r.payload or {}).get("municipality_id"),
                                      _text((r.payload or {}).get("municipality_code"))),
        "schools": (r.payload or {}).get("schools"), "flagged": (r.payload or {}).get("flagged"),
        "share_percent": _num((r.value or 0) * 100, 1),
    } for r in found["municipality_share"]]
    labels = {r.school_id: int(r.value) for r in found["cluster"] if r.value is not None}
    clusters = [{
        "school": school_name(r), "cluster": labels.get(r.school_id, 0),
        "value": _num((r.payload or {}).get("value")), "cluster_mean": _num((r.payload or {}).get("cluster_mean")),
        "z": _num(r.value), "position": position_label((r.payload or {}).get("position")),
    } for r in sorted(found["cluster_position"], key=lambda r: (labels.get(r.school_id, 0), school_name(r)))]
    indicators = _indicators(cycle, run)
    stage = cycle.stage("ANL")
    # Evidence and causes follow a label and a colon («Причины: недостаточная …»): a lower-case start (an acronym
    # stays) and one full stop (the template ends the organisations' list with one).
    findings = [{
        "number": n, "problem": f.problem, "causes": ru.sentence(ru.lower_first((f.causes or "").strip())),
        "evidence": ru.sentence(ru.lower_first((f.evidence or "").strip())),
        "organisations": ", ".join(o.display_name for o in f.organisations),
    } for n, f in enumerate(services.findings_of_cycle(cycle), 1)]
    sign_counts: dict[str, int] = {}
    for r in found["marker"]:
        sign_counts[r.sign] = sign_counts.get(r.sign, 0) + 1
    # One chart per indicator the report discusses (every indicator with values): `indicators` is the first,
    # `indicators_2`, `indicators_3`, … the next ones; an indicator without values gets none.
    chart_indicators = [i for i in indicators if i["organisations"]]
    digits = _mean_digits(indicators)
    indicator_charts = {
        ("indicators" if n == 1 else f"indicators_{n}"): (i, charts.indicator_chart(
            i["name"], [(o["name"], o["value"]) for o in i["organisations"]], target=i["target"],
            baseline=i["baseline"], total=i["value"], unit=i["unit"], summed=i["summed"],
            digits=digits, fmt="png"))
        for n, i in enumerate(chart_indicators, 1)}
    if not indicator_charts:
        indicator_charts["indicators"] = (None, charts.indicator_chart("Показатели", [], fmt="png"))
    # «Число организаций, представивших сведения мониторинга показателей»: the organisations with a value in the
    # table, which a reader checks against its «Число ОО» (the M2.1 report said 11 beside a table of 3 schools: it
    # counted the schools of the cluster table too, whose results come from the assessment procedures, not from
    # anything they submitted). The schools whose results the analysis read are a second number, said as such.
    reporting = {o["name"] for i in indicators for o in i["organisations"] if o["value"] is not None}
    reporting.discard("")
    results_read = {r.school_id for rows in found.values() for r in rows if r.school_id is not None}
    conclusions = [p.strip() for p in ((stage.summary or "") if stage else "").split("\n") if p.strip()]
    # A section's chart only over what was calculated: a new cycle's справка, made before any analysis ran, showed
    # the signs' chart with no bars and an empty cluster plot under «Рисунок 8» beside the text «сравнение не
    # проводилось» (walk of 7 December 2026).
    section_charts = {}
    if "objectivity" in own and run is not None:
        section_charts["signs"] = charts.sign_counts_chart(sign_counts, labels=SIGN_TITLES, fmt="png")
        section_charts["flagged_share"] = charts.shares_chart(
            [(s["municipality"], s["share_percent"]) for s in shares],
            title="Доля школ с признаками необъективности, %", fmt="png")
    cluster_points = [(c["cluster"], c["z"], _raw_position(r))
                      for c, r in zip(clusters, _sorted_positions(found, labels)) if c["z"] is not None]
    if "clusters" in own and cluster_points:
        section_charts["clusters"] = charts.cluster_chart(cluster_points, fmt="png")
    return {
        # The keys and shapes the analytic report template reads (documents feature).
        "report": {"intro": _intro(cycle, run, flagged, found, own), "period": cycle.period,
                   "organisations": len(reporting), "schools_read": len(results_read),
                   "sources": _sources(run, own)},
        "indicator_rows": _indicator_rows(indicators),
        "chart_list": [{"name": name, "caption": f"Значения показателя {ru.quote(ind['name'])} по организациям"
                        if ind else "Значения показателей по организациям"}
                       for name, (ind, _png) in indicator_charts.items()]
        + [{"name": name, "caption": caption} for name, caption in CHART_CAPTIONS if name in section_charts],
        # Which sections of the analysis are the mechanism's own; the others print why they are absent.
        "sections": {name: name in own for name in SECTION_KINDS},
        "section_numbers": section_numbers({name: name in own for name in SECTION_KINDS}),
        "elsewhere": dict(ELSEWHERE),
        "conclusions_list": conclusions,
        "period": cycle.period,
        "organisation": cycle.owner.name,
        "organisation_short": cycle.owner.display_name,
        "mechanism": cycle.track_label,
        "cycle_title": cycle.title,
        "run": None if run is None else {
            "number": run.id, "years": list(run.years), "fingerprint": run.fingerprint or "",
            "finished_at": run.finished_at.isoformat() if run.finished_at else "", "message": run.message or "",
        },
        "years": list(run.years) if run else [],
        "indicators": indicators,
        "flagged_schools": flagged,
        "flagged_school_count": len({r["school"] for r in flagged}),
        "flagged_share": shares,
        "stably_objective": sorted(school_name(r) for r in found["stably_objective"]),
        "shnor": [{"school": school_name(r), "reasons": _text((r.payload or {}).get("reasons")),
                   "years": _text((r.payload or {}).get("years"))} for r in found["shnor"]],
        "shnsu": [{"school": school_name(r), "social_index": _num((r.payload or {}).get("social_index")),
                   "factors": _text((r.payload or {}).get("factors"))} for r in found["shnsu"]],
        "resilient": sorted(school_name(r) for r in found["resilient"]),
        "clusters": clusters,
        "notes": [_text((r.payload or {}).get("text")) for r in found["note"]],
        "findings": findings,
        "conclusions": conclusions,
        "charts": {
            **{name: png for name, (_ind, png) in indicator_charts.items()},
            **section_charts,
        },
    }


CHART_CAPTIONS = (("signs", "Признаки необъективности результатов: число случаев по признакам"),
                  ("flagged_share", "Доля школ с признаками необъективности по муниципалитетам"),
                  ("clusters", "Положение школ относительно школ со схожими условиями"))


def _mean_digits(indicators: list[dict]) -> int:
    """The decimals of the table's «Итоговое» column: the precision of the values the mean is computed from, at least
    one. The charts' «в целом» prints the same number («в целом 43» stood under the table's «43,0»)."""
    measured = [o["value"] for ind in indicators if not ru.is_count_unit(ind["unit"])
                for o in ind["organisations"] if o["value"] is not None]
    return max(1, ru.decimals(measured))


def _indicator_rows(indicators: list[dict]) -> list[dict]:
    """The table of indicator values: each column's numbers with one number of decimals (a count stays whole); the
    mean, computed, has the precision of the values it is computed from, and at least one decimal."""
    values = [[o["value"] for o in ind["organisations"] if o["value"] is not None] for ind in indicators]
    units = [ind["unit"] for ind in indicators]
    columns = {key: ru.column([ind[key] for ind in indicators], units) for key in ("baseline", "target")}
    columns["minimum"] = ru.column([min(v) if v else None for v in values], units)
    columns["maximum"] = ru.column([max(v) if v else None for v in values], units)
    columns["mean"] = ru.column([ind["value"] for ind in indicators], units, _mean_digits(indicators))
    return [{"number": str(n), "code": ind["code"], "name": ind["name"], "unit": ind["unit"],
             **{key: column[n - 1] for key, column in columns.items()}, "count": str(len(v))}
            for n, (ind, v) in enumerate(zip(indicators, values), 1)]


def _sources(run, own) -> str:
    """What the report rests on: the indicators' values always; the assessment results and the schools' context
    only where the mechanism's own sections read them and a calculation ran (a preschool report named «ВПР, ОГЭ,
    ЕГЭ» among its sources)."""
    sources = []
    if run is not None and own:
        sources.append("результаты оценочных процедур (ВПР, ОГЭ, ЕГЭ)")
    sources.append("сведения мониторинга показателей")
    if run is not None and own & {"low_results", "clusters"}:
        sources.append("контекстные данные образовательных организаций")
    return ", ".join(sources)


def _subject(cycle) -> str:
    """The direction in words (no Latin code in running text): the track's title, or the mechanism's."""
    mechanism = cycle.track.mechanism
    return ru.quote(cycle.track.title if len(mechanism.tracks) > 1 else mechanism.title)


def _intro(cycle, run, flagged, found, own=frozenset(SECTION_KINDS)) -> str:
    if run is None:
        return (f"Анализ результатов мониторинга по направлению {_subject(cycle)} выполнен по значениям показателей; "
                "статистический расчёт по результатам оценочных процедур не проводился.")
    if not own & {"objectivity", "low_results"}:
        return (f"Анализ результатов мониторинга по направлению {_subject(cycle)} выполнен по значениям показателей"
                + ("; положение школ сопоставлено со школами со схожими условиями" if "clusters" in own else "")
                + ". Признаки необъективности результатов и школы с низкими результатами рассматриваются в справках "
                  "механизмов, к которым они относятся.")
    years = sorted(run.years)
    span = f"{years[0]}–{years[-1]} гг." if len(years) > 1 else f"{years[0]} г."
    # The run's number and input fingerprint identify the computation on the analysis page; a document signed by
    # a head names the data in words (the fingerprint is kept with the run, not printed).
    counts = []
    if "objectivity" in own:
        counts.append(f"школ с признаками необъективности результатов: {len({r['school'] for r in flagged})}")
    if "low_results" in own:
        counts += [f"школ с низкими образовательными результатами: {len(found['shnor'])}",
                   f"школ, функционирующих в неблагоприятных социальных условиях: {len(found['shnsu'])}"]
    return (f"Анализ выполнен по результатам оценочных процедур {span} Выявлено {'; '.join(counts)}. Признаки — "
            "статистические сигналы, требующие внимательного рассмотрения, а не доказательство.")


def _sorted_positions(found, labels):
    name = lambda r: r.school.display_name if r.school else ""  # noqa: E731
    return sorted(found["cluster_position"], key=lambda r: (labels.get(r.school_id, 0), name(r)))


def _raw_position(row) -> str | None:
    return (row.payload or {}).get("position")


def analytic_report(dtype, stage, ctx, **_) -> dict:
    """The analytic report (аналитическая справка): the cycle's indicator values must have been collected."""
    cycle = stage.cycle
    if not cycle.indicators:
        refuse(dtype.title, ["Не задано ни одного показателя."])
    if not indicator_values(cycle):
        refuse(dtype.title, [f"Нет значений показателей за {cycle.period} учебный год: сведения мониторинга "
                             "не собраны."])
    ctx["doc"]["heading"] = f"по результатам мониторинга ({ctx['cycle']['mechanism']}) за {cycle.period} " \
                            "учебный год"
    context = report_context(cycle)
    run = services.latest_run(cycle)
    if run is not None and run.finished_at is not None:
        # the report is not dated before the analysis it reports was computed
        dating.not_before(ctx, local_day(run.finished_at, cycle.owner), "расчёт анализа результатов")
    if not context["conclusions"]:
        context["conclusions"] = _drawn_conclusions(context)
    # The template prints numbers as a Russian reader writes them (decimal comma); the raw ones stay for reuse.
    for row in context["flagged_schools"]:
        # «≈ 1 из 2 000»: the probability in words, not a p-value with four decimals.
        row["p_text"] = chance(row["combined_p"]).replace("вероятность случайно ", "")
    shares, shnsu = context["flagged_share"], context["shnsu"]
    for row, text in zip(shares, ru.column([r["share_percent"] for r in shares], ["%"] * len(shares), 1)):
        row["share_text"] = text
    for row, text in zip(shnsu, ru.column([r["social_index"] for r in shnsu], [None] * len(shnsu), 2)):
        row["social_index_text"] = text
    # The cluster table's columns, each with one number of decimals: the values are the schools' mean percent of
    # completion (the column names «%», as the finding's evidence prints them, «26,9 %»), the deviations in standard
    # deviations with two decimals and a sign. The column printed «70,81» over «53,4» and «0» over «+1,1», a number
    # without its unit under the bare header «Значение» (records-office review, 7 December 2026).
    clusters = context["clusters"]
    percents, plain = ["%"] * len(clusters), [None] * len(clusters)
    for row, value, mean, z in zip(clusters, ru.column([c["value"] for c in clusters], percents, 1),
                                   ru.column([c["cluster_mean"] for c in clusters], percents, 1),
                                   ru.column([c["z"] for c in clusters], plain, 2, sign=True)):
        row.update(value_text=value, cluster_mean_text=mean, z_text=z)
    return context


def _drawn_conclusions(context: dict) -> list[str]:
    """The conclusions the report's own data draw, for a cycle whose analysis stage states none (its summary, which
    the conclusions are otherwise): the справка printed «7. Выводы» over nothing, an empty section above the signature
    (records-office review, 7 December 2026). The indicators against their targets, and the problems of section 6."""
    compared = [i for i in context["indicators"] if i["target_met"] is not None]
    below = [i for i in compared if not i["target_met"]]
    cited = ", ".join(f"{ru.quote(i['name'])} ({i['code']})" for i in below)
    # «из 1 показателя», «из 5 показателей»
    of = ru.plural_form(len(compared), ("показателя", "показателей", "показателей"))
    if len(compared) == 1:
        only = compared[0]
        lines = [f"Целевое значение показателя {ru.quote(only['name'])} ({only['code']}) "
                 + ("не достигнуто." if below else "достигнуто.")]
    elif compared and len(below) == len(compared):
        # never «достигнуты по 0 из 7 показателей» (as the effectiveness report says it)
        lines = [f"Целевые значения не достигнуты ни по одному из {len(compared)} {of}: {cited}."]
    elif compared:
        lines = [f"Целевые значения достигнуты по {len(compared) - len(below)} из {len(compared)} {of}"
                 + ("." if not below else f"; не достигнуто по показателю {cited}." if len(below) == 1
                    else f"; не достигнуты по показателям: {cited}.")]
    else:
        lines = ["Сопоставить значения показателей с целевыми нельзя: нет итоговых значений показателей."]
    if context["findings"]:
        lines.append(f"Выявлено проблем: {len(context['findings'])} (раздел {context['section_numbers']['findings']}).")
    return lines


def section_numbers(sections: dict[str, bool]) -> dict[str, int]:
    """The numbers of the report's sections after «1. Общие сведения» and «2. Значения показателей»: only the
    mechanism's own analyses are printed (`sections`), and the sections after them are numbered on. One count for
    the template's headings and for the conclusions' reference to the problems' section (which said «раздел 6»
    where the problems were section 3)."""
    low = 3 + sections["objectivity"]
    clusters = low + sections["low_results"]
    findings = clusters + sections["clusters"]
    return {"objectivity": 3, "low_results": low, "clusters": clusters, "findings": findings,
            "conclusions": findings + 1}


def register() -> None:
    """Called by the descriptor's setup."""
    register_builder("analytic_report", analytic_report)
