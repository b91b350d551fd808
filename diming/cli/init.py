import click


@click.command()
@click.option("--force", is_flag=True, help="覆盖已有文件 (overwrite an existing file).")
@click.pass_obj
def cli(obj, force):
    """创建空项目: every layer, empty, with its schema."""
    from diming.layers.store import init_project

    path = init_project(obj["project"], overwrite=force)
    click.echo(f"已创建项目 {path}")
