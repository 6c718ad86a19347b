"""README.md's examples run as written, and its commands name real subcommands."""

from __future__ import annotations

import re
from pathlib import Path

from chainbench.cli import make_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_python_examples_run(capsys):
    blocks = _blocks("python")
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    assert capsys.readouterr().out.strip(), "the example prints what the engine counted"


def test_every_command_in_the_cheat_sheet_is_a_subcommand():
    choices = make_parser()._subparsers._group_actions[0].choices
    commands = [line.split()[1] for block in _blocks("bash") for line in block.splitlines()
                if line.startswith("chainbench ")]
    assert len(commands) >= 8
    unknown = sorted({c for c in commands if c not in choices})
    assert not unknown, f"README names unknown subcommands: {unknown}"


def test_readme_stays_short():
    assert len(README.read_bytes()) < 12 * 1024


def test_readme_and_the_engines_page_name_every_layer():
    import chainbench as cb

    readme, engines_page = README.read_text(), (README.parent / "docs" / "engines.md").read_text()
    for cls in cb.LAYERS.values():
        token = f"`{cls.token()}`"
        assert token in readme and token in engines_page, f"{token} missing from the docs"
