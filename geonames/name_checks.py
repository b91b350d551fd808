"""Name checks over the whole project (重名/同音检查): placeholder until the name core lands."""
from __future__ import annotations

RULES: dict[str, str] = {}


def check(data):
    return []
