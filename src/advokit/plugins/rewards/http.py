"""A fulfiller that POSTs each reward, signed, to the shop's own endpoint."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from advokit.core import validation as v
from advokit.core.http import HttpClient, check_url, origin, retry_after
from advokit.core.model import derived_key
from advokit.core.signing import signed_headers
from advokit.plugins.rewards.fulfilment import ByKind, FulfilmentFailed, RetryLater, check_kinds
from advokit.plugins.rewards.model import IssuedReward

__all__ = ["HttpFulfiller", "check_answer", "request_body"]

#: Answers worth trying again: timeout, conflict (still in progress), too early, too many.
RETRYABLE = frozenset({408, 409, 425, 429})
#: How long a reward waits after a 401 before it is tried again.
UNAUTHORIZED_WAIT = timedelta(minutes=10)
IDEMPOTENCY_HEADER = "Idempotency-Key"


class HttpFulfiller(ByKind):
    """Fulfil rewards of ``kinds`` by POSTing a signed JSON request to ``url``.

    The request carries the reward's idempotency key in the body (``key``) and
    in the ``Idempotency-Key`` header, and is signed with HMAC-SHA256 over
    ``"{timestamp}.{body}"`` (:mod:`advokit.core.signing`; the receiver checks
    it with :func:`advokit.core.signing.verify`). The receiver must treat a
    second request with the same key as the same fulfilment and answer 2xx
    again: after a crash advokit asks again, with the same key.

    Answers: 2xx -> fulfilled (the JSON answer is kept as the result); 408, 409,
    425, 429, 5xx and network errors -> tried again later, after ``Retry-After``
    when given; 401 (a wrong secret) -> tried again every 10 minutes without
    using up attempts, until the secret is put right; any other 4xx ->
    dead-lettered.

    With ``reverse_url``, a fulfilled reward that is reversed later (a refund)
    is POSTed there, signed the same way, with ``reversal`` (why) and
    ``result`` (what the fulfilment answered) added to the body and
    ``{key}>reversal`` as its idempotency key; the answers mean the same.

    Args:
        url: the ``http(s)://`` endpoint.
        secret: the shared HMAC secret.
        kinds: the reward kinds it fulfils.
        timeout: seconds to wait for an answer.
        name: the plugin's name (two HTTP fulfillers need two names).
        reverse_url: the endpoint that undoes a fulfilment (None: none).
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str,
        kinds: Collection[str],
        timeout: float = 10.0,
        name: str = "http-fulfiller",
        reverse_url: str | None = None,
    ) -> None:
        check_url("HttpFulfiller.url", url)
        if reverse_url is not None:
            check_url("HttpFulfiller.reverse_url", reverse_url)
            self.reverse = self._reverse  # only then has it a reverse operation
        v.secret("HttpFulfiller.secret", secret)
        v.seconds("HttpFulfiller.timeout", timeout)
        self.url = url
        self.reverse_url = reverse_url
        self.kinds = check_kinds("HttpFulfiller", kinds)
        self.timeout = float(timeout)
        self.plugin_name = name
        self._secret = secret
        self._client = HttpClient(self.timeout)

    def __repr__(self) -> str:
        return f"HttpFulfiller({self.url!r}, kinds={list(self.kinds)!r})"

    def fulfil(self, program: Any, reward: IssuedReward) -> Mapping[str, Any]:
        return self._post(self.url, reward.key, request_body(program.name, reward), reward)

    def _reverse(self, program: Any, reward: IssuedReward) -> Mapping[str, Any]:
        body = {
            **request_body(program.name, reward),
            "reversal": reward.reversal,
            "result": reward.result,
        }
        assert self.reverse_url is not None  # only bound as reverse with one
        return self._post(self.reverse_url, derived_key(reward.key, "reversal"), body, reward)

    def _post(
        self, url: str, key: str, request: Mapping[str, Any], reward: IssuedReward
    ) -> Mapping[str, Any]:
        body = json.dumps(request, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: key,
            # not in the body: a retry must send the same body under the same key
            "X-Advokit-Attempt": str(reward.attempts),
            **signed_headers(self._secret, body),
        }
        status, answer_headers, raw = self._client.post(url, body, headers)
        check_answer(url, status, answer_headers, raw)
        return {"status": status, "response": _answer(raw)}


def check_answer(url: str, status: int, headers: Any, raw: bytes) -> None:
    """Raise what a non-2xx answer means: RetryLater (408, 409, 425, 429, 5xx; and
    401, without using up an attempt) or FulfilmentFailed (any other 4xx, and 3xx: a
    fulfiller does not follow redirects).

    A 401 says the program's credentials are refused: that is the program's to fix,
    not the reward's, and every reward would be dead-lettered; they wait instead,
    every ``UNAUTHORIZED_WAIT``, until the secret is put right.
    """
    if 200 <= status < 300:
        return
    text = " ".join(raw[:300].decode("utf-8", "replace").split())
    said = f"{origin(url)} answered {status}: {text}".strip()
    if status == 401:
        raise RetryLater(f"{said} (check the secret)", after=UNAUTHORIZED_WAIT, counts=False)
    if status in RETRYABLE or status >= 500:
        raise RetryLater(said, after=retry_after(headers.get("Retry-After")))
    raise FulfilmentFailed(said)


def request_body(program: str, reward: IssuedReward) -> dict[str, Any]:
    """The JSON object a fulfilment request sends."""
    return {
        "program": program,
        "key": reward.key,
        "advocate": reward.advocate,
        "kind": reward.reward.kind,
        "amount": reward.reward.amount,
        "currency": reward.reward.currency,
        "description": reward.reward.description,
        "data": dict(reward.reward.data),
        "item": reward.item,
    }


def _answer(raw: bytes) -> Any:
    text = raw[:10_000].decode("utf-8", "replace")
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text
