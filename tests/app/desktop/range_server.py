#!/usr/bin/env python3
"""A small HTTP server on loopback for the download tests (download_manager_test.cpp).

Serves one real file (a GGUF from ../shared/models) with HTTP Range support:
  /model.gguf               the file; `Range: bytes=N-` gets 206 and the rest
  /ignore-range/model.gguf  the file, always whole with 200 (a server without ranges)
  /corrupt/model.gguf       the file with one byte changed in its middle (same size)
  anything else             404
Query parameters, on any of them:
  rate=B     send at most B bytes per second (throttled in 16 KiB steps)
  drop_at=N  close the connection when the file position reaches byte N, the
             Content-Length promised more. Once per server and value, so the
             request that resumes (or restarts) goes through.
Every request is logged as one JSON line to --log FILE when it ends: its target
(path and query), the Range header (or null), the status, the first byte sent
and how many bytes went out (an aborted one when the server notices).
Prints the port it listens on (127.0.0.1, a free port) as its first line.

Usage: range_server.py FILE --log LOG
"""
import argparse
import json
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STEP = 16 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the JSON log says what happened
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        server = self.server
        if url.path == "/model.gguf":
            data, ranges = server.data, True
        elif url.path == "/ignore-range/model.gguf":
            data, ranges = server.data, False
        elif url.path == "/corrupt/model.gguf":
            data, ranges = server.corrupt, True
        else:
            self.send_error(404, "Not Found")
            self.record(None, 404, 0, 0)
            return
        range_header = self.headers.get("Range")
        start = 0
        status = 200
        if ranges and range_header and range_header.startswith("bytes="):
            first = range_header[len("bytes="):].split("-")[0]
            start = int(first) if first else 0
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.record(range_header, 416, start, 0)
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes" if ranges else "none")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Connection", "close")
        self.end_headers()

        rate = int(query.get("rate", "0"))
        drop_at = int(query["drop_at"]) if "drop_at" in query else None
        with server.lock:
            if drop_at is not None and (url.path, drop_at) in server.dropped:
                drop_at = None
        position = start
        began = time.monotonic()
        try:
            while position < len(data):
                end = min(position + STEP, len(data))
                if drop_at is not None and position < drop_at <= end:
                    end = drop_at
                self.wfile.write(data[position:end])
                self.wfile.flush()
                position = end
                if drop_at is not None and position == drop_at:
                    with server.lock:
                        server.dropped.add((url.path, drop_at))
                    self.record(range_header, status, start, position - start, dropped=True)
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if rate > 0:
                    ahead = (position - start) / rate - (time.monotonic() - began)
                    if ahead > 0:
                        time.sleep(ahead)
        except (BrokenPipeError, ConnectionResetError):
            self.record(range_header, status, start, position - start, aborted=True)
            return
        self.record(range_header, status, start, position - start)

    def record(self, range_header, status, start, sent, **extra):
        entry = {"target": self.path, "range": range_header, "status": status, "start": start, "sent": sent}
        entry.update(extra)
        with self.server.lock, open(self.server.log, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.file, "rb") as f:
        server.data = f.read()
    corrupt = bytearray(server.data)
    corrupt[len(corrupt) // 2] ^= 0xFF
    server.corrupt = bytes(corrupt)
    server.log = args.log
    server.lock = threading.Lock()
    server.dropped = set()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
