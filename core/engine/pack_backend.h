#pragma once
// The ModelBackend of a Sieve pack (model_backend.h): resident tensors read
// into our own buffer (checksummed), FFN layers pinned, mapped or streamed
// as the mode and the DRAM budget decide.

#include <memory>

#include "engine/model_backend.h"
#include "flash/planner.h"
#include "sparse/sparse_plan.h"

namespace sieve::flash {

class PackFile;

std::unique_ptr<ModelBackend> load_pack_backend(const gguf::GgufFile& file, const model::HyperParams& hp,
                                                const BackendOptions& options, ThreadPool& pool);

// The planner's view of a pack under these options, without loading it
// (`sieve bench` prints it; flash mode loads by it). `threads` is the
// engine's thread count.
MemoryPlan plan_pack_memory(const PackFile& pack, const BackendOptions& options, int threads);
// The same for sparse mode (options.mode == sparse): sparse/sparse_plan.h.
sparse::SparsePlan plan_sparse_pack_memory(const PackFile& pack, const BackendOptions& options, int threads);

}  // namespace sieve::flash
