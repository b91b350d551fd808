"""Folium maps of a project, self-contained for offline use."""
