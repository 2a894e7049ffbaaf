"""Demo data (`flask seed demo`): a region, two municipalities, ~30 institutions with context
attributes, one user per role, and municipal cycles left at different stages. Every change goes
through the same services and workflow engine as the UI, so the demo's audit trail is real."""

import random
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from app.analysis.sections import sections_for
from app.assessment.demo import regional_cycle, seed_campaign
from app.auth.models import User
from app.auth.services import create_user, users_with_role_at
from app.catalogue.models import LibraryIndicator, Mechanism, MechanismSet, Track
from app.catalogue.services import load_all
from app.core import features
from app.core import russian as ru
from app.core.timeutil import academic_year_of, today_in, utcnow
from app.cycles import services as cycles
from app.cycles.models import Cycle, CollectionMethod, Goal, Indicator
from app.deadlines.reminders import run_reminders
from app.extensions import db
from app.monitoring import services as monitoring
from app.monitoring.demo import sample_value
from app.monitoring.values import save_values, unit_rule
from app.orgs.models import Organisation
from app.orgs.services import add_support, create_organisation
from app.vertical.services import previous_period
from workflows import engine
from app.orgs.requisites import with_inn_check, with_ogrn_check, with_okpo_check

DEMO_PASSWORD = "uko-demo-2026"  # noqa: S105 (demo accounts only; documented in README)
REGION_CODE = "DEMO"

SCHOOL_NAMES = [
    ("Средняя общеобразовательная школа № 1", "СОШ № 1"),
    ("Лицей № 2", "Лицей № 2"),
    ("Гимназия № 3", "Гимназия № 3"),
    ("Средняя общеобразовательная школа № 4 с углублённым изучением математики", "СОШ № 4"),
    ("Средняя общеобразовательная школа № 5", "СОШ № 5"),
    ("Основная общеобразовательная школа д. Ключи", "ООШ д. Ключи"),
    ("Средняя общеобразовательная школа с. Заречье", "СОШ с. Заречье"),
    ("Средняя общеобразовательная школа пос. Лесной", "СОШ пос. Лесной"),
    ("Начальная общеобразовательная школа д. Боровое", "НОШ д. Боровое"),
    ("Средняя общеобразовательная школа № 10", "СОШ № 10"),
    ("Средняя общеобразовательная школа с. Покровское", "СОШ с. Покровское"),
]
PROFILE_BY_PREFIX = {"Лицей": "lyceum", "Гимназия": "gymnasium"}


def _school_context(rng: random.Random, name: str) -> dict:
    village = "д." in name or "с." in name
    town = "пос." in name
    profile = next((p for prefix, p in PROFILE_BY_PREFIX.items() if name.startswith(prefix)), None)
    profile = profile or ("in_depth" if "углублённым" in name else "ordinary")
    return {
        "settlement": "village" if village else "town" if town else "city",
        # A village primary school often keeps the village's preschool groups («начальная школа — детский сад»), so the
        # preschool mechanism (M2.4) addresses a school as well as the kindergartens.
        "preschool_groups": name.startswith("Начальная"),
        "remote": village and rng.random() < 0.6,
        "students": rng.randint(40, 180) if village else rng.randint(350, 1200),
        "profile": profile,
        "low_income_share": round(rng.uniform(15, 45) if village else rng.uniform(3, 20), 1),
        "non_native_share": round(rng.uniform(0, 12), 1),
        "ovz_share": round(rng.uniform(2, 11), 1),
        "unqualified_teachers_share": round(rng.uniform(5, 30) if village else rng.uniform(0, 8), 1),
        "teacher_vacancies": rng.randint(1, 5) if village else rng.randint(0, 2),
    }


def _requisites(serial: int, *, city: str, postcode: str, street: str, head_position: str, site: str,
                phone: str) -> dict:
    """Plausible requisites for the бланк (fictional numbers with valid check digits, region code 99)."""

    return {"address": f"{street}, {city}, {postcode}", "phone": phone, "email": f"info@{site}",
            "website": f"https://{site}", "head_position": head_position,
            "inn": with_inn_check(f"9901{serial:05d}"), "kpp": "990101001",
            "ogrn": with_ogrn_check(f"10299{serial:07d}"), "okpo": with_okpo_check(f"{4000000 + serial:07d}")}


