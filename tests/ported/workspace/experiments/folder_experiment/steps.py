"""folder_experiment's step: add delta to the value, save it as out.txt, record it."""


def add_one(config, ctx):
    value = config["value"] + config["delta"]
    ctx.artifacts.save("out.txt", str(value))
    ctx.metrics.add("val", value)
    return {"val": value}
