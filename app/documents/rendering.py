"""Strict rendering of a document type's Word template (docxtpl) from a context of plain primitives.

Strict means: a variable the template uses but the context lacks is an error naming it (StrictUndefined),
never an empty spot in an official document; autoescaping is on (docxtpl's default is off), so `<`, `>`, `&`
and quotes in user text come out literally instead of breaking the document's XML. Characters that XML 1.0
forbids (control characters pasted from other programs) are dropped before rendering for the same reason.
"""

import contextvars
import functools
import io
import logging
import re
import time
from pathlib import Path

import yaml
from docx.shared import Cm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment, StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from app.core.errors import DomainError
from app.documents.catalogue import document_types, get_type
from app.documents.outside_links import outside_links

# Which template is active for a type (an uploaded version an administrator activated, else the shipped file) is
# the template store's answer (template_admin). That module validates uploads with this one, so instead of
# importing it back this one is handed it by the package's __init__ (`use_template_store`).
_store = None


def use_template_store(store) -> None:
    """`store` answers active_template(type_key) → ResolvedTemplate and synthetic_context(type_key) → dict."""
    global _store
    _store = store

log = logging.getLogger(__name__)
CHART_WIDTH_CM = 16
# Pictures placed through `charts` that are not charts: the emblem above the name on a letter's бланк.
IMAGE_WIDTH_CM = {"emblem": 1.5}
_COMPILED_TEMPLATES = 256  # 13 types × (body, headers, footers, properties), room for uploaded versions
# XML 1.0 allows \t, \n, \r and everything from U+0020 on; docxtpl turns \a and \f into paragraph and
# page breaks, which user text must not be able to inject either.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'|no element '?([^']+?)'?$")
_FILENAME_BAD = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class RenderError(DomainError):
    """The template cannot be rendered with the given data (a variable is missing, the template is broken)."""

    status_code = 422


# The work one rendering may do. The sandbox keeps a template from Python's internals but not from work without end:
# `{% for i in range(100000) %}{% for j in range(100000) %}` or `{{ "x" * 400000000 }}` in an uploaded template
# held the web worker (its upload check renders at once) until gunicorn killed it, and the administrator saw a 500.
RENDER_SECONDS = 10
MAX_ITEMS = 2_000_000  # characters of one string, items of one list a template may make
_BITS = 4096  # of an integer a template computes
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("render_deadline", default=None)


class TemplateBudgetExceeded(TemplateError):
    """A template asked for more work than one document needs (see RENDER_SECONDS, MAX_ITEMS)."""


def _check_time() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateBudgetExceeded("time")


def _check_size(value):
    if isinstance(value, (str, bytes, list, tuple, dict)) and len(value) > MAX_ITEMS:
        raise TemplateBudgetExceeded("size")
    return value


def _check_args(args, kwargs) -> None:
    # A width or count far past any document's (`"x"|center(10**10)`, `lipsum(10**8)`) is refused before the
    # call allocates it.
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_ITEMS:
            raise TemplateBudgetExceeded("size")


def _budgeted(func):
    @functools.wraps(func)  # keeps jinja's pass_context/pass_eval_ctx marks
    def call(*args, **kwargs):
        _check_time()
        _check_args(args, kwargs)
        try:
            return _check_size(func(*args, **kwargs))
        except (MemoryError, OverflowError):
            raise TemplateBudgetExceeded("size") from None
    return call


def _iterate(iterable):
    """Every `{% for %}` of a template goes through this (see _Environment._parse): a loop of loops over a
    prepared list calls nothing else the budget could watch."""
    for item in iterable:
        _check_time()
        yield item


