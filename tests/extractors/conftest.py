"""Real acquisition headers (SpikeGLX .meta, Open Ephys settings.xml / structure.oebin).

They live outside the repository: ``$GPUSPIKE_REAL_DATA``, default ``<repo>/../shared/data/real``;
the ``real_data`` fixture of tests/conftest.py finds them (skips without them, fails under CI).
Tests copy a header into ``tmp_path`` and write the binary file beside it; they never copy the
headers into the repository.
"""
