"""A webhook receiver for the notification tests. It checks each POST the way a receiver should:
HMAC-SHA-256 over "<timestamp>.<body>" with the shared secret (compared with Custos-Signature's v1) and a
timestamp within five minutes. What it answers is read from MODE_FILE at each request: `ok` (204),
`error` (500) or `hang` (no answer for a minute). Every request is logged as a JSON line.

usage: webhook_receiver.py PORT SECRET_FILE LOG_FILE MODE_FILE"""
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

port, secret_file, log_file, mode_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
secret = open(secret_file, "rb").read()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        timestamp = self.headers.get("Custos-Timestamp", "")
        fields = dict(part.split("=", 1) for part in self.headers.get("Custos-Signature", "").split(",") if "=" in part)
        expected = hmac.new(secret, f"{fields.get('t', '')}.".encode() + body, hashlib.sha256).hexdigest()
        verified = hmac.compare_digest(expected, fields.get("v1", "")) and fields.get("t") == timestamp
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        mode = open(mode_file).read().strip()
        status = {"ok": 204, "error": 500}.get(mode, 0)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with open(log_file, "a") as log:
            log.write(json.dumps({
                "status": status, "verified": verified, "fresh": fresh,
                "id": self.headers.get("Custos-Notification-Id"), "event": self.headers.get("Custos-Event"),
                "body": parsed,
            }) + "\n")
        if status == 0:
            time.sleep(60)
            return
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, HTTPServer):
    daemon_threads = True


ThreadingServer(("127.0.0.1", port), Handler).serve_forever()
