import click


@click.command()
@click.argument("rule")
@click.argument("keys", nargs=-1, required=True)
@click.option("--reason", required=True, help="认可理由 (why this finding is accepted, e.g. 飞地).")
@click.pass_obj
def cli(obj, rule, keys, reason):
    """认可检查结果为例外: RULE and the features involved (layer:id, as in the check's "keys");
    the check then reports it as accepted. Audited."""
    from diming.check import accept

    eid = accept(obj["project"], rule, list(keys), reason, by=obj["by"])
    click.echo(f"已记录例外 {eid}: {rule} {' '.join(keys)}")
