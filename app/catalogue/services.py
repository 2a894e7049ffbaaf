"""Loading the mechanism catalogue, stage definitions and indicator library from versioned YAML,
and the administrator's additions of region-specific mechanisms and tracks."""

from pathlib import Path

import yaml
from sqlalchemy import select

from app.audit import chain
from app.catalogue.models import (IndicatorGroup, LibraryIndicator, Mechanism, MechanismSet, StageDefinition,
                                  Track)
from app.core.errors import ValidationFailed
from app.extensions import db

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _upsert(row, model, key: dict, values: dict) -> bool:
    """Insert the row or bring it up to date; True when anything changed."""
    if row is None:
        db.session.add(model(**key, **values))
        return True
    if all(getattr(row, name) == value for name, value in values.items()):
        return False
    for name, value in values.items():
        setattr(row, name, value)
    return True


def stage_codes() -> list[str]:
    return list(db.session.scalars(select(StageDefinition.code).order_by(StageDefinition.position)))


def load_stage_definitions(path: Path = DATA_DIR / "stages.yaml") -> int:
    """Upsert the nine stage definitions by code; returns how many rows changed."""
    changed = 0
    for item in _read(path)["stages"]:
        values = {"position": item["position"], "title": item["title"], "description": item.get("description"),
                  "parallel": bool(item.get("parallel", False))}
        changed += _upsert(db.session.get(StageDefinition, item["code"]), StageDefinition, {"code": item["code"]},
                           values)
    db.session.flush()
    return changed


def load_indicator_library(path: Path = DATA_DIR / "indicators.yaml") -> int:
    """Upsert the default indicator library by indicator code."""
    existing = {li.code: li for li in db.session.scalars(select(LibraryIndicator))}
    changed = 0
    for mechanism_code, block in _read(path).items():
        for item in block.get("indicators") or []:
            values = {"mechanism_code": mechanism_code, "name": item["name"], "unit": item["unit"],
                      "formula": item.get("formula"), "source": item.get("source"),
                      "periodicity": item.get("periodicity"), "direction": item["direction"],
                      "group_name": item["group"]}
            code = str(item["code"])
            changed += _upsert(existing.get(code), LibraryIndicator, {"code": code}, values)
    db.session.flush()
    return changed


# Blocks that work on the cycle's own indicators (methods of collection, monitoring, analysis of the data).
INDICATOR_BLOCKS = ("METH", "MON", "ANL")


def _validate_blocks(blocks) -> list[str] | None:
    if not blocks:
        return None
    known = stage_codes()
    unknown = [b for b in blocks if b not in known]
    if unknown:
        raise ValidationFailed(f"Неизвестные блоки цикла: {', '.join(unknown)}.")
    # A partial cycle without its own indicators borrows those of the full cycle it belongs to for measures and
    # effectiveness only: collecting, monitoring and analysing data needs indicators of the cycle itself.
    needs_indicators = [b for b in INDICATOR_BLOCKS if b in blocks]
    if needs_indicators and "IND" not in blocks:
        raise ValidationFailed(f"Блоки {', '.join(needs_indicators)} работают с показателями самого цикла: "
                               "добавьте в неполный цикл блок IND «Показатели» или уберите их.")
    # Keep the cycle's order whatever order the author listed them in.
    return [code for code in known if code in blocks]


def _groups_of(item: dict, group_source: dict) -> list[str]:
    return item.get("groups") or (group_source.get(item.get("groups_from"), {}) or {}).get("groups", [])


def _fill_in(mset: MechanismSet, set_data: dict, group_source: dict) -> None:
    """A set already loaded keeps its content; what the catalogue added later and the set lacks is filled in:
    the counterpart one level up (`upper`) and the required indicator groups of a mechanism that has none."""
    by_code = {m["code"]: m for m in set_data["mechanisms"]}
    filled = []
    for mech in mset.mechanisms:
        item = by_code.get(mech.code)
        if item is None or mech.region_specific:
            continue
        if mech.upper_code is None and item.get("upper"):
            mech.upper_code = item["upper"]
            filled.append(mech.code)
        groups = _groups_of(item, group_source)
        if groups and not mech.indicator_groups:
            mech.indicator_groups = [IndicatorGroup(name=g, position=i) for i, g in enumerate(groups, 1)]
            filled.append(mech.code)
    if filled:
        db.session.flush()
        chain.record(action="fill_in_catalogue", object_type="mechanism_set", object_id=mset.id,
                     actor_role="system", after={"mechanisms": sorted(set(filled))})


