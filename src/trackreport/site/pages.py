# ruff: noqa: RUF009 - doc() is dataclasses.field() with help metadata
"""The page objects templates receive: the documented theme API.

Every template is rendered with one variable, ``page``, an instance of the
context dataclass for that template (``CONTEXTS`` maps template names to
classes). All logic lives in Python: texts are already formatted in words,
URLs are already relative to the page, user markdown is already sanitized
(``Markup``), chart specs are already encoded for a JSON script block. Every
field carries a ``help`` text; ``tests/test_site_theme.py`` checks that the
rendered context has exactly the documented fields.

Plain strings are escaped by jinja2's autoescape when a template prints them;
only fields typed ``Markup`` are inserted as HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from markupsafe import Markup

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'"
)


def doc(help: str, **kwargs: Any) -> Any:
    """A dataclass field with its ``help`` text (the theme documentation)."""
    return field(metadata={"help": help}, **kwargs)


def documented(cls: type) -> dict[str, str]:
    """Field name -> help text of a page dataclass."""
    return {f.name: f.metadata.get("help", "") for f in fields(cls)}


# building blocks -------------------------------------------------------------


@dataclass
class Link:
    """A link: text and a URL relative to the page (empty URL: the current page)."""

    text: str = doc("What the link says.")
    url: str = doc("Relative URL; empty for the current page (breadcrumb end).")


@dataclass
class Fact:
    """One labelled fact, e.g. ``Started: 2026-11-26 14:03 UTC``."""

    label: str = doc("What the fact is, in words.")
    text: str = doc("The value, formatted.")
    url: str = doc("Optional link (relative, or http(s) to a forge); empty for none.", default="")
    detail: str = doc("Optional extra words shown beside the value.", default="")
    time: str = doc("ISO 8601 UTC when the value is a moment: the template wraps the text in "
                    "<time datetime=...>, and assets/table.js adds '3 days ago' in the "
                    "reader's browser; else ''.", default="")


@dataclass
class Chart:
    """A chart: a Vega-Lite spec rendered in the browser by assets/charts.js."""

    id: str = doc("Unique, deterministic element id of the spec's script block.")
    title: str = doc("Chart title in words (the figure caption).")
    spec: Markup = doc("The spec as JSON, escaped for a <script type=application/json>.")
    note: str = doc("Optional words under the chart (e.g. how many runs it shows).",
                    default="")
    height: int = doc("Space to keep for the chart before it is drawn, in px; 0 for the "
                      "theme's default.", default=0)


@dataclass
class Sparkline:
    """A tiny inline SVG line (best-so-far over time), drawn by the template."""

    width: int = doc("SVG width in px.")
    height: int = doc("SVG height in px.")
    points: str = doc("The polyline's points attribute ('x,y x,y ...').")
    last_x: float = doc("x of the last point (a dot is drawn there).")
    last_y: float = doc("y of the last point.")
    label: str = doc("Text alternative for screen readers.")


@dataclass
class BestRun:
    """The best run of an experiment by its primary metric."""

    name: str = doc("Run name.")
    url: str = doc("Relative URL of the run page.")
    metric: str = doc("Primary metric key.")
    label: str = doc("The metric's label (set_experiment metrics=), else its key.")
    value: str = doc("The metric value, formatted (a percentage for format 'percent').")
    goal_words: str = doc("'higher is better' or 'lower is better'.")
    difference: str = doc("Signed difference to the baseline in words ('+0.110 (13.8 %) over "
                          "the baseline x (0.800)'), 'the baseline', or ''.")
    status: str = doc("Run status (FINISHED, FAILED, RUNNING, KILLED).")
    started: str = doc("Start date and time, UTC.")
    started_time: str = doc("Start time, ISO 8601 UTC (for <time datetime>).")


@dataclass(slots=True)
class Cell:
    """One cell of the runs table."""

    text: str = doc("The cell text, formatted.")
    group: str = doc("Column group: run, params, metrics, metrics-minmax or tags.")
    sort: str | None = doc("Plain sort key for numbers, dates and durations; None if missing.")
    best: bool = doc("True for the best value of a metric column (shown bold with a star).",
                     default=False)
    hidden: bool = doc("True when the column is hidden by default (min/max columns).",
                       default=False)
    url: str = doc("Optional link of the cell (e.g. a commit on its forge).", default="")
    title: str = doc("Optional tooltip (the full value when the text is shortened).",
                     default="")
    css: str = doc("Extra CSS class (e.g. status-finished).", default="")
    time: str = doc("ISO 8601 UTC for date cells (<time datetime>), else ''.", default="")

    @property
    def classes(self) -> str:
        """The cell's ``class`` attribute: ``css``, ``best`` and ``hidden-group``, as they apply."""
        if not (self.best or self.hidden):  # most cells
            return self.css
        names = [self.css] if self.css else []
        if self.best:
            names.append("best")
        if self.hidden:
            names.append("hidden-group")
        return " ".join(names)


