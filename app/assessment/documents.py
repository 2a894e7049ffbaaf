"""The documents of an assessment campaign (issue 16, item 9), made through the documents feature — its catalogue,
Word templates, approval, signature, registration and journals:

- the regional order on the campaign (`assessment_order`, owned by the campaign): the window, the order of the
  assessment, the mechanisms, the municipal coordinators and the regional experts as appendices;
- the expert's conclusion on one municipality (`expert_conclusion`, owned by the campaign's municipality row):
  scores per mechanism and block of the approved expert evaluations, the level, the justification and the
  recommendations;
- the region's analytical report on the campaign (`assessment_report`, owned by the campaign): the heat map as a
  table, problem zones, factors, dynamics and recommended measures. It is the mandatory document of the closing:
  workflows/assessment_campaign.py refuses to close the campaign until it is registered.

The documents feature knows nothing of this package: `register()` (the descriptor's setup) declares the two owner
kinds and their context builders (app/documents/owners.py). The builders return plain primitives and refuse with
what is missing, like every builder of app/documents/contexts.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.assessment import picture, picture_charts
from app.assessment.picture import SOURCE_LABELS
from app.assessment.criteria import level_label, level_of
from app.assessment.models import LEVELS, Assignment, Campaign, CampaignMunicipality, EvidenceItem, Expert, Score
from app.auth.models import User
from app.catalogue.models import Mechanism, MechanismSet, StageDefinition
from app.core import dating
from app.core import russian as ru
from app.core.errors import NotFound, ValidationFailed
from app.documents import contexts, owners
from app.documents import services as document_services
from app.documents.contexts import DASH, LEGAL_BASIS_INSTRUMENTAL, local_day, name_genitive, number_rows, person, refuse
from app.documents.models import Document
from app.extensions import db
from workflows.document import recorded

ORDER, CONCLUSION, REPORT = "assessment_order", "expert_conclusion", "assessment_report"
CAMPAIGN_TYPES = (ORDER, REPORT)
PROBLEM_PERCENT = 50  # a block below this share of its maximum is a problem zone (issue 16, item 7)
REPORT_DAYS = 14  # the analytical report is due two weeks after the window closes
# What an expert recommends for a block of the cycle that scored below PROBLEM_PERCENT (domain.md §7).
BLOCK_ADVICE = {
    "GOAL": "уточнить цели муниципальной системы, обосновать их результатами предыдущего цикла и проверить их "
            "реалистичность",
    "IND": "дополнить перечень показателей так, чтобы он охватывал все обязательные группы, и утвердить его",
    "METH": "описать методы сбора и обработки информации по каждому показателю и закрепить ответственных",
    "MON": "провести мониторинг показателей по утверждённому перечню в установленные сроки и закрыть все "
           "запросы сведений",
    "ANL": "подготовить аналитическую справку по результатам мониторинга с выводами о проблемных зонах",
    "REC": "разработать адресные рекомендации образовательным организациям по результатам анализа",
    "MEAS": "утвердить комплекс мер с ответственными и сроками и обеспечить их исполнение",
    "DEC": "принять управленческие решения по результатам анализа с указанием сроков, ответственных и участников",
    "EFF": "провести анализ эффективности принятых мер и учесть его выводы при постановке целей следующего цикла",
}


def _criteria_title(cset) -> str:
    """The criteria set as an order or a conclusion cites it: a set loaded before 5 December 2026 is titled
    «… (по умолчанию)», a word of the system's screens, never of a document."""
    return cset.title.removesuffix(" (по умолчанию)").strip()


def _by_criteria(cset) -> str:
    """«по критериям …» as the order, the conclusion and the report cite the set: a title that itself begins with
    «Критерии» continues the phrase («по критериям оценки муниципальных механизмов …»); quoted after «по критериям»
    it read «по критериям «Критерии оценки …»»."""
    title = _criteria_title(cset)
    head, _, rest = title.partition(" ")
    # only a continuation in the genitive («оценки …», «эффективности …») reads on after «по критериям»: a title
    # such as «Критерии и показатели оценки …» would read «по критериям и показатели», so it stays quoted
    if head.lower() == "критерии" and rest[:1].islower() and rest.split(" ", 1)[0] not in ("и", "или"):
        return f"по критериям {rest}"
    return f"по критериям {ru.quote(title)}"


# --- the owners ------------------------------------------------------------------------------------------------

def _campaign_title(campaign: Campaign) -> str:
    return campaign.title


def _municipality_title(row: CampaignMunicipality) -> str:
    return f"{row.municipality.display_name}, {row.campaign.title}"


def _report_due(campaign: Campaign) -> date:
    return campaign.window_closes + timedelta(days=REPORT_DAYS)


def _conclusion_signer(dtype, row: CampaignMunicipality) -> User | None:
    """The expert whose approved evaluation of the municipality the conclusion reports (the first of them)."""
    approved = _approved(row)
    return approved[0].expert_user if approved else None


def _creator(campaign: Campaign) -> User | None:
    return db.session.get(User, campaign.created_by_id) if campaign.created_by_id else None


def _sample_campaign() -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.state != "draft").order_by(Campaign.id.desc()))


