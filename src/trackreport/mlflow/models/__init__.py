"""``mlflow.models``: signatures and model info."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .signature import ModelSignature, infer_signature


@dataclass
class ModelInfo:
    """What ``log_model`` returns: ``model_uri`` loads it back."""

    model_uri: str
    run_id: str
    artifact_path: str
    flavors: dict[str, Any]
    signature: Any = None
    registered_model_version: int | None = None

    @property
    def name(self) -> str:
        """The model's path in the run (MLflow 3's name)."""
        return self.artifact_path


def set_signature(model_uri: str, signature: ModelSignature) -> None:
    """Not supported: trackreport records the signature when the model is logged."""
    from ..exceptions import MlflowException

    raise MlflowException("mlflow.models.set_signature is not supported by trackreport "
                          "(pass input_example= to log_model)", error_code="NOT_IMPLEMENTED")


__all__ = ["ModelInfo", "ModelSignature", "infer_signature", "set_signature"]
