"""Sending one webhook delivery: the Standard Webhooks headers, and an HTTP POST of the body.

``webhook-id`` is the message's idempotency key, so a delivery sent again ("send again", or
a retry) keeps its id and a receiver can drop the repeat; ``webhook-timestamp`` is the
moment of this attempt; ``webhook-signature`` holds ``v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`` under each secret that signs at that moment, space-separated (both
the new and the previous one for a day after a rotation). The signing is the
``standardwebhooks`` library's own.

A 2xx answer is a delivery. A connection error, a timeout, a 5xx, a 408 or a 429 is a failed
attempt, tried again with the outbox's backoff; any other answer (a 4xx: the receiver
refuses this delivery) is given up at once, as GOV.UK Notify does with its callbacks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import requests
from standardwebhooks import Webhook

RETRIED = {408, 429}  # besides every 5xx
AGENT = "SiapAmbil-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What became of an attempt: ``error`` None when delivered; ``final`` when it is not
    worth trying again."""

    error: str | None
    final: bool = False


def headers(msg_id: str, now: dt.datetime, body: str, secrets: Sequence[str]) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery sent at ``now``, signed by each secret."""
    moment = now.astimezone(dt.UTC)  # the library reads the instant as UTC
    signatures = [Webhook(secret).sign(msg_id, moment, body) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": AGENT,
    }


def post(
    url: str, msg_id: str, body: str, secrets: Sequence[str], *, now: dt.datetime, timeout: float
) -> Outcome:
    """POST the body to ``url``, signed; redirects are not followed (a moved receiver must
    be subscribed again)."""
    try:
        answer = requests.post(
            url,
            data=body.encode(),
            headers=headers(msg_id, now, body, secrets),
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout:
        return Outcome(f"no answer within {timeout:g} s")
    except requests.RequestException as error:
        return Outcome(f"{error.__class__.__name__}: {error}"[:500])
    if 200 <= answer.status_code < 300:
        return Outcome(None)
    final = answer.status_code < 500 and answer.status_code not in RETRIED
    return Outcome(f"the receiver answered HTTP {answer.status_code}", final=final)
