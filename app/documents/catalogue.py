"""The catalogue of document types (domain.md §6) as data: `data/document_types.yaml`, validated on load.

Which types evidence which stage, which are mandatory for submitting a stage, who approves and who signs
them are all data; code asks `document_types()`, `types_for_stage(code)` and `mandatory_types(code)`.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from app.auth.roles import ROLES
from app.core.errors import ValidationFailed

CATALOGUE_PATH = Path(__file__).parent / "data" / "document_types.yaml"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "document_templates"

STAGE_CODES = ("GOAL", "IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC", "EFF")
FAMILIES = {"conceptual": "концептуальные", "procedural": "процессуальные", "managerial": "управленческие"}
SIGN_MEANINGS = ("утверждаю", "подписано")
# stage: a document of a cycle's stage; data_request: of a data request of the stage's cycle; owner: of an object of
# a higher feature named by `owner` (its audit_type, registered in app/documents/owners.py), with no stages.
SUBJECTS = ("stage", "data_request", "owner")
FIELDS = ("key", "title", "family", "stages", "mandatory_for", "per_addressee", "approval_route", "signer_roles",
          "sign_meaning", "registered", "template", "subject", "owner")
OPTIONAL_FIELDS = ("cosigner", "level_titles")
# The levels a type may be titled for (Organisation.level of the cycle's owner).
LEVELS = ("regional", "municipal", "school")
# The capacities a second signer may sign in (the signature's meaning; the table's CHECK lists them too).
COSIGN_MEANINGS = ("секретарь",)


@dataclass(frozen=True)
class DocumentType:
    key: str
    title: str
    family: str
    stages: tuple[str, ...]
    mandatory_for: tuple[str, ...]
    per_addressee: bool
    approval_route: tuple[str, ...]
    signer_roles: tuple[str, ...]
    sign_meaning: str
    registered: bool
    template: str
    subject: str
    owner: str | None = None
    # A second signer in a named capacity (the protocol's «секретарь»): the context builder names the person
    # (ctx["cosigner"]), who signs before the signer; both signatures are needed before registration.
    cosigner: str | None = None
    # The document's own title at each level of the cycle's owner, where the type's title names no level («Положение
    # о системе …»: a school's is «о внутренней системе …», a region's «о региональной …»); pairs, the type is hashable.
    level_titles: tuple[tuple[str, str], ...] = ()

    def title_for(self, level: str | None) -> str:
        """The title of a document of this type for a cycle owned at `level` (the type's title where none is set)."""
        return dict(self.level_titles).get(level or "", self.title)

    @property
    def one_per_cycle(self) -> bool:
        """A type mandatory for several stages (the перечень of IND and METH) is one document of the cycle that
        evidences all of them: generated from any of its stages, it is found and made a new edition."""
        return len(self.mandatory_for) > 1 and not self.per_addressee and self.subject == "stage"

    @property
    def family_label(self) -> str:
        return FAMILIES[self.family]

    @property
    def template_path(self) -> Path:
        return TEMPLATES_DIR / f"{self.template}.docx"

    @property
    def sidecar_path(self) -> Path:
        return TEMPLATES_DIR / f"{self.template}.yaml"

    def previous_template_path(self, number: int) -> Path:
        """The shipped template of an earlier version (`previous/<template>.v<N>.docx`), kept when a rebuilt one
        raised the sidecar's version: documents made from it are still re-rendered from it."""
        return TEMPLATES_DIR / "previous" / f"{self.template}.v{number}.docx"


def _codes(entry: dict, field: str, allowed, where: str, problems: list[str], *, allow_empty=True) -> tuple:
    value = entry.get(field)
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: поле «{field}» должно быть списком строк.")
        return ()
    if not value and not allow_empty:
        problems.append(f"{where}: поле «{field}» не может быть пустым.")
    for v in value:
        if v not in allowed:
            problems.append(f"{where}: неизвестное значение «{v}» в поле «{field}» "
                            f"(допустимо: {', '.join(allowed)}).")
    return tuple(value)


def parse_catalogue(data) -> dict[str, DocumentType]:
    """Validate the catalogue's parsed YAML; raises ValidationFailed listing every problem in Russian."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("types"), list):
        raise ValidationFailed("Каталог видов документов: ожидается ключ «types» со списком видов документов.")
    types: dict[str, DocumentType] = {}
    for n, entry in enumerate(data["types"], 1):
        where = f"Вид документа № {n}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: ожидается словарь полей.")
            continue
        key = entry.get("key")
        if isinstance(key, str) and key:
            where = f"Вид документа «{key}»"
        for field in sorted(set(entry) - set(FIELDS) - set(OPTIONAL_FIELDS)):
            problems.append(f"{where}: неизвестное поле «{field}».")
        for field in ("key", "title", "template"):
            if not isinstance(entry.get(field), str) or not entry.get(field).strip():
                problems.append(f"{where}: не заполнено поле «{field}».")
        if isinstance(key, str) and key in types:
            problems.append(f"{where}: ключ повторяется.")
        if isinstance(key, str) and key and not key.replace("_", "").isalnum():
            problems.append(f"{where}: ключ может содержать только латинские буквы, цифры и «_».")
        family = entry.get("family")
        if family not in FAMILIES:
            problems.append(f"{where}: неизвестное семейство «{family}» (допустимо: {', '.join(FAMILIES)}).")
        owned = entry.get("subject") == "owner"
        stages = _codes(entry, "stages", STAGE_CODES, where, problems, allow_empty=owned)
        owner = entry.get("owner")
        if owned and (stages or not isinstance(owner, str) or not owner.strip()):
            problems.append(f"{where}: документ владельца («subject: owner») называет владельца в поле «owner» и не "
                            "относится к этапам цикла.")
        elif not owned and owner is not None:
            problems.append(f"{where}: поле «owner» задаётся только для «subject: owner».")
        mandatory = _codes(entry, "mandatory_for", STAGE_CODES, where, problems)
        for code in mandatory:
            if code not in stages:
                problems.append(f"{where}: обязателен для этапа {code}, но не подтверждает его (нет в «stages»).")
        route = _codes(entry, "approval_route", sorted(ROLES), where, problems)
        signers = _codes(entry, "signer_roles", sorted(ROLES), where, problems, allow_empty=False)
        for field in ("per_addressee", "registered"):
            if not isinstance(entry.get(field), bool):
                problems.append(f"{where}: поле «{field}» должно быть true или false.")
        meaning = entry.get("sign_meaning")
        if meaning not in SIGN_MEANINGS:
            problems.append(f"{where}: поле «sign_meaning» должно быть одним из: {', '.join(SIGN_MEANINGS)}.")
        subject = entry.get("subject", "stage")
        if subject not in SUBJECTS:
            problems.append(f"{where}: поле «subject» должно быть одним из: {', '.join(SUBJECTS)}.")
        cosigner = entry.get("cosigner")
        if cosigner is not None and cosigner not in COSIGN_MEANINGS:
            problems.append(f"{where}: поле «cosigner» — кем подписывает второй подписант: "
                            f"{', '.join(COSIGN_MEANINGS)}.")
        level_titles = entry.get("level_titles") or {}
        if not isinstance(level_titles, dict) or any(
                level not in LEVELS or not isinstance(title, str) or not title.strip()
                for level, title in level_titles.items()):
            problems.append(f"{where}: поле «level_titles» — заголовки документа по уровням "
                            f"({', '.join(LEVELS)}), каждый — непустая строка.")
            level_titles = {}
        if problems:
            continue
        types[key] = DocumentType(
            key=key, title=entry["title"].strip(), family=family, stages=stages, mandatory_for=mandatory,
            per_addressee=entry["per_addressee"], approval_route=route, signer_roles=signers,
            sign_meaning=meaning, registered=entry["registered"], template=entry["template"].strip(),
            subject=subject, owner=owner.strip() if owned else None, cosigner=cosigner,
            level_titles=tuple((level, title.strip()) for level, title in sorted(level_titles.items())))
    if problems:
        raise ValidationFailed("Каталог видов документов содержит ошибки.", problems=problems)
    return types


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, DocumentType]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"Каталог видов документов ({path.name}) не читается как YAML: {exc}") from exc
    return parse_catalogue(data)


@lru_cache(maxsize=1)
def _cached() -> dict[str, DocumentType]:
    return load_catalogue()


def document_types() -> dict[str, DocumentType]:
    """All document types by key, in catalogue order."""
    return dict(_cached())


def get_type(key: str) -> DocumentType:
    try:
        return _cached()[key]
    except KeyError:
        raise ValidationFailed(f"Неизвестный вид документа «{key}».") from None


def cycle_types() -> list[DocumentType]:
    """The types of the cycles' stages (every type but those owned by a higher feature's objects)."""
    return [t for t in _cached().values() if t.subject != "owner"]


def types_of_owner(owner_type: str) -> list[DocumentType]:
    return [t for t in _cached().values() if t.owner == owner_type]


def types_for_stage(code: str) -> list[DocumentType]:
    """The types that evidence the stage `code`, in catalogue order."""
    return [t for t in _cached().values() if code in t.stages]


def mandatory_types(stage_code: str) -> list[DocumentType]:
    """The types a stage needs (at least as a draft) before it can be submitted for review."""
    return [t for t in _cached().values() if stage_code in t.mandatory_for]