def _sample_municipality() -> CampaignMunicipality | None:
    row = db.session.scalar(select(CampaignMunicipality).join(Assignment, (
        Assignment.campaign_id == CampaignMunicipality.campaign_id)
        & (Assignment.municipality_id == CampaignMunicipality.municipality_id))
        .where(Assignment.state == "approved").order_by(CampaignMunicipality.id.desc()))
    return row


def _municipalities(ids) -> list[CampaignMunicipality]:
    """The campaign's municipality rows by id with the municipality (the subject of their conclusions)."""
    return list(db.session.scalars(select(CampaignMunicipality).where(CampaignMunicipality.id.in_(ids))
                                   .options(selectinload(CampaignMunicipality.municipality))))


def register() -> None:
    """Declare the campaign and its municipalities as owners of documents (the descriptor's setup)."""
    owners.register_owner(owners.OwnerKind(
        owner_type=Campaign.audit_type, load=lambda i: db.session.get(Campaign, i),
        issuer=lambda c: c.organisation, title=_campaign_title, due=_report_due,
        url=lambda c: url_for("assessment.campaign_detail", campaign_id=c.id) + "#campaign-documents",
        builders={ORDER: _order, REPORT: _report}, executor=_creator, sample=_sample_campaign))
    owners.register_owner(owners.OwnerKind(
        owner_type=CampaignMunicipality.audit_type, load=lambda i: db.session.get(CampaignMunicipality, i),
        load_many=_municipalities,
        issuer=lambda row: row.campaign.organisation, title=_municipality_title,
        due=lambda row: row.campaign.window_closes,
        url=lambda row: url_for("assessment.campaign_detail", campaign_id=row.campaign_id) + "#campaign-documents",
        builders={CONCLUSION: _conclusion}, signer=_conclusion_signer, subject=lambda row: row.municipality,
        outdated={CONCLUSION: conclusion_outdated},
        executor=lambda row: _conclusion_signer(None, row), sample=_sample_municipality))


# --- shared look-ups -------------------------------------------------------------------------------------------

def mechanism_titles(codes) -> dict[str, str]:
    """Mechanism code → its title in the active municipal catalogue (documents name mechanisms in words)."""
    rows = db.session.execute(select(Mechanism.code, Mechanism.title).join(Mechanism.mechanism_set)
                              .where(Mechanism.code.in_(list(codes)), MechanismSet.active.is_(True))
                              .order_by(MechanismSet.level.desc(), Mechanism.position))
    titles: dict[str, str] = {}
    for code, title in rows:
        titles.setdefault(code, title)
    return {code: titles.get(code, code) for code in codes}


def block_titles() -> dict[str, str]:
    return dict(db.session.execute(select(StageDefinition.code, StageDefinition.title)
                                   .order_by(StageDefinition.position)).all())


def _mechanism_words(title: str) -> str:
    return ru.quote(title)


def _approved(row: CampaignMunicipality) -> list[Assignment]:
    """The municipality's approved evaluations in the order the experts were assigned (the order the conclusion's
    experts sign in; by approval it changed each time an evaluation was approved anew)."""
    return list(db.session.scalars(select(Assignment).where(
        Assignment.campaign_id == row.campaign_id, Assignment.municipality_id == row.municipality_id,
        Assignment.state == "approved").order_by(Assignment.id)))


def _scores(campaign_id: int, municipality_id: int | None = None) -> list[Score]:
    query = select(Score).where(Score.campaign_id == campaign_id).options(selectinload(Score.criterion))
    if municipality_id is not None:
        query = query.where(Score.municipality_id == municipality_id)
    return list(db.session.scalars(query))


def _percent(points: int, maximum: int) -> float | None:
    # In tenths, as the evaluation page and the region picture round it (picture._percent), the level read from the
    # same rounded number: the conclusion printed «95 %» where the page showed «95,5 %».
    return round(100 * points / maximum, 1) if maximum else None


def _tenths(value: float | None) -> str:
    """«56,6 %», «54,0 %»: a percent with the one decimal a difference in tenths of a point is computed from."""
    return f"{ru.number(value, 1, fixed=True)} %" if value is not None else DASH


def _day(moment, org) -> date | None:
    return local_day(moment, org)


# --- (a) the order --------------------------------------------------------------------------------------------

