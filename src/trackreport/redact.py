"""Secret scrubbing for captured run context: URLs, argv and the environment.

The report site is meant to be published, so anything trackreport captures on
its own (DESIGN.md section 2) goes through this module first:

- :func:`redact_url` strips credentials from URLs (``https://user:token@host``
  -> ``https://host``) and drops query or fragment parameters whose names look
  secret (``?access_token=...``, ``?sig=...``).
- :func:`redact_argv` replaces the values of options whose names look secret
  (``--api-key=...``, ``--token x``, ``HF_TOKEN=...``) by ``***``.
- :func:`allowed_env` keeps only :data:`ENV_ALLOWLIST` from the environment.

Standard library only: this runs at every ``start_run``.
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
    }
)
# Secret wherever they occur inside a part: PGPASSWORD, MYSECRET, GOOGLECREDENTIALS.
_SECRET_SUBSTRINGS = ("password", "passwd", "secret", "credential", "apikey")
# "key" is secret alone or after one of these (api-key, access_key, private-key, ...).
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "secret", "private", "ssh", "encryption", "signing", "master", "license"}
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
    sessionid sas``, or contains ``password passwd secret credential apikey``
    (``PGPASSWORD``); or when

    - a word ends in ``token`` (``token``, ``hftoken``), except the word
      ``token`` after a count or vocabulary word (``max min num n pad bos eos
      unk sep cls mask special``) or before one (``id ids idx index type types
      count limit len length size budget embedding(s) dim``): ``--max-token 5``,
      ``--pad-token``, ``--token-type-ids`` are kept (``--id-token`` is not),
      and so are ``--max-tokens`` and ``--tokenizer`` (other words);
    - ``key`` is the only word, or follows ``api access secret private ssh
      encryption signing master license`` (``--api-key``, ``AWS_ACCESS_KEY_ID``),
      while ``--sort-key`` and ``--key-column`` are kept;
    - ``session`` is followed by ``id`` or ``key``, or ``connection`` by
      ``string`` (Azure connection strings carry an account key).

    Over-masking a harmless value costs a little information on the report;
    missing a secret publishes it, so the rule errs on the side of masking.
    """
    parts = _name_parts(name)
    if not parts:
        return False
    for i, part in enumerate(parts):
        if part in _SECRET_PARTS or any(s in part for s in _SECRET_SUBSTRINGS):
            return True
        prev = parts[i - 1] if i else ""
        if part.endswith("token"):
            after = parts[i + 1] if i + 1 < len(parts) else ""
            if part != "token" or (
                prev not in _TOKEN_COUNT_BEFORE and after not in _TOKEN_COUNT_AFTER
            ):
                return True
        if part == "key" and (len(parts) == 1 or prev in _KEY_QUALIFIERS):
            return True
        if part in ("id", "key") and prev == "session":
            return True
        if part == "string" and prev == "connection":
            return True
    return False


def _query_name_secret(name: str) -> bool:
    return looks_secret(name) or bool(_QUERY_ONLY_PARTS.intersection(_name_parts(name)))


# --- URLs -------------------------------------------------------------------

_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*://"
# scheme://userinfo@ : the authority ends at the first / ? # or whitespace, and the
# userinfo runs to the last @ inside it (an unencoded @ in a password is common).
_USERINFO = re.compile(rf"(?P<scheme>{_SCHEME})(?P<userinfo>[^/?#\s]*)@")
_URL = re.compile(rf"{_SCHEME}[^\s]*")
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git", "sftp"})


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
    - Text without ``://`` is returned unchanged, so scp-style
      ``git@github.com:org/repo.git`` (``git@`` is no secret) and plain paths
      pass through. A URL embedded in a longer string (``--repo=https://...``,
      ``git+https://tok@host/r.git@v1``) is redacted in place.

    Args:
        url: a URL, or any string that may contain URLs.

    Returns:
        The string with credentials removed.
    """
    if "://" not in url:
        return url
    url = _USERINFO.sub(_strip_userinfo, url)
    if "?" in url or "#" in url:
        url = _URL.sub(lambda m: _scrub_query(m.group(0)), url)
    return url


# --- argv -------------------------------------------------------------------

# Credentials with a recognisable shape, masked wherever they appear in argv
# (a positional argument, --header "Authorization: Bearer ...").
_KNOWN_TOKENS = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"
    r"|hf_[A-Za-z0-9]{20,}"
    r"|sk-[A-Za-z0-9_\-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r")"
    r"|(?<=[Bb]earer )[^\s\"']+"
    r"|(?<=[Bb]asic )[A-Za-z0-9+/=]{8,}"
)
_OPTION = re.compile(r"(?P<dashes>--?)(?P<name>[^=\s]{2,})(?:(?P<eq>=)(?P<value>.*))?", re.S)
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_+~][\w.\-+~]*)=(?P<value>.*)", re.S)
_NUMBER = re.compile(r"-\d[\d.e\-+]*")


def _mask_value(value: str) -> str:
    return MASK if value else value


def _clean(arg: str) -> str:
    return _KNOWN_TOKENS.sub(MASK, redact_url(arg))


def redact_argv(argv: Iterable[str]) -> list[str]:
    """Return a copy of ``argv`` with secret values replaced by ``***``.

    Rules, applied to every argument (also after ``--``):

    - ``--name=value`` and ``-name=value``: the value is masked when the name
      looks secret (:func:`looks_secret`): ``--api-key=abc`` -> ``--api-key=***``.
    - ``--name value``: when the name looks secret the next argument is masked,
      unless it is itself an option (starts with ``-`` and is not a negative
      number): ``--password x`` -> ``--password ***``.
    - ``NAME=value`` (environment or Hydra-style overrides, ``API_KEY=abc``,
      ``db.password=x``): the value is masked when NAME looks secret.
    - Single-letter options (``-p x``) are left alone: ``-p`` is a port as often
      as a password, and masking every short option would hide too much.
    - Every argument then loses URL credentials (:func:`redact_url`), and
      well-known token shapes (``ghp_...``, ``github_pat_...``, ``glpat-...``,
      ``hf_...``, ``sk-...``, ``xox?-...``, ``AKIA...``, ``AIza...``, the word
      after ``Bearer``/``Basic``) are masked wherever they appear.

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
            if not arg.startswith("-") or _NUMBER.fullmatch(arg):
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
        out.append(_clean(arg))
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
