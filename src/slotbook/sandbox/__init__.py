"""The sandbox gateway: a real stand-in for a payment provider, like a test mode.

It is an outside system as far as slotbook is concerned: it keeps its own state in its own
SQLite file (never in the service's tables), serves a merchant API, a hosted payment page
(card with test numbers, PromptPay with a real EMVCo QR), control calls for tests, and
delivers signed Standard Webhooks over HTTP, durably and with retries. It imports none of
slotbook's service layer or API: only the gateway port's types, the clock port, the input
rules (domain/validation.py), the settings, and what it shares with the API over HTTP
(slotbook.edge: request ids, problem+json answers, the OpenAPI corrections).
"""
