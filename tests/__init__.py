"""Unit tests, one folder per layer of the package.

tests/models/test_cells.py tests rnnbook.models.cells; shared fixtures are in conftest.py.
"""
