"""The app's "Local server" switch end to end: the real sieve-desktop
(offscreen, its own empty data folders) driven through its automation
interface (desktop/automation.h), its server hit with curl and, when node and
npm are there, the official `openai` npm package (tests/app/server/openai_client.mjs).

  - on through the settings (port, API key): GET /v1/models lists nothing and
    a chat completion is 503 "no model loaded in Sieve" until a model loads;
    no key is a 401
  - a port already in use: the switch goes back off with a clear error, the
    app goes on; a free port then works
  - stories260K loaded in the app: /v1/models names it; a chat completion
    and a text completion (/v1/completions), each whole and streamed (greedy:
    the same text; the text completion the same as `sieve serve`'s opening);
    the openai client
  - off through the settings: the port is closed

usage: local_server_in_app_test.py SIEVE_DESKTOP SHARED_DIR [OPENAI_CLIENT_DIR]"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "sk-test-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class App:
    """sieve-desktop with SIEVE_AUTOMATION=1: commands on stdin, answers on stdout."""

    def __init__(self, binary, work):
        env = dict(os.environ, HOME=work, XDG_DATA_HOME=f"{work}/data", XDG_CONFIG_HOME=f"{work}/config",
                   XDG_RUNTIME_DIR=f"{work}/run", QT_QPA_PLATFORM="offscreen", SIEVE_AUTOMATION="1",
                   LANG="C.UTF-8")
        os.makedirs(f"{work}/run", mode=0o700)
        self.err = open(f"{work}/err", "w")
        self.proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, env=env, bufsize=1)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def _wait_line(self, start, pred, seconds):
        deadline = time.time() + seconds
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if pred(self.lines[i]):
                        return i, self.lines[i]
                left = deadline - time.time()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no answer in {seconds} s; output: {self.lines[-5:]}")
                self.cond.wait(left)

    def command(self, line, seconds=30):
        with self.cond:
            start = len(self.lines)
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        _, answer = self._wait_line(start, lambda l: not l.startswith("signal "), seconds)
        if answer.startswith("error"):
            raise AssertionError(f"{line}: {answer}")
        return answer

    def get(self, obj, prop):
        return self.command(f"get {obj} {prop}")[len("value "):]

    def wait_for(self, obj, prop, value, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.get(obj, prop) == value:
                return
            time.sleep(0.1)
        raise AssertionError(f"{obj}.{prop} is {self.get(obj, prop)!r}, not {value!r}, after {seconds} s")

    def signal_count(self, text):
        with self.cond:
            return sum(1 for l in self.lines if l == f"signal {text}")

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
        return self.proc.wait()


def curl(port, path, body=None, key=KEY, stream=False):
    """(status, body text) of one request through the curl command line."""
    args = ["curl", "-sS", "-N", "--max-time", "60", "-w", "\n%{http_code}", f"http://127.0.0.1:{port}{path}"]
    if key:
        args += ["-H", f"Authorization: Bearer {key}"]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=90, check=True).stdout
    text, _, status = out.rpartition("\n")
    return int(status), text


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok   ", what)


def chat_body(stream):
    return {"messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 24, "temperature": 0,
            "stream": stream}


def text_body(stream):
    return {"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0, "stream": stream}


def streamed_text(sse):
    text, events, done = "", 0, False
    for line in sse.splitlines():
        if line == "data: [DONE]":
            done = True
        elif line.startswith("data: "):
            events += 1
            for choice in json.loads(line[6:]).get("choices", []):
                text += choice.get("delta", {}).get("content") or choice.get("text") or ""
    return text, events, done


def run(app, model, client_dir):
    port = free_port()
    for line in ("watch chat modelChanged", f"set settings serverPort {port}", f"set settings serverApiKey {KEY}",
                 "set settings serverEnabled true"):
        app.command(line)
    app.wait_for("server", "running", "true")
    check(app.get("server", "url") == f"http://127.0.0.1:{port}/v1", f"the URL shown is http://127.0.0.1:{port}/v1")

    status, body = curl(port, "/v1/models")
    check(status == 200 and json.loads(body)["data"] == [], "no model loaded: GET /v1/models lists none")
    status, body = curl(port, "/v1/chat/completions", chat_body(False))
    error = json.loads(body)["error"]
    check(status == 503 and error["code"] == "model_not_loaded" and "no model loaded in Sieve" in error["message"],
          "no model loaded: a chat completion is 503 model_not_loaded, OpenAI's error JSON")
    status, body = curl(port, "/v1/chat/completions", chat_body(True))
    check(status == 503, "no model loaded: a streamed one too (before streaming starts)")
    status, body = curl(port, "/v1/models", key=None)
    check(status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key", "no API key: 401")

    # A port in use: a clear error, the switch back off, the app still there.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        busy_port = busy.getsockname()[1]
        app.command(f"set settings serverPort {busy_port}")
        app.wait_for("server", "running", "false")
        check(app.get("settings", "serverEnabled") == "false", "a port in use: the switch goes back off")
        error_text = app.get("server", "error")
        check(f"127.0.0.1:{busy_port}" in error_text and "another port" in error_text,
              f"a port in use: the pane says why ({error_text!r})")
        check(not port_open(port), "the previous port was closed")
    app.command(f"set settings serverPort {port}")
    app.command("set settings serverEnabled true")
    app.wait_for("server", "running", "true")
    check(app.get("server", "error") == "", "a free port again: running, the error gone")

    loaded = app.signal_count("chat modelChanged")
    app.command(f"call chat loadModel {model}")
    deadline = time.time() + 60
    while app.signal_count("chat modelChanged") <= loaded:
        if time.time() > deadline:
            raise AssertionError("the model did not load")
        time.sleep(0.1)
    app.wait_for("chat", "modelLoaded", "true")

    status, body = curl(port, "/v1/models")
    check(status == 200 and [m["id"] for m in json.loads(body)["data"]] == ["stories260K"],
          "GET /v1/models: stories260K, the model loaded in the app")
    status, body = curl(port, "/v1/chat/completions", chat_body(False))
    whole = json.loads(body)
    reply = whole["choices"][0]["message"]["content"]
    check(status == 200 and reply and whole["usage"]["completion_tokens"] == 24 and
          whole["choices"][0]["finish_reason"] == "length", f"a chat completion: {reply!r}")
    status, sse = curl(port, "/v1/chat/completions", chat_body(True))
    text, events, done = streamed_text(sse)
    check(status == 200 and done and events > 5 and text == reply,
          f"the same request streamed: {events} events, then [DONE], the same text")

    # A text completion: the prompt continued as it is (no chat template), through the app's worker.
    status, body = curl(port, "/v1/completions", text_body(False))
    whole = json.loads(body)
    continued = whole["choices"][0]["text"]
    check(status == 200 and continued.startswith(", there was") and whole["usage"]["completion_tokens"] == 24 and
          whole["choices"][0]["finish_reason"] == "length", f"a text completion: {continued!r}")
    status, sse = curl(port, "/v1/completions", text_body(True))
    text, events, done = streamed_text(sse)
    check(status == 200 and done and events > 5 and text == continued,
          f"the same text completion streamed: {events} events, then [DONE], the same text")
    status, body = curl(port, "/v1/chat/completions", chat_body(False))
    check(status == 200 and json.loads(body)["choices"][0]["message"]["content"] == reply,
          "a chat completion after it: the same reply as before")

    if client_dir:
        sys.path.insert(0, os.path.join(HERE, "..", "server"))
        from openai_test import install_client
        install_client(client_dir)
        client = subprocess.run(["node", os.path.join(client_dir, "openai_client.mjs"),
                                 f"http://127.0.0.1:{port}/v1"], timeout=120)
        check(client.returncode == 0, "the official openai npm client")
    else:
        print("skip  the openai npm client (node or npm missing)")

    app.command("set settings serverEnabled false")
    app.wait_for("server", "running", "false")
    check(not port_open(port), "switched off: the port is closed")
    check(app.get("chat", "modelLoaded") == "true", "the app goes on with its model")


def main(binary, shared, client_dir=None):
    model = os.path.join(shared, "models", "stories260K.gguf")
    if not os.path.isfile(model):
        print(f"FAIL: {model} not found")
        return 1
    if shutil.which("node") is None or shutil.which("npm") is None:
        client_dir = None
    work = tempfile.mkdtemp(prefix="sieve-app-server.")
    app = App(binary, work)
    try:
        run(app, model, client_dir)
        code = app.quit()
        check(code == 0, "the app quits cleanly")
        print("all checks passed")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        app.quit()
        with open(f"{work}/err") as err:
            print("app stderr (last lines):\n" + "".join(err.readlines()[-15:]))
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
