#include "desktop/inference_worker.h"

#include <limits>

#include "chat/chat_session.h"
#include "engine.h"
#include "gguf/gguf_file.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/vocab_gguf.h"

namespace sieve::app {
namespace {

std::vector<tokenizer::ChatMessage> toChatMessages(const QList<ChatTurn>& turns) {
  std::vector<tokenizer::ChatMessage> messages;
  messages.reserve(turns.size());
  for (const ChatTurn& t : turns) messages.push_back({t.role.toStdString(), t.content.toStdString()});
  return messages;
}

GenerationResult::End endFor(chat::StopReason stop) {
  using End = GenerationResult::End;
  switch (stop) {
    case chat::StopReason::end_of_generation:
    case chat::StopReason::end_of_turn: return End::EndOfText;
    case chat::StopReason::max_tokens: return End::TokenLimit;
    case chat::StopReason::context_full: return End::ContextFull;
    case chat::StopReason::cancelled: return End::Cancelled;
  }
  return End::EndOfText;
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
  const std::lock_guard lock(runningMutex_);
  if (cancelledUpTo_.load() < id) cancelledUpTo_.store(id);
  if (runningId_ != 0 && runningId_ <= id) cancelRunning_.store(true);
}

void InferenceWorker::startRunning(quint64 id) {
  const std::lock_guard lock(runningMutex_);
  runningId_ = id;
  cancelRunning_.store(cancelled(id));
}

void InferenceWorker::stopRunning() {
  const std::lock_guard lock(runningMutex_);
  runningId_ = 0;
}

void InferenceWorker::unload() {
  session_.reset();
  engine_.reset();
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
    chat::ChatOptions chatOptions;
    chatOptions.chat_template = tokenizer::read_chat_template(gguf::GgufFile::open(options.model_path));
    session_ = std::make_unique<chat::ChatSession>(*engine_, std::move(chatOptions));
    result.ok = true;
    result.modelName = QString::fromStdString(engine_->model().name);
    result.context = engine_->model().context;
  } catch (const std::exception& e) {
    unload();
    result.error = QString::fromStdString(e.what());
  }
  emit loadFinished(result);
}

void InferenceWorker::runGeneration(const GenerationRequest& request, GenerationResult& result) {
  if (request.messages.isEmpty() || request.messages.last().role != QLatin1String("user")) {
    throw Error("the conversation does not end with a user message to reply to");
  }
  std::vector<tokenizer::ChatMessage> history = toChatMessages(request.messages);
  std::string message = std::move(history.back().content);
  history.pop_back();
  session_->set_sampling(request.sampling);
  session_->set_max_reply_tokens(request.maxTokens);
  session_->set_messages(std::move(history));
  try {
    session_->add_user_message(std::move(message));
  } catch (const chat::MessageTooLongError& e) {
    result.end = GenerationResult::End::ContextFull;
    result.error = QStringLiteral("The message does not fit in the context of %1 tokens.").arg(e.context_tokens());
    return;
  }
  const EngineStats before = engine_->stats();
  const chat::ChatReply reply = session_->generate_reply(
      [&](std::string_view piece) {
        emit tokenGenerated(request.id, QString::fromUtf8(piece.data(), qsizetype(piece.size())));
      },
      &cancelRunning_);
  const EngineStats after = engine_->stats();
  result.end = endFor(reply.stop);
  result.tokens = int(reply.generated_tokens);
  result.droppedMessages = int(reply.dropped_messages);
  const double decodeSeconds = after.decode_seconds - before.decode_seconds;
  const int64_t decoded = after.decode_tokens - before.decode_tokens;
  result.tokensPerSecond = decodeSeconds > 0 ? decoded / decodeSeconds : 0;
}

void InferenceWorker::generate(const GenerationRequest& request) {
  GenerationResult result;
  result.id = request.id;
  if (cancelled(request.id)) {
    result.end = GenerationResult::End::Cancelled;
  } else if (!session_) {
    result.end = GenerationResult::End::Error;
    result.error = QStringLiteral("No model is loaded.");
  } else {
    startRunning(request.id);
    try {
      runGeneration(request, result);
    } catch (const std::exception& e) {
      // The session has already put its KV cache back in a clean state.
      result.end = GenerationResult::End::Error;
      result.error = QString::fromStdString(e.what());
    }
    stopRunning();
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
