import click

from diming.cli.options import echo_json, text_or_json


@click.command()
@text_or_json
@click.pass_obj
def cli(obj, fmt):
    """列出图层: geometry type, CRS and feature count of each layer."""
    from diming.layers.store import layer_summary

    rows = layer_summary(obj["project"])
    if fmt == "json":
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['layer']:<18} {r['alias']:<10}\t{r['geometry'] or '-':<16} {r['crs'] or '-':<10} {r['count']:>8}")
