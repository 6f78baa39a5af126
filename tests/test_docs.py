"""The documentation: every relative link in the README and the guides leads somewhere."""

import re
from pathlib import Path

import pytest
from conftest import REPO

DOCUMENTS = [REPO / "README.md", REPO / "config" / "README.md"]
DOCUMENTS += sorted((REPO / "workflow" / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file: GitHub's slugs of its headings, and explicit ids."""
    text = path.read_text()
    slugs = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#{1,6} (.*)$", text, re.M)
    }
    return slugs | set(re.findall(r'<a id="([^"]+)"></a>', text))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_anchor_that_exist(document):
    links = [link for link in LINK.findall(document.read_text()) if "://" not in link]
    for link in links:
        target, _, anchor = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        assert path.exists(), f"{document.name}: {link} leads to no file"
        if anchor:
            assert anchor in anchors(path), f"{document.name}: {link} has no such anchor"


def test_the_readme_is_short_and_lists_every_guide():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for guide in (REPO / "workflow" / "docs").glob("*.md"):
        assert f"(workflow/docs/{guide.name})" in readme, guide.name
