"""Secret scrubbing for captured run context: URLs, argv, error text and the environment.

The report site is meant to be published, so anything trackreport captures on
its own (DESIGN.md section 2) goes through this module first:

- :func:`redact_url` strips credentials from URLs (``https://user:token@host``
  -> ``https://host``) and drops query or fragment parameters whose names look
  secret (``?access_token=...``, ``?sig=...``).
- :func:`redact_argv` replaces the values of options whose names look secret
  (``--api-key=...``, ``--token x``, ``HF_TOKEN=...``) by ``***``.
- :func:`redact_text` scrubs free text (the error a FAILED run ends with) by the
  same rules: URLs, ``name=value`` / ``name: value`` pairs, ``--option value``,
  ``Authorization`` headers and well-known token shapes.
- :func:`allowed_env` keeps only :data:`ENV_ALLOWLIST` from the environment.

Standard library only, regexes compiled at import: this runs at every
``start_run`` and at the end of every failed run (a few microseconds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote_plus

__all__ = [
    "ENV_ALLOWLIST",
    "MASK",
    "allowed_env",
    "looks_secret",
    "redact_argv",
    "redact_text",
    "redact_url",
]

MASK = "***"
"""What a secret value is replaced with."""

ENV_ALLOWLIST: tuple[str, ...] = (
    # Which accelerators and how many threads: explains speed and, with
    # PYTHONHASHSEED and CUBLAS_WORKSPACE_CONFIG, (non-)determinism.
    "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "CUBLAS_WORKSPACE_CONFIG",
    # Where the run sat in a batch job or a distributed launch.
    "SLURM_JOB_ID",
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "WORLD_SIZE",
    "RANK",
    "LOCAL_RANK",
)
"""The only environment variables ever captured: safe, short and useful to compare runs."""

# --- names that look secret -------------------------------------------------

# A name part that is secret on its own (matched against the whole part).
_SECRET_PARTS = frozenset(
    {
        "secret",
        "secrets",
        "password",
        "passwords",
        "passwd",
        "pwd",
        "passphrase",
        "auth",
        "authorization",
        "credential",
        "credentials",
        "creds",
        "cookie",
        "cookies",
        "apikey",
        "apikeys",
        "accesskey",
        "secretkey",
        "privatekey",
        "sessionid",
        "sas",
        "bearer",
        "jwt",
        "webhook",
        "webhooks",
    }
)
# Secret as the last word only: --pass, --db-pass, DB_PW (but --pass-through, --passes).
_SECRET_LAST_PARTS = frozenset({"pass", "pw"})
# Secret wherever they occur inside a part: PGPASSWORD, MYSECRET, GOOGLECREDENTIALS.
_SECRET_SUBSTRINGS = ("password", "passwd", "secret", "credential", "apikey")
# "key" is secret alone or after one of these (api-key, access_key, private-key, ...).
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "secret", "private", "ssh", "encryption", "signing", "master", "license"}
)
# A last word "key" is secret (--wandb-key, --openai-key, STRIPE_KEY) unless it follows
# one of these: a key into data, not a credential.
_DATA_KEY_QUALIFIERS = frozenset(
    {
        "sort", "primary", "foreign", "partition", "cache", "group", "join", "row", "column",
        "col", "metric", "lookup", "map", "index", "shard", "unique", "composite", "label",
        "target", "value", "image", "input", "output", "data", "field", "attr", "attribute",
        "config", "text", "feature", "rng", "prng", "seed", "random", "hash", "dict", "tag",
        "param", "dataset", "split", "sample", "batch", "class", "hot", "short", "dedup",
        "cluster", "bucket", "object", "blob", "file", "path", "prefix", "name", "sequence",
        "result", "score", "eval", "model", "state", "checkpoint", "ckpt", "event", "table",
        "record", "entity", "music", "song", "chord", "audio", "video", "frame",
        "prompt", "query", "answer", "context", "question", "response", "instruction",
    }
)
# "token" is a count or a vocabulary entry, not a credential, after one of these
# words (--max-token, --pad-token) or before one of those (--token-limit, --token-type-ids).
_TOKEN_COUNT_BEFORE = frozenset(
    {"max", "min", "num", "n", "pad", "bos", "eos", "unk", "sep", "cls", "mask", "special"}
)
_TOKEN_COUNT_AFTER = frozenset(
    {
        "id",
        "ids",
        "idx",
        "index",
        "type",
        "types",
        "count",
        "limit",
        "len",
        "length",
        "size",
        "budget",
        "embedding",
        "embeddings",
        "dim",
    }
)
# Only in URL query strings and fragments: presigned-URL signatures (S3, GCS, Azure SAS).
_QUERY_ONLY_PARTS = frozenset({"sig", "signature"})

# Every rule below needs one of these in the (lower-cased) name. Plain substring tests
# (fast C searches) clear most names and texts at once; a regex alternation of the same
# literals is many times slower on long text.
_HINTS = (
    "pass", "pw", "secret", "auth", "cred", "cookie", "key", "token", "session", "sas",
    "bearer", "jwt", "hook", "connection", "sig",
)


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    for needle in needles:
        if needle in text:
            return True
    return False


def _hinted(lower: str) -> bool:
    return _contains_any(lower, _HINTS)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-_.\s:/]+")


def _name_parts(name: str) -> list[str]:
    """Split ``--clientSecret`` / ``API_KEY`` / ``db.password`` into lower-case words."""
    name = _CAMEL.sub("_", name.lstrip("-+~"))
    return [part for part in _SEPARATORS.split(name.lower()) if part]


def looks_secret(name: str) -> bool:
    """Tell whether an option, variable or parameter name looks like it holds a secret.

    The name (leading dashes dropped) is split into words on ``-``, ``_``,
    ``.`` and camelCase boundaries and lower-cased; it looks secret when a word
    is one of ``secret(s) password(s) passwd pwd passphrase auth authorization
    credential(s) creds cookie(s) apikey accesskey secretkey privatekey
    sessionid sas bearer jwt webhook(s)``, or contains ``password passwd secret
    credential apikey`` (``PGPASSWORD``); or the last word is ``pass`` or ``pw``
    (``--pass``, ``DB_PW``; ``--passes`` and ``--pass-through`` are kept); or when

    - a word ends in ``token`` (``token``, ``hftoken``), except the word
      ``token`` after a count or vocabulary word (``max min num n pad bos eos
      unk sep cls mask special``) or before one (``id ids idx index type types
      count limit len length size budget embedding(s) dim``): ``--max-token 5``,
      ``--pad-token``, ``--token-type-ids`` are kept (``--id-token`` is not),
      and so are ``--max-tokens`` and ``--tokenizer`` (other words);
    - ``key`` is the only word, or follows ``api access secret private ssh
      encryption signing master license`` (``--api-key``, ``AWS_ACCESS_KEY_ID``),
      or is the last word after any word but a data word (``sort primary
      column metric label dataset object ...``): ``--wandb-key`` and
      ``OPENAI_KEY`` are masked, ``--sort-key`` and ``--key-column`` kept;
    - ``session`` is followed by ``id`` or ``key``, or ``connection`` by
      ``string`` (Azure connection strings carry an account key).

    Over-masking a harmless value costs a little information on the report;
    missing a secret publishes it, so the rule errs on the side of masking.
    """
    if not _hinted(name.lower()):
        return False
    parts = _name_parts(name)
    for i, part in enumerate(parts):
        if part in _SECRET_PARTS or any(s in part for s in _SECRET_SUBSTRINGS):
            return True
        prev = parts[i - 1] if i else ""
        last = i == len(parts) - 1
        if last and part in _SECRET_LAST_PARTS:
            return True
        if part.endswith("token"):
            after = parts[i + 1] if i + 1 < len(parts) else ""
            if part != "token" or (
                prev not in _TOKEN_COUNT_BEFORE and after not in _TOKEN_COUNT_AFTER
            ):
                return True
        if part == "key" and (
            len(parts) == 1
            or prev in _KEY_QUALIFIERS
            or (last and prev not in _DATA_KEY_QUALIFIERS)
        ):
            return True
        if part in ("id", "key") and prev == "session":
            return True
        if part == "string" and prev == "connection":
            return True
    return False


def _query_name_secret(name: str) -> bool:
    return looks_secret(name) or (
        "sig" in name.lower() and bool(_QUERY_ONLY_PARTS.intersection(_name_parts(name)))
    )


# --- URLs -------------------------------------------------------------------

# (the lookbehind lets a scan start only at the beginning of a scheme: much faster)
_SCHEME = r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://"
# scheme://userinfo@ : the authority ends at the first / ? # or whitespace, and the
# userinfo runs to the last @ inside it (an unencoded @ in a password is common).
_USERINFO = re.compile(rf"(?P<scheme>{_SCHEME})(?P<userinfo>[^/?#\s]*)@")
# A URL in running text ends at whitespace, a quote or an angle bracket, and a
# final punctuation mark belongs to the sentence ("... reach https://h/x?a=1: timed out").
_URL = re.compile(rf"{_SCHEME}[^\s\"'<>`]*[^\s\"'<>`.,;:!?)\]}}]")
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git", "sftp"})
# Webhook URLs whose path is the credential: Slack, Discord, Microsoft Teams.
_WEBHOOK = re.compile(
    r"(?P<base>hooks\.slack\.com/(?:services|workflows|triggers)/"
    r"|discord(?:app)?\.com/api/webhooks/"
    r"|\.webhook\.office\.com/webhookb2/)"
    r"[^\s\"'<>`?#]+",
    re.I,
)


def _strip_userinfo(match: re.Match[str]) -> str:
    scheme = match["scheme"]
    user = match["userinfo"].partition(":")[0]
    if scheme[:-3].lower() in _SSH_SCHEMES and user:
        # An ssh login name is not a credential (keys are); its password is.
        return f"{scheme}{user}@"
    return scheme


def _scrub_params(params: str) -> str:
    kept = []
    for param in params.split("&"):
        name, eq, value = param.partition("=")
        if eq and _query_name_secret(unquote_plus(name)):
            continue
        if "://" in value:
            value = _scrub_query(value)
        kept.append(f"{name}{eq}{value}")
    return "&".join(p for p in kept if p)


def _scrub_query(url: str) -> str:
    base, hash_, fragment = url.partition("#")
    base, qmark, query = base.partition("?")
    if qmark:
        query = _scrub_params(query)
        base = f"{base}?{query}" if query else base
    if hash_:
        if "=" in fragment:  # OAuth implicit flow: #access_token=...
            fragment = _scrub_params(fragment)
        base = f"{base}#{fragment}" if fragment else base
    return base


def redact_url(url: str) -> str:
    """Remove credentials from every URL in ``url``.

    - ``https://user:token@host/x`` and ``https://token@host/x`` become
      ``https://host/x`` (for any scheme: ``git+https``, ``s3``, ``postgres``,
      ...). For ``ssh://`` (and ``git+ssh``, ``sftp``) only the password is
      removed: ``ssh://git@host`` stays, ``ssh://user:pw@host`` becomes
      ``ssh://user@host``.
    - Query and fragment parameters whose names look secret (see
      :func:`looks_secret`, plus ``sig`` and ``signature`` of presigned URLs)
      are dropped: ``?access_token=abc&ref=main`` becomes ``?ref=main``.
    - Webhook URLs whose path is the secret (Slack ``hooks.slack.com/services/...``,
      Discord ``/api/webhooks/...``, Teams ``webhook.office.com/webhookb2/...``)
      keep only the host and the fixed part: ``hooks.slack.com/services/***``.
    - Text without ``://`` is returned unchanged (but for webhooks), so
      scp-style ``git@github.com:org/repo.git`` (``git@`` is no secret) and
      plain paths pass through. A URL embedded in a longer string
      (``--repo=https://...``, ``git+https://tok@host/r.git@v1``) is redacted
      in place; in running text a URL ends at whitespace, quotes or ``<>``.

    Args:
        url: a URL, or any string that may contain URLs.

    Returns:
        The string with credentials removed.
    """
    if "hook" in url.lower():
        url = _WEBHOOK.sub(lambda m: f"{m['base']}{MASK}", url)
    if "://" not in url:
        return url
    url = _USERINFO.sub(_strip_userinfo, url)
    if "?" in url or "#" in url:
        url = _URL.sub(lambda m: _scrub_query(m.group(0)), url)
    return url


# --- token shapes, pairs and options in text ----------------------------------

# Credentials with a recognisable shape, masked wherever they appear.
_KNOWN_TOKENS = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"
    r"|hf_[A-Za-z0-9]{20,}"
    r"|sk-[A-Za-z0-9_\-]{20,}"  # OpenAI, Anthropic (sk-ant-...), DeepSeek, ...
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe
    r"|xox[abposre]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|xapp-[A-Za-z0-9\-]{10,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids (long-term, temporary)
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API keys
    r"|ya29\.[A-Za-z0-9_\-]{20,}"  # Google OAuth access tokens
    r"|npm_[A-Za-z0-9]{30,}"
    r"|pypi-[A-Za-z0-9_\-]{40,}"
    r"|eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"  # JWTs
    r")"
)
# Literal starts of the shapes above, and auth scheme words: fast tests before the regexes.
_TOKEN_PREFIXES = (
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "hf_", "sk-", "k_live_",
    "k_test_", "xox", "xapp-", "AKIA", "ASIA", "AIza", "ya29.", "npm_", "pypi-", "eyJ",
)
_AUTH_WORDS = ("bearer", "basic", "digest", "negotiate")
# The credential after an HTTP auth scheme word (Authorization: Bearer <token>).
_AUTH_SCHEME = re.compile(
    r"(?i)(?P<scheme>\b(?:bearer|basic|digest|negotiate)\s+)(?P<value>[^\s\"',;]{8,})"
)
# name=value, name: value, 'name': 'value', "name": "value" (headers, JSON, reprs,
# log lines). The value may follow an auth scheme word and may be quoted.
_PAIR = re.compile(
    r"(?P<q>[\"']?)\b(?P<name>[A-Za-z_][\w.\-]*)(?P=q)"
    r"(?P<sep>[ \t]*(?::|=)[ \t]*)"
    r"(?P<scheme>(?i:bearer|basic|token|digest|negotiate|bot)[ \t]+)?"
    r"(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s\"',;&)\]}>]+))"
)
# --name value in text ("unrecognized arguments: --token abc").
_TEXT_OPTION = re.compile(
    r"(?<!\S)(?P<option>--?[A-Za-z][\w.\-]+)(?P<sep>[ \t]+)(?P<value>(?!--)[^\s\"',;]+)"
)
# Unquoted "word: value" with one of these words is often prose ("Invalid token:
# expected 3 parts"): masked only when the value looks like a credential.
_PROSE_WORDS = frozenset({"token", "key", "auth", "pass", "pw", "bearer"})
_HAS_DIGIT = re.compile(r"\d")
_SCHEME_WORD = re.compile(r"(?i:bearer|basic|token|digest|negotiate|bot)[ \t]+")
# "InvalidTokenError: Signature has expired" names an exception, not a secret.
_EXCEPTION_SUFFIXES = ("error", "exception", "warning")


def _credential_like(value: str) -> bool:
    return len(value) >= 16 or (len(value) >= 6 and bool(_HAS_DIGIT.search(value)))


def _masked_pair(match: re.Match[str]) -> str | None:
    """The pair with its value masked, or None when it is no secret."""
    name = match["name"]
    if name.lower().endswith(_EXCEPTION_SUFFIXES) or not _query_name_secret(name):
        return None
    group = next(g for g in ("dq", "sq", "bare") if match[g] is not None)
    value = match[group]
    if not value or value == MASK:
        return None
    prose = not match["q"] and group == "bare" and ":" in match["sep"]
    if prose and name.lower() in _PROSE_WORDS and not _credential_like(value):
        return None
    start = match.start(group)
    if group != "bare" and (scheme := _SCHEME_WORD.match(value)):
        start += scheme.end()  # 'Bearer ***': keep the scheme word inside the quotes
        if value[scheme.end() :] == MASK:
            return None
    closing = {"dq": '"', "sq": "'"}.get(group, "")
    return f"{match.string[match.start() : start]}{MASK}{closing}"


def _mask_pairs(text: str) -> str:
    # A loop rather than re.sub: after a pair that is no secret ("SystemExit: token=x",
    # "arguments: --api-key=x") the search resumes at its value, which may hold one.
    out: list[str] = []
    done = 0
    match = _PAIR.search(text)
    while match is not None:
        masked = _masked_pair(match)
        if masked is None:
            match = _PAIR.search(text, match.end("sep"))
            continue
        out.append(text[done : match.start()])
        out.append(masked)
        done = match.end()
        match = _PAIR.search(text, done)
    out.append(text[done:])
    return "".join(out)


def _mask_text_option(match: re.Match[str]) -> str:
    if match["value"] == MASK or not looks_secret(match["option"]):
        return match.group(0)
    return f"{match['option']}{match['sep']}{MASK}"


def _mask_auth_scheme(match: re.Match[str]) -> str:
    return match.group(0) if match["value"] == MASK else f"{match['scheme']}{MASK}"


def redact_text(text: str) -> str:
    """Remove secrets from free text, such as the error a FAILED run ends with.

    The same rules as for argv, applied anywhere in the text:

    - URLs lose credentials and secret query parameters (:func:`redact_url`);
    - ``name=value``, ``name: value``, ``'name': 'value'`` and ``"name": "value"``
      (headers, JSON, Python reprs, ``key=value`` logs) have the value masked
      when the name looks secret (:func:`looks_secret`, plus ``sig`` and
      ``signature``): ``api_key='abc'`` -> ``api_key='***'``,
      ``Authorization: Token abc`` -> ``Authorization: Token ***``. An unquoted
      ``token:``, ``key:``, ``auth:`` ... is prose as often ("Invalid token:
      expected ..."), so there the value is masked only when it looks like a
      credential (a digit and 6+ characters, or 16+ characters);
    - ``--name value`` with a secret-looking option name masks the value;
    - ``Bearer``/``Basic``/``Digest``/``Negotiate`` followed by 8+ characters,
      and well-known token shapes (GitHub ``ghp_``/``github_pat_``, GitLab
      ``glpat-``, Hugging Face ``hf_``, ``sk-...``, Stripe ``sk_live_``, Slack
      ``xox?-``/``xapp-``, AWS ``AKIA``/``ASIA``, Google ``AIza``/``ya29.``,
      npm, PyPI, JWTs ``eyJ...``) are masked wherever they appear.

    Ordinary text (``--passes 3``, ``--max-tokens 5``, paths, URLs without
    credentials) is returned unchanged; the result is stable under a second pass.

    Args:
        text: any text, e.g. ``"RuntimeError: could not reach https://u:p@host"``.

    Returns:
        The text with secrets removed or replaced by ``***``.
    """
    if not text:
        return text
    text = redact_url(text)
    # Each pass runs only when a plain substring test says it may find something.
    lower = text.lower()
    if _hinted(lower):  # else no secret-looking name: no pair or option to look at
        if "=" in text or ":" in text:
            text = _mask_pairs(text)
        if "-" in text:
            text = _TEXT_OPTION.sub(_mask_text_option, text)
    if _contains_any(lower, _AUTH_WORDS):
        text = _AUTH_SCHEME.sub(_mask_auth_scheme, text)
    if _contains_any(text, _TOKEN_PREFIXES):
        text = _KNOWN_TOKENS.sub(MASK, text)
    return text


# --- argv -------------------------------------------------------------------

_OPTION = re.compile(r"(?P<dashes>--?)(?P<name>[^=\s]{2,})(?:(?P<eq>=)(?P<value>.*))?", re.S)
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_+~][\w.\-+~]*)=(?P<value>.*)", re.S)
_NUMBER = re.compile(r"-\d[\d.e\-+]*")


def _mask_value(value: str) -> str:
    return MASK if value else value


def redact_argv(argv: Iterable[str]) -> list[str]:
    """Return a copy of ``argv`` with secret values replaced by ``***``.

    Rules, applied to every argument (also after ``--``):

    - ``--name=value`` and ``-name=value``: the value is masked when the name
      looks secret (:func:`looks_secret`): ``--api-key=abc`` -> ``--api-key=***``.
    - ``--name value``: when the name looks secret the next argument is masked,
      unless it is a long option (starts with ``--``): ``--password x`` and
      ``--password -X`` -> ``--password ***``, while in ``--token --lr 0.1``
      the token option has no value. (A password may well start with a dash;
      a short flag right after a value-less secret option is masked too.)
    - ``NAME=value`` (environment or Hydra-style overrides, ``API_KEY=abc``,
      ``db.password=x``): the value is masked when NAME looks secret.
    - Single-letter options (``-p x``) are left alone: ``-p`` is a port as often
      as a password, and masking every short option would hide too much.
    - Every argument then goes through :func:`redact_text`: URL credentials,
      ``Authorization: Bearer ...`` headers, secret ``name: value`` pairs and
      well-known token shapes (``ghp_...``, ``sk-...``, ``AKIA...``, JWTs, ...)
      are masked wherever they appear.

    Args:
        argv: the arguments, e.g. ``sys.argv``; non-strings are passed through ``str``.

    Returns:
        A new list of the same length.
    """
    out: list[str] = []
    mask_next = False
    for raw in argv:
        arg = str(raw)
        if mask_next:
            mask_next = False
            if not arg.startswith("--"):
                out.append(_mask_value(arg))
                continue
        option = _OPTION.fullmatch(arg) if arg.startswith("-") else None
        if option is not None and not _NUMBER.fullmatch(arg):
            if looks_secret(option["name"]):
                if option["eq"]:
                    arg = f"{option['dashes']}{option['name']}={_mask_value(option['value'])}"
                else:
                    mask_next = True
        elif option is None and (assignment := _ASSIGNMENT.fullmatch(arg)):
            if looks_secret(assignment["name"]):
                arg = f"{assignment['name']}={_mask_value(assignment['value'])}"
        out.append(redact_text(arg))
    return out


# --- environment --------------------------------------------------------------


def allowed_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the allowlisted variables of ``environ`` (:data:`ENV_ALLOWLIST`), values URL-redacted.

    Args:
        environ: usually ``os.environ``.

    Returns:
        ``{name: value}`` in allowlist order, only for variables that are set.
    """
    return {name: redact_url(environ[name]) for name in ENV_ALLOWLIST if name in environ}
