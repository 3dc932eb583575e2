"""An upstream CA that misbehaves, for the upstream connector's tests: `garbage` answers every POST with
200 and bytes that are no CMP message; `silent` reads the request and never answers."""
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

mode, port = sys.argv[1], int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if mode == "silent":
            time.sleep(3600)
            return
        body = b"\x30\x03garbage that is no PKIMessage"
        self.send_response(200)
        self.send_header("Content-Type", "application/pkixcmp")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, HTTPServer):
    daemon_threads = True


ThreadingServer(("127.0.0.1", port), Handler).serve_forever()
