"""String enums for flannot's coded values (calibration kinds, geometry kinds, severities,
scoring kinds, roles), as highdicom has one for every coded value.

Members compare equal to, hash like and print as their string value, so case files,
JSON output and older code that uses the plain strings keep working.
"""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):  # enum.StrEnum is Python 3.11+; flannot supports 3.10
    """A string-valued enum whose members compare, hash and print as their value."""

    def __str__(self) -> str:
        return str(self.value)

    __hash__ = str.__hash__
