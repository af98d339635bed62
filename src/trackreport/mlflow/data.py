"""``mlflow.data``: datasets for ``log_input`` (name, digest, schema, row count)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..models import describe_input


class Dataset:
    """A dataset description: what ``log_input`` records on the run."""

    def __init__(self, data: Any, name: str | None, digest: str | None, source: Any,
                 targets: str | None, source_type: str) -> None:
        self.name = name or "dataset"
        self._data = data
        self.targets = targets
        self.source_type = source_type
        self.source = source
        signature, _ = describe_input(data)
        self.schema = signature
        self.num_rows = len(data) if hasattr(data, "__len__") else None
        self.digest = digest or _digest(data)

    @property
    def profile(self) -> dict[str, Any]:
        """Row count, as MLflow's profile."""
        return {"num_rows": self.num_rows}

    def to_record(self) -> dict[str, Any]:
        """The fields of the run's ``dataset`` event."""
        return {"name": self.name, "digest": self.digest, "source_type": self.source_type,
                "source": json.dumps({"source": str(self.source)} if self.source else {}),
                "schema": self.schema, "rows": self.num_rows, "targets": self.targets}

    def to_dict(self) -> dict[str, Any]:
        """MLflow's dict form of a dataset."""
        return {"name": self.name, "digest": self.digest, "source_type": self.source_type,
                "source": str(self.source or ""), "schema": json.dumps(self.schema),
                "profile": json.dumps(self.profile)}


def _digest(data: Any) -> str:
    h = hashlib.sha256()
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):
        import pandas as pd

        h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
        h.update(",".join(map(str, data.columns)).encode())
    else:
        import numpy as np

        array = np.ascontiguousarray(np.asarray(data))
        h.update(str(array.dtype).encode() + str(array.shape).encode())
        h.update(array.tobytes() if array.dtype != object else repr(array.tolist()).encode())
    return h.hexdigest()[:8]


def from_pandas(df: Any, source: Any = None, targets: str | None = None,
                name: str | None = None, digest: str | None = None, **kwargs: Any) -> Dataset:
    """A dataset from a pandas DataFrame."""
    return Dataset(df, name, digest, source, targets, "code")


def from_numpy(features: Any, source: Any = None, targets: Any = None,
               name: str | None = None, digest: str | None = None, **kwargs: Any) -> Dataset:
    """A dataset from a numpy array (``targets``, an array, is not part of the record)."""
    return Dataset(features, name, digest, source, None, "code")


__all__ = ["Dataset", "from_numpy", "from_pandas"]
