"""chain_summary's step: read the producer's data.csv and summarise it."""

import csv
import statistics


def summarise(data, ctx):
    # data is the producer's replicate: open(data) opens its data.csv; data.metrics are
    # the producer replicate's metrics and data.config this condition's own config.
    with open(data, newline="") as fh:
        values = sorted(float(row["value"]) for row in csv.DictReader(fh))
    trim = data.config["trim"]
    kept = values[trim:len(values) - trim] if trim else values
    ctx.metrics.add("length", len(kept))
    ctx.metrics.add("spread", statistics.pstdev(kept))
    ctx.metrics.add("rows_reported", data.metrics["rows"])
    return {"length": len(kept)}
