"""The integration guide's Python webhook receiver, standard library only.

verify_webhook_signature below is the guide's snippet, unchanged. Everything
else stands in for the Flask glue the guide wraps it in:

    signature = request.headers.get('X-Webhook-Signature')
    payload = request.get_data()
    if not verify_webhook_signature(payload, signature, WEBHOOK_SECRET):
        return 'Invalid signature', 401
    event = request.get_json()
    return 'OK', 200

and does what Flask/Werkzeug would do: raw body bytes, header values decoded
as latin-1 (repeated headers joined with ","), an exception in the view is a
500, get_json answers 415 when the body is not declared JSON and 400 when it
does not parse.

Protocol (read by infra/webhooktest/snippets.go): the secret is env
WEBHOOK_SECRET; it listens on 127.0.0.1, port chosen by the OS, and prints
"listening <port>" once ready; after each POST (any path) it prints one JSON
line {"verified", "status", "event_id", "webhook_id"} before answering. It
runs until stdin is closed or it is killed.
"""

import json
import os
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --- the guide's snippet, verbatim -------------------------------------------
import hmac
import hashlib

def verify_webhook_signature(payload: bytes, signature: str, secret: str) -> bool:
    """Vérifie la signature HMAC-SHA256 d'un webhook"""
    expected_signature = hmac.new(
        secret.encode('utf-8'),
        payload,
        hashlib.sha256
    ).hexdigest()
    
    expected = f"sha256={expected_signature}"
    
    return hmac.compare_digest(expected, signature)
# --- end of the guide's snippet ----------------------------------------------


WEBHOOK_SECRET = os.environ['WEBHOOK_SECRET']

_out = threading.Lock()


def emit(line: str) -> None:
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class HTTPError(Exception):
    """What Werkzeug's HTTPException is to Flask: an answer with its status."""

    def __init__(self, status: int, body: str):
        super().__init__(body)
        self.status = status
        self.body = body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def header(self, name):
        # request.headers.get(name): None when absent; Werkzeug's server joins
        # repeated headers with ",".
        values = self.headers.get_all(name)
        if not values:
            return None
        return ",".join(v.replace("\r\n", "") for v in values)

    def get_data(self) -> bytes:
        # request.get_data(): the raw body; chunked bodies are de-chunked, no
        # Content-Length and no chunking means an empty body.
        if "chunked" in (self.header("Transfer-Encoding") or "").lower():
            return self.read_chunked()
        try:
            n = int(self.header("Content-Length") or 0)
        except ValueError:
            n = 0
        return self.rfile.read(n) if n > 0 else b""

    def read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline()  # CRLF after the chunk

    def get_json(self, payload: bytes):
        # request.get_json(): 415 unless the mimetype is JSON, 400 when it does
        # not parse.
        mimetype = (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()
        is_json = mimetype == "application/json" or (
            mimetype.startswith("application/") and mimetype.endswith("+json"))
        if not is_json:
            raise HTTPError(415, "Unsupported Media Type")
        try:
            return json.loads(payload)
        except ValueError:
            raise HTTPError(400, "Bad Request")

    def do_POST(self):
        verified = False
        event_id = ""
        webhook_id = self.header("webhook-id") or ""
        try:
            signature = self.header('X-Webhook-Signature')
            payload = self.get_data()
            verified = verify_webhook_signature(payload, signature, WEBHOOK_SECRET)
            if not verified:
                status, body = 401, 'Invalid signature'
            else:
                event = self.get_json(payload)
                if isinstance(event, dict) and isinstance(event.get("event_id"), str):
                    event_id = event["event_id"]
                status, body = 200, 'OK'
        except HTTPError as e:
            status, body = e.status, e.body
        except Exception as e:  # Flask: an exception in the view is a 500
            sys.stderr.write(f"receiver.py: {type(e).__name__}: {e}\n")
            status, body = 500, "Internal Server Error"
        emit(json.dumps({"verified": verified is True, "status": status,
                         "event_id": event_id, "webhook_id": webhook_id}))
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emit(f"listening {server.server_address[1]}")
    # Run until stdin closes (the harness's pipe) or a signal ends us; a
    # shell's background job has no such pipe (stdin is /dev/null): it runs
    # until killed.
    if not stat.S_ISFIFO(os.fstat(0).st_mode):
        threading.Event().wait()
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
