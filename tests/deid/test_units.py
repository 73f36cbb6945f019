"""The action table, UID map, date shift and burned-in risk on their own."""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from flannot.deid import TABLE, UidMap, burned_in_risk
from flannot.deid.actions import resolve
from flannot.deid.dates import shift_da, shift_dt


def row(keyword: str):
    return TABLE[tag_for_keyword(keyword)]


def test_table_rows_from_the_standard():
    # spot checks against PS3.15 Table E.1-1
    assert row("PatientName").basic == "Z"
    assert row("PatientBirthDate").basic == "Z"
    assert row("StudyInstanceUID").basic == "U"
    assert row("InstitutionName").basic == "X/Z/D"
    assert row("ReferencedImageSequence").basic == "X/Z/U*"
    assert row("OtherPatientIDsSequence").basic == "X"
    assert row("RequestAttributesSequence").basic == "X"
    assert row("ReferencedPatientSequence").basic == "X"
    assert row("PatientSex").action(frozenset({"patient-characteristics"})) == "K"
    assert row("StudyDate").action(frozenset({"modified-dates"})) == "C"
    assert row("StudyDate").action(frozenset({"full-dates"})) == "K"
    assert row("DeviceSerialNumber").action(frozenset({"device-identity"})) == "K"
    assert row("InstitutionName").action(frozenset({"institution-identity"})) == "K"
    assert row("SOPInstanceUID").action(frozenset({"uids"})) == "K"
    assert row("ReferencedPatientSequence").action(frozenset({"uids"})) == "X"
    assert row("Allergies").action(frozenset({"patient-characteristics"})) == "X"
    assert len(TABLE) > 400


@pytest.mark.parametrize(
    "keyword",
    [
        "FrameTime",
        "FrameTimeVector",
        "PixelSpacing",
        "ImagerPixelSpacing",
        "EstimatedRadiographicMagnificationFactor",
        "DistanceSourceToDetector",
        "DistanceSourceToPatient",
        "PositionerPrimaryAngle",
        "PositionerSecondaryAngle",
        "WindowCenter",
        "WindowWidth",
        "KVP",
        "ExposureTime",
        "XRayTubeCurrent",
        "Exposure",
        "PixelData",
        "Modality",
        "SOPClassUID",
        "Manufacturer",
    ],
)
def test_technique_attributes_not_in_the_table(keyword):
    assert tag_for_keyword(keyword) not in TABLE


def test_compound_resolution():
    assert resolve("X/Z", False) == "Z"
    assert resolve("X/D", False) == "D"
    assert resolve("X/Z/D", False) == "D"
    assert resolve("Z/D", False) == "D"
    assert resolve("X/Z/U*", True) == "R"
    assert resolve("D", True) == "R*"
    assert resolve("X/D", True) == "X"
    assert resolve("X/Z", True, tag_for_keyword("AcquisitionContextSequence")) == "Z"


def test_uid_map_is_keyed_stable_and_valid():
    m1, m2, other = UidMap(b"a" * 32), UidMap(b"a" * 32), UidMap(b"b" * 32)
    uid = "1.2.3.4.5"
    assert m1(uid) == m2(uid) == m1(uid + "\x00")
    assert m1(uid) != other(uid)
    assert m1(uid) != m1("1.2.3.4.6")
    assert m1(uid).startswith("2.25.") and len(m1(uid)) <= 64
    assert int(m1(uid)[5:]) < 2**128
    assert m1("") == ""
    assert UidMap(b"a" * 32).date_offset_days() == m1.date_offset_days()


def test_date_shift():
    assert shift_da("20240301", -1) == "20240229"  # leap day
    assert shift_da("20240317", -400) == (dt.date(2024, 3, 17) - dt.timedelta(days=400)).strftime(
        "%Y%m%d"
    )
    assert shift_da("notadate", -5) == ""
    assert shift_da("20240317-20240320", -1) == "20240316-20240319"
    assert shift_dt("20240317101645.5+0100", -1) == "20240316101645.5+0100"
    assert shift_dt("2024", -1) == ""  # year precision cannot be shifted by days


@pytest.mark.parametrize(
    ("modality", "burned", "expected"),
    [
        ("XA", None, "unknown"),
        ("RF", "", "unknown"),
        ("XA", "NO", "no"),
        ("CR", None, "no"),
        ("DX", "YES", "yes"),
    ],
)
def test_burned_in_risk(modality, burned, expected):
    ds = Dataset()
    ds.Modality = modality
    if burned is not None:
        ds.BurnedInAnnotation = burned
    assert burned_in_risk(ds) == expected


def test_secondary_capture_is_flagged():
    ds = Dataset()
    ds.Modality = "CR"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    assert burned_in_risk(ds) == "unknown"
