"""The runs filter: parsing (lark, never eval), errors, and evaluation on a runs DataFrame."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackreport.errors import FilterSyntaxError, TrackreportError
from trackreport.filters import (
    And,
    Column,
    Compare,
    MatchAll,
    Not,
    Or,
    apply_filter,
    filter_mask,
    parse_filter,
    referenced_columns,
)

SRC = Path(__file__).resolve().parents[1] / "src"
UTC = "datetime64[ns, UTC]"


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    """Five runs with the dtypes of ``load_runs``; the index is deliberately not 0..n."""
    nan, inf = float("nan"), float("inf")
    df = pd.DataFrame(
        {
            "run_id": ["r1", "r2", "r3", "r4", "r5"],
            "run_name": ["rf-depth-5", "xgb (v2)", "50% off", "a.b*c", None],
            "experiment": ["taxi", "taxi", "taxi", "iris", "iris"],
            "status": ["FINISHED", "FAILED", "FINISHED", "RUNNING", "KILLED"],
            "start_time": pd.to_datetime(
                [
                    "2024-01-01T00:00:00Z",
                    "2024-06-01T12:00:00Z",
                    "2025-01-01T00:00:00Z",
                    "2025-03-01T08:30:00Z",
                    None,
                ],
                utc=True,
            ).as_unit("ns"),
            "end_time": pd.to_datetime(
                ["2024-01-01T00:01:00Z", "2024-06-01T13:00:00Z", None, None, None], utc=True
            ).as_unit("ns"),
            "duration": pd.to_timedelta([60.0, 3600.0, nan, nan, nan], unit="s").as_unit("ns"),
            "user": ["ann", "bob", "ann", "cy", "ann"],
            "host": ["h1", "h2", "h1", "h3", "h1"],
            "git_commit": ["abc123", "def456", "abc123", None, None],
            "git_branch": ["main", "dev", "main", "main", None],
            "parent_run_id": [None, None, "r1", "r1", None],
            "params.depth": [5, 5.0, "5", 10, None],
            "params.lr": [0.1, 0.01, 1e-3, "0.5", nan],
            "params.model": ["rf", "xgb", True, ["a", 1], {"k": "v", "n": 2}],
            "params.model.depth": ["3", "x", None, None, "4"],
            "params.a b": ["yes", None, None, None, None],
            "metrics.acc": [0.9, 0.75, nan, inf, -inf],
            "metrics.val loss": [0.5, 1.5, 2.0, nan, nan],
            "metrics.val/acc": [0.1, 0.2, 0.3, 0.4, 0.5],
            "tags.stage": ["prod", "Prod", "dev", None, "PROD"],
            "tags.epochs": ["10", "9", "x", None, "100"],
            "tags.note": ["a_b", "axb", "a\nb", "(x)|[y]", "$^+?{}\\"],
        },
        index=["i1", "i2", "i3", "i4", "i5"],
    )
    obj = [c for c in df.columns if df[c].dtype != UTC and not c.startswith(("metrics.", "dur"))]
    return df.astype(dict.fromkeys(obj, object))


def ids(df: pd.DataFrame, text: str) -> list[str]:
    return list(apply_filter(df, text)["run_id"])


def cmp(key: str, op: str, value: object) -> Compare:
    kind, _, rest = key.partition(".")
    return Compare(Column(kind, rest) if rest else Column("attribute", kind), op, value)


def test_fixture_has_the_load_runs_dtypes(runs: pd.DataFrame) -> None:
    assert str(runs["start_time"].dtype) == str(runs["end_time"].dtype) == UTC
    assert str(runs["duration"].dtype) == "timedelta64[ns]"
    assert runs["start_time"].notna().sum() == 4
    assert runs["metrics.acc"].dtype == np.float64
    assert runs["params.depth"].dtype == object and runs["tags.stage"].dtype == object


# ----------------------------------------------------------------------------- parsing


def test_precedence_not_over_and_over_or() -> None:
    a, b, c = (cmp(f"metrics.{k}", "=", 1) for k in "abc")
    assert parse_filter("metrics.a = 1 OR metrics.b = 1 AND metrics.c = 1") == Or((a, And((b, c))))
    assert parse_filter("NOT metrics.a = 1 AND metrics.b = 1") == And((Not(a), b))
    assert parse_filter("(metrics.a = 1 OR metrics.b = 1) AND metrics.c = 1") == And(
        (Or((a, b)), c)
    )
    assert parse_filter("not (metrics.a = 1 and metrics.b = 1)") == Not(And((a, b)))
    assert parse_filter("metrics.a = 1 and metrics.b = 1 and metrics.c = 1") == And((a, b, c))
    assert parse_filter("((metrics.a = 1))") == a


def test_keywords_are_case_insensitive() -> None:
    lower = parse_filter("tags.x like 'a%' and not params.y in ('1') or status is not null")
    upper = parse_filter("tags.x LIKE 'a%' AND NOT params.y IN ('1') OR status IS NOT NULL")
    mixed = parse_filter("tags.x LiKe 'a%' AnD nOt params.y In ('1') oR status Is NoT nUlL")
    assert lower == upper == mixed


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("metrics.acc", "metrics.acc"),
        ("metric.acc", "metrics.acc"),
        ("params.lr", "params.lr"),
        ("param.lr", "params.lr"),
        ("tags.stage", "tags.stage"),
        ("tag.stage", "tags.stage"),
        ("status", "status"),
        ("attributes.status", "status"),
        ("attribute.run_name", "run_name"),
        ("STATUS", "status"),
        ("Metrics.acc", "metrics.acc"),
        ("metrics.`val loss`", "metrics.val loss"),
        ('params."a b"', "params.a b"),
        ("metrics.`val/acc (%)`", "metrics.val/acc (%)"),
        ("metrics.val/acc", "metrics.val/acc"),
        ("params.model.depth", "params.model.depth"),
        ("params.lr-0.1_x", "params.lr-0.1_x"),
        ("tags.mlflow.runName", "tags.mlflow.runName"),
        ("metrics.`a.b`", "metrics.a.b"),
        ("params.and", "params.and"),
    ],
)
def test_identifiers(text: str, name: str) -> None:
    assert referenced_columns(f"{text} IS NULL") == {name}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.x<5", cmp("metrics.x", "<", 5)),
        ("metrics.x<=-5", cmp("metrics.x", "<=", -5)),
        ("metrics.val/acc>=0.5", cmp("metrics.val/acc", ">=", 0.5)),
        ("params.a-b!=1", cmp("params.a-b", "!=", 1)),
        ("params.m.d='x'", cmp("params.m.d", "=", "x")),
        ("tags.k>'b'", cmp("tags.k", ">", "b")),
        ("params.x IN(1,'2')", cmp("params.x", "IN", (1, "2"))),
        ("metrics.x = 1e-3", cmp("metrics.x", "=", 0.001)),
        ("metrics.x = -2.5E2", cmp("metrics.x", "=", -250.0)),
        ("metrics.x = .5", cmp("metrics.x", "=", 0.5)),
        ("metrics.x = '7'", cmp("metrics.x", "=", 7)),
    ],
)
def test_a_bare_key_ends_at_an_operator(text: str, expected: Compare) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'it''s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r"'back\\slash'", "back\\slash"),
        (r"'50\%'", "50\\%"),
        ('"single \' inside"', "single ' inside"),
        ("''", ""),
    ],
)
def test_string_literal_escapes(text: str, value: str) -> None:
    assert parse_filter(f"tags.t = {text}") == cmp("tags.t", "=", value)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_an_empty_filter_matches_everything(runs: pd.DataFrame, text: str) -> None:
    assert parse_filter(text) == MatchAll()
    assert filter_mask(text, runs).all()
    assert apply_filter(runs, text) is runs
    assert apply_filter(runs, None) is runs
    assert referenced_columns(text) == set()


def test_referenced_columns() -> None:
    text = "metrics.acc > 1 or (status = 'a' and not params.`x y` IS NULL) or tag.t IN ('a')"
    assert referenced_columns(text) == {"metrics.acc", "status", "params.x y", "tags.t"}
    assert referenced_columns(parse_filter("start_time > 0")) == {"start_time"}


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        (
            "metrics.acc > 0.9 AN status = 'x'",
            19,
            "unexpected 'AN' (expected AND, OR or end of filter)",
        ),
        ("(metrics.acc > 0.9", 19, "unexpected end of filter (expected ')', AND or OR)"),
        ("metrics.acc > ", 14, "unexpected end of filter (expected a quoted string or a number)"),
        ("metrics.acc == 1", 14, "unexpected '='"),
        ("metrics.acc 1", 13, "expected a comparison operator, NOT, LIKE, ILIKE, IN or IS"),
        ("status = 'a' )", 14, "unexpected ')' (expected AND, OR or end of filter)"),
        ("status IN ('a' 'b')", 16, "unexpected \"'b'\" (expected ',' or ')')"),
        ("status IS NOT 'a'", 15, "unexpected \"'a'\" (expected NULL)"),
        ("status = 'a' AND", 17, "unexpected end of filter (expected a column name, NOT or '(')"),
        ("status = 'a' ANDstatus = 'b'", 14, "unexpected 'ANDstatus'"),
        ("status = 'unterminated", 10, "unterminated string"),
        ("status = 'a' @ 1", 14, "unexpected character '@'"),
        ("foo.bar = 1", 1, "unknown prefix 'foo' in 'foo.bar'"),
        ("status = 1 AND stauts = 'a'", 16, "unknown attribute 'stauts' (did you mean 'status'?"),
        ("metrics. = 1", 1, "missing key after 'metrics.'"),
        ("run_name LIKE 5", 15, "LIKE needs a quoted string pattern, got number 5"),
        ("tags.x NOT ILIKE 5.5", 18, "NOT ILIKE needs a quoted string pattern"),
        ("metrics.acc LIKE '0.9%'", 1, "LIKE does not apply to metrics.acc, which is not text"),
        ("metrics.acc = 'high'", 15, "metrics.acc compares with a number, got 'high'"),
        ("duration > '1h'", 12, "duration compares with a number of seconds"),
        ("start_time > 'yesterday'", 14, "start_time needs milliseconds since the epoch or an ISO"),
        ("end_time IN ('2024-13-01')", 14, "end_time needs milliseconds since the epoch"),
        ("start_time > 1e300", 14, "start_time needs milliseconds"),
        ("`status` = 'a'", 1, "unexpected character '`'"),
    ],
)
def test_error_names_the_token_and_its_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    message = str(info.value)
    assert message.startswith(f"invalid filter at column {column}: "), message
    assert fragment in message
    assert "\n" not in message


def test_errors_are_trackreport_and_value_errors() -> None:
    with pytest.raises(TrackreportError):
        parse_filter("status =")
    with pytest.raises(ValueError, match="column 9"):
        parse_filter("status =")


def test_error_in_a_multiline_filter_gives_line_and_column() -> None:
    with pytest.raises(FilterSyntaxError, match=r"at line 2, column 14: unexpected \"'x'\""):
        parse_filter("status = 'a'\nAND run_name 'x'")


def test_error_message_shortens_a_long_token() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("status = 'a' " + "x" * 500)
    assert len(str(info.value)) < 200


def test_filter_mask_and_apply_filter_raise_on_bad_text(runs: pd.DataFrame) -> None:
    with pytest.raises(FilterSyntaxError):
        filter_mask("status = ", runs)
    with pytest.raises(FilterSyntaxError):
        apply_filter(runs, "nope = 1")


def test_deep_nesting_is_refused_cleanly(runs: pd.DataFrame) -> None:
    with pytest.raises(FilterSyntaxError, match="nested more than 100 levels"):
        parse_filter("NOT " * 5000 + "status = 'a'")
    alternating = "status = 'x' AND (status = 'y' OR (" * 60 + "status = 'a'" + "))" * 60
    with pytest.raises(FilterSyntaxError, match="nested"):
        parse_filter(alternating)
    # Parentheses alone do not nest the AST, nor do chains of one operator.
    chain = "status = 'x' OR (" * 1000 + "status = 'FAILED'" + ")" * 1000
    assert ids(runs, chain) == ["r2"]
    assert ids(runs, "(" * 1000 + "status = 'FAILED'" + ")" * 1000) == ["r2"]
    assert ids(runs, "NOT " * 50 + "status = 'FAILED'") == ["r2"]


# --------------------------------------------------------------------- no code runs


HOSTILE = [
    "__import__('os').system('touch {p}')",
    "status = __import__('os').system('touch {p}')",
    "status = 'a'; __import__('os').system('touch {p}')",
    "status = 'a' or open('{p}', 'w')",
    "exec(\"open('{p}', 'w')\")",
    "params.x = 1 if open('{p}','w') else 0",
    "lambda: open('{p}', 'w')",
    "status = `open('{p}','w')`",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_no_input_executes_code(tmp_path: Path, runs: pd.DataFrame, template: str) -> None:
    target = tmp_path / "pwned"
    with pytest.raises(FilterSyntaxError):
        apply_filter(runs, template.format(p=target))
    assert not target.exists()


def test_code_inside_a_string_literal_is_only_data(tmp_path: Path, runs: pd.DataFrame) -> None:
    target = tmp_path / "pwned"
    code = f"__import__('os').system('touch {target}')"
    text = f"run_name = {code!r} OR params.model LIKE {code!r} OR tags.note IN ({code!r})"
    assert ids(runs, text) == []
    assert not target.exists()


def test_the_module_never_calls_eval_or_exec() -> None:
    source = (SRC / "trackreport" / "filters.py").read_text()
    assert not re.search(r"(?<![.\w])(eval|exec|compile|__import__)\s*\(", source)


def test_importing_the_module_does_not_import_pandas() -> None:
    code = "import sys, trackreport.filters; print('pandas' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC)},
    )
    assert out.stdout.strip() == "False"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parse_raises_only_filter_syntax_error_on_random_text(text: str) -> None:
    try:
        parse_filter(text)
    except FilterSyntaxError as exc:
        assert "\n" not in str(exc)


FRAGMENTS = [
    "metrics.acc", "params.lr", "tags.`a b`", 'params."x"', "status", "start_time", "duration",
    "foo.bar", "nope", "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL",
    "AND", "OR", "(", ")", ",", "'a%'", '"b"', "'", "5", "-1.5e3", "'2024-01-01'", "`", '"',
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_token_soup_parses_or_fails_cleanly_and_evaluates(
    runs: pd.DataFrame, parts: list[str]
) -> None:
    text = " ".join(parts)
    try:
        expr = parse_filter(text)
    except FilterSyntaxError as exc:
        assert str(exc).startswith("invalid filter") and "\n" not in str(exc)
        return
    mask = filter_mask(expr, runs)
    assert mask.dtype == bool and mask.index.equals(runs.index)
    assert (filter_mask(Not(expr), runs) == ~mask).all()


PREDICATES = [
    "metrics.acc > 0.8", "metrics.acc IS NULL", "params.depth = 5", "params.lr < 0.05",
    "tags.stage ILIKE 'prod'", "status IN ('FINISHED', 'KILLED')", "start_time >= '2025-01-01'",
    "run_name LIKE '%(%'", "duration > 100", "metrics.missing < 1", "tags.epochs NOT IN ('9')",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PREDICATES), st.sampled_from(PREDICATES))
def test_boolean_laws_hold(runs: pd.DataFrame, a: str, b: str) -> None:
    def m(text: str) -> pd.Series:
        return filter_mask(text, runs)

    assert (m(f"NOT ({a} AND {b})") == m(f"NOT {a} OR NOT {b}")).all()
    assert (m(f"{a} OR {b}") == (m(a) | m(b))).all()
    assert (m(f"{a} AND {b}") == (m(a) & m(b))).all()
    assert not (m(a) & m(f"NOT {a}")).any()


# -------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.acc = 0.9", ["r1"]),
        ("metrics.acc != 0.9", ["r2", "r4", "r5"]),
        ("metrics.acc < 0.9", ["r2", "r5"]),
        ("metrics.acc <= 0.9", ["r1", "r2", "r5"]),
        ("metrics.acc > 0.75", ["r1", "r4"]),
        ("metrics.acc >= 0.75", ["r1", "r2", "r4"]),
        ("metrics.acc IN (0.75, 0.9)", ["r1", "r2"]),
        ("metrics.acc NOT IN (0.75, 0.9)", ["r4", "r5"]),
        ("metrics.acc IS NULL", ["r3"]),
        ("metrics.acc IS NOT NULL", ["r1", "r2", "r4", "r5"]),
        ("metrics.`val loss` < 1", ["r1"]),
        ('metrics."val loss" >= 1.5', ["r2", "r3"]),
        ("metrics.val/acc > 0.35", ["r4", "r5"]),
        ("metric.acc > 1e308", ["r4"]),
    ],
)
def test_metric_comparisons(runs: pd.DataFrame, text: str, expected: list[str]) -> None:
    assert ids(runs, text) == expected


def test_nan_metric_never_matches_a_comparison(runs: pd.DataFrame) -> None:
    for op in ["=", "!=", "<", "<=", ">", ">="]:
        assert "r3" not in ids(runs, f"metrics.acc {op} 0.5")
    assert "r3" not in ids(runs, "metrics.acc NOT IN (1)")
    assert "r3" in ids(runs, "NOT metrics.acc > 0.5")  # NOT flips the False


def test_a_missing_column_is_null_and_never_compares(runs: pd.DataFrame) -> None:
    every = list(runs["run_id"])
    for op in ["= 1", "!= 1", "< 1", ">= 1", "IN (1)", "NOT IN (1)"]:
        assert ids(runs, f"metrics.absent {op}") == []
        assert ids(runs, f"params.absent {op}") == []
    assert ids(runs, "tags.absent LIKE '%'") == []
    assert ids(runs, "tags.absent NOT LIKE 'x'") == []
    assert ids(runs, "params.absent IS NULL") == every
    assert ids(runs, "params.absent IS NOT NULL") == []
    assert ids(runs, "NOT metrics.absent > 1") == every


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.depth = 5", ["r1", "r2", "r3"]),  # 5, 5.0 and "5"
        ("params.depth = 5.0", ["r1", "r2", "r3"]),
        ("params.depth = '5'", ["r1", "r2", "r3"]),
        ("params.depth != 5", ["r4"]),
        ("params.depth > 5", ["r4"]),  # 10 > 5 numerically (as text "10" < "5")
        ("params.depth IN (10, 11)", ["r4"]),
        ("params.depth NOT IN ('5')", ["r4"]),
        ("params.lr < 0.1", ["r2", "r3"]),
        ("params.lr <= 0.1", ["r1", "r2", "r3"]),
        ("params.lr = 0.001", ["r3"]),
        ("params.lr > 0.2", ["r4"]),  # the string "0.5"; NaN (r5) never matches
        ("params.lr IS NULL", ["r5"]),
        ("params.depth IS NULL", ["r5"]),
        ("params.model = 'rf'", ["r1"]),
        ("params.model != 'rf'", ["r2", "r3", "r4", "r5"]),
        ("params.model = 'True'", ["r3"]),  # bools as Python prints them
        ("params.model = 'true'", []),
        ("params.model ILIKE 'true'", ["r3"]),
        ("params.model = '[\"a\",1]'", ["r4"]),  # lists as compact JSON
        ('params.model = \'{"k":"v","n":2}\'', ["r5"]),
        ("params.model LIKE '[%'", ["r4"]),
        ("params.model < 's'", ["r1", "r3", "r4"]),  # as text: "True" and '["a",1]' < "s"
        ("params.model.depth = 3", ["r1"]),
        ("params.model.depth >= 3", ["r1", "r2", "r5"]),  # "x" >= "3" as text
        ('params."a b" = "yes"', ["r1"]),
        ("param.depth = 10", ["r4"]),
    ],
)
def test_param_comparisons(runs: pd.DataFrame, text: str, expected: list[str]) -> None:
    assert ids(runs, text) == expected


def test_mixed_comparison_falls_back_to_text(runs: pd.DataFrame) -> None:
    # "x" is not numeric, so `tags.epochs > 9` compares "x" > "9" as text (True).
    assert ids(runs, "tags.epochs > 9") == ["r1", "r3", "r5"]
    assert ids(runs, "tags.epochs < 50") == ["r1", "r2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tags.stage = 'prod'", ["r1"]),
        ("tags.stage != 'prod'", ["r2", "r3", "r5"]),
        ("tags.stage LIKE 'pro%'", ["r1"]),
        ("tags.stage ILIKE 'pro%'", ["r1", "r2", "r5"]),
        ("tags.stage NOT ILIKE 'PROD'", ["r3"]),
        ("tags.stage IN ('dev', 'Prod')", ["r2", "r3"]),
        ("tags.stage IS NULL", ["r4"]),
        ("tag.epochs = 10", ["r1"]),
        ("tags.epochs = '10'", ["r1"]),
    ],
)
def test_tag_comparisons(runs: pd.DataFrame, text: str, expected: list[str]) -> None:
    assert ids(runs, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status = 'FINISHED'", ["r1", "r3"]),
        ("attributes.status != 'FINISHED'", ["r2", "r4", "r5"]),
        ("status IN ('RUNNING', 'KILLED')", ["r4", "r5"]),
        ("status NOT IN ('RUNNING', 'KILLED')", ["r1", "r2", "r3"]),
        ("status = 'finished'", []),
        ("status ILIKE 'finished'", ["r1", "r3"]),
        ("run_id = 'r2'", ["r2"]),
        ("run_id > 'r3'", ["r4", "r5"]),
        ("experiment = 'iris' AND user = 'ann'", ["r5"]),
        ("host != 'h1'", ["r2", "r4"]),
        ("git_commit = 'abc123'", ["r1", "r3"]),
        ("git_commit IS NULL", ["r4", "r5"]),
        ("git_branch != 'main'", ["r2"]),
        ("parent_run_id = 'r1'", ["r3", "r4"]),
        ("parent_run_id IS NULL", ["r1", "r2", "r5"]),
        ("run_name IS NULL", ["r5"]),
    ],
)
def test_attribute_comparisons(runs: pd.DataFrame, text: str, expected: list[str]) -> None:
    assert ids(runs, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start_time >= '2025-01-01'", ["r3", "r4"]),
        ("start_time < '2024-06-01T12:00:00Z'", ["r1"]),
        ("start_time <= '2024-06-01T12:00:00'", ["r1", "r2"]),  # naive means UTC
        ("start_time = '2024-06-01T14:00:00+02:00'", ["r2"]),
        ("start_time > '2024-06-01 11:59:59.999'", ["r2", "r3", "r4"]),
        ("start_time = 1704067200000", ["r1"]),  # ms since the epoch, as in MLflow
        ("start_time > 1704067200000", ["r2", "r3", "r4"]),
        ("start_time IN (1704067200000, '2025-01-01')", ["r1", "r3"]),
        ("start_time != 1704067200000", ["r2", "r3", "r4"]),
        ("start_time IS NULL", ["r5"]),
        ("end_time > '2024-01-01T00:00:30Z'", ["r1", "r2"]),
        ("end_time IS NULL", ["r3", "r4", "r5"]),
        ("end_time < '9999-12-31'", ["r1", "r2"]),
        ("end_time > '0001-01-01'", ["r1", "r2"]),
        ("duration > 60", ["r2"]),
        ("duration >= 60", ["r1", "r2"]),
        ("duration = 3600", ["r2"]),
        ("duration < 1e999", ["r1", "r2"]),
        ("duration IS NULL", ["r3", "r4", "r5"]),
    ],
)
def test_times_and_duration(runs: pd.DataFrame, text: str, expected: list[str]) -> None:
    assert ids(runs, text) == expected


def test_naive_and_string_time_columns_are_read_as_utc() -> None:
    df = pd.DataFrame(
        {
            "run_id": ["a", "b"],
            "start_time": pd.to_datetime(["2024-01-01T00:00:00", "2024-01-02T00:00:00"]),
            "end_time": pd.Series(["2024-01-01T01:00:00Z", None], dtype=object),
        }
    )
    assert ids(df, "start_time > '2024-01-01T12:00:00Z'") == ["b"]
    assert ids(df, "end_time < 1704070800001") == ["a"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run_name LIKE 'rf%'", ["r1"]),
        ("run_name LIKE 'rf'", []),  # the whole value must match
        ("run_name LIKE '%depth%'", ["r1"]),
        ("run_name LIKE 'RF%'", []),
        ("run_name ILIKE 'RF%'", ["r1"]),
        ("run_name LIKE 'xgb (v_)'", ["r2"]),  # ( ) are not regex groups
        ("run_name LIKE 'xgb (v2'", []),
        ("run_name LIKE '50% off'", ["r3"]),
        ("run_name LIKE '50\\% off'", ["r3"]),  # \% is a literal percent sign
        ("run_name LIKE '5\\%%'", []),
        ("run_name LIKE 'a.b*c'", ["r4"]),  # . and * are literal
        ("run_name LIKE 'aXb*c'", []),
        ("run_name LIKE 'a_b_c'", ["r4"]),
        ("run_name LIKE '%'", ["r1", "r2", "r3", "r4"]),  # None never matches
        ("run_name NOT LIKE '%'", []),
        ("run_name NOT LIKE 'rf%'", ["r2", "r3", "r4"]),
        ("tags.note LIKE 'a_b'", ["r1", "r2", "r3"]),  # _ matches a newline too
        ("tags.note LIKE 'a\\_b'", ["r1"]),  # \_ is a literal underscore
        ("tags.note LIKE '(x)|[y]'", ["r4"]),
        ("tags.note LIKE '(x)%'", ["r4"]),
        ("tags.note LIKE 'x|%'", []),
        ("tags.note LIKE '$^+?{}\\\\'", ["r5"]),  # the pattern ends in one, literal, backslash
        ("tags.note LIKE '$^+?{}%'", ["r5"]),
        ("tags.note ILIKE 'A%B'", ["r1", "r2", "r3"]),
        ("tags.stage ILIKE 'PRO_'", ["r1", "r2", "r5"]),
        ("params.depth LIKE '5%'", ["r1", "r2", "r3"]),  # 5, 5.0, "5" as text
        ("params.lr LIKE '0.00_'", ["r3"]),
    ],
)
def test_like_and_ilike(runs: pd.DataFrame, text: str, expected: list[str]) -> None:
    assert ids(runs, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status = 'FAILED' OR status = 'RUNNING' AND user = 'bob'", ["r2"]),
        ("(status = 'FAILED' OR status = 'RUNNING') AND user = 'cy'", ["r4"]),
        ("NOT status = 'FINISHED' AND experiment = 'taxi'", ["r2"]),
        ("NOT (status = 'FINISHED' AND experiment = 'taxi')", ["r2", "r4", "r5"]),
        ("NOT NOT status = 'FAILED'", ["r2"]),
        ("metrics.acc > 0.8 or metrics.acc < 0 or metrics.acc is null", ["r1", "r3", "r4", "r5"]),
        ("experiment = 'taxi' and (params.depth = 5 and not params.model = 'xgb')", ["r1", "r3"]),
    ],
)
def test_boolean_combinations(runs: pd.DataFrame, text: str, expected: list[str]) -> None:
    assert ids(runs, text) == expected


def test_mask_is_a_boolean_series_aligned_to_the_index(runs: pd.DataFrame) -> None:
    for text in ["status = 'FAILED'", "metrics.acc > 0", "params.absent IS NULL", ""]:
        mask = filter_mask(text, runs)
        assert mask.dtype == bool and mask.index.equals(runs.index)
    shuffled = runs.iloc[::-1]
    assert list(filter_mask("run_id = 'r5'", shuffled)) == [True, False, False, False, False]


def test_filter_mask_takes_a_parsed_expression(runs: pd.DataFrame) -> None:
    expr = parse_filter("metrics.acc > 0.8")
    assert filter_mask(expr, runs).tolist() == [True, False, False, True, False]


def test_empty_frame_and_default_string_dtypes() -> None:
    empty = pd.DataFrame({"run_id": pd.Series([], dtype=object)})
    assert apply_filter(empty, "status = 'a' OR metrics.x IS NULL").empty
    df = pd.DataFrame({"run_id": ["a", "b", "c"], "tags.t": ["x", None, "y"]})  # inferred dtype
    assert ids(df, "tags.t != 'x'") == ["c"]
    assert ids(df, "tags.t IS NULL") == ["b"]
    assert ids(df, "tags.t LIKE '_'") == ["a", "c"]


def test_metrics_are_compared_as_numbers(runs: pd.DataFrame) -> None:
    # As text "10" < "9"; as numbers it is not.
    df = pd.DataFrame({"run_id": ["a", "b"], "metrics.m": [10.0, 9.0]})
    assert ids(df, "metrics.m > 9.5") == ["a"]
    assert ids(df, "metrics.m > '9.5'") == ["a"]
    assert math.isinf(parse_filter("metrics.m < 1e999").value)  # type: ignore[union-attr, arg-type]