def _order(dtype, campaign: Campaign, ctx, *, params, **_):
    problems = []
    if not campaign.municipalities:
        problems.append("Не выбраны оцениваемые муниципалитеты.")
    missing = [m.municipality.display_name for m in campaign.municipalities if m.coordinator is None]
    if missing:
        problems.append(f"Не назначены муниципальные координаторы: {', '.join(missing)}.")
    if not campaign.assignments:
        problems.append("Не назначены региональные эксперты.")
    if problems:
        refuse(dtype.title, problems)
    start, end = campaign.window_start, campaign.window_closes
    # Self-assessment takes the first two thirds of the window, the expert evaluation the rest.
    self_due = start + (end - start) * 2 // 3
    report_due = _report_due(campaign)
    titles = mechanism_titles(campaign.mechanisms)
    executor = person(_creator(campaign))
    dating.not_after(ctx, start, "мониторинг механизмов управления качеством образования")
    dating.deadline(ctx, self_due, "представление самооценки муниципалитетами")
    ctx["doc"]["heading"] = (f"О проведении мониторинга муниципальных механизмов управления качеством "
                             f"образования в {campaign.period} учебном году")
    ctx["doc"]["period"] = campaign.period
    # One municipality (its one coordinator) or one expert is named in the singular: «Ответственные: муниципальные
    # координаторы» over a single coordinator of appendix № 2 (edge review of 7 December 2026).
    one_municipality = len(campaign.municipalities) == 1
    one_expert = len({a.expert_id for a in campaign.assignments}) == 1
    coordinators_words, to_coordinators = (("муниципальный координатор", "Координатору") if one_municipality else
                                           ("муниципальные координаторы", "Координаторам"))
    experts_words, to_experts = ("региональный эксперт", "Эксперту") if one_expert else ("региональные эксперты",
                                                                                           "Экспертам")
    appoint_coordinators = ("муниципального координатора мониторинга" if one_municipality else
                            "состав муниципальных координаторов мониторинга")
    appoint_experts = ("регионального эксперта и его закрепление" if one_expert else
                       "состав региональных экспертов и их закрепление")
    conclusions_words = ("заключение по муниципальному образованию" if one_municipality else
                         "заключения по муниципальным образованиям")
    items = [
        {"text": f"Провести мониторинг муниципальных механизмов управления качеством образования (далее — "
                 f"мониторинг) {_window(campaign)} в порядке, установленном приложением № 1 к "
                 "настоящему приказу.", "executor": executor, "deadline": ru.date_short(end)},
        {"text": f"Утвердить {appoint_coordinators} (приложение № 2). {to_coordinators} "
                 "представить самооценку механизмов с подтверждающими документами в системе УКО-Цикл.",
         "executor": f"{coordinators_words} (приложение № 2)", "deadline": ru.date_short(self_due)},
        {"text": f"Утвердить {appoint_experts} (приложение № 3). {to_experts} провести "
                 f"экспертную оценку механизмов и подготовить {conclusions_words}.",
         "executor": f"{experts_words} (приложение № 3)", "deadline": ru.date_short(end)},
        {"text": "Подготовить аналитический отчёт по результатам мониторинга.", "executor": executor,
         "deadline": ru.date_short(report_due)},
    ]
    for item in items:
        item["label"] = ru.responsible_label(item["executor"])
    steps = number_rows([
        {"step": "Самооценка муниципальных механизмов по критериям мониторинга, представление подтверждающих "
                 "документов", "who": coordinators_words,
         "dates": ru.date_range(start, self_due)},
        {"step": "Экспертная оценка механизмов, утверждение оценок руководителем", "who": experts_words,
         "dates": ru.date_range(self_due, end)},
        {"step": f"Экспертн{'ое' if one_municipality else 'ые'} {conclusions_words}", "who": experts_words,
         "dates": f"до {ru.date_short(end)}"},
        {"step": "Аналитический отчёт по результатам мониторинга", "who": person(_creator(campaign)),
         "dates": f"до {ru.date_short(report_due)}"},
    ])
    coordinators = number_rows([
        {"municipality": m.municipality.name, "name": m.coordinator.full_name,
         "position": m.coordinator.position or DASH}
        for m in sorted(campaign.municipalities, key=lambda m: m.municipality.name)])
    by_expert: dict[int, dict] = {}
    municipality_names = {m.municipality_id: m.municipality.name for m in campaign.municipalities}
    for a in sorted(campaign.assignments, key=lambda a: (a.expert.user.full_name, a.id)):
        entry = by_expert.setdefault(a.expert_id, {"expert": a.expert, "mechanisms": {}, "municipalities": {}})
        entry["mechanisms"][a.mechanism_code] = None
        entry["municipalities"][a.municipality_id] = None
    experts = number_rows([
        {"name": e["expert"].user.full_name, "position": _expert_position(e["expert"]),
         "mechanisms": _mechanism_numbers(campaign.mechanisms, e["mechanisms"]),
         "municipalities": "; ".join(municipality_names[i] for i in e["municipalities"])}
        for e in by_expert.values()])
    return {
        "preamble": (f"В соответствии с {LEGAL_BASIS_INSTRUMENTAL[0]}, {LEGAL_BASIS_INSTRUMENTAL[1]}, в целях "
                     "выявления проблемных зон муниципальных механизмов управления качеством образования и "
                     "факторов, влияющих на их формирование,"),
        "items": items, "control": contexts.CONTROL_ITEM, "steps": steps,
        "campaign": {"title": campaign.title, "period": campaign.period, "window": _window(campaign),
                     # `criteria` stays for the templates before version 7, which quote it after «по критериям»
                     "criteria": ru.quotable(_criteria_title(campaign.criteria_set)),
                     "by_criteria": _by_criteria(campaign.criteria_set),
                     "levels": _levels_text(campaign.criteria_set.thresholds)},
        "mechanisms": number_rows([{"title": titles[c]} for c in campaign.mechanisms]),
        "coordinators": coordinators, "experts": experts,
    }


def _window(campaign: Campaign) -> str:
    return f"с {ru.date_short(campaign.window_start)} по {ru.date_short(campaign.window_closes)}"


