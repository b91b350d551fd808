import click

from diming.cli.options import DATE, echo_json, text_or_json


@click.group()
def cli():
    """道路命名: proposals through their procedure, and changes to names in use."""


def _geometry(path, wkt):
    from diming.geonames.proposals import line_geometry

    return line_geometry(path, wkt)


def _day(value):
    from diming.geonames.proposals import parse_date

    return parse_date(value) if value else None


@cli.command()
@click.argument("name")
@click.option("--district", required=True, help="所属政区代码.")
@click.option("--geometry", "geometry_file", type=click.Path(exists=True, dir_okay=False),
              help="道路线 GeoJSON/GPKG 文件.")
@click.option("--wkt", help="道路线 WKT (CGCS2000 经纬度).")
@click.option("--reason", help="申请理由.")
@click.option("--meaning", help="含义.")
@click.option("--applicant", help="申请单位.")
@click.option("--start", help="起点描述.")
@click.option("--end", help="终点描述.")
@click.option("--width", type=float, help="宽度 (米).")
@click.option("--ordinal", is_flag=True, help="名称中的数字是序数 (经五路 -> Jing 5 Lu).")
@click.option("--batch", help="审核批次, e.g. 2024H2 (default: the half-year of today).")
@click.pass_obj
def propose(obj, name, district, geometry_file, wkt, reason, meaning, applicant, start, end, width, ordinal, batch):
    """登记道路命名申报 NAME (draft); prints its key and the name check."""
    from diming.geonames.proposals import propose as propose_

    record = propose_(obj["project"], name, _geometry(geometry_file, wkt), district=district, reason=reason,
                      meaning=meaning, applicant=applicant, start=start, end=end, width=width, ordinal=ordinal,
                      batch=batch, by=obj["by"])
    click.echo(f"{record['proposal_id']}  {record['name']}  {record['pinyin']}  批次 {record['batch']}  "
               f"名称检查: {record['check_status']}")
    _print_findings(record["check_findings"])


def _print_findings(findings):
    import json

    for f in json.loads(findings) if isinstance(findings, str) else findings:
        click.echo(f"  {'错误' if f['severity'] == 'error' else '提示'} {f['rule']}: {f['message']}")


@cli.command()
@click.argument("key")
@click.option("--to", "to", required=True, help="目标状态: submitted, in_review, public_notice, approved, filed, "
              "announced, sign_ordered, sign_installed, sign_verified, rejected, withdrawn.")
@click.option("--date", "on", type=DATE, help="办理日期 YYYY-MM-DD (default: today).")
@click.option("--assessment", help="综合评估报告 (reference).")
@click.option("--expert-review", help="专家论证报告 (reference).")
@click.option("--consultation", help="征求意见报告 (reference).")
@click.option("--authority", help="批准机关.")
@click.option("--document", help="批准文号.")
@click.option("--reason", help="未通过或撤回的原因.")
@click.option("--note", help="说明, recorded in the audit log.")
@click.pass_obj
def advance(obj, key, to, on, assessment, expert_review, consultation, authority, document, reason, note):
    """推进申报 KEY 到下一状态; illegal steps are refused."""
    from diming.geonames.proposals import advance as advance_, label

    record = advance_(obj["project"], key, to, on=on, by=obj["by"], note=note, assessment_ref=assessment,
                      expert_review_ref=expert_review, consultation_ref=consultation, approved_by=authority,
                      approval_doc=document, close_reason=reason)
    line = f"{key}  {record['name']}  → {record['status']} ({label(record['status'])})"
    if record["status"] == "public_notice":
        line += f"  公示至 {record['notice_end']}"
    if record["status"] == "announced":
        line += f"  已入库道路 {record['road_id']}"
    click.echo(line)


@cli.command("list")
@click.option("--state", help="只看此状态.")
@click.option("--district", help="只看此政区 (code prefix).")
@click.option("--batch", help="只看此批次, e.g. 2024H2.")
@click.option("--overdue", is_flag=True, help="只看逾期的.")
@click.option("--today", type=DATE, help="按此日期计算逾期 (default: today).")
@text_or_json
@click.pass_obj
def list_(obj, state, district, batch, overdue, today, fmt):
    """列出道路命名申报."""
    import datetime as dt

    from diming.geonames.proposals import label, proposals

    on = (_day(today) or dt.date.today()) if overdue else None
    records = proposals(obj["project"], state=state, district=district, batch=batch, overdue_on=on)
    if fmt == "json":
        echo_json(records)
        return
    for r in records:
        click.echo(f"{r['proposal_id']}  {r['name']:<8} {r['district'] or '':<10} {r['batch'] or '':<7} "
                   f"{label(r['status']):<6} 检查 {r['check_status'] or '-'}")
    click.echo(f"共 {len(records)} 件")


