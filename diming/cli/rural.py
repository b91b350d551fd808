import click

from diming.cli.options import echo_json, text_or_json


@click.group()
def cli():
    """乡村地名采集上图 (乡村著名行动): progress, candidates, export, confirm."""


def _share(value):
    return "—" if value is None else f"{value:.0%}"


@cli.command()
@text_or_json
@click.pass_obj
def progress(obj, fmt):
    """采集上图进度: per township and village, names collected, reviewed, on the map."""
    from diming.geonames.rural import progress as rural_progress

    result = rural_progress(obj["project"])
    if fmt == "json":
        echo_json(result)
        return
    click.echo(f"{'乡镇/村':<24}{'地名':>6}{'已采集':>6}{'已审核':>6}{'已上图':>6}")
    for t in result["townships"]:
        click.echo(f"{t['code']} {t['name']:<14}{t['names']:>6}{t['collected']:>8}{t['reviewed']:>8}{t['on_map']:>8}"
                   f"   全部上图的村 {t['villages_done']}/{t['villages']} ({_share(t['done_share'])})")
        for v in t["by_village"]:
            click.echo(f"  {v['code']} {v['name']:<8}{v['names']:>6}{v['collected']:>8}{v['reviewed']:>8}"
                       f"{v['on_map']:>8}" + ("   ✓ 全部上图" if v["done"] else ""))
    total = result["total"]
    click.echo(f"合计: 地名 {total['names']}, 已采集 {total['collected']}, 已审核 {total['reviewed']}, "
               f"已上图 {total['on_map']}; 全部上图的村 {total['villages_done']}/{total['villages']} "
               f"({_share(total['done_share'])})")


@cli.command()
@click.option("--top", type=int, default=None, help="只列前 N 个 (default: all).")
@text_or_json
@click.pass_obj
def candidates(obj, top, fmt):
    """示范村候选: villages ranked by the completeness of their names (model_village_* settings)."""
    from diming.geonames.rural import CRITERIA, candidates as rank

    result = rank(obj["project"])[:top]
    if fmt == "json":
        echo_json(result)
        return
    click.echo("名次  村                      地名  " + "  ".join(CRITERIA.values()) + "  得分")
    for v in result:
        click.echo(f"{v['rank']:>4}  {v['code']} {v['name']:<8}{v['names']:>4}  "
                   + "  ".join(f"{v[k]:>{len(label) * 2}.0%}" for k, label in CRITERIA.items())
                   + f"  {v['score']:>5.1f}")


@cli.command()
@click.option("--batch", required=True, help="上图批次号, e.g. 2026-01.")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False), help="输出文件夹.")
@click.pass_obj
def export(obj, batch, output):
    """导出待上图批次: reviewed rural names not yet on the map, as GeoJSON and CSV."""
    from diming.geonames.rural import export_batch

    result = export_batch(obj["project"], batch, output, by=obj["by"])
    click.echo(f"批次 {result['batch']}: {result['names']} 条地名, 已写出 {', '.join(result['files'])}")


@cli.command()
@click.argument("batch")
@click.option("--platform", required=True, help="上图平台, e.g. 天地图.")
@click.option("--date", "on", default=None, help="上图日期 YYYY-MM-DD (default: today).")
@click.pass_obj
def confirm(obj, batch, platform, on):
    """确认批次 BATCH 已上图: records on_map_on and the platform on its names."""
    from diming.geonames.rural import confirm_batch

    n = confirm_batch(obj["project"], batch, platform, on=on, by=obj["by"])
    click.echo(f"批次 {batch}: {n} 条地名已记为在 {platform} 上图")
