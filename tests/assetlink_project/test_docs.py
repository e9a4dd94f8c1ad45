"""The documentation: a README a newcomer reads in minutes, every page it links to there, and
nothing in the repository pointing outside it. `make test` also builds docs/ with
`mkdocs build --strict`, which fails on a broken link or anchor between the pages."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Paths out of the repository: the project's shared folder beside the work trees, or a work tree's
# absolute path. (Written as patterns so that this file does not match itself.)
OUTSIDE = re.compile(r"\.\./shared/|/work/(main|wt)\b")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "__pycache__", ".hypothesis"}
BINARY = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".gz", ".mp4", ".webp"}


def _repository_files():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if tracked.returncode == 0 and tracked.stdout:
        paths = (ROOT / line for line in tracked.stdout.splitlines())
    else:  # not a git checkout (an unpacked archive): every file outside the skipped folders
        paths = ROOT.rglob("*")
    for path in paths:
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIPPED_DIRS or path.suffix in BINARY or not path.is_file():
            continue
        yield path


def test_readme_is_short():
    assert README.stat().st_size <= 10 * 1024, "README.md is over 10 KB: move details to docs/"


def test_readme_links_resolve():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "README.md links to no page"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_nothing_points_outside_the_repository():
    offenders = []
    for path in _repository_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "references outside the repository:\n" + "\n".join(offenders)
