import click

from diming.cli.options import echo_json, text_or_json


@click.group()
def cli():
    """路名牌 (road signs): the register, patrols (巡查), field sheets, results, reports."""


def _split(text):
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


@cli.command()
@click.argument("sign_id")
@click.option("--road", "road_id", required=True, help="道路编号.")
@click.option("--lon", type=float, required=True, help="经度 (CGCS2000).")
@click.option("--lat", type=float, required=True, help="纬度 (CGCS2000).")
@click.option("--type", "sign_type", help="路牌类型: 街牌 路牌 巷牌 路名指示牌 门楼牌 村牌.")
@click.option("--text", help="牌面名称 (default: the road's standard name).")
@click.option("--pinyin", help="牌面拼音 (default: the sign spelling of the standard name).")
@click.option("--facing", help="牌面朝向.")
@click.option("--direction", help="方向指示 (arrows, 东西南北 on the plate).")
@click.option("--material", help="材质.")
@click.option("--installed-on", help="设置日期 YYYY-MM-DD.")
@click.option("--installed-by", help="设置单位.")
@click.option("--proposal", "proposal_id", help="命名申报编号: the sign closes that proposal's sign step.")
@click.option("--photo", help="照片.")
@click.option("--notes", help="备注.")
@click.pass_obj
def add(obj, sign_id, road_id, lon, lat, **fields):
    """登记路名牌 SIGN_ID of a road; a sign installed for a proposal closes its sign step."""
    from shapely.geometry import Point

    from diming.geonames.signs import add_sign

    record = add_sign(obj["project"], sign_id, road_id, Point(lon, lat), by=obj["by"], **fields)
    click.echo(f"{sign_id}  {record['text']}  {record['pinyin']}  {record['condition']}")


@cli.command()
@click.argument("sign_id")
@click.option("--date", "on", help="修复日期 YYYY-MM-DD (default: today).")
@click.option("--note", help="说明, recorded in the audit log.")
@click.pass_obj
def fixed(obj, sign_id, on, note):
    """路牌已修复: close the repair of a reported sign (its condition becomes 完好)."""
    from diming.geonames.signs import mark_fixed

    n = mark_fixed(obj["project"], sign_id, on=on, note=note, by=obj["by"])
    click.echo(f"{sign_id}: 已修复, 结清 {n} 条巡查记录")


@cli.group()
def patrol():
    """路牌巡查 (sign patrols)."""


@patrol.command("new")
@click.argument("year", type=int)
@click.option("--name", required=True, help="巡查名称, e.g. 2026年上半年路牌巡查.")
@click.option("--districts", required=True, help="巡查政区代码, comma separated (a county covers its towns).")
@click.option("--starts", help="开始日期 YYYY-MM-DD (default: 1 January of YEAR).")
@click.option("--ends", help="结束日期 YYYY-MM-DD (default: 31 December of YEAR).")
@click.pass_obj
def patrol_new(obj, year, name, districts, starts, ends):
    """新建路牌巡查 (open a patrol for YEAR over the signs of these divisions)."""
    from diming.geonames.patrols import new_patrol

    p = new_patrol(obj["project"], year, name, _split(districts), starts_on=starts, ends_on=ends, by=obj["by"])
    click.echo(f"路牌巡查 {p['patrol_id']} {p['name']}: 政区 {', '.join(p['districts'])}")


@patrol.command("list")
@text_or_json
@click.pass_obj
def patrol_list(obj, fmt):
    """列出路牌巡查及进度 (patrols with signs patrolled / total)."""
    from diming.geonames.patrols import list_patrols

    patrols = list_patrols(obj["project"])
    if fmt == "json":
        echo_json(patrols)
        return
    for p in patrols:
        click.echo(f"{p['patrol_id']:<8} {p['name']}  {p['status']}  {p['starts_on']}—{p['ends_on']}  "
                   f"已巡查 {p['patrolled']}/{p['total']}")


@patrol.command("show")
@click.argument("patrol_id")
@text_or_json
@click.pass_obj
def patrol_show(obj, patrol_id, fmt):
    """一次巡查的进度, 按政区 (progress of a patrol, by division)."""
    from diming.geonames.patrols import patrol_progress

    p = patrol_progress(obj["project"], patrol_id)
    if fmt == "json":
        echo_json(p)
        return
    click.echo(f"{p['patrol_id']} {p['name']}  {p['status']}  {p['starts_on']}—{p['ends_on']}")
    for d in p["divisions"]:
        click.echo(f"  {d['district']:<10} 已巡查 {d['patrolled']}/{d['total']}")
    click.echo(f"合计 已巡查 {p['patrolled']}/{p['total']}")


@patrol.command("close")
@click.argument("patrol_id")
@click.pass_obj
def patrol_close(obj, patrol_id):
    """结束路牌巡查."""
    from diming.geonames.patrols import close_patrol

    p = close_patrol(obj["project"], patrol_id, by=obj["by"])
    click.echo(f"路牌巡查 {p['patrol_id']} {p['name']} 已结束")


@patrol.command("sheet")
@click.argument("patrol_id")
@click.option("--district", help="只写这一政区的路牌 (division code prefix).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx", "gpx", "kml"]), default="pdf", show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="输出文件.")
@click.pass_obj
def patrol_sheet(obj, patrol_id, district, fmt, output):
    """路名牌巡查记录表: PDF to print, XLSX to fill in, GPX/KML for GPS and map apps."""
    from diming.geonames.patrol_sheets import write_patrol_sheet

    click.echo(f"已写出 {write_patrol_sheet(obj['project'], patrol_id, fmt, output, district=district)}")


@patrol.command("import")
@click.argument("patrol_id")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def patrol_import(obj, patrol_id, file):
    """导入巡查结果 (XLSX or CSV): all rows checked first, nothing written unless all are good."""
    from diming.geonames.patrols import import_results

    counts = import_results(obj["project"], patrol_id, file, by=obj["by"])
    click.echo(f"{file}: {counts['rows']} 条记录; 新增 {counts['added']}, 更新 {counts['changed']}, "
               f"未变 {counts['unchanged']}")


@patrol.command("report")
@click.argument("patrol_id")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="报告文件: .pdf, .xlsx or .md.")
@click.pass_obj
def patrol_report(obj, patrol_id, output):
    """路牌巡查报告: signs by condition and division, the maintenance list."""
    from diming.geonames.patrol_report import write_report

    click.echo(f"已写出 {write_report(obj['project'], patrol_id, output)}")


@patrol.command("maintenance")
@click.argument("patrol_id")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="维护清单 .xlsx.")
@click.pass_obj
def patrol_maintenance(obj, patrol_id, output):
    """维护清单 (XLSX for the city bureau): signs to replace, set up anew or repair."""
    from diming.geonames.patrol_report import write_maintenance

    n = write_maintenance(obj["project"], patrol_id, output)
    click.echo(f"已写出 {output}: {n} 块路牌")
