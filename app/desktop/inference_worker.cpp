#include "desktop/inference_worker.h"

#include <QFile>
#include <algorithm>
#include <limits>

#include <unistd.h>

#include "chat/chat_session.h"
#include "chat/text_continuation.h"
#include "engine.h"
#include "engine/auto_mode.h"

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

// The resident set now, from /proc/self/statm (0 where there is none).
quint64 currentRssBytes() {
  QFile statm(QStringLiteral("/proc/self/statm"));
  if (!statm.open(QIODevice::ReadOnly)) return 0;
  const QList<QByteArray> fields = statm.readAll().split(' ');
  if (fields.size() < 2) return 0;
  return fields[1].toULongLong() * quint64(sysconf(_SC_PAGESIZE));
}

EngineOptions engineOptions(const EngineSettings& settings) {
  EngineOptions options;
  options.model_path = QFile::encodeName(settings.modelPath).toStdString();
  options.threads = settings.threads;
  options.context = settings.context;
  const std::optional<EngineMode> mode = parse_engine_mode(settings.mode.toStdString());
  if (!mode) throw Error("this build of Sieve has no '" + settings.mode.toStdString() + "' mode");
  options.mode = *mode;
  if (options.mode != EngineMode::dense && options.mode != EngineMode::mmap) {
    // 0: the default budget, 60% of the memory available now (not "no limit").
    options.dram_budget.bytes = settings.dramBudget > 0 ? settings.dramBudget : flash::default_dram_budget();
  }
  options.sparse.window = settings.sparseWindow;
  if (options.mode == EngineMode::sparse) {
    const std::optional<sparse::PredictorKind> predictor =
        sparse::parse_predictor_kind(settings.sparsePredictor.toStdString());
    if (!predictor) throw Error("this build of Sieve has no '" + settings.sparsePredictor.toStdString() + "' predictor");
    options.sparse.predictor = *predictor;
  }
  return options;
}

// What the planner says about the loaded engine: flash mode's FFN bytes one
// token needs (pinned layers + streamed ones), so the bytes actually streamed
// give a DRAM hit rate, and the engine's own memory (the plan's total in
// flash / sparse mode; the weights read in and the KV cache otherwise).
InferenceWorker::PlanFigures planFigures(const EngineOptions& options, const ModelSummary& model) {
  InferenceWorker::PlanFigures figures;
  figures.engineBytes = model.weight_bytes + model.kv_cache_bytes;
  if (model.mode != EngineMode::flash && model.mode != EngineMode::sparse) return figures;  // auto resolved
  try {
    EngineOptions planned = options;
    planned.mode = model.mode;
    planned.dram_budget = DramBudget{};
    planned.dram_budget.bytes = model.dram_budget_bytes;
    planned.context = model.context;
    const MemoryPlan plan = Engine::plan(planned);
    figures.engineBytes = plan.total;
    if (plan.mode == EngineMode::flash) figures.ffnBytesPerToken = plan.ffn_bytes_per_token;
  } catch (const std::exception&) {
    // The engine loaded it, so this is unexpected; the hit rate just shows "—".
  }
  return figures;
}

}  // namespace

InferenceWorker::InferenceWorker() {
  qRegisterMetaType<EngineSettings>();
  qRegisterMetaType<GenerationRequest>();
  qRegisterMetaType<LoadResult>();
  qRegisterMetaType<GenerationResult>();
  qRegisterMetaType<LiveStats>();
}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::cancel(quint64 id) {
  const std::lock_guard lock(runningMutex_);
  if (cancelledUpTo_.load() < id) cancelledUpTo_.store(id);
  if (runningId_ != 0 && runningId_ <= id) cancelRunning_.store(true);
}

void InferenceWorker::cancelOne(quint64 id) {
  const std::lock_guard lock(runningMutex_);
  if (runningId_ == id) {
    cancelRunning_.store(true);
  } else {
    cancelledOnes_.insert(id);
  }
}

// Takes `id` out of the ones cancelled alone: each is asked for once.
bool InferenceWorker::cancelled(quint64 id) {
  const std::lock_guard lock(runningMutex_);
  const bool one = cancelledOnes_.remove(id);
  return one || id <= cancelledUpTo_.load(std::memory_order_relaxed);
}

void InferenceWorker::startRunning(quint64 id) {
  const std::lock_guard lock(runningMutex_);
  runningId_ = id;
  // A cancelOne() that came after generate() checked cancelled() is found here.
  const bool one = cancelledOnes_.remove(id);
  cancelRunning_.store(one || id <= cancelledUpTo_.load(std::memory_order_relaxed));
}

void InferenceWorker::stopRunning() {
  const std::lock_guard lock(runningMutex_);
  runningId_ = 0;
}

