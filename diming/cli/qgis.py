import click


@click.command()
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="QGIS 项目文件 (PROJECT.qgz), 用相对路径指向项目 GeoPackage.")
@click.option("--findings", type=click.Path(dir_okay=False),
              help="检查结果 GeoPackage (from diming check --format gpkg): 加入检查结果图层.")
@click.option("--title", default=None, help="项目标题 (project title).")
@click.pass_obj
def cli(obj, output, findings, title):
    """QGIS 项目: every layer grouped, styled and labelled, with Chinese forms, in CGCS2000."""
    from diming.layers.qgis_project import write_project

    result = write_project(obj["project"], output, findings=findings, title=title)
    groups = "; ".join(f"{name}: {'、'.join(layers)}" for name, layers in result["groups"].items())
    click.echo(f"已写出 {result['output']} ({groups})")