@cli.command()
@click.argument("key")
@text_or_json
@click.pass_obj
def show(obj, key, fmt):
    """显示申报 KEY 的全部信息与办理经过 (from the audit log)."""
    from diming.geonames.proposals import show as show_
    from diming.layers.schema import get_layer

    record = show_(obj["project"], key)
    if fmt == "json":
        echo_json(record)
        return
    layer = get_layer("road_proposals")
    for f in layer.fields:
        if f.name in record and record[f.name] not in (None, "") and f.name != "check_findings":
            click.echo(f"{f.alias}: {record[f.name]}")
    click.echo("名称检查:" + ("" if record["findings"] else " 无问题"))
    _print_findings(record["findings"])
    click.echo("办理经过:")
    for h in record["history"]:
        changed = ", ".join(f"{k}={v}" for k, v in h["changed"].items())
        click.echo(f"  {h['at'][:19]}  {h['by']}  {h['action']}  {h['note'] or ''}  {changed}")


@cli.command()
@click.option("--today", type=DATE, help="按此日期计算 (default: today).")
@text_or_json
@click.pass_obj
def overdue(obj, today, fmt):
    """逾期事项: 备案/公告超过 15 天, 公示期满未办, 公告后路牌未验收, 上报市局的路牌逾期未修复."""
    from diming.geonames.proposals import label, overdue as overdue_
    from diming.geonames.signs import repairs_overdue

    items = overdue_(obj["project"], today=_day(today))
    repairs = repairs_overdue(obj["project"], today=_day(today))
    if fmt == "json":
        echo_json(items + repairs)
        return
    for i in items:
        click.echo(f"{i['proposal_id']}  {i['name']:<8} {label(i['status']):<6} {i['what']} 应于 {i['due']}, "
                   f"已逾期 {i['days_late']} 天")
    for i in repairs:
        click.echo(f"{i['sign_id']}  {i['name']:<8} 巡查 {i['patrol_id']} {i['what']} 应于 {i['due']}, "
                   f"已逾期 {i['days_late']} 天")
    click.echo(f"共 {len(items) + len(repairs)} 项逾期")


@cli.command()
@click.argument("batch")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="审核表 .xlsx.")
@click.pass_obj
def batch(obj, batch, output):
    """生成半年集中审核表: the proposals of BATCH (2024H2 …) as XLSX."""
    from diming.geonames.batch import write_batch

    n = write_batch(obj["project"], batch, output)
    click.echo(f"{output}: 批次 {batch}, {n} 件申报")


@cli.command()
@click.argument("road_id")
@click.argument("new_name")
@click.option("--reason", required=True, help="更名原因.")
@click.option("--override", is_flag=True, help="保护名录中的名称确需更名.")
@click.option("--measures", help="保护措施 (required with --override).")
@click.pass_obj
def rename(obj, road_id, new_name, reason, override, measures):
    """道路更名 ROAD_ID → NEW_NAME."""
    from diming.geonames.roads import rename_road

    record = rename_road(obj["project"], road_id, new_name, reason=reason, override=override, measures=measures,
                         by=obj["by"])
    click.echo(f"{road_id}: {record['former_names'].split('、')[-1]} → {record['name']} ({record['pinyin']})")


@cli.command()
@click.argument("road_id")
@click.option("--reason", required=True, help="销名原因.")
@click.option("--date", "on", type=DATE, help="销名日期 (default: today).")
@click.option("--override", is_flag=True, help="保护名录中的名称确需销名.")
@click.option("--measures", help="保护措施 (required with --override).")
@click.pass_obj
def cancel(obj, road_id, reason, on, override, measures):
    """道路销名 ROAD_ID."""
    from diming.geonames.roads import cancel_road

    record = cancel_road(obj["project"], road_id, reason=reason, on=on, override=override, measures=measures,
                         by=obj["by"])
    click.echo(f"{road_id} {record['name']}: 已销名 ({record['cancelled_on']})")


