"""diming (地名): administrative-division and place-name work in one GeoPackage project.

The library is organised by subject: ``diming.layers`` (the GeoPackage store), ``diming.geonames``
(names, proposals, the heritage list), ``diming.boundaries`` (areas, lines, markers, joint
inspection) and ``diming.maps`` (Folium maps). The ``diming`` command is a thin layer over them.
"""

__version__ = "0.1.0"
