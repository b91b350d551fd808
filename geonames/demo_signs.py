"""The demo's road signs, sign patrol and abnormal-roads survey (see :mod:`diming.demo`).

Every road in use gets a sign 10 m from its start, text and pinyin as they should be, except the
seeded problems: the sign of 海晏路 reads 海宴路 (sign.wrong-name, 牌名不符), that of the first
海安路 spells HAIAN LU without the apostrophe (sign.wrong-pinyin), that of 海燕路 stands 120 m away
(sign.far-from-road), the cancelled road 旧港路 still has its sign (sign.cancelled-road), the newly
announced 望江路 has none yet (road.no-sign, 有名无牌), and this year's patrol of 云溪区 found the
sign of 状元街 broken and reported it to the city bureau (sign.damaged). The survey layer has one
line of each abnormality, and one that is right.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

WRONG_TEXT = {"海晏路": "海宴路"}
WRONG_PINYIN = {"海安路": "HAIAN LU"}
FAR = {"海燕路": 120.0}  # metres from the road
CANCELLED = ("379903R9001", "旧港路", [(40500.0, 10500.0), (41700.0, 10500.0)])
PATROL_DISTRICT = "379901"


def _geo():
    """Local demo metres -> CGCS2000 lon/lat, as the demo draws everything."""
    import shapely
    from pyproj import Transformer

    from diming.demo import GK_EPSG, _lonlat_array, _north0

    north0 = _north0()
    transformer = Transformer.from_crs(GK_EPSG, 4490, always_xy=True)
    return lambda geom: shapely.transform(shapely.segmentize(geom, 50.0),
                                          lambda xy: _lonlat_array(transformer, xy, north0))


def seed_signs(project, today: dt.date) -> None:
    """Add the cancelled road, every sign, this year's patrol with results, and the survey layer."""
    from shapely.geometry import LineString, MultiLineString, Point

    from diming.geonames.pinyin import sign
    from diming.layers.store import read_layer, transaction

    geo = _geo()
    road_id, name, coords = CANCELLED
    with transaction(project, by="demo") as tx:
        tx.insert("roads", [{"road_id": road_id, "name": name, "district": "379903", "status": "in_use",
                             "approved_on": "2003-04-01", "geometry": MultiLineString([geo(LineString(coords))])}])
    from diming.geonames.roads import cancel_road

    cancel_road(project, road_id, reason="道路并入工业园区", on=(today - dt.timedelta(days=90)).isoformat(), by="demo")

    roads = read_layer(project, "roads")
    proposals = read_layer(project, "road_proposals", columns=["proposal_id", "status", "sign_installed_on"],
                           geometry=False).set_index("proposal_id")
    signs, seen = [], set()
    for r in roads.sort_values("road_id").itertuples():
        installed = proposals.sign_installed_on.get(r.proposal_id) if isinstance(r.proposal_id, str) else None
        if isinstance(r.proposal_id, str) and not isinstance(installed, str):
            continue  # 望江路: announced, its sign not yet installed
        x, y = r.geometry.geoms[0].coords[0]
        first = r.name not in seen  # the seeded spellings go on the first road of a name
        seen.add(r.name)
        metres = FAR.get(r.name, 10.0) if first else 10.0
        signs.append({"sign_id": f"{r.road_id}-1", "road_id": r.road_id,
                      "sign_type": "街牌" if r.name.endswith("街") else "路牌",
                      "text": WRONG_TEXT.get(r.name, r.name) if first else r.name,
                      "pinyin": WRONG_PINYIN.get(r.name, sign(r.name)) if first else sign(r.name),
                      "facing": "南", "direction": "← 西  东 →", "material": "铝合金反光",
                      "installed_on": installed or r.approved_on, "installed_by": "青岚市地名办",
                      "proposal_id": r.proposal_id if isinstance(r.proposal_id, str) else None,
                      "condition": "完好", "geometry": Point(x, y + metres / 111_000.0)})
    with transaction(project, by="demo") as tx:
        tx.insert("road_signs", signs, note="演示路名牌")
    _patrol(project, today)
    _survey(project, geo, today)


