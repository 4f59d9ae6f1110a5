"""The "Report a problem with this page" link: a new GitHub issue pre-filled with the run stamp.

The stamp rows come from the executed notebook; the commit is the one the site was built from
(`bookbuild.plugin.build_commit`). The commit is not part of the execution cache key: a new commit
re-renders pages, it does not re-execute chapters.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

_GITHUB = re.compile(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$")


def new_issue_url(repo_url: str | None) -> str | None:
    """`https://github.com/OWNER/REPO/issues/new` for a GitHub repository URL, else `None`."""
    match = _GITHUB.match(repo_url or "")
    if not match:
        return None
    owner, repo = match.groups()
    return f"https://github.com/{owner}/{repo}/issues/new"


def report_link(new_issue: str, *, title: str, page: str, stamp_rows: list[tuple[str, str]]) -> str:
    """The URL of a new issue about one page, its body holding the page's run stamp.

    Examples:
        >>> url = report_link("https://github.com/o/r/issues/new", title="1. Neurons",
        ...                   page="chapters/01-neurons/", stamp_rows=[("Commit", "abc")])
        >>> url.startswith("https://github.com/o/r/issues/new?title=")
        True
        >>> "Commit+%7C+abc" in url
        True
    """
    table = "\n".join(f"| {name} | {value} |" for name, value in stamp_rows)
    body = (
        f"Page: {title} (`{page}`)\n\n"
        "What is wrong (what you did, what you saw, what you expected):\n\n\n\n"
        "Run stamp of the page:\n\n"
        f"| | |\n|---|---|\n{table}\n"
    )
    query = urlencode({"title": f"Problem on page {title} ({page.strip('/')})", "body": body})
    return f"{new_issue}?{query}"
