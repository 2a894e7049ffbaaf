"""app.core.russian on a table of real positions, organisation names and personal names."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.core import russian as ru

pytestmark = pytest.mark.db_independent  # no test database: the SQLite pass only (Makefile)


@pytest.mark.parametrize("position, dative, genitive", [
    ("Директор МБОУ «Лицей № 2»", "Директору МБОУ «Лицей № 2»", "Директора МБОУ «Лицей № 2»"),
    ("Начальник управления образования", "Начальнику управления образования", "Начальника управления образования"),
    ("Главный специалист отдела образования", "Главному специалисту отдела образования",
     "Главного специалиста отдела образования"),
    ("Заместитель начальника управления", "Заместителю начальника управления", "Заместителя начальника управления"),
    ("Заведующая МБДОУ «Детский сад № 5»", "Заведующей МБДОУ «Детский сад № 5»",
     "Заведующей МБДОУ «Детский сад № 5»"),
    ("Заведующий отделом", "Заведующему отделом", "Заведующего отделом"),
    ("Исполняющий обязанности директора", "Исполняющему обязанности директора", "Исполняющего обязанности директора"),
    ("И.о. директора", "И.о. директора", "И.о. директора"),
    ("Министр образования и науки Челябинской области", "Министру образования и науки Челябинской области",
     "Министра образования и науки Челябинской области"),
    ("Старший методист", "Старшему методисту", "Старшего методиста"),
    ("Ведущий специалист", "Ведущему специалисту", "Ведущего специалиста"),
    ("Педагог-психолог", "Педагогу-психологу", "Педагога-психолога"),
    ("Председатель комитета по образованию", "Председателю комитета по образованию",
     "Председателя комитета по образованию"),
    ("Заместитель директора по учебно-воспитательной работе", "Заместителю директора по учебно-воспитательной работе",
     "Заместителя директора по учебно-воспитательной работе"),
    ("директор", "директору", "директора"),
    ("Муниципальное бюджетное общеобразовательное учреждение «Лицей № 2»",
     "Муниципальному бюджетному общеобразовательному учреждению «Лицей № 2»",
     "Муниципального бюджетного общеобразовательного учреждения «Лицей № 2»"),
    ("Ведущий специалист-эксперт", "Ведущему специалисту-эксперту", "Ведущего специалиста-эксперта"),
    ("Руководитель", "Руководителю", "Руководителя"),
])
def test_positions_in_the_dative_and_genitive(position, dative, genitive):
    assert ru.dative(position) == dative
    assert ru.genitive(position) == genitive


@pytest.mark.parametrize("full_name, short, dative, accusative, gender", [
    ("Ковалёва Наталья Ивановна", "Н.И. Ковалёва", "Н.И. Ковалёвой", "Н.И. Ковалёву", "female"),
    ("Иванов Сергей Петрович", "С.П. Иванов", "С.П. Иванову", "С.П. Иванова", "male"),
    ("Дурново Анна Петровна", "А.П. Дурново", "А.П. Дурново", "А.П. Дурново", "female"),
    ("Шевченко Ольга Ивановна", "О.И. Шевченко", "О.И. Шевченко", "О.И. Шевченко", "female"),
    ("Шевченко Тарас Григорьевич", "Т.Г. Шевченко", "Т.Г. Шевченко", "Т.Г. Шевченко", "male"),
    ("Римский-Корсаков Николай Андреевич", "Н.А. Римский-Корсаков", "Н.А. Римскому-Корсакову",
     "Н.А. Римского-Корсакова", "male"),
    ("Петрова-Водкина Мария Сергеевна", "М.С. Петрова-Водкина", "М.С. Петровой-Водкиной", "М.С. Петрову-Водкину",
     "female"),
    ("Белых Ирина Олеговна", "И.О. Белых", "И.О. Белых", "И.О. Белых", "female"),
    ("Белых Олег Иванович", "О.И. Белых", "О.И. Белых", "О.И. Белых", "male"),
    ("Жук Анна Сергеевна", "А.С. Жук", "А.С. Жук", "А.С. Жук", "female"),
    ("Жук Иван Сергеевич", "И.С. Жук", "И.С. Жуку", "И.С. Жука", "male"),
    ("Кузьмина Елена Викторовна", "Е.В. Кузьмина", "Е.В. Кузьминой", "Е.В. Кузьмину", "female"),
    ("Соколовская Татьяна Юрьевна", "Т.Ю. Соколовская", "Т.Ю. Соколовской", "Т.Ю. Соколовскую", "female"),
    ("Н.И. Ковалёва", "Н.И. Ковалёва", "Н.И. Ковалёвой", "Н.И. Ковалёву", "female"),
])
def test_names(full_name, short, dative, accusative, gender):
    assert ru.gender_of(full_name) == gender
    assert ru.initials_surname(full_name) == short
    assert ru.name_dative(full_name) == dative
    assert ru.deputy_for(full_name) == f"за {accusative}"


def test_full_names_and_objects_with_full_name():
    class Person:
        full_name = "Ковалёва  Наталья Ивановна"

    assert ru.full_name_in("Ковалёва Наталья Ивановна", "datv") == "Ковалёвой Наталье Ивановне"
    assert ru.full_name_in("Петрова Мария Ивановна", "gent") == "Петровой Марии Ивановны"
    assert ru.name_dative(Person()) == "Н.И. Ковалёвой"
    assert ru.initials_surname(None) == ""


def test_addressee_block_is_in_the_dative():
    assert ru.addressee_lines("Директор", "МБОУ «Лицей № 2»", "Ковалёва Наталья Ивановна") == [
        "Директору МБОУ «Лицей № 2»", "Н.И. Ковалёвой"]
    assert ru.addressee_lines("заведующая", "МБДОУ «Детский сад № 5»", None) == ["Заведующей МБДОУ «Детский сад № 5»"]
    assert ru.addressee_lines(None, "МБОУ СОШ № 1", "Иванов Сергей Петрович") == [
        "Руководителю МБОУ СОШ № 1", "С.П. Иванову"]


@pytest.mark.parametrize("value, digits, text", [
    (12, 2, "12"), (Decimal("45.5000"), 2, "45,5"), (34.664951989026065, 2, "34,66"), (-1.9263485690432656, 2, "-1,93"),
    (1500, 2, "1500"), (15000, 2, "15\u00a0000"), (1234567.891, 1, "1\u00a0234\u00a0567,9"), (None, 2, "—"),
    (-0.001, 2, "0"), (0.5, 0, "0"), (2.5, 0, "2"), ("7.10", 2, "7,1"),
])
def test_numbers(value, digits, text):
    assert ru.number(value, digits) == text


def test_a_column_of_numbers_has_one_number_of_decimals():
    """A table column never mixes «52,9» and «85,93»: `fixed` keeps the trailing zeros, `column` takes the precision
    the most precise value needs (or the one given) and keeps a count whole."""
    assert ru.number(12, 1, fixed=True) == "12,0"
    assert ru.number(-0.001, 2, fixed=True) == "0,00"
    assert ru.number(15000.5, 1, fixed=True) == "15\u00a0000,5"
    assert ru.decimals([45, 45.5, 52.75, None]) == 2 and ru.decimals([42, "60"]) == 0
    assert ru.column([52.9, 24.33, 85.93, 72, None], ["%", "чел.", "%", "%", "%"]) == [
        "52,90", "24", "85,93", "72,00", "—"]
    assert ru.column([52.9, 85.93], ["%", "%"], 1) == ["52,9", "85,9"]
    assert ru.column([42, 60], ["%", "%"], least=1) == ["42,0", "60,0"]
    assert ru.column([3.6, 1, -1.2, 0], ["%", "чел.", "%", "%"], sign=True) == ["+3,6", "+1", "−1,2", "0,0"]


def test_percent_integer_signed_units():
    assert ru.percent(72.5) == "72,5 %"
    assert ru.percent(40) == "40 %"
    assert ru.percent(33.333) == "33,3 %"
    assert ru.percent(None) == "—"
    assert ru.integer(24.33) == "24"
    assert ru.signed(3.5) == "+3,5"
    assert ru.signed(-1.2) == "−1,2"
    assert ru.signed(0) == "0"
    assert ru.with_unit(72.5, "%") == "72,5 %"
    assert ru.with_unit(4.25, "балл") == "4,25 балл"


@pytest.mark.parametrize("n, word, text", [
    (1, "школа", "1 школа"), (3, "школа", "3 школы"), (5, "школа", "5 школ"), (11, "школа", "11 школ"),
    (21, "организация", "21 организация"), (22, "организация", "22 организации"), (5, "человек", "5 человек"),
    (2, "человек", "2 человека"), (12, "показатель", "12 показателей"), (1, "показатель", "1 показатель"),
    (104, "год", "104 года"), (5, "год", "5 лет"), (3, ("лист", "листа", "листов"), "3 листа"),
])
def test_plural_agreement(n, word, text):
    assert ru.plural(n, word) == text


def test_dates():
    day = date(2026, 4, 20)
    assert ru.date_words(day) == "20 апреля 2026 г."
    assert ru.date_words(date(2026, 12, 6)) == "6 декабря 2026 г."  # ГОСТ Р 7.0.97: no quotes, no leading zero
    assert ru.date_short(date(2026, 12, 3)) == "03.12.2026"
    assert ru.date_short(datetime(2026, 12, 3, 15, 0)) == "03.12.2026"
    assert ru.date_short(None) == "" and ru.date_words(None) == ""
    assert ru.date_range(date(2026, 9, 1), date(2026, 9, 30)) == "01.09.2026 – 30.09.2026"
    assert ru.date_range(None, None) == "—"


@pytest.mark.parametrize("text, quoted", [
    ("Лицей № 2", "«Лицей № 2»"),
    ("МБОУ «Лицей № 2»", "«МБОУ „Лицей № 2“»"),
    ("«Гимназия № 3»", "«Гимназия № 3»"),
    ('Конкурс "Учитель года"', "«Конкурс „Учитель года“»"),
    ("", ""),
])
def test_quotes_never_nest_the_same_marks(text, quoted):
    assert ru.quote(text) == quoted


def test_fix_nested_quotes_and_sentences():
    assert ru.fix_nested_quotes("О проведении «Конкурса «Учитель года»»") == "О проведении «Конкурса „Учитель года“»"
    assert ru.fix_nested_quotes("«А» и «Б»") == "«А» и «Б»"
    assert ru.sentence("Срок: 01.09.2026") == "Срок: 01.09.2026."
    assert ru.sentence("до 2026 г.") == "до 2026 г."
    assert ru.join_list(["А", "Б", "В"]) == "А, Б и В"
    assert ru.lower_first("Начальник управления") == "начальник управления"
    assert ru.lower_first("ИМЦ") == "ИМЦ"


def test_the_analyser_is_built_once_per_process():
    assert ru.morph() is ru.morph()
