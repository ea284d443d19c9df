"""Starts the real `sieve serve` on a free loopback port for the tests beside
this file, and stops it the way a user does (SIGTERM), checking it leaves
cleanly. Standard library only."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


class ServeProcess:
    def __init__(self, sieve, model, *extra_args):
        self.args = [sieve, "serve", "-m", model, "--port", "0", *extra_args]
        self.log_lines = []
        self._log_lock = threading.Lock()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._collect_stderr, daemon=True).start()
        line = self._first_stdout_line(timeout=60)
        match = re.search(r"http://(127\.0\.0\.1:\d+)/v1", line)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"sieve serve did not print its URL: {line!r}; stderr: {self.log()}")
        self.address = match.group(1)
        self.url = f"http://{self.address}/v1"
        self.host, port = self.address.split(":")
        self.port = int(port)

    def _first_stdout_line(self, timeout):
        result = {}
        reader = threading.Thread(target=lambda: result.update(line=self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result.get("line", "")

    def _collect_stderr(self):
        for line in self.proc.stderr:
            with self._log_lock:
                self.log_lines.append(line.rstrip("\n"))

    def log(self):
        with self._log_lock:
            return list(self.log_lines)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def alive(self):
        return self.proc.poll() is None

    def request(self, path, body=None, headers=None, timeout=30):
        """(status, parsed JSON body) of one request with urllib."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json",
                                                                          **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self, timeout=15):
        """SIGTERM, then the exit code (0 expected) within `timeout` seconds."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"sieve serve did not stop within {timeout} s of SIGTERM")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


class Checks:
    """Collects failures, prints each check, exits 1 at the end if any failed."""

    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def finish(self):
        if self.failures:
            print(f"{len(self.failures)} check(s) failed", file=sys.stderr)
            sys.exit(1)
        print("all checks passed")


def sse_events(text):
    """The data of each server-sent event in `text` (comment lines skipped)."""
    events, data = [], None
    for line in text.split("\n"):
        if line == "":
            if data is not None:
                events.append(data)
            data = None
        elif line.startswith("data: "):
            data = line[6:] if data is None else data + "\n" + line[6:]
    return events
