import click


@click.command()
@click.option("--rules", "rules_", default=None, metavar="PREFIX,…",
              help="只查这些规则 (rule codes or prefixes, comma separated: name,area.gap).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "geojson", "gpkg"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="写入文件 (write to FILE; gpkg needs one).")
@click.option("--strict", is_flag=True, help="有警告也以状态 1 退出 (warnings fail too).")
@click.option("--changed", is_flag=True,
              help="只重查上次检查以来改动所及的部分 (re-check only what the edits since the last check affect).")
@click.pass_obj
def cli(obj, rules_, fmt, output, strict, changed):
    """项目检查: every rule on every layer. Exit 0 no errors, 1 errors (or warnings with --strict),
    2 the check could not run."""
    import sys

    from diming.errors import DimingError

    try:
        findings = _run(obj["project"], rules_, changed)
        from diming.findings import summary, write

        text = write(findings, fmt, output)
    except DimingError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if text is not None:
        click.echo(text)
    elif fmt != "text":
        click.echo(f"已写入 {output}", err=True)
    counts = summary(findings)
    sys.exit(1 if counts["error"] or (strict and counts["warning"]) else 0)


def _run(project, rules_, changed):
    import sys

    from diming.check import FAMILIES, run_check

    prefixes = [r for r in rules_.split(",") if r.strip()] if rules_ else None
    if changed or not sys.stderr.isatty():
        return run_check(project, prefixes, changed=changed)
    with click.progressbar(length=len(FAMILIES), label="检查中", file=sys.stderr) as bar:
        return run_check(project, prefixes, progress=lambda step: bar.update(1))
