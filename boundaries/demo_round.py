"""The demo's joint-inspection step: a round this year, results for one line, a field sheet and the report."""
from __future__ import annotations

import datetime as dt
from pathlib import Path


def run_demo_round(project, output, echo=print) -> dict:
    """Open this year's round over lines 9101 and 9102, record 9101's results, write the paperwork.

    On 9101 one marker turns out moved by about 2.4 m and one lost; 9102 is still to be visited,
    so its field sheet (PDF and XLSX) and the missing markers in the report show what is left.
    """
    from diming.boundaries.fieldsheet import write_fieldsheet
    from diming.boundaries.inspection import new_round, record_results, validate_results
    from diming.boundaries.report import write_report
    from diming.layers.store import read_layer

    today = dt.date.today()
    rnd = new_round(project, today.year, f"第七轮{today.year}年度", lines=["9101", "9102"], by="demo")
    markers = read_layer(project, "boundary_markers", where="line_id = ?", params=("9101",))
    rows = []
    for i, m in enumerate(markers.sort_values("marker_id").itertuples(), start=2):
        row = {"_row": i, "marker_id": m.marker_id, "inspected_on": today.isoformat(), "condition": "完好",
               "references_complete": "是", "line_recognisable": "是", "action": "无需处理",
               "inspectors_left": "周明", "inspectors_right": "吴芳", "measured_x": m.x + 0.12,
               "measured_y": m.y - 0.08, "measured_crs": m.plane_crs}
        if m.marker_id == "9101004Q":
            row.update(condition="移位", measured_x=m.x + 1.44, measured_y=m.y + 1.92, action="复位",
                       notes="修路时被挖机推移")
        elif m.marker_id == "9101008Q":
            row.update(condition="丢失", measured_x=None, measured_y=None, action="重建", references_complete="否")
        rows.append(row)
    records, problems = validate_results(project, rnd["round_id"], rows)
    if problems:  # the demo's own data: a bug, not bad input
        raise RuntimeError("; ".join(problems))
    record_results(project, rnd["round_id"], records, by="demo", note="演示联检结果")
    output = Path(output)
    sheet = write_fieldsheet(project, rnd["round_id"], "9102", "pdf", output / "联检记录表-9102.pdf")
    write_fieldsheet(project, rnd["round_id"], "9102", "xlsx", output / "联检记录表-9102.xlsx")
    report = write_report(project, rnd["round_id"], output / "联检报告.pdf")
    write_report(project, rnd["round_id"], output / "联检报告.md")
    echo(f"联检轮次 {rnd['round_id']} {rnd['name']}: 记录表 {sheet.name} (及 .xlsx), 报告 {report.name} (及 .md)")
    return rnd
