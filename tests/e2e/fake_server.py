#!/usr/bin/env python3
"""A scripted HTTP server for the failure modes real servers do not show on
demand (tests/e2e/test_push_failures.sh).

    fake_server.py PORT MODE LOGFILE [CERT KEY]

MODE: ok (204), e500 (always 500), e400 (always 400 with a message), e429,
old (500 "out of bounds", as Prometheus says for too-old samples), flaky
(500 twice, then 204), nogzip (415 to a gzip body), hang (read the request, never answer).
With CERT and KEY it serves HTTPS (TLS verification tests).
Each request is logged as one JSON line: method, path, headers, body size.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, mode, logfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
count = [0]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, text=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        count[0] += 1
        with open(logfile, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "n": count[0],
                                "headers": dict(self.headers), "bytes": len(body)}) + "\n")
        gz = self.headers.get("Content-Encoding") == "gzip"
        if mode == "nogzip":
            self.reply(415 if gz else 204, b"unsupported content encoding" if gz else b"")
        elif mode == "ok" or (mode == "flaky" and count[0] > 2):
            self.reply(204)
        elif mode in ("e500", "flaky"):
            self.reply(500, b"internal error, try later")
        elif mode == "e400":
            self.reply(400, b"invalid label set: label \"x\" is bad")
        elif mode == "e429":
            self.reply(429, b"slow down")
        elif mode == "old":
            self.reply(500, b"out of bounds")
        elif mode == "hang":
            time.sleep(120)

    do_POST = do_PUT = do_GET = handle_any


srv = ThreadingHTTPServer(("127.0.0.1", port), H)
if len(sys.argv) > 5:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.daemon_threads = True
print("ready", flush=True)
srv.serve_forever()
