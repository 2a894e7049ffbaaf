"""The analytic report (аналитическая справка) gets the whole analysis output: flagged schools with their signs,
the ШНОР / ШНСУ tables, clusters and shares by municipality — built by the analysis feature's context builder,
registered with the documents feature by the analysis descriptor (no key-by-key merge that drops the rest)."""

import io

from docx import Document

from app.analysis import services
from app.analysis.models import AnalysisRun
from app.analysis.report import report_context
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
    assert "Школ с низкими образовательными результатами не выявлено." in text
    assert "Расчёт №" not in text
