"""Road signs (路名牌): the register, and a sign closing its proposal's sign step."""
import datetime as dt

import shapely

from diming.layers.store import read_layer

TODAY = dt.date.today().isoformat()


def _announced(project):
    roads = read_layer(project, "roads", where="name = ?", params=("望江路",))
    return roads.iloc[0]


def test_sign_layers_are_in_a_new_project(project):
    from diming.layers.store import layer_summary

    layers = {row["layer"]: row for row in layer_summary(project)}
    assert layers["road_signs"]["geometry"] == "POINT"
    assert layers["road_survey"]["geometry"] == "MULTILINESTRING"
    assert {"sign_patrols", "sign_patrol_records", "road_rectifications"} <= set(layers)


def test_a_sign_installed_for_a_proposal_closes_its_sign_step(demo_project, run):
    road = _announced(demo_project)
    point = shapely.Point(*road.geometry.geoms[0].coords[0])
    result = run(demo_project, "sign", "add", "S-WJ-1", "--road", road.road_id, "--lon", point.x, "--lat", point.y,
                 "--installed-on", TODAY, "--type", "街牌")
    assert result.exit_code == 0, result.output
    proposal = read_layer(demo_project, "road_proposals", where="road_id = ?", params=(road.road_id,)).iloc[0]
    assert proposal.status == "sign_installed" and proposal.sign_installed_on == TODAY
    sign = read_layer(demo_project, "road_signs", where="sign_id = 'S-WJ-1'").iloc[0]
    assert sign.text == "望江路" and sign.pinyin == "WANGJIANG LU" and sign.condition == "完好"


def test_importing_signs_closes_the_sign_step_too(demo_project, tmp_path):
    import geopandas as gpd

    from diming.layers.imports import import_layer

    road = _announced(demo_project)
    point = shapely.Point(*road.geometry.geoms[0].coords[0])
    src = tmp_path / "signs.geojson"
    gpd.GeoDataFrame({"sign_id": ["S1"], "road_id": [road.road_id], "text": ["望江路"], "installed_on": [TODAY]},
                     geometry=[point], crs=4490).to_file(src)
    import_layer(demo_project, "road_signs", src)
    proposal = read_layer(demo_project, "road_proposals", where="road_id = ?", params=(road.road_id,)).iloc[0]
    assert proposal.status == "sign_installed" and proposal.sign_ordered_on == TODAY


def test_a_sign_without_installation_date_leaves_the_proposal(demo_project):
    from diming.geonames.signs import add_sign

    road = _announced(demo_project)
    add_sign(demo_project, "S2", road.road_id, shapely.Point(*road.geometry.geoms[0].coords[0]))
    proposal = read_layer(demo_project, "road_proposals", where="road_id = ?", params=(road.road_id,)).iloc[0]
    assert proposal.status == "announced"


def test_sign_map_colours_signs_by_condition(demo_project, run, tmp_path):
    result = run(demo_project, "map", "signs", "-o", tmp_path / "signs.html")
    assert result.exit_code == 0, result.output
    assert "路名牌" in result.output and "道路" in result.output
    page = (tmp_path / "signs.html").read_text(encoding="utf-8")
    assert "路名牌分布图" in page and "路名牌·损毁" in page and "路名牌·完好" in page
    assert "<script src=\"http" not in page  # self-contained, opens offline
    from diming.geonames.survey import run_survey

    run_survey(demo_project)
    result = run(demo_project, "map", "signs", "-o", tmp_path / "signs.html")
    assert "异常道路 6" in result.output  # the six survey lines of the five open abnormalities …
    assert "异常道路·有路无名" in (tmp_path / "signs.html").read_text(encoding="utf-8")  # … in the legend by category


def test_an_installation_date_before_the_announcement_is_refused(demo_project, run):
    road = _announced(demo_project)
    point = road.geometry.geoms[0].coords[0]
    result = run(demo_project, "sign", "add", "S-X", "--road", road.road_id, "--lon", point[0], "--lat", point[1],
                 "--installed-on", "2001-01-01")
    assert result.exit_code == 1 and "早于申报" in result.output
    assert read_layer(demo_project, "road_signs", where="sign_id = 'S-X'").empty
