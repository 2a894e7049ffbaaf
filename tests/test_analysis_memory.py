"""The analysis's memory at region scale (issue 15 §4): what grows with a region's units is computed a block at a
time or let go as soon as it is used, with the same numbers to the last bit."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from app.analysis import jobs
from app.analysis.methods import row_stats, stats, tails
from app.analysis.models import AnalysisResult, AnalysisRun
from tests.conftest import counted_statements


def _cases(rows: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 240, rows).astype(float)
    k = np.floor(rng.random(rows) * (n + 3)) - 1
    p = rng.random(rows)
    p[::17], p[::19], p[::23] = 0.0, 1.0, np.nan
    rho = rng.random(rows) * 0.3
    rho[::5] = 0.0
    return k, n, p, rho


def test_the_tails_give_the_same_numbers_in_blocks_of_any_size(monkeypatch):
    k, n, p, rho = _cases(5000)
    whole = tails.binom_sf(k, n, p), tails.betabinom_sf(k, n, p, rho)
    monkeypatch.setattr(tails, "CELLS", 1000)  # four rows a block: every block boundary is crossed
    blocks = tails.binom_sf(k, n, p), tails.betabinom_sf(k, n, p, rho)
    for a, b in zip(whole, blocks):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.isfinite(whole[0]).sum() > 4000 and ((whole[1] > 0) & (whole[1] < 1)).sum() > 1000


@pytest.mark.parametrize("tail", ["binom", "betabinom"])
def test_the_tails_memory_does_not_grow_with_the_number_of_units(tail):
    """A region's units × its largest class were matrices of 80 MB each (50,000 units, classes of 200); in blocks
    the grid's memory is a block's whatever the number of units: 10× the units, not 10× the peak."""
    def peak(rows):
        k, n, p, rho = _cases(rows)
        tracemalloc.start()
        try:
            tails.binom_sf(k, n, p) if tail == "binom" else tails.betabinom_sf(k, n, p, rho)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(4000), peak(40000)
    # the inputs and outputs themselves grow (a few arrays of the units); the grid (240 cells a unit) does not
    assert large < small + 40000 * 8 * 12, (small, large)
    assert large < 40000 * 241 * 8, "a single grid of every unit would be this large"


def test_round2_sums_of_parts_are_the_sums_of_the_whole():
    """K2's round 2 over parts (each with its own units) put together: the same per-unit sums and the same
    (unit, score) pairs as one pass over all rows, also when a part has no rows."""
    rng = np.random.default_rng(3)
    rows, nu, tasks = 3000, 60, 6
    unit = np.sort(rng.integers(0, nu, rows))
    work = unit % 3
    score = rng.integers(0, 12, rows).astype(float)
    block = [rng.integers(0, 3, rows).astype(float) for _ in range(tasks)]
    tmax = np.full((3, tasks), 2.0)
    easy = np.zeros((3, tasks), dtype=bool)
    hard = np.zeros((3, tasks), dtype=bool)
    easy[:, :2], hard[:, 4:] = True, True
    whole = row_stats.k2_sums(unit, work, score, block, nu, tmax, easy, hard)
    owner = unit % 4  # four parts, the units interleaved between them, and an empty fifth
    pieces = [row_stats.k2_sums(unit[owner == m], work[owner == m], score[owner == m],
                                [b[owner == m] for b in block], nu, tmax, easy, hard) for m in range(5)]
    joined = row_stats.Round2.combined(iter(pieces))
    for name in ("cnt", "sum_g", "sum_g2"):
        assert np.array_equal(getattr(joined, name), getattr(whole, name))
    order = np.lexsort((joined.pair_score, joined.pair_unit))
    for name in row_stats.Round2.PAIRS:
        assert np.array_equal(getattr(joined, name)[order], getattr(whole, name)), name
    assert row_stats.Round2.combined(iter([])) is None


def test_the_signs_let_go_of_each_unit_statistic_once_its_last_sign_has_read_it(monkeypatch):
    """The combining job's peak was the signs (issue 15 §4): K2's round 2 ran while the per-task sums of every unit
    were held, K4, K1 and K5 while the score counts were, and the tests' frames were joined with every part still
    held. The run lets each array go when its last reader has run, with the same tests to the last bit."""
    from app.analysis.methods import aggregates, data, pipeline, sign_tests
    from app.analysis.methods.synthetic import generate_region
    from app.analysis.methods.thresholds import load_thresholds

    region = generate_region(seed=5, n_schools=40, size_range=(8, 90))
    frame = data.without_task_text(region.results)
    th = load_thresholds()
    seen = {}

    def watch(module, name, key, check):
        real = getattr(module, name)

        def watched(p, *args, **kwargs):
            seen[key] = check(p)
            return real(p, *args, **kwargs)

        monkeypatch.setattr(module, name, watched)

    def released(*names):
        return lambda p: [name for name in names if getattr(p.cache["unit_rows"], name) is not None]

    watch(row_stats, "k2_units", "round 2", released("task_sum", "task_cnt", "task_max", "n_tasks"))
    # K4 per pupil (term_shape.py) reads the scores' maxima and the marks' boundaries: they go after it
    watch(sign_tests, "_k4", "K4", lambda p: released("hist")(p) + [
        name for name in ("region_scores", "k2_round") if name in p.cache])
    watch(sign_tests, "_k1_k5", "K1 and K5", released("term", *row_stats.CELLS, "max_score", "mark_min"))
    years = sorted(frame["year"].unique().tolist())
    done = pipeline.compute(frame, region.schools, th, boundaries=None, structures=None, years=years)
    assert seen == {"round 2": [], "K4": [], "K1 and K5": []}, "still held when the next sign ran"
    assert "unit_rows" not in done.prepared.cache
    # what the arrays were let go of changes no number: the same tests as the signs computed alone, none let go
    alone, _sentences = sign_tests.tests_and_sentences(aggregates.prepare(frame), region.schools, th)
    assert (alone["sign"] == "K2").sum() > 100 and alone["sign"].nunique() == 5
    assert done.tests.equals(alone) and done.tests.dtypes.equals(alone.dtypes)


def test_blockwise_helpers_give_the_same_numbers_and_codes(monkeypatch):
    """The normal tails and the sorted factorisation taken a block at a time give what one pass gives."""
    rng = np.random.default_rng(11)
    p = rng.random(10000)
    p[::13], p[::29], p[::31] = np.nan, 0.0, 1.0
    z = rng.normal(size=10000) * 4
    z[::17] = np.nan
    labels = rng.choice(np.array(["K4", "K1", "K2", "K3", "K5"], dtype=object), 10000)
    ids = rng.integers(1, 5000, 10000)
    whole = tails.normal_isf(p), tails.normal_sf(z), pd.factorize(labels, sort=True), pd.factorize(ids, sort=True)
    monkeypatch.setattr(tails, "VALUES", 700)
    monkeypatch.setattr(stats, "BLOCK", 333)
    blocks = tails.normal_isf(p), tails.normal_sf(z), stats.factorize_sorted(labels), stats.factorize_sorted(ids)
    assert np.array_equal(whole[0], blocks[0], equal_nan=True) and np.array_equal(whole[1], blocks[1], equal_nan=True)
    for (codes, uniques), (b_codes, b_uniques) in zip(whole[2:], blocks[2:]):
        assert np.array_equal(codes, b_codes) and list(uniques) == list(b_uniques)
        assert b_uniques.dtype == uniques.dtype


@pytest.fixture(scope="module")
def region_tests():
    from app.analysis.methods import aggregates, data, sign_tests
    from app.analysis.methods.synthetic import generate_region
    from app.analysis.methods.thresholds import load_thresholds

    region = generate_region(n_schools=300, n_municipalities=10, years=(2024, 2025), seed=16, students=20)
    prepared = aggregates.prepare(data.without_task_text(region.results))
    th = load_thresholds()
    tests, sentences = sign_tests.tests_and_sentences(prepared, region.schools, th)
    return region, prepared, th, tests, sentences


def test_the_verdicts_hold_little_beside_the_region_tests(region_tests, monkeypatch):
    """The last year's verdicts were the combining job's peak at 16× (issue 15 §4, bench/analysis.py --scale): the
    window's copy of the tests beside each sign's factorisation of a whole column (a hash table of several MB for
    half a dozen signs) and the normal quantiles' Python floats, ≈ 1.75× the tests' frame. Blockwise (blocks small
    here, so that a region of 16,000 tests has many, as a region of 130,000 has at the default sizes) and with the
    window's tests let go once read: ≈ 1.4×."""
    from app.analysis.methods import verdicts

    _region, _prepared, th, tests, sentences = region_tests
    monkeypatch.setattr(tails, "VALUES", 4096, raising=False)
    monkeypatch.setattr(stats, "BLOCK", 2048, raising=False)
    size = tests.memory_usage(deep=False).sum()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        verdicts.compute_verdicts(tests, th, year=2025, explain=True, sentences=sentences)
        extra = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert len(tests) > 10000
    assert extra < 1.55 * size, extra / size