def _organisations(rng: random.Random) -> dict[str, Organisation]:
    orgs = {}
    capital = {"city": "г. Демоград", "postcode": "999001"}
    region = create_organisation(code=REGION_CODE, name="Министерство образования Демонстрационной области",
                                 short_name="Демонстрационная область", kind="region", timezone="Europe/Moscow",
                                 **_requisites(1, **capital, street="ул. Воровского, д. 30", site="minobr.demo.ru",
                                               head_position="Министр", phone="+7 (999) 263-42-04"))
    orgs["region"] = region
    orgs["rcoko"] = create_organisation(code="DEMO-RCOKO", kind="assessment_centre", parent=region,
                                        name="Региональный центр оценки качества образования",
                                        short_name="РЦОКО",
                                        **_requisites(2, **capital, street="ул. Университетская, д. 5",
                                                      site="rcoko.demo.ru", head_position="Директор",
                                                      phone="+7 (999) 263-10-15"))
    municipalities = [("MUN01", "Управление образования администрации городского округа Северный",
                       "ГО Северный", 11), ("MUN02", "Отдел образования администрации Озёрного муниципального района",
                                            "Озёрный МР", 8)]
    towns = {"MUN01": ("г. Северный", "999100", "sev", "(99910)", "Начальник управления образования"),
             "MUN02": ("пос. Озёрный", "999200", "ozr", "(99920)", "Начальник отдела образования")}
    for m, (code, name, short, n_schools) in enumerate(municipalities, 1):
        city, postcode, domain, dial, head = towns[code]

        def req(serial, street, site, position, phone, *, _city=city, _postcode=postcode, _dial=dial):
            return _requisites(serial, city=_city, postcode=_postcode, street=street, site=site,
                               head_position=position, phone=f"+7 {_dial} {phone}")

        base = 100 * m
        mun = create_organisation(code=code, name=name, short_name=short, kind="municipality", parent=region,
                                  **req(base, "ул. Ленина, д. 12", f"obr-{domain}.demo.ru", head, "2-15-30"))
        orgs[code] = mun
        orgs[f"{code}-IMC"] = create_organisation(code=f"{code}-IMC", kind="methodical_centre", parent=mun,
                                                  name=f"Информационно-методический центр ({short})",
                                                  short_name=f"ИМЦ {short}",
                                                  **req(base + 1, "ул. Ленина, д. 12", f"imc-{domain}.demo.ru",
                                                        "Директор", "2-15-41"))
        # The municipality's methodical centre serves it (its methodologists see and approve its cycles).
        add_support(orgs[f"{code}-IMC"], mun, actor=None)
        for i, (full, abbrev) in enumerate(SCHOOL_NAMES[:n_schools], 1):
            school = create_organisation(code=f"{code}-S{i:02d}", kind="school", parent=mun,
                                         name=f"МОУ «{full}»", short_name=abbrev, **_school_context(rng, full),
                                         **req(base + 10 + i, f"ул. Школьная, д. {i}", f"school{i}-{domain}.demo.ru",
                                               "Директор", f"2-{20 + i:02d}-{10 + i:02d}"))
            orgs[school.code] = school
        for i in range(1, 4 if code == "MUN01" else 3):
            orgs[f"{code}-D{i:02d}"] = create_organisation(code=f"{code}-D{i:02d}", kind="preschool", parent=mun,
                                name=f"МДОУ «Детский сад № {i * 7}»", short_name=f"Детский сад № {i * 7}",
                                students=rng.randint(60, 220), settlement="city" if code == "MUN01" else "village",
                                **req(base + 40 + i, f"ул. Садовая, д. {i * 3}", f"ds{i * 7}-{domain}.demo.ru",
                                      "Заведующий", f"2-40-{i:02d}"))
        create_organisation(code=f"{code}-A01", kind="additional", parent=mun,
                            name=f"МУ ДО «Дом детского творчества» ({short})", short_name=f"ДДТ {short}",
                            **req(base + 60, "ул. Мира, д. 7", f"ddt-{domain}.demo.ru", "Директор", "2-50-50"))
    # РЦОКО serves the whole region: its analysts load results and run analyses everywhere, approving nothing.
    add_support(orgs["rcoko"], region, actor=None)
    return orgs


USERS = [
    # login, full name, position, role, organisation key
    ("admin", "Соколова Анна Викторовна", "Администратор системы", "admin", "region"),
    ("official", "Петрова Мария Ивановна", "Главный специалист управления образования", "official", "MUN01"),
    ("head", "Иванов Сергей Петрович", "Начальник управления образования", "head", "MUN01"),
    ("methodologist", "Кузнецова Ольга Николаевна", "Методист ИМЦ", "methodologist", "MUN01"),
    ("director", "Смирнов Андрей Владимирович", "Директор СОШ № 1", "director", "MUN01-S01"),
    ("teacher", "Васильева Елена Сергеевна", "Заместитель директора по УВР СОШ № 1", "staff", "MUN01-S01"),
    ("director2", "Морозов Дмитрий Алексеевич", "Директор Лицея № 2", "director", "MUN01-S02"),
    ("director3", "Ковалёва Наталья Игоревна", "Директор Гимназии № 3", "director", "MUN01-S03"),
    # The preschool mechanism (M2.4) asks the kindergartens: their heads (заведующие) answer its data requests and
    # receive its recommendations.
    ("kindergarten", "Соловьёва Людмила Андреевна", "Заведующий МДОУ «Детский сад № 7»", "director", "MUN01-D01"),
    ("kindergarten2", "Карпова Елена Викторовна", "Заведующий МДОУ «Детский сад № 14»", "director", "MUN01-D02"),
    ("deputy3", "Белов Игорь Олегович", "Заместитель директора по УВР Гимназии № 3", "staff", "MUN01-S03"),
    ("expert", "Фёдорова Татьяна Михайловна", "Региональный эксперт", "expert", "region"),
    ("auditor", "Николаев Павел Андреевич", "Аудитор", "auditor", "region"),
    ("official2", "Лебедева Ирина Юрьевна", "Ведущий специалист отдела образования", "official", "MUN02"),
    ("head2", "Орлов Виктор Геннадьевич", "Начальник отдела образования", "head", "MUN02"),
    ("imc", "Григорьева Светлана Павловна", "Методист ИМЦ ГО Северный", "methodologist", "MUN01-IMC"),
    ("rcoko", "Ершов Алексей Романович", "Ведущий аналитик РЦОКО", "analyst", "rcoko"),
    # The assessment of municipal mechanisms (letter 08-70): the region's campaign manager, its head, a second expert.
    ("region_official", "Громова Светлана Аркадьевна", "Консультант отдела оценки качества образования министерства",
     "official", "region"),
    ("region_head", "Зайцев Константин Борисович", "Начальник отдела оценки качества образования министерства",
     "head", "region"),
    # The head of the authority: a regional order is signed by the minister, not by the head of a department.
    ("minister", "Полякова Вера Николаевна", "Министр образования Демонстрационной области", "head", "region"),
    ("expert2", "Тихонова Галина Викторовна", "Региональный эксперт", "expert", "region"),
]


