"""Russian for documents: cases of positions and names, numbers, dates, plural agreement, quotes.

Positions and other common nouns are inflected with pymorphy3 (OpenCorpora dictionary); personal names with
petrovich (rules made for Russian surnames, first names and patronymics, including indeclinable ones such as
Дурново, Шевченко for either gender, or a woman's Жук). Both analysers are built once per process
(`functools.cache`): the dictionary takes ~0.1 s to load and a batch of 1,500 letters must not pay it each time;
each inflection is cached too, since a batch names the same few people and positions over and over.

    dative("Директор МБОУ «Лицей № 2»")         → «Директору МБОУ «Лицей № 2»»
    name_dative("Ковалёва Наталья Ивановна")     → «Н.И. Ковалёвой»
    deputy_for("Ковалёва Наталья Ивановна")      → «за Н.И. Ковалёву»
    percent(72.5) → «72,5 %»; date_words(d) → «20 апреля 2026 г.»; plural(3, "школа") → «3 школы»
    quote('МБОУ «Лицей № 2»') → «МБОУ „Лицей № 2“» in outer «…»

Nothing here knows the application's vocabulary: a "person" is a full name (Фамилия Имя Отчество) or any
object with `full_name`.
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

DASH = "—"
NBSP = "\u00a0"
MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря")
CASES = {"nomn": "nomn", "gent": "gent", "datv": "datv", "accs": "accs", "ablt": "ablt", "loct": "loct"}
_PETROVICH_CASE = {"gent": 0, "datv": 1, "accs": 2, "ablt": 3, "loct": 4}


# --- the analysers, once per process --------------------------------------------------------------------

@cache
def morph():
    """The pymorphy3 analyser (loaded once per process)."""
    # Local: the dictionaries take about a second to load; only a process that renders documents pays it.
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@cache
def _petrovich():
    # Local: its rules load on first use, as the analyser above.
    from petrovich.main import Petrovich

    return Petrovich()


def warm_up() -> None:
    """Load both analysers now, with one inflection each (pymorphy3 and petrovich finish loading on first use).
    `flask jobs worker` calls it before it starts: RQ forks a process per job, and a job inherits what its
    parent loaded, but would load the dictionary again (≈ 0.1–0.5 s, a tenth of a 25-letter job) for itself."""
    inflect_phrase("Директор школы", "datv")
    _full_name_in("Иванова Мария Петровна", "datv")


# --- case preservation ----------------------------------------------------------------------------------

def _like(model: str, word: str) -> str:
    """`word` written with `model`'s capitalisation (Директор → Директору, МБОУ stays)."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _keep_yo(model: str, word: str) -> str:
    """pymorphy writes «е» for «ё»; restore «ё» where the original had it in the same place."""
    if "ё" not in model.lower():
        return word
    chars = list(word)
    for i, ch in enumerate(model.lower()[:len(chars)]):
        if ch == "ё" and chars[i] in "еЕ":
            chars[i] = "ё" if chars[i] == "е" else "Ё"
    return "".join(chars)


# --- positions and other noun phrases ------------------------------------------------------------------

_WORD = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)?")
_HEADS = {"NOUN"}
_AGREEING = {"ADJF", "PRTF", "NUMR"}
# Abbreviated positions that are written the same in every case: «И.о. директора», «Врио начальника».
_INVARIANT_START = re.compile(r"^\s*(и\.\s?о\.|врио|вр\.\s?и\.\s?о\.)", re.IGNORECASE)


def _nominative_parses(word: str) -> list:
    """The parses of `word` as a nominative noun, adjective or participle (not an abbreviation)."""
    return [parse for parse in morph().parse(word)
            if parse.tag.case == "nomn" and (parse.tag.POS in _HEADS or parse.tag.POS in _AGREEING)
            and "Abbr" not in parse.tag]


def _is_adverb(word: str) -> bool:
    parses = morph().parse(word)
    return bool(parses) and parses[0].tag.POS == "ADVB"


