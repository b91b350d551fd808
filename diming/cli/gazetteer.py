import click

from diming.cli.options import echo_json, text_or_json


@click.group()
def cli():
    """地名录与国家地名信息库交换: import, export (登记表), diff."""


@cli.command("import")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def import_(obj, src):
    """导入登记表 SRC (.xlsx/.csv): new 地名代码 added, known ones updated, road rows skipped."""
    from diming.geonames.gazetteer import import_form

    r = import_form(obj["project"], src, by=obj["by"])
    click.echo(f"place_names: 新增 {r['inserted']}, 更新 {r['updated']}, 未变 {r['unchanged']}"
               + (f", 道路 {r['roads']} 行由 roads 维护, 未导入" if r["roads"] else ""))


@cli.command()
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="登记表 .xlsx 或 .csv.")
@click.pass_obj
def export(obj, output):
    """导出登记表: every gazetteer name and the roads in use, in the registration form's layout."""
    from diming.geonames.gazetteer import export_form

    click.echo(f"已写出 {output} ({export_form(obj['project'], output)} 条地名)")


@cli.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False))
@click.argument("new", required=False, type=click.Path(exists=True, dir_okay=False))
@text_or_json
@click.pass_obj
def diff(obj, old, new, fmt):
    """比较两次导出的登记表 OLD NEW (NEW 省略时与项目比较): added, changed, abolished."""
    from diming.geonames.gazetteer import diff as gazetteer_diff

    result = gazetteer_diff(old, new, project=obj["project"])
    if fmt == "json":
        echo_json(result)
        return
    for title, key in (("新增", "added"), ("变更", "changed"), ("废止", "abolished")):
        click.echo(f"{title} {len(result[key])}:")
        for item in result[key]:
            fields = f"  ({'、'.join(item['fields'])})" if "fields" in item else ""
            click.echo(f"  {item['id']}  {item['name']}{fields}")
