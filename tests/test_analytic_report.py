"""The analytic report (аналитическая справка) gets the whole analysis output: flagged schools with their signs,
the ШНОР / ШНСУ tables, clusters and shares by municipality — built by the analysis feature's context builder,
registered with the documents feature by the analysis descriptor (no key-by-key merge that drops the rest)."""

import io

from docx import Document

from app.analysis import services
from app.analysis.models import AnalysisRun
from app.analysis.report import report_context
from app.analysis.sections import ELSEWHERE
from app.documents import contexts, rendering
from app.jobs.queue import dispatch_ready


def _run(cycle, actor, session) -> AnalysisRun:
    run = services.start_run(cycle, actor=actor)
    session.commit()
    dispatch_ready()
    session.expire_all()
    return session.get(AnalysisRun, run.id)


def _text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_the_analysis_feature_builds_the_analytic_report(app):
    from app.analysis.report import analytic_report

    assert contexts.BUILDERS["analytic_report"] is analytic_report


def test_the_report_carries_every_key_of_the_analysis_output(world, anl_cycle, seeded_results, db_session):
    run = _run(anl_cycle, world["official"], db_session)
    assert run.status == "done", run.message
    analysis = report_context(anl_cycle)
    ctx = contexts.build_context("analytic_report", anl_cycle.stage("ANL"))
    assert set(analysis) <= set(ctx)
    for key in ("flagged_schools", "flagged_share", "shnor", "shnsu", "clusters", "stably_objective", "resilient"):
        assert [{k: v for k, v in row.items() if not k.endswith("_text")} if isinstance(row, dict) else row
                for row in ctx[key]] == analysis[key], key
    assert ctx["flagged_schools"] and ctx["clusters"]

    text = _text(rendering.render("analytic_report", ctx))
    assert "3. Признаки необъективности результатов" in text
    for row in ctx["flagged_schools"]:
        assert row["school"] in text and row["sign_title"] in text
    for row in ctx["clusters"]:
        assert row["school"] in text and row["position"] in text
    for row in ctx["shnor"]:
        assert row["school"] in text
    for row in ctx["shnsu"]:
        assert row["school"] in text
    # The run and its input fingerprint trace the report (kept in the document's data snapshot), but a head's
    # document names the data in words: no run number, no fingerprint in the text.
    assert ctx["run"]["number"] == run.id and ctx["run"]["fingerprint"] == run.fingerprint
    assert f"Расчёт № {run.id}" not in text and run.fingerprint[:16] not in text
    assert "{{" not in text and "{%" not in text


def test_without_an_analysis_run_the_sections_say_so(world, anl_cycle, db_session):
    ctx = contexts.build_context("analytic_report", anl_cycle.stage("ANL"))
    assert ctx["run"] is None and ctx["flagged_schools"] == [] and ctx["shnor"] == []
    text = _text(rendering.render("analytic_report", ctx))
    assert "Школ с признаками необъективности результатов не выявлено." in text
    # ШНОР belong to M1.2 (app/analysis/data/mechanism_analyses.yaml): the M1.1 report says where they are.
    assert ELSEWHERE["low_results"] in text
    assert "Расчёт №" not in text


def _as_mechanism(cycle, code, db_session):
    """The cycle moved to the first track of mechanism `code` (in the test's transaction only)."""
    from sqlalchemy import select

    from app.catalogue.models import Mechanism, Track

    track = db_session.scalars(select(Track).join(Mechanism, Mechanism.id == Track.mechanism_id)
                               .where(Mechanism.code == code, Mechanism.set_id == cycle.track.mechanism.set_id)
                               .order_by(Track.position)).first()
    cycle.track_id = track.id
    db_session.flush()
    db_session.expire(cycle, ["track"])
    return cycle


def test_each_mechanism_gets_only_its_own_analyses(world, anl_cycle, seeded_results, db_session):
    """One computation, three mechanisms: objectivity and clusters in M1.1, ШНОР/ШНСУ and clusters in M1.2,
    neither in M2.3 (upbringing) — whose report says where they belong instead of «не выявлено»."""
    run = _run(anl_cycle, world["official"], db_session)
    assert run.status == "done", run.message
    m11 = report_context(anl_cycle)
    assert m11["flagged_schools"] and m11["clusters"] and m11["shnor"] == [] and m11["shnsu"] == []
    assert m11["sections"] == {"objectivity": True, "low_results": False, "clusters": True}
    assert {c["name"] for c in m11["chart_list"]} >= {"signs", "clusters"}

    m12 = report_context(_as_mechanism(anl_cycle, "M1.2", db_session))
    assert m12["flagged_schools"] == [] and m12["flagged_share"] == [] and m12["clusters"]
    assert m12["shnor"] or m12["shnsu"]
    assert "signs" not in {c["name"] for c in m12["chart_list"]} and "signs" not in m12["charts"]

    ctx = contexts.build_context("analytic_report", _as_mechanism(anl_cycle, "M2.3", db_session).stage("ANL"))
    assert not any(ctx[k] for k in ("flagged_schools", "shnor", "shnsu", "clusters", "stably_objective"))
    assert "рассматриваются в справках механизмов" in ctx["report"]["intro"]
    # an upbringing (or preschool) report rests on its indicators, not on ВПР, ОГЭ, ЕГЭ (docs review)
    assert ctx["report"]["sources"] == "сведения мониторинга показателей"
    assert m11["report"]["sources"] == ("результаты оценочных процедур (ВПР, ОГЭ, ЕГЭ), сведения мониторинга "
                                        "показателей, контекстные данные образовательных организаций")
    text = _text(rendering.render("analytic_report", ctx))
    for section in ("objectivity", "low_results", "clusters"):
        assert ELSEWHERE[section] in text
    # (the findings' section is numbered after the mechanism's own sections: «3.» here, none of the three being its)
    assert "не выявлено" not in text.split("3. Выявленные проблемы")[0]
    db_session.rollback()
