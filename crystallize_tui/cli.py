"""The ``crystallize`` command."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crystallize",
        description=(
            "Run stochastic experiments many times and compare conditions honestly. "
            "With no arguments this will open the terminal UI (not built yet)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"crystallize {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    print(
        "\nThe terminal UI and the run/list/diff subcommands are not built yet; "
        "use the Python API (see README.md).",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