def test_the_markers_frame_takes_each_sign_sentences_once(region_tests, monkeypatch):
    """The markers' sentences were all rewritten (decimal commas) at once beside the originals: ≈ 2.1× the frame
    while it was made, the second peak of the combining job. Part by part, each original let go: ≈ 0.85×."""
    from app.analysis.methods import objectivity

    region, prepared, th, _tests, _sentences = region_tests
    made = objectivity._markers_frame
    seen = []

    def measured(units, parts):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            frame = made(units, parts)
            seen.append((tracemalloc.get_traced_memory()[1] - base, frame.memory_usage(deep=True).sum()))
        finally:
            tracemalloc.stop()
        return frame

    monkeypatch.setattr(objectivity, "_markers_frame", measured)
    markers = objectivity.compute_markers(prepared, region.schools, th).markers
    (extra, size), = seen
    assert len(markers) > 300 and markers["detail"].str.contains(",").any()
    assert extra < 1.2 * size, extra / size


def test_the_job_computation_lets_go_of_what_it_does_not_store(region_tests):
    """The analysis job (keep_tests=False) stores neither the tests nor the markers' unit statistics: both are let
    go (the units' frame at once, not held through the verdicts), the stored frames the same."""
    from app.analysis.methods import data, pipeline

    region, _prepared, th, _tests, _sentences = region_tests
    frame = data.without_task_text(region.results)
    kept = pipeline.compute(frame, region.schools, th, boundaries=None, structures=None, years=[2024, 2025])
    job = pipeline.compute(frame, region.schools, th, boundaries=None, structures=None, years=[2024, 2025],
                           keep_tests=False)
    assert job.tests is None and job.markers.units is None and len(kept.markers.units) > 1000
    assert job.markers.markers.equals(kept.markers.markers) and job.judged[-1].equals(kept.judged[-1])
    assert job.low.shnor.equals(kept.low.shnor)


