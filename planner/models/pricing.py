"""The price table (configs/models.toml) and the cost of one response's usage."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from planner.errors import ConfigError
from planner.logging import get_logger
from planner.messages import Usage
from planner.resources import shipped_config

DEFAULT_PRICES_PATH = shipped_config("models.toml")
_SNAPSHOT_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")
_PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")

log = get_logger("planner.models")


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens of each kind."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0

    def cost(self, usage: Usage) -> float:
        """The USD cost of `usage` at these prices."""
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_tokens * self.cache_read
            + usage.cache_write_tokens * self.cache_write
        ) / 1_000_000


@dataclass(frozen=True)
class PriceTable:
    """Prices by model id; a dated snapshot id falls back to its undated id."""

    prices: Mapping[str, ModelPrice]

    def lookup(self, model: str) -> ModelPrice | None:
        """The price of `model`, or None when the table does not know it."""
        price = self.prices.get(model)
        if price is None:
            price = self.prices.get(_SNAPSHOT_SUFFIX.sub("", model))
        return price


def price_table(prices: Mapping[str, ModelPrice]) -> PriceTable:
    """An immutable table over `prices` (for tests and callers with their own prices)."""
    return PriceTable(MappingProxyType(dict(prices)))


@lru_cache(maxsize=16)
def load_prices(path: Path = DEFAULT_PRICES_PATH) -> PriceTable:
    """Read a price table from TOML (`[models."id"]` with input/output/cache_read/cache_write)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the model price table: {exc}") from exc
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{path}: [models] must be a table of model ids")
    prices: dict[str, ModelPrice] = {}
    for model_id, entry in models.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: models.{model_id!r} must be a table")
        unknown = set(entry) - set(_PRICE_FIELDS)
        if unknown:
            raise ConfigError(f"{path}: models.{model_id!r} has unknown keys {sorted(unknown)}")
        try:
            prices[model_id] = ModelPrice(**{k: float(v) for k, v in entry.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: models.{model_id!r}: {exc}") from exc
    return price_table(prices)


def default_prices() -> PriceTable:
    """The shipped table (configs/models.toml), or an empty table when it is not there."""
    if not DEFAULT_PRICES_PATH.is_file():
        return price_table({})
    return load_prices(DEFAULT_PRICES_PATH)


class CostMeter:
    """Puts a cost on one model's usage; warns once if the model has no price."""

    def __init__(self, model: str, prices: PriceTable | None = None) -> None:
        self.model = model
        self.prices = prices if prices is not None else default_prices()
        self._warned = False

    def priced(self, usage: Usage, reported_model: str = "") -> Usage:
        """`usage` with cost_usd set from the table (0 for an unknown model)."""
        price = self.prices.lookup(self.model)
        if price is None and reported_model:
            price = self.prices.lookup(reported_model)
        if price is None:
            if not self._warned:
                self._warned = True
                log.warning(
                    "model.price_unknown",
                    model=self.model,
                    reported_model=reported_model or None,
                    hint="add it to configs/models.toml; its cost counts as 0",
                )
            return usage.model_copy(update={"cost_usd": 0.0})
        return usage.model_copy(update={"cost_usd": price.cost(usage)})
