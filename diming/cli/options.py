"""What several commands share: the ``--format text|json`` option and its JSON output, and the
options that say how to read a source file (those of :func:`diming.layers.sources.read_source`)."""
from __future__ import annotations

import json

import click

text_or_json = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                            show_default=True)


class DateText(click.ParamType):
    """A date option, validated as the import validates dates (:mod:`diming.layers.dates`) and
    handed on as ISO ``YYYY-MM-DD``; a bad one is a one-line error naming the option."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        from diming.layers.dates import date_option

        return date_option(value, param.opts[0] if param else "日期").isoformat()


DATE = DateText()


def echo_json(value) -> None:
    """``value`` as indented JSON with Chinese kept readable, the form every ``--format json`` prints."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def source_options(command):
    """``--source-layer``, ``--encoding``, ``--x``, ``--y`` and ``--crs`` of a command that imports a file."""
    for option in reversed((
            click.option("--source-layer", help="源文件中的图层或工作表 (layer of a GPKG, sheet of an XLSX)."),
            click.option("--encoding", help="文本编码, e.g. GBK for old Chinese .dbf and CSV files."),
            click.option("--x", "x", help="X 坐标列 (northing for Gauss-Krüger, longitude for geographic)."),
            click.option("--y", "y", help="Y 坐标列 (easting for Gauss-Krüger, latitude for geographic)."),
            click.option("--crs", type=int, help="源坐标系 EPSG, e.g. 4528 (CGCS2000 GK zone 40 with prefix)."))):
        command = option(command)
    return command