def _agrees(modifier, noun) -> bool:
    if modifier.tag.number != noun.tag.number:
        return False
    return noun.tag.number == "plur" or "ms-f" in noun.tag or noun.tag.gender == modifier.tag.gender


def _next_nouns(following: tuple[str, ...]) -> list:
    """The nominative noun parses of the noun the words `following` lead to, skipping the agreeing adjectives
    in between («бюджетное общеобразовательное учреждение» → «учреждение»)."""
    for i, word in enumerate(following):
        parses = _nominative_parses(word)
        if not parses:
            return []
        adjectival = any(p.tag.POS in _AGREEING for p in parses)
        if adjectival and i + 1 < len(following) and _nominative_parses(following[i + 1]):
            continue
        return [p for p in parses if p.tag.POS == "NOUN"]
    return []


def _choose(word: str, following: tuple[str, ...]):
    """(parse, is_head) for `word` of a noun phrase: an adjective or participle agreeing with the nominative noun
    that follows («ведущий специалист», «старший методист», «муниципальное бюджетное учреждение») modifies it;
    otherwise the word is the head («исполняющий обязанности», «заведующая МБДОУ»). (None, False) when the word
    is not nominative."""
    parses = _nominative_parses(word)
    if not parses:
        return None, False
    nouns = _next_nouns(following)
    for parse in parses:
        if parse.tag.POS in _AGREEING and any(_agrees(parse, noun) for noun in nouns):
            return parse, False
    return next((p for p in parses if p.tag.POS == "NOUN"), parses[0]), True


@lru_cache(maxsize=4096)
def inflect_phrase(text: str, case: str) -> str:
    """A position or another noun phrase in the nominative («Главный специалист отдела образования»), put in
    `case` (gent, datv, accs, ablt, loct). Only the head group changes: the agreeing words in front and the head
    noun; what follows the head (its genitive dependents, an organisation's name) stays as it is."""
    if not text or case == "nomn" or _INVARIANT_START.match(text):
        return text
    parts = _dash_parts(text)
    if len(parts) > 1:
        # «Заместитель начальника управления — начальник отдела»: each position the dash joins is in the case
        # (the addressee block printed «Заместителю начальника управления — начальник отдела»)
        return f" {DASH} ".join(inflect_phrase(part, case) for part in parts)
    words = list(_WORD.finditer(text))
    out, pos = [], 0
    for i, match in enumerate(words):
        word = match.group(0)
        if not out and _is_adverb(word):
            # «Временно исполняющий обязанности …»: an adverb in front of the head stays as it is (the phrase was
            # left in the nominative: «Временно исполняющий обязанности» in the addressee block).
            continue
        # The words right after this one (only spaces between) can hold the noun it agrees with.
        following = []
        for prev, nxt in zip(words[i:], words[i + 1:]):
            if text[prev.end():nxt.start()].strip():
                break
            following.append(nxt.group(0))
        parse, head = _choose(word, tuple(following))
        if parse is None:
            break
        grammemes = {case}
        if parse.tag.number == "plur":
            grammemes.add("plur")
        if case == "accs" and parse.tag.gender != "femn":
            grammemes.add("anim")  # the accusative of a person is the genitive form («за главного специалиста»)
        inflected = parse.inflect(grammemes) or parse.inflect({case})
        if inflected is None:
            break
        out.append(text[pos:match.start()])
        out.append(_like(word, _keep_yo(word, inflected.word)))
        pos = match.end()
        if head:
            break
    if not out:
        return text
    return "".join(out) + text[pos:]