class _Environment(SandboxedEnvironment):
    """Sandboxed, strict about undefined names, autoescaping, and compiling each distinct template source once
    per process.

    Sandboxed because a template is uploaded by an administrator of the application, not of the server: in a
    plain Environment `{{ ''.__class__.__mro__[1].__subclasses__() }}` reaches `subprocess.Popen`, and the
    upload's own check renders the template at once, in the web process. The sandbox refuses `_`-attributes
    and unsafe callables (SecurityError, reported as a problem of the upload).

    docxtpl compiles every part of a template (body, headers, footers, core properties) with `from_string` on
    every render: for a batch of letters from one template that was about a fifth of the rendering time. A
    compiled template is a pure function of its source and of this environment's fixed settings, so the cache
    needs no invalidation: an edited or uploaded template has a different source and compiles anew. Bounded,
    and `lru_cache` is safe across a worker's threads; a syntax error is raised, never cached."""

    # `*` and `**` are checked before they compute (a string of 10^10 characters is never made); `+` and `~`
    # after (each can at most double what already passed the check).
    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=True)
        self._compiled = functools.lru_cache(maxsize=_COMPILED_TEMPLATES)(super().from_string)
        self.filters = {name: _budgeted(func) for name, func in self.filters.items()}
        self.filters["_budget_iter"] = _iterate
        self.filters["_budget_value"] = _check_size

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja's own signature
        _check_time()
        _check_args(args, kwargs)
        try:
            return _check_size(super().call(__context, __obj, *args, **kwargs))
        except (MemoryError, OverflowError):
            raise TemplateBudgetExceeded("size") from None

    def call_binop(self, context, operator, left, right):
        _check_time()
        if operator == "*":
            sized, count = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(sized, (str, list, tuple)) and isinstance(count, int) and len(sized) * count > MAX_ITEMS:
                raise TemplateBudgetExceeded("size")
        if isinstance(left, int) and isinstance(right, int) and _BITS < (
                abs(left).bit_length() * abs(right) if operator == "**" else left.bit_length() + right.bit_length()):
            raise TemplateBudgetExceeded("size")  # no document prints a number of thousands of digits
        return _check_size(super().call_binop(context, operator, left, right))

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        # No loader: `{% include %}` and the like raised TypeError at render time, a 500 on upload (attack 7).
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            raise TemplateSyntaxError("в шаблоне документа нельзя подключать другие шаблоны ({% include %}, "
                                      "{% import %}, {% extends %}): весь текст документа — в одном файле",
                                      node.lineno, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_budget_iter", [], [], None, None, lineno=loop.lineno)
        for node in list(tree.find_all(nodes.Concat)):
            _wrap(tree, node, "_budget_value")
        return tree

    def from_string(self, source, globals=None, template_class=None):
        if globals is None and template_class is None and isinstance(source, str):
            return self._compiled(source)
        return super().from_string(source, globals, template_class)


class _DocxTemplate(DocxTemplate):
    """docxtpl's template with its XML clean-up (`patch_xml`: merging the runs Word splits a `{{ tag }}` into,
    table-cell directives; a few milliseconds of regular expressions per part) done once per distinct part."""

    def patch_xml(self, src_xml):
        return _patched_xml(src_xml)


@functools.lru_cache(maxsize=64)
def _patched_xml(src_xml: str) -> str:
    # docxtpl's patch_xml is a pure function of the XML string (it never reads the instance).
    return DocxTemplate.patch_xml(None, src_xml)


def _wrap(tree, target, filter_name: str) -> None:
    """Replace `target` (a node of `tree`) with `target|filter_name` where its parent holds it."""
    for parent in tree.find_all(nodes.Node):
        for field, value in parent.iter_fields():
            if value is target:
                setattr(parent, field, nodes.Filter(target, filter_name, [], [], None, None, lineno=target.lineno))
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is target:
                        value[i] = nodes.Filter(target, filter_name, [], [], None, None, lineno=target.lineno)
                        return


_ENV = _Environment()


def jinja_env() -> Environment:
    """The environment every document template renders in (one per process, see _Environment)."""
    return _ENV


# --- template files and sidecars -------------------------------------------------------------------

_FILE_CACHE: dict[Path, tuple[int, object]] = {}


def _cached_file(path: Path, load):
    """The file's parsed content, reloaded when the file changes on disk (an official may edit it)."""
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise RenderError(f"Файл шаблона «{path.name}» не найден.") from None
    hit = _FILE_CACHE.get(path)
    if hit is None or hit[0] != mtime:
        hit = (mtime, load(path))
        _FILE_CACHE[path] = hit
    return hit[1]


def template_bytes(type_key: str) -> bytes:
    return _cached_file(get_type(type_key).template_path, Path.read_bytes)


def previous_template_bytes(type_key: str, number: int) -> bytes | None:
    """The shipped template of an earlier built-in version, if it was kept (catalogue: previous_template_path)."""
    path = get_type(type_key).previous_template_path(number)
    return _cached_file(path, Path.read_bytes) if path.is_file() else None


def sidecar(type_key: str) -> dict:
    """The template's sidecar: title, family, stages, filename pattern, declared variables, version."""
    def load(path: Path) -> dict:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("variables"), dict):
            raise RenderError(f"Описание шаблона «{path.name}»: нет раздела «variables» с объявленными переменными.")
        return data
    return _cached_file(get_type(type_key).sidecar_path, load)


