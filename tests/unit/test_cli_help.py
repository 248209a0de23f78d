"""`accord --help` and every subcommand's --help: each page says what the command does, documents every argument
and option, and says nothing twice."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from cli import build_parser


def pages(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from pages(sub)


def test_every_command_page_describes_the_command_and_documents_every_argument_once() -> None:
    found = list(pages(build_parser()))
    assert len(found) >= 25  # accord, its commands and their subcommands.
    for page in found:
        assert page.description, page.prog
        undocumented = [a.dest for a in page._actions if not a.help and not isinstance(a, argparse._SubParsersAction)]
        assert undocumented == [], page.prog
        lines = [line.strip() for line in page.format_help().splitlines() if len(line.strip()) > 30]
        assert len(lines) == len(set(lines)), page.prog
