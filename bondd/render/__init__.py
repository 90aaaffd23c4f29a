"""Renderers that turn kernel state back into configuration. Pure: no kernel, no files."""
