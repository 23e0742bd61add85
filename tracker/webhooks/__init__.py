"""Webhooks out: an office's subscriptions, the events they are told of, and the signed
deliveries the dispatcher sends (Standard Webhooks)."""
