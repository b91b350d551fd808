"""The built-in demo project: a fictional city, 青岚市, with three counties and their towns.

Everything is invented: names, codes (379900 is not a real division) and geometry. The layout is
drawn in metres in CGCS2000 Gauss-Krüger zone 40 (central meridian 120°E) and stored in EPSG:4490.
Seeded problems for the checks to find:

- roads in use: 海安路 twice (重名), 海口路 / 海口街 (same 专名), 海晏路 / 海燕路 (同音);
- proposals: 环球大道 (forbidden word), 壮园街 (sounds like the protected 状元街),
  云帆路 (drawn on top of an existing road);
- areas: two towns of 松阳区 overlap, a gap between two towns of 云溪区;
- markers: 9103005Q lies 60 m off its line;
- the gazetteer: see diming.geonames.demo_gazetteer.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

GK_EPSG = 4549  # CGCS2000 3° GK zone 40 without zone prefix
REGISTER_EPSG = 4528  # the same zone with the prefix, as marker registration tables write Y
EAST0 = 500000.0  # the demo's west edge lies on the central meridian

CITY = ("379900", "青岚市")
COUNTIES = {
    "379901": "云溪区",
    "379902": "松阳区",
    "379903": "鹤山县",
}
TOWNS = {
    "379901": ["溪口街道", "桃源镇", "石门镇"],  # south to north
    "379902": ["松林街道", "望湖镇", "白沙镇"],  # west to east
    "379903": ["鹤山街道", "青石镇", "龙泉镇"],  # west to east
}
# 专名 built from two characters with one reading each and no shared toneless syllable, so the
# generated names cannot clash by accident; only the seeded names below do.
SPECIFIC_FIRST = "云松鹤岚枫竹梅杏柳槐桂菊泉湖霞林樱芳翠碧"
SPECIFIC_SECOND = "安泰丰华兴福康德新瑞祥源顺昌隆"

WIDTH, HEIGHT = 54000.0, 33000.0  # the city's box, metres
JUNCTION_NORTH = 16500.0


def _north0() -> float:
    from pyproj import Transformer

    return Transformer.from_crs(4490, GK_EPSG, always_xy=True).transform(120.0, 36.0)[1]


def _wiggle(t: float, amplitude: float, phase: float) -> float:
    return amplitude * math.sin(t / 2300.0 + phase) + 0.4 * amplitude * math.sin(t / 900.0 + 2 * phase)


def _layout():
    """Counties, towns and the county boundary lines, in local metres (0,0 = south-west corner)."""
    from shapely.geometry import LineString, box
    from shapely.ops import polygonize, unary_union

    step = 1000.0
    # border A runs north to south between 云溪区 and the east; the junction sits at a vertex
    north = [HEIGHT - i * step for i in range(int(HEIGHT / step) + 1)]
    if JUNCTION_NORTH not in north:
        north = sorted(set(north) | {JUNCTION_NORTH}, reverse=True)
    a = [(22000.0 + (0.0 if n in (0.0, HEIGHT) else _wiggle(n, 600.0, 0.3)), n) for n in north]
    junction = next(p for p in a if p[1] == JUNCTION_NORTH)
    b = [junction] + [(e, JUNCTION_NORTH + _wiggle(e, 500.0, 1.1)) for e in
                      [junction[0] + 1000.0 * i for i in range(1, 33)] if e < WIDTH - 500.0]
    b.append((WIDTH, JUNCTION_NORTH))
    a_north = LineString([p for p in a if p[1] >= JUNCTION_NORTH])
    a_south = LineString([p for p in a if p[1] <= JUNCTION_NORTH])
    b_line = LineString(b)
    frame = box(0.0, 0.0, WIDTH, HEIGHT)
    faces = list(polygonize(unary_union([frame.exterior, a_north, a_south, b_line])))
    counties = {}
    for face in faces:
        c = face.representative_point()
        if c.x < junction[0] - 1000.0:
            counties["379901"] = face
        elif c.y > JUNCTION_NORTH:
            counties["379902"] = face
        else:
            counties["379903"] = face
    lines = {"9101": ("379901", "379902", a_north), "9102": ("379901", "379903", a_south),
             "9103": ("379902", "379903", b_line)}

    dividers = {
        "379901": [LineString([(-10, 11000), (30000, 11000)]), LineString([(-10, 22000), (30000, 22000)])],
        "379902": [LineString([(33000, 15000), (33000, 34000)]), LineString([(44000, 15000), (44000, 34000)])],
        "379903": [LineString([(36000, -10), (36000, 18000)]), LineString([(46000, -10), (46000, 18000)])],
    }
    towns = {}
    for code, county in counties.items():
        # node the whole dividers with the outline, then keep the faces inside the county
        faces = polygonize(unary_union([county.exterior, *dividers[code]]))
        pieces = [f for f in faces if county.contains(f.representative_point())]
        axis = 1 if code == "379901" else 0
        pieces.sort(key=lambda p: p.centroid.coords[0][axis])
        for i, (piece, name) in enumerate(zip(pieces, TOWNS[code]), start=1):
            towns[f"{code}{i:03d}"] = (name, code, piece)
    # seeded: a gap between 溪口街道 and 桃源镇, an overlap of 松林街道 into 望湖镇
    gap = box(8000.0, 11000.0, 8400.0, 11300.0)
    name, parent, geom = towns["379901002"]
    towns["379901002"] = (name, parent, geom.difference(gap))
    name, parent, geom = towns["379902001"]
    towns["379902001"] = (name, parent, geom.union(box(33000.0, 25000.0, 33300.0, 25400.0)))
    return counties, towns, lines


def _generated_roads(counties):
    """A street grid in each county, cut into roads of at most 6 km, each with a unique name."""
    import itertools

    from shapely.geometry import LineString

    specifics = iter(a + b for a, b in itertools.product(SPECIFIC_FIRST, SPECIFIC_SECOND))
    roads = []
    for code, county in counties.items():
        inner = county.buffer(-300.0)
        minx, miny, maxx, maxy = inner.bounds
        grid = [LineString([(x, miny), (x, maxy)]) for x in range(int(minx // 3000 + 1) * 3000, int(maxx), 3000)]
        grid += [LineString([(minx, y), (maxx, y)]) for y in range(int(miny // 3000 + 1) * 3000, int(maxy), 3000)]
        for line in grid:
            clipped = line.intersection(inner)
            for part in getattr(clipped, "geoms", [clipped]):
                if part.geom_type != "LineString" or part.length < 800:
                    continue
                pieces = max(1, math.ceil(part.length / 6000.0))
                for k in range(pieces):
                    piece = _substring(part, k * part.length / pieces, (k + 1) * part.length / pieces)
                    generic = "大道" if piece.length > 5000 else ("路" if piece.length > 2500 else "街")
                    roads.append((next(specifics) + generic, code, piece))
    return roads


def _substring(line, start, end):
    from shapely.ops import substring

    return substring(line, start, end)


def _seeded_roads():
    from shapely.geometry import LineString

    def seg(e, n, length=1200.0, vertical=False):
        return LineString([(e, n), (e, n + length)] if vertical else [(e, n), (e + length, n)])

    return [
        ("海安路", "379901", seg(1500, 1500)),
        ("海安路", "379901", seg(13500, 28500)),
        ("海口路", "379901", seg(4500, 7500)),
        ("海口街", "379901", seg(10500, 19500)),
        ("海晏路", "379901", seg(16500, 4500)),
        ("海燕路", "379901", seg(7500, 25500)),
        ("状元街", "379901", seg(19500, 13500, 900.0, vertical=True)),
    ]


def build_demo(path, *, overwrite: bool = True, today: dt.date | None = None) -> Path:
    """Write the demo project to ``path`` and return the path.

    All layers are filled in one audited transaction (who: ``demo``); then the proposals go
    through the naming procedure step by step, dated back from ``today``, so each has its history.
    """
    import shapely
    from pyproj import Transformer
    from shapely.geometry import MultiLineString, MultiPolygon, Point

    from diming.geonames.pinyin import spell
    from diming.layers.store import init_project, transaction

    counties, towns, lines = _layout()
    north0 = _north0()
    to_lonlat = Transformer.from_crs(GK_EPSG, 4490, always_xy=True)

    def geo(geom):
        # densify first: a straight edge shared by two areas, with extra vertices on one side only,
        # would otherwise curve apart by centimetres once projected and leave false slivers
        return shapely.transform(shapely.segmentize(geom, 50.0), lambda xy: _lonlat_array(to_lonlat, xy, north0))

    def multi(geom):
        geom = geo(geom)
        if geom.geom_type == "Polygon":
            return MultiPolygon([geom])
        if geom.geom_type == "LineString":
            return MultiLineString([geom])
        return geom

    path = Path(path)
    if path.exists() and overwrite:
        path.unlink()
    init_project(path)
    today = today or dt.date.today()

    areas = [{"code": CITY[0], "name": CITY[1], "level": "city", "parent_code": None,
              "geometry": multi(shapely.box(0.0, 0.0, WIDTH, HEIGHT))}]
    areas += [{"code": code, "name": COUNTIES[code], "level": "county", "parent_code": CITY[0],
               "geometry": multi(geom)} for code, geom in sorted(counties.items())]
    areas += [{"code": code, "name": name, "level": "town", "parent_code": parent, "geometry": multi(geom)}
              for code, (name, parent, geom) in sorted(towns.items())]

    boundary_lines, markers = [], []
    for line_id, (left, right, line) in lines.items():
        left_name, right_name = COUNTIES[left], COUNTIES[right]
        count = int((line.length - 500.0) // 1500.0) + 1
        boundary_lines.append({
            "line_id": line_id, "name": f"{left_name}—{right_name}界线", "left_code": left, "right_code": right,
            "description": f"从 {line_id}001Q 号界桩起，沿山脊线及田间道路中心线至 {line_id}{count:03d}Q 号界桩。",
            "agreement": f"青政界〔2016〕{int(line_id) - 9100}号", "geometry": multi(line)})
        for seq in range(1, count + 1):
            point = line.interpolate(500.0 + (seq - 1) * 1500.0)
            marker_id = f"{line_id}{seq:03d}Q"
            if marker_id == "9103005Q":
                point = Point(point.x, point.y + 60.0)  # seeded: registered 60 m off the line
            lonlat = geo(point)
            x, y = _register_xy(lonlat)
            markers.append({
                "marker_id": marker_id, "line_id": line_id, "marker_type": "单立",
                "material": "花岗岩" if seq % 3 else "混凝土", "x": x, "y": y, "plane_crs": REGISTER_EPSG,
                "elevation": round(40.0 + 35.0 * math.sin(seq / 2.0) + seq, 1),
                "location": f"{left_name}与{right_name}交界处，第 {seq} 号界桩，距村道约 {50 + 10 * seq} 米",
                "condition": "损坏" if marker_id == "9102003Q" else "完好",
                "installed_on": "2016-05-18", "geometry": lonlat})

    roads = []
    for i, (name, code, geom) in enumerate(_seeded_roads() + _generated_roads(counties), start=1):
        roads.append({"road_id": f"{code}R{i:04d}", "name": name, "district": code, "status": "in_use",
                      "approved_on": (dt.date(2005, 1, 1) + dt.timedelta(days=37 * i)).isoformat(),
                      "meaning": None, "origin": None, "geometry": multi(geom)})
    existing = next(r for r in roads if r["district"] == "379902")

    def near(e, n, length=1500.0):
        return multi(shapely.LineString([(e, n), (e + length, n)]))

    # (name, district, state, geometry, days ago the application came in)
    proposals = [
        ("云帆路", "379902", "draft", MultiLineString([_part_of(existing["geometry"])]), 2),
        ("环球大道", "379901", "submitted", near(4500, 16500, 2500.0), 12),
        ("壮园街", "379901", "in_review", near(16500, 10500), 25),
        ("松韵路", "379902", "public_notice", near(37500, 28500), 14),
        ("鹤鸣路", "379903", "approved", near(40500, 4500), 60),
        ("青禾路", "379903", "filed", near(28500, 7500), 70),
        ("溪桥路", "379901", "rejected", near(10500, 31500), 40),
        ("望江路", "379902", "announced", near(37500, 19500), 180),
        ("白鹭街", "379903", "sign_installed", near(31500, 1500), 120),
        ("石桥路", "379901", "sign_verified", near(1500, 22500), 200),
        ("朝晖路", "379902", "withdrawn", near(49500, 31500), 20),
    ]
    heritage = [
        ("状元街", "地名文化遗产", "第一批", "市级", (19500, 13900), "明代县学所在，出过状元而得名。", "in_use"),
        ("老鸦巷", "历史地名", "第一批", "区级", (6200, 3100), "旧时巷口古槐多栖乌鸦。", "historical"),
        ("鼓楼", "地名文化遗产", "第一批", "市级", (20800, 15200), "清代鼓楼旧址，城中报时之所。", "in_use"),
        ("青岚古渡", "历史地名", "第二批", "市级", (30500, 2500), "旧时溪上渡口，市名由此而来。", "historical"),
        ("文庙街", "其他", "第二批", "区级", (12500, 18200), "街北有文庙。", "in_use"),
    ]
    heritage_rows = [{"heritage_id": f"BH-{i:03d}", "name": name, "pinyin": spell(name), "category": category,
                      "batch": batch, "level": level, "listed_on": "2021-06-30" if batch == "第一批" else "2023-06-30",
                      "district": "379901", "location": f"{COUNTIES['379901']}城区", "meaning": meaning, "origin": meaning, "history": None, "value": None,
                      "status": status, "geometry": geo(Point(*xy))}
                     for i, (name, category, batch, level, xy, meaning, status) in enumerate(heritage, start=1)]

    # the village-level gazetteer and its rural campaign (geonames/demo_gazetteer.py)
    from diming.geonames.demo_gazetteer import place_rows

    places = place_rows((CITY[0], CITY[1], shapely.box(0.0, 0.0, WIDTH, HEIGHT)),
                        {code: (COUNTIES[code], geom) for code, geom in counties.items()}, towns,
                        lambda x, y: geo(Point(x, y)), multi, today)

    with transaction(path, by="demo") as tx:
        tx.insert("admin_areas", areas)
        tx.insert("place_names", places)
        tx.insert("boundary_lines", boundary_lines)
        tx.insert("boundary_markers", markers)
        tx.insert("roads", roads)
        tx.insert("heritage_names", heritage_rows)
    for name, code, state, geom, days_ago in proposals:
        _through_procedure(path, name, code, state, geom, today - dt.timedelta(days=days_ago), today)
    from diming.geonames.demo_signs import seed_signs

    seed_signs(path, today)  # road signs, this year's sign patrol, the abnormal-roads survey
    return path


# the steps a proposal takes to reach each end state
_PATHS = {
    "draft": [], "submitted": ["submitted"], "in_review": ["submitted", "in_review"],
    "rejected": ["submitted", "in_review", "rejected"], "withdrawn": ["submitted", "withdrawn"],
}
_FULL = ["submitted", "in_review", "public_notice", "approved", "filed", "announced", "sign_ordered",
         "sign_installed", "sign_verified"]
# days after the application each step is taken; the notice runs 7 days from day 10
_DAY = {"submitted": 1, "in_review": 3, "public_notice": 10, "approved": 25, "filed": 40, "announced": 45,
        "sign_ordered": 50, "sign_installed": 80, "sign_verified": 100, "rejected": 30, "withdrawn": 5}


def _through_procedure(path, name, code, state, geom, applied, today):
    """Register a demo proposal on ``applied`` and take it step by step to ``state``: the late
    filing of 鹤鸣路, the late announcement of 青禾路 and the unverified signs are seeded this way."""
    from diming.geonames.proposals import advance, batch_of, propose

    steps = _PATHS.get(state, _FULL[:_FULL.index(state) + 1] if state in _FULL else [])
    record = propose(path, name, geom, district=code, reason="新建道路命名", meaning=f"{name[:2]}寓意吉祥",
                     applicant=f"{COUNTIES[code]}住房和城乡建设局", start=f"{name}西端路口", end=f"{name}东端路口",
                     width=24.0, batch=batch_of(today), by="demo", today=applied)
    details = {"in_review": {"assessment_ref": f"评估〔{applied.year}〕{len(name)}号"},
               "public_notice": {"expert_review_ref": "专家论证意见书", "consultation_ref": "征求意见汇总"},
               "approved": {"approved_by": "青岚市人民政府", "approval_doc": f"青政字〔{applied.year}〕18号"},
               "rejected": {"close_reason": "与规划道路走向不符"}, "withdrawn": {"close_reason": "申请单位撤回"}}
    for step in steps:
        on = min(applied + dt.timedelta(days=_DAY[step]), today)
        advance(path, record["proposal_id"], step, on=on, by="demo", today=today, **details.get(step, {}))


def _lonlat_array(transformer, xy, north0):
    import numpy as np

    lon, lat = transformer.transform(xy[:, 0] + EAST0, xy[:, 1] + north0)
    return np.column_stack([lon, lat])


def _part_of(multiline):
    # a stretch in the middle of an existing road: the same road proposed under a second name
    from shapely.ops import substring

    line = multiline.geoms[0]
    return substring(line, 0.2, 0.7, normalized=True)


def _register_xy(point):
    from diming.layers.crs import from_lonlat

    x, y = from_lonlat(point.x, point.y, REGISTER_EPSG)
    return round(float(x), 3), round(float(y), 3)


def run_demo(output="demo", echo=print) -> Path:
    """Build the demo project in folder ``output`` and run the main job on it, printing a line a step."""
    from diming.layers.store import layer_summary

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    project = build_demo(output / "diming.gpkg")
    echo(f"演示项目 {project}")
    _names_step(project, output, echo)
    from diming.boundaries.demo_round import run_demo_round
    from diming.maps import write_all_maps

    run_demo_round(project, output, echo=echo)
    from diming.geonames.demo_signs import run_demo_signs
    from diming.geonames.demo_gazetteer import run_demo_gazetteer

    run_demo_signs(project, output, echo=echo)
    run_demo_gazetteer(project, output, echo=echo)
    for row in layer_summary(project):  # once everything is in, the round and its records included
        echo(f"  {row['layer']:<18} {row['alias']:<8} {row['count']:>5}")
    findings = _check_step(project, output, echo)
    for result in write_all_maps(project, output, findings):
        echo(f"地图 {result['output']}")
    _qgis_step(project, output, echo)
    return project


def _qgis_step(project, output, echo):
    """The QGIS project over the demo GeoPackage, with the check's error layer."""
    from diming.layers.qgis_project import write_project

    result = write_project(project, output / "diming.qgz", findings=output / "check.gpkg")
    echo(f"QGIS 项目 {result['output']}")


def _check_step(project, output, echo):
    """The whole-project check: its report as text and JSON."""
    from diming.check import run_check
    from diming.findings import summary, write

    findings = run_check(project)
    write(findings, "text", output / "check.txt")
    write(findings, "json", output / "check.json")
    write(findings, "gpkg", output / "check.gpkg")
    counts = summary(findings)
    echo(f"项目检查 {output / 'check.txt'}: 错误 {counts['error']}, 警告 {counts['warning']}")
    return findings


def _names_step(project, output, echo):
    """Place names: the review sheet of this half-year's batch, overdue steps, the heritage list."""
    from diming.geonames.batch import write_batch
    from diming.geonames.heritage import export_list
    from diming.geonames.proposals import batch_of, overdue

    batch = batch_of(dt.date.today())
    n = write_batch(project, batch, output / f"review-{batch}.xlsx")
    echo(f"集中审核表 {output / f'review-{batch}.xlsx'}: {n} 件申报")
    late = overdue(project)
    echo(f"逾期事项 {len(late)} 项: " + "、".join(f"{i['name']}{i['what']}" for i in late))
    n = export_list(project, output / "heritage.xlsx")
    echo(f"地名保护名录 {output / 'heritage.xlsx'}: {n} 条")
