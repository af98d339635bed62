"""MLflow's exception names, raised by the ``trackreport.mlflow`` shim."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import TrackreportError

F = TypeVar("F", bound=Callable[..., Any])


class MlflowException(TrackreportError):
    """An error of the MLflow-compatible API (a TrackreportError, as MLflow scripts catch it)."""

    def __init__(self, message: object, error_code: str = "INTERNAL_ERROR",
                 **kwargs: Any) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.error_code = error_code

    @classmethod
    def invalid_parameter_value(cls, message: str, **kwargs: Any) -> MlflowException:
        """MLflow's constructor for a bad argument."""
        return cls(message, error_code="INVALID_PARAMETER_VALUE")


class RestException(MlflowException):
    """Never raised by trackreport (no server); importable for ``except`` clauses."""


class ExecutionException(MlflowException):
    """Never raised by trackreport; importable for ``except`` clauses."""


class MissingConfigException(MlflowException):
    """Never raised by trackreport; importable for ``except`` clauses."""


def translated(func: F) -> F:
    """Re-raise trackreport's own errors as MlflowException (MLflow scripts catch that)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MlflowException:
            raise
        except TrackreportError as exc:
            code = "RESOURCE_DOES_NOT_EXIST" if isinstance(exc, LookupError) else (
                "INVALID_PARAMETER_VALUE" if isinstance(exc, ValueError) else "INTERNAL_ERROR")
            raise MlflowException(str(exc), error_code=code) from exc

    return wrapper  # type: ignore[return-value]


def unsupported(name: str) -> Callable[..., Any]:
    """A stand-in for an MLflow function trackreport does not provide: calling it raises."""

    def stub(*args: Any, **kwargs: Any) -> Any:
        raise MlflowException(f"mlflow.{name} is not supported by trackreport "
                              "(see README: Run an MLflow script unchanged)",
                              error_code="NOT_IMPLEMENTED")

    stub.__name__ = name.rsplit(".", 1)[-1]
    stub.__doc__ = "Not supported by trackreport: raises MlflowException."
    return stub
