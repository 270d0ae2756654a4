"""Step functions for tests/test_replicate_isolation.py, importable by worker processes."""


def mutate_flat(config, ctx):
    ctx.metrics.add("v_seen", config["v"])
    ctx.metrics.add("had_extra", "extra" in config)
    config["v"] += 100  # a careless step: mutates the config it was given
    config["extra"] = ctx.replicate


def mutate_nested(config, ctx):
    ctx.metrics.add("len_seen", len(config["layers"]))
    ctx.metrics.add("lr_seen", config["opt"]["lr"])
    config["layers"].append(ctx.replicate)
    config["opt"]["lr"] *= 10


def seed_and_draw(config, ctx):
    ctx.metrics.add("seed", float(ctx.seed))
    ctx.metrics.add("draw", ctx.rng.random())
