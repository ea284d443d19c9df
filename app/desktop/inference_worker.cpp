#include "desktop/inference_worker.h"

#include <QElapsedTimer>
#include <algorithm>

#include "engine.h"
#include "gguf/gguf_file.h"
#include "sampling/stop_strings.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/vocab_gguf.h"

namespace sieve::app {
namespace {

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::vector<tokenizer::ChatMessage> toChatMessages(const QList<ChatTurn>& turns) {
  std::vector<tokenizer::ChatMessage> messages;
  messages.reserve(turns.size());
  for (const ChatTurn& t : turns) messages.push_back({t.role.toStdString(), t.content.toStdString()});
  return messages;
}

std::string tokenText(const tokenizer::Vocab& vocab, tokenizer::TokenId id) {
  return vocab.contains(id) ? vocab.text(id) : std::string();
}

}  // namespace

InferenceWorker::InferenceWorker() {
  qRegisterMetaType<EngineSettings>();
  qRegisterMetaType<GenerationRequest>();
  qRegisterMetaType<LoadResult>();
  qRegisterMetaType<GenerationResult>();
}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::cancel(quint64 id) {
  quint64 seen = cancelledUpTo_.load();
  while (seen < id && !cancelledUpTo_.compare_exchange_weak(seen, id)) {
  }
}

void InferenceWorker::unload() {
  engine_.reset();
  cached_.clear();
}

void InferenceWorker::load(const EngineSettings& settings) {
  LoadResult result;
  result.settings = settings;
  unload();  // the old engine's memory goes before the new one's arrives
  try {
    EngineOptions options;
    options.model_path = settings.modelPath.toStdString();
    options.threads = settings.threads;
    options.context = settings.context;
    engine_ = Engine::load(options);
    if (!engine_->model().has_tokenizer) throw Error("the model " + settings.modelPath.toStdString() +
                                                     " has no tokenizer, so it cannot chat");
    chatTemplate_ = tokenizer::read_chat_template(gguf::GgufFile::open(options.model_path));
    const tokenizer::Vocab& vocab = engine_->tokenizer().vocab();
    bosText_ = tokenText(vocab, vocab.bos());
    eosText_ = tokenText(vocab, vocab.eos());
    // The text the template writes after an assistant turn ends a reply too.
    tokenizer::ChatTemplateInputs inputs{false, bosText_, eosText_};
    const std::string probe = "SIEVE-PROBE-REPLY";
    const std::vector<tokenizer::ChatMessage> probeMessages = {{"user", "Hi"}, {"assistant", probe}};
    endOfTurn_.clear();
    try {
      const std::string text = tokenizer::format_chat(chatTemplate_, probeMessages, inputs).prompt;
      const size_t at = text.rfind(probe);
      if (at != std::string::npos) endOfTurn_ = trimmed(text.substr(at + probe.size()));
    } catch (const tokenizer::TemplateError&) {
      // Generation then ends at EOS / EOT only.
    }
    result.ok = true;
    result.modelName = QString::fromStdString(engine_->model().name);
    result.context = engine_->model().context;
  } catch (const std::exception& e) {
    engine_.reset();
    result.error = QString::fromStdString(e.what());
  }
  emit loadFinished(result);
}

std::vector<int32_t> InferenceWorker::tokenizeConversation(const QList<ChatTurn>& messages) const {
  const tokenizer::ChatTemplateInputs inputs{true, bosText_, eosText_};
  const std::string text = tokenizer::format_chat(chatTemplate_, toChatMessages(messages), inputs).prompt;
  tokenizer::TokenizeOptions options;
  options.parse_special = true;  // the template's control tokens
  std::vector<int32_t> tokens = engine_->tokenizer().tokenize(text, options);
  const int32_t bos = engine_->model().bos_id;
  if (engine_->model().add_bos && bos >= 0 && (tokens.empty() || tokens.front() != bos)) {
    tokens.insert(tokens.begin(), bos);
  }
  return tokens;
}

// Drops the oldest exchanges after a system prompt until the conversation
// leaves `room` tokens for the reply; empty when even the last message alone does not.
std::vector<int32_t> InferenceWorker::fittingPrompt(QList<ChatTurn>& messages, int room, int& dropped) const {
  const int64_t context = engine_->model().context;
  const qsizetype first = !messages.isEmpty() && messages.first().role == "system" ? 1 : 0;
  std::vector<int32_t> tokens = tokenizeConversation(messages);
  while (int64_t(tokens.size()) + room > context && messages.size() - first > 1) {
    do {
      messages.removeAt(first);
      ++dropped;
    } while (messages.size() - first > 1 && messages[first].role != "user");
    tokens = tokenizeConversation(messages);
  }
  if (int64_t(tokens.size()) + room > context) return {};
  return tokens;
}

// Reuses the longest prefix already in the KV cache; runs the rest.
std::span<const float> InferenceWorker::runNewTokens(const std::vector<int32_t>& prompt) {
  size_t keep = 0;
  while (keep < cached_.size() && keep + 1 < prompt.size() && cached_[keep] == prompt[keep]) ++keep;
  engine_->rewind(int64_t(keep));
  cached_.resize(keep);
  const std::span<const int32_t> fresh(prompt.data() + keep, prompt.size() - keep);
  const std::span<const float> logits = engine_->prefill(fresh);
  cached_.insert(cached_.end(), fresh.begin(), fresh.end());
  return logits;
}

void InferenceWorker::runGeneration(const GenerationRequest& request, GenerationResult& result) {
  using End = GenerationResult::End;
  QList<ChatTurn> messages = request.messages;
  const int64_t context = engine_->model().context;
  const int room = int(std::clamp<int64_t>(std::min<int64_t>(request.maxTokens, context / 4), 1, context));
  const std::vector<int32_t> prompt = fittingPrompt(messages, room, result.droppedMessages);
  if (prompt.empty()) {
    result.end = End::ContextFull;
    result.error = QStringLiteral("The message does not fit in the context of %1 tokens.").arg(context);
    return;
  }
  sampling::Sampler sampler(request.sampling, engine_->model().n_vocab);
  for (int32_t id : prompt) sampler.accept(id);
  std::span<const float> logits = runNewTokens(prompt);
  tokenizer::StreamingDetokenizer detokenizer(engine_->tokenizer(), {.at_text_start = false});
  sampling::StopStringMatcher stops({endOfTurn_});
  const auto show = [&](const std::string& text) {
    if (!text.empty()) emit tokenGenerated(request.id, QString::fromStdString(text));
  };
  QElapsedTimer timer;
  timer.start();
  result.end = End::TokenLimit;
  for (int n = 0; n < request.maxTokens; ++n) {
    if (cancelled(request.id)) {
      result.end = End::Cancelled;
      break;
    }
    const int32_t token = sampler.sample(logits);
    sampler.accept(token);
    if (engine_->is_end_of_generation(token)) {
      result.end = End::EndOfText;
      break;
    }
    ++result.tokens;
    show(stops.push(detokenizer.push(token)));
    if (stops.stopped()) {
      result.end = End::EndOfText;
      break;
    }
    if (n + 1 == request.maxTokens) break;
    if (engine_->remaining_context() == 0) {
      result.end = End::ContextFull;
      break;
    }
    logits = engine_->decode(token);
    cached_.push_back(token);
  }
  if (!stops.stopped()) show(stops.push(detokenizer.finish()));
  show(stops.flush());
  const double seconds = timer.nsecsElapsed() / 1e9;
  result.tokensPerSecond = seconds > 0 ? result.tokens / seconds : 0;
}

void InferenceWorker::generate(const GenerationRequest& request) {
  GenerationResult result;
  result.id = request.id;
  if (cancelled(request.id)) {
    result.end = GenerationResult::End::Cancelled;
  } else if (!engine_) {
    result.end = GenerationResult::End::Error;
    result.error = QStringLiteral("No model is loaded.");
  } else {
    try {
      runGeneration(request, result);
    } catch (const std::exception& e) {
      // The KV cache may hold a half-run prompt: start clean next time.
      engine_->reset();
      cached_.clear();
      result.end = GenerationResult::End::Error;
      result.error = QString::fromStdString(e.what());
    }
  }
  emit generationFinished(result);
}

InferenceThread::InferenceThread() : worker_(new InferenceWorker) {
  thread_.setObjectName("sieve-inference");
  worker_->moveToThread(&thread_);
  QObject::connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.start();
}

InferenceThread::~InferenceThread() {
  worker_->cancel(std::numeric_limits<quint64>::max());
  thread_.quit();
  thread_.wait();
}

}  // namespace sieve::app
