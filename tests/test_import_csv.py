"""Reading a CSV for import: runs of plain lines are split on commas a batch at a time
(layers/sources.py), everything else goes through Python's csv module. Both must give the same
rows, row numbers and errors, whatever the file holds."""
import pytest
import shapely

from diming.errors import DimingError
from diming.layers import sources, store
from diming.layers.imports import ImportFailed, import_layer

HEADER = "marker_id,line_id,lon,lat,location\r\n"
PLAIN = [f"9101{i:03d}Q,9101,120.{i:03d},36.1,山脊{i}号\r\n" for i in range(1, 12)]

FILES = {
    "plain": HEADER + "".join(PLAIN),
    "no final line break": HEADER + "".join(PLAIN)[:-2],
    "LF only": (HEADER + "".join(PLAIN)).replace("\r\n", "\n"),
    "blank lines": HEADER + "".join(PLAIN[:4]) + "\r\n,,,,\r\n , ,\u3000,,\r\n" + "".join(PLAIN[4:]) + "\r\n\r\n",
    "short and long rows": HEADER + "".join(PLAIN[:5]) + "9101900Q,9101,120.9\r\n9101901Q,9101,120.9,36.2,甲,乙,丙\r\n"
    + "".join(PLAIN[5:]),
    "a quote later on": HEADER + "".join(PLAIN[:7]) + '9101950Q,9101,120.95,36.1,"北侧,\r\n第二行"\r\n'
    + "".join(PLAIN[7:]),
    "quoted header": '"marker_id","line_id","lon","lat","location"\r\n' + "".join(PLAIN),
    "NUL": HEADER + "".join(PLAIN[:8]) + "9101960Q,9101,120.96,36.1,山\x00脊\r\n" + "".join(PLAIN[8:]),
    "lone CR": HEADER + "".join(PLAIN[:8]) + "9101970Q,9101,120.97,36.1,山\r脊\r\n" + "".join(PLAIN[8:]),
    "BOM in a later line": HEADER + "".join(PLAIN[:6]) + "\ufeff" + "".join(PLAIN[6:]),
    "header only": HEADER,
    "whitespace around values": HEADER + "".join(PLAIN[:3]) + " 9101980Q , 9101 , 120.98 , 36.1 ,\t北\t\r\n",
}


