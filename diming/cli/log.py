import click

from diming.cli.options import echo_json, text_or_json


@click.command()
@click.option("--layer", help="只看这个图层 (only this layer).")
@click.option("--key", help="只看这个要素 (only this feature key).")
@text_or_json
@click.pass_obj
def cli(obj, layer, key, fmt):
    """查看操作日志 (the audit log), oldest first."""
    from diming.layers.store import audit_rows

    rows = audit_rows(obj["project"], layer=layer, key=key)
    if fmt == "json":
        echo_json(rows)
        return
    for r in rows:
        where = f"{r['layer']}/{r['key']}" if r["layer"] else ""
        note = f"  {r['note']}" if r["note"] else ""
        click.echo(f"{r['at'][:19]}  {r['by']:<10} {r['action']:<10} {where}{note}")
