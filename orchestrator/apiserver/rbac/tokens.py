"""ServiceAccount tokens: signed, expiring, optionally pod-bound JWTs (ES256), as Kubernetes issues them.

`TokenIssuer.issue(...)` makes the token of a TokenRequest (`POST .../serviceaccounts/NAME/token`,
`kubectl create token NAME [--duration]`); `TokenIssuer.verify(token)` returns its claims or None.
`ServiceAccountAuthenticator` turns a verified token into the user
`system:serviceaccount:NS:NAME` (groups system:serviceaccounts, system:serviceaccounts:NS,
system:authenticated) while its ServiceAccount — and the pod it is bound to — still exist with the
uid named in the token (read from the apiserver's watch cache).

The signing key is a PEM private key shared by every apiserver of a cluster (pki.py writes
`pki/sa.key`; without one the serving key is used, which the compose apiservers share too).
"""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from orchestrator.apiserver.auth import AUTHENTICATED_GROUP, UserInfo

ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_AUDIENCES = (ISSUER,)
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 48 * 3600  # --service-account-max-token-expiration, as kubeadm sets it


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    def __init__(self, key: ec.EllipticCurvePrivateKey, *, clock=time.time):
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("ServiceAccount tokens need an ECDSA key")
        self.key = key
        self.public_key = key.public_key()
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(der)
        self.key_id = _b64(digest.finalize())
        self.clock = clock

    @classmethod
    def from_file(cls, path: Path | None) -> TokenIssuer:
        if path is None:
            return cls(ec.generate_private_key(ec.SECP256R1()))  # anonymous test servers: tokens die with it
        return cls(serialization.load_pem_private_key(Path(path).read_bytes(), password=None))

    def issue(self, *, namespace: str, account: str, account_uid: str, audiences: list[str] | None = None,
              expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS, pod: dict | None = None) -> tuple[str, int]:
        """(token, expiry as a Unix time)."""
        now = int(self.clock())
        expiry = now + expiration_seconds
        identity: dict = {"namespace": namespace, "serviceaccount": {"name": account, "uid": account_uid}}
        if pod is not None:
            identity["pod"] = {"name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid", "")}
        claims = {"aud": list(audiences or DEFAULT_AUDIENCES), "exp": expiry, "iat": now, "iss": ISSUER,
                  "jti": str(uuid.uuid4()), "kubernetes.io": identity, "nbf": now,
                  "sub": f"system:serviceaccount:{namespace}:{account}"}
        header = {"alg": "ES256", "kid": self.key_id}
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{_b64(signature)}", expiry

    def verify(self, token: str) -> dict | None:
        """The claims of a token this issuer signed, still valid, for our audience; else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = orjson.loads(_unb64(parts[0]))
            claims = orjson.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(header, dict) or header.get("alg") != "ES256" or len(signature) != 64:
            return None
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            self.public_key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return None
        now = self.clock()
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
            return None
        if not isinstance(claims.get("exp"), int) or claims["exp"] < now or claims.get("nbf", 0) > now + 60:
            return None
        audiences = claims.get("aud") or []
        if not set(audiences if isinstance(audiences, list) else [audiences]) & set(DEFAULT_AUDIENCES):
            return None
        return claims


class ServiceAccountAuthenticator:
    """Bearer JWT -> UserInfo, checking that the account (and bound pod) still exist. `lookup(resource,
    namespace, name)` reads the watch cache."""

    def __init__(self, issuer: TokenIssuer, lookup):
        self.issuer = issuer
        self.lookup = lookup

    def authenticate(self, token: str) -> UserInfo | None:
        if token.count(".") != 2:
            return None
        claims = self.issuer.verify(token)
        if claims is None:
            return None
        identity = claims.get("kubernetes.io") or {}
        namespace = identity.get("namespace") or ""
        account = identity.get("serviceaccount") or {}
        stored = self.lookup("serviceaccounts", namespace, account.get("name") or "")
        if stored is None or stored["metadata"].get("uid") != account.get("uid"):
            return None
        pod = identity.get("pod")
        if pod:
            stored_pod = self.lookup("pods", namespace, pod.get("name") or "")
            if stored_pod is None or stored_pod["metadata"].get("uid") != pod.get("uid") or \
                    stored_pod["metadata"].get("deletionTimestamp"):
                return None
        name = account.get("name")
        return UserInfo(name=f"system:serviceaccount:{namespace}:{name}", uid=account.get("uid") or "",
                        groups=("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED_GROUP))