def _read(path, encoding=None, split=True, monkeypatch=None):
    """The header and every row of ``path`` as (number, row), and the error it ends with, if any
    (batches may be cut at other rows)."""
    monkeypatch.setattr(sources, "_SPLITTABLE", sources._SPLITTABLE if split else set())
    out = []
    try:
        header, tables, _ = sources._csv_rows(path, encoding)
        out.append(header)
        for numbers, columns in tables:
            out += zip(numbers, zip(*columns))
    except DimingError as exc:
        out.append(str(exc))
    return out


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("encoding,bom", [(None, False), (None, True), ("GBK", False), ("GB18030", False)])
def test_split_lines_read_as_csv_reads_them(tmp_path, monkeypatch, name, encoding, bom):
    monkeypatch.setattr(sources, "BATCH_ROWS", 4)  # several batches, a run of lines in each
    path = tmp_path / "m.csv"
    text = FILES[name].replace("\ufeff", "") if encoding == "GBK" else FILES[name]  # GBK has no U+FEFF
    data = text.encode(encoding or "utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    split = _read(path, encoding, True, monkeypatch)
    assert split == _read(path, encoding, False, monkeypatch)
    assert split[0] == ["marker_id", "line_id", "lon", "lat", "location"]


def test_undecodable_byte_named_by_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BATCH_ROWS", 4)
    path = tmp_path / "m.csv"
    path.write_bytes((HEADER + "".join(PLAIN[:6])).encode() + "9101990Q,9101,120.99,36.1,山脊\r\n".encode("gbk"))
    expected = "m.csv: 第 8 行: 文本无法按 UTF-8 解码 (undecodable text); 试试 --encoding GBK"
    assert _read(path, None, True, monkeypatch)[-1] == expected
    assert _read(path, None, False, monkeypatch)[-1] == expected


def test_split_file_imports_with_its_row_numbers(project, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BATCH_ROWS", 4)
    path = tmp_path / "m.csv"
    path.write_text(FILES["blank lines"], encoding="utf-8")
    result = import_layer(project, "boundary_markers", path, x="lon", y="lat")
    assert result.inserted == len(PLAIN)
    markers = store.read_layer(project, "boundary_markers").sort_values("marker_id")
    assert markers.location.tolist() == [f"山脊{i}号" for i in range(1, 12)]
    assert shapely.get_x(markers.geometry.values).tolist() == [float(f"120.{i:03d}") for i in range(1, 12)]
    bad = tmp_path / "bad.csv"
    rows = "".join(PLAIN[:4]) + "\r\n" + PLAIN[4].replace("36.1", "3б.1") + PLAIN[1]
    bad.write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_layer(project, "boundary_markers", bad, x="lon", y="lat", mode="replace")
    assert info.value.errors == ["bad.csv: 第 7 行, 字段 lat: 坐标 '3б.1' 不是数字",
                                 "bad.csv: 第 8 行, 字段 marker_id: 编号 9101002Q 重复, 与第 3 行相同"]


def _dump(project):
    import sqlite3

    con = sqlite3.connect(project)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.mark.parametrize("index", [True, False])
@pytest.mark.parametrize("at", [0, 6])
def test_clashes_found_by_the_key_index_or_without_it(project, tmp_path, monkeypatch, index, at):
    """A clean batch goes in at once and the key index turns a known key away; a layer whose index
    another program dropped is checked key by key: the same errors, and nothing written."""
    import sqlite3

    monkeypatch.setattr(sources, "BATCH_ROWS", 4)
    first = tmp_path / "first.csv"
    first.write_text(HEADER + PLAIN[0], encoding="utf-8")
    import_layer(project, "boundary_markers", first, x="lon", y="lat")
    if not index:
        con = sqlite3.connect(project)
        con.execute("DROP INDEX uq_boundary_markers_marker_id")
        con.commit()
        con.close()
    before = _dump(project)
    path = tmp_path / "m.csv"
    # the known key in the first batch or a later one; a repeated key after it
    rows = PLAIN[1:at + 1] + [PLAIN[0]] + PLAIN[at + 1:7] + [PLAIN[2]] + PLAIN[7:]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_layer(project, "boundary_markers", path, x="lon", y="lat")
    assert info.value.errors == [
        f"m.csv: 第 {at + 2} 行, 字段 marker_id: 编号 9101001Q 已在图层中 (key exists; 用 --mode upsert)",
        f"m.csv: 第 9 行, 字段 marker_id: 编号 9101003Q 重复, 与第 {3 if at else 4} 行相同"]
    assert _dump(project) == before
    path.write_text(HEADER + "".join(PLAIN[1:]), encoding="utf-8")
    assert import_layer(project, "boundary_markers", path, x="lon", y="lat").inserted == len(PLAIN) - 1


def test_bulk_import_audits_each_feature_as_written(project, tmp_path):
    """Thousands of rows a batch, many a statement: each audit row and R-tree entry is its feature's."""
    import sqlite3

    lines = [f"9101{i:04d}Q,9101,{120 + (i * 7919 % 3000) * 1e-4:.4f},{36 + (i % 50) * 1e-3:.3f},山脊{i}号"
             for i in range(3000)]
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    assert import_layer(project, "boundary_markers", path, x="lon", y="lat").inserted == 3000
    markers = store.read_layer(project, "boundary_markers")
    assert markers.marker_id.tolist() == [line.split(",")[0] for line in lines]  # in the file's order
    logged = {row["key"]: row["after"] for row in store.audit_rows(project, layer="boundary_markers")}
    wkts = shapely.to_wkt(markers.geometry.values, rounding_precision=8)
    assert [logged[k]["geometry"] for k in markers.marker_id] == wkts.tolist()
    assert [logged[k]["location"] for k in markers.marker_id] == markers.location.tolist()
    con = sqlite3.connect(project)
    try:
        assert con.execute("SELECT rtreecheck('rtree_boundary_markers_geom')").fetchone() == ("ok",)
        boxes = con.execute("SELECT t.marker_id, r.minx, r.maxx, r.miny, r.maxy FROM rtree_boundary_markers_geom r "
                            "JOIN boundary_markers t ON t.fid = r.id ORDER BY t.fid").fetchall()
    finally:
        con.close()
    assert [b[0] for b in boxes] == markers.marker_id.tolist()
    x, y = shapely.get_x(markers.geometry.values), shapely.get_y(markers.geometry.values)
    assert all(b[1] <= px <= b[2] < px + 2e-5 and b[3] <= py <= b[4] < py + 2e-5 for b, px, py in zip(boxes, x, y))


def test_points_from_coordinates_written_as_from_shapely():
    """Points from X/Y columns are encoded and put in WKT without a shapely geometry each: the same
    blobs as gpkg.encode, the same WKT as GEOS writes (its rounding next to a midpoint included)."""
    import numpy as np

    from diming.layers import gpkg

    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(73, 136, 3000), np.round(rng.uniform(73, 136, 3000), 9),
                        np.round(rng.uniform(73, 136, 300), 3),
                        [100.0, 100.5, 99.999999995, 100.000000005, 120.123456785, 135.99999999999, -100.25, 1e-5]])
    y = np.concatenate([rng.uniform(3, 54, 3000), np.round(rng.uniform(3, 54, 3000), 9),
                        np.round(rng.uniform(3, 54, 300), 3),
                        [25.0, 25.5, 3.000000005, 53.999999995, 36.123456785, 3.00000001, -4.5, 3.0]])
    geoms = shapely.points(x, y)
    for part in (slice(None, -1), slice(-1, None)):  # the last has a coordinate GEOS writes with an exponent
        points = gpkg.Points(x[part], y[part])
        assert points.wkt() == shapely.to_wkt(geoms[part], rounding_precision=8).tolist()
        assert points.blobs(4490) == gpkg.encode(geoms[part], 4490)
    assert shapely.equals(np.array(gpkg.Points(x, y).geometries()), geoms).all()