def _dash_parts(text: str) -> list[str]:
    """`text` split at each « — » outside quotation marks (an organisation's name may hold a dash of its own)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "«"
        depth -= char == "»" and depth > 0
        if not depth and text.startswith(f" {DASH} ", i):
            parts.append(text[start:i])
            start = i + 3
    return [*parts, text[start:]]


def dative(position: str) -> str:
    """«Директор МБОУ «Лицей № 2»» → «Директору МБОУ «Лицей № 2»» (кому: the addressee block)."""
    return inflect_phrase(position, "datv")


def genitive(phrase: str) -> str:
    """«начальник управления образования» → «начальника управления образования» (чего / кого)."""
    return inflect_phrase(phrase, "gent")


def accusative(phrase: str) -> str:
    return inflect_phrase(phrase, "accs")


def instrumental(phrase: str) -> str:
    return inflect_phrase(phrase, "ablt")


def lower_first(text: str) -> str:
    """A phrase inside a sentence starts in lower case («начальник управления»); an acronym stays («ИМЦ»)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper() and text[1] != ".":
        return text[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# --- personal names -------------------------------------------------------------------------------------

_FEMALE_SURNAME = re.compile(r"(ова|ева|ёва|ина|ына|ая|яя)$", re.IGNORECASE)
_MALE_SURNAME = re.compile(r"(ов|ев|ёв|ин|ын|ий|ой|ый)$", re.IGNORECASE)
# Surnames in -ых/-их (Белых, Долгих) are not declined in either gender; petrovich's rules miss them.
_INDECLINABLE = re.compile(r"(ых|их)$", re.IGNORECASE)
# A surname in -а/-я after a consonant (Сорока, Лисица, Мазепа, Зозуля) is declined as a noun of the first
# declension for either gender (Д.А. Сороке, О.А. Лисице); petrovich leaves it as it is. The few stressed French
# ones that are not declined (Дюма, Золя) are not told apart: a Ukrainian or Russian surname is far likelier.
_NOUN_SURNAME = re.compile(r"[бвгджзклмнпрстфхцчшщь][ая]$", re.IGNORECASE)
# A one-syllable surname in -ой (Цой) is a noun (Цою, Цоя); petrovich takes it for an adjective (Толстой → Толстому).
_SHORT_OJ = re.compile(r"^[^\W\d_]{1,2}ой$", re.IGNORECASE)


def _full_name(person) -> str:
    if person is None:
        return ""
    if isinstance(person, str):
        return " ".join(person.split())
    return " ".join((getattr(person, "full_name", None) or "").split())


def split_name(person) -> tuple[str, str, str]:
    """(Фамилия, Имя, Отчество) of a full name written surname first; missing parts are ''. An already
    shortened «Н.И. Ковалёва» gives ('Ковалёва', 'Н.', 'И.')."""
    parts = _full_name(person).split()
    if not parts:
        return "", "", ""
    if len(parts) > 3 and parts[-1].lower() in ("оглы", "кызы", "улы", "гызы"):
        parts = parts[:2] + [" ".join(parts[2:])]
    if parts[0].endswith(".") and len(parts) >= 2:  # «Н.И. Ковалёва» / «Н. И. Ковалёва»
        initials = re.findall(r"[^\W\d_]\.(?:-[^\W\d_]\.)?", "".join(parts[:-1]))
        return parts[-1], initials[0] if initials else "", initials[1] if len(initials) > 1 else ""
    return parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""


@lru_cache(maxsize=4096)
def gender_of(full_name: str) -> str:
    """'female' or 'male', told by the patronymic, then the first name, then the surname's ending."""
    surname, first, middle = split_name(full_name)
    middle_l = middle.lower()
    if middle_l.endswith(("вна", "чна", "шна", "кызы", "гызы")):
        return "female"
    if middle_l.endswith(("вич", "ич", "оглы", "улы")):
        return "male"
    if first and not first.endswith("."):
        for parse in morph().parse(first):
            if "Name" in parse.tag and parse.tag.case == "nomn" and parse.tag.gender in ("masc", "femn"):
                return "female" if parse.tag.gender == "femn" else "male"
    last = surname.split("-")[-1]
    if _FEMALE_SURNAME.search(last):
        return "female"
    return "male"


def _surname_in(surname: str, case: str, gender: str) -> str:
    if case == "nomn" or not surname:
        return surname
    parts = surname.split("-")
    out = []
    for part in parts:
        # An empty part (a hyphen typed at an end or twice: «Иванов-», «Римская--Корсакова») stays as typed:
        # petrovich refuses an empty surname with ValueError, which took down every page naming the person.
        if not part or _INDECLINABLE.search(part) or (part.isupper() and len(part) > 1):
            out.append(part)
        elif _NOUN_SURNAME.search(part) and not (gender == "female" and _FEMALE_SURNAME.search(part)):
            out.append(_noun_surname_in(part, case))
        elif _SHORT_OJ.match(part) and gender == "male":
            out.append(part[:-1] + {"gent": "я", "datv": "ю", "accs": "я", "ablt": "ем", "loct": "е"}[case])
        else:
            out.append(_petrovich().lastname(part, _PETROVICH_CASE[case], gender))
    return "-".join(out)


def _noun_surname_in(surname: str, case: str) -> str:
    """«Сорока» → «Сороке» (datv): a surname in -а/-я declined as a noun of the first declension."""
    stem, soft = surname[:-1], surname[-1].lower() == "я"
    before = stem[-1:].lower()
    if case == "gent":
        ending = "и" if soft or before in "гкхжшщч" else "ы"
    elif case == "accs":
        ending = "ю" if soft else "у"
    elif case == "ablt":
        ending = ("ёй" if before == "ь" else "ей") if soft or before in "жшщчц" else "ой"
    else:  # datv, loct
        ending = "е"
    return stem + ending


def _initials(*names: str) -> str:
    """«Анна-Мария», «Сергеевна» → «А.-М.С.»: a double given name keeps an initial per part, joined by a hyphen
    (an already shortened «Н.» stays as it is)."""
    return "".join("-".join(f"{part[0]}." for part in name.split("-") if part) for name in names if name)


@lru_cache(maxsize=4096)
def _initials_surname(full_name: str, case: str) -> str:
    surname, first, middle = split_name(full_name)
    if not surname:
        return ""
    if not first:
        return _surname_in(surname, case, gender_of(full_name))
    initials = _initials(first, middle)
    return f"{initials} {_surname_in(surname, case, gender_of(full_name))}"


def initials_surname(person, case: str = "nomn") -> str:
    """«Ковалёва Наталья Ивановна» → «Н.И. Ковалёва» (ГОСТ: initials before the surname), in `case`."""
    return _initials_surname(_full_name(person), case)


def surname_initials(person) -> str:
    """«Ковалёва Наталья Ивановна» → «Ковалёва Н.И.»: the order of a list of people («Фамилия, инициалы»)."""
    surname, first, middle = split_name(_full_name(person))
    return f"{surname} {_initials(first, middle)}".strip()


def name_dative(person) -> str:
    """«Н.И. Ковалёвой» (кому), for the addressee block."""
    return initials_surname(person, "datv")


def name_genitive(person) -> str:
    return initials_surname(person, "gent")


@lru_cache(maxsize=4096)
def _full_name_in(full_name: str, case: str) -> str:
    surname, first, middle = split_name(full_name)
    if case == "nomn" or not surname:
        return full_name
    gender = gender_of(full_name)
    petrovich, n = _petrovich(), _PETROVICH_CASE[case]
    words = [_surname_in(surname, case, gender)]
    if first and not first.endswith("."):
        parse = next((p for p in morph().parse(first) if "Name" in p.tag and p.tag.case == "nomn"), None)
        inflected = parse.inflect({case}) if parse is not None else None
        word = inflected.word if inflected else petrovich.firstname(first, n, gender)
        # each part of a double given name keeps its capital («Анне-Марии», not «Анне-марии»)
        words.append("-".join(_like(model, part) for model, part in zip(first.split("-"), word.split("-")))
                     if first.count("-") == word.count("-") else _like(first, word))
    if middle and not middle.endswith("."):
        words.append(petrovich.middlename(middle, n, gender))
    return " ".join(words)


def full_name_in(person, case: str) -> str:
    """The full name «Фамилия Имя Отчество» in `case` («Ковалёвой Наталье Ивановне»)."""
    return _full_name_in(_full_name(person), case)


def deputy_for(person) -> str:
    """«за Н.И. Ковалёву»: the mark of a deputy signing for the absent head (винительный падеж); a name the
    initials cannot be made of stands as it is (its short name)."""
    name = initials_surname(person, "accs") or getattr(person, "short_name", None) or ""
    return f"за {name}" if name else ""


def responsible_label(executor: str | None) -> str:
    """«Ответственный» before one person, «Ответственные» before a plural group («руководители образовательных
    организаций», «муниципальные координаторы»): an order printed «Ответственный: руководители …»."""
    first = _WORD.match((executor or "").strip())
    if first is not None:
        parses = _nominative_parses(first.group(0))
        if parses and all(p.tag.number == "plur" for p in parses):
            return "Ответственные"
    return "Ответственный"


_ACTING_ALREADY = re.compile(r"^(временно\s+)?исполняющ|^и\.\s?о\.|^врио", re.IGNORECASE)
_DEPUTY = re.compile(r"^(первый\s+)?заместитель\b", re.IGNORECASE)


def signing_position(own: str | None, absent: str | None) -> str:
    """The position a deputy signs with for the absent official (ГОСТ Р 7.0.97, п. 5.23: the signer's actual
    position — «Заместитель …», «Исполняющий обязанности …» — never «за» or a slash): their own when it already says
    they are a deputy or acting, else «Исполняющий обязанности» of the absent one's position («Методист ИМЦ» under a
    head's order is not the capacity they sign in)."""
    own = (own or "").strip()
    if own and (_DEPUTY.match(own) or _ACTING_ALREADY.match(own)):
        return own
    return acting_position(absent or "Руководитель")


def acting_position(position: str | None) -> str:
    """«Начальник управления образования» → «Исполняющий обязанности начальника управления образования»: the
    position a deputy signs with in place of the absent official (ГОСТ Р 7.0.97, п. 5.23: the signer's actual
    position, never «за» or a slash before the absent one's)."""
    absent = lower_first((position or "").strip())
    if _ACTING_ALREADY.match(absent):
        return upper_first(absent)  # the absent one was themselves acting: their position says so already
    return f"Исполняющий обязанности {genitive(absent)}" if absent else "Исполняющий обязанности"


def addressee_lines(position: str | None, organisation: str | None, person=None) -> list[str]:
    """The addressee block in the dative: «Директору МБОУ „Лицей № 2“» / «Н.И. Ковалёвой». The organisation is
    appended to the position in the genitive sense it already has (its name is never declined)."""
    head = dative(upper_first((position or "Руководитель").strip()))
    first = f"{head} {organisation}".strip() if organisation else head
    lines = [first]
    name = name_dative(person) if person else ""
    if name:
        lines.append(name)
    return lines


# --- numbers --------------------------------------------------------------------------------------------

def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value, digits: int = 2, *, group: bool = True, fixed: bool = False) -> str:
    """12 → «12», 45.5000 → «45,5», 34.664951 → «34,66», 15000 → «15 000», None → «—»: the decimal comma,
    never more decimals than needed, thousands grouped by a no-break space from 10 000 (a four-digit number
    is not split). `fixed`: exactly `digits` decimals (12 → «12,0»), as the numbers of one table column."""
    d = _decimal(value)
    if d is None:
        return DASH
    text = f"{d.quantize(Decimal(1).scaleb(-digits)):f}" if digits >= 0 else f"{d:f}"
    if "." in text and not fixed:
        text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-") or "0"
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    if group and len(whole) > 4:
        whole = f"{int(whole):,}".replace(",", NBSP)
    return sign + whole + ("," + fraction if fraction else "")


