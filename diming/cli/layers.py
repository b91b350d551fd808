import click


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def cli(obj, fmt):
    """列出图层: geometry type, CRS and feature count of each layer."""
    import json

    from diming.layers.store import layer_summary

    rows = layer_summary(obj["project"])
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['layer']:<18} {r['alias']:<10}\t{r['geometry'] or '-':<16} {r['crs'] or '-':<10} {r['count']:>8}")
