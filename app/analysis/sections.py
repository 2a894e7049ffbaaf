"""Which analyses belong to which mechanism (app/analysis/data/mechanism_analyses.yaml, [default] data).

The same assessment results are computed for every cycle whose owner has schools, but the objectivity signs
belong to the mechanism of assessing the students' preparation (M1.1, MX.1), the low-result and difficult-
condition schools to M1.2, the cluster comparison to those two and to the heads' effectiveness (M2.1): the
analytic report of another mechanism (M2.3 upbringing, M2.4 preschool) does not repeat them, nor do the findings
the demo draws from the computation.
"""

from functools import cache
from pathlib import Path

import yaml

MAPPING_PATH = Path(__file__).parent / "data" / "mechanism_analyses.yaml"

# Result kinds of an analysis run (AnalysisResult.kind) per section of the report.
SECTION_KINDS = {
    "objectivity": ("marker", "verdict", "municipality_share", "stably_objective"),
    "low_results": ("shnor", "shnsu", "resilient"),
    "clusters": ("cluster", "cluster_position"),
}
# The sections in words, for messages.
SECTION_TITLES = {
    "objectivity": "объективность результатов оценочных процедур",
    "low_results": "школы с низкими результатами и в неблагоприятных условиях",
    "clusters": "сравнение школ со схожими условиями",
}
# Shown in the report where a section is not the mechanism's own.
ELSEWHERE = {
    "objectivity": "Объективность результатов оценочных процедур анализируется в механизме оценки качества "
                   "подготовки обучающихся и в этой справке не рассматривается.",
    "low_results": "Школы с низкими образовательными результатами и школы, функционирующие в неблагоприятных "
                   "социальных условиях, анализируются в механизме работы с такими школами и в этой справке не "
                   "рассматриваются.",
    "clusters": "Сравнение результатов школ со схожими условиями к этому механизму не относится и в справке не "
                "приводится.",
}


@cache
def _mapping() -> dict[str, frozenset[str]]:
    data = yaml.safe_load(MAPPING_PATH.read_text(encoding="utf-8")) or {}
    out = {}
    for code, sections in (data.get("mechanisms") or {}).items():
        unknown = set(sections or []) - set(SECTION_KINDS)
        if unknown:
            raise ValueError(f"{MAPPING_PATH.name}: {code}: неизвестные разделы {', '.join(sorted(unknown))}")
        out[str(code)] = frozenset(sections or [])
    return out


def sections_for(mechanism_code: str | None) -> frozenset[str]:
    """The sections of the analysis that belong to the mechanism (empty for one not listed)."""
    return _mapping().get(mechanism_code or "", frozenset())


def kinds_for(mechanism_code: str | None) -> frozenset[str]:
    """The AnalysisResult kinds a report or a finding of the mechanism's cycle may draw on."""
    return frozenset(kind for section in sections_for(mechanism_code) for kind in SECTION_KINDS[section])


def section_of(kind: str) -> str | None:
    """The section an AnalysisResult kind belongs to (None for a kind of no section, e.g. a note)."""
    return next((section for section, kinds in SECTION_KINDS.items() if kind in kinds), None)
