"""The action table, UID map, date shift and burned-in risk on their own."""

from __future__ import annotations

import datetime as dt

import pytest
from identified import TECHNIQUE
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
    TECHNIQUE
    + (
        "FrameTime",
        "FrameTimeVector",
        "PixelSpacing",
        "ImagerPixelSpacing",
        "Exposure",
        "PixelData",
        "Modality",
        "SOPClassUID",
    ),
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


def _minimal() -> Dataset:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.SOPInstanceUID = "1.2.3.4.1"
    ds.Modality = "DX"
    return ds


def test_sequences_in_every_branch():
    from flannot.deid import deidentify_dataset

    ds = _minimal()
    observer = Dataset()
    observer.VerifyingObserverName = "KUTNER^LAWRENCE"
    observer.VerifyingOrganization = "PPTH"
    observer.VerificationDateTime = "20240317120000"  # not a row of the table
    person = Dataset()
    person.CodeValue = "EMP-4242"  # a person's ID in a code: not a row of the table
    person.CodingSchemeDesignator = "L"
    person.CodeMeaning = "Kutner"
    observer.PersonIdentificationCodeSequence = [person]  # D sequence inside a D sequence
    ds.VerifyingObserverSequence = [observer]
    ds.AcquisitionContextSequence = [Dataset()]
    ds.ReferencedStudySequence = [Dataset()]
    series = Dataset()
    series.SeriesInstanceUID = "1.2.3.4.99"
    series.add_new(0x00290010, "LO", "VENDOR")
    ds.ReferencedSeriesSequence = [series]  # not in the table: recurse, apply the table
    report = deidentify_dataset(ds, uid_map=UidMap(b"k" * 32))

    item = ds.VerifyingObserverSequence[0]
    assert item.VerifyingObserverName == "ANONYMOUS^ANONYMOUS"
    assert item.VerifyingOrganization == "ANONYMIZED"
    assert item.VerificationDateTime == "19000101000000"
    code = item.PersonIdentificationCodeSequence[0]
    assert (code.CodeValue, code.CodeMeaning) == ("ANONYMIZED", "ANONYMIZED")
    assert "AcquisitionContextSequence" in ds and len(ds.AcquisitionContextSequence) == 0
    assert "ReferencedStudySequence" not in ds
    ref = ds.ReferencedSeriesSequence[0]
    assert ref.SeriesInstanceUID == UidMap(b"k" * 32)("1.2.3.4.99")
    assert len(ref) == 1  # the private block inside the item is gone
    assert report.actions["private"] == 1
    assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID != "1.2.3.4.1"


def test_functional_groups_keep_technique_and_lose_dates():
    from flannot.deid import deidentify_dataset

    ds = _minimal()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.12.1.1"  # Enhanced XA
    ds.FrameTimeVector = [0, 66.7, 66.7]
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.2, 0.2]
    shared.PixelMeasuresSequence = [measures]
    ds.SharedFunctionalGroupsSequence = [shared]
    per_frame = []
    for i in range(3):
        item, content = Dataset(), Dataset()
        content.FrameAcquisitionDateTime = f"2024031710164{i}"
        content.FrameAcquisitionDuration = 66.7
        content.FrameAcquisitionNumber = i + 1
        item.FrameContentSequence = [content]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    shifted = _minimal()
    shifted.PerFrameFunctionalGroupsSequence = [Dataset() for _ in range(1)]
    shifted.PerFrameFunctionalGroupsSequence[0].FrameContentSequence = [Dataset()]
    content = shifted.PerFrameFunctionalGroupsSequence[0].FrameContentSequence[0]
    content.FrameAcquisitionDateTime = "20240317101640"

    deidentify_dataset(ds, uid_map=UidMap(b"k" * 32))
    deidentify_dataset(shifted, uid_map=UidMap(b"k" * 32), options=["modified-dates"])

    assert [float(v) for v in ds.FrameTimeVector] == [0, 66.7, 66.7]
    pixel = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert [float(v) for v in pixel.PixelSpacing] == [0.2, 0.2]
    for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        c = item.FrameContentSequence[0]
        assert "2024" not in str(c.FrameAcquisitionDateTime)  # a date beyond the table
        assert float(c.FrameAcquisitionDuration) == 66.7 and c.FrameAcquisitionNumber == i + 1
    days = UidMap(b"k" * 32).date_offset_days()
    expected = (dt.date(2024, 3, 17) + dt.timedelta(days=days)).strftime("%Y%m%d") + "101640"
    shifted_value = shifted.PerFrameFunctionalGroupsSequence[0].FrameContentSequence[0]
    assert shifted_value.FrameAcquisitionDateTime == expected


def test_encrypted_originals_and_mac_parameters_removed():
    from flannot.deid import deidentify_dataset

    ds = _minimal()
    enc = Dataset()
    enc.EncryptedContentTransferSyntaxUID = "1.2.840.10008.1.2.1"
    enc.EncryptedContent = b"\x01\x02" * 8  # the original identifiers, for a key holder
    ds.EncryptedAttributesSequence = [enc]
    mac = Dataset()
    mac.MACIDNumber = 1
    ds.MACParametersSequence = [mac]
    deidentify_dataset(ds, uid_map=UidMap(b"k" * 32))
    assert "EncryptedAttributesSequence" not in ds
    assert "MACParametersSequence" not in ds


def test_method_codes_are_pydicoms_cid_7050_codes() -> None:
    # the engine spells the codes out (pydicom.sr.codedict is slow to import): same values
    from pydicom.sr.codedict import codes

    from flannot.deid import engine

    names = {
        "patient-characteristics": "RetainPatientCharacteristicsOption",
        "modified-dates": "RetainLongitudinalTemporalInformationModifiedDatesOption",
        "full-dates": "RetainLongitudinalTemporalInformationFullDatesOption",
        "device-identity": "RetainDeviceIdentityOption",
        "institution-identity": "RetainInstitutionIdentityOption",
        "uids": "RetainUidsOption",
    }
    pairs = [(engine._OPTION_CODES[o], getattr(codes.DCM, n)) for o, n in names.items()]
    pairs += [
        (engine._BASIC_CODE, codes.DCM.BasicApplicationConfidentialityProfile),
        (engine._CLEAN_PIXEL_CODE, codes.DCM.CleanPixelDataOption),
    ]
    assert set(engine._OPTION_CODES) == set(names)
    for mine, ref in pairs:
        assert (mine.value, mine.scheme_designator, mine.meaning) == (
            ref.value,
            ref.scheme_designator,
            ref.meaning,
        )
