"""The exceptions trackreport raises: one hierarchy rooted at TrackreportError."""

from __future__ import annotations


class TrackreportError(Exception):
    """Base class of every error trackreport raises on purpose."""


class InvalidKeyError(TrackreportError, ValueError):
    """A key, name or artifact path is empty, too long, or contains forbidden characters."""


class InvalidValueError(TrackreportError, ValueError):
    """A value cannot be logged (a non-numeric metric, a negative step, ...)."""


class InvalidMetricTypeError(TrackreportError, TypeError):
    """A metric value or step has the wrong type."""


class ParamChangedError(TrackreportError, ValueError):
    """A param was logged again with a different value."""


class NoActiveRunError(TrackreportError, RuntimeError):
    """A logging call was made while no run is active."""


class RunNotFoundError(TrackreportError, LookupError):
    """No run with the given id exists in the store."""


class StoreFormatError(TrackreportError):
    """The store is missing, is not a trackreport store, or has a newer format."""


class UnsupportedStoreError(StoreFormatError, ValueError):
    """The store location is a URL this installation cannot use (fsspec or s3fs missing)."""


class StoreUnavailableError(TrackreportError, OSError):
    """An object store cannot be used: its endpoint does not answer, or its bucket is missing."""


class StoreReadError(TrackreportError):
    """A file of the store cannot be read (permissions, I/O error); the message names it."""


class FilterSyntaxError(TrackreportError, ValueError):
    """A runs filter could not be parsed; the message points at the bad token."""


class ArtifactError(TrackreportError, ValueError):
    """An artifact cannot be logged (missing file, path escaping the run, ...)."""


class BuildError(TrackreportError):
    """The site cannot be built (bad --out, unknown theme, ...)."""


class ModelNotFoundError(TrackreportError, LookupError):
    """No model at a runs:/ or models:/ URI (unknown run, model, version or alias)."""


class UntrustedModelError(TrackreportError):
    """A skops model holds types that were not trusted; pass them in ``trusted=[...]``."""


class ModelFlavorError(TrackreportError, TypeError):
    """A model cannot be saved by any flavor (or an unknown flavor was asked for)."""
