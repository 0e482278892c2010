"""Great-circle distances between points given in decimal degrees."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), as used by geopy's great_circle

FloatArray = npt.NDArray[np.float64]


def haversine_km(lat1: npt.ArrayLike, lon1: npt.ArrayLike,
                 lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> FloatArray:
    """Matrix of great-circle distances (km) from points 1 (rows) to points 2 (columns).

    The haversine formula (Sinnott 1984, "Virtues of the Haversine", Sky & Telescope 68:159)
    on a sphere of the mean Earth radius; within 0.5 % of the ellipsoidal distance.

    Args:
        lat1: Latitudes of the row points, degrees.
        lon1: Longitudes of the row points, degrees.
        lat2: Latitudes of the column points, degrees.
        lon2: Longitudes of the column points, degrees.

    Returns:
        An array of shape (len(points 1), len(points 2)).
    """
    p1 = np.radians(np.asarray(lat1, dtype=float))[:, None]
    p2 = np.radians(np.asarray(lat2, dtype=float))[None, :]
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2, dtype=float))[None, :] \
        - np.radians(np.asarray(lon1, dtype=float))[:, None]
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    out: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out
