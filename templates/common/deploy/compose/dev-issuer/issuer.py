{{ header }}
"""A token issuer for local development only: compose runs it, nothing deploys it.

It makes a fresh RSA key at start-up and serves
  GET  /.well-known/jwks.json            the public key (the services' AUTH_JWKS_URL)
  GET  /.well-known/openid-configuration issuer, JWKS and token URLs
  POST /token                            a signed JWT for any subject and roles you ask for:
       curl -s -X POST {{ m.security.dev_issuer.local_token_url }} -H 'content-type: application/json' \\
            -d '{"sub": "<a {{ m.security.user_entity | default(value="user") }} id>", "roles": ["{{ m.security.admin_role }}"]}'
Anyone who reaches it can mint any token: never expose it beyond your machine.
"""

import argparse
import json
import os
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = os.environ.get("ISSUER", "{{ m.security.dev_issuer.url }}")
AUDIENCE = os.environ.get("AUDIENCE", "{{ m.security.audience }}")
ROLES_CLAIM = "{{ m.security.roles_claim }}"
DEFAULT_TTL = 3600
MAX_TTL = 86400

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = uuid.uuid4().hex
JWK = {
    **jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True),
    "kid": KID,
    "use": "sig",
    "alg": "RS256",
}


def token(sub: str, roles: list[str], ttl: int) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        ROLES_CLAIM: roles,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": KID})


class Handler(BaseHTTPRequestHandler):
    def answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path == "/.well-known/jwks.json":
            self.answer(200, {"keys": [JWK]})
        elif self.path == "/.well-known/openid-configuration":
            self.answer(
                200,
                {
                    "issuer": ISSUER,
                    "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
                    "token_endpoint": f"{ISSUER}/token",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        elif self.path == "/healthz":
            self.answer(200, {"status": "ok"})
        else:
            self.answer(404, {"detail": "not found"})

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        if self.path != "/token":
            self.answer(404, {"detail": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            asked = json.loads(self.rfile.read(min(length, 65536)) or b"{}")
            sub = str(asked.get("sub") or uuid.uuid4())
            roles = [str(r) for r in asked.get("roles") or []]
            ttl = max(1, min(int(asked.get("ttl") or DEFAULT_TTL), MAX_TTL))
        except (ValueError, TypeError, AttributeError) as exc:
            self.answer(400, {"detail": f"bad request: {exc}"})
            return
        self.answer(
            200,
            {
                "access_token": token(sub, roles, ttl),
                "token_type": "Bearer",
                "expires_in": ttl,
            },
        )

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default={{ m.security.dev_issuer.port }})
    args = parser.parse_args()
    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
