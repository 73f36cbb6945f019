"""Fuzzing with hypothesis: a short run in the suite, a long campaign with ``make fuzz``.

``FLANNOT_FUZZ=campaign`` (what ``make fuzz`` sets) runs thousands of examples per
property; the default ``ci`` profile keeps the whole folder well under 30 s.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=15,
    deadline=None,
    derandomize=True,  # the suite stays deterministic; campaigns explore
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "campaign",
    max_examples=int(os.environ.get("FLANNOT_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("FLANNOT_FUZZ", "ci"))