def integer(value) -> str:
    """A count of people or schools: never fractional (24,33 people is rounded to 24)."""
    d = _decimal(value)
    return DASH if d is None else number(d.to_integral_value(), 0)


def percent(value, digits: int = 1) -> str:
    """72.5 → «72,5 %», 40 → «40 %» (ГОСТ: a space between the number and the sign)."""
    text = number(value, digits)
    return text if text == DASH else f"{text} %"


def signed(value, digits: int = 2, *, fixed: bool = False) -> str:
    """A change: «+3,5», «−1,2» (a real minus sign), «0» (with `fixed`, «+3,50», «0,00»)."""
    d = _decimal(value)
    if d is None:
        return DASH
    text = number(abs(d), digits, fixed=fixed)
    if not text.strip("0,"):
        return text
    return ("+" if d > 0 else "−") + text


COUNT_UNITS = frozenset({"чел.", "человек", "ед.", "шт.", "школ", "ОО"})


def is_count_unit(unit: str | None) -> bool:
    """A unit of things counted whole (people, organisations): its values print without a fraction."""
    return (unit or "").strip() in COUNT_UNITS


def amount(value, unit: str | None, digits: int = 2, *, fixed: bool = False) -> str:
    """A value of an indicator in its unit's precision: a count of people is whole («24», never «24,33»)."""
    return integer(value) if is_count_unit(unit) else number(value, digits, fixed=fixed)


