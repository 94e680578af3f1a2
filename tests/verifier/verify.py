#!/usr/bin/env python3
"""An independent verifier of auditlog's tamper evidence (issue 19).

Written from RFC 9162 section 2.1 and docs/verifying.md only; it shares no
code with auditlog. It uses hashlib and the `cryptography` package (Ed25519).

Input: one JSON file (argv[1]) holding
  {"tenantId": "...", "keys": <JWKS>, "heads": [<SignedTreeHead>...],
   "events": [<AuditEvent with inclusionProof>...],
   "consistency": [<ConsistencyProof>...], "complete": false}
An event may carry, besides its `inclusionProof`, more proofs in `proofs`.
Every head's signature, every event's leaf and inclusion proofs (against the
head of the proof's treeSize), every consistency proof (between two heads),
and, when the events are every sequence of the tree from its first on, each
head's root recomputed from the leaves are checked. With "complete": true,
the events must be every sequence of the newest head's tree. Exit status 0
if every check passed, 1 otherwise.

A head's treeOrigin (absent or 0 for most tenants) is the last sequence that
predates the tenant's tree: sequence s is leaf s - 1 - treeOrigin, and the
signed object holds "treeOrigin" when it is not 0. Every head of a tenant has
the same origin. Events with sequence <= treeOrigin are reported as not
covered ("note"), and fail nothing.

The JCS (RFC 8785) below handles what the tests send: objects, arrays,
strings, booleans, null and integers (no floats); keys are sorted by UTF-16
code units as RFC 8785 section 3.2.3 requires.
"""

import base64
import hashlib
import json
import sys
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def jcs(value):
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise ValueError(f"this verifier's JCS does not handle {type(value)}")


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaves):
    """RFC 9162 2.1.1, literally."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not path and first_hash == second_hash
    if not path or first == 0 or first > second:
        return False
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def micros(text):
    """docs/verifying.md: RFC 3339 UTC with exactly six fractional digits."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_of(event):
    """The leaf object of docs/verifying.md, from an exported AuditEvent."""
    actor, target, context = event["actor"], event.get("target"), event.get("context") or {}
    return jcs({
        "id": event["id"],
        "sequence": int(event["sequence"]),
        "action": event["action"],
        "actor": {"type": actor["type"], "id": actor["actorId"],
                  "name": actor.get("name"), "email": actor.get("email")},
        "target": None if target is None else {
            "type": target["type"], "id": target.get("targetId"), "name": target.get("name")},
        "outcome": event["outcome"],
        "context": {"ipAddress": context.get("ipAddress"), "userAgent": context.get("userAgent"),
                    "requestId": context.get("requestId")},
        "payload": event.get("payload"),
        "occurredAt": micros(event["occurredAt"]),
        "receivedAt": micros(event["receivedAt"]),
    }).encode("utf-8")


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main(path):
    with open(path, encoding="utf-8") as f:
        bundle = json.load(f)
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    keys = {k["kid"]: Ed25519PublicKey.from_public_bytes(b64url(k["x"]))
            for k in bundle["keys"]["keys"] if k["kty"] == "OKP" and k["crv"] == "Ed25519"}
    heads = {}
    origins = set()
    for head in bundle["heads"]:
        statement = {"rootHash": head["rootHash"], "tenantId": bundle["tenantId"],
                     "timestamp": micros(head["timestamp"]), "treeSize": head["treeSize"]}
        origin = head.get("treeOrigin") or 0
        if origin:
            statement["treeOrigin"] = origin
        origins.add(origin)
        signed = jcs(statement)
        key = keys.get(head["keyId"])
        try:
            ok = key is not None and key.verify(b64url(head["signature"]), signed.encode()) is None
        except InvalidSignature:
            ok = False
        check(ok, f"head {head['treeSize']} signature")
        heads[head["treeSize"]] = bytes.fromhex(head["rootHash"])

    check(len(origins) <= 1, f"every head has the same treeOrigin ({sorted(origins)})")
    origin = min(origins, default=0)

    leaves = {}
    uncovered = 0
    for event in bundle["events"]:
        sequence = int(event["sequence"])
        if sequence <= origin:
            uncovered += 1
            continue
        leaf = leaf_hash(leaf_of(event))
        leaves[sequence] = leaf
        for proof in event.get("proofs", []) + ([event["inclusionProof"]] if event.get("inclusionProof") else []):
            size = proof["treeSize"]
            ok = (bytes.fromhex(proof["leafHash"]) == leaf and size in heads
                  and proof["leafIndex"] == sequence - 1 - origin
                  and verify_inclusion(sequence - 1 - origin, size, leaf,
                                       [bytes.fromhex(h) for h in proof["auditPath"]], heads[size]))
            check(ok, f"event {sequence} in tree {size}")
    if uncovered:
        print(f"note  {uncovered} event(s) with sequence <= {origin} predate the tree: not covered")

    for proof in bundle.get("consistency", []):
        m, n = proof["fromSize"], proof["toSize"]
        ok = m in heads and n in heads and verify_consistency(
            m, n, heads[m], heads[n], [bytes.fromhex(h) for h in proof["path"]])
        check(ok, f"consistency {m} -> {n}")

    first = origin + 1
    contiguous = bool(leaves) and sorted(leaves) == list(range(first, first + len(leaves)))
    if bundle.get("complete"):
        check(contiguous, f"the {len(leaves)} events are every sequence from {first} on")
    if contiguous:
        for size, root in heads.items():
            if size <= len(leaves):
                check(mth([leaves[s] for s in range(first, first + size)]) == root,
                      f"root of {size} recomputed")
            elif bundle.get("complete"):
                check(False, f"root of {size} recomputed (only {len(leaves)} events)")

    print("verified" if not failures else f"{len(failures)} check(s) failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
