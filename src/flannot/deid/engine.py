"""Apply the Basic Application Level Confidentiality Profile to datasets, files and folders."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import pydicom
from pydicom.datadict import dictionary_has_tag, dictionary_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag
from pydicom.uid import UID_dictionary

from flannot.atomic import AtomicBatch, atomic_write
from flannot.deid.actions import EDITION, EXTENSIONS, OPTIONS, TABLE, resolve
from flannot.deid.burned_in import burned_in_risk, is_flagged
from flannot.deid.dates import shift_value
from flannot.deid.pixels import RedactionResult, redact
from flannot.deid.uids import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, UidMap
from flannot.errors import FlannotError
from flannot.io.deflate import check_inflated_size, is_deflated
from flannot.io.items import check_raw_items, item_budget
from flannot.safe_files import make_dirs, open_regular, walk_files


class DcmCode(NamedTuple):
    """A DCM code (the fields of :class:`pydicom.sr.coding.Code` used here)."""

    value: str
    scheme_designator: str
    meaning: str


# CID 7050 codes by option, as in pydicom's copy of PS3.16 (a test compares them with
# pydicom.sr.codedict, whose import alone costs a third of a second at start-up)
_OPTION_CODES = {
    "patient-characteristics": DcmCode("113108", "DCM", "Retain Patient Characteristics Option"),
    "modified-dates": DcmCode(
        "113107", "DCM", "Retain Longitudinal Temporal Information Modified Dates Option"
    ),
    "full-dates": DcmCode(
        "113106", "DCM", "Retain Longitudinal Temporal Information Full Dates Option"
    ),
    "device-identity": DcmCode("113109", "DCM", "Retain Device Identity Option"),
    "institution-identity": DcmCode("113112", "DCM", "Retain Institution Identity Option"),
    "uids": DcmCode("113110", "DCM", "Retain UIDs Option"),
}
_BASIC_CODE = DcmCode("113100", "DCM", "Basic Application Confidentiality Profile")
_MEDIA_DIRECTORY = "1.2.840.10008.1.3.10"  # Media Storage Directory Storage (DICOMDIR)
_CLEAN_PIXEL_CODE = DcmCode("113101", "DCM", "Clean Pixel Data Option")

# dummy values (action D) by VR: valid for the VR, obviously not real
_DUMMY: dict[str, Any] = {
    "PN": "ANONYMOUS^ANONYMOUS",
    "LO": "ANONYMIZED",
    "SH": "ANONYMIZED",
    "CS": "ANONYMIZED",
    "AE": "ANONYMIZED",
    "LT": "ANONYMIZED",
    "ST": "ANONYMIZED",
    "UT": "ANONYMIZED",
    "UC": "ANONYMIZED",
    "UR": "",
    "AS": "000D",
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "IS": "0",
    "DS": "0",
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
}
# free text beyond the table is emptied unless it is one of these: equipment, technique,
# coding and presentation text that identifies nobody and that the image IODs flannot
# reads need (Type 1/2: removing them would add dciodvfy errors); the patient's species
# is Type 1C for an animal and names no one
_FREE_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
_SAFE_TEXT = frozenset(
    {
        "Manufacturer",
        "ManufacturerModelName",
        "SoftwareVersions",
        "DetectorManufacturerName",
        "DetectorManufacturerModelName",
        "WindowCenterWidthExplanation",
        "LUTExplanation",
        "ModalityLUTType",
        "CodeValue",
        "LongCodeValue",
        "CodingSchemeDesignator",
        "CodingSchemeVersion",
        "CodingSchemeName",
        "CodingSchemeResponsibleOrganization",
        "CodeMeaning",
        "ContextGroupExtensionFlag",
        "MappingResource",
        "MappingResourceName",
        "ContrastBolusRoute",
        "TypeOfFilters",
        "FilterType",
        "AcquisitionDeviceProcessingCode",
        "ConvolutionKernel",
        "PixelSpacingCalibrationDescription",
        "PatientSpeciesDescription",
        "DeidentificationMethod",
        "LossyImageCompressionMethod",
        "FrameLabel",
        "DimensionDescriptionLabel",
        "FunctionalGroupPrivateCreator",
        "PrivateCreatorReference",
        "PositionerType",
        "Grid",
        "ExposureControlModeDescription",
        "CalibrationImage",
        "ReferencedFrameNumber",
        "ImageType",
        "ViewPosition",
        "BodyPartExamined",
        "ConversionType",
    }
)
# Patient module Type 2C attributes of an animal (PS3.3 C.7.1.1): emptied, never removed
_TYPE_2C_PATIENT = frozenset({0x00102292, 0x00102293, 0x00102294, 0x00102297, 0x00102299})
# a deflated data set is held whole (raw and parsed) while it is rewritten: past this
# inflated size it is refused, keeping one file's de-identification under 1 GB of memory
DEFLATED_LIMIT = 256 << 20
# URL attributes that name coding schemes and codes, not places
_CODE_URLS = frozenset({"CodingSchemeURL", "URNCodeValue"})
# VRs replaced inside a D sequence: text, names, dates and ages (CS is kept: it carries
# structure such as SR value types, not identity; numbers and UIDs follow their own rules)
_DUMMY_TEXT_VRS = frozenset({"PN", "LO", "SH", "LT", "ST", "UT", "UC", "DA", "DT", "TM", "AS"})


def normalize_options(options: Iterable[str] | None) -> frozenset[str]:
    """Validate option names (``_`` or ``-``, any case) and return them as a frozenset."""
    out = set()
    for opt in options or ():
        name = str(opt).strip().lower().replace("_", "-")
        if name not in OPTIONS:
            raise FlannotError(f"unknown de-identification option {opt!r} ({', '.join(OPTIONS)})")
        out.add(name)
    if {"modified-dates", "full-dates"} <= out:
        raise FlannotError("choose one of the options modified-dates and full-dates")
    return frozenset(out)


@dataclass
class FileReport:
    """What :func:`deidentify` did to one file (names only, never values)."""

    input: str
    output: str | None
    status: str  # deidentified | skipped | failed
    reason: str = ""
    actions: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    burned_in_risk: str = ""
    burned_in_flagged: bool = False
    uid_remaps: int = 0
    redaction: dict[str, Any] | None = None
    method_codes: list[str] = field(default_factory=list)
    transfer_syntax_uid: str = ""
    table_edition: str = EDITION  # the PS3.15 edition of Table E.1-1 applied

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeidReport:
    """Per-file reports of one :func:`deidentify` call."""

    files: list[FileReport]
    options: list[str]

    @property
    def ok(self) -> bool:
        """No file failed (skipped non-DICOM files are fine)."""
        return all(f.status != "failed" for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "table_edition": EDITION,
            "files": [f.to_dict() for f in self.files],
        }


def _is_well_known_uid(value: str) -> bool:
    return value in UID_dictionary


# decoded before their action is chosen: implicit VR or UN (pydicom takes the VR from its
# dictionary), sequences (parsed within the item budget), UIDs (the value decides)
_DECODE_FIRST = frozenset({None, "UN", "SQ", "UI"})
_SPECIFIC_CHARACTER_SET = 0x00080005  # decoding it sets the data set's character set
# VRs whose value pydicom decodes to numbers or bytes and encodes back to the same bytes,
# by item size (FL/FD are decoded: a float32 signalling NaN would not come back the same)
_BINARY_ITEM = {"OB": 1, "OW": 2, "OD": 8, "OF": 4, "OL": 4, "OV": 8}
_BINARY_ITEM.update({"US": 2, "SS": 2, "UL": 4, "SL": 4, "UV": 8, "SV": 8, "AT": 4})
# LUT descriptors: pydicom changes a negative first value (PS3.3 C.11.1.1.1)
_LUT_DESCRIPTORS = frozenset({0x00281101, 0x00281102, 0x00281103, 0x00283002})
# printable ASCII values with no space at either end (any internal spaces), separated by
# backslashes, with at most one trailing space of padding: pydicom strips the padding,
# splits at the backslashes and writes the same bytes back, in any character set
_TEXT_ITEM = rb"[!-\[\]-~](?:[ -\[\]-~]*[!-\[\]-~])?"
_TEXT_VALUE = re.compile(rb"(?:%s)(?:\\(?:%s))* ?" % (_TEXT_ITEM, _TEXT_ITEM))
_DS_ITEM = rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_IS_ITEM = rb"[+-]?[0-9]+"
_NUMBER_VALUE = {
    "DS": re.compile(rb"(?:%s)(?:\\(?:%s))* ?" % (_DS_ITEM, _DS_ITEM)),
    "IS": re.compile(rb"(?:%s)(?:\\(?:%s))* ?" % (_IS_ITEM, _IS_ITEM)),
}
_TEXT_VRS = frozenset({"AS", "CS", "DA", "DT", "TM", "SH", "LO", "ST", "LT", "UT", "UC"})


def _writes_back_as_read(raw: RawDataElement, vr: str | None, tag: int) -> bool:
    """Whether decoding ``raw`` and encoding it again gives exactly the bytes read.

    Conservative: binary values of whole items, and text or decimal strings that
    pydicom strips of nothing but one space of padding; anything else (other VRs,
    undefined lengths but Pixel Data's, odd lengths, leading spaces, control or
    non-ASCII bytes, NUL padding, empty values between backslashes) is decoded.
    """
    value = raw.value
    if not isinstance(value, bytes):
        return False
    n = len(value)
    if raw.length == 0xFFFFFFFF:  # encapsulated Pixel Data: written back as it is
        return tag == 0x7FE00010 and vr in ("OB", "OW")
    if n != raw.length or n % 2:
        return False
    if n == 0:
        return True
    item = _BINARY_ITEM.get(vr or "")
    if item is not None:
        return n % item == 0 and tag not in _LUT_DESCRIPTORS
    number = _NUMBER_VALUE.get(vr or "")
    if number is not None:
        return number.fullmatch(value) is not None
    if vr in _TEXT_VRS:
        return _TEXT_VALUE.fullmatch(value) is not None
    return False


@functools.cache
def _keyword_of(tag: int) -> str:
    """The keyword of a public tag as :attr:`DataElement.keyword` gives it (``""``: unknown)."""
    return dictionary_keyword(tag) if dictionary_has_tag(tag) else ""


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _keyword(elem: DataElement) -> str:
    return elem.keyword or f"({elem.tag.group:04X},{elem.tag.element:04X})"


def _dummy(elem: DataElement) -> Any:
    vr = elem.VR
    if vr in _DUMMY:
        return _DUMMY[vr]
    return None  # OB/OW/UN...: zero length


class _Cleaner:
    def __init__(self, options: frozenset[str], uid_map: UidMap) -> None:
        self.options = options
        self.uid_map = uid_map
        self.counts: Counter[str] = Counter()
        self.removed: set[str] = set()
        self.uid_remaps = 0
        self.days = uid_map.date_offset_days() if "modified-dates" in options else 0
        self.dates_touched = False

    def _remap(self, elem: DataElement) -> None:
        value = elem.value
        if value is None or value == "":
            return
        if isinstance(value, str):
            elem.value = self.uid_map(value)
            self.uid_remaps += 1
        else:  # multi-valued UI
            elem.value = [self.uid_map(str(v)) for v in value]
            self.uid_remaps += len(elem.value)

    def clean(self, ds: Dataset, dummy: bool = False) -> None:
        """Apply the table to ``ds`` and, recursively, to every sequence item.

        ``dummy``: inside a sequence whose action is D, text values the table does not
        name are replaced by dummies too (a code's value may be a person's ID).

        The action of an element depends on its tag, VR and keyword only (and, for a
        UID, on its value), so elements are looked at as read (raw): an element that
        is removed is never decoded, and one that is kept is written back as read when
        :func:`_writes_back_as_read` shows that decoding and encoding it again would
        give the same bytes (otherwise it is decoded, exactly as before).
        """
        options = self.options
        for tag in list(ds.keys()):
            group = tag.group
            if tag.is_private:
                del ds[tag]
                self.counts["X"] += 1
                self.counts["private"] += 1
                continue
            if (0x5000 <= group <= 0x501E or 0x6000 <= group <= 0x601E) and group % 2 == 0:
                # Curve Data (50xx) and Overlay Data/Comments (60xx) are X; the rest of an
                # overlay group is meaningless without its data, so the group goes.
                del ds[tag]
                self.counts["X"] += 1
                self.removed.add("Curve" if group < 0x6000 else "Overlay")
                continue
            itag = int(tag)
            elem: DataElement | RawDataElement = ds.get_item(tag)
            vr = elem.VR
            if isinstance(elem, RawDataElement) and (
                vr in _DECODE_FIRST or itag == _SPECIFIC_CHARACTER_SET
            ):
                # implicit VR or UN (the VR comes from the dictionary), sequences (parsed
                # within the item budget), UIDs (the value decides): decoded now
                elem = ds[tag]
                vr = elem.VR
            is_seq = vr == "SQ"
            row = TABLE.get(itag) or EXTENSIONS.get(itag)
            if row is not None:
                action = resolve(row.action(options), is_seq, itag)
                if action == "X" and itag in _TYPE_2C_PATIENT:
                    action = "Z"  # required (empty allowed) when the patient is an animal
            elif is_seq:
                action = "R*" if dummy else "R"
            elif dummy and vr in _DUMMY_TEXT_VRS:
                action = "D"
            elif vr == "PN":
                action = "Z"  # beyond the table: a person's name is never kept
            elif vr in ("DA", "DT"):
                # beyond the table (Instance Creation Date, Date of Secondary Capture …):
                # a date reveals the study day; shifted, kept or replaced like the rows
                if "modified-dates" in options:
                    action = "C"
                elif "full-dates" in options:
                    action = "K"
                else:
                    action = "D"
            elif vr == "TM":
                # beyond the table (Contrast/Bolus Start Time, Frame Acquisition times in
                # older dictionaries …): a time of day dates the procedure like a date does
                action = "K" if options & {"modified-dates", "full-dates"} else "D"
            elif vr in _FREE_TEXT_VRS and _keyword_of(itag) not in _SAFE_TEXT:
                # beyond the table: free text (View Name, Image ID, a breed, a comment the
                # standard has not listed yet) can name anyone; emptied, so a Type 2
                # attribute stays valid (PS3.15 E.1: "clean" needs a human)
                action = "Z"
            elif vr == "UI" and "uids" not in options:
                action = "U" if self._has_instance_uid(ds[tag]) else "K"
            elif vr == "AE" or (vr == "UR" and _keyword_of(itag) not in _CODE_URLS):
                # beyond the table: AE titles and URLs (Retrieve URL/AE Title …) name
                # the hospital's hosts and embed the original UIDs
                action = "X"
            elif not _keyword_of(itag) and tag.element != 0:
                # a public attribute newer than pydicom's dictionary (e.g. Name to Use,
                # (0010,0011)): nobody can say it is safe, so it goes
                action = "X"
            else:
                action = ""  # beyond the table and safe: kept (not counted)
            if action in ("K", ""):
                if isinstance(elem, RawDataElement) and not _writes_back_as_read(elem, vr, itag):
                    ds[tag]  # decoded: written as pydicom encodes the value
                if action:
                    self.counts[action] += 1
                continue
            self._apply(ds, tag, vr, action)

    def _has_instance_uid(self, elem: DataElement) -> bool:
        kw = elem.keyword or ""
        if "Class" in kw or "Syntax" in kw or "CodingScheme" in kw:
            return False
        values = [elem.value] if isinstance(elem.value, str) else list(elem.value or [])
        return any(v and not _is_well_known_uid(str(v)) for v in values)

    def _apply(self, ds: Dataset, tag: BaseTag, vr: str | None, action: str) -> None:
        if action == "X":
            del ds[tag]
            self.removed.add(_keyword_of(int(tag)) or _tag_text(int(tag)))
            self.counts[action] += 1
            return
        if action in ("Z", "D") and vr and vr != "SQ" and ds.get_item(tag).is_raw:
            # a new element: the old value is never decoded
            ds[tag] = DataElement(tag, vr, None if action == "Z" else _DUMMY.get(vr))
            self.removed.add(_keyword_of(int(tag)) or _tag_text(int(tag)))
            self.counts[action] += 1
            return
        elem = ds[tag]  # decoded: its value is set or read below
        if action == "Z":
            elem.value = DicomSequence() if vr == "SQ" else None
            self.removed.add(_keyword(elem))
        elif action == "D":
            elem.value = _dummy(elem)
            self.removed.add(_keyword(elem))
        elif action == "U":
            self._remap(elem)
        elif action == "C":
            if vr in ("DA", "DT"):
                elem.value = shift_value(elem.value, vr, self.days)
                self.dates_touched = True
        elif action in ("R", "R*") and vr == "SQ":
            for item in elem.value or []:
                self.clean(item, dummy=action == "R*")
        if action not in ("R", "R*"):
            self.counts[action] += 1


def _method_codes(options: frozenset[str], redacted: bool) -> list:
    found = [_BASIC_CODE]
    if redacted:
        found.append(_CLEAN_PIXEL_CODE)
    found += [_OPTION_CODES[o] for o in OPTIONS if o in options]
    return found


def deidentify_dataset(
    ds: Dataset,
    *,
    options: Iterable[str] = (),
    uid_map: UidMap | None = None,
    redactions: Sequence[Sequence[int | None]] | None = None,
) -> FileReport:
    """De-identify ``ds`` in place (PS3.15 E.1 Basic Profile with the given options).

    Parameters
    ----------
    ds
        A dataset read with :func:`pydicom.dcmread` (it needs its file meta).
    options
        Retain options: ``patient-characteristics``, ``modified-dates``, ``full-dates``,
        ``device-identity``, ``institution-identity``, ``uids``.
    uid_map
        The set's :class:`~flannot.deid.uids.UidMap`; a random one when ``None``.
    redactions
        ``(frame | None, r0, c0, r1, c1)`` rectangles blanked in the pixels.

    Returns
    -------
    FileReport
        Counts of actions and names of removed attributes (``input``/``output`` empty).
    """
    opts = normalize_options(options)
    uid_map = uid_map or UidMap()
    risk = burned_in_risk(ds)
    if not hasattr(ds, "file_meta") or "TransferSyntaxUID" not in ds.file_meta:
        raise FlannotError("DICOM file has no transfer syntax in its file meta")
    for kw, meta_kw in (
        ("SOPClassUID", "MediaStorageSOPClassUID"),
        ("SOPInstanceUID", "MediaStorageSOPInstanceUID"),
    ):
        if not ds.get(kw) and not ds.file_meta.get(meta_kw):
            raise FlannotError(f"DICOM file has no {kw} (neither in the data set nor the meta)")
    # pixels first, while the header still describes them exactly
    red: RedactionResult = redact(ds, redactions or [])
    redacted = bool(red.frames_changed)

    cleaner = _Cleaner(opts, uid_map)
    cleaner.clean(ds)

    ds.PatientIdentityRemoved = "YES"
    method_codes = _method_codes(opts, redacted)
    # LO, VM 1-n: one value per method (each meaning fits LO's 64 characters)
    ds.DeidentificationMethod = [c.meaning for c in method_codes] + [
        f"flannot {_flannot_version()}",
        f"DICOM PS3.15 {EDITION} Table E.1-1",
    ]
    ds.DeidentificationMethodCodeSequence = [_code_item(c) for c in method_codes]
    if "modified-dates" in opts:
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    elif "full-dates" in opts:
        ds.LongitudinalTemporalInformationModified = "UNMODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"
    if redacted:
        ds.BurnedInAnnotation = "NO"

    _rebuild_file_meta(ds, uid_map, opts)
    ds.preamble = b"\x00" * 128  # a dual-format preamble could carry anything
    return FileReport(
        input="",
        output=None,
        status="deidentified",
        actions=dict(sorted(cleaner.counts.items())),
        removed=sorted(cleaner.removed),
        burned_in_risk=risk,
        burned_in_flagged=is_flagged(risk) and not redacted,
        uid_remaps=cleaner.uid_remaps,
        redaction=({"frames": red.frames_changed, "method": red.method} if redacted else None),
        method_codes=[c.value for c in method_codes],
        transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
    )


def _code_item(code: Any) -> Dataset:
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item


def record_clean_pixel_data(ds: Dataset) -> None:
    """Record that burned-in text was blanked in ``ds``'s pixels (Clean Pixel Data Option).

    Sets Burned In Annotation (0028,0301) to NO and adds code 113101 to the
    De-identification Method Code Sequence and its meaning to De-identification Method,
    once.
    """
    ds.BurnedInAnnotation = "NO"
    seq = ds.get("DeidentificationMethodCodeSequence") or DicomSequence()
    if any(getattr(c, "CodeValue", None) == _CLEAN_PIXEL_CODE.value for c in seq):
        return
    seq.append(_code_item(_CLEAN_PIXEL_CODE))
    ds.DeidentificationMethodCodeSequence = seq
    old = ds.get("DeidentificationMethod") or []
    methods = [old] if isinstance(old, str) else list(old)
    ds.DeidentificationMethod = [*methods, _CLEAN_PIXEL_CODE.meaning]


def _flannot_version() -> str:
    from flannot import __version__

    return __version__


def _rebuild_file_meta(ds: Dataset, uid_map: UidMap, opts: frozenset[str]) -> None:
    """Keep only the file meta elements needed; drop AE titles and private meta info."""
    old = ds.file_meta
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", old.get("MediaStorageSOPClassUID"))
    sop_uid = str(ds.get("SOPInstanceUID") or "")
    if not sop_uid:  # U applies to the meta copy as well
        media = str(old.get("MediaStorageSOPInstanceUID", ""))
        sop_uid = media if "uids" in opts else uid_map(media)
    # pydicom types these keyword attributes as UID; a str is what it stores either way
    setattr(meta, "MediaStorageSOPInstanceUID", sop_uid)  # noqa: B010
    meta.TransferSyntaxUID = old.TransferSyntaxUID
    setattr(meta, "ImplementationClassUID", IMPLEMENTATION_CLASS_UID)  # noqa: B010
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta


def dataset_bytes(ds: Dataset) -> bytes:
    """Serialise ``ds`` as a DICOM Part 10 file."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _reason(exc: BaseException) -> str:
    """``Type: message`` of a library exception, without the traceback pydicom embeds in
    some messages ("With tag … got exception: … Traceback (most recent call last): …")."""
    text = str(exc).split("Traceback (most recent call last)")[0].strip()
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}"


