"""A run's kind (exploratory / confirmatory) in every script-readable output, and `confirm --detach`."""

import csv
import io
import json
from pathlib import Path

from cli_support import cli, write

GAME = '''
import pathlib
import time

def play(config, ctx):
    deadline = time.monotonic() + 30
    while pathlib.Path("hold").exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # the test looks at the live run, then lets it go on
    ctx.metrics.add("score", ctx.rng.gauss(0, 1) + config["p"])
'''

YAML = '''
pipeline: [game:play]
datasource: {p: 0.0}
replicates: 4
seed: 11
treatments:
  better: {p: 3.0}
hypotheses:
  - {metric: score, direction: greater, test: paired_t}
'''


def test_kind_in_run_show_export_and_a_detached_confirm_shown_confirmatory(tmp_path: Path):
    write(tmp_path / "experiments" / "dice", {"experiment.yaml": YAML, "game.py": GAME})
    out = cli(tmp_path, "run", "dice", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kind"] == "exploratory"

    (tmp_path / "hold").touch()
    out = cli(tmp_path, "confirm", "dice", "--detach")
    assert out.returncode == 0, out.stderr
    (run_id,) = out.stdout.split()  # the run id alone on stdout, as `run --detach` prints it
    ps = cli(tmp_path, "ps").stdout  # the run is recorded before --detach returns
    (line,) = [row for row in ps.splitlines() if row.startswith(run_id)]
    assert line.split("\t")[2] == "running · confirmatory"
    (tmp_path / "hold").unlink()
    attached = cli(tmp_path, "attach", run_id)
    assert attached.returncode == 0, attached.stdout + attached.stderr
    assert attached.stdout.splitlines()[0].startswith(f"run {run_id}: ")
    assert "· confirmatory" in attached.stdout.splitlines()[0]

    # `export -f json` writes this same document (commands/browsing.py); the CSV has a column.
    shown = json.loads(cli(tmp_path, "show", run_id, "--json").stdout)
    assert shown["kind"] == "confirmatory" and shown["run_id"] == run_id
    assert shown["status"] == "completed" and shown["comparison"]
    rows = list(csv.DictReader(io.StringIO(cli(tmp_path, "export", run_id).stdout)))
    assert rows and {r["kind"] for r in rows} == {"confirmatory"}
