"""The place-name dictionary (地名词典) as a PDF book, read back with pdftotext."""
import re
import shutil
import subprocess

import pytest
from shapely.geometry import MultiLineString, Point

from diming.errors import DimingError
from diming.geonames.dictionary import entries, write_dictionary
from diming.layers.store import transaction

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
                                   reason="pdftotext/pdffonts (poppler-utils) not installed")


def gazetteer(project):
    with transaction(project, by="测试员") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "云溪区", "level": "county"},
                                  {"code": "379901100", "name": "桃源镇", "level": "town", "parent_code": "379901"},
                                  {"code": "379902", "name": "松阳区", "level": "county"}])
        tx.insert("place_names", [
            {"place_id": "37990110022200000001", "name": "石门村", "pinyin": "Shimen Cun", "category": "22200",
             "district": "379901100", "in_use": "current", "meaning": "村口有石如门", "history": "明代成村",
             "geometry": Point(120.1, 36.1)},
            {"place_id": "37990110000000000002", "name": "青溪河", "pinyin": "Qingxi He", "category": "陆地水系",
             "district": "379901100", "in_use": "current", "meaning": "水色青碧",
             "geometry": MultiLineString([[(120.0, 36.0), (120.2, 36.1)]])},
            {"place_id": "37990110022200000003", "name": "老鸦村", "pinyin": "Laoya Cun", "category": "22200",
             "district": "379901100", "in_use": "historical", "history": "1990年并入石门村",
             "geometry": Point(120.11, 36.1)},
            {"place_id": "37990200000000000004", "name": "望湖山", "pinyin": "Wanghu Shan", "category": "陆地地形",
             "district": "379902", "in_use": "current", "geometry": Point(120.3, 36.2)}])
        tx.insert("roads", [{"road_id": "379901R0001", "name": "松风路", "pinyin": "Songfeng Lu", "status": "in_use",
                             "district": "379901", "meaning": "松林清风",
                             "geometry": MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])}])


def test_entries_grouped_by_district_and_category(project):
    gazetteer(project)
    got = [(e["county_name"], e["class"], e["name"]) for e in entries(project)]
    assert got == [("云溪区", "陆地水系", "青溪河"), ("云溪区", "居民点", "老鸦村"), ("云溪区", "居民点", "石门村"),
                   ("云溪区", "交通运输设施", "松风路"), ("松阳区", "陆地地形", "望湖山")]
    assert [e["name"] for e in entries(project, district="379902")] == ["望湖山"]
    assert [e["name"] for e in entries(project, categories=["居民点"])] == ["老鸦村", "石门村"]
    [stone] = [e for e in entries(project) if e["name"] == "石门村"]
    assert stone["location"] == "云溪区桃源镇（东经 120.1000°，北纬 36.1000°）"
    with pytest.raises(DimingError, match="未知地名类别"):
        entries(project, categories=["山"])


def pdf_text(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@needs_poppler
def test_dictionary_pdf_has_contents_entries_and_pinyin_index(project, tmp_path, run):
    gazetteer(project)
    out = tmp_path / "地名词典.pdf"
    result = run(project, "dictionary", "--output", out)
    assert result.exit_code == 0, result.output
    assert "5 条地名" in result.output
    text = pdf_text(out)
    pages = text.split("\f")
    index = next(i for i, p in enumerate(pages) if "Laoya Cun" in p and "Wanghu Shan" in p and "Qingxi He" in p
                 and i > 2)
    numbers = {name: int(n) for name, n in re.findall(r"([A-Z][a-z]+ [A-Z][a-z]+)\D*?(\d+)\s*$",
                                                       pages[index], re.M)}
    assert numbers["Shimen Cun"] == numbers["Laoya Cun"] and numbers["Wanghu Shan"] > numbers["Shimen Cun"]
    assert "Wanghu Shan" in pages[numbers["Wanghu Shan"] - 1] and "Shimen Cun" in pages[numbers["Shimen Cun"] - 1]
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()
    emb = fonts[0].index("emb")
    assert fonts[2:] and all(line[emb:emb + 3] == "yes" for line in fonts[2:]), fonts  # every font embedded
    assert "目录" in text.replace("　", "").replace(" ", "")
    assert "石门村" in text and "含义：村口有石如门" in text and "拼音索引" in text
    with pytest.raises(DimingError, match="没有符合条件"):
        write_dictionary(project, tmp_path / "x.pdf", district="4199")
    assert not (tmp_path / "x.pdf").exists()


def test_dictionary_docx_for_word(project, tmp_path, run):
    import docx

    gazetteer(project)
    out = tmp_path / "地名词典.docx"
    result = run(project, "dictionary", "--output", out, "--district", "379901")
    assert result.exit_code == 0, result.output
    document = docx.Document(str(out))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [("Heading 1", "目　录"), ("Heading 1", "云溪区"), ("Heading 2", "陆地水系"),
                        ("Heading 2", "居民点"), ("Heading 2", "交通运输设施"), ("Heading 1", "拼音索引")]
    text = [p.text for p in document.paragraphs]
    assert "石门村　Shimen Cun　〔农村居民点〕　位于云溪区桃源镇（东经 120.1000°，北纬 36.1000°）。　含义：村口有石如门　沿革：明代成村" \
        in text
    assert any(t.startswith("老鸦村") and "历史地名" in t for t in text)
    assert text[-4:] == ["Laoya Cun　老鸦村（云溪区）", "Qingxi He　青溪河（云溪区）", "Shimen Cun　石门村（云溪区）",
                         "Songfeng Lu　松风路（云溪区）"]
    assert round(document.sections[0].page_width.mm) == 148
    [field] = document.element.body.xpath(".//w:fldSimple")
    assert field.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}instr").startswith('TOC \\o "1-2"')