@dataclass
class Column:
    """One column of the runs table."""

    label: str = doc("Header text.")
    group: str = doc("run, params, metrics, metrics-minmax or tags.")
    type: str = doc("number, text, date or duration (how table.js sorts it).")
    goal: str = doc("For metrics: 'min' or 'max' when known, else ''.", default="")
    hidden: bool = doc("Hidden by default (min/max columns).", default=False)
    title: str = doc("Tooltip: the full key and what the column shows.", default="")


class LazyCells(Sequence[Cell]):
    """The cells of one table row, made each time they are read.

    A runs table of thousands of runs would otherwise keep a cell object per
    run and column until the page is written; this way each row's cells live
    only while the row is written (and the garbage collector never walks
    them). Reads as a list: iteration, ``len``, indexing, equality.
    """

    __slots__ = ("_make", "_source")

    def __init__(self, make: Callable[[Any], list[Cell]], source: Any) -> None:
        self._make = make
        self._source = source

    def _cells(self) -> list[Cell]:
        return self._make(self._source)

    def __iter__(self) -> Iterator[Cell]:
        return iter(self._cells())

    def __len__(self) -> int:
        return len(self._cells())

    def __getitem__(self, index: Any) -> Any:
        return self._cells()[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self._cells() == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._cells())


@dataclass(slots=True)
class Row:
    """One run in the runs table."""

    run_id: str = doc("The run id.")
    name: str = doc("Run name (first cell, links to the run page).")
    url: str = doc("Relative URL of the run page.")
    status: str = doc("Run status.")
    cells: Sequence[Cell] = doc("The other cells, in column order (after the name).")
    parent: str = doc("Run id of the parent run when that run is in the table, else ''.",
                      default="")
    children: int = doc("Number of child runs listed right after this row.", default=0)
    baseline: bool = doc("True for the experiment's baseline run.", default=False)


@dataclass
class RunsTable:
    """The runs table (real HTML; assets/table.js adds sorting, filtering, selection)."""

    columns: list[Column] = doc("Columns after the first (run name) column.")
    rows: list[Row] = doc("Runs, best primary metric first, then newest.")
    compare_url: str = doc("Relative URL of the compare page.")
    caption: str = doc("One sentence saying what the table shows and its order.")
    show_experiment: bool = doc("True when the table mixes experiments.", default=False)
    fixed_layout: bool = doc("True for big tables (over 50 columns or 200 rows): fixed column "
                             "widths, so sorting and filtering stay fast.", default=False)


@dataclass
class RunLine:
    """A run in a short list (latest runs on the index)."""

    name: str = doc("Run name.")
    url: str = doc("Relative URL of the run page.")
    experiment: Link = doc("The run's experiment.")
    status: str = doc("Run status.")
    status_text: str = doc("Status in words.")
    started: str = doc("Start date and time, UTC.")
    started_time: str = doc("Start time, ISO 8601 UTC (for <time datetime>).")
    sort: str = doc("Start time as plain Unix seconds (for sorting).")
    metric: str = doc("Primary metric and value in words, or ''.")