def _patrol(project, today):
    """This year's patrol of 云溪区: a dozen signs visited, 状元街's broken, 海口街's dirty and cleaned."""
    from diming.geonames.patrols import new_patrol, patrol_signs, record_results, validate_results

    patrol = new_patrol(project, today.year, f"{today.year}年云溪区路牌巡查", [PATROL_DISTRICT], by="demo")
    signs = patrol_signs(project, patrol)
    seeded = ("状元街", "海口街")
    visit = [s for s in signs.itertuples() if s.road_name in seeded]
    visit += [s for s in signs.itertuples() if s.road_name not in (*seeded, *WRONG_TEXT, *WRONG_PINYIN, *FAR)][:10]
    rows = []
    for i, s in enumerate(visit, start=2):
        row = {"_row": i, "sign_id": s.sign_id, "patrolled_on": today.isoformat(), "condition": "完好",
               "action": "无需处理", "patroller": "陈立"}
        if s.road_name == "状元街":
            row.update(condition="损毁", action="上报市局", photo="IMG_0412.jpg", notes="牌面被车辆撞弯")
        elif s.road_name == "海口街":
            row.update(condition="污损", action="清洗", notes="小广告已清除")
        rows.append(row)
    records, problems = validate_results(project, patrol["patrol_id"], rows)
    if problems:  # the demo's own data: a bug, not bad input
        raise RuntimeError("; ".join(problems))
    record_results(project, patrol["patrol_id"], records, by="demo", note="演示巡查结果")


def _survey(project, geo, today):
    """One survey line of each abnormality, and one that is right (along 海口街, called so)."""
    from shapely.geometry import LineString, MultiLineString
    from shapely.ops import substring

    from diming.demo import _generated_roads, _layout, _seeded_roads
    from diming.layers.store import transaction

    counties, _, _ = _layout()
    generated = _generated_roads(counties)
    seeded = {name: geom for name, _, geom in _seeded_roads()}
    # two pieces of one grid line, end to end: a survey line across their joint carries both names
    a, b = next((g1, g2) for (n1, c1, g1), (n2, c2, g2) in zip(generated, generated[1:])
                if c1 == c2 == "379902" and g1.coords[-1] == g2.coords[0])
    joint = LineString([a.interpolate(a.length - 1000.0).coords[0], a.coords[-1],
                        b.interpolate(1000.0).coords[0]])
    grand = next(g for n, c, g in generated if c == "379903" and n.endswith("大道"))

    def line(survey_id, geom, names=None, district="379901", **fields):
        return {"survey_id": survey_id, "observed_names": names, "source": "2026年度道路摸排", "district": district,
                "surveyed_on": today.isoformat(), "geometry": MultiLineString([geo(geom)]), **fields}

    lines = [
        line("MP-001", seeded["海口街"], "海口街", road_class="次干路"),                    # right as it is
        line("MP-002", LineString([(25000.0, 26500.0), (26000.0, 26500.0)]), district="379902"),  # 有路无名
        line("MP-003", joint, district="379902"),                                             # 一路多名
        line("MP-004", seeded["海口路"], "海口路"),                                           # 海口路 here …
        line("MP-005", LineString([(4200.0, 13200.0), (4350.0, 13200.0)]), "海口路"),         # … and 5 km away: 一名多路
        line("MP-006", substring(grand, 0.0, 1000.0), district="379903", road_class="支路"),  # 名不副实
        line("MP-007", LineString([(40200.0, 12200.0), (40350.0, 12200.0)]), "金港大道", district="379903"),  # 擅自命名
    ]
    with transaction(project, by="demo") as tx:
        tx.insert("road_survey", lines, note="演示道路摸排")


def run_demo_signs(project, output, echo=print) -> None:
    """The demo's sign and survey paperwork: the patrol sheet, the maintenance list, the patrol
    report, the survey with its register and report, and the sign map."""
    from diming.geonames.patrol_report import write_maintenance, write_report
    from diming.geonames.patrol_sheets import write_patrol_sheet
    from diming.geonames.survey import run_survey
    from diming.geonames.survey_report import write_survey_report
    from diming.layers.store import read_layer
    from diming.maps.signs import signs_map

    output = Path(output)
    patrol_id = read_layer(project, "sign_patrols").patrol_id.iloc[0]
    sheet = write_patrol_sheet(project, patrol_id, "pdf", output / "路牌巡查记录表.pdf")
    write_patrol_sheet(project, patrol_id, "xlsx", output / "路牌巡查记录表.xlsx")
    n = write_maintenance(project, patrol_id, output / "路牌维护清单.xlsx")
    report = write_report(project, patrol_id, output / "路牌巡查报告.pdf")
    echo(f"路牌巡查 {patrol_id}: 记录表 {sheet.name} (及 .xlsx), 维护清单 路牌维护清单.xlsx ({n} 块), 报告 {report.name}")
    result = run_survey(project, by="demo")
    write_survey_report(project, output / "异常道路摸排报告.xlsx")
    write_survey_report(project, output / "异常道路摸排报告.pdf")
    echo(f"异常道路摸排: {len(result['abnormalities'])} 处异常登记入整治台账, 报告 异常道路摸排报告.xlsx (及 .pdf)")
    echo(f"地图 {signs_map(project, output / 'map-signs.html')['output']}")
