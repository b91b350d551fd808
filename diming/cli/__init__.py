"""The ``diming`` command: a thin click layer, one small module per command.

Commands are imported only when run, so ``diming --help`` starts without loading geopandas.
Each module holds a click command named ``cli`` that parses options, calls a library function and
prints; a :class:`~diming.errors.DimingError` becomes a one-line message and exit status 1, and a
missing project (:class:`~diming.errors.NoProject`) exit status 2, in every command alike.
``--project/-p`` is taken before the command and after it (``diming check -p x.gpkg``).
"""
from __future__ import annotations

import importlib

import click

from diming import __version__

# command name -> (module, one-line help shown by --help without importing the module)
COMMANDS = {
    "init": ("diming.cli.init", "创建空项目 (create an empty project with every layer)"),
    "layers": ("diming.cli.layers", "列出图层 (list layers, geometry type, CRS and count)"),
    "config": ("diming.cli.config", "查看或修改项目设置 (read or write project settings)"),
    "import": ("diming.cli.import_", "导入数据到图层 (import GeoJSON, GPKG, SHP, CSV, XLSX into a layer)"),
    "export": ("diming.cli.export", "导出图层 (export a layer to GeoJSON, GPKG, SHP, CSV, XLSX)"),
    "check": ("diming.cli.check", "项目检查 (check names, proposals, areas, lines and markers; text/json/geojson/gpkg)"),
    "accept": ("diming.cli.accept", "认可检查结果为例外 (record a reviewed finding as an accepted exception)"),
    "map": ("diming.cli.map", "生成离线地图 (HTML maps: inspection, proposals, heritage, check)"),
    "namecheck": ("diming.cli.namecheck", "检查拟用地名 (check a candidate name: rules, duplicates, homophones, heritage)"),
    "road": ("diming.cli.road", "道路命名申报, 更名销名, 异常道路摸排 (road-naming proposals, renames, cancellations, the survey)"),
    "heritage": ("diming.cli.heritage", "地名保护名录 (heritage protection list)"),
    "qgis": ("diming.cli.qgis", "写出 QGIS 项目 (a QGIS project over the GeoPackage: groups, styles, Chinese forms)"),
    "gazetteer": ("diming.cli.gazetteer", "地名录与国家地名信息库交换 (registration-form import/export, diff)"),
    "rural": ("diming.cli.rural", "乡村地名采集上图 (rural names campaign: progress, model villages, batches)"),
    "dictionary": ("diming.cli.dictionary", "编印地名词典 (the place-name dictionary: a PDF book or a Word document)"),
    "log": ("diming.cli.log", "查看操作日志 (show the audit log)"),
    "inspect": ("diming.cli.inspect", "界线联合检查 (joint inspection: rounds, field sheets, results, report)"),
    "sign": ("diming.cli.sign", "路名牌与路牌巡查 (road signs: register, patrols, field sheets, results, reports)"),
    "demo": ("diming.cli.demo", "生成演示项目 (build the demo project and run the main job on it)"),
}


def _set_project(ctx, param, value):
    if value is not None:
        ctx.find_root().obj["project"] = value


PROJECT_HELP = "项目文件 (the project GeoPackage); also $DIMING_PROJECT."


def _with_project_option(command):
    """``command`` (and every command of a group) taking ``--project/-p`` as well, for who writes it
    after the command name; the root reads it before."""
    if not any(p.name == "project_after" for p in command.params):
        command.params.append(click.Option(["--project", "-p", "project_after"], expose_value=False,
                                           callback=_set_project, type=click.Path(dir_okay=False),
                                           help=PROJECT_HELP))
    for sub in getattr(command, "commands", {}).values():
        _with_project_option(sub)
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        return _with_project_option(importlib.import_module(COMMANDS[name][0]).cli)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx):
        from diming.errors import DimingError, NoProject

        try:
            return super().invoke(ctx)
        except DimingError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = 2 if isinstance(exc, NoProject) else 1
            raise error from None


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="diming")
@click.option("--project", "-p", envvar="DIMING_PROJECT", default="diming.gpkg", show_default=True,
              type=click.Path(dir_okay=False), help=PROJECT_HELP)
@click.option("--by", default=None, help="操作人, recorded in the audit log (default: the OS user).")
@click.pass_context
def main(ctx, project, by):
    """diming (地名) — 区划地名工作: road names, heritage names, boundaries, joint inspection."""
    ctx.obj = {"project": project, "by": by}