def test_k2_reorders_a_fanned_out_run_pairs_one_array_at_a_time(region_tests, monkeypatch):
    """A fanned-out run's (unit, score) pairs of K2's round 2 come part by part and are put in the single frame's
    order: the four arrays re-ordered at once held the region's pairs twice (≈ 10 MB at 2,400 schools, the combining
    job's peak in the signs). One at a time, each old copy let go: the same numbers, about half the extra memory."""
    from app.analysis import fanout
    from app.analysis.methods import aggregates, data, sign_tests

    region, _prepared, th, _tests, _sentences = region_tests
    frame = data.without_task_text(region.results).sample(frac=1.0, random_state=3).reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1, dtype=np.int64))
    municipality = dict(zip(region.schools["id"], region.schools["municipality_id"]))
    blobs = [fanout.stage_part(part, th["k3_near_max_level"], jobs.school_digests(part))
             for _m, part in frame.groupby(frame["school_id"].map(municipality), sort=True)]
    merged = fanout.merge_parts(iter(blobs))
    real = row_stats.k2_units
    seen = []

    def measured(p, tmax, easy, hard):
        made = [fanout.round2(iter(blobs), merged, tmax, easy, hard)]  # before the tracing: given away once read
        pairs = sum(getattr(made[0], name).nbytes for name in row_stats.Round2.PAIRS)
        p.cache["k2_round"] = lambda *_args: made.pop()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            out = real(p, tmax, easy, hard)
            seen.append((tracemalloc.get_traced_memory()[1] - base, pairs))
        finally:
            tracemalloc.stop()
        return out

    monkeypatch.setattr(row_stats, "k2_units", measured)
    split, _s = sign_tests.tests_and_sentences(merged.prepared, region.schools, th)
    (extra, pairs), = seen
    monkeypatch.setattr(row_stats, "k2_units", real)
    whole, _s = sign_tests.tests_and_sentences(aggregates.prepare(frame.drop(columns="id")), region.schools, th)
    assert split.equals(whole) and (split["sign"] == "K2").sum() > 1000
    assert extra < 2.8 * pairs, extra / pairs  # 3.5× before, 2.3× now (the sort, the expected g and its products)