# The justifications cite acts as a normative document does (the regulation prints them): by kind, date, number and
# title, never «ФЗ «Об образовании в РФ»», and no strategy whose term ended before the period (records-office review,
# 7 December 2026).
GOAL_EXAMPLES = {
    "M1.1": ("Повышение объективности и качества подготовки обучающихся",
             "Создание условий для повышения доли обучающихся, достигающих базового уровня подготовки "
             "по результатам ВПР и ГИА",
             "По итогам ВПР-{spring} доля обучающихся 4 классов, не достигших базового уровня по математике, "
             "составила 9,4 % "
             "(по региону 6,1 %); у двух школ выявлены признаки необъективности. Основание: Федеральный закон от "
             "29.12.2012 № 273-ФЗ «Об образовании в Российской Федерации», письмо Рособрнадзора от 20.04.2021 "
             "№ 08-70, региональная концепция МСОКО.",
             "Есть муниципальная сеть методических объединений, опыт работы ИМЦ с ШНОР, финансирование программы "
             "«Развитие образования» на 2025–2027 годы."),
    "M1.2": ("Поддержка школ с низкими результатами обучения",
             "Создание условий для перехода ШНОР в эффективный режим работы",
             "Три школы района два года подряд входят в нижний дециль по индексу низких результатов; в двух из них "
             "доля педагогов без профильной подготовки превышает 25 %.",
             "Заключены соглашения о сетевом взаимодействии с лицеем № 2 и гимназией № 3; ИМЦ имеет опыт "
             "адресной методической помощи."),
    # the closed demo cycle, whose goals the public pages show
    "M2.3": ("Развитие воспитательной работы в общеобразовательных организациях",
             "Обеспечить вовлечение обучающихся в деятельность детских общественных объединений и реализацию "
             "рабочих программ воспитания во всех общеобразовательных организациях округа",
             "Доля обучающихся — участников детских общественных объединений ниже региональной; календарные планы "
             "воспитательной работы части школ не учитывают интересы обучающихся. Основание: Федеральный закон от "
             "29.12.2012 № 273-ФЗ «Об образовании в Российской Федерации» (общие требования к организации "
             "воспитания обучающихся).",
             "В школах введены должности советников директоров по воспитанию; ИМЦ ведёт методическое объединение "
             "заместителей директоров по воспитательной работе."),
}
DEFAULT_GOAL = ("Развитие муниципальной системы по направлению механизма",
                "Создание условий для повышения качества образования по направлению механизма",
                "Анализ результатов прошлого периода выявил отставание от регионального уровня по ряду показателей; "
                "основание: письмо Рособрнадзора от 20.04.2021 № 08-70, муниципальная программа развития образования.",
                "Ресурсы ИМЦ и образовательных организаций, опыт реализации муниципальных проектов.")
