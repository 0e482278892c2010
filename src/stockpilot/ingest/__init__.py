"""Importers of catalogue, stock and history files, with validation reports."""
