"""A provider that follows the original Services API document literally,
written with Python's websocket-client. Usage: provider.py <ws url> <app> N"""

import json
import sys

import websocket


def receive(ws):
    """The next frame, skipping audience counts (informational)."""
    while True:
        frame = json.loads(ws.recv())
        if frame["type"] != "audience":
            return frame


def main():
    url, app, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ws = websocket.create_connection(url)
    welcome = json.loads(ws.recv())
    assert welcome["type"] == "welcome", welcome
    uid = welcome["uid"]

    ws.send(json.dumps({"type": "auth", "uid": uid, "name": app}))
    ack = receive(ws)
    assert ack == {"type": "authenticated", "name": app}, ack

    for seq in range(count):
        payload = {"seq": seq, "text": "héllo", "values": [1.5, None, True]}
        ws.send(json.dumps({"type": "data", "data": payload}))

    ws.send(json.dumps({"type": "ping"}))
    assert receive(ws) == {"type": "pong"}
    ws.close()
    print("sent", count)


if __name__ == "__main__":
    main()