def declared_variables(type_key: str) -> set[str]:
    """The top-level variables the sidecar declares for the template."""
    return set(sidecar(type_key)["variables"])


def template_version(type_key: str, *, builtin: bool = False) -> int:
    """The version of the type's active template (an uploaded one, see template_admin), or with `builtin` of
    the shipped file (its sidecar's `version`, 1 unless raised)."""
    if not builtin:
        return _store.active_template(type_key).number
    return int(sidecar(type_key).get("version", 1))


def active_template_bytes(type_key: str) -> bytes:
    """The active template: the uploaded version an administrator activated, else the shipped file."""
    return _store.active_template(type_key).data


def _open(type_key: str, template: bytes | None) -> DocxTemplate:
    data = template if template is not None else active_template_bytes(type_key)
    try:
        tpl = _DocxTemplate(io.BytesIO(data))
        tpl.init_docx()  # docxtpl opens the file lazily: open it here, where a broken file can be reported
        return tpl
    except Exception as exc:  # python-docx raises several unrelated types for a file that is not a .docx
        raise RenderError(f"Шаблон вида «{get_type(type_key).title}» не открывается как документ Word.") from exc


def undeclared_variables(type_key: str, template: bytes | None = None) -> set[str]:
    """The top-level variables the template (the stored one, or `template` bytes) actually uses."""
    try:
        return set(_open(type_key, template).get_undeclared_template_variables(jinja_env=jinja_env()))
    except TemplateSyntaxError as exc:
        raise RenderError(_syntax_message(exc)) from exc


def _syntax_message(exc: TemplateSyntaxError) -> str:
    near = ""
    if exc.source and exc.lineno:
        lines = exc.source.splitlines()
        text = re.sub(r"<[^>]+>", "", "".join(lines[max(exc.lineno - 2, 0):exc.lineno + 1])).strip()
        near = f" рядом с текстом «{text[:120]}»" if text else ""
    return f"Ошибка в разметке шаблона (строка {exc.lineno}){near}: {exc.message}"


def check_template(type_key: str, template: bytes, sample_context: dict | None = None) -> list[str]:
    """Problems (in Russian) that keep `template` from becoming the active template of the type: not a
    Word file, a Jinja syntax error (with its place), variables used but not declared in the sidecar,
    declared but unused, anything that points outside the package (outside_links), and — given sample data — any
    error rendering it or a rendering that points outside. Empty list: the template is fine."""
    try:
        used = undeclared_variables(type_key, template)
    except RenderError as exc:
        return [exc.message]
    outside = outside_links(template)
    if outside:
        return outside
    declared = declared_variables(type_key)
    problems = [f"Переменная «{name}» не объявлена в описании шаблона." for name in sorted(used - declared)]
    problems += [f"Объявленная переменная «{name}» в шаблоне не используется." for name in sorted(declared - used)]
    if not problems and sample_context is not None:
        try:
            # what the template makes of data must not point outside either (a field spelt by Jinja): render refuses
            render(type_key, sample_context, template=template)
        except RenderError as exc:
            problems.append(exc.message)
    return problems


# --- rendering ----------------------------------------------------------------------------------------

# A number and its sign never part at the end of a line (ГОСТ Р 7.0.97 typography): «80 %», «№ 3» — LibreOffice
# printed «от 80» at the end of one line and «% максимального балла» at the start of the next. Nor do a year and its
# «г.» («1 февраля 2027 г.»), nor initials and the surname anywhere in the text («И.О. Фамилия», «Фамилия И.О.»): a
# protocol's decision ended a line with «Ответственный: С.П.» and began the next with «Иванов, начальник …» (PDF
# review, 6 December 2026). A dash keeps to the word before it: a line began with «— эффект не оценивается» or «—
# участников муниципального проекта» (the same review). Nor do a number and its «п. п.» (percentage points), nor the
# two «п.» themselves: the campaign report's «завышение самооценки — разница 10» ended a line and «п. п. и более» began
# the next (records-office review, 7 December 2026).
_GLUED = re.compile(r"(?<=\d) (?=%|п\. ?п\.)|(?<=\bп\.) (?=п\.)|(?<=№) (?=[\d_])|(?<=\d) (?=гг?\.)|(?<=\S) (?=[—–] )"
                    r"|(?<=(?<![А-Яа-яЁё])[А-ЯЁ]\.) (?=[А-ЯЁ][а-яё])|(?<=[А-ЯЁа-яё][а-яё]) (?=[А-ЯЁ]\.[А-ЯЁ]\.)")