def _mechanism_numbers(codes: list[str], assigned) -> str:
    """The mechanisms of an expert by their numbers in appendix № 1 (the titles are long and listed there once)."""
    numbers = [str(n) for n, code in enumerate(codes, 1) if code in assigned]
    if len(numbers) == len(codes):
        return "все механизмы (приложение № 1)"
    return f"{'№' if len(numbers) == 1 else '№№'} {', '.join(numbers)} (приложение № 1)"


def _expert_position(expert: Expert) -> str:
    # the workplace's full name, as the register of experts gives it: a ministry's short name is its region's
    # («региональный эксперт, Демонстрационная область» read as a place, not a place of work)
    workplace = expert.workplace.name if expert.workplace else ""
    position = ru.lower_first(expert.position) if expert.position else ""
    return ", ".join(x for x in (position, workplace) if x) or DASH


def _levels_text(thresholds: dict) -> str:
    """The bounds of the levels as criteria.level_of applies them (a share of at least the threshold). «Средний — от
    50 до 79 %» left a share of 79,5 % — printed in tenths in the conclusion and the report — on no level."""
    high, medium, low = thresholds["high"], thresholds["medium"], thresholds["low"]
    return (f"высокий — не менее {high} % максимального балла, средний — не менее {medium} % и менее {high} %, "
            f"низкий — не менее {low} % и менее {medium} %, не сформирован — менее {low} %")


# --- (b) the expert's conclusion -------------------------------------------------------------------------------

def _conclusion(dtype, row: CampaignMunicipality, ctx, *, params, **_):
    campaign, municipality = row.campaign, row.municipality
    org = campaign.organisation
    approved = _approved(row)
    if not approved:
        refuse(dtype.title, [f"{municipality.display_name}: нет утверждённой экспертной оценки ни по одному "
                             "механизму — заключение составляется по утверждённым оценкам."])
    codes = [c for c in campaign.mechanisms if any(a.mechanism_code == c for a in approved)]
    pending = [c for c in campaign.mechanisms if c not in codes]
    titles = mechanism_titles(campaign.mechanisms)
    blocks = block_titles()
    scores = [s for s in _scores(campaign.id, municipality.id) if s.mechanism_code in codes]
    thresholds = campaign.criteria_set.thresholds
    evidence = _evidence_counts(campaign.id, municipality.id)
    mechanisms, block_rows, justification, recommendations = [], [], [], []
    total_points = total_max = 0
    for code in codes:
        own = sorted((s for s in scores if s.mechanism_code == code),
                     key=lambda s: (s.criterion.position, s.criterion.id))
        expert = sum(s.expert_points or 0 for s in own)
        self_points = sum(s.self_points or 0 for s in own)
        maximum = sum(s.criterion.max_points for s in own)
        total_points, total_max = total_points + expert, total_max + maximum
        pct = _percent(expert, maximum)
        mechanisms.append({"title": titles[code], "self": ru.integer(self_points), "expert": ru.integer(expert),
                           "max": ru.integer(maximum), "percent": _tenths(pct),
                           "level": level_label(level_of(pct, thresholds))})
        by_block: dict[str, list[Score]] = defaultdict(list)
        for s in own:
            by_block[s.criterion.block].append(s)
        for block in (b for b in blocks if b in by_block):
            got = sum(s.expert_points or 0 for s in by_block[block])
            most = sum(s.criterion.max_points for s in by_block[block])
            block_pct = _percent(got, most)
            first = not any(r["mechanism_code"] == code for r in block_rows)
            block_rows.append({"mechanism": titles[code] if first else "", "mechanism_code": code,
                               "block": blocks[block],
                               "self": ru.integer(sum(s.self_points or 0 for s in by_block[block])),
                               "expert": ru.integer(got), "max": ru.integer(most), "percent": _tenths(block_pct)})
            if block_pct is not None and block_pct < PROBLEM_PERCENT:
                advice = BLOCK_ADVICE.get(block, "устранить недостатки")
                recommendations.append(f"По механизму {_mechanism_words(titles[code])}, блок "
                                       f"{ru.quote(blocks[block])} (набрано {_of_points(got, most)}): {advice}.")
        for s in own:
            if (s.expert_comment or "").strip():  # a comment of spaces is none (as _evidence_words reads it)
                justification.append(
                    f"{ru.quote(titles[code])}, критерий {ru.quote(_sentence(s.criterion.text))}: "
                    f"{_of_points(s.expert_points or 0, s.criterion.max_points)} (самооценка — "
                    f"{ru.integer(s.self_points or 0)}). {_sentence(s.expert_comment)}.")
        grounds = _evidence_words(titles[code], by_block, blocks, evidence,
                                  all_same=all(x.expert_points == x.self_points for x in own))
        if grounds:
            justification.append(grounds)
    overall = _percent(total_points, total_max)
    level = level_label(level_of(overall, thresholds))
    if not recommendations:
        recommendations.append("Сохранить достигнутый уровень: ни один блок оценённых механизмов не набрал менее "
                               f"{PROBLEM_PERCENT} % максимального балла; представить опыт муниципалитета на "
                               "региональном методическом совещании.")
    approved_on = max(_day(a.approved_at, org) for a in approved)
    dating.not_before(ctx, approved_on, "экспертная оценка утверждена")
    # The heading names whose mechanisms and which year: the journal of conclusions listed one heading for every
    # municipality and campaign, and a conclusion filed at the municipality did not say which year it assessed.
    ctx["doc"]["heading"] = (f"О результатах оценки механизмов управления качеством образования в {campaign.period} "
                             f"учебном году ({municipality.display_name})")
    ctx["doc"]["period"] = campaign.period
    expert_names = list(dict.fromkeys(a.expert_user.full_name for a in approved))
    return {
        "conclusion": {
            "municipality": municipality.name, "campaign": ru.quotable(campaign.title), "period": campaign.period,
            "window": _window(campaign),
            # «Эксперты:» where the municipality's mechanisms were scored by several (the template's word was always
            # «Эксперт:» before a list of names)
            "experts": ", ".join(expert_names), "experts_label": "Эксперты" if len(expert_names) > 1 else "Эксперт",
            # `criteria` stays for the templates before version 7, which quote it after «по критериям»
            "criteria": ru.quotable(_criteria_title(campaign.criteria_set)),
            "by_criteria": _by_criteria(campaign.criteria_set),
            "basis": _order_reference(campaign),
            "points": ru.integer(total_points), "max": ru.integer(total_max), "percent": _tenths(overall),
            "level": level,
            "summary": (f"По результатам экспертной оценки "
                        f"{ru.plural(len(codes), ('механизма', 'механизмов', 'механизмов'))} муниципальное "
                        f"образование набрало {_of_points(total_points, total_max)} ({_tenths(overall)}); уровень "
                        f"сформированности механизмов — {level}."),
            "pending": _pending_text([titles[c] for c in pending]),
        },
        "mechanisms": number_rows(mechanisms),
        "blocks": number_rows([{k: v for k, v in r.items() if k != "mechanism_code"} for r in block_rows]),
        "justification": justification, "recommendations": recommendations,
        # every expert of the approved evaluations signs, in the order they were assigned (it named the first only)
        "signers": [_signer_line(first) for first in _first_of_each_expert(approved)],
        # What the edition reports (recorded, not printed): conclusion_outdated compares it with the evaluations
        # approved since, so an edition made before another mechanism was approved is marked as out of date.
        "evaluations": _evaluations(approved),
    }