def test_a_large_kind_is_inserted_in_several_statements_in_the_order_made(world, anl_cycle, db_session,
                                                                          monkeypatch):
    run = AnalysisRun(cycle_id=anl_cycle.id, organisation_id=world["region"].id, years=[2026], status="running",
                      progress=0, params={})
    db_session.add(run)
    db_session.flush()
    school = world["school_a"].id
    frame = pd.DataFrame({"school_id": school, "year": 2026, "subject": "Русский язык «ВПР»",
                          "mean_percent": np.arange(5000) / 7})
    monkeypatch.setattr(jobs.StoredRows, "STATEMENT_BYTES", 64 * 1024)
    rows = jobs.StoredRows()
    with counted_statements() as statements:
        rows.add(jobs.frame_rows(frame, "aggregate", run.id, value_column="mean_percent"))
        rows.store()
    assert rows.count == {"aggregate": 5000}
    # ≈ 230 bytes a row (its payload's JSON inside the row's): 64 KB ≈ 280 rows a statement, not one a row
    assert 10 <= len(statements) <= 30, len(statements)
    stored = db_session.execute(select(AnalysisResult.value, AnalysisResult.payload)
                                .where(AnalysisResult.run_id == run.id).order_by(AnalysisResult.id)).all()
    assert [v for v, _p in stored] == (np.arange(5000) / 7).tolist()
    assert {p["subject"] for _v, p in stored} == {"Русский язык «ВПР»"}


def test_the_job_stores_the_markers_before_the_verdicts_and_holds_them_no_longer(world, anl_cycle, seeded_results,
                                                                                 db_session, monkeypatch):
    """The markers' sentences and the not-computable works were held through the signs' tests and the verdicts —
    the job's peak — only to be stored after them (≈ 3.4 MB at 2,400 schools). They are stored as soon as they are
    made, with the aggregates, and let go: when the verdicts run they are in the database and no longer in memory;
    the stored rows are the same, in the same order of kinds."""
    import weakref

    from sqlalchemy import func

    from app.analysis.methods import objectivity, verdicts
    from tests.test_analysis_app import run_job

    made, seen = [], []
    real_markers, real_verdicts = objectivity.compute_markers, verdicts.compute_verdicts

    def markers(*args, **kwargs):
        out = real_markers(*args, **kwargs)
        made.append(weakref.ref(out.markers))
        return out

    def judged(*args, **kwargs):
        if not seen:
            seen.append((dict(db_session.execute(select(AnalysisResult.kind, func.count()).group_by(
                AnalysisResult.kind)).all()), made[0]() is None))
        return real_verdicts(*args, **kwargs)

    monkeypatch.setattr(objectivity, "compute_markers", markers)
    monkeypatch.setattr(verdicts, "compute_verdicts", judged)
    run = run_job(anl_cycle, world["official"], db_session)
    assert run.status == "done", run.message
    (before, let_go), = seen
    stored = dict(db_session.execute(select(AnalysisResult.kind, func.count()).where(
        AnalysisResult.run_id == run.id).group_by(AnalysisResult.kind)).all())
    assert stored["marker"] > 0 and stored["aggregate"] > 0
    assert before == {kind: stored[kind] for kind in ("aggregate", "marker", "not_computable", "skipped")
                      if kind in stored}
    assert let_go, "the markers' frame is still held while the verdicts are computed"
    kinds = db_session.scalars(select(AnalysisResult.kind).where(AnalysisResult.run_id == run.id)
                               .order_by(AnalysisResult.id)).all()
    order = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert order[:2] == ["aggregate", "marker"] and order.index("verdict") > order.index("marker")
    assert len(order) == len(set(order)), "each kind's rows are stored together"


def test_a_run_failing_after_its_markers_were_stored_keeps_no_results(world, anl_cycle, seeded_results, db_session,
                                                                      monkeypatch):
    from sqlalchemy import func

    from app.analysis.methods import verdicts
    from tests.test_analysis_app import run_fails_and_keeps_no_results

    def broken(*_args, **_kwargs):
        assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
            AnalysisResult.kind == "marker")) > 0
        raise RuntimeError("boom")

    monkeypatch.setattr(verdicts, "compute_verdicts", broken)
    run_fails_and_keeps_no_results(anl_cycle, world["official"], db_session)


def _k4_cells(frame) -> pd.DataFrame:
    """The rows with both marks per (school, work, primary score, term mark 2..5), counted by pandas: what K4 per
    pupil reads, made without row_stats."""
    both = frame.dropna(subset=["mark", "term_mark"])
    return both.assign(score=both["primary_score"].clip(lower=0).astype(int),
                       term=both["term_mark"].clip(2, 5).astype(int)).groupby(
        ["school_id", "year", "procedure", "subject", "grade", "score", "term"]).size()


