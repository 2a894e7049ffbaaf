"""Реквизиты организации for the бланк of its letters: address, phone, e-mail, website, ОКПО, ОГРН, ИНН, КПП,
the head's position title, an optional emblem. Checked here once for the organisation pages and the import:
ИНН, ОГРН and ОКПО carry check digits (the algorithms of the Federal Tax Service and Rosstat), so a mistyped
number is refused before it is printed on an official letter."""

import re

from app.core.errors import ValidationFailed

REQUISITE_FIELDS = ("address", "phone", "email", "website", "okpo", "ogrn", "inn", "kpp", "head_position")
LABELS = {"address": "Адрес", "phone": "Телефон", "email": "Электронная почта", "website": "Сайт", "okpo": "ОКПО",
          "ogrn": "ОГРН", "inn": "ИНН", "kpp": "КПП", "head_position": "Должность руководителя",
          "emblem": "Эмблема (герб)"}
MAX_LENGTH = {"address": 500, "phone": 100, "email": 200, "website": 200, "head_position": 200}
EMBLEM_MAX_BYTES = 512 * 1024
# The emblem is printed 1.5 cm wide: 2,000 pixels a side is over 3,000 dpi. The file size alone does not bound the
# picture: a 109 KB PNG of 30,000 × 30,000 pixels made LibreOffice take 1 GB and over a minute for the PDF of every
# registered document of the organisation (attack 7).
EMBLEM_MAX_PIXELS = 2000

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SITE = re.compile(r"^(https?://)?([A-Za-zА-Яа-яЁё0-9-]+\.)+[A-Za-zА-Яа-яЁё]{2,}(/\S*)?$")
_PHONE_CHARS = re.compile(r"^[0-9\s()+\-.,;:доб.факсФАКСтел]+$", re.IGNORECASE)
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$", re.ASCII)


def _number(value: str) -> bool:
    """Digits 0–9 only. `str.isdigit` also says yes to «²», on which int() raised (a 500 for the administrator saving
    the requisites, a failed import), and to «٧٧٠٧…» (Arabic-Indic) or a full-width «７７０７…», stored as typed and
    printed on the бланк as such (attack 8)."""
    return value.isascii() and value.isdigit()


def _weighted(digits: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights))


def inn_valid(inn: str) -> bool:
    """ИНН of an organisation (10 digits) or of a person (12 digits) with correct check digits."""
    if not _number(inn):
        return False
    if len(inn) == 10:
        return _weighted(inn, (2, 4, 10, 3, 5, 9, 4, 6, 8)) % 11 % 10 == int(inn[9])
    if len(inn) == 12:
        n11 = _weighted(inn, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) % 11 % 10
        n12 = _weighted(inn, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) % 11 % 10
        return (n11, n12) == (int(inn[10]), int(inn[11]))
    return False


def ogrn_valid(ogrn: str) -> bool:
    """ОГРН (13 digits: the first 12 mod 11, last digit) or ОГРНИП (15 digits: the first 14 mod 13)."""
    if not _number(ogrn):
        return False
    if len(ogrn) == 13:
        return int(ogrn[:12]) % 11 % 10 == int(ogrn[12])
    if len(ogrn) == 15:
        return int(ogrn[:14]) % 13 % 10 == int(ogrn[14])
    return False


def okpo_check_digit(body: str) -> int:
    """Rosstat's check digit: weights 1, 2, …; if the remainder mod 11 is 10, weights 3, 4, … again; 10 → 0."""
    rest = sum(int(d) * (i % 10 + 1) for i, d in enumerate(body)) % 11
    if rest == 10:
        rest = sum(int(d) * ((i + 2) % 10 + 1) for i, d in enumerate(body)) % 11
    return 0 if rest == 10 else rest


def okpo_valid(okpo: str) -> bool:
    """ОКПО of an organisation (8 digits) or of an individual entrepreneur (10 digits)."""
    return _number(okpo) and len(okpo) in (8, 10) and okpo_check_digit(okpo[:-1]) == int(okpo[-1])


def with_inn_check(base9: str) -> str:
    """A 10-digit ИНН from its first nine digits (demo data and tests)."""
    return base9 + str(_weighted(base9, (2, 4, 10, 3, 5, 9, 4, 6, 8)) % 11 % 10)


def with_ogrn_check(base12: str) -> str:
    return base12 + str(int(base12) % 11 % 10)


def with_okpo_check(base7: str) -> str:
    return base7 + str(okpo_check_digit(base7))


def _digits(value: str) -> str:
    return re.sub(r"[\s-]", "", value)


