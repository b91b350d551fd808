import click

from diming.cli.options import DATE, echo_json, text_or_json


@click.group()
def cli():
    """界线联合检查 (boundary joint inspection): rounds, field sheets, results, the round report."""


@cli.group("round")
def round_():
    """联检轮次 (inspection rounds)."""


def _split(text):
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


@round_.command("new")
@click.argument("year", type=int)
@click.option("--name", required=True, help="轮次名称, e.g. 第七轮2024年度.")
@click.option("--lines", help="界线编号, comma separated (L1,L2,…).")
@click.option("--counties", help="或: 这些区划的全部界线 (every line of these division codes, comma separated).")
@click.option("--starts", type=DATE, help="开始日期 YYYY-MM-DD (default: 1 January of YEAR).")
@click.option("--ends", type=DATE, help="结束日期 YYYY-MM-DD (default: 31 December of YEAR).")
@click.pass_obj
def round_new(obj, year, name, lines, counties, starts, ends):
    """新建联检轮次 (open a round for YEAR)."""
    from diming.boundaries.inspection import new_round

    rnd = new_round(obj["project"], year, name, lines=_split(lines), counties=_split(counties),
                    starts_on=starts, ends_on=ends, by=obj["by"])
    click.echo(f"联检轮次 {rnd['round_id']} {rnd['name']}: {len(rnd['line_ids'])} 条界线 ({', '.join(rnd['line_ids'])})")


@round_.command("close")
@click.argument("round_id")
@click.pass_obj
def round_close(obj, round_id):
    """结束联检轮次 (close a round; its unvisited markers are no longer reported as missing)."""
    from diming.boundaries.inspection import close_round

    rnd = close_round(obj["project"], round_id, by=obj["by"])
    click.echo(f"联检轮次 {rnd['round_id']} {rnd['name']} 已结束")


@round_.command("list")
@text_or_json
@click.pass_obj
def round_list(obj, fmt):
    """列出联检轮次及进度 (rounds with markers inspected / total)."""
    from diming.boundaries.inspection import list_rounds

    rounds = list_rounds(obj["project"])
    if fmt == "json":
        echo_json(rounds)
        return
    for r in rounds:
        click.echo(f"{r['round_id']:<8} {r['name']}  {r['status']}  {r['starts_on']}—{r['ends_on']}  "
                   f"已检 {r['inspected']}/{r['total']}")


@round_.command("show")
@click.argument("round_id")
@text_or_json
@click.pass_obj
def round_show(obj, round_id, fmt):
    """一个轮次的进度, 按界线 (progress of a round, by line)."""
    from diming.boundaries.inspection import round_progress

    r = round_progress(obj["project"], round_id)
    if fmt == "json":
        echo_json(r)
        return
    click.echo(f"{r['round_id']} {r['name']}  {r['status']}  {r['starts_on']}—{r['ends_on']}")
    for line in r["lines"]:
        click.echo(f"  {line['line_id']:<8} {line['name']}  已检 {line['inspected']}/{line['total']}")
    click.echo(f"合计 已检 {r['inspected']}/{r['total']}")


@cli.command("fieldsheet")
@click.option("--round", "round_id", required=True, help="联检轮次编号.")
@click.option("--line", "line_id", help="界线编号; without it, one file per line of the round into --output (a folder).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx", "gpx", "kml"]), default="pdf", show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(),
              help="输出文件; without --line a folder (its name without a file extension).")
@click.pass_obj
def fieldsheet(obj, round_id, line_id, fmt, output):
    """界桩检查记录表 (field sheet): PDF to print, XLSX to fill in, GPX/KML for GPS and map apps."""
    from diming.boundaries.fieldsheet import write_fieldsheet, write_fieldsheets

    if line_id:
        paths = [write_fieldsheet(obj["project"], round_id, line_id, fmt, output)]
    else:
        paths = write_fieldsheets(obj["project"], round_id, fmt, output)
    for path in paths:
        click.echo(f"已写出 {path}")


@cli.command("import")
@click.option("--round", "round_id", required=True, help="联检轮次编号.")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def import_(obj, round_id, file):
    """导入检查结果 (XLSX or CSV): all rows checked first, nothing written unless all are good."""
    from diming.boundaries.inspection import import_results

    counts = import_results(obj["project"], round_id, file, by=obj["by"])
    click.echo(f"{file}: {counts['rows']} 条记录; 新增 {counts['added']}, 更新 {counts['changed']}, "
               f"未变 {counts['unchanged']}" + (f"; 新设界桩 {counts['new_markers']}" if counts["new_markers"] else ""))
    if counts["displaced"]:
        click.echo(f"位移超过容差 {counts['tolerance_m']:g} 米的界桩 {len(counts['displaced'])} 个: " + "、".join(
            f"{d['marker_id']} {d['displacement_m']:.2f} 米" for d in counts["displaced"]))


@cli.command("report")
@click.option("--round", "round_id", required=True, help="联检轮次编号.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="报告文件: .pdf, .xlsx or .md.")
@click.pass_obj
def report(obj, round_id, output):
    """联合检查报告 (the round report): conditions, displacements, actions, markers not yet inspected."""
    from diming.boundaries.report import write_report

    path = write_report(obj["project"], round_id, output)
    click.echo(f"已写出 {path}")