@dataclass
class ShippedModel:
    """A registered model version that holds an alias, named on the index and experiment pages."""

    lead: str = doc("'Ships' when an alias such as champion names the version to ship, "
                    "else 'Registered'.")
    model: Link = doc("'churn version 3', linking to that version on the model's page.")
    aliases: str = doc("The version's aliases, e.g. 'champion'.")
    run: Link = doc("The source run by name, linking to its page (empty URL when it has none).")


@dataclass
class ExperimentCard:
    """An experiment on the index page."""

    name: str = doc("Experiment name.")
    url: str = doc("Relative URL of the experiment page.")
    description: str = doc("First paragraph of the description as plain text ('' if none).")
    runs_text: str = doc("'12 runs'.")
    last_run: str = doc("When the last run was active, UTC ('' if unknown).")
    last_run_time: str = doc("The same, ISO 8601 UTC (for <time datetime>).")
    status_text: str = doc("Runs by status in words, e.g. '10 finished, 2 failed'.")
    headline: list[str] = doc("The verdict and the progress sentence (see site.story).")
    best: BestRun | None = doc("The best run by the primary metric, if any.")
    sparkline: Sparkline | None = doc("Best-so-far over time, if there are two or more values.")
    trend_text: str = doc("The sparkline in words.")
    ships: list[ShippedModel] = doc("Models of this experiment that hold an alias "
                                    "(the champion first).", default_factory=list)


@dataclass
class MetricRow:
    """One metric of a run: last, min, max, number of steps."""

    key: str = doc("Metric key.")
    last: str = doc("Value at the highest step, formatted.")
    min: str = doc("Smallest value, formatted.")
    max: str = doc("Largest value, formatted.")
    steps: str = doc("Number of logged steps, formatted.")
    last_step: str = doc("Highest step, formatted.")
    goal_words: str = doc("'higher is better', 'lower is better' or ''.")
    primary: bool = doc("True for the experiment's primary metric.")
    note: str = doc("Words about odd values (all NaN, ...), or ''.", default="")


@dataclass
class Preview:
    """How an artifact is previewed on the run page."""

    kind: str = doc("image, svg, table, text, markdown, html, chart or none.")
    src: str = doc("Image URL (relative) or data: URI for svg; else ''.", default="")
    header: list[str] = doc("Table header (CSV/TSV).", default_factory=list)
    rows: list[list[str]] = doc("Table rows (CSV/TSV, first rows only).", default_factory=list)
    text: str = doc("Text (first lines) for text/code; the HTML source for html (srcdoc).",
                    default="")
    html: Markup = doc("Rendered, sanitized markdown.", default=Markup(""))
    chart: Chart | None = doc("A logged Vega-Lite chart.", default=None)
    truncated: bool = doc("True when only the beginning is shown.", default=False)
    note: str = doc("Why there is no preview, in words, or ''.", default="")


@dataclass
class Artifact:
    """A file or folder in a run's artifact tree (folders first, depth for indentation)."""

    path: str = doc("Path inside the run's artifacts.")
    name: str = doc("Last path segment (what the tree shows).")
    depth: int = doc("Nesting level, 0 for top level.")
    is_dir: bool = doc("True for a folder row.")
    size: str = doc("Size in words ('' for folders).")
    media_type: str = doc("Media type recorded when it was logged.")
    url: str = doc("Relative download URL, '' when the file is not in the site.")
    download_name: str = doc("File name offered when downloading.")
    preview: Preview | None = doc("Preview, if any.")
    note: str = doc("Words about the file (e.g. 'stored as .txt: HTML is not opened here').")


