"""The console's section map: the participants' borders (data WBX ships) and a PCC's sections.

`map.json` is drawn by `make vendor` from Natural Earth (world-atlas on the npm registry) in
an equirectangular projection; this module projects the sections' centroids the same way,
so the page draws an inline SVG with no tile server and nothing fetched at run time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from schemas.reference import ReferenceData

MAP_FILE = Path(__file__).resolve().parent / "map.json"
PARTICIPANTS = ("AL", "BA", "XK", "ME", "MK", "RS")


@dataclass(frozen=True)
class Outline:
    """One country's outline as SVG path data; participants are drawn stronger."""

    code: str
    path: str
    participant: bool


@dataclass(frozen=True)
class Marker:
    """A border section of the PCC, where it is on the map."""

    section: str
    x: float
    y: float


@dataclass(frozen=True)
class BorderMap:
    """What the template draws: a viewBox, the outlines, the PCC's sections."""

    width: float
    height: float
    outlines: list[Outline]
    markers: list[Marker]


@cache
def _load() -> dict[str, Any]:
    with MAP_FILE.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def project(lat: float, lon: float) -> tuple[float, float]:
    """Map coordinates of a point, in the projection `map.json` was drawn in."""
    p = _load()["projection"]
    x = (lon - p["west"]) * p["cos"] * p["k"]
    y = (p["north"] - lat) * p["k"]
    return round(x, 1), round(y, 1)


def border_map(reference: ReferenceData, sections: list[str]) -> BorderMap:
    """The map of a PCC: every outline, and a marker at each of `sections` with a centroid."""
    data = _load()
    outlines = [
        Outline(code, path, code in PARTICIPANTS)
        for code, path in sorted(data["countries"].items())
    ]
    markers = []
    for section_id in sections:
        section = reference.sections.get(section_id)
        if section is None or section.centroid_lat is None or section.centroid_lon is None:
            continue
        x, y = project(section.centroid_lat, section.centroid_lon)
        if 0 <= x <= data["width"] and 0 <= y <= data["height"] and math.isfinite(x + y):
            markers.append(Marker(section_id, x, y))
    return BorderMap(data["width"], data["height"], outlines, markers)
