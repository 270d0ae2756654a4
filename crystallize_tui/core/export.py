"""Result export: CSV of flat rows, JSON of the whole result (round-trips), pandas DataFrame.

Every format says the run's ``kind`` (exploratory or confirmatory, core/confirm.py): a CSV
column, a JSON key, a DataFrame column, so a script never mistakes one for the other."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .errors import CrystallizeError
from .result import ReplicateResult

if TYPE_CHECKING:
    from .result import Result

CSV_COLUMNS = ["treatment", "replicate", "seed", "status", "metric", "index", "value", "kind"]
JSON_FORMAT = "crystallize-result/1"


def to_csv(result: Result, path: str | os.PathLike[str] | TextIO) -> Path | None:
    """One line per recorded value (the columns of ``to_rows()``); failed replicates
    without values get one line with an empty metric, so every replicate shows.
    ``path`` may be an open text stream (e.g. sys.stdout)."""
    if hasattr(path, "write"):
        _write_csv(result, path)  # type: ignore[arg-type]
        return None
    target = Path(path)  # type: ignore[arg-type]
    with target.open("w", newline="", encoding="utf-8") as fh:
        _write_csv(result, fh)
    return target


def _write_csv(result: Result, fh: TextIO) -> None:
    writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    kind = _kind(result)
    with_values = set()
    for row in result.to_rows():
        with_values.add((row["treatment"], row["replicate"]))
        writer.writerow({**row, "kind": kind})
    for rep in result.replicate_results:
        if (rep.treatment, rep.replicate) not in with_values:
            writer.writerow({"treatment": rep.treatment, "replicate": rep.replicate,
                             "seed": rep.seed, "status": rep.status, "metric": "",
                             "index": "", "value": "", "kind": kind})


def _kind(result: Result) -> str:
    return getattr(result, "kind", None) or "exploratory"


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "nan", "inf", "-inf": JSON has no such numbers
    return value


def _from_json_value(value: Any) -> Any:
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    return value


def to_dict(result: Result) -> dict[str, Any]:
    return {
        "format": JSON_FORMAT,
        "run_id": result.run_id,
        "experiment": result.experiment,
        "status": result.status,
        "kind": _kind(result),
        "complete": result.complete,
        "seed": result.seed,
        "replicates": result.replicates,
        "conditions": result.conditions,
        "configs": result.configs,
        "duration": result.duration,
        "replicate_results": [
            {
                "treatment": r.treatment, "replicate": r.replicate, "seed": r.seed,
                "status": r.status, "duration": r.duration, "error": r.error,
                "traceback": r.traceback,
                "values": [[n, _json_value(v)] for n, v in r.values],
            }
            for r in result.replicate_results
        ],
    }


def to_json(result: Result, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.write_text(json.dumps(to_dict(result), indent=2, default=repr), encoding="utf-8")
    return target


def from_json(path: str | os.PathLike[str]) -> Result:
    from .result import Result

    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CrystallizeError(f"{source}: cannot read a result ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
        raise CrystallizeError(f"{source}: not a Crystallize result export (format {JSON_FORMAT})")
    reps = [
        ReplicateResult(r["treatment"], r["replicate"], r["seed"], r["status"],
                        [(n, _from_json_value(v)) for n, v in r["values"]], r["duration"],
                        r["error"], r["traceback"])
        for r in data["replicate_results"]
    ]
    result = Result(run_id=data["run_id"], experiment=data["experiment"], seed=data["seed"],
                  replicates=data["replicates"], conditions=data["conditions"],
                  configs=data["configs"], outcomes=reps, status=data["status"],
                  duration=data["duration"], complete=data["complete"])
    result.kind = data.get("kind") or "exploratory"  # exports from before it said
    return result


def to_dataframe(result: Result) -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise CrystallizeError("to_dataframe needs pandas: pip install pandas") from None
    return pd.DataFrame([{**row, "kind": _kind(result)} for row in result.to_rows()],
                        columns=CSV_COLUMNS)
