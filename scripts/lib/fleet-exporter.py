#!/usr/bin/env python3
"""A fleet of services as one scrape target, for scripts/bench-instances.

Serves /metrics with `http_requests_total{service="svc-<i>",code="200"|"500"}` for N services:
each service takes 10 + (i % 7) requests a second, 0.1% of them errors, so the counters grow
steadily from the moment the exporter started (the values are whole requests, as a real counter's).

usage: fleet-exporter.py PORT SERVICES
"""

import http.server
import sys
import time

PORT = int(sys.argv[1])
SERVICES = int(sys.argv[2])
START = time.time()


def body() -> bytes:
    elapsed = time.time() - START
    lines = ["# TYPE http_requests_total counter"]
    for i in range(SERVICES):
        rate = 10 + (i % 7)
        total = int(rate * elapsed)
        errors = total // 1000
        lines.append(f'http_requests_total{{service="svc-{i}",code="200"}} {total - errors}')
        lines.append(f'http_requests_total{{service="svc-{i}",code="500"}} {errors}')
    lines.append("")
    return "\n".join(lines).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        payload = body()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