@dataclass
class Note:
    """A note logged with ``note()``."""

    html: Markup = doc("Rendered, sanitized markdown.")
    time: str = doc("When it was written, UTC.")


@dataclass
class KeyValue:
    """A key and a formatted value (params, tags, packages)."""

    key: str = doc("The key.")
    value: str = doc("The value as text.")
    sort: str = doc("Plain number for numeric values, else ''.", default="")


@dataclass
class RunModel:
    """A model logged by a run, on the run page."""

    path: str = doc("Its folder among the run's files (e.g. 'model').")
    flavor: str = doc("How it was saved, in words (e.g. 'scikit-learn, skops').")
    model_class: str = doc("The saved object's class, or ''.")
    signature: list[KeyValue] = doc("Input columns and dtypes (or array shape and dtype).")
    registered: list[Link] = doc("'registered as churn v3 (champion)', linking to the model page.")
    uri: str = doc("The runs:/ URI that loads it.")


@dataclass
class RunDataset:
    """A data set the run used (``log_input``), on the run page."""

    name: str = doc("The data set's name.")
    summary: str = doc("Rows, role (training, evaluation, ...) and source, in words.")
    digest: str = doc("Its digest (a fingerprint of the data), or ''.")
    columns: list[KeyValue] = doc("Columns and dtypes (or array shape and dtype).")


@dataclass
class ModelFile:
    """One file of a registered model version."""

    name: str = doc("Path inside the model folder.")
    size: str = doc("Size in words.")
    url: str = doc("Relative download URL; '' when the file is not in the site.")


@dataclass
class ModelVersionRow:
    """One version of a registered model."""

    version: int = doc("Version number.")
    anchor: str = doc("Element id of the version's details ('v3').")
    aliases: list[str] = doc("Aliases pointing at it (e.g. champion).")
    registered: str = doc("When it was registered, UTC.")
    run: Link | None = doc("The source run (name and page); None when the run is missing.")
    source: str = doc("runs:/<run_id>/<path>.")
    experiment: str = doc("The source run's experiment ('' when unknown).")
    metric: str = doc("Primary metric of the source run in words: 'Validation accuracy "
                      "91.0 %' (its label and format), or ''.")
    metric_sort: str = doc("Plain number of that metric for sorting, or ''.")
    delta: str = doc("Difference to the previous champion in words, or ''.")
    delta_css: str = doc("better, worse or '' (colour; the words carry the meaning).")
    flavor: str = doc("How it was saved, in words.")
    description: str = doc("The version's description.")
    tags: list[KeyValue] = doc("The version's tags.")
    signature: list[KeyValue] = doc("Input columns and dtypes (or array shape and dtype).")
    files: list[ModelFile] = doc("Its files, with sizes and download links.")
    snippet: str = doc("Python that loads this version.")


@dataclass
class ModelCard:
    """A registered model on the models index."""

    name: str = doc("Model name.")
    url: str = doc("Relative URL of the model's page.")
    sentence: str = doc("The answer in words: which version ships, from which run.")
    description: str = doc("First paragraph of the description, as plain text.")
    latest: str = doc("'version 3'.")
    aliases: list[KeyValue] = doc("Alias -> 'version 3'.")
    registered: str = doc("When the latest version was registered, UTC.")


# pages -------------------------------------------------------------------------


@dataclass
class Page:
    """Fields every page has (base.html uses these)."""

    template: str = doc("Template file name rendered for this page.")
    kind: str = doc("index, experiment, run or compare (the body class).")
    path: str = doc("Site path of this page (e.g. runs/x/index.html).")
    title: str = doc("Text of <title>: names the thing, then the site title.")
    heading: str = doc("Main heading (h1) of the page.")
    root: str = doc("Relative prefix from this page to the site root ('', '../', ...).")
    site_title: str = doc("Title of the whole site (--title).")
    home_url: str = doc("Relative URL of the index page.")
    compare_url: str = doc("Relative URL of the compare page.")
    stylesheets: list[str] = doc("Relative URLs of style sheets, in order.")
    scripts: list[str] = doc("Relative URLs of scripts, in order (no inline script exists).")
    csp: str = doc("The Content-Security-Policy meta value.")
    breadcrumbs: list[Link] = doc("All experiments › experiment › run; the last has no URL.")
    last_event: str = doc("The last event time of what the page shows (the store; one run's or "
                          "experiment's events on their pages), UTC ('' for none).")
    last_event_words: str = doc("What last_event is the time of, e.g. 'Store last updated'.")
    generator: str = doc("'trackreport' and its version, for the footer.")


