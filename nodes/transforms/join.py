"""``transform/join``: join two inputs on key columns (fan-in), in bounded memory.

Uses Ray Data's hash join (``Dataset.join``): both sides are hash-partitioned on the
keys into ``numPartitions`` partitions by a shuffle through the object store (which
spills to disk), and each partition is joined by its own aggregator. No process holds
either side whole; a partition holds about ``1/numPartitions`` of the data, so raise
``numPartitions`` for larger inputs. The first input is the left side. Output row order
is not the input order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from engine.context import BuildContext
from engine.registry import NodeConfig, register

if TYPE_CHECKING:
    from ray.data import Dataset

_HOW = {
    "inner": "inner",
    "left": "left_outer",
    "right": "right_outer",
    "outer": "full_outer",
    "semi": "left_semi",
    "anti": "left_anti",
}


class JoinConfig(NodeConfig):
    """Config of ``transform/join``."""

    on: list[str] = Field(min_length=1, description="Key columns of the left input.")
    rightOn: list[str] | None = Field(None, description="Key columns of the right input.")
    how: Literal["inner", "left", "right", "outer", "semi", "anti"] = "inner"
    numPartitions: int = Field(8, ge=1, le=10_000, description="Hash partitions (shuffle width).")
    leftSuffix: str | None = Field(None, description="Suffix of clashing left columns.")
    rightSuffix: str | None = Field("_right", description="Suffix of clashing right columns.")

    @model_validator(mode="after")
    def _keys_match(self) -> JoinConfig:
        if self.rightOn is not None and len(self.rightOn) != len(self.on):
            raise ValueError("rightOn must name as many columns as on")
        return self


@register(
    "transform",
    "join",
    config=JoinConfig,
    inputs=(2, 2),
    description="Join two inputs on key columns (hash-partitioned, bounded memory)",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: JoinConfig) -> Dataset:
    left, right = inputs
    return left.join(
        right,
        join_type=_HOW[config.how],
        num_partitions=config.numPartitions,
        on=tuple(config.on),  # type: ignore[arg-type]  # Ray's hint says tuple[str]
        right_on=tuple(config.rightOn) if config.rightOn else None,  # type: ignore[arg-type]
        left_suffix=config.leftSuffix,
        right_suffix=config.rightSuffix,
    )
