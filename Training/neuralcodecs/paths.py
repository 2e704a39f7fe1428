"""Where things are, relative to the repository root (Training/..)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"  # read in place, never copied into the repository
CODECS = REPO / "Codecs"
RUNS = REPO / "Training" / "runs"
EXPORTS = REPO / "Training" / "exports"  # exports that do not replace a released model (ignored by git)
