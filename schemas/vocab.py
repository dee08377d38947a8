"""Controlled vocabularies of the wire contract, as string enums."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Participant(StrEnum):
    """A participant of the exchange (publishing jurisdictions)."""

    AL = "AL"
    BA = "BA"
    XK = "XK"  # Without prejudice to positions on status, in line with UNSCR 1244/99.
    ME = "ME"
    MK = "MK"
    RS = "RS"


class Country(StrEnum):
    """A participant or a neighbour that appears as a location or destination."""

    AL = "AL"
    BA = "BA"
    XK = "XK"
    ME = "ME"
    MK = "MK"
    RS = "RS"
    HR = "HR"
    HU = "HU"
    RO = "RO"
    BG = "BG"
    GR = "GR"
    IT = "IT"


class EventFamily(StrEnum):
    """The two families of exchanged events."""

    MIXED_MOVEMENT = "mixed_movement"
    BORDER_INCIDENT = "border_incident"


class Sex(StrEnum):
    """Sex as recorded by the reporting agency."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class AgeBand(StrEnum):
    """Age bands used instead of dates of birth wherever personal data is minimised."""

    CHILD = "0-13"
    ADOLESCENT = "14-17"
    YOUNG_ADULT = "18-34"
    ADULT = "35-64"
    SENIOR = "65+"

    @property
    def is_child(self) -> bool:
        """True for the bands under 18."""
        return self in (AgeBand.CHILD, AgeBand.ADOLESCENT)


class Vulnerability(StrEnum):
    """Protection flags: the only special-category data the contract carries."""

    UAM = "uam"
    SEPARATED_CHILD = "separated_child"
    VOT = "vot"
    DISABILITY = "disability"
    WOMAN_AT_RISK = "woman_at_risk"
    TORTURE_VICTIM = "torture_victim"
    SERIOUS_ILLNESS = "serious_illness"


class Direction(StrEnum):
    """Direction of a movement relative to the reporting participant."""

    ENTRY = "entry"
    EXIT = "exit"
    INLAND = "inland"


class ReferralTarget(StrEnum):
    """Where a person was referred."""

    ASYLUM_PROCEDURE = "asylum_procedure"
    RECEPTION_CENTRE = "reception_centre"
    CHILD_PROTECTION = "child_protection"
    ANTI_TRAFFICKING = "anti_trafficking"
    HEALTH_CARE = "health_care"


class ReturnKind(StrEnum):
    """Kind of return."""

    ASSISTED_VOLUNTARY = "assisted_voluntary_return"
    FORCED = "forced_return"
    READMISSION = "readmission"


class ImpactLevel(StrEnum):
    """EUROSUR impact level."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Handling(StrEnum):
    """Europol handling codes."""

    H0 = "H0"  # law-enforcement use only
    H1 = "H1"  # not for judicial proceedings without the provider's permission
    H2 = "H2"  # no onward dissemination without permission
    H3 = "H3"  # other restrictions stated


class Purpose(StrEnum):
    """What a record may be used for (PCC SEE Convention art. 31(4))."""

    BORDER_SECURITY = "border_security"
    LAW_ENFORCEMENT = "law_enforcement"
    PROTECTION = "protection"
    ASYLUM_PROCEDURE = "asylum_procedure"
    STATISTICS = "statistics"


class Reliability(StrEnum):
    """Europol 4x4 source reliability."""

    A = "A"
    B = "B"
    C = "C"
    X = "X"


class Accuracy(IntEnum):
    """Europol 4x4 information accuracy."""

    KNOWN_TRUE = 1
    KNOWN_PERSONALLY = 2
    NOT_KNOWN_PERSONALLY = 3
    CANNOT_BE_JUDGED = 4


class TraffickingIndicator(StrEnum):
    """Indicators of trafficking in human beings."""

    SEXUAL_EXPLOITATION = "sexual_exploitation"
    FORCED_LABOUR = "forced_labour"
    DEBT_BONDAGE = "debt_bondage"
    DOCUMENTS_WITHHELD = "documents_withheld"
    RESTRICTED_MOVEMENT = "restricted_movement"
    CHILD_EXPLOITATION = "child_exploitation"
    OTHER = "other"


class DocumentType(StrEnum):
    """Travel or identity document types."""

    PASSPORT = "passport"
    ID_CARD = "id_card"
    VISA = "visa"
    RESIDENCE_PERMIT = "residence_permit"
    OTHER = "other"


class FraudType(StrEnum):
    """How a document was fraudulent."""

    FORGED = "forged"
    COUNTERFEIT = "counterfeit"
    IMPOSTOR = "impostor"
    FRAUDULENTLY_OBTAINED = "fraudulently_obtained"
    OTHER = "other"


class ConcernType(StrEnum):
    """Fundamental-rights concerns reported on their own channel."""

    PUSHBACK = "pushback"
    DENIAL_OF_ACCESS_TO_ASYLUM = "denial_of_access_to_asylum"
    ILL_TREATMENT = "ill_treatment"
    FAMILY_SEPARATION = "family_separation"
    CHILD_DETENTION = "child_detention"
    OTHER = "other"


class CasualtyStatus(StrEnum):
    """Whether persons were found dead or are missing."""

    DEAD = "dead"
    MISSING = "missing"


class InjuryCause(StrEnum):
    """Reported cause of violence or injury."""

    ACCIDENT = "accident"
    ASSAULT_BY_SMUGGLERS = "assault_by_smugglers"
    ASSAULT_BY_OTHERS = "assault_by_others"
    ALLEGED_OFFICIAL_MISCONDUCT = "alleged_official_misconduct"
    ENVIRONMENTAL = "environmental"
    UNKNOWN = "unknown"
