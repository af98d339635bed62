"""MLflow's model files for a scikit-learn model the shim saved: ``MLmodel`` and its environment.

Next to trackreport's ``model.json`` and model file, ``mlflow.sklearn.log_model``
writes what MLflow writes, so the folder is also a valid MLflow model:
``MLmodel`` (flavors ``python_function`` and ``sklearn``, signature, input
example info), ``input_example.json`` and ``serving_input_example.json`` when an
example is given, and ``requirements.txt``, ``python_env.yaml``, ``conda.yaml``.
MLflow's ``mlflow.pyfunc.load_model`` reads such a folder.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import uuid
from typing import Any

from .. import artifacts
from ..store import Store

# numpy dtype -> MLflow column type (mlflow.types.DataType)
_COLUMN_TYPES = {"float64": "double", "float32": "float", "int64": "long", "int32": "integer",
                 "bool": "boolean", "object": "string", "str": "string",
                 "bytes": "binary", "datetime64[ns]": "datetime"}
_MODEL_FILES = {"skops": "skops", "pickle": "pickle"}  # our format -> MLflow's serialization_format


def mlflow_schema(described: dict[str, Any] | None) -> str | None:
    """A signature part as MLflow's JSON text, from trackreport's description of data."""
    if not isinstance(described, dict) or not described:
        return None
    if described.get("type") == "dataframe":
        return json.dumps([{"type": _COLUMN_TYPES.get(c["dtype"], "string"), "name": c["name"],
                            "required": True} for c in described["columns"]])
    return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": described["dtype"],
                                                          "shape": described["shape"]}}])


def _example_files(described: dict[str, Any], example: Any) -> tuple[dict[str, Any],
                                                                       dict[str, Any],
                                                                       dict[str, Any]]:
    """(saved_input_example_info, input_example.json, serving_input_example.json)."""
    if described.get("type") == "dataframe":
        if isinstance(example, dict) and "columns" not in example:  # a mapping of columns
            columns = list(example)
            example = {"columns": columns, "data": [list(r) for r in zip(*example.values(),
                                                                         strict=False)]}
        info = {"artifact_path": "input_example.json", "pandas_orient": "split",
                "serving_input_path": "serving_input_example.json", "type": "dataframe"}
        return info, example, {"dataframe_split": example}
    info = {"artifact_path": "input_example.json",
            "serving_input_path": "serving_input_example.json", "type": "ndarray"}
    return info, example, {"inputs": example}


def _dump_yaml(data: dict[str, Any]) -> bytes:
    """YAML as MLflow writes it (JSON, which is YAML too, when PyYAML is not installed)."""
    try:
        import yaml
    except ImportError:
        return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True).encode()


def write_mlmodel(store: Store, run_id: str, path: str, meta: dict[str, Any],
                  signature: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Write MLflow's files for the model at ``path`` (saved as ``meta`` says); artifact events.

    ``meta`` is the model's ``model.json`` (format, model_file, libraries,
    input_example); ``signature`` is ``{"inputs": ..., "outputs": ...}`` in
    trackreport's description of data (either may be None).
    """
    fmt = meta["format"]
    model_file = meta["model_file"]
    libraries: dict[str, str] = meta.get("libraries") or {}
    sklearn_conf: dict[str, Any] = {
        "code": None, "pickled_model": model_file,
        "serialization_format": _MODEL_FILES[fmt],
        "sklearn_version": libraries.get("scikit-learn")}
    if fmt == "skops":
        sklearn_conf["skops_trusted_types"] = meta.get("untrusted_types") or None
    size = sum(int(f.get("size") or 0) for f in meta.get("files") or [])
    mlmodel: dict[str, Any] = {
        "artifact_path": path,
        "flavors": {
            "python_function": {
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn", "model_path": model_file,
                "predict_fn": "predict", "python_version": platform.python_version()},
            "sklearn": sklearn_conf},
        "model_size_bytes": size,
        "model_uuid": uuid.uuid4().hex,
        "run_id": run_id,
        "utc_time_created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    out = []
    inputs = (signature or {}).get("inputs")
    if inputs:
        mlmodel["signature"] = {"inputs": mlflow_schema(inputs),
                                "outputs": mlflow_schema((signature or {}).get("outputs")),
                                "params": None}
    example = meta.get("input_example")
    described = meta.get("signature")
    if example is not None and described:
        info, saved, serving = _example_files(described, example)
        mlmodel["saved_input_example_info"] = info
        for name, data in (("input_example.json", saved),
                           ("serving_input_example.json", serving)):
            out.append(artifacts.put_bytes(store, run_id, json.dumps(data, indent=2).encode(),
                                           f"{path}/{name}"))
    requirements = ["mlflow", *(f"{k}=={v}" for k, v in sorted(libraries.items()))]
    python_env = {"python": platform.python_version(), "build_dependencies": ["pip"],
                  "dependencies": ["-r requirements.txt"]}
    conda = {"channels": ["conda-forge"], "name": "mlflow-env",
             "dependencies": [f"python={platform.python_version()}", "pip",
                              {"pip": requirements}]}
    for name, data in (("MLmodel", _dump_yaml(mlmodel)),
                       ("requirements.txt", ("\n".join(requirements) + "\n").encode()),
                       ("python_env.yaml", _dump_yaml(python_env)),
                       ("conda.yaml", _dump_yaml(conda))):
        out.append(artifacts.put_bytes(store, run_id, data, f"{path}/{name}"))
    return out