def read_dicom_file(path: Path, stop_before_pixels: bool = False) -> Dataset | None:
    """Read a DICOM file; ``None`` when it is not DICOM (no ``DICM`` marker).

    ``stop_before_pixels`` reads the header only (a quick look before copying).

    Raises
    ------
    FlannotError
        When it looks like DICOM but cannot be parsed.
    """
    try:
        with open_regular(path, "DICOM file") as fh:  # a FIFO or device is refused, not read
            head = fh.read(132)
            deflated = len(head) == 132 and is_deflated(fh)
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", path) from None
    if len(head) < 132 or head[128:132] != b"DICM":
        return None
    if deflated:  # pydicom inflates the whole data set at once: bound it first
        check_inflated_size(path, DEFLATED_LIMIT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with item_budget(path):  # undefined-length sequences are parsed right here
                ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except FlannotError:
        raise
    except (InvalidDicomError, Exception) as exc:  # pydicom raises many types
        raise FlannotError(f"unreadable DICOM: {_reason(exc)}", path) from None
    check_raw_items(ds, path)  # the others on first access: refuse before that
    return ds


def deidentify_file(
    inp: Path,
    out: Path,
    *,
    options: frozenset[str],
    uid_map: UidMap,
    redactions: Sequence[Sequence[int | None]] | None = None,
    batch: AtomicBatch | None = None,
) -> FileReport:
    """De-identify one file into ``out`` (atomic write); non-DICOM → ``skipped``.

    With ``batch`` the file is written into the :class:`flannot.atomic.AtomicBatch`
    (in place, durably, when the batch is flushed) instead of fsynced on its own.
    """
    ds = read_dicom_file(inp)
    if ds is None:
        return FileReport(str(inp), None, "skipped", reason="not a DICOM file")
    try:
        # value warnings (pydicom validates each value on first access, the file meta's
        # too): the report says what matters, nothing is printed on top of it
        with warnings.catch_warnings(), item_budget(inp):
            warnings.simplefilter("ignore")
            if str(ds.file_meta.get("MediaStorageSOPClassUID", "")) == _MEDIA_DIRECTORY:
                # a DICOMDIR indexes patients by name and ID and points at the input's
                # file names: there is nothing to de-identify in it, only to rebuild
                return FileReport(
                    str(inp), None, "skipped", reason="DICOMDIR (media index) not copied"
                )
            report = deidentify_dataset(ds, options=options, uid_map=uid_map, redactions=redactions)
    except FlannotError as exc:
        raise FlannotError(exc.reason, exc.path or inp) from None
    except Exception as exc:  # a malformed data set pydicom cannot rewrite
        raise FlannotError(f"cannot de-identify: {_reason(exc)}", inp) from None

    def write(fh: IO[bytes]) -> None:  # serialised straight into the temporary file
        try:
            with warnings.catch_warnings(), item_budget(inp):
                warnings.simplefilter("ignore")
                ds.save_as(fh, enforce_file_format=True)
        except OSError:
            raise
        except Exception as exc:  # a malformed data set pydicom cannot rewrite
            raise _Unwritable(_reason(exc)) from None

    missing = _missing_folders(out.parent)
    try:
        make_dirs(out.parent)  # a folder input may be nested any depth
        if batch is None:
            atomic_write(out, write)
        else:
            batch.write(out, write)
    except _Unwritable as exc:  # nothing was written: the folders made for it go too
        for folder in missing:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise FlannotError(f"cannot de-identify: {exc}", inp) from None
    except OSError as exc:
        raise FlannotError(f"cannot write: {exc.strerror or exc}", out) from None
    report.input, report.output = str(inp), str(out)
    return report


class _Unwritable(Exception):
    """pydicom could not serialise the de-identified data set (the reason)."""


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def deidentify(
    inp: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    options: Iterable[str] = (),
    uid_map: UidMap | None = None,
    secret: bytes | None = None,
    redactions: Sequence[Sequence[int | None]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DeidReport:
    """De-identify a DICOM file or a folder of them (PS3.15 Basic Profile, SPEC §7).

    Parameters
    ----------
    inp
        A DICOM file or a folder (walked recursively; non-DICOM files are skipped and
        reported).
    out
        Output file (for a file input; an existing folder receives ``inp.name``) or
        output folder mirroring the input's structure. Must not be inside ``inp``.
    options
        Retain options (see :func:`deidentify_dataset`).
    uid_map, secret
        UIDs are remapped with ``uid_map`` or a new map keyed by ``secret`` (random
        when both are ``None``: consistent within this call only).
    redactions
        ``(frame | None, r0, c0, r1, c1)`` rectangles to blank; a single-file input only.
    progress
        Called as ``progress(done, total)`` after each file of a folder.

    Returns
    -------
    DeidReport
        One :class:`FileReport` per input file.

    Raises
    ------
    FlannotError
        Missing input, output inside the input folder, unreadable DICOM (single file).
    """
    src, dst = Path(inp), Path(out)
    opts = normalize_options(options)
    uid_map = uid_map or UidMap(secret)
    if not src.exists():
        raise FlannotError("no such file or folder", src)
    if src.is_file():
        if dst.is_dir():
            dst = dst / src.name
        if dst.resolve() == src.resolve():
            raise FlannotError("output would overwrite the input", dst)
        report = deidentify_file(src, dst, options=opts, uid_map=uid_map, redactions=redactions)
        if report.status == "skipped":
            raise FlannotError("not a DICOM file (no DICM marker)", src)
        return DeidReport([report], sorted(opts))
    if redactions:
        raise FlannotError("redactions apply to a single file, not a folder", src)
    src_r, dst_r = src.resolve(), dst.resolve()
    if dst_r == src_r or src_r in dst_r.parents:
        raise FlannotError("output folder must not be inside the input folder", dst)
    if dst.exists() and not dst.is_dir():
        raise FlannotError("output must be a folder for a folder input", dst)
    reports: list[FileReport] = []
    paths = walk_files(src)  # no recursion: any depth of folders; no symlink followed
    # atomic per file, made durable a batch at a time (one sync, one fsync a folder)
    batch = AtomicBatch()
    try:
        for i, path in enumerate(paths, 1):
            rel = path.relative_to(src)
            try:
                reports.append(
                    deidentify_file(path, dst / rel, options=opts, uid_map=uid_map, batch=batch)
                )
            except FlannotError as exc:
                reports.append(FileReport(str(path), None, "failed", reason=exc.reason))
            if progress is not None:
                progress(i, len(paths))
        batch.flush()
    except OSError as exc:  # the batch's sync failed: nothing unflushed was moved in
        batch.discard()
        raise FlannotError(f"cannot write: {exc.strerror or exc}", dst) from None
    except BaseException:
        batch.discard()
        raise
    for report in reports:  # a rename refused at a flush: that file was not written
        refused = batch.failed.get(Path(report.output)) if report.output else None
        if refused is not None:
            report.status, report.output = "failed", None
            report.reason = f"cannot write: {refused.strerror or refused}"
    return DeidReport(reports, sorted(opts))
