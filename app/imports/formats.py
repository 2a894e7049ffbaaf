"""The v1 exchange formats (domain.md §9): columns, their Russian aliases and value vocabularies.

Header names are compared case-insensitively, with «ё» as «е» and punctuation, underscores and «%»
ignored, so «School_Code», «код школы» and «Код ОО» all name the same column.
"""

import re

from app.imports.readers import Column, Spec
from app.imports.structures import task_label

ORGANISATION_SPEC = Spec(columns=(
    Column("code", "код организации", ("код", "код организации", "код оо"), required=True),
    Column("name", "полное наименование", ("наименование", "полное наименование", "название"), required=True),
    Column("short_name", "краткое наименование", ("краткое наименование", "сокращенное наименование",
                                                  "краткое название")),
    Column("kind", "тип организации", ("тип", "тип организации", "вид организации"), required=True),
    Column("parent_code", "код вышестоящей организации", ("код вышестоящей организации", "код вышестоящей",
                                                         "вышестоящая организация", "входит в")),
    Column("settlement", "тип населённого пункта", ("тип населенного пункта", "населенный пункт", "местность")),
    Column("remote", "удалённость (0/1)", ("удаленность", "удаленная")),
    Column("preschool_groups", "дошкольные группы (0/1)", ("дошкольные группы", "есть дошкольные группы")),
    Column("students", "число обучающихся", ("число обучающихся", "обучающихся", "контингент")),
    Column("profile", "профиль", ("профиль",)),
    Column("low_income_share", "доля обучающихся из малообеспеченных семей, %",
           ("доля малообеспеченных", "доля обучающихся из малообеспеченных семей")),
    Column("non_native_share", "доля обучающихся, для которых русский язык не родной, %",
           ("доля неродной русский", "доля обучающихся для которых русский язык не родной")),
    Column("ovz_share", "доля обучающихся с ОВЗ, %", ("доля овз", "доля обучающихся с овз")),
    Column("unqualified_teachers_share", "доля педагогов без требуемой квалификации, %",
           ("доля педагогов без квалификации", "доля педагогов без требуемой квалификации")),
    Column("teacher_vacancies", "вакансии педагогов", ("вакансии педагогов", "вакансии")),
    # Реквизиты for the бланк of letters (app/orgs/requisites.py).
    Column("head_position", "должность руководителя", ("должность руководителя", "должность директора",
                                                        "должность")),
    Column("address", "адрес", ("адрес", "почтовый адрес", "юридический адрес", "адрес организации")),
    Column("phone", "телефон", ("телефон", "тел", "телефон организации", "контактный телефон")),
    Column("email", "электронная почта", ("электронная почта", "e-mail", "email", "эл почта", "почта")),
    Column("website", "сайт", ("сайт", "веб-сайт", "адрес сайта", "web")),
    Column("okpo", "ОКПО", ("окпо", "код окпо")),
    Column("ogrn", "ОГРН", ("огрн", "основной государственный регистрационный номер")),
    Column("inn", "ИНН", ("инн", "идентификационный номер налогоплательщика")),
    Column("kpp", "КПП", ("кпп", "код причины постановки на учет")),
))

RESULTS_SPEC = Spec(
    columns=(
        Column("procedure", "процедура (ВПР, ОГЭ, ЕГЭ, НИКО, РДР)", ("процедура", "оценочная процедура"),
               required=True),
        Column("year", "год", ("год", "год проведения"), required=True),
        Column("subject", "предмет", ("предмет", "учебный предмет"), required=True),
        Column("grade", "класс (параллель)", ("класс", "параллель"), required=True),
        Column("school_code", "код школы", ("код школы", "код оо", "код организации", "школа"), required=True),
        Column("class_label", "класс с буквой", ("класс с буквой", "буква класса", "литера", "литер класса")),
        Column("student_code", "код участника", ("код участника", "код ученика", "код обучающегося"),
               required=True),
        Column("primary_score", "первичный балл", ("первичный балл", "балл", "сумма баллов"), required=True),
        # Not required when the work's structure gives every task's maximum (their sum is the work's).
        Column("max_score", "максимальный балл", ("максимальный балл", "макс балл", "максимум")),
        Column("mark", "отметка", ("отметка", "оценка"), required=True),
        Column("term_mark", "отметка за последний период", ("отметка за последний период", "отметка за четверть",
                                                            "отметка за триместр", "отметка по журналу",
                                                            "четвертная отметка")),
        Column("variant", "вариант", ("вариант", "номер варианта")),
        # The regional processing centre's (РЦОИ) form: part 1 as a string of marks per task, part 2 as
        # points with their maxima (app/imports/structures.py).
        Column("part1", "задания с кратким ответом (часть 1)", (
            "часть 1", "ответы части 1", "задания с кратким ответом", "краткие ответы", "результаты части 1",
            "задания части 1", "задания с кратким ответом часть 1")),
        Column("part2", "задания с развёрнутым ответом (часть 2)", (
            "часть 2", "баллы части 2", "задания с развернутым ответом", "развернутые ответы",
            "результаты части 2", "задания части 2", "задания с развернутым ответом часть 2")),
    ),
    numbered=("task_", "балл за задание", re.compile(r"(?:task|задание|зад|з) ?№? ?(\d{1,3})")),
    task_label=task_label,
)

PROCEDURES = {"ВПР": "ВПР", "ОГЭ": "ОГЭ", "ЕГЭ": "ЕГЭ", "НИКО": "НИКО", "РДР": "РДР",
              "VPR": "ВПР", "OGE": "ОГЭ", "EGE": "ЕГЭ", "NIKO": "НИКО", "RDR": "РДР"}
# The unified state exam (ЕГЭ) has no 2–5 mark: its rows may leave `mark` empty.
PROCEDURES_WITHOUT_MARK = {"ЕГЭ"}

KINDS = {
    "region": "region", "регион": "region", "субъект рф": "region",
    "municipality": "municipality", "муниципалитет": "municipality", "муниципальное образование": "municipality",
    "school": "school", "школа": "school", "оо": "school", "общеобразовательная организация": "school",
    "preschool": "preschool", "доо": "preschool", "детский сад": "preschool",
    "дошкольная образовательная организация": "preschool",
    "additional": "additional", "удо": "additional", "организация дополнительного образования": "additional",
    "methodical_centre": "methodical_centre", "методический центр": "methodical_centre",
    "assessment_centre": "assessment_centre", "рцоко": "assessment_centre",
}
SETTLEMENTS = {
    "city": "city", "город": "city", "town": "town", "пгт": "town", "поселок городского типа": "town",
    "village": "village", "село": "village", "сельская местность": "village", "сельская": "village",
}
PROFILES = {
    "ordinary": "ordinary", "общеобразовательная": "ordinary", "lyceum": "lyceum", "лицей": "lyceum",
    "gymnasium": "gymnasium", "гимназия": "gymnasium", "in_depth": "in_depth",
    "с углубленным изучением предметов": "in_depth", "суиоп": "in_depth",
}
BOOLEANS = {"1": True, "0": False, "да": True, "нет": False, "true": True, "false": False, "yes": True, "no": False,
            "истина": True, "ложь": False}


def vocabulary_key(text: str) -> str:
    return " ".join(text.strip().lower().replace("ё", "е").split())
