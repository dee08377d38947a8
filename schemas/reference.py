"""Reference data: participants, agencies, border sections, PCCs and crossing points.

Each deployment loads its own official lists from a TOML file (default `infra/reference.toml`);
the file is validated as a whole at start so a typo fails loudly, not at the first event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.config_files import load_toml_model
from schemas.envelope import AGENCY_PATTERN
from schemas.errors import ReferenceDataError
from schemas.payloads.common import SectionId
from schemas.vocab import Country, Participant


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParticipantInfo(_Entry):
    """A participant of the exchange."""

    code: Participant
    name: str


class Agency(_Entry):
    """A publishing agency with its own signing keys."""

    id: str = Field(pattern=AGENCY_PATTERN)
    participant: Participant
    name: str
    kind: str = Field(pattern=r"^(border_police|asylum_authority|migration_authority|other)$")


class BorderSection(_Entry):
    """A stretch of border between two countries (or a sub-section of one)."""

    id: SectionId
    name: str
    centroid_lat: float | None = Field(default=None, ge=-90, le=90)
    centroid_lon: float | None = Field(default=None, ge=-180, le=180)

    @property
    def countries(self) -> tuple[Country, Country]:
        """The two countries the section separates."""
        first, second = self.id.split("-")[:2]
        return Country(first), Country(second)


class Pcc(_Entry):
    """A joint Police Cooperation Centre and the border sections it covers."""

    id: str = Field(pattern=r"^pcc-[a-z0-9-]+$")
    name: str
    participants: list[Participant]
    sections: list[SectionId] = Field(min_length=1)


class CrossingPoint(_Entry):
    """A border crossing point on a section."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    section: SectionId


class ReferenceFile(_Entry):
    """The whole reference file."""

    participants: list[ParticipantInfo]
    agencies: list[Agency]
    sections: list[BorderSection]
    pccs: list[Pcc]
    crossing_points: list[CrossingPoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        section_ids = {s.id for s in self.sections}
        for kind, ids in (
            ("participant", [p.code.value for p in self.participants]),
            ("agency", [a.id for a in self.agencies]),
            ("section", [s.id for s in self.sections]),
            ("pcc", [p.id for p in self.pccs]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} id(s): {', '.join(dupes)}")
        for agency in self.agencies:
            if not agency.id.startswith(agency.participant.value + "-"):
                raise ValueError(f"agency {agency.id}: id must start with {agency.participant}-")
        for pcc in self.pccs:
            unknown = [s for s in pcc.sections if s not in section_ids]
            if unknown:
                raise ValueError(f"pcc {pcc.id}: unknown section(s) {', '.join(unknown)}")
        for point in self.crossing_points:
            if point.section not in section_ids:
                raise ValueError(f"crossing point {point.id}: unknown section {point.section}")
        return self


class ReferenceData:
    """Validated reference data with the lookups the platform needs."""

    def __init__(self, parsed: ReferenceFile) -> None:
        self.file = parsed
        self.participants = {p.code: p for p in parsed.participants}
        self.agencies = {a.id: a for a in parsed.agencies}
        self.sections = {s.id: s for s in parsed.sections}
        self.pccs = {p.id: p for p in parsed.pccs}
        self.crossing_points = {c.id: c for c in parsed.crossing_points}

    def pccs_covering(self, section: str) -> list[str]:
        """Ids of the PCCs covering a section; a sub-section (`BA-ME-2`) counts as its parent."""
        parent = "-".join(section.split("-")[:2])
        return [p.id for p in self.pccs.values() if section in p.sections or parent in p.sections]

    def section_known(self, section: str) -> bool:
        """Whether a section id (or its parent for a sub-section) is in the reference data."""
        return section in self.sections or "-".join(section.split("-")[:2]) in self.sections


def load_reference(path: Path) -> ReferenceData:
    """Load and validate a reference TOML file; errors name the file and the entry."""
    return ReferenceData(
        load_toml_model(path, ReferenceFile, "reference data file", ReferenceDataError)
    )
