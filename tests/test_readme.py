"""The front door: the README is short, its contents list every section, every link lands, and every command
in it is one the tools accept."""

from __future__ import annotations

import re
import shlex

import pytest

from crdb_dash import cli
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^a-z0-9 _-]", "", text).replace(" ", "-")


def anchors(path) -> set[str]:
    text = path.read_text()
    found = {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M) if not _in_code(text, m.start())}
    return found | set(re.findall(r'<a id="([^"]+)">', text))


def _in_code(text: str, at: int) -> bool:
    return text[:at].count("```") % 2 == 1


def commands(path) -> list[str]:
    """Shell lines of a Markdown file: its indented code blocks (fenced blocks hold YAML)."""
    text, lines = re.sub(r"```.*?```", "", path.read_text(), flags=re.S), []
    for block in re.findall(r"(?:^ {4}\S.*\n)+", text, re.M):
        lines += [line.strip() for line in block.splitlines()]
    return [re.sub(r"\s+#.*$", "", line) for line in lines if line and not line.startswith("#")]


def test_readme_is_short_and_its_contents_list_every_section():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"\]\(#([^)]+)\)", contents))
    sections = {slug(h) for h in re.findall(r"^## (.+)$", text, re.M)} - {"contents"}
    assert sections <= listed, f"not in Contents: {sorted(sections - listed)}"
    assert listed <= anchors(README), f"Contents links to no section: {sorted(listed - anchors(README))}"


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_every_relative_link_lands(path):
    text = path.read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)|href=\"([^\"]+)\"|src=\"([^\"]+)\"", text):
        target = next(t for t in target if t)
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        file, _, anchor = target.partition("#")
        where = (path.parent / file).resolve() if file else path
        if not where.exists() or (anchor and where.suffix == ".md" and anchor not in anchors(where)):
            broken.append(target)
    assert not broken, f"{path.name}: {broken}"


def test_every_command_in_the_readme_is_one_the_tools_accept():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    seen = set()
    for line in commands(README):
        words = [w for w in shlex.split(line) if not re.match(r"^[A-Z_]+=", w)]
        if words[0] == "export":
            continue
        if words[0] == ".":
            assert words[1] == ".venv/bin/activate" and re.search(r"^VENV\s*\?= \.venv$", makefile, re.M), line
            continue
        seen.add(words[0])
        if words[0] == "make":
            assert set(words[1:]) <= targets, line
        elif words[0] == "crdb-dash":
            try:
                cli._parser().parse_args(words[1:])
            except SystemExit:
                pytest.fail(f"crdb-dash does not accept: {line}")
        elif words[0] == "kubectl":
            assert words[-1] == "kubernetes/" and (ROOT / "kubernetes" / "kustomization.yaml").is_file(), line
        else:
            pytest.fail(f"a command no test checks: {line}")
    assert {"make", "crdb-dash", "kubectl"} <= seen
