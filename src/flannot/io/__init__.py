"""Reading fluoroscopy DICOM: :func:`read_dicom` → :class:`FluoroImage` (lazy frames).

See ``docs/architecture.md`` for the interface and ``docs/calibration.md`` for
what the calibration values mean.
"""

from flannot.io.calibration import Calibration
from flannot.io.image import FluoroImage
from flannot.io.reader import read_dicom
from flannot.io.windows import Window

__all__ = ["Calibration", "FluoroImage", "Window", "read_dicom"]