SUMMARY = {
    # No dates or numbers of documents here: the cycle's own registered documents carry them, and a summary that
    # cited «приказ от 15.10.2025 № 214» beside them contradicted them (and the period, once the demo moved on).
    # The wording about results in mathematics is the results mechanisms' (RESULTS_SUMMARY): the other mechanisms'
    # reports said «доля «2» по математике» of a preschool or a teachers' development cycle (docs review).
    # No count of organisations either: the requests' own page counts who was asked and who answered (the demo asks
    # only the organisations with a head among its users, so «во все ОО, от 100 %» was untrue).
    "MON": "Приказ УО о проведении мониторинга издан; запросы сведений направлены в образовательные организации, "
           "сведения получены и проверены.",
    "ANL": "Значения показателей за {period} учебный год сопоставлены с региональными значениями и внутри "
           "кластеров ОО: в основной школе доля «2» по математике выше региональной на 3,2\u00a0п.\u00a0п.; "
           "причины — дефицит педагогов и низкая адаптивность обучения.",
    "REC": "Адресные рекомендации направлены руководителям ОО, ИМЦ и "
           "методическим объединениям учителей математики; опубликованы на сайте УО.",
    "MEAS": "Дорожная карта на {period} учебный год: мероприятия со сроками, ответственными и ожидаемыми "
            "результатами.",
    "DEC": "Приказ УО «О мерах по повышению качества подготовки обучающихся»: сроки, "
           "ответственные, участники, поощрение педагогов школ-наставников.",
    "EFF": "Доля «2» по математике снизилась с 9,4 % до 6,8 %; мероприятия, не давшие ожидаемого эффекта, учтены "
           "при постановке целей следующего цикла.",
}
# The EFF and ANL texts are the stage's findings: the effectiveness report prints them as its last conclusion, where
# «Справка об эффективности принятых мер: сравнение …» described the report itself (records-office review), and the
# analytic report as its «Выводы», where «Аналитическая справка: значения показателей …» did the same (review of
# 7 December 2026).
# A mechanism whose analysis reads no assessment results (app/analysis/sections.py): its own indicators speak.
NEUTRAL_SUMMARY = {
    "ANL": "Значения показателей за {period} учебный год сопоставлены с целевыми и региональными значениями и "
           "между организациями: в части организаций значения ниже целевых; причины — кадровые дефициты и "
           "недостаточная методическая поддержка.",
    "REC": "Адресные рекомендации направлены руководителям организаций и ИМЦ; опубликованы на сайте УО.",
    "DEC": "Приказ УО о мерах по направлению механизма: сроки, ответственные, участники, поощрение педагогов.",
    "EFF": "Мероприятия, не давшие ожидаемого эффекта, учтены при постановке целей следующего цикла; "
           "методическая поддержка организаций со значениями ниже целевых продолжается.",
}
# A mechanism's own wording where the general one (results in mathematics) would not fit its subject: the closed
# demo cycle is M2.3 (воспитание).
SUMMARY_BY_MECHANISM = {
    "M2.3": {
        "ANL": "Значения показателей за {period} учебный год сопоставлены с региональными значениями и между ОО: "
               "в основной школе низкая вовлечённость обучающихся в деятельность детских общественных "
               "объединений; причины — нехватка советников директоров по воспитанию и календарные планы "
               "воспитательной работы без учёта интересов обучающихся.",
        "REC": "Адресные рекомендации направлены руководителям ОО, ИМЦ и методическому объединению заместителей "
               "директоров по воспитательной работе; опубликованы на сайте УО.",
        "DEC": "Приказ УО «О мерах по развитию воспитательной работы в общеобразовательных организациях»: сроки, "
               "ответственные, участники, поощрение педагогов — руководителей детских объединений.",
        "EFF": "Мероприятия, не давшие ожидаемого эффекта, учтены при постановке целей следующего цикла; "
               "работа с обучающимися, состоящими на профилактическом учёте, по вовлечению во внеурочную "
               "деятельность продолжается.",
    },
}
METHODS = [
    ("ФИС ОКО (результаты ВПР)", "статистический анализ результатов, сравнение с регионом", "выгрузки ФИС ОКО, "
     "шаблон анализа УО", "ежегодно, май–июнь"),
    ("РИС ГИА (результаты ОГЭ и ЕГЭ)", "статистический анализ", "отчёты РЦОКО", "ежегодно, июль"),
    ("отчёты ОО", "анализ документов, анкетирование", "электронная форма запроса сведений", "ежегодно, сентябрь"),
]


def _fill_goals(cycle, actor, parent_goal_id: int | None = None):
    direction, statement, justification, realism = GOAL_EXAMPLES.get(cycle.track.mechanism.code, DEFAULT_GOAL)
    # The results a 2026/27 cycle starts from are spring 2026's (app/analysis/demo.py seeds that year).
    justification = justification.format(spring=cycle.period[:4])
    cycles.save_content(Goal, cycle, actor=actor, data={"direction": direction, "statement": statement,
                                                        "justification": justification, "realism": realism,
                                                        "parent_goal_id": parent_goal_id})


# Indicator groups about teachers and methodical work: the methodologist answers for them, the official for the rest.
METHODICAL_WORDS = ("педагог", "методическ", "квалификац", "наставничеств", "компетен")


def _person(user) -> str:
    """«М.И. Петрова, главный специалист управления образования»: a real user of the demo, as the indicator's
    «Ответственный» (free text in the model) names them — initials before the surname, as the documents name every
    other responsible person (the measures, decisions, order items); «Петрова М.И.» stood in the перечень beside
    «С.П. Иванов» in the roadmap (records-office review, 6 December 2026)."""
    return f"{ru.initials_surname(user)}, {ru.lower_first(user.position or '')}".rstrip(", ")


def _indicator_responsibles(cycle, actor) -> tuple[str, str]:
    """(for the indicators in general, for the methodical ones): the official responsible for the stage and the
    methodologist of the owner (the official again where there is none)."""
    stage = cycle.stage("IND")
    official = (stage.responsible if stage is not None else None) or actor
    methodologists = users_with_role_at(cycle.owner, {"methodologist"})
    return _person(official), _person(methodologists[0] if methodologists else official)