@dataclass
class IndexPage(Page):
    """index.html: what are we working on, and how is each effort going?"""

    summary: str = doc("One sentence: how many experiments and runs.")
    last_activity: str = doc("The store's last event, UTC ('' for an empty store).",
                             default="")
    last_activity_time: str = doc("The same, ISO 8601 UTC.", default="")
    experiments: list[ExperimentCard] = doc("One card per experiment, most recent activity first.",
                                            default_factory=list)
    latest_runs: list[RunLine] = doc("The latest runs across experiments, newest first.",
                                     default_factory=list)
    downloads: list[Link] = doc("Every run as CSV and JSON.", default_factory=list)


@dataclass
class ExperimentPage(Page):
    """experiments/<slug>/index.html: which run is best, and why?"""

    name: str = doc("Experiment name.", default="")
    description: Markup = doc("The description, rendered and sanitized.", default=Markup(""))
    highlights: list[str] = doc("The answer in words (site.story): best run and margin over "
                                "the baseline, when it last improved, runs failed or running.",
                                default_factory=list)
    facts: list[Fact] = doc("Runs, statuses, primary metric and goal, last activity.",
                            default_factory=list)
    best: BestRun | None = doc("The best run by the primary metric.", default=None)
    best_metrics: list[Fact] = doc("The best run's other metrics.", default_factory=list)
    table: RunsTable | None = doc("The runs table.", default=None)
    charts: list[Chart] = doc("One line chart per metric logged over steps, runs overlaid; "
                              "the primary metric first.", default_factory=list)
    bar_charts: list[Chart] = doc("One bar chart per metric logged once per run (its value "
                                  "by run, best first); the primary metric first.",
                                  default_factory=list)
    no_chart_text: str = doc("Words about metrics that get no chart (no finite value), or ''.",
                             default="")
    parallel: Chart | None = doc("Params against the primary metric, if there are params.",
                                 default=None)
    downloads: list[Link] = doc("This experiment's runs as CSV and JSON.", default_factory=list)
    metric_meanings: list[Fact] = doc("What the numbers mean: label, key and description of "
                                      "each metric given words in set_experiment(metrics=).",
                                      default_factory=list)
    compare_top: list[Link] = doc("'Compare the top 2' / 'top 5' links to the compare page.",
                                  default_factory=list)
    ships: list[ShippedModel] = doc("Models of this experiment that hold an alias "
                                    "(the champion first).", default_factory=list)


@dataclass
class ImageRow:
    """One image key of a run (``log_image``): a link per step, the last step shown."""

    key: str = doc("The image key as logged.")
    steps: list[Link] = doc("Step number in words -> URL of its image, by step.",
                            default_factory=list)


