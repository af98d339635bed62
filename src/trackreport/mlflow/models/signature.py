"""``mlflow.models.signature``: ``infer_signature`` and ``ModelSignature``."""

from __future__ import annotations

from typing import Any

from ...models import describe_input


class ModelSignature:
    """The input (and output) description of a model, as trackreport records it."""

    def __init__(self, inputs: Any = None, outputs: Any = None, params: Any = None) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.params = params

    def to_dict(self) -> dict[str, Any]:
        """The signature as a dict (inputs, outputs)."""
        return {"inputs": self.inputs, "outputs": self.outputs}

    def __repr__(self) -> str:
        return f"ModelSignature(inputs={self.inputs!r}, outputs={self.outputs!r})"


def _describe(data: Any) -> Any:
    if data is None:
        return None
    if type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "to_frame") \
            and not hasattr(data, "columns"):
        data = data.to_frame()
    return describe_input(data)[0]


def infer_signature(model_input: Any = None, model_output: Any = None,
                    params: Any = None) -> ModelSignature:
    """Describe a model's input and output from examples (DataFrame, array, list, dict)."""
    return ModelSignature(_describe(model_input), _describe(model_output), params)
