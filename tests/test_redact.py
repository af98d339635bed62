"""Hostile tests for trackreport.redact: nothing secret may reach a published site."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trackreport.redact import (
    ENV_ALLOWLIST,
    MASK,
    allowed_env,
    looks_secret,
    redact_argv,
    redact_text,
    redact_url,
)

# --- redact_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@github.com/x.git", "https://github.com/x.git"),
        ("https://token@host/org/repo", "https://host/org/repo"),
        ("https://:token@host/x", "https://host/x"),
        ("HTTPS://User:Pw@Host/x", "HTTPS://Host/x"),
        ("http://u:p@127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("https://u:p@[::1]:8443/x", "https://[::1]:8443/x"),
        ("postgres://app:hunter2@db:5432/prod", "postgres://db:5432/prod"),
        ("s3://AKIAKEY:secret@bucket/key", "s3://bucket/key"),
        # an unencoded @ in the password: the userinfo runs to the last @ of the authority
        ("https://user:p@ss@host/x", "https://host/x"),
        ("https://user:p%40ss@host/x", "https://host/x"),
        # pip requirement URLs: the @ after the path is a ref, not userinfo
        ("git+https://tok@github.com/o/r.git@v1.0", "git+https://github.com/o/r.git@v1.0"),
        # ssh: the login name is not a credential, the password is
        ("ssh://user:pw@host/repo.git", "ssh://user@host/repo.git"),
        ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("git+ssh://git:pw@host/r", "git+ssh://git@host/r"),
    ],
)
def test_redact_url_strips_credentials(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    "text",
    [
        "git@github.com:org/repo.git",  # scp-style: git@ is no secret
        "https://github.com/org/repo.git",
        "https://registry.npmjs.org/@scope/pkg",  # @ in the path
        "https://host/users/ada@example.com",
        "https://host/x?ref=main&page=2#section",
        "mailto:ada@example.com",
        "/home/ada/data.csv",
        "user:pass@host",  # not a URL: nothing to anchor on
        "",
    ],
)
def test_redact_url_leaves_non_secret_text_alone(text: str) -> None:
    assert redact_url(text) == text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/x?access_token=abc&ref=main", "https://h/x?ref=main"),
        ("https://h/x?ref=main&access_token=abc", "https://h/x?ref=main"),
        ("https://h/x?token=abc", "https://h/x"),
        ("https://h/x?private_token=abc&a=1&password=p&b=2", "https://h/x?a=1&b=2"),
        ("https://h/x?key=AIzaSyA&q=1", "https://h/x?q=1"),
        ("https://h/x?api_key=1&apikey=2&client_secret=3", "https://h/x"),
        ("https://h/x?access%5Ftoken=abc&q=1", "https://h/x?q=1"),  # encoded name
        # presigned URLs: S3, GCS, Azure SAS
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Date=1"
            "&X-Amz-Security-Token=tok&X-Amz-Signature=ff",
            "https://b.s3.amazonaws.com/k?X-Amz-Date=1",
        ),
        (
            "https://storage.googleapis.com/b/o?X-Goog-Signature=ab&x=1",
            "https://storage.googleapis.com/b/o?x=1",
        ),
        (
            "https://a.blob.core.windows.net/c/b?sv=2020&sig=abc%3D",
            "https://a.blob.core.windows.net/c/b?sv=2020",
        ),
        # OAuth implicit flow puts the token in the fragment
        ("https://h/cb#access_token=abc&token_type=bearer", "https://h/cb#token_type=bearer"),
        ("https://h/x?a=1#access_token=z", "https://h/x?a=1"),
        # a URL inside a query value
        ("https://a/x?next=https://b/y?token=s", "https://a/x?next=https://b/y"),
        # not secret: counts, tokenizers, sort keys
        ("https://h/x?max_tokens=5&sort_key=id", "https://h/x?max_tokens=5&sort_key=id"),
    ],
)
def test_redact_url_drops_secret_parameters(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--repo=https://u:p@h/x.git", "--repo=https://h/x.git"),
        ("clone https://u:p@h1/x and https://a:b@h2/y", "clone https://h1/x and https://h2/y"),
        ("https://a:b@h1,https://c:d@h2", "https://h1,https://h2"),
        ("DATABASE_URL=postgres://u:pw@db/x", "DATABASE_URL=postgres://db/x"),
    ],
)
def test_redact_url_finds_urls_inside_text(text: str, expected: str) -> None:
    assert redact_url(text) == expected


_secret = st.text(alphabet="abcdefghijkmnpqrstuvwxyz0123456789", min_size=6, max_size=30).map(
    lambda s: f"S3CR3T{s}"
)
_host = st.sampled_from(["github.com", "gitlab.example.org:8443", "10.0.0.1", "[::1]"])
_password_chars = st.text(alphabet="abcXYZ019-._~!$&'()*+,;=:@%", max_size=12)


@given(
    scheme=st.sampled_from(["https", "http", "git+https", "ftp", "postgres", "s3", "ssh"]),
    user=st.text(alphabet="abcdefgh", min_size=1, max_size=8),
    secret=_secret,
    noise=_password_chars,
    host=_host,
    path=st.sampled_from(["", "/", "/o/r.git", "/a@b/c", "/x?ref=main"]),
)
def test_no_password_survives(
    scheme: str, user: str, secret: str, noise: str, host: str, path: str
) -> None:
    url = f"{scheme}://{user}:{secret}{noise}@{host}{path}"
    redacted = redact_url(url)
    assert secret not in redacted
    assert host in redacted
    assert redact_url(redacted) == redacted  # idempotent


@given(
    secret=_secret, host=_host, name=st.sampled_from(["access_token", "token", "sig", "api_key"])
)
def test_no_query_secret_survives(secret: str, host: str, name: str) -> None:
    for url in (
        f"https://{host}/p?{name}={secret}",
        f"https://{host}/p?a=1&{name}={secret}&b=2",
        f"https://{host}/p#{name}={secret}",
        f"see https://{secret}@{host}/p?{name}={secret} now",
    ):
        assert secret not in redact_url(url)


# --- looks_secret ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "--api-key",
        "--api_key",
        "--apikey",
        "--apiKey",
        "--token",
        "--auth-token",
        "--hf-token",
        "--hftoken",
        "--id-token",
        "--refresh_token",
        "--password",
        "--passwd",
        "--pwd",
        "--passphrase",
        "--secret",
        "--client-secret",
        "--clientSecret",
        "--auth",
        "--authorization",
        "--credentials",
        "--credential",
        "--private-key",
        "--access-key",
        "--secret-key",
        "--ssh-key",
        "--key",
        "--cookie",
        "--session-id",
        "--sessionid",
        "--connection-string",
        "API_KEY",
        "HF_TOKEN",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "PGPASSWORD",
        "MYSQL_PWD",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "db.password",
        "+trainer.api_key",
        "X-Amz-Security-Token",
        "--wandb-key",
        "--openai-key",
        "STRIPE_KEY",
        "--pass",
        "--db-pass",
        "DB_PW",
        "--pw",
        "--bearer",
        "--jwt",
        "--slack-webhook",
        "--webhook-url",
    ],
)
def test_looks_secret(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "--lr",
        "--tokenizer",
        "--tokenizer-name",
        "--max-tokens",
        "--max_new_tokens",
        "--max-token",
        "--num-token",
        "--token-limit",
        "--pad-token",
        "--eos_token_id",
        "--token-type-ids",
        "--sort-key",
        "--key-column",
        "--primary-key",
        "--monkey",
        "--keyboard",
        "--author",
        "--passes",
        "--batch-size",
        "--seed",
        "--session-name",
        "--keys",
        "--pass-through",
        "--bypass",
        "--compass",
        "--metric-key",
        "--object-key",
        "--dataset-text-key",
        "--rng-key",
        "--tokens",
        "--signal",
        "--design",
        "CUDA_VISIBLE_DEVICES",
        "",
        "--",
    ],
)
def test_does_not_look_secret(name: str) -> None:
    assert not looks_secret(name)


# --- redact_argv -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--api-key=abc"], ["--api-key=***"]),
        (["--api_key", "abc"], ["--api_key", "***"]),
        (["--token", "x"], ["--token", "***"]),
        (["--token=x=y"], ["--token=***"]),
        (["--password", "x"], ["--password", "***"]),
        (["--passwd", "x"], ["--passwd", "***"]),
        (["--secret", "x"], ["--secret", "***"]),
        (["--client-secret", "x"], ["--client-secret", "***"]),
        (["--auth", "user:pw"], ["--auth", "***"]),
        (["--auth-token", "x"], ["--auth-token", "***"]),
        (["--credentials", "x"], ["--credentials", "***"]),
        (["--private-key", "x"], ["--private-key", "***"]),
        (["--apiKey", "x"], ["--apiKey", "***"]),
        (["-password", "x"], ["-password", "***"]),  # single-dash long option (absl, Go)
        (["-api_key=x"], ["-api_key=***"]),
        (["API_KEY=abc"], ["API_KEY=***"]),
        (["HF_TOKEN=x"], ["HF_TOKEN=***"]),
        (["PGPASSWORD=x"], ["PGPASSWORD=***"]),
        (["db.password=x"], ["db.password=***"]),  # Hydra overrides
        (["+trainer.api_key=x"], ["+trainer.api_key=***"]),
        (["--password", "-123"], ["--password", "***"]),  # a negative number is a value
        (["--password="], ["--password="]),  # nothing to hide
        (["--", "--token", "x"], ["--", "--token", "***"]),  # also after --
        # the value of a secret option that is followed by another option is no value
        (["--token", "--lr", "0.1"], ["--token", "--lr", "0.1"]),
        (["--token"], ["--token"]),
        # names beyond the obvious ones, and values that start with a dash
        (["--wandb-key", "k"], ["--wandb-key", "***"]),
        (["--pass", "x"], ["--pass", "***"]),
        (["--pw", "x"], ["--pw", "***"]),
        (["--bearer", "x"], ["--bearer", "***"]),
        (["--db-pass=x"], ["--db-pass=***"]),
        (["OPENAI_KEY=x"], ["OPENAI_KEY=***"]),
        (["--password", "-X"], ["--password", "***"]),
        (["--token", "-x", "--lr", "0.1"], ["--token", "***", "--lr", "0.1"]),
        (["--slack-webhook", "https://hooks.slack.com/services/T0/B0/X"], ["--slack-webhook", "***"]),
        (["--notify", "https://hooks.slack.com/services/T0/B0/X"],
         ["--notify", "https://hooks.slack.com/services/***"]),
        (["--header", "X-Api-Key: abc"], ["--header", "X-Api-Key: ***"]),
        (["--header", "Authorization: Token abcdef123"], ["--header", "Authorization: Token ***"]),
        (["--jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"], ["--jwt", "***"]),
        (["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"], ["***"]),
    ],
)
def test_redact_argv_masks_secret_options(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["train.py", "--lr", "0.1", "--epochs=3"],
        ["--tokenizer", "bert-base", "--max-tokens", "5", "--max_new_tokens=7"],
        ["--pad-token", "[PAD]", "--sort-key", "id", "--key-column=user_id"],
        ["-p", "8080", "-k", "abc", "-u", "ada"],  # short options are ambiguous: left alone
        ["--author", "ada", "--monkey", "3"],
        ["lr=0.1", "model.depth=5", "data=/tmp/x.csv"],
        ["--run-name=mask-rcnn-resnet50-fpn-coco", "--model", "sk-learn"],
        ["--lr", "-0.5", "positional"],
        ["--passes", "3", "--keyboard", "--tokenizer", "bert", "--max-tokens", "5"],
        ["--author", "ada", "--pass-through", "x", "--metric-key", "val_loss"],
        ["--object-key", "data/train.csv", "--out", "/home/ada/keys", "--rng-key", "0"],
        ["--url", "https://api.example/v1?ref=main", "git@github.com:o/r.git"],
        ["--note", "Invalid token: expected 3 segments"],
        [],
    ],
)
def test_redact_argv_keeps_ordinary_arguments(argv: list[str]) -> None:
    assert redact_argv(argv) == argv


def test_redact_argv_redacts_urls_in_any_argument() -> None:
    argv = ["--repo", "https://u:ghp_SECRET@github.com/o/r.git", "--data=s3://k:SECRET2@b/x"]
    assert redact_argv(argv) == ["--repo", "https://github.com/o/r.git", "--data=s3://b/x"]


@pytest.mark.parametrize(
    ("arg", "secret"),
    [
        ("ghp_" + "a1" * 18, "ghp_"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijkl", "github_pat_"),
        ("glpat-abcdefghij0123456789", "glpat-"),
        ("hf_abcdefghijklmnopqrstuvwxyz", "hf_"),
        ("sk-proj-abcdefghijklmnopqrst123", "sk-proj"),
        ("xoxb-1234567890-abcdef", "xoxb-"),
        ("AKIAABCDEFGHIJKLMNOP", "AKIA"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpw"),
    ],
)
def test_redact_argv_masks_known_token_shapes_anywhere(arg: str, secret: str) -> None:
    redacted = redact_argv(["--header", arg, "positional", arg])
    assert all(secret not in a for a in redacted)
    assert MASK in redacted[1]


def test_redact_argv_returns_a_new_list_of_the_same_length() -> None:
    argv = ["x.py", "--token", "abc", "--lr", "1"]
    out = redact_argv(argv)
    assert argv == ["x.py", "--token", "abc", "--lr", "1"]
    assert len(out) == len(argv)
    assert out is not argv


_secret_option = st.sampled_from(
    [
        "--api-key",
        "--api_key",
        "--token",
        "--password",
        "--passwd",
        "--secret",
        "--client-secret",
        "--auth",
        "--auth-token",
        "--credentials",
        "--private-key",
        "--hf_token",
    ]
)
_ordinary = st.sampled_from(["--lr", "0.1", "--tokenizer", "bert", "-p", "8080", "x.py", "--"])


@given(
    before=st.lists(_ordinary, max_size=4),
    option=_secret_option,
    secret=_secret,
    joined=st.booleans(),
    after=st.lists(_ordinary, max_size=4),
)
def test_no_secret_option_value_survives(
    before: list[str], option: str, secret: str, joined: bool, after: list[str]
) -> None:
    middle = [f"{option}={secret}"] if joined else [option, secret]
    redacted = redact_argv([*before, *middle, *after])
    assert not any(secret in arg for arg in redacted)
    # the ordinary arguments around it are untouched (an option before it may eat nothing)
    assert redacted[len(before) + len(middle) :] == after


# --- allowed_env -------------------------------------------------------------------


def test_allowed_env_keeps_only_the_allowlist() -> None:
    environ = {
        "CUDA_VISIBLE_DEVICES": "0,1",
        "OMP_NUM_THREADS": "4",
        "AWS_SECRET_ACCESS_KEY": "SECRET4",
        "HF_TOKEN": "hf_x",
        "PATH": "/usr/bin",
        "HOME": "/home/ada",
        "TRACKREPORT_STORE": "/home/ada/runs",
        "cuda_visible_devices": "9",  # names are case-sensitive
    }
    assert allowed_env(environ) == {"CUDA_VISIBLE_DEVICES": "0,1", "OMP_NUM_THREADS": "4"}


def test_allowed_env_redacts_values_and_keeps_allowlist_order() -> None:
    environ = {"SLURM_JOB_ID": "https://u:p@h/1", "CUDA_VISIBLE_DEVICES": "0"}
    result = allowed_env(environ)
    assert result == {"CUDA_VISIBLE_DEVICES": "0", "SLURM_JOB_ID": "https://h/1"}
    assert list(result) == [n for n in ENV_ALLOWLIST if n in environ]


def test_allowlist_holds_nothing_that_looks_secret_or_holds_paths() -> None:
    assert not [name for name in ENV_ALLOWLIST if looks_secret(name)]
    assert not {"PATH", "HOME", "PWD", "TRACKREPORT_STORE", "PYTHONPATH"} & set(ENV_ALLOWLIST)


# --- redact_text: error messages and other free text ----------------------------

_URL_ERROR = "could not reach https://carol:PW@api.example/v1?access_token=TOK"

# (text, expected): every secret masked, everything else exactly as it was
_TEXT_CASES = [
    # URLs: credentials and secret query parameters
    (f"RuntimeError: {_URL_ERROR}", "RuntimeError: could not reach https://api.example/v1"),
    ("GET https://h/x?key=K1&q=1 failed", "GET https://h/x?q=1 failed"),
    ("see https://h/x?api_key=K2 now", "see https://h/x now"),
    ("'https://h/x?token=K3' returned 401", "'https://h/x' returned 401"),
    ("https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-Signature=ff", "https://b.s3.amazonaws.com/k?X-Amz-Date=1"),
    ("https://a.blob.core.windows.net/c?sv=1&sig=K4", "https://a.blob.core.windows.net/c?sv=1"),
    ("https://h/x?password=p&secret=s&signature=g&r=1", "https://h/x?r=1"),
    ("postgres://app:hunter2@db:5432/prod refused", "postgres://db:5432/prod refused"),
    # webhook URLs: the path is the secret
    ("post https://hooks.slack.com/services/T0/B0/K5 failed", "post https://hooks.slack.com/services/*** failed"),
    ("hooks.slack.com/workflows/T0/A0/1/K6", "hooks.slack.com/workflows/***"),
    ("https://discord.com/api/webhooks/123/K7", "https://discord.com/api/webhooks/***"),
    # headers
    ("Authorization: Bearer K8abcdefgh", "Authorization: Bearer ***"),
    ("authorization: basic dXNlcjpwYXNz", "authorization: basic ***"),
    ("Authorization: Token K9abcdef", "Authorization: Token ***"),
    ("X-Api-Key: K10", "X-Api-Key: ***"),
    ("Cookie: K11", "Cookie: ***"),
    ("{'Authorization': 'Bearer K12abcdefgh'}", "{'Authorization': 'Bearer ***'}"),
    # key=value, key: value, JSON and Python reprs
    ("api_key=K13 lr=0.1", "api_key=*** lr=0.1"),
    ("Config(api_key='K14', lr=0.1)", "Config(api_key='***', lr=0.1)"),
    ('{"password": "K 15", "user": "ada"}', '{"password": "***", "user": "ada"}'),
    ("{'token': 'K16'}", "{'token': '***'}"),
    ("password: K17", "password: ***"),
    ("db.password=K18;", "db.password=***;"),
    ("AWS_SECRET_ACCESS_KEY=K19", "AWS_SECRET_ACCESS_KEY=***"),
    ("token=K20&page=2", "token=***&page=2"),
    ("invalid token: K21abc123", "invalid token: ***"),
    ('sys.exit("sig=K22")', 'sys.exit("sig=***")'),
    # options inside text (argparse errors)
    ("unrecognized arguments: --wandb-key K23 --lr 0.1", "unrecognized arguments: --wandb-key *** --lr 0.1"),
    ("unrecognized arguments: --password -K24", "unrecognized arguments: --password ***"),
    ("unrecognized arguments: --api-key=K25", "unrecognized arguments: --api-key=***"),
    # token shapes anywhere
    ("bad credentials ghp_" + "a1" * 18, "bad credentials ***"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijkl rejected", "*** rejected"),
    ("xoxb-1234567890-abcdef is revoked", "*** is revoked"),
    ("xoxp-1234567890-abcdef", "***"),
    ("key id AKIAABCDEFGHIJKLMNOP not found", "key id *** not found"),
    ("OpenAI said no to sk-proj-abcdefghijklmnopqrst123", "OpenAI said no to ***"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl expired", "jwt *** expired"),
    ("hf_abcdefghijklmnopqrstuvwxyz", "***"),
    # must stay as it is
    ("ValueError: shapes (3,4) and (5,) not aligned", None),
    ("Invalid token: expected 3 segments", None),
    ("jwt.exceptions.InvalidTokenError: Signature has expired", None),
    ("KeyError: 'api_key'", None),
    ("TokenError: bad request", None),
    ("unrecognized arguments: --passes 3 --keyboard --tokenizer bert --max-tokens 5 --author ada", None),
    ("FileNotFoundError: /home/ada/keys/data.csv", None),
    ("C:\\Users\\ada\\password_notes.txt missing", None),
    ("could not reach https://api.example/v1?ref=main&page=2#top", None),
    ("git@github.com:org/repo.git", None),
    ("ssh://git@github.com/org/repo.git", None),
    ("password authentication failed for user \"ada\"", None),
    ("sort_key=id, max_tokens=5, key_column=user", None),
    ("model sk-learn at step 5: loss=nan", None),
    ("the bearer of bad news", None),
    ("SystemExit: 3", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), _TEXT_CASES)
def test_redact_text(text: str, expected: str | None) -> None:
    redacted = redact_text(text)
    assert redacted == (text if expected is None else expected)
    assert redact_text(redacted) == redacted  # stable under a second pass


def test_text_table_is_large_and_both_ways() -> None:
    masked = [c for c in _TEXT_CASES if c[1] is not None]
    kept = [c for c in _TEXT_CASES if c[1] is None]
    assert len(_TEXT_CASES) >= 40 and len(masked) >= 25 and len(kept) >= 15
    for text, expected in masked:
        assert expected != text  # a "must be masked" case that changes nothing is a typo


@given(
    secret=_secret,
    name=st.sampled_from(["access_token", "token", "key", "api_key", "sig", "signature",
                          "X-Amz-Signature", "password", "secret"]),
    prefix=st.sampled_from(["RuntimeError: ", "could not reach ", "", "HTTP 401 for "]),
    suffix=st.sampled_from(["", " (after 3 retries)", ": timed out", "\nTraceback"]),
)
def test_no_secret_in_url_error_survives(secret: str, name: str, prefix: str, suffix: str) -> None:
    for url in (f"https://carol:{secret}@api.example/v1?{name}={secret}",
                f"https://api.example/v1?a=1&{name}={secret}",
                f"http://{secret}@10.0.0.1:8080/x"):
        text = f"{prefix}{url}{suffix}"
        redacted = redact_text(text)
        assert secret not in redacted
        assert "api.example" in redacted or "10.0.0.1" in redacted
        assert redacted.startswith(prefix) and redacted.endswith(suffix)


@given(secret=_secret, name=st.sampled_from(["api_key", "password", "token", "client_secret",
                                             "X-Api-Key", "Authorization", "HF_TOKEN"]),
       form=st.sampled_from(["{n}={s}", "{n}: {s}", "'{n}': '{s}'", '"{n}": "{s}"',
                             "{n}='{s}'", "--{n} {s}", "--{n}={s}"]))
def test_no_secret_pair_in_text_survives(secret: str, name: str, form: str) -> None:
    text = "failed with " + form.format(n=name, s=secret) + ", lr=0.1"
    redacted = redact_text(text)
    assert secret not in redacted
    assert redacted.endswith(", lr=0.1")


def test_outcome_scrubs_the_error_a_failed_run_ends_with() -> None:
    from trackreport.run import outcome

    status, error = outcome(RuntimeError, RuntimeError(_URL_ERROR))
    assert (status, error) == ("FAILED", "RuntimeError: could not reach https://api.example/v1")
    status, error = outcome(SystemExit, SystemExit("token=SECRET9"))
    assert (status, error) == ("FAILED", "SystemExit: token=***")
    assert outcome(ValueError, ValueError("lr must be > 0")) == ("FAILED", "ValueError: lr must be > 0")
    assert outcome(KeyError, KeyError("api_key")) == ("FAILED", "KeyError: 'api_key'")


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "key=" * 25_000,
        "https://" * 12_500,
        "https://a" + "b" * 100_000,
        "-" * 100_000,
        "token: " * 14_000,
        "--token x " * 10_000,
        "'token': '" * 10_000,
        "eyJabcde." * 11_000,
        "https://h/x?" + "a=1&" * 25_000,
    ],
    ids=lambda t: t[:12],
)
def test_redact_text_has_no_pathological_input(text: str) -> None:
    # linear time: a 100 kB message takes well under a second (no catastrophic backtracking)
    import time

    start = time.perf_counter()
    redact_text(text)
    assert time.perf_counter() - start < 10


def test_end_scrubs_an_error_given_directly(store: Path) -> None:
    import trackreport as tr

    run = tr.start_run()
    run.end("FAILED", error="could not reach https://carol:PW@api.example/v1?access_token=TOK")
    stored = tr.get_run(run.id).error
    assert "PW" not in stored and "TOK" not in stored and "api.example" in stored
