"""The commands' usage errors and help pages are said in Russian, as their refusals are (Click said «Error: Missing
argument 'FILE'.», «'abc' is not a valid integer.», and the help was the commands' English docstrings)."""

import click
import pytest

from app.core.cli import CommandGroup


@pytest.mark.parametrize("args, said", [
    (["import", "results"], "Ошибка: не указан аргумент FILE."),
    (["analysis", "objectivity", "--year", "abc"], "Ошибка: неверное значение --year: нужно целое число."),
    (["analysis", "objectivity", "--yaer", "2025"], "Ошибка: нет параметра --yaer. Возможно, имелся в виду --year."),
    (["analysis", "objectivty"], "Ошибка: нет такой команды: objectivty."),
    (["analysis", "objectivity", "--year"], "Ошибка: у параметра --year должно быть значение."),
    (["analysis", "objectivity"], "Ошибка: не указан параметр --year."),
    (["orgs", "create-region", "A", "B", "C"], "Ошибка: лишние аргументы: C."),
    (["assessment", "export", "1", "--out", "."], "Ошибка: неверное значение --out: это каталог, а нужен файл."),
])
def test_a_usage_error_is_said_in_russian_and_changes_nothing(app, args, said):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2, result.output
    assert said in result.output
    for english in ("Error", "Missing", "Try ", "Usage", "not a valid", "No such"):
        assert english not in result.output


def test_every_group_of_the_application_says_its_errors_in_russian(app):
    ours = {name: group for name, group in app.cli.commands.items()
            if isinstance(group, click.Group) and name not in ("db",)}  # Flask-Migrate's own group
    assert {"import", "analysis", "assessment", "audit", "orgs", "seed", "jobs"} <= set(ours)
    assert all(isinstance(group, CommandGroup) for group in ours.values()), \
        [name for name, group in ours.items() if not isinstance(group, CommandGroup)]


def _cyrillic(text) -> bool:
    return any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text or "")


def test_every_command_of_ours_has_its_help_page_in_russian(app):
    runner = app.test_cli_runner()
    pages = 0
    for name, group in app.cli.commands.items():
        if not isinstance(group, CommandGroup):
            continue
        for args in [[name]] + [[name, command] for command in group.commands]:
            result = runner.invoke(args=[*args, "--help"])
            assert result.exit_code == 0, result.output
            description = result.output.split("\n\n")[1]
            assert _cyrillic(description), (args, description)
            for english in ("Usage:", "Options:", "Commands:", "Show this message", "[required]", "[default:",
                            "INTEGER", "TEXT"):
                assert english not in result.output, (args, english, result.output)
            pages += 1
        for command in group.commands.values():
            for param in command.params:
                if isinstance(param, click.Option):
                    assert _cyrillic(param.help), (name, command.name, param.opts, param.help)
    assert pages >= 30