# Where a library indicator's demo baseline lies, (lowest, highest), by its code; else by its unit and direction
# (FIGURE_RANGES below). Each drew 40–85 % whatever it measured: «доля выпускников, не получивших аттестат» had
# a target of 46,2 %, a high level at the ВПР 80 %.
FIGURE_RANGES_BY_CODE = {
    "M1.1-02": (18, 30), "M1.1-04": (4, 9), "M1.1-06": (0.8, 2.5), "M1.2-06": (15, 35), "M1.3-01": (20, 35),
    "M1.3-03": (10, 25), "M1.3-04": (5, 20), "M1.3-06": (8, 20), "M1.4-01": (40, 65), "M1.4-02": (25, 45),
    "M2.2-02": (15, 35), "M2.3-03": (25, 45), "M2.3-06": (50, 75), "R2.1-03": (5, 15), "R2.5-03": (25, 45),
    "M1.2-01": (4, 12), "M1.3-02": (5, 25), "M1.3-09": (60, 200), "M1.4-03": (5, 20), "M2.1-04": (8, 20),
    "M2.2-05": (8, 25), "M2.3-02": (20, 60), "M2.4-05": (2, 8), "R2.2-04": (40, 90), "R2.4-04": (20, 60),
    "R2.5-02": (150, 400),
}
FIGURE_RANGES = {("percent", "up"): (65, 92), ("percent", "down"): (3, 12), ("count", "up"): (10, 40),
                 ("count", "down"): (4, 15), ("other", "up"): (55, 72), ("other", "down"): (5, 15)}


def library_figures(li, rng: random.Random) -> tuple[float, float]:
    """(baseline, target) of a library indicator in the demo: the baseline where such a figure lies, the target a
    realistic step better in the indicator's direction — a quarter of the way to 100 % (1–5 points) for a share
    that should grow, a quarter less for one that should fall, 15–20 % of a count, 2 points of a mean score. One
    draw of `rng` exactly as before, so the rest of the demo, which draws after, is what it was."""
    rule = "percent" if li.unit == "%" else ("count" if ru.is_count_unit(li.unit) else "other")
    share = (rng.uniform(40, 85) - 40) / 45 if li.unit == "%" else (rng.randint(2, 40) - 2) / 38
    low, high = FIGURE_RANGES_BY_CODE.get(li.code) or FIGURE_RANGES[(rule, li.direction)]
    up = li.direction == "up"
    if rule == "count":
        base = float(round(low + share * (high - low)))
        step = max(1, round(base * (0.15 if up else 0.2)))
        return base, base + step if up else max(0.0, base - step)
    base = round(low + share * (high - low), 1)
    if rule == "percent":
        target = min(100.0, base + max(1.0, min(5.0, (100 - base) / 4))) if up else base * 0.75
    else:
        target = base + 2 if up else base * 0.8
    return base, round(target, 1)


def _fill_indicators(cycle, actor, rng, library: str | None = None):
    """The library's indicators of the cycle's mechanism (or of `library`: the regional R1.1 has none of its own and
    picks from the municipal M1.1's, whose groups it shares); a code the cycle already holds (an inherited invariant)
    is left as the upper level set it."""
    mech_code = library or cycle.track.mechanism.code
    general, methodical = _indicator_responsibles(cycle, actor)
    present = {i.code for i in cycle.indicators}
    for li in db.session.scalars(select(LibraryIndicator).where(LibraryIndicator.mechanism_code == mech_code)
                                 .order_by(LibraryIndicator.code)):
        if li.code in present:
            continue
        base, target = library_figures(li, rng)
        cycles.save_content(Indicator, cycle, actor=actor, data={
            "code": li.code, "name": li.name, "unit": li.unit, "definition": li.formula or li.name,
            "group_name": li.group_name, "source": li.source or "", "collection_method": li.source or "",
            "periodicity": li.periodicity or "ежегодно", "direction": li.direction,
            "baseline": base, "target": target,
            "responsible": methodical if any(w in li.group_name.lower() for w in METHODICAL_WORDS) else general})


def _fill_methods(cycle, actor):
    for source, method, tool, schedule in METHODS:
        cycles.save_content(CollectionMethod, cycle, actor=actor,
                            data={"source": source, "method": method, "tool": tool, "schedule": schedule})


def _advance(cycle, approvals: int, official, head, rng, leave: str = "draft"):
    """Fill, submit and approve the first open stage `approvals` times; then leave the next one empty ("draft"),
    filled in its draft ("filled": the official's to read and send) or submitted ("on_review")."""
    for _ in range(min(approvals, len(cycle.stages))):
        stage = next(s for s in cycle.stages if s.state == "draft")
        fill_stage(stage, official=official, head=head, rng=rng)
        engine.fire(stage, "submit", actor=official)
        engine.fire(stage, "approve", actor=head)
    if leave in ("filled", "on_review") and cycle.state == "open":
        stage = next(s for s in cycle.stages if s.state == "draft")
        fill_stage(stage, official=official, head=head, rng=rng)
        if leave == "on_review":
            engine.fire(stage, "submit", actor=official)


