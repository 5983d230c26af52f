"""A cupd provider in Python that signs its auth frame with the app's key.

Usage: signed_provider.py <ws url> <private key file> <json payload>...

Needs the `websocket-client` and `cryptography` packages (Debian:
python3-websocket, python3-cryptography). Prints the relay's answer to the
auth frame as one JSON line, then publishes each payload.
"""

import base64
import json
import sys

import websocket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def main(url, key_path, payloads):
    with open(key_path) as key_file:
        jwk = json.load(key_file)
    app = jwk["kid"]
    key = Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"]))

    ws = websocket.create_connection(url, timeout=10)
    uid = json.loads(ws.recv())["uid"]
    signature = key.sign(f"cupd-auth:v1:{uid}:{app}".encode("utf-8"))
    ws.send(json.dumps({
        "type": "auth",
        "uid": uid,
        "name": app,
        "signature": b64url_encode(signature),
    }))
    answer = json.loads(ws.recv())
    print(json.dumps(answer), flush=True)
    if answer.get("type") != "authenticated":
        return 1

    for payload in payloads:
        ws.send(json.dumps({"type": "data", "data": json.loads(payload)}))
    # The pong comes after every data frame has been handled.
    ws.send(json.dumps({"type": "ping"}))
    while json.loads(ws.recv()).get("type") != "pong":
        pass
    ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
