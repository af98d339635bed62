"""The environment section of a run page, from the run's captured context."""

from __future__ import annotations

import shlex
from typing import Any

from . import format as fmt
from .pages import Fact, KeyValue

_KNOWN_CONTEXT = {"user", "host", "git", "source", "argv", "command", "packages", "env",
                  "entry_point", "python"}


def environment(context: dict[str, Any]) -> tuple[list[Fact], list[KeyValue], str]:
    """(environment facts, packages, command line) from a run's captured context."""
    facts: list[Fact] = []
    python = context.get("python")
    if isinstance(python, dict) and python.get("version"):
        impl = python.get("implementation")
        facts.append(Fact("Python", str(python["version"]) + (f" ({impl})" if impl else "")))
    elif isinstance(python, str):
        facts.append(Fact("Python", python))
    entry = context.get("entry_point")
    if isinstance(entry, dict):
        if entry.get("module"):
            facts.append(Fact("Entry point", f"module {entry['module']}"))
        elif entry.get("path"):
            facts.append(Fact("Entry point", str(entry["path"])))
    for key in sorted(context):
        if key in _KNOWN_CONTEXT:
            continue
        value = context[key]
        if isinstance(value, (str, int, float, bool)):
            label = key.replace("_", " ")
            facts.append(Fact(label[:1].upper() + label[1:], fmt.param(value)))
        elif isinstance(value, dict) and all(isinstance(v, (str, int, float, bool))
                                             for v in value.values()) and len(value) <= 20:
            for sub in sorted(value):
                label = f"{key} {sub}".replace("_", " ")
                facts.append(Fact(label[:1].upper() + label[1:], fmt.param(value[sub])))
    env = context.get("env")
    if isinstance(env, dict):
        for key in sorted(env):
            facts.append(Fact(f"${key}", fmt.param(env[key])))
    packages: list[KeyValue] = []
    raw = context.get("packages")
    if isinstance(raw, dict):
        packages = [KeyValue(str(k), fmt.param(v)) for k, v in sorted(raw.items(),
                                                                       key=lambda kv: str(kv[0]))]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, str):
                name, _, version = item.partition("==")
                packages.append(KeyValue(name, version))
            elif isinstance(item, dict) and "name" in item:
                packages.append(KeyValue(str(item["name"]), str(item.get("version", ""))))
        packages.sort(key=lambda kv: kv.key.lower())
    command = ""
    argv = context.get("argv")
    module = None
    if isinstance(entry, dict):
        argv = entry.get("argv", argv)
        module = entry.get("module")
    if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
        if isinstance(module, str) and module:
            command = shlex.join(["python", "-m", module, *argv[1:]])
        else:
            command = shlex.join(["python", *argv])
    elif isinstance(context.get("command"), str):
        command = context["command"]
    return facts, packages, command


