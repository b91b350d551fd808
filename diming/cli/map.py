import click


def _common(command):
    """The options every map takes."""
    for option in reversed((
        click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
                     help="输出的 HTML 文件 (self-contained, opens offline)."),
        click.option("--basemap", default=None,
                     help="底图: none (默认, 离线), osm, tianditu, 或 XYZ 瓦片地址模板; 默认取项目设置 basemap. "
                          "注意: 高德/腾讯瓦片 (GCJ-02) 和百度瓦片 (BD-09) 相对 CGCS2000 数据偏移数百米, 不要用作底图."),
        click.option("--tianditu-key", envvar="TIANDITU_KEY", default=None,
                     help="天地图密钥 (tianditu key); also $TIANDITU_KEY."),
        click.option("--title", default=None, help="地图标题 (map title)."),
    )):
        command = option(command)
    return command


def _report(result):
    counts = ", ".join(f"{name} {n}" for name, n in result["counts"].items())
    click.echo(f"已写出 {result['output']} ({counts})")


@click.group()
def cli():
    """生成地图 (self-contained HTML maps): inspection, proposals, heritage, check."""


@cli.command()
@click.option("--round", "round_id", default=None, help="联检轮次编号: 只画该轮的界线, 界桩按该轮记录着色.")
@click.option("--line", "line_id", default=None, help="界线编号: 只画这一条界线.")
@_common
@click.pass_obj
def inspection(obj, round_id, line_id, output, basemap, tianditu_key, title):
    """界线联检图: areas, boundary lines, markers coloured by their latest condition."""
    from diming.maps.inspection import inspection_map

    _report(inspection_map(obj["project"], output, round_id=round_id, line_id=line_id, basemap=basemap,
                           tianditu_key=tianditu_key, title=title))


@cli.command()
@_common
@click.pass_obj
def proposals(obj, output, basemap, tianditu_key, title):
    """道路命名申报图: proposals by state, existing roads, clashing names highlighted."""
    from diming.maps.proposals import proposals_map

    _report(proposals_map(obj["project"], output, basemap=basemap, tianditu_key=tianditu_key, title=title))


@cli.command()
@_common
@click.pass_obj
def heritage(obj, output, basemap, tianditu_key, title):
    """地名保护名录图: protected names with meaning, origin and history."""
    from diming.maps.heritage import heritage_map

    _report(heritage_map(obj["project"], output, basemap=basemap, tianditu_key=tianditu_key, title=title))


@cli.command()
@_common
@click.pass_obj
def signs(obj, output, basemap, tianditu_key, title):
    """路名牌分布图: road signs coloured by condition, on their roads."""
    from diming.maps.signs import signs_map

    _report(signs_map(obj["project"], output, basemap=basemap, tianditu_key=tianditu_key, title=title))


@cli.command()
@_common
@click.pass_obj
def gazetteer(obj, output, basemap, tianditu_key, title):
    """地名录图: gazetteer names by category, rural names by campaign state."""
    from diming.maps.gazetteer import gazetteer_map

    _report(gazetteer_map(obj["project"], output, basemap=basemap, tianditu_key=tianditu_key, title=title))


@cli.command()
@click.option("--findings", "findings_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="检查结果 GeoJSON (diming check --format geojson); 默认现场运行 diming check.")
@click.option("--rules", default=None, help="只画这些规则 (comma-separated rule prefixes, as diming check --rules).")
@_common
@click.pass_obj
def check(obj, findings_path, rules, output, basemap, tianditu_key, title):
    """检查结果图: every finding of diming check with its geometry, one layer per rule."""
    from diming.maps.check import check_map, read_findings

    if findings_path:
        findings = read_findings(findings_path)
    else:
        from diming.check import run_check

        findings = run_check(obj["project"], rules.split(",") if rules else None)
    _report(check_map(obj["project"], output, findings, basemap=basemap, tianditu_key=tianditu_key, title=title))
