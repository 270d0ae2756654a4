"""``crystallize --help`` and argument parsing stay light: no engine, yaml or metadata."""

import subprocess
import sys

import pytest

HEAVY = ("crystallize_tui.core", "crystallize_tui.commands", "crystallize_tui.tui", "yaml",
         "importlib.metadata", "scipy", "numpy", "rich", "textual")


def imported_by(*args: str) -> set[str]:
    # -X importtime lists every module the real entry point imports, on stderr.
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "crystallize_tui.cli", *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode in (0, 2), out.stderr
    return {line.split("|")[-1].strip() for line in out.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["--version"],
                                  ["run", "--replicates", "many", "x"]])
def test_parsing_arguments_imports_neither_the_engine_nor_yaml_nor_metadata(args):
    modules = imported_by(*args)
    assert "argparse" in modules  # the listing works
    heavy = sorted(m for m in modules if m.startswith(HEAVY))
    assert not heavy, heavy


def test_the_package_imports_the_engine_only_when_a_name_is_used():
    script = ("import sys, crystallize_tui\n"
              "assert 'crystallize_tui.core.experiment' not in sys.modules\n"
              "from crystallize_tui import Experiment, Store\n"
              "print(Experiment.__name__, Store.__name__)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Experiment", "Store"]
