"""The registry pages of the site: ``models/index.html`` and ``models/<slug>/index.html``.

Everything comes from registry events and each version's ``model.json``: the
build never loads or unpickles a model. Model folder names are slugs
(``urls.slugify``) registered in name order, so they are stable across builds.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ..models import MODEL_JSON
from ..registry import ModelVersion, RegisteredModel, aliases_by_experiment, read_registry
from ..store import Store
from . import format as fmt
from .notes import first_paragraph, render_markdown
from .pages import (
    Fact,
    KeyValue,
    Link,
    ModelCard,
    ModelFile,
    ModelPage,
    ModelsPage,
    ModelVersionRow,
    RunModel,
    ShippedModel,
)
from .previews import COPY_LIMIT, site_path_of
from .urls import SlugRegistry, relative, slugify

INDEX = "models/index.html"
SHIP_ALIASES = ("champion", "production", "prod")
"""Aliases that name the shipped version, in order of preference."""

_FORMAT_WORDS = {"skops": "scikit-learn, skops", "joblib": "scikit-learn, joblib",
                 "pickle": "Python pickle", "files": "folder of files"}


@dataclass
class RunInfo:
    """What a registry page needs of a source run (from the build's run summaries)."""

    name: str
    experiment: str
    page: str  # site path of its page
    metric_key: str | None
    metric_value: float | None
    goal: str | None
    metric_text: str = ""  # 'Validation ROC AUC 99.5 %': the metric's label and format


def metric_text(key: str | None, value: float | None, info: Any = None) -> str:
    """A metric in words ('' without a value): its label and formatted value, or 'key 0.91'.

    ``info`` is the metric's ``story.MetricInfo`` (label, ``value()`` formatting), if known.
    """
    if not key or value is None:
        return ""
    return f"{info.label} {info.value(value)}" if info else f"{key} {fmt.number(value)}"


def run_infos(summaries: list[Any], primary_of: Callable[[str, list[Any]], str | None],
              goal_of: Callable[[str, str], str | None],
              info_of: Callable[[str, str], Any] | None = None) -> dict[str, RunInfo]:
    """RunInfo by run id from the build's run summaries (primary metric per experiment).

    ``info_of(key, experiment)`` gives a metric's label and format (``story.MetricInfo``).
    """
    by_experiment: dict[str, list[Any]] = {}
    for s in summaries:
        by_experiment.setdefault(s.experiment, []).append(s)
    keys = {name: primary_of(name, runs) for name, runs in by_experiment.items()}
    out = {}
    for s in summaries:
        key = keys.get(s.experiment)
        info = info_of(key, s.experiment) if info_of and key else None
        out[s.run_id] = RunInfo(name=s.name, experiment=s.experiment, page=s.page,
                                metric_key=key, metric_value=s.value(key),
                                goal=goal_of(key, s.experiment) if key else None,
                                metric_text=metric_text(key, s.value(key), info))
    return out


def flavor_words(meta: dict[str, Any]) -> str:
    """'scikit-learn, skops' and the like, from a model event or model.json."""
    fmt_ = str(meta.get("format") or "")
    return _FORMAT_WORDS.get(fmt_, str(meta.get("flavor") or fmt_ or "unknown"))


def signature_rows(signature: Any) -> list[KeyValue]:
    """A signature (model.json) as rows: column -> dtype, or 'array' -> shape and dtype."""
    if not isinstance(signature, dict):
        return []
    if signature.get("type") == "dataframe":
        return [KeyValue(str(c.get("name")), str(c.get("dtype")))
                for c in signature.get("columns") or [] if isinstance(c, dict)]
    if signature.get("type") == "array":
        shape = " × ".join("any" if d == -1 else str(d) for d in signature.get("shape") or [])
        return [KeyValue("array", f"{signature.get('dtype')}" + (f", shape {shape}"
                                                                  if shape else ""))]
    return []


class RegistryPages:
    """Builds the registry pages and the run pages' model sections."""

    def __init__(self, store: Store, base: Callable[..., dict[str, Any]],
                 render: Callable[[Any], None], run_page_of: Callable[[str], str | None],
                 site_has: Callable[[str], bool]) -> None:
        self.store = store
        self.base = base
        self.render = render
        self.run_page_of = run_page_of
        self.site_has = site_has
        """Whether the site being built holds a file (site path)."""
        self.models = read_registry(store)
        self.slug = SlugRegistry(slugify)
        for name in sorted(self.models):
            self.slug(name)
        self._by_experiment: dict[str, list[tuple[str, str, ModelVersion]]] | None = None
        self.by_source: dict[tuple[str, str], list[tuple[RegisteredModel, ModelVersion]]] = {}
        for name in sorted(self.models):
            for version in self.models[name].versions:
                self.by_source.setdefault((version.run_id, version.path), []).append(
                    (self.models[name], version))

    def page_of(self, name: str) -> str:
        """Site path of a model's page."""
        return f"models/{self.slug(name)}/index.html"

    # the run page ------------------------------------------------------------------
    def run_models(self, run_id: str, logged: list[dict[str, Any]], page: str) -> list[RunModel]:
        """The model section of a run page: signature and 'registered as churn v3 (champion)'."""
        out = []
        seen = {}
        for event in logged:
            path = event.get("path")
            if isinstance(path, str):
                seen[path] = event  # the last save of a path wins
        for path in sorted(seen):
            event = seen[path]
            registered = []
            for model, version in self.by_source.get((run_id, path), []):
                aliases = f" ({', '.join(version.aliases)})" if version.aliases else ""
                registered.append(Link(f"registered as {model.name} v{version.version}{aliases}",
                                       relative(self.page_of(model.name), page)
                                       + f"#v{version.version}"))
            out.append(RunModel(path=path, flavor=flavor_words(event),
                                model_class=str(event.get("model_class") or ""),
                                signature=signature_rows(event.get("signature")),
                                registered=registered, uri=f"runs:/{run_id}/{path}"))
        return out

    # the index and experiment pages -------------------------------------------------
    def ships(self, experiment: str, page: str, summaries: list[Any]) -> list[ShippedModel]:
        """The model versions of ``experiment`` that hold an alias, for the page at ``page``.

        One entry per version (its aliases together), the shipping ones (champion,
        production) first, then by model name and version; ``summaries`` are the
        build's run summaries (name and page of the source runs).
        """
        if self._by_experiment is None:
            self._by_experiment = aliases_by_experiment(self.store)
        grouped: dict[tuple[str, int], list[str]] = {}
        versions: dict[tuple[str, int], ModelVersion] = {}
        for name, alias, version in self._by_experiment.get(experiment, []):
            grouped.setdefault((name, version.version), []).append(alias)
            versions[(name, version.version)] = version
        if not grouped:
            return []
        runs = {s.run_id: s for s in summaries}

        def order(item: tuple[tuple[str, int], list[str]]) -> tuple[bool, str, int]:
            (name, number), aliases = item
            return not any(a in SHIP_ALIASES for a in aliases), name, -number

        out = []
        for (name, number), aliases in sorted(grouped.items(), key=order):
            version = versions[(name, number)]
            aliases = sorted(aliases, key=lambda a: (a not in SHIP_ALIASES,
                                                     SHIP_ALIASES.index(a)
                                                     if a in SHIP_ALIASES else 0, a))
            run = runs.get(version.run_id)
            out.append(ShippedModel(
                lead="Ships" if aliases[0] in SHIP_ALIASES else "Registered",
                model=Link(f"{name} version {number}",
                           relative(self.page_of(name), page) + f"#v{number}"),
                aliases=", ".join(aliases),
                run=Link(run.name, relative(run.page, page)) if run
                else Link(version.run_id, "")))
        return out

    # the registry pages ------------------------------------------------------------
    def build(self, runs: dict[str, RunInfo]) -> None:
        """Write models/index.html and one page per registered model."""
        cards = []
        for name in sorted(self.models):
            model = self.models[name]
            sentence = self.sentence(model, runs)
            cards.append(ModelCard(
                name=name, url=relative(self.page_of(name), INDEX), sentence=sentence,
                description=first_paragraph(model.description),
                latest=f"version {model.latest_version}",
                aliases=[KeyValue(a, f"version {v}") for a, v in model.aliases.items()],
                registered=fmt.date_time(model.versions[-1].created)))
            self.model_page(model, runs, sentence)
        count = len(cards)
        summary = (f"{fmt.plural(count, 'registered model')}." if count else
                   "No models registered yet. Save one with tr.log_model(model, \"model\") "
                   "and register it with tr.register_model(\"runs:/<run_id>/model\", \"name\").")
        self.render(ModelsPage(
            **self.base("models.html", "models", INDEX, "Models", "Models",
                        [("All experiments", "index.html"), ("Models", "")]),
            summary=summary, models=cards))

    @staticmethod
    def shipped(model: RegisteredModel) -> tuple[str | None, ModelVersion]:
        """(alias, version) of the version that ships: a champion-like alias, else the latest."""
        for alias in (*SHIP_ALIASES, *model.aliases):
            if alias in model.aliases:
                return alias, model.version(model.aliases[alias])
        return None, model.versions[-1]

    def sentence(self, model: RegisteredModel, runs: dict[str, RunInfo]) -> str:
        """'churn: version 3 ships (alias champion since 2026-11-28), from run rf-300 (...)'."""
        alias, version = self.shipped(model)
        run = runs.get(version.run_id)
        source = f"from run {run.name}" if run else f"from run {version.run_id} (not in the store)"
        if run and run.metric_text:
            source += f" ({run.metric_text})"
        if alias is None:
            return (f"{model.name}: the latest is version {version.version}, registered "
                    f"{fmt.date(version.created)}, {source}; no alias names a version to ship.")
        since = fmt.date(model.alias_since(alias))
        if alias in SHIP_ALIASES:
            return (f"{model.name}: version {version.version} ships (alias {alias} since "
                    f"{since}), {source}.")
        return (f"{model.name}: version {version.version} holds the alias {alias} (since "
                f"{since}), {source}; no alias names a version to ship.")

    def model_page(self, model: RegisteredModel, runs: dict[str, RunInfo], sentence: str
                   ) -> None:
        path = self.page_of(model.name)
        alias, shipped = self.shipped(model)
        ref = f"@{alias}" if alias else f"/{shipped.version}"
        rows = []
        for version in reversed(model.versions):
            rows.append(self.version_row(model, version, runs, path))
        self.render(ModelPage(
            **self.base("model.html", "model", path, model.name, model.name,
                        [("All experiments", "index.html"), ("Models", INDEX),
                         (model.name, "")]),
            name=model.name, sentence=sentence,
            description=render_markdown(model.description),
            tags=[KeyValue(k, v) for k, v in sorted(model.tags.items())],
            aliases=[Fact(a, f"version {v}",
                          url=f"#v{v}", detail=f"since {fmt.date_time(model.alias_since(a))}")
                     for a, v in model.aliases.items()],
            snippet=_snippet(model.name, ref), versions=rows))

    def version_row(self, model: RegisteredModel, version: ModelVersion,
                    runs: dict[str, RunInfo], page: str) -> ModelVersionRow:
        run = runs.get(version.run_id)
        meta = self.model_json(version)
        metric = metric_sort = delta = delta_css = ""
        if run and run.metric_key and run.metric_value is not None:
            metric = run.metric_text
            metric_sort = fmt.plain_number(run.metric_value)
            previous = self.previous_champion(model, version)
            prev_run = runs.get(previous.run_id) if previous else None
            if (previous is not None and prev_run is not None
                    and prev_run.metric_key == run.metric_key
                    and prev_run.metric_value is not None):
                delta, delta_css = _delta(run.metric_value, prev_run.metric_value, run.goal,
                                          previous.version)
        files = []
        run_page = self.run_page_of(version.run_id)
        for item in meta.get("files") or []:
            if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                continue
            files.append(self.model_file(version, item["path"], item.get("size"), run_page, page))
        if meta:
            files.append(self.model_file(version, MODEL_JSON, None, run_page, page))
        return ModelVersionRow(
            version=version.version, anchor=f"v{version.version}", aliases=version.aliases,
            registered=fmt.date_time(version.created),
            run=Link(run.name, relative(run.page, page)) if run else None,
            source=version.source, experiment=run.experiment if run else "",
            metric=metric, metric_sort=metric_sort, delta=delta, delta_css=delta_css,
            flavor=flavor_words(meta) if meta else "model.json missing",
            description=version.description,
            tags=[KeyValue(k, v) for k, v in sorted(version.tags.items())],
            signature=signature_rows(meta.get("signature")), files=files,
            snippet=_snippet(model.name, f"/{version.version}"))

    def model_file(self, version: ModelVersion, name: str, size: Any, run_page: str | None,
                   page: str) -> ModelFile:
        artifact = f"{version.path}/{name}"
        url = ""
        if size is None:
            try:
                size = self.store.storage.size(self.store.artifact_path(version.run_id, artifact))
            except (OSError, ValueError):
                size = None
        if run_page is not None and isinstance(size, int) and size <= COPY_LIMIT:
            site_path, _, _ = site_path_of(posixpath.dirname(run_page), artifact,
                                           "application/octet-stream")
            if self.site_has(site_path):
                url = relative(site_path, page)
        return ModelFile(name=name, size=fmt.size(size) if isinstance(size, int) else "",
                         url=url)

    def model_json(self, version: ModelVersion) -> dict[str, Any]:
        """The version's model.json as data ({} when missing or unreadable); never the model."""
        try:
            data = self.store.storage.read_bytes(
                self.store.artifact_path(version.run_id, f"{version.path}/{MODEL_JSON}"),
                limit=5_000_000)
            meta = orjson.loads(data)
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    @staticmethod
    def previous_champion(model: RegisteredModel, version: ModelVersion) -> ModelVersion | None:
        """The version the shipping alias pointed at when ``version`` was registered."""
        alias = next((a for a in (*SHIP_ALIASES, *model.aliases) if a in model.aliases), None)
        if alias is None:
            return model.version(version.version - 1)
        holder = None
        for change in model.alias_history:
            if change.alias != alias:
                continue
            if change.time > version.created:
                break
            holder = change.version
        if holder is None or holder == version.version:
            return None
        return model.version(holder)


def _delta(value: float, base: float, goal: str | None, base_version: int) -> tuple[str, str]:
    diff = value - base
    if not math.isfinite(diff):
        return "", ""
    if diff == 0:
        return f"same as the champion then (v{base_version})", ""
    arrow = "▲" if diff > 0 else "▼"
    text = f"{arrow} {fmt.number(abs(diff))} vs v{base_version} (the champion then)"
    if goal is None:
        return text, ""
    better = diff > 0 if goal == "max" else diff < 0
    return f"{text}: {'better' if better else 'worse'}", "better" if better else "worse"


def _snippet(name: str, ref: str) -> str:
    uri = f"models:/{name}{ref}"
    return ("import trackreport as tr\n"
            "tr.set_store(\"path/to/the/store\")  # or $TRACKREPORT_STORE\n"
            f"model = tr.load_model({uri!r})\n"
            "predictions = model.predict(X)")
