"""Write a synthetic national-scale diming project for the ``diming check`` benchmark.

    python benchmarks/make_national.py national.gpkg --roads 1000000 --towns 40000 --markers 100000 \
        --signs 1000000 --survey 200000 --places 2000000

Towns are the cells of a jittered lattice spanning 100–120°E, 25–40°N (so the data crosses seven
Gauss-Krüger zones); neighbours share their edge vertices exactly, so they form a coverage.
Counties are 4 × 4 blocks of towns, cut from the same lattice; boundary lines run along the county
edges and carry the markers. Road names are drawn from character and 通名 frequency lists, so
duplicates and homophones occur as they do in real gazetteers, and a few more are seeded; so are
town overlaps and gaps, markers off their line, bad numbers and sequence gaps. Road signs stand
5 m from the start of their road (one per road, then more on random roads), some with wrong text,
lower-case pinyin or 200 m away, some roads without one; a patrol visited a tenth of them and found
a few broken. Survey lines mostly follow a road under its name; some run off the named roads, some
carry a developer's name.
town overlaps and gaps, markers off their line, bad numbers and sequence gaps. The gazetteer
(``--places``) holds every town as a 乡级行政区 name and, in villages of the towns, village
committees, natural villages, hills, streams (lines) and bridges, named from the same lists.

Features are written in one transaction with a single audit row (a bulk load, not an edit
history): per-feature audit rows would double the file and the write time without changing what
the check reads.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import shapely

from diming.layers import gpkg
from diming.layers.schema import STORAGE_EPSG, get_layer
from diming.layers.store import init_project, transaction

WEST, EAST, SOUTH, NORTH = 100.0, 120.0, 25.0, 40.0
SUB = 8  # lattice points along each town edge
BLOCK = 4  # towns per county side

# 专名 characters, most frequent first (drawn with Zipf-like weights), and 通名 with their shares
SPECIFIC_CHARS = (
    "人民中山解放建设和平胜利光明幸福文化新华东风红旗团结友谊青年工业学府花园长江黄河泰山华山"
    "龙凤金银玉石松柏梅兰竹菊桃李杨柳桂枫槐杏荷莲春夏秋冬朝阳晨曦彩虹云霞星月天河湖海江溪泉"
    "山岭峰岗坡林森田园丰收富强康宁安泰兴盛昌隆祥瑞吉庆福寿永宁太平长乐广德仁义礼智信忠孝"
    "明清宋唐汉秦晋齐鲁燕赵吴越楚蜀滨江临湖望海观澜听涛翠微碧水蓝天白云青松紫荆丹桂金桥银河"
)
GENERICS = (("路", 0.46), ("街", 0.16), ("巷", 0.10), ("大道", 0.06), ("道", 0.05), ("大街", 0.04),
            ("胡同", 0.03), ("里", 0.03), ("弄", 0.03), ("支路", 0.02), ("环路", 0.02))
MODIFIERS = "东西南北中一二三四五"
HOMOPHONES = (("海晏路", "海燕路"), ("状元街", "壮园街"), ("金城路", "京城路"), ("长江路", "常江路"))


def lattice(rng, side):
    nx = ny = side * SUB + 1
    lon = np.linspace(WEST, EAST, nx)
    lat = np.linspace(SOUTH, NORTH, ny)
    xx, yy = np.meshgrid(lon, lat, indexing="ij")
    dx, dy = (EAST - WEST) / (nx - 1), (NORTH - SOUTH) / (ny - 1)
    jitter = rng.uniform(-0.3, 0.3, size=(2, nx, ny))
    inner = np.zeros((nx, ny), dtype=bool)
    inner[1:-1, 1:-1] = True  # keep the outline straight
    xx = xx + np.where(inner, jitter[0] * dx, 0.0)
    yy = yy + np.where(inner, jitter[1] * dy, 0.0)
    return xx, yy


def ring_indices(i0, j0, size):
    """Lattice indices of the closed ring of the cell whose south-west corner is (i0, j0)."""
    s = np.arange(size)
    i = np.concatenate([i0 + s, np.full(size, i0 + size), i0 + size - s, np.full(size, i0), [i0]])
    j = np.concatenate([np.full(size, j0), j0 + s, np.full(size, j0 + size), j0 + size - s, [j0]])
    return i, j


def cells(xx, yy, n, size):
    """Polygons of an n × n grid of cells of ``size`` lattice steps, row-major from the south-west."""
    ci, cj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    ci, cj = ci.ravel() * size, cj.ravel() * size
    offs_i, offs_j = ring_indices(0, 0, size)
    ii, jj = ci[:, None] + offs_i[None, :], cj[:, None] + offs_j[None, :]
    coords = np.stack([xx[ii, jj], yy[ii, jj]], axis=-1)
    return shapely.polygons(coords), ci // size, cj // size


def county_code(c: int) -> str:
    return f"{11 + c // 100:02d}{(c // 10) % 10 + 1:02d}{c % 10 + 1:02d}"


def bulk_insert(tx, layer_name: str, rows: dict, geoms) -> None:
    """INSERT many features at once (geometry blobs encoded in one vectorised call)."""
    layer = get_layer(layer_name)
    names = list(rows)
    blobs = gpkg.encode(geoms, STORAGE_EPSG)
    sql = (f"INSERT INTO {gpkg.quote(layer_name)} ({', '.join(map(gpkg.quote, names))}, geom) "
           f"VALUES ({', '.join('?' * (len(names) + 1))})")
    columns = [rows[n] for n in names]
    tx.con.executemany(sql, zip(*columns, blobs))
    tx._touched.add(layer.name)


def names(rng, count):
    chars = np.array(list(SPECIFIC_CHARS))
    weights = 1.0 / np.arange(1, len(chars) + 1) ** 0.6
    weights /= weights.sum()
    first = rng.choice(chars, size=count, p=weights)
    second = rng.choice(chars, size=count, p=weights)
    generic = rng.choice([g for g, _ in GENERICS], size=count, p=np.array([p for _, p in GENERICS]) / 1.0)
    modifier = np.where(rng.random(count) < 0.08, rng.choice(list(MODIFIERS), size=count), "")
    return np.char.add(np.char.add(np.char.add(first, second), modifier), generic)


def road_signs(rng, road_lines, road_names, count):
    """Signs 5 m from the start of their road, text and sign spelling as they should be (spelled
    once per distinct name), except seeded wrong texts, lower-case pinyin, far signs and roads
    left without a sign; and a patrol's records for a tenth of them, a few broken."""
    from diming.geonames.pinyin import sign

    n_roads = len(road_lines)
    on = np.concatenate([np.arange(min(count, n_roads)), rng.integers(0, n_roads, size=max(0, count - n_roads))])
    unsigned = rng.choice(min(count, n_roads), size=min(1000, count // 100), replace=False)
    on[unsigned] = (on[unsigned] + 1) % n_roads  # those roads lose their sign to the next one
    start = shapely.get_coordinates(shapely.get_point(road_lines[on], 0))
    start[:, 1] += 0.00005
    far = rng.choice(count, size=min(100, count), replace=False)
    start[far, 1] += 0.002
    texts = road_names[on].copy()
    distinct, inverse = np.unique(road_names.astype(str), return_inverse=True)
    spelled = np.array([sign(n) for n in distinct], dtype=object)
    pinyins = spelled[inverse][on]
    for k in rng.choice(count, size=min(100, count), replace=False):
        texts[k] = texts[k][:-1] + "街" if not texts[k].endswith("街") else texts[k][:-1] + "路"
    lower = rng.choice(count, size=min(100, count), replace=False)
    pinyins[lower] = [p.lower() for p in pinyins[lower]]
    ids = [f"P{i:07d}" for i in range(count)]
    signs = {"sign_id": ids, "road_id": [f"R{i:07d}" for i in on], "text": list(texts), "pinyin": list(pinyins),
             "sign_type": ["路牌"] * count, "condition": ["完好"] * count}
    visited = rng.choice(count, size=count // 10, replace=False)
    broken = set(rng.choice(visited, size=min(200, len(visited)), replace=False).tolist())
    records = [(f"2024-1/{ids[k]}", "2024-1", ids[k], "2024-05-01", "损毁" if k in broken else "完好",
                "上报市局" if k in broken else "无需处理") for k in visited.tolist()]
    return signs, shapely.points(start), records


def survey_lines(rng, road_lines, road_names, road_district, count):
    """Survey lines: most along a road, under its name; 5 % moved 0.003° off any named road
    (有路无名), 5 % under a developer's name (擅自命名)."""
    pick = rng.integers(0, len(road_lines), size=count)
    shift = np.where(rng.random(count) < 0.05, 0.003, 0.0)
    coords = shapely.get_coordinates(road_lines[pick]).reshape(count, 2, 2)
    coords[:, :, 1] += shift[:, None]
    lines = shapely.multilinestrings(shapely.linestrings(coords), indices=np.arange(count))
    observed = road_names[pick].copy()
    observed[shift > 0] = None
    developer = rng.random(count) < 0.05
    observed[developer] = [f"金{SPECIFIC_CHARS[k % 60]}华府路" for k in range(int(developer.sum()))]
    survey = {"survey_id": [f"MP{i:07d}" for i in range(count)], "observed_names": list(observed),
              "district": list(road_district[pick]), "source": ["benchmark"] * count}
    return survey, lines


# gazetteer categories of the names in villages, their shares and 通名
PLACE_KINDS = (("群众自治组织", 0.15, "村"), ("22200", 0.55, "庄"), ("陆地地形", 0.1, "山"), ("陆地水系", 0.1, "河"),
               ("交通运输设施", 0.1, "桥"))


def gazetteer(rng, towns, tcodes, count):
    """Gazetteer rows and geometry: every town as a 乡级行政区 name, then ``count`` names in
    villages of random towns (points; streams as short lines), ids after place_id_pattern."""
    n_towns = len(towns)
    count = max(count - n_towns, 0)
    town_of = rng.integers(0, n_towns, size=count)
    kinds = rng.choice(len(PLACE_KINDS), size=count, p=[k[1] for k in PLACE_KINDS])
    category = np.array([k[0] for k in PLACE_KINDS], dtype=object)[kinds]
    generic = np.array([k[2] for k in PLACE_KINDS])[kinds]
    village = np.char.add(tcodes[town_of], np.char.zfill(rng.integers(200, 230, size=count).astype(str), 3))
    # 专名 of three characters from a pool of 400,000, drawn evenly: across the country names repeat
    # (as 王庄 and 石门村 do), within a county seldom (a few thousand clashes in two million names)
    chars = np.array(list(dict.fromkeys(SPECIFIC_CHARS)))
    pool = np.char.add(np.char.add(rng.choice(chars, size=400_000), rng.choice(chars, size=400_000)),
                       rng.choice(chars, size=400_000))
    specific = pool[rng.integers(0, len(pool), size=count)]
    code = np.where(np.char.str_len(category.astype(str)) == 5, category.astype(str), "00000")
    # the sequence number counts within the village and category (6 digits, as the pattern wants)
    import pandas as pd

    seq = np.char.zfill((pd.Series(np.char.add(village, code)).groupby(np.char.add(village, code)).cumcount()
                         .to_numpy() + 1).astype(str), 6)
    ids = np.char.add(np.char.add(village, code), seq)
    bounds = shapely.bounds(towns[town_of])
    u = rng.uniform(0.2, 0.8, size=(count, 2))
    x = bounds[:, 0] + u[:, 0] * (bounds[:, 2] - bounds[:, 0])
    y = bounds[:, 1] + u[:, 1] * (bounds[:, 3] - bounds[:, 1])
    geoms = shapely.points(x, y).astype(object)
    streams = np.flatnonzero(category == "陆地水系")
    lines = shapely.linestrings(np.stack([np.column_stack([x[streams], y[streams]]),
                                          np.column_stack([x[streams] + 0.01, y[streams] + 0.003])], axis=1))
    geoms[streams] = shapely.multilinestrings(lines, indices=np.arange(len(streams)))
    town_points = shapely.point_on_surface(towns)
    rows = {"place_id": [f"{c}21500000001" for c in tcodes] + list(ids),
            "name": [f"镇{c}" for c in tcodes] + list(np.char.add(specific, generic)),
            "category": ["21500"] * n_towns + list(category),
            "district": list(tcodes) + list(village), "in_use": ["current"] * (n_towns + count),
            "meaning": ["以驻地得名"] * (n_towns + count)}
    return rows, np.concatenate([town_points.astype(object), geoms])


def main():
    rng = np.random.default_rng(20240601)
    started = time.perf_counter()
    side = int(np.sqrt(args.towns))
    xx, yy = lattice(rng, side)
    towns, ti, tj = cells(xx, yy, side, SUB)
    counties, ki, kj = cells(xx, yy, side // BLOCK, SUB * BLOCK)
    n_counties = len(counties)
    county_of_town = (ti // BLOCK) * (side // BLOCK) + (tj // BLOCK)
    seq_in_county = (ti % BLOCK) * BLOCK + (tj % BLOCK) + 1
    ccodes = np.array([county_code(c) for c in range(n_counties)])
    tcodes = np.char.add(ccodes[county_of_town], np.char.zfill(seq_in_county.astype(str), 3))

    # seeded area problems on an edge shared with the east neighbour in the same county: a bite
    # out of the town (a gap) or a bulge into the neighbour (an overlap)
    towns = towns.astype(object)
    seeded = rng.choice(np.flatnonzero(ti % BLOCK != BLOCK - 1), size=40, replace=False)
    for k, t in enumerate(seeded):
        minx, miny, maxx, maxy = towns[t].bounds
        w, cy, h = maxx - minx, (miny + maxy) / 2, maxy - miny
        if k % 2:
            towns[t] = shapely.difference(towns[t], shapely.box(maxx - 0.2 * w, cy, maxx, cy + 0.1 * h))
        else:
            towns[t] = shapely.union(towns[t], shapely.box(maxx - 0.2 * w, cy, maxx + 0.2 * w, cy + 0.1 * h))

    # county boundary lines: the east and north edge of each county block with a neighbour there
    nb = side // BLOCK
    size = SUB * BLOCK
    line_rows, line_geoms = {"line_id": [], "name": [], "left_code": [], "right_code": []}, []
    for c in range(n_counties):
        i, j = divmod(c, nb)
        for di, dj in ((1, 0), (0, 1)):
            if i + di >= nb or j + dj >= nb:
                continue
            s = np.arange(size + 1)
            if di:  # east edge: constant i, j along
                li, lj = np.full(size + 1, (i + 1) * size), j * size + s
            else:
                li, lj = i * size + s, np.full(size + 1, (j + 1) * size)
            other = (i + di) * nb + (j + dj)
            line_rows["line_id"].append(f"{len(line_geoms) + 1:04d}")
            line_rows["name"].append(f"{ccodes[c]}—{ccodes[other]}界线")
            line_rows["left_code"].append(ccodes[c])
            line_rows["right_code"].append(ccodes[other])
            line_geoms.append(shapely.multilinestrings([shapely.linestrings(np.column_stack([xx[li, lj], yy[li, lj]]))]))
    line_geoms = np.array(line_geoms, dtype=object)

    # markers spread evenly over the lines; a few off the line, some numbers missing or malformed
    per_line = max(1, args.markers // len(line_geoms))
    m_line = np.repeat(np.arange(len(line_geoms)), per_line)
    m_seq = np.tile(np.arange(1, per_line + 1), len(line_geoms))
    points = shapely.line_interpolate_point(line_geoms[m_line], m_seq / (per_line + 1), normalized=True)
    off = rng.choice(len(points), size=50, replace=False)
    points[off] = shapely.points(shapely.get_coordinates(points[off]) + [0.002, 0.0])
    keep = np.ones(len(points), dtype=bool)
    keep[rng.choice(len(points), size=50, replace=False)] = False  # sequence gaps
    line_ids = np.array(line_rows["line_id"])
    mids = np.char.add(np.char.add(line_ids[m_line], np.char.zfill(m_seq.astype(str), 3)), "Q")
    mids = mids.astype(object)
    for k in rng.choice(len(mids), size=20, replace=False):
        mids[k] = mids[k].replace("Q", "X")  # bad type letter
    markers = {"marker_id": list(mids[keep]), "line_id": list(line_ids[m_line][keep]),
               "marker_type": ["单立"] * int(keep.sum())}
    marker_geoms = points[keep]

    # roads: short straight streets inside random towns, named from the distributions
    town_for_road = rng.integers(0, len(towns), size=args.roads)
    bounds = shapely.bounds(towns[town_for_road])
    u = rng.uniform(0.15, 0.85, size=(args.roads, 2))
    x0 = bounds[:, 0] + u[:, 0] * (bounds[:, 2] - bounds[:, 0])
    y0 = bounds[:, 1] + u[:, 1] * (bounds[:, 3] - bounds[:, 1])
    length = rng.uniform(0.002, 0.01, size=args.roads)
    horizontal = rng.random(args.roads) < 0.5
    x1 = np.where(horizontal, x0 + length, x0)
    y1 = np.where(horizontal, y0, y0 + length)
    road_lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
    road_geoms = shapely.multilinestrings(road_lines, indices=np.arange(args.roads))
    road_names = names(rng, args.roads).astype(object)
    seeded_roads = rng.choice(args.roads, size=2 * len(HOMOPHONES) * 10, replace=False).reshape(-1, 2)
    for k, (a, b) in enumerate(seeded_roads):
        pair = HOMOPHONES[k % len(HOMOPHONES)]
        road_names[a], road_names[b] = pair
        town_for_road[b] = town_for_road[a]  # same county, so they clash
    road_district = ccodes[county_of_town[town_for_road]]
    roads = {"road_id": [f"R{i:07d}" for i in range(args.roads)], "name": list(road_names),
             "district": list(road_district), "status": ["in_use"] * args.roads}

    # open proposals (a few on top of existing roads) and a heritage list
    n_prop = max(10, args.roads // 200)
    pick = rng.integers(0, args.roads, size=n_prop)
    shift = np.where(rng.random(n_prop) < 0.01, 0.0, 0.004)
    prop_geoms = np.array([shapely.MultiLineString([shapely.transform(road_lines[k], lambda c, s=s: c + [0.0, s])])
                           for k, s in zip(pick, shift)], dtype=object)
    proposals = {"proposal_id": [f"DM-2024-{i:06d}" for i in range(n_prop)], "name": list(names(rng, n_prop)),
                 "district": list(road_district[pick]), "status": ["submitted"] * n_prop}
    n_her = max(5, args.roads // 500)
    her_pick = rng.integers(0, args.roads, size=n_her)
    heritage = {"heritage_id": [f"BH-{i:05d}" for i in range(n_her)], "name": list(names(rng, n_her)),
                "category": ["历史地名"] * n_her, "status": ["historical"] * n_her}
    her_geoms = shapely.line_interpolate_point(road_lines[her_pick], 0.5, normalized=True)
    signs, sign_geoms, patrol_records = road_signs(rng, road_lines, road_names, args.signs)
    survey, survey_geoms = survey_lines(rng, road_lines, road_names, road_district, args.survey)
    places, place_geoms = gazetteer(rng, towns, tcodes, args.places) if args.places else ({}, [])
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)

    init_project(args.path, overwrite=True)
    with transaction(args.path, by="benchmark") as tx:
        bulk_insert(tx, "admin_areas", {"code": list(ccodes), "name": [f"县{c}" for c in ccodes],
                                        "level": ["county"] * n_counties, "parent_code": [None] * n_counties},
                    np.array([shapely.MultiPolygon([g]) for g in counties], dtype=object))
        bulk_insert(tx, "admin_areas", {"code": list(tcodes), "name": [f"镇{c}" for c in tcodes],
                                        "level": ["town"] * len(towns),
                                        "parent_code": list(ccodes[county_of_town])},
                    np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in towns],
                             dtype=object))
        bulk_insert(tx, "boundary_lines", line_rows, line_geoms)
        bulk_insert(tx, "boundary_markers", markers, marker_geoms)
        bulk_insert(tx, "roads", roads, road_geoms)
        bulk_insert(tx, "road_proposals", proposals, prop_geoms)
        bulk_insert(tx, "heritage_names", heritage, her_geoms)
        bulk_insert(tx, "road_signs", signs, sign_geoms)
        bulk_insert(tx, "road_survey", survey, survey_geoms)
        tx.insert("sign_patrols", [{"patrol_id": "2024-1", "name": "2024年路牌巡查", "districts": '["1"]',
                                    "starts_on": "2024-01-01", "ends_on": "2024-12-31", "status": "active"}])
        tx.con.executemany("INSERT INTO sign_patrol_records (record_id, patrol_id, sign_id, patrolled_on, condition, "
                           "action) VALUES (?, ?, ?, ?, ?, ?)", patrol_records)
        if args.places:
            bulk_insert(tx, "place_names", places, place_geoms)
        tx.log("bulk-load", note=f"benchmarks/make_national.py: {args.roads} roads, {len(towns)} towns, "
                                 f"{int(keep.sum())} markers, {args.signs} signs, {args.survey} survey lines, "
                                 f"{len(place_geoms)} gazetteer names")
    print(f"wrote {args.path} in {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--roads", type=int, default=1_000_000)
    parser.add_argument("--towns", type=int, default=40_000)
    parser.add_argument("--markers", type=int, default=100_000)
    parser.add_argument("--signs", type=int, default=1_000_000)
    parser.add_argument("--survey", type=int, default=200_000, help="survey lines (road_survey)")
    parser.add_argument("--places", type=int, default=2_000_000, help="gazetteer names (towns included)")
    args = parser.parse_args()
    main()