void InferenceWorker::unload() {
  session_.reset();
  engine_.reset();
  settings_ = {};
  plan_ = {};
}

void InferenceWorker::load(const EngineSettings& settings) {
  LoadResult result;
  result.settings = settings;
  unload();  // the old engine's memory goes before the new one's arrives
  try {
    const EngineOptions options = engineOptions(settings);
    engine_ = Engine::load(options);
    if (!engine_->model().has_tokenizer) throw Error("the model " + settings.modelPath.toStdString() +
                                                     " has no tokenizer, so it cannot chat");
    renewSession();
    result.ok = true;
    result.modelName = QString::fromStdString(engine_->model().name);
    result.context = engine_->model().context;
    result.memoryPlan = QString::fromStdString(engine_->model().memory_plan);
    result.runMode = QString::fromLatin1(to_string(engine_->model().mode));
    result.modeChoice = QString::fromStdString(engine_->model().mode_choice);
    result.modeOffer = QString::fromStdString(engine_->model().mode_offer);
    settings_ = settings;
    plan_ = planFigures(options, engine_->model());
  } catch (const std::exception& e) {
    unload();
    result.error = QString::fromStdString(e.what());
  }
  emit loadFinished(result);
}

// A session that knows nothing of the KV cache: at load, and after a text
// continuation ran the engine behind its back.
void InferenceWorker::renewSession() {
  chat::ChatOptions chatOptions;
  chatOptions.chat_template = engine_->model().chat_template;
  session_ = std::make_unique<chat::ChatSession>(*engine_, std::move(chatOptions));
}

// A reply to the user's message that ends request.messages: the session gets
// the history and the message (forgetting old exchanges only if allowed).
// False when nothing is to run (result says why).
bool InferenceWorker::prepareReply(const GenerationRequest& request, GenerationResult& result) {
  if (request.messages.isEmpty() || request.messages.last().role != QLatin1String("user")) {
    throw Error("the conversation does not end with a user message to reply to");
  }
  std::vector<tokenizer::ChatMessage> history = toChatMessages(request.messages);
  std::string message = std::move(history.back().content);
  history.pop_back();
  session_->set_messages(history);
  try {
    const size_t dropped = session_->add_user_message(std::move(message));
    if (dropped > 0 && !request.allowDropping) {
      // Ask first: nothing has run, and the next request replaces the messages anyway.
      session_->set_messages(std::move(history));
      result.end = GenerationResult::End::Overflow;
      result.droppedMessages = int(dropped);
      return false;
    }
  } catch (const chat::MessageTooLongError& e) {
    result.end = GenerationResult::End::ContextFull;
    result.error = QStringLiteral("The message does not fit in the context of %1 tokens.").arg(e.context_tokens());
    return false;
  }
  return true;
}

// More of the assistant reply that ends request.messages (it stopped at a limit).
void InferenceWorker::prepareContinuation(const GenerationRequest& request) {
  if (request.messages.isEmpty() || request.messages.last().role != QLatin1String("assistant")) {
    throw Error("the conversation does not end with a reply to continue");
  }
  session_->set_messages(toChatMessages(request.messages));
}

void InferenceWorker::runGeneration(const GenerationRequest& request, GenerationResult& result) {
  result.context = engine_->model().context;
  if (!request.rawPrompt) {
    session_->set_sampling(request.sampling);
    session_->set_max_reply_tokens(request.maxTokens);
    if (request.continueLast) {
      prepareContinuation(request);
    } else if (!prepareReply(request, result)) {
      return;
    }
  }
  const EngineStats before = engine_->stats();
  StatsMark mark;
  int64_t sinceStats = -1;  // the marks start after the prompt, so its reads are not counted per token
  const auto countStats = [&] {
    if (sinceStats < 0) {
      mark = markOf(engine_->stats());
      sinceStats = 0;
    } else if (++sinceStats >= kStatsEveryTokens) {
      sinceStats = 0;
      emitStats(request.id, before.decode_tokens, mark);
    }
  };
  const auto onPiece = [&](std::string_view piece) {
    emit tokenGenerated(request.id, QString::fromUtf8(piece.data(), qsizetype(piece.size())));
    countStats();
  };
  const auto onReasoning = [&](std::string_view piece) {
    emit reasoningGenerated(request.id, QString::fromUtf8(piece.data(), qsizetype(piece.size())));
    countStats();
  };
  chat::ChatReply reply;
  try {
    if (request.rawPrompt) {
      reply = continueText(*request.rawPrompt, request, onPiece);
    } else {
      reply = request.continueLast ? session_->continue_reply(onPiece, &cancelRunning_, onReasoning)
                                   : session_->generate_reply(onPiece, &cancelRunning_, onReasoning);
    }
  } catch (const chat::MessageTooLongError& e) {  // no room left in the context; nothing ran
    result.end = GenerationResult::End::ContextFull;
    result.error = request.rawPrompt ? QString::fromStdString(e.what())
                                     : QStringLiteral("The reply fills the context of %1 tokens; there is no room to "
                                                      "continue it.").arg(e.context_tokens());
    return;
  }
  if (sinceStats > 0) emitStats(request.id, before.decode_tokens, mark);  // the tokens since the last report
  const EngineStats after = engine_->stats();
  result.end = endFor(reply.stop);
  result.tokens = int(reply.generated_tokens);
  result.droppedMessages = int(reply.dropped_messages);
  result.reusedTokens = reply.reused_tokens;
  result.prefilledTokens = reply.prefilled_tokens;
  result.position = engine_->position();
  const double decodeSeconds = after.decode_seconds - before.decode_seconds;
  const int64_t decoded = after.decode_tokens - before.decode_tokens;
  result.tokensPerSecond = decodeSeconds > 0 ? decoded / decodeSeconds : 0;
}

