"""Quality and privacy scores of synthetic rows against a sample of the real rows.

Quality is sdmetrics' single-table quality report (column shapes and column pair
trends) over the learned columns. Privacy has two parts: the share of synthetic rows
identical to a real row (whole rows, and learned columns only), and the distance from
each synthetic row to its closest real row (numbers scaled to [0, 1] by the real range,
other values 0 when equal and 1 when not, averaged over columns).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pyarrow as pa


def quality_report(real: Any, synthetic: Any, metadata: dict[str, Any]) -> dict:
    """sdmetrics quality score, its properties and per-column shape scores.

    ``real`` and ``synthetic`` are the encoded frames of the learned columns (see
    ``encode``) described by the synthesizer's ``metadata``.
    """
    with warnings.catch_warnings():
        # The single-table report is deprecated in favour of a multi-table one that
        # reports NaN pair trends for single tables; keep the single-table report.
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

    columns = metadata["tables"]["table"]["columns"]
    names = list(columns)
    if not names:
        return {"score": None, "properties": {}}
    report = QualityReport()
    report.generate(real[names], synthetic[names], {"columns": columns}, verbose=False)
    props = report.get_properties()
    properties = {str(row["Property"]): _finite(row["Score"]) for _, row in props.iterrows()}
    shapes = report.get_details("Column Shapes")
    per_column = {str(row["Column"]): _finite(row["Score"]) for _, row in shapes.iterrows()}
    return {"score": _finite(report.get_score()), "properties": properties, "columns": per_column}


def _finite(value: Any) -> float | None:
    value = float(value)
    return round(value, 4) if np.isfinite(value) else None


def _row_hashes(table: pa.Table, names: list[str]) -> np.ndarray:
    import pandas as pd

    frame = table.select(names).to_pandas()
    # Compare values, not representations: round floats as written to most formats.
    for name in frame.columns:
        if frame[name].dtype.kind == "f":
            frame[name] = frame[name].round(9)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def identical_share(real: pa.Table, synthetic: pa.Table, names: list[str]) -> float:
    """Share of synthetic rows whose ``names`` columns all equal some real row's."""
    if not names or synthetic.num_rows == 0:
        return 0.0
    real_hashes = set(_row_hashes(real, names).tolist())
    hits = sum(h in real_hashes for h in _row_hashes(synthetic, names).tolist())
    return hits / synthetic.num_rows


def _encode(real: pa.Table, synthetic: pa.Table, names: list[str]) -> tuple[list, list]:
    """Per column: (values, is_numeric), numbers scaled to [0, 1] by the real range.

    Dates, times and decimals are compared as the numbers the synthesizer models.
    """
    from nodes.privacy.synthetic.encode import encode_column

    real_cols, syn_cols = [], []
    for name in names:
        rv, sv = encode_column(real[name]), encode_column(synthetic[name])
        if rv.dtype.kind == "f" and sv.dtype.kind == "f":
            present = rv[~np.isnan(rv)]
            lo, hi = (present.min(), present.max()) if len(present) else (0.0, 1.0)
            span = (hi - lo) or 1.0
            real_cols.append(((rv - lo) / span, True))
            syn_cols.append(((sv - lo) / span, True))
        else:
            rs = np.array([str(v) for v in rv.tolist()], dtype=object)
            ss = np.array([str(v) for v in sv.tolist()], dtype=object)
            codes = {v: i for i, v in enumerate(np.unique(np.concatenate([rs, ss])))}
            real_cols.append((np.array([codes[v] for v in rs]), False))
            syn_cols.append((np.array([codes[v] for v in ss]), False))
    return real_cols, syn_cols


def closest_record_distances(real: pa.Table, synthetic: pa.Table, names: list[str]) -> np.ndarray:
    """Distance of each synthetic row to its closest real row (0 = identical).

    Per column: numbers differ by their distance scaled to the real range (at most 1),
    other values by 0 or 1; a null matches a null and differs from a value by 1. The
    row distance is the mean over columns.
    """
    if not names or synthetic.num_rows == 0 or real.num_rows == 0:
        return np.zeros(0)
    real_cols, syn_cols = _encode(real, synthetic, names)
    best = np.full(synthetic.num_rows, np.inf)
    step = max(1, 2_000_000 // max(real.num_rows, 1))  # bound the distance matrix
    for lo in range(0, synthetic.num_rows, step):
        hi = min(lo + step, synthetic.num_rows)
        total = np.zeros((hi - lo, real.num_rows))
        for (rv, numeric), (sv, _) in zip(real_cols, syn_cols, strict=True):
            if numeric:
                s, r = sv[lo:hi, None], rv[None, :]
                diff = np.minimum(np.abs(s - r), 1.0)
                both = np.isnan(s) & np.isnan(r)
                total += np.where(both, 0.0, np.nan_to_num(diff, nan=1.0))
            else:
                total += sv[lo:hi, None] != rv[None, :]
        best[lo:hi] = total.min(axis=1) / len(names)
    return best


def copied_cells(real: pa.Table, synthetic: pa.Table, names: list[str]) -> dict[str, int]:
    """Per column: synthetic cells (non-null) equal to some real cell of that column."""
    out = {}
    for name in names:
        seen = {str(v) for v in real[name].drop_null().to_pylist()}
        out[name] = sum(str(v) in seen for v in synthetic[name].drop_null().to_pylist())
    return out


def privacy_report(
    real: pa.Table,
    synthetic: pa.Table,
    all_names: list[str],
    learned: list[str],
    *,
    generated: list[str] | None = None,
    min_distance: float = 0.0,
) -> dict[str, Any]:
    """Copies of real rows and cells, distances to the closest record, and the leakage.

    ``leakage`` is the share of synthetic rows that copy a real row's learned values or
    lie within ``min_distance`` of one.
    """
    distances = closest_record_distances(real, synthetic, learned)
    stats = (
        {
            "min": round(float(distances.min()), 6),
            "p05": round(float(np.percentile(distances, 5)), 6),
            "median": round(float(np.median(distances)), 6),
            "mean": round(float(distances.mean()), 6),
        }
        if len(distances)
        else {}
    )
    identical_learned = identical_share(real, synthetic, learned)
    close = float(np.mean(distances <= min_distance)) if len(distances) else 0.0
    return {
        "identicalRowShare": identical_share(real, synthetic, all_names),
        "identicalLearnedShare": identical_learned,
        "closeShare": close,
        "leakage": max(identical_learned, close) if learned else 0.0,
        "minDistance": min_distance,
        "distanceToClosestRecord": stats,
        "copiedGeneratedCells": copied_cells(real, synthetic, generated or []),
        "realSampleRows": real.num_rows,
        "syntheticSampleRows": synthetic.num_rows,
    }
