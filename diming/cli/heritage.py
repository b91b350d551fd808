import click

from diming.cli.options import DATE, echo_json, source_options, text_or_json


@click.group()
def cli():
    """地名保护名录: add, import, list, show, export."""


@cli.command()
@click.argument("name")
@click.option("--lon", type=float, required=True, help="经度 (CGCS2000).")
@click.option("--lat", type=float, required=True, help="纬度 (CGCS2000).")
@click.option("--category", type=click.Choice(["地名文化遗产", "历史地名", "其他"]), required=True)
@click.option("--batch", help="批次, e.g. 第一批.")
@click.option("--level", help="保护级别, e.g. 市级.")
@click.option("--meaning", help="含义.")
@click.option("--origin", help="来历.")
@click.option("--history", help="沿革.")
@click.option("--value", help="历史文化价值.")
@click.option("--location", help="位置描述.")
@click.option("--district", help="所属政区代码.")
@click.option("--status", type=click.Choice(["in_use", "historical", "delisted"]), default="in_use", show_default=True)
@click.option("--listed-on", type=DATE, help="公布日期 YYYY-MM-DD.")
@click.pass_obj
def add(obj, name, lon, lat, **fields):
    """列入名录: 标准地名 NAME at --lon/--lat."""
    from shapely.geometry import Point

    from diming.geonames.heritage import add_entry

    record = add_entry(obj["project"], name, Point(lon, lat), by=obj["by"], **fields)
    click.echo(f"{record['heritage_id']}  {record['name']}  {record['pinyin']}")


@cli.command("import")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@source_options
@click.pass_obj
def import_(obj, src, source_layer, encoding, x, y, crs):
    """导入名录条目 (CSV, XLSX, GeoJSON, GPKG); keys and pinyin filled in where missing."""
    from diming.cli.import_ import echo_defaults
    from diming.geonames.heritage import import_entries

    result = import_entries(obj["project"], src, by=obj["by"], source_layer=source_layer, encoding=encoding,
                            x=x, y=y, crs=crs)
    for notice in result.notices:
        click.echo(notice)
    if result.ignored_fields:
        click.echo(f"忽略的源字段 (not mapped): {', '.join(result.ignored_fields)}")
    echo_defaults(result)
    click.echo(f"heritage_names: 新增 {result.inserted}")


@cli.command("list")
@click.option("--category", help="只看此类别.")
@click.option("--batch", help="只看此批次.")
@click.option("--status", help="只看此状态.")
@text_or_json
@click.pass_obj
def list_(obj, category, batch, status, fmt):
    """列出名录."""
    from diming.geonames.heritage import entries

    rows = entries(obj["project"], category=category, batch=batch, status=status)
    if fmt == "json":
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['heritage_id']}  {r['name']:<6} {r['pinyin'] or '':<16} {r['category'] or '':<7} "
                   f"{r['batch'] or '':<4} {r['level'] or '':<4} {r['status'] or ''}")
    click.echo(f"共 {len(rows)} 条")


@cli.command()
@click.argument("heritage_id")
@text_or_json
@click.pass_obj
def show(obj, heritage_id, fmt):
    """显示名录条目, 以及同名或同音的道路与申报."""
    from diming.geonames.heritage import entry
    from diming.layers.schema import get_layer

    record = entry(obj["project"], heritage_id)
    if fmt == "json":
        echo_json(record)
        return
    for f in get_layer("heritage_names").fields:
        if record.get(f.name) not in (None, ""):
            click.echo(f"{f.alias}: {record[f.name]}")
    click.echo(f"位置: {record['lon']}, {record['lat']}")
    for r in record["related"]:
        click.echo(f"  相关: {r['layer']}/{r['id']} {r['name']} ({r['rule']})")


@cli.command()
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help=".xlsx 公布用名录表; .gpkg/.geojson/.shp/.csv 图层.")
@click.pass_obj
def export(obj, output):
    """导出名录: XLSX for publication, or the layer."""
    from diming.geonames.heritage import export_list

    n = export_list(obj["project"], output)
    click.echo(f"{output}: {n} 条")
