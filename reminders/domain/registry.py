"""A declaration table by name, in declaration order: what the message-kind registry
(kinds.py) and the channel registry (channels.py) both are. Declaring a name twice is a
programming error, raised at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str, name_of: Callable[[T], str]) -> None:
        self._what = what
        self._name_of = name_of
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        name = self._name_of(item)
        if name in self._items:
            raise ValueError(f"{self._what} {name!r} declared twice")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        """The declaration of `name` (KeyError: none)."""
        return self._items[name]

    def names(self) -> tuple[str, ...]:
        """Every declared name, in declaration order."""
        return tuple(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)
