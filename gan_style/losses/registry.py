"""The loss registry: a dict of names to loss factories, a decorator, and a loud ``create_loss``.

Every method builds its losses by name (``create_loss("gan", gan_mode="lsgan")``), so a recipe or a new
method can swap a loss without touching the training code. The pattern follows timm's model registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

__all__ = ["LOSSES", "register_loss", "create_loss", "list_losses"]

LOSSES: dict[str, Callable[..., nn.Module]] = {}
"""Name -> loss class (or factory returning an ``nn.Module``)."""

T = TypeVar("T", bound=Callable[..., nn.Module])


def register_loss(name: str) -> Callable[[T], T]:
    """Class decorator that adds a loss to :data:`LOSSES` under ``name``.

    Args:
        name: registry key, lower case by convention (``"gan"``, ``"l1"``).

    Raises:
        ValueError: if ``name`` is already registered (a second registration would silently shadow the
            first one).
    """

    def decorator(factory: T) -> T:
        if name in LOSSES:
            raise ValueError(
                f"loss name {name!r} is already registered (by {LOSSES[name].__module__}."
                f"{getattr(LOSSES[name], '__qualname__', LOSSES[name])}); choose another name. "
                f"Registered: {', '.join(list_losses())}"
            )
        LOSSES[name] = factory
        return factory

    return decorator


def create_loss(name: str, **kwargs: Any) -> nn.Module:
    """Build the loss registered as ``name`` with keyword arguments ``kwargs``.

    Raises:
        KeyError: for an unknown name; the message lists every registered name.
    """
    try:
        factory = LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; registered losses: {', '.join(list_losses())}") from None
    return factory(**kwargs)


def list_losses() -> list[str]:
    """Sorted names of all registered losses."""
    return sorted(LOSSES)
