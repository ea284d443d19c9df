// `sieve serve -m MODEL`: a local OpenAI-compatible HTTP server
// (app/server/openai_server.h, docs/server.md) over the engine, until Ctrl-C
// or SIGTERM.

#include <pthread.h>
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/mode_args.h"
#include "engine.h"
#include "gguf/gguf_file.h"
#include "server/engine_backend.h"
#include "server/openai_server.h"
#include "tokenizer/vocab_gguf.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& serve_options() {
  static const std::vector<OptionSpec> specs = with_mode_options({
      {"model", 'm', true, "the GGUF model (one model per server)", "MODEL"},
      {"host", 0, true, "the address to listen on (default 127.0.0.1, this machine only)", "ADDRESS"},
      {"port", 0, true, "the TCP port (default 8080; 0: any free port, printed)", "PORT"},
      {"allow-remote", 0, false,
       "allow a --host other than loopback: other machines can then use the model (and read your prompts' "
       "replies); set --api-key too",
       ""},
      {"api-key", 0, true, "require \"Authorization: Bearer KEY\" on every request", "KEY"},
      {"max-body", 0, true, "largest request body (default 1M; larger gets 413)", "SIZE"},
      {"max-waiting", 0, true, "requests waiting for the model beyond this get 503 (default 8)", "N"},
      {"timeout", 0, true, "seconds a client may stay silent mid-request or not read its answer before it is "
       "dropped (default 10)", "SECONDS"},
      {"threads", 't', true, "threads including the main one (default: all cores)", "N"},
      {"ctx", 'c', true, "context size in tokens (default: min(model's, 4096))", "N"},
      {"quiet", 'q', false, "do not log one line per request to stderr", ""},
      {"help", 'h', false, "show this help", ""},
  });
  return specs;
}

// 127.0.0.0/8, ::1 and localhost: reachable from this machine only.
bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// Ctrl-C and SIGTERM, blocked in every thread (before the engine starts its
// own) and taken by one thread with sigwait(), which stops the server from
// ordinary code rather than a signal handler.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

class StopOnSignal {
 public:
  StopOnSignal(server::OpenAiServer& server, sigset_t signals) : signals_(signals) {
    waiter_ = std::thread([this, &server] {
      int signal = 0;
      sigwait(&signals_, &signal);
      if (!done_.load()) std::fprintf(stderr, "sieve serve: stopping\n");
      server.stop();
    });
  }
  ~StopOnSignal() {
    done_.store(true);
    pthread_kill(waiter_.native_handle(), SIGTERM);  // blocked, so it goes to sigwait()
    waiter_.join();
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  sigset_t signals_;
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

}  // namespace

int cmd_serve(CommandArgs argv) {
  const Args args = Args::parse(argv, serve_options());
  const std::string synopsis =
      "sieve serve -m MODEL [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--mode MODE ...]\n\n"
      "Serves the model over OpenAI's HTTP API until Ctrl-C or SIGTERM: GET /v1/models,\n"
      "POST /v1/chat/completions (the model's chat template) and POST /v1/completions, streamed\n"
      "(server-sent events) or not. One generation at a time; other requests wait their turn.\n"
      "It listens on this machine only unless --allow-remote: the API has no encryption, and\n"
      "anyone who reaches the port can use the model. See docs/server.md.";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, serve_options()).c_str());
    return 0;
  }
  reject_positional_arguments(args);
  if (!args.has("model")) throw UsageError("-m MODEL is required (see --help)");
  server::ServerOptions server_options;
  server_options.host = args.get_or("host", "127.0.0.1");
  if (!is_loopback(server_options.host) && !args.has("allow-remote")) {
    throw UsageError("--host " + server_options.host +
                     " would let other machines use the model; add --allow-remote if that is what you want "
                     "(and --api-key)");
  }
  server_options.port = static_cast<int>(args.get_int("port", 8080, 0, 65535));
  if (auto key = args.get("api-key")) {
    if (key->empty()) throw UsageError("--api-key: the key is empty");
    server_options.api_key = *key;
  }
  server_options.max_body_bytes = args.get_size("max-body", server_options.max_body_bytes);
  if (server_options.max_body_bytes < 1024) throw UsageError("--max-body: at least 1K");
  server_options.max_waiting = static_cast<size_t>(args.get_int("max-waiting", 8, 0, 1024));
  const auto timeout = std::chrono::seconds(args.get_int("timeout", 10, 1, 3600));
  server_options.read_timeout = timeout;
  server_options.write_timeout = timeout;
  if (!args.has("quiet")) {
    server_options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  }

  const sigset_t stop_signals = block_stop_signals();
  EngineOptions options;
  options.model_path = *args.get("model");
  options.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  options.context = args.get_int("ctx", 0, 1, int64_t{1} << 24);
  apply_mode_options(args, options);
  const std::unique_ptr<Engine> engine = Engine::load(options);
  if (!engine->model().mode_choice.empty()) std::fprintf(stderr, "%s\n", engine->model().mode_choice.c_str());
  if (!engine->model().has_tokenizer) throw Error(options.model_path.string() + ": the model has no tokenizer");
  server::EngineBackend backend(*engine, tokenizer::read_chat_template(gguf::GgufFile::open(options.model_path)),
                                options.model_path.stem().string());
  if (const auto reason = backend.template_fallback_reason()) {
    std::fprintf(stderr, "sieve serve: %s; chat requests use ChatML\n", reason->c_str());
  }

#ifdef __GLIBC__
  // Request bodies up to --max-body are read on many connection threads. By
  // default glibc raises its mmap threshold to the largest block freed, after
  // which such buffers come from per-thread heaps that keep the memory: RSS
  // then grew ~80 MB over 200 hostile requests. A fixed threshold returns them.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  ::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error return, not the end of the server
  server::OpenAiServer server(backend, std::move(server_options));
  const std::string host = args.get_or("host", "127.0.0.1");
  int port = 0;
  try {
    port = server.bind();
  } catch (const std::runtime_error& e) {
    throw Error(e.what());
  }
  {
    StopOnSignal stop_on_signal(server, stop_signals);
    const std::string shown = host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
    std::printf("sieve serve: %s on http://%s:%d/v1 (context %lld tokens); Ctrl-C stops\n",
                backend.model_id().c_str(), shown.c_str(), port, static_cast<long long>(engine->model().context));
    std::fflush(stdout);
    server.run();
  }
  return 0;
}

}  // namespace sieve::cli