def decimals(values, most: int = 2) -> int:
    """The decimals the most precise of `values` needs, at most `most`: 45, 45,5 and 52,75 → 2."""
    needed = 0
    for value in values:
        d = _decimal(value)
        if d is not None:
            needed = max(needed, len(number(d, most, group=False).partition(",")[2]))
    return needed


def column(values, units, digits: int | None = None, *, least: int = 0, most: int = 2, sign: bool = False) -> list[str]:
    """The numbers of one table column, each in its row's unit (`units`): a count stays whole, every other value has
    the same number of decimals — `digits`, or as many as the most precise of them needs (between `least` and
    `most`) — so a column never mixes «52,9» and «85,93». `sign`: changes («+3,50», «−1,20»)."""
    units = list(units)
    if digits is None:
        digits = max(least, decimals([v for v, u in zip(values, units) if not is_count_unit(u)], most))
    if sign:
        return [signed(v, 0 if is_count_unit(u) else digits, fixed=True) for v, u in zip(values, units)]
    return [amount(v, u, digits, fixed=True) for v, u in zip(values, units)]


def with_unit(value, unit: str | None, digits: int = 2) -> str:
    """A value with its unit: «72,5 %», «3 чел.», «4,2 балла» is left to `plural` — units are printed as given."""
    text = number(value, digits)
    if text == DASH or not unit:
        return text
    return f"{text} %" if unit.strip() == "%" else f"{text} {unit.strip()}"


