"""Binding a storage module's functions to one client: the typed objects app/ holds.

Each owning module's functions take the client first (other storage code queues them on a
pipeline, or passes a replica). app/ never holds the client: it calls `store.nights.note(...)`,
and `bind` makes that `nights.note(client, ...)` with the same parameter and return types
(ParamSpec), so mypy checks app/'s calls as if it called the module's function itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from reminders.storage.client import Client

P = ParamSpec("P")
R = TypeVar("R")


class Bound:
    """One owning module's functions, bound to `client` (a subclass per module)."""

    def __init__(self, client: Client) -> None:
        self.client = client


class bind(Generic[P, R]):  # lower case: used like a decorator
    """`name = bind(module.function)` in a Bound subclass: `obj.name(...)` is
    `module.function(obj.client, ...)`."""

    def __init__(self, function: Callable[Concatenate[Client, P], R]) -> None:
        self.function = function
        self.name = function.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> bind[P, R]: ...

    @overload
    def __get__(self, obj: Bound, owner: type) -> Callable[P, R]: ...

    def __get__(self, obj: Bound | None, owner: type) -> Any:
        if obj is None:
            return self
        bound = partial(self.function, obj.client)
        # Kept on the instance (a non-data descriptor yields to it): one partial per name.
        obj.__dict__[self.name] = bound
        return bound


B = TypeVar("B", bound=Bound)


class part(Generic[B]):  # lower case: reads like cached_property
    """`nights = part(Nights)` on the Store: `store.nights` is `Nights(store.redis)`, made on
    first use and kept on the instance."""

    def __init__(self, kind: type[B]) -> None:
        self.kind = kind
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> part[B]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> B: ...

    def __get__(self, obj: object | None, owner: type) -> Any:
        if obj is None:
            return self
        made = obj.__dict__[self.name] = self.kind(obj.redis)  # type: ignore[attr-defined]
        return made
