"""A datasource gives a config, and a config is a mapping: anything else is refused by name."""

import pytest
from cli_support import cli, write_experiment

from crystallize_tui import ConfigError, Experiment, Treatment

DATA = '''
def play(config, ctx):
    ctx.metrics.add("x", len(config))

def rows():
    return [1, 2, 3]

def nothing():
    pass

def good():
    return {"a": 1}
'''


@pytest.mark.parametrize("yaml_text, named", [
    ("pipeline: [data:play]\ndatasource: data:rows\n", "'data:rows' returned a list"),
    ("pipeline: [data:play]\ndatasource: data:nothing\n", "'data:nothing' returned None"),
    ("pipeline: [data:play]\ndatasource: data:good\ntreatments:\n  t: {datasource: data:rows}\n",
     "treatment 't': datasource 'data:rows' returned a list"),
])
def test_cli_refuses_a_datasource_that_returns_no_mapping(tmp_path, yaml_text, named):
    write_experiment(tmp_path, "listy", yaml_text, {"data.py": DATA})
    out = cli(tmp_path, "run", "listy")
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], out.stderr
    assert "mapping" in lines[0]


def test_api_refuses_a_list_config_from_a_function_or_given_directly():
    def step(config, ctx):
        ctx.metrics.add("x", 1)

    with pytest.raises(ConfigError, match=r"baseline: datasource '.*<lambda>' returned a list"):
        Experiment(datasource=lambda: [1, 2], pipeline=[step], store=None).run()
    with pytest.raises(ConfigError, match=r"baseline: a datasource must be a mapping .* got a list"):
        Experiment(datasource=[1, 2], pipeline=[step], store=None).run()
    exp = Experiment(datasource={"a": 1}, pipeline=[step], store=None,
                     treatments=[Treatment("t", datasource=lambda: (1, 2))])
    with pytest.raises(ConfigError, match="treatment 't': datasource .* returned a tuple"):
        exp.run()
    # A mapping from a function, and no datasource at all, still work.
    assert Experiment(datasource=lambda: {"a": 1}, pipeline=[step], store=None).run().errors == []
    assert Experiment(pipeline=[step], store=None).run().errors == []
