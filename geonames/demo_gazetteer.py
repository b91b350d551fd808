"""The demo's village-level gazetteer (地名录) and rural-names campaign: invented like the rest.

Three villages (村民委员会) in each of the nine towns, each with its seat natural village (named
like the committee: another category group, so no duplicate), four more natural villages, a hill,
a stream and a bridge; the towns, counties and the city as 行政区域 names. Seeded for the checks:

- 琴书庄 twice in 云溪区 (name.duplicate, natural villages within the county);
- 雷鼓山 twice in 松阳区 (name.duplicate, hills within the county: the duplicate_scope);
- 红旗庄 / 宏旗庄 in 鹤山县 (name.homophone);
- 星辰桥 without its meaning (place.missing-meaning);
- 雪峰庄, a historical name (历史地名, merged away in 1998): not compared, not asked for a meaning.

The campaign: every village-level name is rural. 云溪区's are on the map (batch ``<year>-01`` on
天地图), 松阳区's reviewed and waiting, 鹤山县's collected and two villages in three reviewed; the
demo exports the reviewed names waiting as batch ``<year>-02``. Photos were taken in the first village of each town.
"""
from __future__ import annotations

import datetime as dt
import itertools

# 专名 from characters with a single reading and no toneless syllable in common, none of them
# in the demo's road names: generated names cannot clash by accident
FIRST = "金银玉凤马牛羊莺荷莲菱稻麦茶桑楠"
SECOND = "樟橘枣田坡沟岗涧塘泽堰坝崖鸽鹊珠"
HAMLETS = ("庄", "屯", "坪", "坞")


def place_rows(city, counties, towns, to_point, to_line, today: dt.date) -> list[dict]:
    """The gazetteer's rows. ``city``: (code, name, polygon); ``counties``: code -> (name, polygon);
    ``towns``: code -> (name, county, polygon), all in local metres; ``to_point``/``to_line`` turn
    local metres into stored geometry."""
    from shapely.geometry import LineString

    from diming.geonames.pinyin import spell

    specifics = iter(a + b for a, b in itertools.product(FIRST, SECOND))
    rows = []

    def add(division, category, name, geom, **fields):
        code = category if category.isdigit() else "00000"
        seq = sum(1 for r in rows if r["place_id"].startswith(division + code)) + 1
        rows.append({"place_id": f"{division}{code}{seq:06d}", "name": name, "pinyin": spell(name),
                     "category": category, "district": division, "in_use": "current", "survey_method": "图解",
                     "meaning": fields.pop("meaning", f"{name[:2]}，取吉祥之意"), "source": "第二次全国地名普查成果",
                     "registered_on": "2018-06-30", "registered_by": "demo", "registered_unit": "青岚市民政局",
                     "geometry": geom, **fields})

    centre = city[2].representative_point()
    add(city[0], "21300", city[1], to_point(centre.x, centre.y), meaning="因境内青岚山得名", history="1983年设市")
    for code, (name, polygon) in sorted(counties.items()):
        centre = polygon.representative_point()
        add(code, "21400", name, to_point(centre.x, centre.y), meaning=f"{name[:2]}，以境内山水得名")
    seeded = {}
    for t, (town, (town_name, county, polygon)) in enumerate(sorted(towns.items())):
        centre = polygon.representative_point()
        add(town, "21500", town_name, to_point(centre.x, centre.y), meaning=f"{town_name[:2]}，以驻地得名")
        for v in range(3):
            village = f"{town}{201 + v}"
            x, y = _inside(polygon, centre, v)
            committee = next(specifics) + "村"
            state = _campaign(county, v, today)
            photos = {"photos": "村牌.jpg;村貌.jpg"} if v == 0 else {}
            rural = {"rural": 1, **state, **photos}
            add(village, "群众自治组织", committee, to_point(x, y), **rural, history="1984年设村民委员会")
            add(village, "22200", committee, to_point(x + 120, y + 80), **rural, history="明代成村")
            for h, hamlet in enumerate(HAMLETS):
                add(village, "22200", next(specifics) + hamlet, to_point(x + 400 * (h + 1), y - 300), **rural)
            add(village, "陆地地形", next(specifics) + "山", to_point(x - 600, y + 500), **rural)
            add(village, "陆地水系", next(specifics) + "溪", to_line(LineString([(x - 800, y - 700), (x + 900, y - 500)])),
                **rural)
            add(village, "交通运输设施", next(specifics) + "桥", to_point(x + 100, y - 600), **rural)
            seeded.setdefault(county, []).append((village, x, y, rural))
    _seed(add, seeded, to_point)
    return rows


