#!/usr/bin/env python3
"""A bring-your-own-container echo model for bidirectional streaming, in the shape of the AWS
sample (aws-samples/sagemaker-genai-hosting-examples, 03-features/bidirectional-streaming-byoc)
but on Debian's python3-websockets alone, so its image needs no registry and no pip.

On SAGEMAKER_BIND_TO_PORT (default 8080):
  GET|POST /ping                          200 {"response": "pong"}
  POST /invocations                       200 the JSON body echoed back, wrapped
  WS   /invocations-bidirectional-stream  each message echoed: text as text, binary as binary
                                          (fragmented messages are reassembled first)

Started as SageMaker starts containers: `app.py serve`. SIGTERM closes open sessions (1001) and
exits 0.
"""

import asyncio
import http
import json
import logging
import os
import signal
import sys

import websockets
import websockets.legacy.http
import websockets.legacy.server

BIDI_PATH = "/invocations-bidirectional-stream"
MAX_MESSAGE_BYTES = int(os.environ.get("MAX_MESSAGE_BYTES", str(16 * 1024 * 1024)))
MAX_INVOCATION_BYTES = int(os.environ.get("MAX_INVOCATION_BYTES", str(6 * 1024 * 1024)))

log = logging.getLogger("byoc-echo")


class Protocol(websockets.legacy.server.WebSocketServerProtocol):
    """One port for plain HTTP and the WebSocket, as SageMaker's contract wants.

    websockets' server reads only GET requests; POST /invocations and POST /ping need the method,
    so the request line is read here (read_http_request is the documented hook for this) and the
    plain-HTTP paths are answered from process_request before any WebSocket handshake.
    """

    method = "GET"

    async def read_http_request(self):
        line = await websockets.legacy.http.read_line(self.reader)
        try:
            method, raw_path, _version = line.split(b" ", 2)
        except ValueError:
            raise websockets.exceptions.InvalidMessage(f"invalid request line {line!r}") from None
        headers = await websockets.legacy.http.read_headers(self.reader)
        self.method = method.decode("ascii", "replace")
        self.path = raw_path.decode("ascii", "surrogateescape")
        self.request_headers = headers
        return self.path, headers

    async def process_request(self, path, headers):
        route = path.split("?", 1)[0]
        if route == "/ping" and self.method in ("GET", "POST"):
            return respond(http.HTTPStatus.OK, {"response": "pong"})
        if route == "/invocations" and self.method == "POST":
            length = int(headers.get("Content-Length", "0"))
            if length > MAX_INVOCATION_BYTES:
                return respond(http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "payload too large"})
            body = await self.reader.readexactly(length)
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                return respond(http.HTTPStatus.BAD_REQUEST, {"error": "the body is not JSON"})
            return respond(http.HTTPStatus.OK, {"status": "success", "message": "echo", "echo": payload})
        if route == BIDI_PATH and self.method == "GET":
            return None  # go on with the WebSocket handshake
        if route == BIDI_PATH or route in ("/ping", "/invocations"):
            return respond(http.HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{self.method} not allowed"})
        return respond(http.HTTPStatus.NOT_FOUND, {"error": f"no route {route}"})


def respond(status, body):
    data = json.dumps(body).encode()
    return status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))], data


async def echo(ws, _path=None):
    peer = ws.remote_address
    log.info("session opened from %s", peer)
    try:
        # websockets reassembles fragmented messages and answers pings on its own.
        async for message in ws:
            await ws.send(message)  # str goes back as text, bytes as binary
    except websockets.exceptions.ConnectionClosedError as exc:
        log.info("session from %s broke: %s", peer, exc)
        return
    log.info("session from %s closed (%s %s)", peer, ws.close_code, ws.close_reason)


async def main():
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, sig)
    async with websockets.serve(
        echo,
        "0.0.0.0",
        port,
        create_protocol=Protocol,
        max_size=MAX_MESSAGE_BYTES,
        compression=None,   # the sidecar does not negotiate permessage-deflate
        ping_interval=None,  # the sidecar pings (every 60 s); pongs are automatic
    ):
        log.info("listening on %d", port)
        sig = await stop
        log.info("%s: closing", signal.Signals(sig).name)


if __name__ == "__main__":
    if sys.argv[1:] != ["serve"]:
        print(f"usage: {sys.argv[0]} serve", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # websockets logs every plain-HTTP answer as a failed connection: with a health probe every
    # few seconds that would drown the log. Sessions are logged by echo() instead.
    logging.getLogger("websockets.server").setLevel(logging.WARNING)
    asyncio.run(main())
