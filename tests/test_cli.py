"""What every command shares: --project after the command, one exit status for a missing project,
--format json on the listing commands, and the README's Python examples, run as written."""
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from diming.cli import COMMANDS, main

README = Path(__file__).resolve().parent.parent / "README.md"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_project_option_after_the_command(demo_project):
    before = invoke("-p", demo_project, "check", "--rules", "marker", "--format", "json")
    after = invoke("check", "--project", demo_project, "--rules", "marker", "--format", "json")
    assert after.exit_code == before.exit_code == 1
    assert json.loads(after.output)["summary"] == json.loads(before.output)["summary"]
    assert invoke("layers", "-p", demo_project).exit_code == 0
    new = invoke("inspect", "round", "new", "2024", "--name", "第七轮", "--lines", "9101", "-p", demo_project)
    assert new.exit_code == 0, new.output
    assert "2024-1" in invoke("inspect", "round", "list", "--project", demo_project).output


@pytest.mark.parametrize("args", [["layers"], ["check"], ["config"], ["log"], ["inspect", "round", "list"],
                                  ["inspect", "report", "--round", "2024-1", "--output", "r.md"],
                                  ["export", "roads", "r.csv"], ["heritage", "list"], ["map", "inspection", "-o", "m.html"]])
def test_missing_project_exits_2_in_every_command(tmp_path, args):
    result = invoke("--project", tmp_path / "none.gpkg", *args)
    assert result.exit_code == 2, (args, result.output)
    assert "项目文件不存在" in result.output


def test_every_command_takes_project_after_it():
    from diming.cli import LazyGroup

    group = main
    assert isinstance(group, LazyGroup)
    for name in COMMANDS:
        command = group.get_command(None, name)
        leaves = [command]
        while any(hasattr(c, "commands") for c in leaves):
            leaves = [s for c in leaves for s in (c.commands.values() if hasattr(c, "commands") else [c])]
        for leaf in leaves:
            assert any("--project" in p.opts and "-p" in p.opts for p in leaf.params), (name, leaf.name)


def test_round_list_and_config_as_json(demo_project):
    invoke("-p", demo_project, "inspect", "round", "new", "2024", "--name", "第七轮", "--lines", "9101,9103")
    rounds = json.loads(invoke("-p", demo_project, "inspect", "round", "list", "--format", "json").output)
    assert [(r["round_id"], r["total"], r["inspected"]) for r in rounds] == [("2024-1", 34, 0)]
    settings = json.loads(invoke("-p", demo_project, "config", "--format", "json").output)
    tolerance = next(s for s in settings if s["key"] == "displacement_tolerance_m")
    assert tolerance["value"] == tolerance["default"] == 1.0 and tolerance["description"]
    one = json.loads(invoke("-p", demo_project, "config", "marker_tolerance_m", "--format", "json").output)
    assert one == {"key": "marker_tolerance_m", "value": 5.0}
    changed = json.loads(invoke("-p", demo_project, "config", "marker_tolerance_m", "3", "--format", "json").output)
    assert changed == {"key": "marker_tolerance_m", "value": 3.0}


def test_fieldsheets_folder_with_a_file_extension_is_refused(demo_project, tmp_path):
    invoke("-p", demo_project, "inspect", "round", "new", "2024", "--name", "第七轮", "--lines", "9101")
    result = invoke("-p", demo_project, "inspect", "fieldsheet", "--round", "2024-1", "--output", tmp_path / "x.pdf")
    assert result.exit_code == 1 and "--line" in result.output and not (tmp_path / "x.pdf").exists()
    ok = invoke("-p", demo_project, "inspect", "fieldsheet", "--round", "2024-1", "--output", tmp_path / "sheets")
    assert ok.exit_code == 0 and (tmp_path / "sheets" / "9101.pdf").is_file()


def test_demo_lists_layers_after_its_round(tmp_path):
    lines = invoke("demo", "--output", tmp_path / "out").output.splitlines()
    round_line = next(i for i, line in enumerate(lines) if line.startswith("联检轮次"))
    counts = {line.split()[0]: int(line.split()[-1]) for line in lines if line.startswith("  ")}
    assert counts["inspection_rounds"] == 1 and counts["inspections"] == 12
    assert all(i > round_line for i, line in enumerate(lines) if line.startswith("  inspection"))


def test_readme_python_examples_run(tmp_path, monkeypatch):
    """Every ```python block of the README, run as written in a folder holding the demo's output."""
    from diming.demo import run_demo

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README has Python examples"
    run_demo(tmp_path, echo=lambda line: None)
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
