"""Command groups whose usage errors are said in Russian.

An operator who runs `flask import results` without its file, or `--year abc`, got Click's own English («Error:
Missing argument 'FILE'.», «'abc' is not a valid integer.»), beside our Russian refusals of the same commands. Click
builds those sentences from the failing parameter, so they are said again here from the same parts; anything not
recognised keeps Click's text under the Russian «Ошибка»."""

import click
from flask.cli import AppGroup

_PATH_PROBLEMS = (("is a directory", "это каталог, а нужен файл"), ("is a file", "это файл, а нужен каталог"),
                  ("does not exist", "такого пути нет"), ("is not writable", "нет прав на запись"),
                  ("is not readable", "нет прав на чтение"))


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

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except RussianUsageError:
            raise
        except click.UsageError as exc:
            raise RussianUsageError(russian_message(exc), exc.ctx) from None
