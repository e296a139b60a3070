"""Deterministic JSON and YAML text for every generated file (sorted keys, stable layout), written atomically.

No project imports: every layer above may use it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml


def to_json(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_yaml(obj, block_strings: bool = False) -> str:
    """YAML with sorted keys; ``block_strings`` writes multi-line strings as ``|`` blocks (embedded JSON)."""
    return yaml.dump(obj, Dumper=_BlockDumper if block_strings else yaml.SafeDumper, sort_keys=True,
                     default_flow_style=False, allow_unicode=True, width=120)


def to_yaml_documents(objs: list) -> str:
    """Several YAML documents in one file, separated by ``---``, multi-line strings as blocks."""
    return "---\n".join(to_yaml(obj, block_strings=True) for obj in objs)


class _BlockDumper(yaml.SafeDumper):
    pass


def _block_str(dumper: yaml.SafeDumper, text: str):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _block_str)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
