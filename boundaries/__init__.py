"""Administrative boundaries (行政区域界线): areas, lines, markers (界桩) and the joint inspection (联检)."""
