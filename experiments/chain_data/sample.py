"""chain_data's step: draw a sample and save it as data.csv."""

import csv
import io


def draw(config, ctx):
    values = [round(ctx.rng.gauss(0.0, config["spread"]), 4) for _ in range(config["size"])]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["value"])
    writer.writerows([v] for v in values)
    ctx.artifacts.save("data.csv", out.getvalue())
    ctx.metrics.add("rows", len(values))
    print(f"saved {len(values)} values (spread {config['spread']}) as data.csv")
    return values
