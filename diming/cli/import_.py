import click

from diming.cli.options import source_options


def _field_pairs(ctx, param, values):
    pairs = {}
    for value in values:
        target, sep, source = value.partition("=")
        if not sep or not target or not source:
            raise click.BadParameter(f"{value!r}: 应为 目标字段=源字段 (target=source)")
        pairs[target] = source
    return pairs


@click.command("import")
@click.argument("layer")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@source_options
@click.option("--field", "fields", multiple=True, callback=_field_pairs, metavar="TARGET=SOURCE",
              help="字段对应 (map a layer field to a source field); repeatable.")
@click.option("--mode", type=click.Choice(["append", "replace", "upsert"]), default="append", show_default=True)
@click.option("--fix", is_flag=True, help="修复无效几何 (repair invalid geometry with make_valid, reported).")
@click.pass_obj
def cli(obj, layer, src, source_layer, encoding, x, y, crs, fields, mode, fix):
    """导入 SRC 到图层 LAYER: GeoJSON, GPKG, SHP, CSV, XLSX. Every row is checked; nothing is kept
    unless every row is good (one transaction)."""
    import sys

    from diming.layers.imports import import_layer

    def run(progress=None):
        return import_layer(obj["project"], layer, src, source_layer=source_layer, encoding=encoding, x=x, y=y,
                            crs=crs, fields=fields, mode=mode, fix=fix, by=obj["by"], progress=progress)

    if sys.stderr.isatty():
        counts = {"read": 0, "checked": 0}
        with click.progressbar(length=1000, label="导入中", file=sys.stderr,
                               item_show_func=lambda _: f"已读 {counts['read']:,} 行, 已检查 {counts['checked']:,} 行"
                               ) as bar:
            def progress(fraction, read, checked):
                counts.update(read=read, checked=checked)
                steps = int(fraction * 1000) - bar.pos
                bar.update(steps, read)
                if steps <= 0:  # the counts moved on while the bar did not
                    bar.render_progress()
            result = run(progress)
    else:
        result = run()
    for notice in result.notices:
        click.echo(notice)
    for note in result.fixed:
        click.echo(f"已修复: {note}")
    if result.ignored_fields:
        click.echo(f"忽略的源字段 (not mapped): {', '.join(result.ignored_fields)}")
    echo_defaults(result)
    if result.spelt:
        click.echo(f"已拼写罗马字母拼写 (pinyin spelt from the name): {result.spelt} 行")
    click.echo(f"{result.layer}: 新增 {result.inserted}, 更新 {result.updated}, 未变 {result.unchanged}, "
               f"删除 {result.deleted}")


def echo_defaults(result) -> None:
    """One line per field the import filled with its schema default: which value, how many rows."""
    from diming.layers.schema import get_layer, label

    layer = get_layer(result.layer)
    for name, count in result.defaults.items():
        f = layer.field(name)
        click.echo(f"已填默认值 (default filled): {f.alias} {name} = {f.default} ({label(f.default)}), {count} 行")
