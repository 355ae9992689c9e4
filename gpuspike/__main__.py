"""``python -m gpuspike``: the ``gpuspike`` command."""
import sys

from .cli import main

sys.exit(main())
