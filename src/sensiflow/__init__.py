"""sensiflow: how much does each input move a trained network's output, locally and globally."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sensiflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from sensiflow.errors import SensiflowError

__all__ = ["SensiflowError", "__version__"]
