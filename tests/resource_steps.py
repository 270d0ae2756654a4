"""Resources and steps for tests/test_resources.py, importable by worker processes: each
builder and teardown writes a line "<what> <name> <pid>" to the file $ASYNC_RESOURCE_LOG."""

import asyncio
import os


def _log(what: str, name: str) -> None:
    with open(os.environ["ASYNC_RESOURCE_LOG"], "a") as out:
        out.write(f"{what} {name} {os.getpid()}\n")


def model():
    _log("build", "model")
    yield {"weight": 10}
    _log("close", "model")


class Client:
    def __init__(self) -> None:
        _log("build", "client")

    def close(self) -> None:
        _log("close", "client")


def scaled(config):
    _log("build", f"scaled-{config['p']}")
    return config["p"] * 100


def broken():
    _log("build", "broken")
    raise RuntimeError("cannot load the weights")


def use_model(data, ctx):
    ctx.metrics.add("w", ctx.resources["model"]["weight"] + ctx.rng.random())
    ctx.metrics.add("client", isinstance(ctx.resources["client"], Client))


async def use_scaled(data, ctx):
    await asyncio.sleep(0.001)
    ctx.metrics.add("scaled", ctx.resources["scaled"])
    ctx.metrics.add("w", ctx.resources["model"]["weight"])


def use_broken(data, ctx):
    return ctx.resources["broken"]


def use_unknown(data, ctx):
    return ctx.resources["modle"]


BUILDS = {"count": 0}  # builds in this process


def counted():
    BUILDS["count"] += 1
    return {"pid": os.getpid(), "build": BUILDS["count"]}


def use_counted(data, ctx):
    made = ctx.resources["counted"]
    ctx.metrics.add("pid", os.getpid())
    ctx.metrics.add("built_in", made["pid"])
    ctx.metrics.add("build", made["build"])
