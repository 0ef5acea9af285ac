"""What makes a snapshot evidence: each summary.json is signed with an asymmetric KMS key
and names its predecessor, as CloudTrail's digest files do.

    "previousSummary": {"key": ".../summary.json", "sha256": "..."}   null for the first
    "signature": {"keyId": "arn:...", "algorithm": "RSASSA_PKCS1_V1_5_SHA_256", "value": "<base64>"}

The signature covers the summary without its "signature" field: the hashes and sizes of
users.jsonl and changes.jsonl, the predecessor link, and every count. So changing any
byte of any object, or any link, is detected by whoever holds the public key. The
snapshot (KMS Verify) and `finspace-users verify` (the public key, offline) check it the
same way: both rebuild the message with signed_message().
"""

import base64
import hashlib
import json
from typing import Any

SIGNING_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256"
SIGNATURE_FIELD = "signature"
PREVIOUS_FIELD = "previousSummary"
MESSAGE_HEADER = b"finspace-users access-review summary v1\n"


def summary_body(summary: dict[str, Any]) -> bytes:
    """summary.json as stored: keys sorted, so that a replayed tick returns the same bytes."""
    return json.dumps(summary, indent=2, sort_keys=True).encode()


def signed_message(summary: dict[str, Any]) -> bytes:
    """The bytes KMS signs: a fixed header, the tick, and the SHA-256 of the summary's
    canonical JSON without its signature. Short enough for KMS's RAW messages (4 KB)
    however large the summary grows; RAW because moto's DIGEST mode hashes twice."""
    unsigned = {name: value for name, value in summary.items() if name != SIGNATURE_FIELD}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    tick = str(summary.get("scheduledTime", "")).encode()
    return MESSAGE_HEADER + tick + b"\n" + hashlib.sha256(canonical).hexdigest().encode()


def signed(summary: dict[str, Any], kms: Any, key_id: str) -> dict[str, Any]:
    """The summary with its signature."""
    answer = kms.sign(
        KeyId=key_id, Message=signed_message(summary), MessageType="RAW", SigningAlgorithm=SIGNING_ALGORITHM
    )
    signature = {
        "keyId": answer["KeyId"],
        "algorithm": SIGNING_ALGORITHM,
        "value": base64.b64encode(answer["Signature"]).decode(),
    }
    return {**summary, SIGNATURE_FIELD: signature}


def signature_bytes(summary: dict[str, Any]) -> bytes | None:
    """The raw signature, or None when the summary carries no well-formed one."""
    signature = summary.get(SIGNATURE_FIELD)
    if not isinstance(signature, dict) or signature.get("algorithm") != SIGNING_ALGORITHM:
        return None
    try:
        return base64.b64decode(str(signature.get("value", "")), validate=True) or None
    except ValueError:
        return None


def verified_by_kms(summary: dict[str, Any], kms: Any, key_id: str) -> bool:
    """Whether KMS vouches for the summary's signature with our key. KMS answers an
    invalid signature with KMSInvalidSignatureException (moto with SignatureValid false)."""
    signature = signature_bytes(summary)
    if signature is None:
        return False
    try:
        answer = kms.verify(
            KeyId=key_id,
            Message=signed_message(summary),
            MessageType="RAW",
            Signature=signature,
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
    except kms.exceptions.KMSInvalidSignatureException:
        return False
    return bool(answer["SignatureValid"])


def link_to(key: str, body: bytes) -> dict[str, str | None]:
    """How a summary names its predecessor: the key, and the SHA-256 of its bytes."""
    return {"key": key, "sha256": hashlib.sha256(body).hexdigest()}
