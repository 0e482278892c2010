"""Operational SQL store and the Parquet history store."""
