import shutil

import pytest
from click.testing import CliRunner

from diming.layers.store import init_project


@pytest.fixture
def project(tmp_path):
    """An empty project with every layer."""
    return init_project(tmp_path / "p.gpkg")


@pytest.fixture(scope="session")
def _demo_master(tmp_path_factory):
    from diming.demo import build_demo

    return build_demo(tmp_path_factory.mktemp("demo-master") / "diming.gpkg")


@pytest.fixture
def demo_project(_demo_master, tmp_path):
    """A private copy of the built-in demo project, safe to change."""
    path = tmp_path / "demo.gpkg"
    shutil.copy(_demo_master, path)
    return path


@pytest.fixture
def run():
    """Invoke the diming CLI in-process: run(project, "layers", "--format", "json")."""
    from diming.cli import main

    def invoke(project, *args, input=None):
        return CliRunner().invoke(main, ["--project", str(project), "--by", "测试员", *map(str, args)],
                                  input=input, catch_exceptions=False)
    return invoke
