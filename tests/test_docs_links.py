"""The README and docs/ stay self-contained and name only endpoints that exist."""

import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
API_PATH = re.compile(r"`(?:(?:GET|POST|PUT|PATCH|DELETE)[ ,A-Z]* )?(/(?:api|account)/[^`?\s]*)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_point_at_files_in_the_repository(page):
    targets = [t for t in LINK.findall(page.read_text()) if "://" not in t]
    missing = [t for t in targets if not (page.parent / t).resolve().is_file()]
    assert missing == []
    assert "../shared" not in page.read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_api_path_mentioned_exists(page):
    # "/api/" is the base path, and a path without its slash is the docs' example of the trailing-slash rule.
    paths = {m for m in API_PATH.findall(page.read_text()) if "…" not in m and m != "/api/" and m.endswith("/")}
    unresolved = []
    for path in sorted(paths):
        concrete = re.sub(r"\{[^}]+\}|<[^>]+>", "1", path)
        try:
            resolve(concrete)
        except Resolver404:
            unresolved.append(path)
    assert unresolved == []


def test_the_docs_name_the_endpoints():
    mentioned = {m for page in PAGES for m in API_PATH.findall(page.read_text())}
    assert len(mentioned) > 30
