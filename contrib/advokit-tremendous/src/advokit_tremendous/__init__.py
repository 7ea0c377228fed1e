"""advokit rewards fulfilled as Tremendous orders, the reward's key as the order's external id."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Mapping
from typing import Any

from advokit import hookimpl
from advokit.core.errors import ConfigurationError
from advokit.core.http import HttpClient, check_url
from advokit.plugins.rewards import FulfilmentFailed, IssuedReward
from advokit.plugins.rewards.fulfilment import ByKind, check_kinds
from advokit.plugins.rewards.http import check_answer

__all__ = ["Tremendous", "from_environment", "plugin"]

#: Minor units per currency where they are not 2 (ISO 4217): amounts are in minor units.
EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}
#: Order states after which the order will never pay.
FAILED = frozenset({"FAILED", "CANCELED"})


class Tremendous(ByKind):
    """A fulfiller of gift-card rewards by Tremendous orders.

    Args:
        api_key: the Tremendous API key (sent as a Bearer token).
        products: the product ids the recipient chooses from; or
        campaign_id: a campaign defining them.
        funding_source_id: what pays (``"balance"``: the account's balance).
        base_url: ``Tremendous.SANDBOX`` (default) or ``Tremendous.PRODUCTION``.
        kinds: the reward kinds it fulfils.
        timeout: seconds to wait for an answer.
    """

    plugin_name = "tremendous"
    SANDBOX = "https://testflight.tremendous.com/api/v2"
    PRODUCTION = "https://www.tremendous.com/api/v2"

    def __init__(
        self,
        api_key: str,
        *,
        products: Collection[str] = (),
        campaign_id: str | None = None,
        funding_source_id: str = "balance",
        base_url: str = SANDBOX,
        kinds: Collection[str] = ("gift_card",),
        timeout: float = 15.0,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ConfigurationError("Tremendous.api_key", "***", "the API key")
        if isinstance(products, str) or not all(isinstance(p, str) for p in products):
            raise ConfigurationError("Tremendous.products", products, "a list of product ids")
        if not products and not campaign_id:
            raise ConfigurationError("Tremendous.products", products, "products or a campaign_id")
        check_url("Tremendous.base_url", base_url)
        self.products = tuple(products)
        self.campaign_id = campaign_id
        self.funding_source_id = funding_source_id
        self.base_url = base_url.rstrip("/")
        self.kinds = check_kinds("Tremendous", kinds)
        self._api_key = api_key
        self._client = HttpClient(timeout)

    def __repr__(self) -> str:
        return f"Tremendous({self.base_url!r}, kinds={list(self.kinds)!r})"

    def order(self, program: Any, reward: IssuedReward) -> dict[str, Any]:
        """The body of the order for ``reward`` (the create-order request)."""
        advocate = program.advocate(reward.advocate)
        if not advocate.email:
            raise FulfilmentFailed(f"advocate {reward.advocate!r} has no email to send the card to")
        if not reward.reward.currency:
            raise FulfilmentFailed(f"a {reward.reward.kind} reward without a currency")
        currency = reward.reward.currency
        amount = reward.reward.amount
        exponent = EXPONENTS.get(currency, 2)
        denomination = amount if exponent == 0 else amount / 10**exponent
        gift: dict[str, Any] = {
            "value": {"denomination": denomination, "currency_code": currency},
            "recipient": {"name": advocate.name or advocate.external_id, "email": advocate.email},
            "delivery": {"method": "EMAIL"},
        }
        if self.products:
            gift["products"] = list(self.products)
        if self.campaign_id:
            gift["campaign_id"] = self.campaign_id
        return {
            # Tremendous answers a repeat with the first order
            "external_id": external_id(program.name, reward.key),
            "payment": {"funding_source_id": self.funding_source_id},
            "reward": gift,
        }

    def fulfil(self, program: Any, reward: IssuedReward) -> Mapping[str, Any]:
        url = f"{self.base_url}/orders"
        body = json.dumps(self.order(program, reward)).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {self._api_key}",
        }
        status, answer_headers, raw = self._client.post(url, body, headers)
        check_answer(url, status, answer_headers, raw)
        try:
            order = json.loads(raw)["order"]
        except (ValueError, KeyError, TypeError):
            raise FulfilmentFailed(f"{url} answered {status} without an order") from None
        if order.get("status") in FAILED:
            raise FulfilmentFailed(f"Tremendous order {order.get('id')} is {order['status']}")
        rewards = order.get("rewards") or [{}]
        return {
            "order": order.get("id"),
            "status": order.get("status"),
            "reward": rewards[0].get("id"),
            "external_id": order.get("external_id"),
        }


def external_id(program: str, key: str) -> str:
    """The order's ``external_id``: the reward's key within its program, since two
    programs (a shop's staging and production) may share one Tremendous account."""
    scoped = f"{program}:{key}"
    if len(scoped) <= 255:
        return scoped
    return "advokit:" + hashlib.blake2b(scoped.encode(), digest_size=24).hexdigest()


def from_environment(environ: Mapping[str, str] | None = None) -> Tremendous | None:
    """A Tremendous fulfiller configured by ``TREMENDOUS_*`` variables, or None without a key."""
    env = os.environ if environ is None else environ
    key = env.get("TREMENDOUS_API_KEY", "").strip()
    if not key:
        return None
    products = [p.strip() for p in env.get("TREMENDOUS_PRODUCTS", "").split(",") if p.strip()]
    return Tremendous(
        key,
        products=products,
        campaign_id=env.get("TREMENDOUS_CAMPAIGN_ID") or None,
        funding_source_id=env.get("TREMENDOUS_FUNDING_SOURCE", "balance"),
        base_url=env.get("TREMENDOUS_BASE_URL", Tremendous.SANDBOX),
    )


class _FromEnvironment:
    """The entry point's plugin: a Tremendous fulfiller if the environment configures one."""

    plugin_name = "tremendous"

    @hookimpl
    def advokit_register_fulfillers(self, register: Any) -> None:
        configured = from_environment()
        if configured is not None:
            configured.advokit_register_fulfillers(register)


plugin = _FromEnvironment()