def _today() -> date:
    """The region's today (the application's time zone), not the server clock's: deadlines are the users' days."""
    return today_in(current_app.config["APP_TIMEZONE"])


def _feature_fillers(stage, actor, rng, head) -> None:
    """Each feature fills the demo content it owns for the stage (its descriptor's `demo`)."""
    for filler in features.demo_fillers(stage.code):
        filler(stage, official=actor, head=head, rng=rng, today=_today())


def fill_stage(stage, *, official, head, rng=None):
    """Fill the stage's demo content (every feature's part), ready to be submitted; tests use it too."""
    rng = rng or random.Random(2026)  # noqa: S311 (reproducible demo data, not a secret)
    actor = official
    cycle = stage.cycle
    if stage.code == "GOAL" and not cycle.goals:
        _fill_goals(cycle, actor)
    elif stage.code == "IND" and all(i.upper_indicator_id for i in cycle.indicators):
        # only the upper level's invariants so far (the demo's M1.1 inherits the region's): the cycle's own come too
        _fill_indicators(cycle, actor, rng)
    elif stage.code == "METH" and not cycle.collection_methods:
        _fill_methods(cycle, actor)
    elif stage.code not in ("GOAL", "IND", "METH") and not stage.summary:
        code = cycle.track.mechanism.code
        general = SUMMARY if sections_for(code) & {"objectivity", "low_results"} else {**SUMMARY, **NEUTRAL_SUMMARY}
        text = SUMMARY_BY_MECHANISM.get(code, {}).get(stage.code, general[stage.code])
        cycles.save_summary(stage, text=text.format(period=cycle.period), actor=actor)
    _feature_fillers(stage, actor, rng, head)


# How far each municipal mechanism's demo cycle has got: (approved stages, state of the next one). M2.1's analysis
# stage holds the demo's calculation over the schools' results (a section of it belongs to M2.1; M2.2–M2.4 have none).
PROGRESS = {"M1.1": (0, "draft"), "M1.2": (1, "draft"), "M1.3": (2, "on_review"), "M1.4": (3, "draft"),
            "M2.1": (4, "filled"), "M2.2": (5, "on_review"), "M2.3": (9, "draft"), "M2.4": (6, "draft")}


def seed_demo(today: date | None = None) -> bool:
    """Create the demo once; returns False when it is already there (the command is idempotent)."""
    if db.session.scalar(select(Organisation.id).where(Organisation.code == REGION_CODE)) is not None:
        return False
    load_all()
    rng = random.Random(2026)  # noqa: S311 (reproducible demo data, not a secret)
    today = today or _today()
    period = academic_year_of(today)
    orgs = _organisations(rng)
    users = {}
    for login, name, position, role, org_key in USERS:
        users[login] = create_user(login=login, full_name=name, position=position, password=DEMO_PASSWORD,
                                   email=f"{login}@demo.example", roles=[(role, orgs[org_key])],
                                   password_policy=False)  # the demo's published password, demo users only
    official, head = users["official"], users["head"]
    regional = _regional_invariants(orgs["region"], users, today=today, period=period, rng=rng)
    mset = db.session.scalar(select(MechanismSet).where(MechanismSet.level == "municipal",
                                                        MechanismSet.active.is_(True)))
    for mech in mset.mechanisms:
        if mech.optional:
            continue
        for track in mech.tracks:
            deadlines = {code: today + timedelta(days=14 * n) for n, code in
                         enumerate(["GOAL", "IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC", "EFF"], 1)}
            cycle = cycles.create_cycle(track=track, owner=orgs["MUN01"], period=period, actor=official,
                                        responsible=official, deadlines=deadlines)
            upto, leave = PROGRESS.get(mech.code, (0, "draft"))
            if track.position > 1:
                upto, leave = (0, "draft") if track.blocks else (1, "on_review")
            _advance(cycle, upto, official, head, rng, leave)
    # The second municipality has just started; a school runs its own (ВСОКО) cycle.
    m11 = db.session.scalar(select(Track).join(Track.mechanism).where(Mechanism.set_id == mset.id,
                                                                       Mechanism.code == "M1.1"))
    cycles.create_cycle(track=m11, owner=orgs["MUN02"], period=period, actor=users["official2"],
                        responsible=users["official2"], deadlines={"GOAL": today + timedelta(days=21)})
    school_set = db.session.scalar(select(MechanismSet).where(MechanismSet.level == "school",
                                                              MechanismSet.active.is_(True)))
    i11 = school_set.mechanisms[0].tracks[0]
    cycles.create_cycle(track=i11, owner=orgs["MUN01-S01"], period=period, actor=users["director"],
                        responsible=users["teacher"], deadlines={"GOAL": today + timedelta(days=10)})
    # The region's assessment of the municipal mechanisms, in its window (app/assessment/demo.py).
    seed_campaign(orgs["region"], [orgs["MUN01"], orgs["MUN02"]], manager=users["region_official"],
                  head=users["region_head"], signer=users["minister"],
                  coordinators={orgs["MUN01"].id: official, orgs["MUN02"].id: users["official2"]},
                  experts=[users["expert"], users["expert2"]], today=today, period=period)
    # The vertical: the region's R1.1 sets invariants, the municipalities and a school carry them (README).
    if regional is not None:
        _seed_vertical(regional, orgs, users, today=today, period=period, rng=rng)
    # The demo opens with the reminders and escalations its deadlines already call for.
    run_reminders(utcnow())
    return True