// The text continued as it is (chat/text_continuation.h). It runs the engine
// from position 0, so the chat's session starts afresh after it: the chat's
// next turn runs its whole prompt again, as after another conversation's.
chat::ChatReply InferenceWorker::continueText(const QString& prompt, const GenerationRequest& request,
                                              const chat::ChatSession::PieceCallback& onPiece) {
  struct Renew {
    InferenceWorker& worker;
    ~Renew() { worker.renewSession(); }  // also when the engine threw
  } renew{*this};
  return chat::continue_text(*engine_, prompt.toStdString(), request.sampling, request.maxTokens, onPiece,
                             &cancelRunning_);
}

InferenceWorker::StatsMark InferenceWorker::markOf(const EngineStats& stats) {
  return {stats.decode_tokens,           stats.decode_seconds,   stats.flash_bytes_read,
          stats.sparse_neuron_hits,      stats.sparse_neurons_predicted,
          stats.expert_hits,             stats.expert_hits + stats.expert_misses};
}

void InferenceWorker::emitStats(quint64 requestId, int64_t replyStartTokens, StatsMark& mark) {
  const EngineStats now = engine_->stats();
  LiveStats stats;
  stats.requestId = requestId;
  stats.tokens = now.decode_tokens - replyStartTokens;
  const int64_t tokens = now.decode_tokens - mark.decodeTokens;
  if (tokens <= 0) return;  // no new token: nothing to measure per token
  const double seconds = now.decode_seconds - mark.decodeSeconds;
  if (seconds > 0) stats.tokensPerSecond = double(tokens) / seconds;
  stats.rssBytes = currentRssBytes();
  stats.peakRssBytes = now.peak_rss_bytes;
  const EngineMode mode = engine_->model().mode;
  const bool streams = mode == EngineMode::flash || mode == EngineMode::sparse;
  stats.budgetBytes = streams ? engine_->model().dram_budget_bytes : 0;
  stats.engineBytes = plan_.engineBytes;
  if (streams) stats.flashBytesPerToken = double(now.flash_bytes_read - mark.flashBytes) / double(tokens);
  if (mode == EngineMode::flash && plan_.ffnBytesPerToken > 0) {
    // Exact flash mode: what was not streamed came from the pinned layers.
    stats.dramHitRate = std::clamp(1.0 - stats.flashBytesPerToken / double(plan_.ffnBytesPerToken), 0.0, 1.0);
  }
  const uint64_t predicted = now.sparse_neurons_predicted - mark.sparsePredicted;
  if (mode == EngineMode::sparse && predicted > 0) {
    stats.dramHitRate = double(now.sparse_neuron_hits - mark.sparseHits) / double(predicted);
  }
  const uint64_t chosen = now.expert_hits + now.expert_misses - mark.expertsChosen;
  if (mode == EngineMode::flash && chosen > 0) {
    // A Mixture-of-Experts model: the chosen experts the expert cache held.
    stats.dramHitRate = double(now.expert_hits - mark.expertHits) / double(chosen);
  }
  mark = markOf(now);
  emit statsUpdated(stats);
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
  // No context object: runs on the worker's thread, inside its destructor.
  QObject::connect(worker_, &QObject::destroyed, [this] { workerGone_.store(true, std::memory_order_release); });
  thread_.start();
}

InferenceThread::~InferenceThread() {
  worker_->cancel(std::numeric_limits<quint64>::max());
  thread_.quit();
  thread_.wait();
  const bool gone = workerGone_.load(std::memory_order_acquire);
  Q_ASSERT(gone);  // the thread deleted its worker before it ended
  Q_UNUSED(gone);
}

}  // namespace sieve::app
