"""Which payment gateway serves which payment method (chosen by settings at start-up)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slotbook.domain.errors import InvalidRequest, NotFound
from slotbook.domain.gateway import PaymentGateway, PaymentMethod


@dataclass(frozen=True, slots=True)
class Gateways:
    by_method: Mapping[PaymentMethod, PaymentGateway] = field(default_factory=dict)

    def for_method(self, method: PaymentMethod) -> PaymentGateway:
        """The gateway that takes this method, or InvalidRequest when none does."""
        gateway = self.by_method.get(method)
        if gateway is None:
            raise InvalidRequest(f"payments by {method} are not available here")
        return gateway

    def named(self, name: str) -> PaymentGateway:
        """The gateway by its name (the webhook path says which); NotFound otherwise."""
        for gateway in self.by_method.values():
            if gateway.name == name:
                return gateway
        raise NotFound(f"no payment gateway {name!r}")

    async def aclose(self) -> None:
        """Close each gateway's connections, once."""
        for gateway in {id(g): g for g in self.by_method.values()}.values():
            close = getattr(gateway, "aclose", None)
            if close is not None:
                await close()