# --- plural agreement -----------------------------------------------------------------------------------

def plural_form(n: int, forms: tuple[str, str, str]) -> str:
    """One of (одна школа, две школы, пять школ) for `n`."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


# Counting forms pymorphy does not give: «5 человек», not «5 людей».
_COUNT_FORMS = {"человек": ("человек", "человека", "человек"), "год": ("год", "года", "лет")}


@lru_cache(maxsize=1024)
def _agree(word: str, n: int) -> str:
    if word in _COUNT_FORMS:
        return plural_form(n, _COUNT_FORMS[word])
    parse = morph().parse(word)[0]
    agreed = parse.make_agree_with_number(n)
    return _like(word, agreed.word) if agreed else word


def plural(n: int, word: str | tuple[str, str, str]) -> str:
    """«3 школы», «5 школ», «21 организация»: the number and the noun agreeing with it."""
    text = word if isinstance(word, str) else None
    form = plural_form(n, word) if text is None else _agree(text, abs(int(n)))
    return f"{number(n, 0)} {form}"


# --- dates ----------------------------------------------------------------------------------------------

def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def date_short(value) -> str:
    """03.12.2026 (ДД.ММ.ГГГГ); '' for None."""
    value = _as_date(value)
    return value.strftime("%d.%m.%Y") if value else ""


def date_words(value) -> str:
    """6 апреля 2026 г.: the словесно-цифровой form of ГОСТ Р 7.0.97-2016 (5.11), for the date of a document, of a
    stamp and inside a sentence alike; '' for None. The day in quotes with a leading zero («06» апреля) is how a
    blank is filled in by hand, not a form the standard knows."""
    value = _as_date(value)
    if not value:
        return ""
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year} г."


def date_range(start, end) -> str:
    """«01.09.2026 – 30.09.2026», or one date when both are the same or one is missing; «—» for none."""
    start, end = _as_date(start), _as_date(end)
    if start and end and start != end:
        return f"{date_short(start)} – {date_short(end)}"
    return date_short(end or start) or DASH


# --- quotes ---------------------------------------------------------------------------------------------

_OUTER = ("«", "»")
_INNER = ("„", "“")


def _inner_quotes(text: str) -> str:
    """Turn «…» (and straight "…") inside `text` into „…“, so a quote within a quote is told apart."""
    text = re.sub(r'"([^"]*)"', r"«\1»", text)
    return text.replace(_OUTER[0], _INNER[0]).replace(_OUTER[1], _INNER[1])


def numero_bound(text: str | None) -> str:
    """«Детский сад №\u00a014»: «№» kept on the line of its number — a narrow column broke «Детский сад №» | «14»."""
    return re.sub(r"№\s+", "№" + NBSP, text or "")


def quote(text: str | None) -> str:
    """«text», with quotes inside it made „…“: «МБОУ „Лицей № 2“» — never «…«…»»."""
    text = (text or "").strip()
    if not text:
        return ""
    if text.startswith(_OUTER[0]) and text.endswith(_OUTER[1]) and _balanced(text[1:-1]):
        text = text[1:-1]  # already quoted as a whole: do not quote twice
    return f"{_OUTER[0]}{_inner_quotes(text)}{_OUTER[1]}"


def quotable(text: str | None) -> str:
    """`text` ready to be put between «…» by a template: its own quotes become „…“ (and outer ones dropped)."""
    quoted = quote(text)
    return quoted[1:-1] if quoted else ""


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch == _OUTER[0]:
            depth += 1
        elif ch == _OUTER[1]:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def fix_nested_quotes(text: str | None) -> str:
    """Text that may hold «…«…»…» (a name with quotes put inside quotes): the inner level becomes „…“."""
    if not text:
        return text or ""
    out, depth = [], 0
    for ch in text:
        if ch == _OUTER[0]:
            out.append(_OUTER[0] if depth == 0 else _INNER[0])
            depth += 1
        elif ch == _OUTER[1] and depth > 0:
            depth -= 1
            out.append(_OUTER[1] if depth == 0 else _INNER[1])
        else:
            out.append(ch)
    return "".join(out)


def sentence(text: str | None) -> str:
    """One full stop at the end, never two («…г.» keeps its own point)."""
    text = (text or "").rstrip()
    if not text:
        return ""
    return text if text[-1] in ".!?…" else text + "."


def sort_key(text: str | None) -> tuple:
    """Order names as a reader expects: numbers by value («СОШ № 2» before «СОШ № 10»), case and ё ignored."""
    parts = re.split(r"(\d+)", (text or "").casefold().replace("ё", "е"))
    # The runs of digits are the odd parts of the split. Telling them by `str.isdigit` took a «²» after a number
    # («Школа 1²») for one and int() raised: every page sorting that name was a 500 (attack 8).
    return tuple((0, int(p), "") if n % 2 else (1, 0, p) for n, p in enumerate(parts) if p)


def join_list(items, last: str = " и ") -> str:
    """«А, Б и В»: the words of a list joined as a sentence would join them (never a Python list)."""
    items = [str(x) for x in items if x not in (None, "")]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def byte_count(n: int | None) -> str:
    """A file size: «39 967 байт», «40 482 байта» (grouped, agreed with its number); «» for none."""
    return "" if n is None else f"{number(n, 0)} {plural_form(n, ('байт', 'байта', 'байт'))}"


# --- short names of organisations (chart labels) ----------------------------------------------------------

# The legal form at the head of a name, spelled out («Муниципальное бюджетное общеобразовательное учреждение») or as
# its abbreviation («МБОУ», «МАДОУ», «МУ ДО»): it tells schools of one municipality nothing apart.
_LEGAL_FORM = re.compile(
    r"^(?:(?:муниципальное|государственное|частное|негосударственное)\s+(?:(?:бюджетное|автономное|казённое|казенное)"
    r"\s+)?(?:общеобразовательное\s+|(?:дошкольное\s+)?образовательное\s+)?учреждение"
    r"(?:\s+дополнительного\s+образования)?|[МГЧН][БАК]?(?:ОУ|ДОУ|У\s+ДО|ОУ\s+ДО)(?=[\s«\"„]))\s*", re.IGNORECASE)
_SCHOOL_KINDS = ((re.compile(r"средняя\s+общеобразовательная\s+школа", re.IGNORECASE), "СОШ"),
                 (re.compile(r"основная\s+общеобразовательная\s+школа", re.IGNORECASE), "ООШ"),
                 (re.compile(r"начальная\s+общеобразовательная\s+школа", re.IGNORECASE), "НОШ"),
                 (re.compile(r"средняя\s+школа", re.IGNORECASE), "СШ"),
                 (re.compile(r"\bимени\b", re.IGNORECASE), "им."))
# «с углублённым изучением отдельных предметов», up to a settlement («г. Северный») or the end: the number says which
# school it is, the profile is in the tables.
_IN_DEPTH = re.compile(r"\s*с\s+углубл[её]нным\s+изучением\s+.*?(?=\s+(?:г|с|п|пос|д|пгт)\.\s|$)", re.IGNORECASE)
# «Управление образования администрации …», «Отдел образования администрации …», «Комитет по образованию …»
_AUTHORITY = re.compile(r"^(?:управление|отдел|комитет|департамент|министерство)\s+(?:образования|по\s+образованию)"
                        r"(?:\s+и\s+[а-яё]+)?(?:\s+администрации)?\s+", re.IGNORECASE)
_TERRITORIES = (("муниципального района", "МР"), ("муниципального округа", "МО"), ("городского округа", "ГО"),
                ("городского поселения", "ГП"))
_QUOTES = str.maketrans("", "", "«»„“”\"")


def _territory(rest: str) -> str:
    """«городского округа Северный» → «ГО Северный», «Озёрного муниципального района» → «Озёрный МР»."""
    for words, short in _TERRITORIES:
        head, found, tail = rest.partition(words)
        if not found:
            continue
        if not head.strip():
            return f"{short} {tail.strip()}".strip()
        # the territory's own adjective stands in the genitive before it: back to the nominative («Озёрный»)
        adjectives = []
        for word in head.split():
            parse = next((p for p in morph().parse(word) if {"ADJF", "gent"} <= p.tag.grammemes), None)
            nominative = parse.inflect({"nomn", "masc"}) if parse else None
            adjectives.append(_like(word, nominative.word) if nominative else word)
        return " ".join([*adjectives, short, tail.strip()]).strip()
    return rest


def short_org_name(name: str) -> str:
    """A short form of an organisation's full name for a chart's axis, where a name the user gave no short form for
    took half the width of the picture: «Муниципальное бюджетное общеобразовательное учреждение «Средняя
    общеобразовательная школа № 5 г. Северный»» → «СОШ № 5 г. Северный»; «Отдел образования администрации Озёрного
    муниципального района» → «Озёрный МР». A name without a known pattern is returned as it is."""
    text = " ".join((name or "").split())
    rest = _LEGAL_FORM.sub("", text, count=1).translate(_QUOTES).strip()
    if rest.strip(" ()"):
        text = rest
    for pattern, short in _SCHOOL_KINDS:
        text = pattern.sub(short, text)
    text = _IN_DEPTH.sub("", text)
    authority = _AUTHORITY.sub("", text, count=1)
    if authority != text and _territory(authority) != authority:  # a ministry's «… области» stays as it is
        text = _territory(authority)
    return " ".join(text.translate(_QUOTES).split()) or (name or "")


def short_org_names(names: list[str]) -> list[str]:
    """`short_org_name` of each; two names that would read alike keep their full form (two «СОШ № 1» of different
    settlements named without the settlement must not become one label)."""
    shorts = [short_org_name(n) for n in names]
    seen: dict[str, int] = {}
    for short in shorts:
        seen[short] = seen.get(short, 0) + 1
    return [short if seen[short] == 1 else " ".join((name or "").split()) for name, short in zip(names, shorts)]