# Nor does a signature's or an addressee's name part: «А.С. Римская-» ended the signature line and «Корсакова» began
# the next (PDF review, 5 December 2026). There the initials keep to the surname (a no-break space) and the hyphen
# of a compound name («Римская-Корсакова», «А.-М.») is a non-breaking one (U+2011, in Times New Roman and its
# metric twin Liberation Serif). Only there: in a narrow table column a name unbroken at its hyphen was cut in the
# middle of a word («Римская-Корсако» / «ва»).
_NAME_SPACE = re.compile(r"(?<=(?<![А-Яа-яЁё])[А-ЯЁ]\.) (?=[А-ЯЁ][а-яё])")
_NAME_HYPHEN = re.compile(r"(?<=[а-яё])-(?=[А-ЯЁ])|(?<=[А-ЯЁ]\.)-(?=[А-ЯЁ]\.)")
# (the context's dict, the key) holding a name that signs or is addressed, as the shared requisites and the
# protocol's meeting name them
_NAMES = (("signer", "name"), ("approval", "name"), ("meeting", "chair"), ("meeting", "secretary"))


def unbroken(text):
    """`text` (a name) with its initials kept to the surname and its hyphens non-breaking."""
    if not isinstance(text, str):
        return text
    return _NAME_HYPHEN.sub("\u2011", _NAME_SPACE.sub("\u00a0", text))


def unbroken_code(code: str) -> str:
    """An indicator code («M2.3-04») with a non-breaking hyphen (U+2011), for a narrow table cell: LibreOffice ended
    a line of the дорожная карта's «Ожидаемый результат» with «(показатель: M2.3-» and began the next with «04)»
    (records-office review, 7 December 2026). Only in cells: Word's and LibreOffice's search for «M2.3-04» does not
    match it (nor would Word's own non-breaking hyphen, `w:noBreakHyphen`, which LibreOffice reads as U+2011 too),
    so the перечень's «Код» column and the text keep the plain hyphen, and a search still finds the indicator there."""
    return code.replace("-", "\u2011")


def _unbreak_names(data: dict) -> dict:
    """The signature and addressee names of a cleaned context made unbreakable (a copy where changed)."""
    for outer, key in _NAMES:
        if isinstance(data.get(outer), dict) and key in data[outer]:
            data[outer] = {**data[outer], key: unbroken(data[outer][key])}
    for many in ("agreements", "signers"):  # the lines of several signers (a conclusion's experts) as well
        if isinstance(data.get(many), list):
            data[many] = [{**a, "name": unbroken(a.get("name"))} if isinstance(a, dict) else a for a in data[many]]
    if isinstance(data.get("addressee"), dict) and isinstance(data["addressee"].get("lines"), list):
        data["addressee"] = {**data["addressee"], "lines": [unbroken(line) for line in data["addressee"]["lines"]]}
    return data


def _clean(value):
    """Drop characters XML cannot hold from every string of the context (recursively) and glue with a no-break space
    a number to its «%», «№» or «г.», initials to their surname and a dash to the word before it."""
    if isinstance(value, str):
        return _GLUED.sub("\u00a0", _XML_INVALID.sub("", value))
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _missing_name(exc: Exception) -> str:
    match = _UNDEFINED_NAME.search(str(exc))
    return next((g for g in match.groups() if g), str(exc)) if match else str(exc)


