import click


@click.command()
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="输出文件: 地名词典.pdf (book) 或 .docx (Word).")
@click.option("--district", default=None, help="只收该区划的地名 (division code or its prefix).")
@click.option("--category", "categories", multiple=True, help="只收这些类别 (code or class; repeatable).")
@click.option("--title", default=None, help="书名 (default: <top division>地名词典).")
@click.pass_obj
def cli(obj, output, district, categories, title):
    """编印地名词典: entries by district and category, contents, pinyin index (PDF or Word)."""
    from diming.geonames.dictionary import write_dictionary

    result = write_dictionary(obj["project"], output, district=district, categories=categories, title=title)
    pages = f", {result['pages']} 页" if result["pages"] else ""
    click.echo(f"已写出 {result['output']} ({result['entries']} 条地名{pages})")
