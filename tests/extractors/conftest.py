"""Real acquisition headers (SpikeGLX .meta, Open Ephys settings.xml / structure.oebin).

They live outside the repository: ``$GPUSPIKE_REAL_DATA``, default ``<repo>/../shared/data/real``.
Tests copy a header into ``tmp_path`` and write the binary file beside it; they never copy the
headers into the repository.
"""
import os
from pathlib import Path

import pytest


def real_data_root() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
    return Path(os.environ.get("GPUSPIKE_REAL_DATA", str(default))).resolve()


@pytest.fixture(scope="session")
def real_data_session() -> Path:
    """The real headers' folder, for module- and session-scoped fixtures."""
    root = real_data_root()
    if not (root / "spikeglx").is_dir() or not (root / "openephys").is_dir():
        pytest.skip(f"real header files not found at {root} (set GPUSPIKE_REAL_DATA to the folder holding "
                    f"spikeglx/ and openephys/)")
    return root


@pytest.fixture
def real_data(real_data_session) -> Path:
    return real_data_session
