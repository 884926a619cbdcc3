"""Makes the in-tree package importable: python/ goes on sys.path (integr8 is not installed)."""

import pathlib
import sys

_PYTHON_DIR = pathlib.Path(__file__).resolve().parents[2] / "python"
if str(_PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(_PYTHON_DIR))