def clean_requisites(data: dict) -> tuple[dict, list[str]]:
    """The requisites in `data` cleaned (spaces collapsed, numbers without spaces, '' → None) and the Russian
    messages for the invalid ones. Only the keys present in `data` are checked and returned."""
    cleaned, problems = {}, []
    for key in REQUISITE_FIELDS:
        if key not in data:
            continue
        value = " ".join(str(data[key] or "").split()) or None
        if value is not None and key in MAX_LENGTH and len(value) > MAX_LENGTH[key]:
            problems.append(f"{LABELS[key]}: не длиннее {MAX_LENGTH[key]} символов.")
        elif value is not None:
            value, problem = _check(key, value)
            if problem:
                problems.append(f"{LABELS[key]}: {problem}")
        cleaned[key] = value
    return cleaned, problems


def _check(key: str, value: str) -> tuple[str, str | None]:
    if key == "inn":
        value = _digits(value)
        if not _number(value) or len(value) not in (10, 12):
            return value, "10 цифр для организации (12 — для физического лица)."
        return value, None if inn_valid(value) else "неверное контрольное число — проверьте ИНН."
    if key == "ogrn":
        value = _digits(value)
        if not _number(value) or len(value) not in (13, 15):
            return value, "13 цифр (ОГРНИП — 15)."
        return value, None if ogrn_valid(value) else "неверное контрольное число — проверьте ОГРН."
    if key == "okpo":
        value = _digits(value)
        if not _number(value) or len(value) not in (8, 10):
            return value, "8 цифр для организации (10 — для индивидуального предпринимателя)."
        return value, None if okpo_valid(value) else "неверное контрольное число — проверьте ОКПО."
    if key == "kpp":
        value = _digits(value).upper()
        return value, None if _KPP.match(value) else "9 знаков: 4 цифры, 2 цифры или латинские буквы, 3 цифры."
    if key == "phone":
        digits = re.sub(r"\D", "", value)
        if not _PHONE_CHARS.match(value) or not 5 <= len(digits) <= 40:
            return value, "номер из цифр, например +7 (351) 263-42-04."
    if key == "email" and not _EMAIL.match(value):
        return value, "адрес вида name@example.ru."
    if key == "website" and not _SITE.match(value):
        return value, "адрес сайта вида https://example.ru."
    return value, None


def check_requisites(data: dict) -> dict:
    """`clean_requisites`, raising ValidationFailed (Russian) when any requisite is invalid."""
    cleaned, problems = clean_requisites(data)
    if problems:
        raise ValidationFailed("Реквизиты организации заполнены с ошибками.", problems=problems)
    return cleaned


def check_emblem(data: bytes | None) -> bytes | None:
    """The emblem picture: PNG or JPEG up to 512 КБ that Word can place (python-docx reads its header)."""
    if not data:
        return None
    if len(data) > EMBLEM_MAX_BYTES:
        raise ValidationFailed("Эмблема: файл больше 512 КБ.")
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise ValidationFailed("Эмблема: загрузите изображение PNG или JPEG.")
    # Local: python-docx's image parser is needed only when an emblem is uploaded.
    from docx.image.image import Image

    try:
        image = Image.from_blob(data)
    except Exception as exc:  # noqa: BLE001 - any parser failure means the picture is unusable
        raise ValidationFailed("Эмблема: изображение повреждено или не читается.") from exc
    if max(image.px_width, image.px_height) > EMBLEM_MAX_PIXELS:
        raise ValidationFailed(f"Эмблема: изображение {image.px_width} × {image.px_height} пикселей больше "
                               f"допустимого ({EMBLEM_MAX_PIXELS} пикселей по стороне); для печати шириной 1,5 см "
                               "достаточно 600 пикселей. Уменьшите изображение.")
    return data


def requisites_lines(org) -> list[str]:
    """The справочные данные of the бланк, line by line, as in a ministry letter: address; phone, e-mail, site;
    ОКПО, ОГРН; ИНН/КПП. Empty requisites are left out."""
    lines = []
    if org.address:
        lines.append(org.address)
    contacts = [f"тел. {org.phone}" if org.phone else "", f"e-mail: {org.email}" if org.email else "",
                f"сайт: {org.website}" if org.website else ""]
    if any(contacts):
        lines.append(", ".join(c for c in contacts if c))
    codes = [f"ОКПО {org.okpo}" if org.okpo else "", f"ОГРН {org.ogrn}" if org.ogrn else ""]
    if org.inn and org.kpp:
        codes.append(f"ИНН/КПП {org.inn}/{org.kpp}")
    elif org.inn:
        codes.append(f"ИНН {org.inn}")
    elif org.kpp:
        codes.append(f"КПП {org.kpp}")
    if any(codes):
        lines.append(", ".join(c for c in codes if c))
    return lines
