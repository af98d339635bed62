"""MLflow's entity classes (``mlflow.entities``): plain records built from trackreport's."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Metric:
    """One metric value: ``timestamp`` in milliseconds, as in MLflow."""

    key: str
    value: float
    timestamp: int = field(default_factory=lambda: int(time.time() * 1000))
    step: int = 0


@dataclass
class Param:
    """One param (MLflow keeps params as text)."""

    key: str
    value: str


@dataclass
class RunTag:
    """One tag."""

    key: str
    value: str


@dataclass
class ExperimentTag:
    """One experiment tag."""

    key: str
    value: str


class ViewType:
    """Which runs or experiments a search returns (trackreport has no deleted ones)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3


class LifecycleStage:
    """Lifecycle stages: every trackreport run and experiment is active."""

    ACTIVE = "active"
    DELETED = "deleted"


class RunStatus:
    """Run status names (MLflow's, which trackreport uses too)."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @staticmethod
    def to_string(status: Any) -> str:
        """The status name (it already is one)."""
        return str(status)

    @staticmethod
    def is_terminated(status: str) -> bool:
        """True for FINISHED, FAILED and KILLED."""
        return status in ("FINISHED", "FAILED", "KILLED")


@dataclass
class Experiment:
    """An experiment, MLflow-shaped: ``experiment_id`` is a stable string."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass
class RunInfo:
    """A run's identity and lifecycle (times in milliseconds)."""

    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    user_id: str = ""
    lifecycle_stage: str = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:
        """MLflow's older name of ``run_id``."""
        return self.run_id


@dataclass
class RunData:
    """A run's params (text), latest metric values, and tags (system tags included)."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Dataset:
    """A dataset logged with ``log_input``."""

    name: str
    digest: str
    source_type: str = "code"
    source: str = "{}"
    schema: str | None = None
    profile: str | None = None


@dataclass
class InputTag:
    """A tag of a dataset input (e.g. ``mlflow.data.context``)."""

    key: str
    value: str


@dataclass
class DatasetInput:
    """A dataset and the tags under which a run used it."""

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass
class RunInputs:
    """The datasets a run used."""

    dataset_inputs: list[DatasetInput] = field(default_factory=list)


@dataclass
class Run:
    """A run as MLflow's ``get_run`` returns it: ``.info``, ``.data`` and ``.inputs``."""

    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