def _first_of_each_expert(approved: list[Assignment]) -> list[Assignment]:
    firsts: dict[int, Assignment] = {}
    for a in approved:
        firsts.setdefault(a.expert_user_id, a)
    return list(firsts.values())


def _signer_line(assignment: Assignment) -> dict:
    """One expert's signature line: the position of the register of experts, И.О. Фамилия, the date left blank (the
    registered copy fills in the day of the expert's electronic signature)."""
    expert, user = assignment.expert, assignment.expert_user
    return {"user_id": user.id, "position": ru.upper_first(expert.position or "") or "Эксперт",
            "name": ru.initials_surname(user.full_name), "date": None}


def _evaluations(approved: list[Assignment]) -> dict[str, str]:
    """Mechanism code → when its evaluation was approved: a re-approved evaluation counts as a change too."""
    return {a.mechanism_code: a.approved_at.replace(microsecond=0).isoformat() for a in approved}


def conclusion_outdated(doc: Document) -> list[str]:
    """Why the conclusion's current edition no longer reports the municipality's approved evaluations (an evaluation
    approved, or approved anew, after it was made), in Russian; empty when it does or records nothing (an edition made
    before the conclusions recorded their evaluations)."""
    printed = recorded(doc, "evaluations")
    row = owners.owner_of(doc)
    if printed is None or row is None:
        return []
    now = _evaluations(_approved(row))
    if now == printed:
        return []
    titles = mechanism_titles(list(now) + list(printed))
    changed = [titles[code] for code in now if printed.get(code) != now[code]]
    dropped = [titles[code] for code in printed if code not in now]
    problems = []
    if changed:
        problems.append(("после формирования заключения утверждена экспертная оценка механизма "
                         if len(changed) == 1 else
                         "после формирования заключения утверждены экспертные оценки механизмов ")
                        + ", ".join(_mechanism_words(t) for t in changed)
                        + (": заключение её не отражает." if len(changed) == 1 else ": заключение их не отражает."))
    if dropped:
        problems.append(("после формирования заключения возвращена на доработку экспертная оценка механизма "
                         if len(dropped) == 1 else
                         "после формирования заключения возвращены на доработку экспертные оценки механизмов ")
                        + ", ".join(_mechanism_words(t) for t in dropped) + ".")
    return problems


def _evidence_counts(campaign_id: int, municipality_id: int) -> dict[int, int]:
    """Criterion id → how many pieces of evidence (documents found, files, links) the municipality has for it."""
    return dict(db.session.execute(
        select(EvidenceItem.criterion_id, func.count()).where(
            EvidenceItem.campaign_id == campaign_id, EvidenceItem.municipality_id == municipality_id)
        .group_by(EvidenceItem.criterion_id)).all())


