import click


@click.command()
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.pass_obj
def cli(obj, key, value):
    """查看或修改项目设置. No KEY: list all; KEY: show one; KEY VALUE: set it (audited)."""
    from diming.layers.settings import SETTINGS, get_setting, get_settings, set_setting

    if key is None:
        values = get_settings(obj["project"])
        for k, setting in SETTINGS.items():
            mark = "" if values[k] != setting.default else "  (默认)"
            click.echo(f"{k} = {values[k]}{mark}\n    {setting.description}")
    elif value is None:
        click.echo(get_setting(obj["project"], key))
    else:
        new = set_setting(obj["project"], key, value, by=obj["by"])
        click.echo(f"{key} = {new}")