# The region's invariants for the municipalities (README, «The vertical»), one of each way of rolling up: code →
# (aggregation, baseline, target). The region picks them from the M1.1 library its own indicators come from (an
# indicator of the same code at the lower level is linked, not duplicated); the count of observers is its own. The
# figures are the region's, not the library's random demo ones: the share of «2» at the 6,8 % SUMMARY["EFF"] cites.
REGIONAL_INVARIANTS = {"M1.1-01": ("mean_weighted", 86.0, 90.0), "M1.1-04": ("share_meeting", 6.8, 5.0),
                       "R1.1-12": ("sum", 240.0, 300.0)}
REGIONAL_OWN_INDICATOR = {
    "code": "R1.1-12", "name": "Число общественных наблюдателей, аккредитованных на ВПР и школьный этап ВсОШ",
    "unit": "чел.", "definition": "Число граждан, аккредитованных в качестве общественных наблюдателей",
    "group_name": "объективность процедур и олимпиад", "source": "отчёты ОО", "collection_method": "отчёты ОО",
    "periodicity": "ежегодно", "direction": "up"}
REGIONAL_METHODS = [
    ("ФИС ОКО (результаты ВПР)", "статистический анализ результатов, сравнение муниципалитетов", "выгрузки ФИС ОКО, "
     "аналитические отчёты РЦОКО", "ежегодно, май–июнь"),
    ("РИС ГИА (результаты ОГЭ и ЕГЭ)", "статистический анализ", "отчёты РЦОКО", "ежегодно, июль"),
    ("сведения муниципалитетов", "свод сведений муниципальных органов управления образованием",
     "электронная форма запроса сведений", "ежегодно, декабрь"),
]
REGIONAL_GOAL_LINKS = {
    # (owner code, mechanism code): the goal its cycle sets, linked to the goal one level up
    ("MUN02", "M1.1"): ("Повышение объективности оценочных процедур",
                        "Обеспечить общественное наблюдение на ВПР во всех общеобразовательных организациях района",
                        "Региональная цель на {period} год — объективность оценочных процедур; в районе часть "
                        "аудиторий ВПР {spring} года прошла без наблюдателей.",
                        "Волонтёры из числа родителей, опыт проведения школьного этапа ВсОШ."),
    ("MUN01-S01", "I1.1"): ("Объективность и качество подготовки обучающихся",
                            "Повысить долю обучающихся 4 классов, достигших базового уровня по ВПР, при объективном "
                            "проведении процедур",
                            "Муниципальная цель на {period} год; по итогам ВПР {spring} года часть обучающихся "
                            "4 классов не достигла базового уровня по математике.",
                            "Школьное методическое объединение учителей начальных классов, общественные "
                            "наблюдатели из числа родителей."),
}


def _pair(indicator, rng: random.Random, organisations: int) -> tuple[str, str]:
    """(last period's value, this period's) of one organisation: mostly a little better this year."""
    before = sample_value(indicator, rng, organisations)
    number = float(before.replace(",", "."))
    sign = -1 if indicator.direction == "down" else 1
    if ru.is_count_unit(indicator.unit):
        return before, str(max(0, round(number * (1 + sign * rng.uniform(-0.1, 0.3)))))
    now = number + sign * rng.uniform(-1.5, 4)
    now = min(100.0, max(0.0, now)) if unit_rule(indicator.unit) == "percent" else max(0.0, now)
    return before, f"{now:.1f}".replace(".", ",")


def _answer(submission, values: dict, *, actor) -> None:
    """The addressee's answer through the request form's service: {indicator: value text}."""
    rows = [{"indicator_code": ind.code, "organisation_code": submission.organisation.code,
             "period": submission.request.period, "value": value} for ind, value in values.items()]
    report = save_values(rows, actor=actor, source="form", submission=submission)
    if not report.ok:  # not an assert: the check must hold under python -O too
        raise RuntimeError("; ".join(report.lines()))
    monitoring.transition_submission(submission, "submit", actor=actor)


def _from_schools(submission, values: dict, *, official, today: date) -> None:
    """ГО Северный passes the region's request down to its institutions: its schools with a director answer and are
    accepted, the others are marked «не представлено». The official's next step is hers to take in the demo:
    «Рассчитать по данным подведомственных организаций» and send the answer up."""
    child = monitoring.pass_down(submission, actor=official, today=today)
    for sub in child.submissions:
        directors = [u for u in users_with_role_at(sub.organisation, {"director"})
                     if "director" in u.roles_over(sub.organisation)]
        if sub.organisation.id in values and directors:
            _answer(sub, values[sub.organisation.id], actor=directors[0])
            monitoring.transition_submission(sub, "accept", actor=official)
        else:
            reason = ("Показатели касаются общеобразовательных организаций." if sub.organisation.kind != "school"
                      else "В организации не назначен руководитель, ответственный за сведения.")
            monitoring.transition_submission(sub, "mark_not_provided", actor=official, comment=reason)
    monitoring.transition_request(child, "close", actor=official, today=today)


