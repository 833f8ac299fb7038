"""The visual builder and run view: static files of ``serve/ui`` at ``/`` and ``/ui``.

The pages are plain ES modules with vendored libraries (``serve/ui/vendor``), shipped as
package data, so nothing is fetched from elsewhere at run time. They call only the
public API below ``/api`` with the API key the user signs in with. No key is needed to
load the pages themselves; they hold no data.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from serve.errors import NotFound

router = APIRouter(include_in_schema=False)

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# The pages load only their own files; the API is same-origin.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


def _file(rel: str) -> Response:
    path = (UI_DIR / rel).resolve()
    if UI_DIR not in path.parents or not path.is_file() or path.suffix not in _TYPES:
        raise NotFound(f"no UI file '{rel}'")
    return FileResponse(
        path,
        media_type=_TYPES[path.suffix],
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/")
@router.get("/ui")
def ui_index() -> Response:
    return _file("index.html")


@router.get("/ui/{rel:path}")
def ui_file(rel: str) -> Response:
    return _file(rel or "index.html")