def _blocks_named(names: list[str], one: str, many: str) -> str:
    return f"{one if len(names) == 1 else many} {', '.join(ru.quote(n) for n in names)}"


def _evidence_words(title: str, by_block: dict[str, list[Score]], blocks: dict[str, str],
                    evidence: dict[int, int], *, all_same: bool) -> str:
    """What the evidence of a mechanism's blocks says, block by block, over the criteria the expert did not comment
    on (a comment explains its own score): the score and the evidence present, never «подтверждены документами»
    over a block scored 0 or one without a single document (it said so of every block whatever its score)."""
    confirmed, partly, bare, zero_bare, zero_shown = [], [], [], [], []
    for block in (b for b in blocks if b in by_block):
        plain = [s for s in by_block[block] if not (s.expert_comment or "").strip()]
        if not plain:
            continue
        scored = [s for s in plain if s.expert_points]
        if scored:
            shown = [s for s in scored if evidence.get(s.criterion_id)]
            (confirmed if len(shown) == len(scored) else partly if shown else bare).append(blocks[block])
        else:
            (zero_shown if any(evidence.get(s.criterion_id) for s in plain) else zero_bare).append(blocks[block])
    if not (confirmed or partly or bare or zero_bare or zero_shown):
        return ""
    parts = []
    if confirmed:
        parts.append(f"баллы {_blocks_named(confirmed, 'по блоку', 'по блокам')} подтверждены документами, "
                     "представленными в системе")
    if partly:
        parts.append(f"{_blocks_named(partly, 'по блоку', 'по блокам')} подтверждающие документы представлены не "
                     "по всем критериям, за которые выставлены баллы")
    if bare:
        parts.append(f"баллы {_blocks_named(bare, 'по блоку', 'по блокам')} выставлены без подтверждающих документов "
                     "в системе")
    if zero_bare:
        parts.append(f"{_blocks_named(zero_bare, 'блок', 'блоки')} "
                     f"{'оценён' if len(zero_bare) == 1 else 'оценены'} в 0 баллов: подтверждающие документы не "
                     "представлены")
    if zero_shown:
        parts.append(f"{_blocks_named(zero_shown, 'блок', 'блоки')} "
                     f"{'оценён' if len(zero_shown) == 1 else 'оценены'} в 0 баллов: представленные документы не "
                     "подтверждают выполнение критериев")
    # over all the mechanism's criteria, the commented too: a commented criterion scored below the self-assessment
    # sat in the justification above a line saying the scores matched it
    lead = "баллы эксперта совпадают с самооценкой муниципалитета; " if all_same else ""
    return f"{ru.quote(title)}: {lead}{'; '.join(parts)}."


def _pending_text(titles: list[str]) -> str:
    """What the conclusion does not cover yet, in the number of its mechanisms: «механизма «…» не утверждена:
    заключение по нему…» for one (it read «механизмов «…» … по ним» whatever their count)."""
    if not titles:
        return ""
    named = ", ".join(_mechanism_words(t) for t in titles)
    if len(titles) == 1:
        return (f"Экспертная оценка механизма {named} не утверждена: заключение по нему составляется после "
                "утверждения оценки.")
    return (f"Экспертная оценка механизмов {named} не утверждена: заключение по ним составляется после утверждения "
            "оценки.")


def _order_reference(campaign: Campaign) -> str:
    """«приказ министерства образования … от 04.12.2026 № 1-од»: the registered order on the campaign, or «—» while
    there is none. The issuer is named (ГОСТ Р 7.0.97 reference to a document: its author, type, date and number):
    «приказ от … № 1-од» alone did not say whose order it is in a conclusion filed at the municipality."""
    doc = document_services.find_owned(campaign, ORDER)
    version = next((v for v in reversed(doc.versions) if v.registration_number), None) if doc else None
    if version is None:
        return DASH
    return (f"приказ {name_genitive(doc.organisation)} от {ru.date_short(version.registration_date)} "
            f"№ {version.registration_number}")


def _of_points(got: int, most: int) -> str:
    """«3 из 5 баллов», «1 из 21 балла»."""
    return f"{ru.integer(got)} из {ru.integer(most)} {ru.plural_form(most, ('балла', 'баллов', 'баллов'))}"


def _sentence(text: str) -> str:
    return " ".join((text or "").split()).rstrip(".")


# --- (c) the analytical report ---------------------------------------------------------------------------------

MUNICIPALITIES_LOCT = ("муниципальном образовании", "муниципальных образованиях", "муниципальных образованиях")