def render(type_key: str, context: dict, *, template: bytes | None = None, required: set[str] | None = None) -> bytes:
    """The .docx bytes of the type's template (or of `template`, an uploaded version) rendered with
    `context`. `context["charts"]` ({name: png bytes}) become inline images ~16 cm wide under the same
    names. Raises RenderError naming the missing variable when the context lacks one of `required` (by default
    the variables the sidecar declares today; an earlier template needs only its own)."""
    title = get_type(type_key).title
    tpl = _open(type_key, template)
    missing = sorted((declared_variables(type_key) if required is None else required) - set(context))
    if missing:
        names = ", ".join(f"«{name}»" for name in missing)
        raise RenderError(f"Нет данных для шаблона «{title}»: не заданы переменные {names}.",
                          problems=[f"Не задана переменная «{name}»." for name in missing])
    data = _unbreak_names({key: _clean(value) for key, value in context.items() if key != "charts"})
    if "charts" in context:
        data["charts"] = {name: InlineImage(tpl, io.BytesIO(png), width=Cm(IMAGE_WIDTH_CM.get(name, CHART_WIDTH_CM)))
                          for name, png in (context["charts"] or {}).items()}
    deadline = _deadline.set(time.monotonic() + RENDER_SECONDS)
    try:
        tpl.render(data, jinja_env=jinja_env(), autoescape=True)
    except TemplateBudgetExceeded as exc:
        items = f"{MAX_ITEMS:,}".replace(",", "\u00a0")
        raise RenderError(f"Шаблон «{title}» отклонён: он требует слишком много работы (цикл в цикле, строка или "
                          f"список больше {items} элементов, заполнение дольше {RENDER_SECONDS} с). Документ "
                          "не может быть таким большим; проверьте циклы и повторения в шаблоне.") from exc
    except UndefinedError as exc:
        name = _missing_name(exc)
        raise RenderError(f"Нет данных для шаблона «{title}»: не задана переменная «{name}».",
                          problems=[f"Не задана переменная «{name}»."]) from exc
    except TemplateSyntaxError as exc:
        raise RenderError(_syntax_message(exc)) from exc
    except SecurityError as exc:
        raise RenderError(f"Шаблон «{title}» отклонён: он обращается к внутренним атрибутам или функциям "
                          "программы, что в шаблонах документов запрещено. Используйте только переменные из "
                          "описания шаблона.") from exc
    except TemplateError as exc:
        raise RenderError(f"Шаблон «{title}» не удалось заполнить: {exc}") from exc
    except (MemoryError, OverflowError, RecursionError) as exc:
        raise RenderError(f"Шаблон «{title}» отклонён: он требует слишком много памяти или вложенных вызовов.") from exc
    except Exception as exc:  # noqa: BLE001 - the template's own expressions (`1/0`, `"%s %s"|format(1)`): a 500 before
        # With its traceback: a built-in template failing here is our defect, not an uploader's.
        log.warning("template of %s failed: %r", type_key, exc, exc_info=True)
        raise RenderError(f"Шаблон «{title}» не удалось заполнить: выражение в шаблоне не вычисляется "
                          f"({type(exc).__name__}: {exc}). Проверьте выражения в фигурных скобках.") from exc
    finally:
        _deadline.reset(deadline)
    out = io.BytesIO()
    tpl.save(out)
    # Every document made, not only the upload's sample: a template can spell a fetching field from data the sample
    # lacks (`{% if doc.number != 'проект' %}`), so that only the registered copy, which LibreOffice opens on the
    # server for its PDF, pointed outside (attack 18).
    outside = outside_links(out.getvalue())
    if outside:
        raise RenderError(f"Документ по шаблону «{title}» не сформирован: {' '.join(outside)}", problems=outside)
    return out.getvalue()


def warm_up() -> int:
    """Compile every document type's active template once, with placeholder data; the number of types compiled.

    The RQ worker forks a fresh process for each job, so what a job compiles dies with it; compiled in the
    worker's parent before it starts, the templates are inherited by every job it forks. A template that cannot
    be rendered with placeholder data is left to be compiled by its jobs (which then report its error)."""
    compiled = 0
    for type_key in document_types():
        try:
            render(type_key, _store.synthetic_context(type_key), template=_store.active_template(type_key).data)
            compiled += 1
        except DomainError as exc:
            log.info("template of %s not compiled ahead: %s", type_key, exc.message)
    return compiled


def filename(type_key: str, context: dict) -> str:
    """The download name from the sidecar's pattern ({title}, {period}, {number}, {date}, {addressee})."""
    pattern = sidecar(type_key).get("filename") or "{title}.docx"
    doc = context.get("doc") or {}
    values = {"title": get_type(type_key).title, "period": doc.get("period") or "",
              "number": doc.get("number") or "проект", "date": doc.get("date") or "",
              "addressee": (context.get("addressee") or {}).get("short_name") or ""}
    name = pattern.format_map(values)
    name = re.sub(r"\s+", " ", _FILENAME_BAD.sub("_", name)).strip(" _")
    return name if name.lower().endswith(".docx") else name + ".docx"
