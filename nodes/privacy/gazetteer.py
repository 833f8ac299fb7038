# ruff: noqa: RUF001
"""Given names and surnames of 105 countries, for names that nothing else reveals.

The lists come from ``names-dataset`` (first and last names of public social-network
profiles, ranked per country; Apache-2.0). That library has nothing to do with any
data this project generates or evaluates on: the test and benchmark sets draw their
names from hand-written lists and from Faker's locales.

The library's own files are two pickles that take ~1.3 GB and ~20 s to load, so they
are read once per machine and reduced to what the name rules need: every one-word name
ranked within :data:`MAX_RANK` in some country, with its best rank as a given name and
as a surname. The reduced table (64-bit hashes of the lower-case words and two rank
columns, ~15 MB in memory) is kept in the cache folder
(``PIPELINE_BUILDER_CACHE_DIR``, default ``~/.cache/pipeline-builder``), written under a
file lock so that parallel workers build it once; a worker then loads it in a few
milliseconds. ``python -m nodes.privacy.gazetteer`` builds it ahead of time.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import PipelineBuilderError

MAX_RANK = 12_000
_FORMAT = 1
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


class GazetteerError(PipelineBuilderError):
    """The names table could not be built (``names-dataset`` missing or unreadable)."""


@dataclass(frozen=True)
class Gazetteer:
    """Best rank of a word as a given name and as a surname (0: not one), by word hash."""

    keys: np.ndarray  # sorted uint64 hashes of the lower-case words
    given: np.ndarray  # uint16 best rank as a given name, 0 when none
    surname: np.ndarray  # uint16 best rank as a surname, 0 when none

    def ranks(self, words: list[str]) -> tuple[list[int], list[int]]:
        """(given rank, surname rank) of each word, 0 where it is not one."""
        if not words:
            return [], []
        h = np.fromiter((word_hash(w) for w in words), dtype=np.uint64, count=len(words))
        i = np.searchsorted(self.keys, h)
        i[i >= len(self.keys)] = 0
        hit = self.keys[i] == h
        g = np.where(hit, self.given[i], 0)
        s = np.where(hit, self.surname[i], 0)
        return g.tolist(), s.tolist()


def word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(normal(word).encode(), digest_size=8).digest(), "little")


def normal(word: str) -> str:
    return unicodedata.normalize("NFC", word).lower()


def cache_dir() -> Path:
    """``PIPELINE_BUILDER_CACHE_DIR``, else ``~/.cache/pipeline-builder`` when it can be
    written, else the system's temporary folder."""
    env = os.environ.get("PIPELINE_BUILDER_CACHE_DIR")
    if env:
        return Path(env)
    home = Path.home() / ".cache" / "pipeline-builder"
    try:
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return home
    except OSError:
        pass
    import tempfile

    return Path(tempfile.gettempdir()) / "pipeline-builder-cache"


def _source_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("names-dataset")
    except PackageNotFoundError as e:
        raise GazetteerError("the names table needs the package names-dataset") from e


def table_path() -> Path:
    return cache_dir() / f"names-{_source_version()}-r{MAX_RANK}-f{_FORMAT}.npz"


def _best_ranks(pickle_path: Path) -> dict[str, int]:
    import pickle

    with gzip.open(pickle_path, "rb") as f:
        raw = pickle.load(f)
    best: dict[str, int] = {}
    for name, info in raw.items():
        ranks = [r for r in (info.get("rank") or {}).values() if r is not None]
        if not ranks or not _WORD.fullmatch(name):
            continue
        low = normal(name)
        r = min(ranks)
        if r <= MAX_RANK and r < best.get(low, MAX_RANK + 1):
            best[low] = r
    return best


def build(path: Path) -> None:
    """Reduce the library's pickles to the table at ``path`` (atomic rename)."""
    try:
        import names_dataset
    except ImportError as e:
        raise GazetteerError("the names table needs the package names-dataset") from e
    root = Path(names_dataset.__file__).parent / "v3"
    try:
        given = _best_ranks(root / "first_names.pkl.gz")
        surname = _best_ranks(root / "last_names.pkl.gz")
    except (OSError, EOFError, ValueError, AttributeError) as e:
        raise GazetteerError(f"names-dataset's files under {root} cannot be read: {e}") from e
    words = sorted(given.keys() | surname.keys())
    keys = np.array([word_hash(w) for w in words], dtype=np.uint64)
    order = np.argsort(keys)
    g = np.array([given.get(w, 0) for w in words], dtype=np.uint16)
    s = np.array([surname.get(w, 0) for w in words], dtype=np.uint16)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, keys=keys[order], given=g[order], surname=s[order])
    tmp.replace(path)


def _read(path: Path) -> Gazetteer:
    with np.load(path) as z:
        return Gazetteer(z["keys"], z["given"], z["surname"])


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The names table of this machine, built on first use."""
    import fcntl

    path = table_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                build(path)
    return _read(path)


if __name__ == "__main__":
    g = gazetteer()
    print(
        f"{table_path()}: {int((g.given > 0).sum()):,} given names, "
        f"{int((g.surname > 0).sum()):,} surnames"
    )