@dataclass
class RunPage(Page):
    """runs/<slug>/index.html: what was this run and how did it go?"""

    run_id: str = doc("The run id.", default="")
    name: str = doc("Run name.", default="")
    status: str = doc("FINISHED, FAILED, RUNNING or KILLED.", default="")
    status_text: str = doc("The status in words.", default="")
    status_note: str = doc("What the status means for this run (e.g. still running).",
                           default="")
    error: str = doc("A failed run's error (type and message), or ''.", default="")
    experiment: Link | None = doc("The run's experiment.", default=None)
    summary: str = doc("One line: who, when, how long, which commit.", default="")
    primary: list[Fact] = doc("Big numbers: the primary metric (and its best/last).",
                              default_factory=list)
    facts: list[Fact] = doc("Timing, user, host, parent run.", default_factory=list)
    children: list[RunLine] = doc("Child runs (nested runs started under this one), with "
                                  "their primary metric.", default_factory=list)
    git: list[Fact] = doc("Commit (forge link), branch, uncommitted changes, remote.",
                          default_factory=list)
    command: str = doc("The command line as captured (secrets already redacted), or ''.",
                       default="")
    params: list[KeyValue] = doc("Params, sorted by key.", default_factory=list)
    metrics: list[MetricRow] = doc("Metrics: last, min, max, steps.", default_factory=list)
    charts: list[Chart] = doc("One chart per metric.", default_factory=list)
    tags: list[KeyValue] = doc("Tags, sorted by key.", default_factory=list)
    notes: list[Note] = doc("Notes in the order written.", default_factory=list)
    images: list[ImageRow] = doc("Images logged with log_image, one row per key.",
                                 default_factory=list)
    artifacts: list[Artifact] = doc("Artifact tree, folders first (without the images "
                                    "shown in images).", default_factory=list)
    artifacts_size: str = doc("Total size of the artifacts in words.", default="")
    source: Artifact | None = doc("The captured entry-point source file, if any.", default=None)
    environment: list[Fact] = doc("Python, platform and other captured context.",
                                  default_factory=list)
    packages: list[KeyValue] = doc("Package versions captured at run start.",
                                   default_factory=list)
    models: list[RunModel] = doc("Models logged by the run, with signature and registrations.",
                                 default_factory=list)
    datasets: list[RunDataset] = doc("Data sets the run used (log_input).",
                                     default_factory=list)
    problems: list[str] = doc("What the reader had to skip in this run's files.",
                              default_factory=list)


@dataclass
class ComparePage(Page):
    """compare/index.html?runs=a,b: what differs, and did it matter?"""

    runs_index: Markup = doc("JSON: run id -> name, experiment, page URL, data script URL.",
                             default=Markup("{}"))
    run_count: int = doc("Number of runs that can be compared.", default=0)
    experiments_index: Markup = doc("JSON: experiment name -> ranking metric (key, label, "
                                    "goal) and baseline (run id, words, value).",
                                    default=Markup("{}"))
    experiments: list[Link] = doc("Experiment pages, to pick runs from.", default_factory=list)
    run_counts: list[str] = doc("How many runs each experiment has, in words ('8 runs'), "
                                "parallel to experiments.", default_factory=list)


@dataclass
class ModelsPage(Page):
    """models/index.html: which model ships, and where does an engineer find it?"""

    summary: str = doc("One sentence: how many registered models.", default="")
    models: list[ModelCard] = doc("One card per registered model, by name.",
                                  default_factory=list)


@dataclass
class ModelPage(Page):
    """models/<slug>/index.html: the versions of one model, its aliases and source runs."""

    name: str = doc("Model name.", default="")
    sentence: str = doc("The answer in words: which version ships, from which run.", default="")
    description: Markup = doc("The description, rendered and sanitized.", default=Markup(""))
    tags: list[KeyValue] = doc("The model's tags.", default_factory=list)
    aliases: list[Fact] = doc("Each alias: its version and since when.", default_factory=list)
    snippet: str = doc("Python that loads the shipped (aliased or latest) version.", default="")
    versions: list[ModelVersionRow] = doc("Versions, newest first.", default_factory=list)


CONTEXTS: dict[str, type[Page]] = {
    "index.html": IndexPage,
    "experiment.html": ExperimentPage,
    "run.html": RunPage,
    "compare.html": ComparePage,
    "models.html": ModelsPage,
    "model.html": ModelPage,
}
"""Template name -> the context dataclass its ``page`` variable is an instance of."""