def _report(dtype, campaign: Campaign, ctx, *, params, **_):
    """The report over the region picture (picture.region_picture: heat map, problem zones, gap, dynamics, factors),
    its numbers formatted and its codes put in words."""
    if campaign.state == "draft":
        refuse(dtype.title, ["Кампания ещё не опубликована: отчёт составляется по результатам оценки."])
    org = campaign.organisation
    pic = picture.region_picture(campaign)
    titles, blocks = mechanism_titles(pic.mechanisms), block_titles()
    rows = sorted(pic.rows, key=lambda r: r.municipality.name)
    heat, levels = [], defaultdict(int)
    for r in rows:
        for n, code in enumerate(pic.mechanisms):
            cell = r.cells[code]
            # A mechanism without a counted score stays in the table as «нет оценки», as Рисунок 1 under it shows it
            # (the table left it out: five rows of a municipality above a picture of eight), with no draft's points.
            row = {"municipality": "" if n else r.municipality.name, "mechanism": titles[code], "self": DASH,
                   "expert": DASH, "level": SOURCE_LABELS[None]}
            if cell.percent is not None:
                levels[cell.level] += 1
                row.update({"self": _tenths(cell.self_percent), "expert": _tenths(cell.expert_percent)
                            if cell.expert_state == "approved" else DASH, "level": level_label(cell.level)})
            heat.append(row)
    if not levels:
        refuse(dtype.title, ["Нет ни одной представленной самооценки или утверждённой экспертной оценки: отчёт "
                             "составлять не по чему."])
    assessed = sum(1 for r in rows if r.percent is not None)
    zones = number_rows([{"block": blocks.get(z["block"], z["block"]), "percent": _tenths(z["percent"]),
                          "cells": f"{ru.integer(z['below'])} из {ru.integer(assessed)}"} for z in pic.region_zones])
    # As the region picture's table of the gap: over the mechanisms the expert has scored (an evaluation submitted or
    # returned counts, not only an approved one), with their count and tenths («57 %» and «54 %» over «+2,3 п. п.»
    # read wrong); the heat table shows «—» for an expert score not yet approved.
    gaps = number_rows([
        {"municipality": r.municipality.name, "mechanisms": ru.integer(r.gap["mechanisms"]),
         "self": _tenths(r.gap["self_percent"]), "expert": _tenths(r.gap["expert_percent"]),
         "gap": f"{ru.signed(r.gap['gap'], 1)} п. п.",
         "flag": "завышение самооценки" if r.gap["over"] else "расхождение в пределах нормы"}
        for r in rows if r.gap.get("mechanisms")])
    if pic.previous is None:
        dynamics = {"note": "Предыдущая кампания мониторинга в системе не проводилась: динамика будет показана по "
                            "итогам следующей кампании.", "rows": []}
    else:
        dynamics = {"note": f"Сравнение с кампанией {ru.quote(pic.previous.title)} (доля максимального балла по "
                            "всем оценённым механизмам).",
                    "rows": number_rows([{"municipality": r.municipality.name, "before": _tenths(r.previous_percent),
                                          "now": _tenths(r.percent), "change": f"{ru.signed(r.delta, 1)} п. п."}
                                         for r in rows if r.delta is not None])}
    factors = number_rows([{"factor": f.label, "n": ru.integer(f.n), "coefficient": f.rho_shown,
                            "strength": f.words} for f in (pic.factors.rows if pic.factors else [])
                           if f.n])
    measures = [f"Организовать методическую поддержку муниципалитетов по блоку {ru.quote(blocks.get(z['block']))} "
                f"(в среднем {_tenths(z['percent'])} максимального балла): {BLOCK_ADVICE.get(z['block'], 'устранить')}."
                for z in pic.region_zones[:3]]
    if pic.over_assessed:
        measures.append("Провести с муниципальными координаторами ("
                        f"{'; '.join(r.municipality.name for r in pic.over_assessed)}) разбор расхождений "
                        "самооценки и экспертной оценки, уточнить понимание критериев.")
    # «с низким уровнем» named a municipality whose mechanisms are not formed at all (under 20 %) too: each by its level
    low = "; ".join(r.municipality.name for r in rows if r.level == "low")
    unformed = "; ".join(r.municipality.name for r in rows if r.level == "none")
    if low and unformed:
        measures.append("Включить в программу адресной поддержки муниципалитеты, механизмы которых не сформированы "
                        f"({unformed}) или сформированы на низком уровне ({low}).")
    elif low or unformed:
        measures.append("Включить в программу адресной поддержки муниципалитеты "
                        + (f"с низким уровнем сформированности механизмов: {low}." if low else
                           f"с несформированными механизмами: {unformed}."))
    measures.append("Учесть результаты мониторинга при постановке целей региональной и муниципальных систем "
                    "оценки качества образования на следующий учебный год.")
    last = max([a.approved_at for a in campaign.assignments if a.approved_at is not None]
               + [db.session.scalar(select(func.max(Score.updated_at)).where(Score.campaign_id == campaign.id))],
               key=lambda moment: moment.timestamp() if moment is not None else 0)
    if last is not None:
        dating.not_before(ctx, local_day(last, org), "последняя оценка кампании")
    ctx["doc"]["heading"] = (f"О результатах мониторинга муниципальных механизмов управления качеством образования "
                             f"в {campaign.period} учебном году")
    ctx["doc"]["period"] = campaign.period
    distribution = "; ".join(f"{LEVELS[key]} — {ru.integer(levels.get(key, 0))}" for key in LEVELS)
    # The region picture's own charts, drawn once per data change (picture_charts.png): the heat map shows every
    # municipality's level per mechanism at a glance, the blocks' profile the problem zones against their line.
    drawn = picture_charts.chart_data(pic)
    # The heat map's percents in tenths as the table above it prints them («45,0»): whole ones read «96» in the
    # picture and the table where the page and the expert conclusion showed «95,5» (docs16 review).
    drawn["heatmap"]["fixed"] = True
    # Mechanisms by their numbers in the order's appendix № 1 (same order), not by Latin codes: a document names
    # them in words, and eight titles do not fit under a 17 cm picture — the caption says which is which.
    drawn["heatmap"]["mechanisms"] = [str(n) for n in range(1, len(pic.mechanisms) + 1)]
    charts = {name: picture_charts.png(name, drawn[name])[1] for name in ("heatmap", "blocks")}
    return {
        "report": {
            # a report may be signed while the window is still open: the window is its term, not a past event
            # (it read «Мониторинг проведён с 01.11.2026 по 03.02.2027» in a report of December)
            "intro": (f"Мониторинг {_by_criteria(campaign.criteria_set)} охватывает "
                      f"{ru.plural(len(pic.mechanisms), ('механизм', 'механизма', 'механизмов'))} управления "
                      f"качеством образования в {ru.plural(len(rows), MUNICIPALITIES_LOCT)}; срок проведения — "
                      f"{_window(campaign)}."),
            "basis": ("Оценка каждого механизма — утверждённая экспертная оценка, а до её утверждения — "
                      "представленная самооценка муниципалитета; уровень сформированности определяется долей "
                      f"максимального балла: {_levels_text(campaign.criteria_set.thresholds)}."),
            "distribution": f"Распределение оценок механизмов по уровням: {distribution}.",
            "codes": "Механизмы: " + "; ".join(f"{n} — {ru.quote(titles[code])}"
                                               for n, code in enumerate(pic.mechanisms, 1)) + ".",
            # the pictures by name (the template asks `charts[report.figures.heatmap]`, as the analytic report's
            # `charts[c.name]`: a template checked with sample data finds a sample picture under a sample name)
            "figures": {name: name for name in charts},
            "blocks": "; ".join(f"{number} — {ru.quote(blocks.get(code, code))}" for number, code in zip(
                drawn["blocks"]["blocks"], pic.region_profile)),
            "gaps_note": ("Сравниваются механизмы, оценённые экспертом"
                          + (" (в том числе оценки, ещё не утверждённые руководителем)" if any(
                              r.gap.get("unapproved") for r in rows) else "")
                          + ": доля максимального балла по самооценке и по оценке эксперта; разница — "
                          "самооценка минус оценка эксперта в процентных пунктах; завышение самооценки — разница "
                          f"{ru.integer(picture.OVER_ASSESSMENT_GAP)} п. п. и более."),
            "zones_note": (f"Проблемные зоны — блоки управленческого цикла, набравшие в среднем по региону менее "
                           f"{ru.integer(pic.problem_below)} % максимального балла; в последнем столбце — у скольких "
                           "муниципалитетов блок ниже этого порога.")
            if zones else ("Проблемных зон не выявлено: каждый блок управленческого цикла набрал в среднем по "
                           f"региону не менее {ru.integer(pic.problem_below)} % максимального балла."),
        },
        "heat": heat, "zones": zones, "gaps": gaps, "dynamics": dynamics, "factors": factors, "measures": measures,
        "charts": charts,
    }


