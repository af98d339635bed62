"""``mlflow.pyfunc``: load a logged model and call ``predict``."""

from __future__ import annotations

from typing import Any

from .. import fluent
from . import _fluent
from .exceptions import translated
from .models import ModelInfo


class PythonModel:
    """Base class of custom models: override ``predict(context, model_input)``."""

    def load_context(self, context: Any) -> None:
        """Called once after loading (nothing to do by default)."""

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        """Override: the model's prediction."""
        raise NotImplementedError


class PyFuncModel:
    """A loaded model with MLflow's ``predict(data)``."""

    def __init__(self, model: Any, uri: str) -> None:
        self._model = model
        self.model_uri = uri

    def predict(self, data: Any, params: Any = None) -> Any:
        """The model's predictions for ``data``."""
        if isinstance(self._model, PythonModel):
            return self._model.predict(None, data)
        return self._model.predict(data)

    def unwrap_python_model(self) -> Any:
        """The underlying model object."""
        return self._model


@translated
def load_model(model_uri: str, suppress_warnings: bool = False, dst_path: str | None = None,
               **kwargs: Any) -> PyFuncModel:
    """Load the model at ``runs:/...`` or ``models:/...`` (pickles run code: trusted stores)."""
    model = fluent.load_model(model_uri)
    if isinstance(model, PythonModel):
        model.load_context(None)
    return PyFuncModel(model, model_uri)


@translated
def log_model(artifact_path: str | None = None, python_model: Any = None, *,
              name: str | None = None, input_example: Any = None,
              registered_model_name: str | None = None, **kwargs: Any) -> ModelInfo:
    """Save a ``PythonModel`` (pickled) with the active run."""
    path = name or artifact_path or "model"
    run = _fluent._active()
    info = run.log_model(python_model, path, input_example=input_example, flavor="pickle")
    version = None
    if registered_model_name:
        version = fluent.register_model(info.model_uri, registered_model_name).version
    return ModelInfo(info.model_uri, run.id, info.artifact_path,
                     {"python_function": {}}, None, version)
