"""The content hash of a policy version: what a consent record points at, whatever the YAML looked like."""

from __future__ import annotations

import hashlib
import json

from charter.policy.schema import PolicyVersion

__all__ = ["canonical_json", "content_hash"]


def canonical_json(policy: PolicyVersion) -> bytes:
    """The policy as sorted, compact UTF-8 JSON: the same bytes for the same content."""
    document = policy.model_dump(mode="json", by_alias=True)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def content_hash(policy: PolicyVersion) -> str:
    """`sha256:` and the hex digest of `canonical_json(policy)`, e.g. `sha256:9f86d0…`."""
    return "sha256:" + hashlib.sha256(canonical_json(policy)).hexdigest()
