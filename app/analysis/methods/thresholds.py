"""Thresholds of the analytics methods (domain.md §8), read from YAML, never code constants.

The packaged file `app/analysis/data/thresholds.yaml` holds every default with its Russian description.
A region's own file (config `ANALYSIS_THRESHOLDS_FILE`) may list only the values it changes: it is laid
over the defaults and the result is validated as a whole.
"""

from pathlib import Path

import yaml
from flask import current_app

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "thresholds.yaml"

# name → (kind, lower bound, upper bound); "share" is a fraction 0..1, "count" a whole number ≥ bound.
SPEC: dict[str, tuple[str, float | None, float | None]] = {
    "min_participants": ("count", 1, None),
    "k1_z": ("number", 0, None),
    "k1_exam_z": ("number", None, None),
    "k1_exempt_profiles": ("profiles", None, None),
    "k2_easy": ("share", 0, 1),
    "k2_hard": ("share", 0, 1),
    "k2_relative": ("share", 0, 0.5),
    "k2_gap": ("share", 0, 1),
    "k3_heap_ratio": ("number", 1, None),
    "k3_heap_min_count": ("count", 1, None),
    "k3_near_max_level": ("share", 0, 1),
    "k3_near_max_share": ("share", 0, 1),
    "k3_near_max_ratio": ("number", 1, None),
    "k3_spread_ratio": ("share", 0, 1),
    "k4_lowered": ("share", 0, 1),
    "k4_raised": ("share", 0, 1),
    "k5_high_z": ("number", 0, None),
    "k5_drop_z": ("number", 0, None),
    "verdict_min_participants": ("count", 1, None),
    "verdict_fdr": ("share", 0, 1),
    "verdict_watch": ("share", 0, 1),
    "verdict_years": ("count", 1, 10),
    "shnor_worst_share": ("share", 0, 1),
    "shnor_years": ("count", 1, 10),
    "shnor_fail_share": ("share", 0, 1),
    "shnor_fail_subjects": ("count", 1, None),
    "shnsu_worst_share": ("share", 0, 1),
    "resilient_max_quantile": ("share", 0, 1),
    "cluster_k_min": ("count", 1, None),
    "cluster_k_max": ("count", 1, None),
    "cluster_position_z": ("number", 0, None),
}
PROFILES = {"ordinary", "lyceum", "gymnasium", "in_depth"}


class ThresholdsError(ValueError):
    """The thresholds file is missing, unreadable or has a bad value (message in Russian)."""


class Thresholds(dict):
    """name → value, plus `descriptions` (name → Russian text) and `source` (the files read)."""

    def __init__(self, values: dict, descriptions: dict, source: list[str]):
        super().__init__(values)
        self.descriptions = descriptions
        self.source = source


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThresholdsError(f"Файл порогов анализа не найден: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ThresholdsError(f"Файл порогов анализа {path} не прочитан: {exc}") from None
    entries = data.get("thresholds") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ThresholdsError(f"В файле порогов анализа {path} нет раздела «thresholds».")
    out = {}
    for name, entry in entries.items():
        if name not in SPEC:
            raise ThresholdsError(f"Файл порогов анализа {path}: неизвестный порог «{name}».")
        if isinstance(entry, dict):
            if "value" not in entry:
                raise ThresholdsError(f"Файл порогов анализа {path}: у порога «{name}» нет значения (value).")
            out[name] = (entry["value"], entry.get("description"))
        else:
            out[name] = (entry, None)
    return out


def _check(name: str, value):
    kind, low, high = SPEC[name]
    if kind == "profiles":
        if not isinstance(value, list) or not all(isinstance(v, str) and v in PROFILES for v in value):
            raise ThresholdsError(f"Порог «{name}»: нужен список профилей из: {', '.join(sorted(PROFILES))}.")
        return list(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ThresholdsError(f"Порог «{name}»: нужно число, а указано «{value}».")
    if kind == "count" and int(value) != value:
        raise ThresholdsError(f"Порог «{name}»: нужно целое число, а указано {value}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"от {low}" + (f" до {high}" if high is not None else "")
        raise ThresholdsError(f"Порог «{name}» = {value} вне допустимых значений ({bounds}).")
    return int(value) if kind == "count" else float(value)


def load_thresholds(path=None) -> Thresholds:
    """All thresholds of §8: the packaged defaults, overlaid by `path` or by the app's
    ANALYSIS_THRESHOLDS_FILE when set. Raises ThresholdsError (Russian message) on a bad file."""
    if path is None:
        try:
            path = current_app.config.get("ANALYSIS_THRESHOLDS_FILE") or None
        except RuntimeError:  # outside an application context: defaults only
            path = None
    files = [DEFAULT_FILE] + ([Path(path)] if path else [])
    values, descriptions = {}, {}
    for file in files:
        for name, (value, description) in _read(Path(file)).items():
            values[name] = _check(name, value)
            if description:
                descriptions[name] = str(description)
    missing = [name for name in SPEC if name not in values]
    if missing:
        raise ThresholdsError(f"В файлах порогов анализа не заданы пороги: {', '.join(missing)}.")
    if values["k2_hard"] >= values["k2_easy"]:
        raise ThresholdsError("Порог трудных заданий (k2_hard) должен быть ниже порога лёгких (k2_easy).")
    if values["cluster_k_min"] > values["cluster_k_max"]:
        raise ThresholdsError("Наименьшее число кластеров (cluster_k_min) больше наибольшего (cluster_k_max).")
    return Thresholds(values, descriptions, [str(f) for f in files])
