#pragma once
// How the engine reaches the model's weights (EngineOptions::mode) and the
// DRAM budget it may use. Included by engine.h.
//
//   dense  every weight read into RAM at load (our own buffers, direct I/O)
//   mmap   the file mapped; the OS pages weights in and out (the common
//          baseline; under memory pressure it re-reads them for every token)
//   flash  a pack (`sieve pack`) under a DRAM budget: resident weights and as
//          many FFN layers as fit are read into RAM, the other FFN layers are
//          streamed from the SSD for every token (docs/flash.md)
//   sparse  a pack under a DRAM budget whose FFN loads only the neurons a
//          predictor selects, keeping recent ones in DRAM (docs/sparsity.md)
//   auto   the engine picks dense, flash or mmap from the model and the
//          budget, and says why (engine/auto_mode.h); Engine::load resolves
//          it, so ModelSummary::mode is never auto

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sieve {


enum class EngineMode { dense, mmap, flash, sparse, automatic };
const char* to_string(EngineMode mode);
// "dense", "mmap", "flash", "sparse" or "auto"; nullopt otherwise.
std::optional<EngineMode> parse_engine_mode(std::string_view text);

// Whether the mode runs a pack under a DRAM budget (flash and sparse).
inline bool uses_budget(EngineMode mode) { return mode == EngineMode::flash || mode == EngineMode::sparse; }

// The DRAM budget of flash mode: a size, or a fraction of the model file's
// size ("50%"). Unset (both 0) means "everything resident".
struct DramBudget {
  uint64_t bytes = 0;
  double fraction_of_model = 0;
  bool is_set() const { return bytes > 0 || fraction_of_model > 0; }
  uint64_t resolve(uint64_t model_file_bytes) const;
};
// "2G", "1536M", "1.5GiB", "800000000", "50%"; nullopt when malformed or zero.
std::optional<DramBudget> parse_dram_budget(std::string_view text);
std::string to_string(const DramBudget& budget);

}  // namespace sieve