# --- operations the pages call ---------------------------------------------------------------------------------

def campaign_documents(campaign: Campaign) -> dict:
    """The campaign's documents for its page: the order, the report, and each municipality's conclusion (their editions
    loaded with them: two statements for a region of 50 municipalities)."""
    own = {d.type_key: d for d in document_services.documents_of_owner(campaign)}
    rows = {m.id: m for m in campaign.municipalities}
    conclusions = {}
    if rows:
        for doc in db.session.scalars(select(Document).where(
                Document.owner_type == CampaignMunicipality.audit_type, Document.owner_id.in_(list(rows)),
                Document.type_key == CONCLUSION).options(selectinload(Document.versions))):
            conclusions[rows[doc.owner_id].municipality_id] = doc
    return {"order": own.get(ORDER), "report": own.get(REPORT), "conclusions": conclusions}


def generate_campaign_document(campaign: Campaign, type_key: str, *, actor) -> Document:
    if type_key not in CAMPAIGN_TYPES:
        raise ValidationFailed("Этот документ кампании здесь не формируется.")
    return document_services.generate_for_owner(campaign, type_key, actor=actor)


def campaign_document_of(campaign: Campaign, type_key: str) -> Document | None:
    """The campaign's own document of `type_key` (None for none, or a key not of the campaign's)."""
    return document_services.find_owned(campaign, type_key) if type_key in CAMPAIGN_TYPES else None


def municipality_row(campaign: Campaign, municipality_id: int) -> CampaignMunicipality:
    row = next((m for m in campaign.municipalities if m.municipality_id == municipality_id), None)
    if row is None:
        raise NotFound()
    return row


def generate_conclusion(campaign: Campaign, municipality_id: int, *, actor) -> Document:
    return document_services.generate_for_owner(municipality_row(campaign, municipality_id), CONCLUSION, actor=actor)


def conclusion_of(campaign: Campaign, municipality_id: int) -> Document | None:
    return document_services.find_owned(municipality_row(campaign, municipality_id), CONCLUSION)
