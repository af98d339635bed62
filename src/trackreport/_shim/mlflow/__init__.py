"""The ``mlflow`` name under ``trackreport run``: this folder is put first on PYTHONPATH.

It makes ``import mlflow`` (and ``mlflow.sklearn``, ``mlflow.tracking``, ...)
the ``trackreport.mlflow`` package, which logs into the trackreport store.
"""

import sys

try:
    import trackreport.mlflow as _mlflow
except ImportError as _exc:  # pragma: no cover - another interpreter without trackreport
    raise ImportError(
        "trackreport run: this Python cannot import trackreport "
        f"({_exc}); install trackreport in the environment that runs the program"
    ) from _exc

_PREFIX = "trackreport.mlflow"
for _name, _module in list(sys.modules.items()):
    if _name.startswith(_PREFIX + "."):
        sys.modules["mlflow" + _name[len(_PREFIX):]] = _module
sys.modules["mlflow"] = _mlflow