def load_mechanism_catalogue(path: Path = DATA_DIR / "mechanisms.yaml",
                             indicators_path: Path = DATA_DIR / "indicators.yaml") -> list[MechanismSet]:
    """Create the sets not yet loaded; a (level, version) already present is left untouched."""
    group_source = _read(indicators_path)
    created = []
    for set_data in _read(path)["sets"]:
        level, version = set_data["level"], str(set_data["version"])
        exists = db.session.scalar(
            select(MechanismSet).where(MechanismSet.level == level, MechanismSet.version == version))
        if exists is not None:
            _fill_in(exists, set_data, group_source)
            continue
        for older in db.session.scalars(select(MechanismSet).where(MechanismSet.level == level)):
            older.active = False
        mset = MechanismSet(level=level, version=version, title=set_data["title"], source=str(path.name))
        for pos, m in enumerate(set_data["mechanisms"], 1):
            mech = Mechanism(code=m["code"], title=m["title"], group=m.get("group"), position=pos,
                             optional=bool(m.get("optional", False)), upper_code=m.get("upper"))
            groups = _groups_of(m, group_source)
            mech.indicator_groups = [IndicatorGroup(name=g, position=i) for i, g in enumerate(groups, 1)]
            tracks = m.get("tracks") or [{"code": "main", "title": m["title"]}]
            mech.tracks = [Track(code=t["code"], title=t["title"], position=i, blocks=_validate_blocks(t.get("blocks")))
                           for i, t in enumerate(tracks, 1)]
            mset.mechanisms.append(mech)
        db.session.add(mset)
        db.session.flush()
        chain.record(action="load_catalogue", object_type="mechanism_set", object_id=mset.id,
                     actor_role="system", after={"level": level, "version": version,
                                                 "mechanisms": [m.code for m in mset.mechanisms]})
        created.append(mset)
    return created


def load_all() -> None:
    load_stage_definitions()
    load_indicator_library()
    load_mechanism_catalogue()


def edition_numbers() -> dict[int, int]:
    """Each set's number among the versions of its level, oldest first: a user reads «версия 2», while the YAML's
    version key («2021.08-70», «2026.1-default») is the loader's identifier, not a word of the screens."""
    numbers: dict[int, int] = {}
    seen: dict[str, int] = {}
    for set_id, level in db.session.execute(select(MechanismSet.id, MechanismSet.level)
                                            .order_by(MechanismSet.loaded_at, MechanismSet.id)):
        seen[level] = seen.get(level, 0) + 1
        numbers[set_id] = seen[level]
    return numbers


def active_set(level: str) -> MechanismSet | None:
    return db.session.scalar(select(MechanismSet).where(MechanismSet.level == level, MechanismSet.active.is_(True)))


def add_mechanism(mset: MechanismSet, *, code: str, title: str, group: str | None, groups: list[str],
                  actor) -> Mechanism:
    """A region-specific mechanism, added by an administrator to a catalogue set, with a full-cycle track."""
    code, title = code.strip(), title.strip()
    if any(m.code == code for m in mset.mechanisms):
        raise ValidationFailed(f"Механизм с кодом «{code}» уже есть в этом перечне.")
    mech = Mechanism(code=code, title=title, group=group, region_specific=True,
                     position=max((m.position for m in mset.mechanisms), default=0) + 1)
    mech.indicator_groups = [IndicatorGroup(name=g, position=i) for i, g in enumerate(groups, 1)]
    mech.tracks = [Track(code="main", title=title, position=1)]
    mset.mechanisms.append(mech)
    db.session.flush()
    chain.record(action="add_mechanism", object_type="mechanism", object_id=mech.id, actor=actor,
                 actor_role="admin", after={"set": mset.id, "code": code, "title": title, "groups": groups})
    return mech


def add_track(mechanism: Mechanism, *, code: str, title: str, blocks: list[str] | None, actor) -> Track:
    code, title = code.strip(), title.strip()
    if any(t.code == code for t in mechanism.tracks):
        raise ValidationFailed(f"Трек с кодом «{code}» уже есть у механизма {mechanism.code}.")
    track = Track(code=code, title=title, blocks=_validate_blocks(blocks),
                  position=max((t.position for t in mechanism.tracks), default=0) + 1)
    mechanism.tracks.append(track)
    db.session.flush()
    chain.record(action="add_track", object_type="track", object_id=track.id, actor=actor, actor_role="admin",
                 after={"mechanism": mechanism.code, "code": code, "title": title, "blocks": track.blocks})
    return track
