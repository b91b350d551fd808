import click

from diming.cli.options import echo_json, text_or_json


@click.command()
@click.argument("name")
@click.option("--district", help="所属政区代码 (division code; limits the duplicate scope).")
@click.option("--ordinal", is_flag=True, help="名称中的数字是序数 (经五路 -> Jing 5 Lu).")
@click.option("--width", type=float, help="路宽 (米), for the optional generic_width_rule setting.")
@click.option("--category", help="地名类别 (code or class, e.g. 21500, 群众自治组织); compared within its scope. "
                                 "Default: a road.")
@text_or_json
@click.pass_obj
def cli(obj, name, district, ordinal, width, category, fmt):
    """检查拟用名称 NAME: rules, duplicates, homophones, heritage list. Exit 1 on any error."""
    from diming.geonames.namecheck import has_errors, namecheck

    result = namecheck(obj["project"], name, district=district, ordinal=ordinal, width=width, category=category)
    if fmt == "json":
        echo_json(result)
    else:
        click.echo(format_result(result))
    if has_errors(result):
        raise SystemExit(1)


def format_result(result: dict) -> str:
    split = f"专名 {result['specific'] or '—'}"
    if result["modifier"]:
        split += f" · 修饰 {result['modifier']}"
    split += f" · 通名 {result['generic'] or '—'}"
    lines = [f"{result['name']}  →  {result['normalized']}", f"  {split}",
             f"  拼写 {result['pinyin']}    路牌 {result['sign']}"]
    if not result["findings"]:
        lines.append("  通过: 未发现问题")
    for f in result["findings"]:
        mark = "错误" if f["severity"] == "error" else "提示"
        related = "".join(f"  [{r['layer']}/{r['id']}]" for r in f["related"])
        lines.append(f"  {mark} {f['rule']}: {f['message']}{related}")
    return "\n".join(lines)
