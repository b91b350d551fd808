import click

from diming.cli.options import echo_json, text_or_json


@click.command()
@click.argument("key", required=False)
@click.argument("value", required=False)
@text_or_json
@click.pass_obj
def cli(obj, key, value, fmt):
    """查看或修改项目设置. No KEY: list all; KEY: show one; KEY VALUE: set it (audited)."""
    from diming.layers.settings import SETTINGS, get_setting, get_settings, set_setting

    if key is None:
        values = get_settings(obj["project"])
        if fmt == "json":
            echo_json([{"key": k, "value": values[k], "default": setting.default, "description": setting.description}
                       for k, setting in SETTINGS.items()])
            return
        for k, setting in SETTINGS.items():
            mark = "" if values[k] != setting.default else "  (默认)"
            click.echo(f"{k} = {values[k]}{mark}\n    {setting.description}")
        return
    new = get_setting(obj["project"], key) if value is None else set_setting(obj["project"], key, value, by=obj["by"])
    if fmt == "json":
        echo_json({"key": key, "value": new})
    else:
        click.echo(new if value is None else f"{key} = {new}")