def _inside(polygon, centre, v):
    """A village seat in the town: off its centre, kept inside it."""
    from shapely.geometry import Point

    for dx, dy in ((-2500, -1500), (0, 1800), (2500, -1500))[v:v + 1] + ((0, 0),):
        if polygon.buffer(-1500).contains(Point(centre.x + dx, centre.y + dy)):
            return centre.x + dx, centre.y + dy
    return centre.x, centre.y


def _campaign(county, v, today):
    def day(n):
        return (today - dt.timedelta(days=n)).isoformat()

    if county == "379901":
        return {"collected_on": day(150), "reviewed_on": day(120), "on_map_on": day(90), "platforms": "天地图",
                "map_batch": f"{today.year}-01"}
    if county == "379902":
        return {"collected_on": day(60), "reviewed_on": day(30)}
    return {"collected_on": day(40), **({"reviewed_on": day(10)} if v else {})}


def _seed(add, seeded, to_point):
    """The seeded problems (module docstring)."""
    (a, ax, ay, ar), (b, bx, by, br) = seeded["379901"][0], seeded["379901"][4]
    add(a, "22200", "琴书庄", to_point(ax + 900, ay + 900), **ar)
    add(b, "22200", "琴书庄", to_point(bx + 900, by + 900), **br)
    (a, ax, ay, ar), (b, bx, by, br) = seeded["379902"][1], seeded["379902"][7]
    add(a, "陆地地形", "雷鼓山", to_point(ax - 900, ay + 900), **ar)
    add(b, "陆地地形", "雷鼓山", to_point(bx - 900, by + 900), **br)
    (a, ax, ay, ar), (b, bx, by, br) = seeded["379903"][2], seeded["379903"][5]
    add(a, "22200", "红旗庄", to_point(ax + 1200, ay - 900), **ar, history="1958年成村")
    add(b, "22200", "宏旗庄", to_point(bx + 1200, by - 900), **br)
    add(a, "交通运输设施", "星辰桥", to_point(ax - 200, ay - 900), **ar, meaning=None)
    add(b, "22200", "雪峰庄", to_point(bx - 300, by + 1200), in_use="historical", abolished_year=1998,
        history="清代成村，1998年并入邻村", rural=1, meaning="村后山峰冬日积雪")


def run_demo_gazetteer(project, output, echo=print) -> None:
    """The gazetteer's step of the demo: the campaign's progress and candidates, this year's second
    batch for the map platforms, the registration-form export, the dictionary and the map."""
    from pathlib import Path

    from diming.geonames.dictionary import write_dictionary
    from diming.geonames.gazetteer import export_form
    from diming.geonames.rural import candidates, export_batch, progress
    from diming.maps.gazetteer import gazetteer_map

    output = Path(output)
    total = progress(project)["total"]
    echo(f"乡村地名采集上图: 地名 {total['names']}, 已审核 {total['reviewed']}, 已上图 {total['on_map']}, "
         f"全部上图的村 {total['villages_done']}/{total['villages']}")
    best = candidates(project)[:3]
    echo("示范村候选: " + "、".join(f"{v['name']} {v['score']:.0f}分" for v in best))
    batch = export_batch(project, f"{dt.date.today().year}-02", output / "乡村地名上图", by="demo")
    echo(f"上图批次 {batch['batch']}: {batch['names']} 条地名 -> {', '.join(batch['files'])}")
    n = export_form(project, output / "地名登记表.xlsx")
    echo(f"地名登记表 {output / '地名登记表.xlsx'}: {n} 条")
    book = write_dictionary(project, output / "地名词典.pdf")
    echo(f"地名词典 {book['output']}: {book['entries']} 条, {book['pages']} 页")
    echo(f"地图 {gazetteer_map(project, output / 'map-gazetteer.html')['output']}")
