#include "engine/model_file.h"

#include <algorithm>
#include <map>

#include "engine/resolved_options.h"
#include "flash/bundle_layout.h"
#include "flash/pack_file.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "tensor/tensor_type.h"

namespace sieve {
namespace {

using BytesByType = std::map<tensor::TensorType, uint64_t>;

// A pack's FFN tensors live in bundles: count them by their layouts.
void count_pack(const flash::PackFile& pack, BytesByType& bytes, uint64_t& parameters) {
  for (const gguf::TensorInfo* t : pack.resident_tensors()) {
    bytes[t->type] += t->size_bytes;
    parameters += t->n_elements;
  }
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    const flash::BundleLayout& layout = pack.layout(l);
    bytes[layout.gate_type] += layout.gate_bytes();
    bytes[layout.up_type] += layout.up_bytes();
    bytes[layout.down_type] += layout.down_bytes();
    parameters += 3 * static_cast<uint64_t>(layout.dim) * static_cast<uint64_t>(layout.n_ff);
  }
}

void count_plain(const gguf::GgufFile& file, BytesByType& bytes, uint64_t& parameters) {
  for (const gguf::TensorInfo& t : file.tensors()) {
    bytes[t.type] += t.size_bytes;
    parameters += t.n_elements;
  }
}

}  // namespace

ModelFileInfo inspect_model_file(const std::filesystem::path& path) {
  const gguf::GgufFile file = gguf::GgufFile::open(path);
  ModelFileInfo info;
  info.architecture = file.architecture();
  info.name = file.get_string("general.name").value_or("");
  info.file_bytes = file.file_size();
  info.is_pack = flash::PackFile::is_pack(file);
  BytesByType bytes;
  if (info.is_pack) {
    const flash::PackFile pack = flash::PackFile::over(file);
    info.n_layers = pack.hparams().n_layers;
    info.train_context = pack.hparams().train_context;
    info.default_context = resolved_context(EngineOptions{}, pack.hparams(), path.filename().string());
    count_pack(pack, bytes, info.parameters);
  } else {
    const model::HyperParams hp = model::read_hyper_params(file);  // refuses what Sieve cannot run
    info.n_layers = hp.n_layers;
    info.n_experts = hp.n_experts;
    info.train_context = hp.train_context;
    info.default_context = resolved_context(EngineOptions{}, hp, path.filename().string());
    count_plain(file, bytes, info.parameters);
  }
  for (const auto& [type, n] : bytes) {
    info.weight_types.push_back({std::string(tensor::type_name(type)), n, tensor::type_info(type).computable});
  }
  std::stable_sort(info.weight_types.begin(), info.weight_types.end(),
                   [](const WeightTypeBytes& a, const WeightTypeBytes& b) { return a.bytes > b.bytes; });
  return info;
}

}  // namespace sieve
