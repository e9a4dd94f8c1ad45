"""The app's Redis client (queues aside, which django-rq connects): run locks, heartbeats and
progress, replayed-notification signatures, Admin API drift counters. One client, and so one
connection pool, per process and URL; redis-py resets the pool after a fork."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


def shared_redis() -> redis.Redis:
    return _client(settings.REDIS_URL)


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)
