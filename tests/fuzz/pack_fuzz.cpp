// Fuzz target: a Sieve pack (a GGUF with the flash layout) that may have been
// damaged or crafted. Opens and validates it, verifies every checksum with
// direct I/O, then runs a prompt step in flash mode twice: everything
// resident, and at the minimum budget, where every layer streams.
#include <algorithm>
#include <vector>

#include "engine.h"
#include "engine/pack_backend.h"
#include "flash/pack_file.h"
#include "fuzz/fuzz_targets.h"
#include "fuzz/scratch_file.h"
#include "util/error.h"

namespace sieve::fuzz {
namespace {

constexpr int64_t kContext = 8;

// The smallest budget the planner accepts for this pack: every layer streamed.
DramBudget minimum_budget(const flash::PackFile& pack) {
  flash::BackendOptions b;
  b.mode = EngineMode::flash;
  b.context = kContext;
  return DramBudget{.bytes = flash::plan_pack_memory(pack, b, 1).minimum};
}

void run_flash(const std::filesystem::path& path, DramBudget budget) {
  try {
    EngineOptions options{.model_path = path, .threads = 1, .context = kContext, .mode = EngineMode::flash,
                          .dram_budget = budget};
    options.flash.verify = flash::BundleVerify::all;
    options.flash.queue_depth = 2;
    options.flash.backend = flash::IoBackend::threads;  // no io_uring ring per input
    auto engine = Engine::load(options);
    const int32_t last = static_cast<int32_t>(std::max<int64_t>(engine->model().n_vocab - 1, 0));
    const std::vector<int32_t> prompt = {0, std::min<int32_t>(1, last)};
    const auto logits = engine->prefill(prompt);
    check(static_cast<int64_t>(logits.size()) == engine->model().n_vocab, "logits size == n_vocab");
    (void)engine->decode(0);
  } catch (const Error&) {
  }
}

}  // namespace

void pack_body(std::span<const uint8_t> input) {
  const auto path = write_scratch("input.sieve", input);
  DramBudget streaming;
  try {
    const auto pack = flash::PackFile::open(path);
    for (int64_t layer = 0; layer < pack.n_layers(); ++layer) {
      check(pack.bundles_file_offset(layer) + pack.bundles(layer).size_bytes <= pack.gguf().file_size(),
            "bundles inside the file");
    }
    pack.verify();
    streaming = minimum_budget(pack);
  } catch (const Error&) {
    return;  // refused before or at verify: the engine would refuse it too
  }
  run_flash(path, DramBudget{});
  run_flash(path, streaming);
}

}  // namespace sieve::fuzz
