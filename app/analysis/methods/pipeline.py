"""The whole computation of an analysis run (domain.md §8) on frames already read: what the job stores and what
bench/analysis.py times, so the two never drift apart.

The results frame is prepared (aggregates.prepare: integer codes, unit summaries) exactly once here and every
method gets the Prepared frame: each method prepares a plain frame itself, so passing the frame would repeat that
pass (it was five times per run, ≈ 5 % of it). No database access: the caller reads and stores.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.analysis.methods import aggregates, clusters, low_results, objectivity, row_stats, sign_tests, verdicts


@dataclass
class Computed:
    prepared: aggregates.Prepared
    years_with_data: list[int]
    aggregates: pd.DataFrame | None  # None with with_aggregates=False (a fanned-out run's parts stored them)
    markers: objectivity.ObjectivityResult
    tests: pd.DataFrame               # sign_tests.tests_and_sentences: `detail` empty (the verdicts quote theirs)
    judged: list[pd.DataFrame]        # the verdicts of each year with data: the last one is stored and
                                      # explained, the earlier ones only name schools
    stable: list[int]
    shares: pd.DataFrame | None
    low: low_results.LowResults
    clustering: clusters.Clusters
    compared: pd.DataFrame | None


def compute(results, schools: pd.DataFrame, limits, *, boundaries: pd.DataFrame | None, structures: dict | None,
            years, progress=None, keep_tests: bool = True, with_aggregates: bool = True, store=None) -> Computed:
    """Every method over `results` (data.load_results' frame, or a Prepared one); `years`: the run's years;
    `progress(percent)` is told how far the run got (30 after the aggregates, 60 after the verdicts, 75 after the
    low-result lists). `keep_tests=False` (the analysis job, which does not store them) lets the tests go once the
    verdicts and the lists' exclusions are drawn from them, and the markers' unit statistics at once:
    `Computed.tests` and `Computed.markers.units` are then None. `with_aggregates=False` (a fanned-out run's combining
    job: each part stored its own units' aggregates, app/analysis/fanout.py) leaves `Computed.aggregates` None.
    `store(aggregates, markers)` (the analysis job) is given the aggregates and the markers as soon as the markers are
    made, to store them; they are then let go — `Computed.aggregates` and the markers' `markers`, `not_computable` and
    `skipped` are None —, so the signs' tests and the verdicts, the job's peak, are computed without them beside."""
    step = progress or (lambda _percent: None)
    p = aggregates.prepare(results)
    boundaries = boundaries if boundaries is not None and len(boundaries) else None
    unit_years = p.units["year"].to_numpy()
    years_with_data = sorted({int(y) for y in np.unique(unit_years)})

    agg = aggregates.school_aggregates(p) if with_aggregates else None
    step(30)
    markers = objectivity.compute_markers(p, schools, limits, boundaries=boundaries, structures=structures)
    if not keep_tests:
        markers.units = None  # a frame of the region's units (2.5 MB at 2,400 schools) held through the verdicts
    if store is not None:
        # the markers' sentences and the not-computable works (≈ 3.4 MB at 2,400 schools) were held through the
        # verdicts only to be stored after them (bench/analysis.py --scale)
        store(agg, markers)
        agg = markers.markers = markers.not_computable = markers.skipped = None
    # the per-school verdicts of each year with data (signs of that year and the years before it)
    # the tests' sentences are written only for the tests the stored verdicts quote (a few hundred of 65,000)
    tests, sentences = sign_tests.tests_and_sentences(p, schools, limits, boundaries=boundaries,
                                                      structures=structures, release=True)
    row_stats.release(p)  # the signs were the last to read the units' row statistics
    units = p.units
    judged = [verdicts.compute_verdicts(tests, limits, year=y,
                                        schools=units.loc[unit_years == y, "school_id"].unique().tolist(),
                                        explain=y == years_with_data[-1], sentences=sentences)
              for y in years_with_data]
    excluded = verdicts.excluded_units(tests, judged, limits)
    del sentences
    if not keep_tests:
        tests = None
    # the share of flagged schools and the stably objective ones follow the verdicts, not single signs
    named = pd.concat([v.loc[v["verdict"] != verdicts.CLEAR, ["year", "school_id"]] for v in judged]
                      ) if judged else pd.DataFrame({"year": [], "school_id": []})
    stable = objectivity.stably_objective(named, schools, list(years), evaluated=markers.evaluated)
    shares = None
    if years_with_data:
        flagged = judged[-1].loc[judged[-1]["verdict"] == verdicts.FLAGGED, ["year", "school_id"]]
        shares = objectivity.municipality_shares(flagged, schools, p, max(years_with_data))
    step(60)
    low = low_results.compute_low_results(p, schools, excluded, limits)
    step(75)
    clustering = clusters.cluster_schools(schools)
    compared = None
    school_values = _school_results(p.units, years_with_data)
    if len(school_values):
        compared = clusters.compare_with_cluster(school_values, clustering.labels, higher_is_better=True)
    return Computed(prepared=p, years_with_data=years_with_data, aggregates=agg, markers=markers, tests=tests,
                    judged=judged, stable=stable, shares=shares, low=low, clustering=clustering, compared=compared)


def _school_results(units, years):
    """Each school's mean percent of maximum over its subjects and grades in the latest year with data (from the
    units: the aggregates are their copy, and a combining job does not make them)."""
    if units is None or len(units) == 0 or not years:
        return pd.Series(dtype=float)
    latest = units.loc[units["year"] == max(years), ["school_id", "mean_percent"]]
    return latest.groupby("school_id")["mean_percent"].mean().sort_index()