def _regional_invariants(region, users, *, today: date, period: str, rng: random.Random):
    """The region's R1.1 (the cycle the assessment's demo scores, with its goal) gets its indicators and methods
    approved, three indicators invariant, before the municipal cycles open: they take the invariants in as they are
    created (cycles.create_cycle), as a cycle opened after the region's decision does."""
    manager, head = users["region_official"], users["region_head"]
    regional = regional_cycle(region, manager, today, period)
    if regional is None:
        return None
    _advance(regional, 1, manager, head, rng)  # «Цели»
    _fill_indicators(regional, manager, rng, library="M1.1")
    cycles.save_content(Indicator, regional, actor=manager, data={
        **REGIONAL_OWN_INDICATOR, "responsible": _indicator_responsibles(regional, manager)[0]})
    for ind in regional.indicators:
        if ind.code in REGIONAL_INVARIANTS:
            cycles.save_content(Indicator, regional, actor=manager, obj=ind,
                                data={"code": ind.code, "group_name": ind.group_name, "invariant": True,
                                      **dict(zip(("aggregation", "baseline", "target"),
                                                 REGIONAL_INVARIANTS[ind.code], strict=True))})
    for source, method, tool, schedule in REGIONAL_METHODS:
        cycles.save_content(CollectionMethod, regional, actor=manager,
                            data={"source": source, "method": method, "tool": tool, "schedule": schedule})
    _advance(regional, 2, manager, head, rng)  # «Показатели» and «Методы сбора»: «Мониторинг» opens
    return regional


def _own_cycle(org, code: str, period: str):
    return db.session.scalar(select(Cycle).join(Cycle.track).join(Track.mechanism).where(
        Cycle.owner_id == org.id, Cycle.period == period, Mechanism.code == code))


def _seed_vertical(regional, orgs, users, *, today: date, period: str, rng: random.Random) -> None:
    """The rest of the vertical, through the services the pages use: the municipalities' M1.1 and СОШ № 1's I1.1
    (holding the region's invariants since they opened) link a goal to the one above; the region asks the
    municipalities for last year's and this year's values. ГО Северный passes both down to its schools, whose answers
    are in (computing and sending its own answer up is the official's step to take), Озёрный МР answers last year's
    on its own and this year's not yet — so the roll-up has rows, totals, dynamics and «не ответил», and the goals
    cascade has three levels."""
    m11 = _own_cycle(orgs["MUN01"], "M1.1", period)
    _fill_goals(m11, users["official"], parent_goal_id=regional.goals[0].id)
    for (org_key, code), (direction, statement, justification, realism) in REGIONAL_GOAL_LINKS.items():
        parent = regional.goals[0] if code.startswith("M") else m11.goals[0]
        cycles.save_content(Goal, _own_cycle(orgs[org_key], code, period),
                            actor=users["official2" if code.startswith("M") else "director"], data={
            "direction": direction, "statement": statement, "realism": realism, "parent_goal_id": parent.id,
            "justification": justification.format(period=period, spring=period[:4])})

    manager = users["region_official"]
    invariants = [i for i in regional.indicators if i.invariant]
    schools = [o for o in orgs.values() if o.kind == "school" and o.is_within(orgs["MUN01"])]
    # a head count shared so that the schools that answer hold about what a municipality has
    answering = [o for o in schools if users_with_role_at(o, {"director"})]
    by_school = {o.id: {ind: _pair(ind, rng, 2 * len(answering)) for ind in invariants} for o in answering}
    for which, when in enumerate((previous_period(regional), period)):
        request = monitoring.create_request(
            regional, title=f"Сведения о значениях обязательных показателей за {when} учебный год", period=when,
            deadline=today + timedelta(days=14), indicator_ids=[i.id for i in invariants],
            organisation_ids=[orgs["MUN01"].id, orgs["MUN02"].id], actor=manager, today=today)
        monitoring.transition_request(request, "send", actor=manager, today=today)
        by_org = {s.organisation_id: s for s in request.submissions}
        _from_schools(by_org[orgs["MUN01"].id], {org_id: {ind: pair[which] for ind, pair in values.items()}
                                                  for org_id, values in by_school.items()},
                      official=users["official"], today=today)
        if which == 0:  # Озёрный МР answered last year's figures from its own records; this year's are not in yet
            _answer(by_org[orgs["MUN02"].id], {ind: _pair(ind, rng, 2)[0] for ind in invariants},
                    actor=users["official2"])
            monitoring.transition_submission(by_org[orgs["MUN02"].id], "accept", actor=manager)


def demo_user(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == login))