@cli.command()
@click.argument("road_id")
@click.option("--reason", required=True, help="调整原因.")
@click.option("--start", help="新起点描述.")
@click.option("--end", help="新终点描述.")
@click.option("--geometry", "geometry_file", type=click.Path(exists=True, dir_okay=False), help="新道路线文件.")
@click.option("--wkt", help="新道路线 WKT.")
@click.pass_obj
def adjust(obj, road_id, reason, start, end, geometry_file, wkt):
    """调整道路 ROAD_ID 的起止点 (and line)."""
    from diming.geonames.roads import adjust_road

    geometry = _geometry(geometry_file, wkt) if (geometry_file or wkt) else None
    record = adjust_road(obj["project"], road_id, reason=reason, start=start, end=end, geometry=geometry,
                         by=obj["by"])
    click.echo(f"{road_id} {record['name']}: 起点 {record['start_desc'] or '-'}, 终点 {record['end_desc'] or '-'}")


@cli.group(invoke_without_command=True)
@click.option("--today", help="按此日期登记 (default: today).")
@text_or_json
@click.pass_context
def survey(ctx, today, fmt):
    """异常道路摸排: match road_survey to the gazetteer, classify, bring the rectification register up to date."""
    if ctx.invoked_subcommand is not None:
        return
    from diming.geonames.survey import run_survey
    from diming.rule_names import rule_name

    result = run_survey(ctx.obj["project"], by=ctx.obj["by"], today=_day(today))
    found = result["abnormalities"]
    if fmt == "json":
        echo_json({"added": result["added"], "closed": result["closed"], "open": result["open"],
                   "abnormalities": [{k: v for k, v in a.items() if k != "geometry"} for a in found]})
        return
    for a in found:
        click.echo(f"{a['rectification_id']}  {rule_name(a['code'])} {a['code']}  {a['description']}")
    click.echo(f"共 {len(found)} 处异常; 新登记 {result['added']}, 复查已整治 {result['closed']}, "
               f"台账待整治/整治中 {result['open']}")


@survey.command("list")
@click.option("--status", help="只看此整治状态: 待整治 整治中 已整治 不需整治.")
@click.option("--district", help="只看此政区 (code prefix).")
@text_or_json
@click.pass_obj
def survey_list(obj, status, district, fmt):
    """整治台账 (the rectification register)."""
    from diming.geonames.survey import register
    from diming.rule_names import rule_name

    records = register(obj["project"], status=status, district=district)
    if fmt == "json":
        echo_json(records)
        return
    for r in records:
        click.echo(f"{r['rectification_id']}  {r['district'] or '-':<10} {rule_name(r['code']):<5} {r['status']:<5} "
                   f"{r['name'] or ''}  {r['unit'] or ''} {r['due_on'] or ''} {r['action'] or ''}")
    click.echo(f"共 {len(records)} 条")


@survey.command("update")
@click.argument("rectification_id")
@click.option("--status", help="整治状态: 待整治 整治中 已整治 不需整治.")
@click.option("--reason", help="不需整治的理由.")
@click.option("--unit", help="责任单位.")
@click.option("--due", "due_on", help="整治期限 YYYY-MM-DD.")
@click.option("--action", help="整治措施: 命名 更名 设牌 改牌 注销.")
@click.option("--notes", help="备注.")
@click.option("--date", "on", help="完成日期 (default: today).")
@click.pass_obj
def survey_update(obj, rectification_id, status, reason, unit, due_on, action, notes, on):
    """更新整治台账 RECTIFICATION_ID (audited)."""
    from diming.geonames.survey import update_rectification

    r = update_rectification(obj["project"], rectification_id, status=status, reason=reason, unit=unit,
                             due_on=due_on, action=action, notes=notes, on=on, by=obj["by"])
    click.echo(f"{rectification_id}: {r['status']}  {r['unit'] or ''} {r['due_on'] or ''} {r['action'] or ''}")


@survey.command("report")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="报告文件: .xlsx or .pdf.")
@click.pass_obj
def survey_report(obj, output):
    """异常道路摸排整治报告: counts by category and division, and the register."""
    from diming.geonames.survey_report import write_survey_report

    click.echo(f"已写出 {write_survey_report(obj['project'], output)}")
