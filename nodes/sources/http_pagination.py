"""Walking an API's pages: page number, offset, cursor field or ``Link`` header.

``pagination`` of an API data source::

    {style: page,   pageParam: page, sizeParam: per_page, pageSize: 100, startPage: 1}
    {style: offset, offsetParam: offset, limitParam: limit, pageSize: 100}
    {style: cursor, cursorParam: cursor, cursorPath: meta.next_cursor, sizeParam: limit}
    {style: link}                       # follow Link: <...>; rel="next"
    {style: none}                       # a single request (the default)

Page and offset styles stop at the first page holding fewer than ``pageSize`` records;
cursor stops when the cursor is missing or empty; link when there is no ``next``.
``maxPages`` bounds every style. Each page is parsed here; a page that is not JSON or
lacks the records path is yielded with ``problem`` set, so the node applies its
``onError`` policy (for the cursor style such a page also ends the walk: it carries
the only pointer to the next page).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from engine.errors import NodeConfigError
from nodes.sources.http_client import HttpFetcher, scrub_url

STYLES = ("none", "page", "offset", "cursor", "link")


@dataclass(frozen=True)
class Pagination:
    """How to ask for the next page."""

    style: str = "none"
    page_size: int = 100
    page_param: str = "page"
    start_page: int = 1
    size_param: str | None = None
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"
    max_pages: int | None = None

    @classmethod
    def from_resource(cls, node_id: str, resource: dict[str, Any]) -> Pagination:
        """Parse ``pagination`` of an API resource.

        Raises:
            NodeConfigError: unknown style or non-positive sizes.
        """
        raw = resource.get("pagination") or {}
        style = raw.get("style", "none")
        if style not in STYLES:
            raise NodeConfigError(
                node_id,
                f"data source '{resource.get('id')}': pagination style {style!r} is unknown; "
                "expected one of " + ", ".join(STYLES),
            )
        size = int(raw.get("pageSize", cls.page_size))
        if size < 1:
            raise NodeConfigError(node_id, f"pagination pageSize must be >= 1, got {size}")
        default_size_param = {"page": "per_page"}.get(style)
        return cls(
            style=style,
            page_size=size,
            page_param=raw.get("pageParam", cls.page_param),
            start_page=int(raw.get("startPage", cls.start_page)),
            size_param=raw.get("sizeParam", default_size_param),
            offset_param=raw.get("offsetParam", cls.offset_param),
            limit_param=raw.get("limitParam", cls.limit_param),
            cursor_param=raw.get("cursorParam", cls.cursor_param),
            cursor_path=raw.get("cursorPath", cls.cursor_path),
            max_pages=int(raw["maxPages"]) if raw.get("maxPages") else None,
        )


@dataclass
class Page:
    """One fetched page: its records, or the reason it could not be read."""

    number: int
    url: str
    status: int
    content_type: str
    size: int
    sha256: str
    records: list[dict[str, Any]] | None
    problem: str | None = None

    def metadata(self) -> dict[str, Any]:
        """What a quarantine entry keeps of the page (no headers, no body)."""
        return {
            "page": self.number,
            "url": self.url,
            "status": self.status,
            "contentType": self.content_type,
            "bytes": self.size,
            "sha256": self.sha256,
            "reason": self.problem,
        }


def lookup(doc: Any, path: str | None) -> Any:
    """Value at a dotted path (``data.items``, ``results.0.rows``); KeyError if absent."""
    if not path:
        return doc
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif (
            isinstance(doc, list)
            and part.lstrip("-").isdigit()
            and -len(doc) <= int(part) < len(doc)
        ):
            doc = doc[int(part)]
        else:
            raise KeyError(part)
    return doc


def iter_pages(
    fetcher: HttpFetcher,
    url: str,
    params: dict[str, Any],
    pagination: Pagination,
    records_path: str | None,
    *,
    on_retry: Callable[[str], None] | None = None,
) -> Iterator[Page]:
    """Fetch pages one by one (never more than one in memory) until the last one."""
    number = 0
    page_no = pagination.start_page
    offset = 0
    cursor: Any = None
    next_url = url
    while pagination.max_pages is None or number < pagination.max_pages:
        query = dict(params)
        p = pagination
        if p.style == "page":
            query[p.page_param] = page_no
            if p.size_param:
                query[p.size_param] = p.page_size
        elif p.style == "offset":
            query[p.offset_param] = offset
            query[p.limit_param] = p.page_size
        elif p.style == "cursor":
            if cursor is not None:
                query[p.cursor_param] = cursor
            if p.size_param:
                query[p.size_param] = p.page_size
        elif p.style == "link" and number > 0:
            query = {}  # the next link carries its own query string
        # An empty params dict would make httpx drop the query string of a next link.
        response = fetcher.get(next_url, query or None, on_retry=on_retry)
        number += 1
        body = response.content
        page = Page(
            number=number,
            url=scrub_url(str(response.request.url), None, fetcher.secrets()),
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            records=None,
        )
        doc: Any = None
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            page.problem = "the body is not JSON"
        if page.problem is None:
            try:
                found = lookup(doc, records_path)
            except KeyError:
                page.problem = f"records path {records_path!r} is missing"
            else:
                if not isinstance(found, list):
                    page.problem = (
                        f"records path {records_path or '(top level)'!r} holds "
                        f"{type(found).__name__}, expected a list of objects"
                    )
                elif not all(isinstance(r, dict) for r in found):
                    page.problem = "records are not all JSON objects"
                else:
                    page.records = found
        del body
        yield page
        count = len(page.records) if page.records is not None else p.page_size
        if p.style == "none":
            return
        if p.style in ("page", "offset"):
            if count < p.page_size or (page.records is not None and not page.records):
                return
            page_no += 1
            offset += count
        elif p.style == "cursor":
            if page.problem is not None:
                return
            try:
                cursor = lookup(doc, p.cursor_path)
            except KeyError:
                cursor = None
            if cursor in (None, ""):
                return
        elif p.style == "link":
            nxt = response.links.get("next", {}).get("url")
            if not nxt:
                return
            next_url = urljoin(str(response.request.url), nxt)
