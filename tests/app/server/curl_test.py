"""`sieve serve` driven with curl: models, chat completions streamed (SSE)
and not, text completions equal to `sieve run`'s greedy output, errors in
OpenAI's shape, the API key, a refused non-loopback host, and SIGTERM.

usage: curl_test.py SIEVE MODEL"""

import json
import subprocess
import sys

from serve_process import Checks, ServeProcess, sse_events


def curl(*args, timeout=60):
    out = subprocess.run(["curl", "-sS", "--max-time", str(timeout), *args], capture_output=True, text=True,
                         timeout=timeout + 5)
    return out.stdout


def post(url, body, *extra):
    """(HTTP status, response text) of a POST with a JSON body."""
    text = curl("-w", "\n%{http_code}", "-H", "Content-Type: application/json", "-d", json.dumps(body), *extra, url)
    text, _, status = text.rpartition("\n")
    return int(status), text


def main(sieve, model):
    c = Checks()
    with ServeProcess(sieve, model) as server:
        url = server.url
        models = json.loads(curl(url + "/models"))
        c.check(models["object"] == "list" and models["data"][0]["id"] == "stories260K", "GET /v1/models lists the model")

        chat = {"model": "stories260K", "messages": [{"role": "user", "content": "Tell me a story"}],
                "max_tokens": 24, "seed": 42, "temperature": 0.8}
        status, text = post(url + "/chat/completions", chat)
        whole = json.loads(text)
        c.check(status == 200 and whole["object"] == "chat.completion", "chat completion: 200, chat.completion")
        content = whole["choices"][0]["message"]["content"]
        c.check(len(content) > 0 and whole["choices"][0]["message"]["role"] == "assistant", f"chat reply: {content!r}")
        usage = whole["usage"]
        c.check(usage["completion_tokens"] == 24 and whole["choices"][0]["finish_reason"] == "length" and
                usage["prompt_tokens"] > 0 and usage["total_tokens"] == usage["prompt_tokens"] + 24,
                f"usage counts {usage}, finish_reason length at max_tokens")

        status, text = post(url + "/chat/completions", {**chat, "stream": True, "stream_options": {"include_usage": True}},
                            "-N")
        events = sse_events(text)
        c.check(status == 200 and events[-1] == "[DONE]", f"stream: {len(events)} events ending with [DONE]")
        chunks = [json.loads(e) for e in events[:-1]]
        streamed = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks if ch["choices"])
        c.check(chunks[0]["choices"][0]["delta"].get("role") == "assistant", "stream: the first chunk has the role")
        c.check(streamed == content, f"stream with the same seed says the same: {streamed!r}")
        c.check(chunks[-2]["choices"][0]["finish_reason"] == "length", "stream: the last choice chunk has finish_reason")
        c.check(chunks[-1]["choices"] == [] and chunks[-1]["usage"] == usage, "stream: include_usage chunk")

        greedy = subprocess.run([sieve, "run", "-m", model, "-p", "Once upon a time", "-n", "30", "--temp", "0",
                                 "--no-echo"], capture_output=True, text=True, timeout=60).stdout.rstrip("\n")
        status, text = post(url + "/completions", {"prompt": "Once upon a time", "max_tokens": 30, "temperature": 0})
        completion = json.loads(text)
        c.check(status == 200 and completion["choices"][0]["text"] == greedy,
                f"/v1/completions greedy = sieve run: {completion['choices'][0]['text']!r}")
        c.check(completion["usage"]["completion_tokens"] == 30, "completion usage")
        status, text = post(url + "/completions", {"prompt": "Once upon a time", "max_tokens": 30, "temperature": 0,
                                                   "stream": True}, "-N")
        streamed = "".join(json.loads(e)["choices"][0]["text"] for e in sse_events(text)[:-1])
        c.check(streamed == greedy, "streamed text completion = sieve run")
        status, text = post(url + "/completions", {"prompt": "Once upon a time", "max_tokens": 30, "temperature": 0,
                                                   "stop": ["girl"]})
        stopped = json.loads(text)["choices"][0]
        c.check(stopped["text"] == greedy[:greedy.index("girl")] and stopped["finish_reason"] == "stop",
                f"stop string: {stopped['text']!r}")

        status, text = post(url + "/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                        "temperature": "hot"})
        error = json.loads(text)["error"]
        c.check(status == 400 and error["param"] == "temperature" and error["type"] == "invalid_request_error",
                f"wrong type: 400 {error}")
        status, text = post(url + "/chat/completions", {"messages": [{"role": "user", "content": "word " * 3000}]})
        c.check(status == 400 and json.loads(text)["error"]["code"] == "context_length_exceeded",
                f"prompt longer than the context: {status} {text[:160]}")
        status, text = post(url + "/nothing", {})
        c.check(status == 404 and "error" in json.loads(text), "unknown endpoint: 404 in OpenAI's shape")
        status = int(curl("-o", "/dev/null", "-w", "%{http_code}", url + "/chat/completions"))
        c.check(status == 405, f"GET on a POST endpoint: {status}")
        c.check(server.stop() == 0, "SIGTERM: exit code 0")

    with ServeProcess(sieve, model, "--api-key", "s3cret") as server:
        status, text = post(server.url + "/chat/completions", chat)
        c.check(status == 401 and json.loads(text)["error"]["code"] == "invalid_api_key", "no key: 401")
        status, text = post(server.url + "/chat/completions", chat, "-H", "Authorization: Bearer wrong")
        c.check(status == 401, "wrong key: 401")
        status, text = post(server.url + "/chat/completions", chat, "-H", "Authorization: Bearer s3cret")
        c.check(status == 200, "right key: 200")
        c.check(server.stop() == 0, "SIGTERM: exit code 0")

    # SIGTERM while a stream is running: the generation stops, the stream ends, the server exits 0.
    with ServeProcess(sieve, model) as server:
        long_story = {"messages": [{"role": "user", "content": "Tell me a long story"}], "max_tokens": 2000,
                      "stream": True}
        stream = subprocess.Popen(["curl", "-sSN", "--max-time", "60", "-H", "Content-Type: application/json", "-d",
                                   json.dumps(long_story), server.url + "/chat/completions"],
                                  stdout=subprocess.PIPE, text=True)
        first = stream.stdout.readline()
        code = server.stop()
        rest = stream.stdout.read()
        stream.wait(30)
        c.check(first.startswith("data: ") and code == 0, "SIGTERM during a stream: exit code 0")
        tokens = len([e for e in sse_events(first + rest) if e != "[DONE]"])
        c.check(tokens < 2000, f"... and the stream ended early ({tokens} events of up to 2000)")

    refused = subprocess.run([sieve, "serve", "-m", model, "--host", "0.0.0.0", "--port", "0"], capture_output=True,
                             text=True, timeout=60)
    c.check(refused.returncode == 2 and "--allow-remote" in refused.stderr,
            f"a non-loopback host without --allow-remote is refused: {refused.stderr.strip()}")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
