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