def test_k4_cells_hold_one_work_at_a_time_in_the_shape_tests(region_tests, monkeypatch):
    """K4 per pupil held, beside its units × scores × 4 counts, each non-empty cell's unit, work, score, mark, term
    and count over the whole region (the combining job's peak at 16× a region: 41.6 → 76.7 MB, bench/analysis.py
    --scale). Its cells are now only the non-empty ones and the model takes them a work at a time: the extra memory
    is the largest work's arrays, not the region's, with the same tests."""
    from app.analysis.methods import aggregates, data, sign_tests

    region, _prepared, th, tests, _sentences = region_tests
    cells = len(_k4_cells(data.without_task_text(region.results)))
    real = sign_tests._k4_shape
    seen = []

    def measured(p, *args):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            out = real(p, *args)
            seen.append(tracemalloc.get_traced_memory()[1] - base)
        finally:
            tracemalloc.stop()
        return out

    monkeypatch.setattr(sign_tests, "_k4_shape", measured)
    again, _s = sign_tests.tests_and_sentences(aggregates.prepare(data.without_task_text(region.results)),
                                               region.schools, th)
    (extra,) = seen
    assert again.equals(tests) and ((tests["sign"] == "K4") & (tests["kind"] == "shape")).sum() > 1000
    # twelve works here: ≈ 38 bytes a cell of the region, where the region's arrays took ≈ 108
    assert cells > 50000 and extra < 70 * cells, extra / cells


def test_k4_cells_merged_from_municipalities_stay_exact_past_the_narrow_types():
    """The cells are kept as narrow integers (a cell's count and score fit a byte or two): a unit of 70,000 pupils
    with one score and term mark, and a score of 300, in one municipality beside small ones elsewhere, merge into
    the region's cells with every count and score exact — as one frame of the region counts them, and as pandas
    does."""
    from app.analysis import fanout
    from app.analysis.methods import aggregates

    def rows(school, n, score, term, seed):
        rng = np.random.default_rng(seed)
        s = np.full(n, score) if np.ndim(score) == 0 else score
        return pd.DataFrame({"year": 2025, "procedure": "ВПР", "subject": "Математика", "grade": 5,
                             "school_id": school, "primary_score": s.astype(float), "max_score": 320.0,
                             "mark": np.where(s >= 150, 4.0, 3.0), "term_mark": term if np.ndim(term) else
                             np.full(n, float(term)), "task_scores": None, "seed": rng.random(n)})

    small = [rows(100 + k, 40, np.arange(40) % 17, np.arange(40) % 4 + 2.0, k) for k in range(3)]
    huge = [rows(200, 70000, 250, 4.0, 7), rows(200, 3, np.array([300, 300, 2]), np.array([5.0, 5.0, 2.0]), 8),
            rows(201, 50, np.arange(50) * 6, np.arange(50) % 4 + 2.0, 9)]
    parts = [pd.concat(small, ignore_index=True), pd.concat(huge, ignore_index=True)]
    whole = pd.concat(parts, ignore_index=True).sort_values("seed", kind="stable").drop(columns="seed")
    whole.insert(0, "id", np.arange(1, len(whole) + 1, dtype=np.int64))
    blobs = [fanout.stage_part(whole[whole["school_id"].isin(part["school_id"].unique())], 0.9,
                               jobs.school_digests(whole)) for part in parts]
    merged = row_stats.of(fanout.merge_parts(iter(blobs)).prepared)
    single_p = aggregates.prepare(whole.drop(columns="id"))
    single = row_stats.of(single_p)
    for name in row_stats.CELLS:
        assert np.array_equal(getattr(merged, name), getattr(single, name)), name
    assert merged.cell_count.max() == 70000 and merged.cell_score.max() == 300
    units = single_p.units
    counted = pd.Series(merged.cell_count.astype(np.int64), index=pd.MultiIndex.from_arrays(
        [units["school_id"].to_numpy()[merged.cell_unit], units["year"].to_numpy()[merged.cell_unit],
         units["procedure"].to_numpy()[merged.cell_unit], units["subject"].to_numpy()[merged.cell_unit],
         units["grade"].to_numpy()[merged.cell_unit], merged.cell_score.astype(int), merged.cell_term + 2]))
    expected = _k4_cells(whole.drop(columns="id"))
    assert counted.sort_index().to_numpy().tolist() == expected.sort_index().to_numpy().tolist()
    assert counted.sort_index().index.tolist() == expected.sort_index().index.tolist()
