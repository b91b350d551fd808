import click


@click.command()
@click.argument("layer")
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--crs", type=int, help="输出坐标系 EPSG (reproject; default CGCS2000 EPSG:4490).")
@click.pass_obj
def cli(obj, layer, dest, crs):
    """导出图层 LAYER 到 DEST; format from the extension: .geojson .gpkg .shp .csv .xlsx."""
    from diming.layers.exports import export_layer

    count = export_layer(obj["project"], layer, dest, crs=crs)
    click.echo(f"{layer}: 已导出 {count} 个要素到 {dest}")
