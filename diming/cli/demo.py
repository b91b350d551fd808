import click


@click.command()
@click.option("--output", "-o", default="demo", show_default=True, type=click.Path(file_okay=False),
              help="输出文件夹 (folder for the project and everything the demo writes).")
def cli(output):
    """生成演示项目: build the fictional 青岚市 project and run the main job on it."""
    from diming.demo import run_demo

    run_demo(output, echo=click.echo)
