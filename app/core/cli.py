"""Command groups whose usage errors are said in Russian.

An operator who runs `flask import results` without its file, or `--year abc`, got Click's own English («Error:
Missing argument 'FILE'.», «'abc' is not a valid integer.»), beside our Russian refusals of the same commands. Click
builds those sentences from the failing parameter, so they are said again here from the same parts; anything not
recognised keeps Click's text under the Russian «Ошибка». The help pages are Russian too: each command's `help=` (its
docstring stays the code's English documentation) and Click's frame around it (usage line, headings, the help
option, «[required]», «[default: …]»), which Click writes in English without a translation catalogue."""

import re

import click
from flask.cli import AppGroup

_PATH_PROBLEMS = (("is a directory", "это каталог, а нужен файл"), ("is a file", "это файл, а нужен каталог"),
                  ("does not exist", "такого пути нет"), ("is not writable", "нет прав на запись"),
                  ("is not readable", "нет прав на чтение"))


# The value placeholders Click derives from a parameter's type («--year INTEGER»); argument names (FILE) stay, since
# the commands' help texts name them.
_TYPE_NAMES = {"INTEGER": "ЧИСЛО", "FLOAT": "ЧИСЛО", "TEXT": "ТЕКСТ", "PATH": "ПУТЬ", "DIRECTORY": "КАТАЛОГ",
               "FILE": "ФАЙЛ"}
_TYPE_METAVAR = re.compile(r"(?<=\S )(" + "|".join(_TYPE_NAMES) + r")$")


class RussianHelpFormatter(click.HelpFormatter):
    """Click's help frame in Russian: it passes its English headings and usage words through here."""

    _HEADINGS = {"Options": "Параметры", "Commands": "Команды", "Arguments": "Аргументы"}
    _WORDS = (("[OPTIONS]", "[ПАРАМЕТРЫ]"), ("COMMAND [ARGS]...", "КОМАНДА [АРГУМЕНТЫ]..."),
              ("[required]", "[обязательный]"), ("[default: ", "[по умолчанию: "))

    @classmethod
    def _russian(cls, text: str) -> str:
        for english, russian in cls._WORDS:
            text = text.replace(english, russian)
        return text

    def write_usage(self, prog, args="", prefix=None) -> None:
        super().write_usage(prog, self._russian(args), prefix="Использование: " if prefix is None else prefix)

    def section(self, name):
        return super().section(self._HEADINGS.get(name, name))

    def write_dl(self, rows, *args, **kwargs) -> None:
        super().write_dl([(_TYPE_METAVAR.sub(lambda m: _TYPE_NAMES[m.group(1)], term), self._russian(text))
                          for term, text in rows], *args, **kwargs)


class RussianContext(click.Context):
    formatter_class = RussianHelpFormatter


def _russian_help_option(option):
    if option is not None:
        option.help = "Показать эту справку и выйти."
    return option


class RussianUsageError(click.UsageError):
    """A usage error shown as «Ошибка: …» with where to find the command's help, without Click's English frame."""

    def show(self, file=None) -> None:
        where = {"file": file} if file is not None else {"err": True}
        if self.ctx is not None:
            click.echo(f"Справка: {self.ctx.command_path} --help", **where)
        click.echo(f"Ошибка: {self.format_message()}", **where)


def _hint(exc: click.UsageError) -> str:
    param = getattr(exc, "param", None)
    if param is None:
        return getattr(exc, "param_hint", None) or ""
    if isinstance(param, click.Argument):
        return param.human_readable_name
    return " / ".join(param.opts)


def russian_message(exc: click.UsageError) -> str:
    """The Russian sentence for one of Click's usage errors."""
    if isinstance(exc, click.MissingParameter):
        what = "аргумент" if isinstance(exc.param, click.Argument) else "параметр"
        return f"не указан {what} {_hint(exc)}."
    if isinstance(exc, click.NoSuchOption):
        text = f"нет параметра {exc.option_name}."
        if exc.possibilities:
            text += " Возможно, имелся в виду " + ", ".join(sorted(exc.possibilities)) + "."
        return text
    if isinstance(exc, click.BadOptionUsage):
        if "requires an argument" in exc.message:
            return f"у параметра {exc.option_name} должно быть значение."
        return f"параметр {exc.option_name} указан неверно ({exc.message})."
    if isinstance(exc, click.BadParameter):
        param = exc.param
        if param is not None and isinstance(param.type, click.types.IntParamType):
            problem = "нужно целое число"
        elif param is not None and isinstance(param.type, click.Path):
            problem = next((ru for en, ru in _PATH_PROBLEMS if en in exc.message), "недопустимый путь")
        elif param is not None and isinstance(param.type, click.Choice):
            problem = "допустимо: " + ", ".join(map(str, param.type.choices))
        else:
            problem = exc.message
        return f"неверное значение {_hint(exc)}: {problem}."
    if exc.message.startswith("Got unexpected extra argument"):
        return "лишние аргументы: " + exc.message.split("(", 1)[-1].rstrip(")") + "."
    if exc.message.startswith("No such command"):
        return "нет такой команды: " + exc.message.split("'", 2)[1] + "."
    return exc.message


class RussianCommand(click.Command):
    context_class = RussianContext

    def get_help_option(self, ctx):
        return _russian_help_option(super().get_help_option(ctx))

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except RussianUsageError:
            raise
        except click.UsageError as exc:
            raise RussianUsageError(russian_message(exc), exc.ctx) from None


class CommandGroup(AppGroup):
    """`AppGroup` (the commands run in the app context) whose commands, and the group's own «no such command»,
    report usage errors in Russian."""

    command_class = RussianCommand
    context_class = RussianContext

    def get_help_option(self, ctx):
        return _russian_help_option(super().get_help_option(ctx))

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except RussianUsageError:
            raise
        except click.UsageError as exc:
            raise RussianUsageError(russian_message(exc), exc.ctx) from None
