"""Password policy for a new password (change, administrator's user creation, the CLI).

A new password must be long enough, must not be one of the most common passwords (a local list shipped
with the application, app/auth/data/common_passwords.txt: no network at run time), nor such a password with
digits or punctuation appended, and must not contain the user's login or any part of their name (Cyrillic
names are also looked for transliterated and as typed in the Latin keyboard layout).
"""

import re
from functools import cache
from pathlib import Path

from app.core.errors import ValidationFailed

MIN_LENGTH = 10
MIN_NAME_PART = 4  # shorter logins and name parts match too much by chance
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


class WeakPassword(ValidationFailed):
    """The new password breaks the policy; the message says which rule, in Russian."""


@cache
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as fh:
        return frozenset(s for line in fh if (s := line.strip()) and not s.startswith("#"))


# One Latin spelling per scheme (passport-style and the common informal one).
_TRANSLIT = {
    "а": ("a", "a"), "б": ("b", "b"), "в": ("v", "v"), "г": ("g", "g"), "д": ("d", "d"), "е": ("e", "e"),
    "ё": ("e", "yo"), "ж": ("zh", "j"), "з": ("z", "z"), "и": ("i", "i"), "й": ("i", "y"), "к": ("k", "k"),
    "л": ("l", "l"), "м": ("m", "m"), "н": ("n", "n"), "о": ("o", "o"), "п": ("p", "p"), "р": ("r", "r"),
    "с": ("s", "s"), "т": ("t", "t"), "у": ("u", "u"), "ф": ("f", "f"), "х": ("kh", "h"), "ц": ("ts", "c"),
    "ч": ("ch", "ch"), "ш": ("sh", "sh"), "щ": ("shch", "sch"), "ъ": ("ie", ""), "ы": ("y", "y"), "ь": ("", ""),
    "э": ("e", "e"), "ю": ("iu", "yu"), "я": ("ia", "ya"),
}
_RU_KEYS = "йцукенгшщзхъфывапролджэячсмитьбюё"
_EN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_LAYOUT = str.maketrans(_RU_KEYS, _EN_KEYS)


def _spellings(word: str) -> set[str]:
    word = word.lower()
    spellings = {word}
    if any(c in _TRANSLIT for c in word):
        for scheme in (0, 1):
            spellings.add("".join(_TRANSLIT[c][scheme] if c in _TRANSLIT else c for c in word))
        spellings.add(word.translate(_LAYOUT))
    return {s for s in spellings if len(s) >= MIN_NAME_PART}


def _is_common(lowered: str) -> bool:
    common = common_passwords()
    if lowered in common:
        return True
    # «password2026!», «qwertyuiop-1»: a listed password with digits or punctuation appended or prepended.
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    return len(core) >= 8 and core in common


def check_new_password(password: str, *, login: str | None = None, full_name: str | None = None) -> None:
    """Raise WeakPassword with a Russian message when `password` may not be used."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Пароль должен содержать не менее {MIN_LENGTH} символов.")
    lowered = password.lower()
    if _is_common(lowered):
        raise WeakPassword("Этот пароль входит в список самых распространённых паролей, его легко подобрать. "
                           "Выберите другой.")
    if login and any(s in lowered for s in _spellings(login.strip())):
        raise WeakPassword("Пароль не должен содержать логин.")
    for part in re.split(r"[\s\-.]+", full_name or ""):
        if part and any(s in lowered for s in _spellings(part)):
            raise WeakPassword("Пароль не должен содержать фамилию, имя или отчество.")
