#include "flash/pack_file.h"

#include <cstdio>

#include "flash/checksum.h"
#include "flash/io/direct_file.h"
#include "flash/pack_format.h"
#include "flash/sequential_reader.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

constexpr size_t kVerifyChunkBytes = size_t{8} << 20;

std::string hex(uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

std::string dims_text(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace

bool PackFile::is_pack(const gguf::GgufFile& file) { return file.find(pack_keys::kVersion) != nullptr; }

PackFile::PackFile(std::unique_ptr<gguf::GgufFile> owned, const gguf::GgufFile& file)
    : owned_(std::move(owned)), file_(&file), where_(file.path().filename().string()) {}

PackFile PackFile::open(const std::filesystem::path& path) {
  auto owned = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path));
  const gguf::GgufFile& file = *owned;
  PackFile pack(std::move(owned), file);
  pack.validate();
  return pack;
}

PackFile PackFile::over(const gguf::GgufFile& file) {
  PackFile pack(nullptr, file);
  pack.validate();
  return pack;
}

void PackFile::validate() {
  const std::optional<int64_t> version = file_->get_int(pack_keys::kVersion);
  if (!version) {
    throw Error(where_ + ": not a Sieve pack (no " + std::string(pack_keys::kVersion) +
                " key); create one with `sieve pack`.");
  }
  if (*version != kPackVersion) {
    throw Error(where_ + ": pack format version " + std::to_string(*version) + " is not supported (this Sieve reads " +
                std::to_string(kPackVersion) + "); re-create the pack.");
  }
  if (file_->alignment() != kPackAlignment) {
    throw Error(where_ + ": pack alignment is " + std::to_string(file_->alignment()) + ", expected " +
                std::to_string(kPackAlignment) + ".");
  }
  const std::optional<std::string> algorithm = file_->get_string(pack_keys::kChecksumAlgorithm);
  if (algorithm != kChecksumAlgorithmName) {
    throw Error(where_ + ": unknown checksum algorithm '" + algorithm.value_or("") + "' (expected " +
                kChecksumAlgorithmName + ").");
  }
  hp_ = model::read_hyper_params(*file_);

  const std::optional<std::vector<int64_t>> types = file_->get_int_array(pack_keys::kLayerTypes);
  if (!types || types->size() != static_cast<size_t>(3 * hp_.n_layers)) {
    throw Error(where_ + ": key " + std::string(pack_keys::kLayerTypes) + " must hold 3 type ids per layer (" +
                std::to_string(3 * hp_.n_layers) + " values).");
  }
  for (int64_t layer = 0; layer < hp_.n_layers; ++layer) validate_layer(layer, *types);

  const gguf::Value* sums = file_->find(pack_keys::kChecksums);
  const gguf::Array* array = sums != nullptr ? sums->as_array() : nullptr;
  const auto* values = array != nullptr ? std::get_if<std::vector<uint64_t>>(&array->items) : nullptr;
  if (values == nullptr || values->size() != file_->tensors().size()) {
    throw Error(where_ + ": key " + std::string(pack_keys::kChecksums) + " must hold one u64 checksum per tensor (" +
                std::to_string(file_->tensors().size()) + ").");
  }
  checksums_ = *values;

  for (const gguf::TensorInfo& t : file_->tensors()) {
    if (parse_ffn_tensor_name(t.name)) {
      throw Error(where_ + ": holds the dense FFN tensor '" + t.name + "', which a pack stores as bundles.");
    }
    const bool is_bundle = std::find(bundle_tensors_.begin(), bundle_tensors_.end(), &t) != bundle_tensors_.end();
    if (!is_bundle) resident_.push_back(&t);
  }
}

void PackFile::validate_layer(int64_t layer, const std::vector<int64_t>& types) {
  const auto type_at = [&](size_t i) {
    const int64_t id = types[static_cast<size_t>(3 * layer) + i];
    if (id < 0 || !tensor::find_type_info(static_cast<uint32_t>(id))) {
      throw Error(where_ + ": layer " + std::to_string(layer) + " has unknown FFN tensor type id " +
                  std::to_string(id) + ".");
    }
    return static_cast<tensor::TensorType>(id);
  };
  const std::string layer_where = where_ + ": layer " + std::to_string(layer);
  const BundleLayout layout = make_bundle_layout(hp_.dim, hp_.n_ff, type_at(0), type_at(1), type_at(2), layer_where);
  const std::string name = bundle_tensor_name(layer);
  const gguf::TensorInfo* t = file_->find_tensor(name);
  if (t == nullptr) throw Error(where_ + ": tensor '" + name + "' is missing.");
  const std::vector<uint64_t> expected{layout.bundle_bytes, static_cast<uint64_t>(layout.n_clusters)};
  if (t->type != tensor::TensorType::I8 || t->dims != expected) {
    throw Error(where_ + ": tensor '" + name + "' has type " + std::string(tensor::type_name(t->type)) + " and dims " +
                dims_text(t->dims) + ", expected I8 " + dims_text(expected) + " for this model's layer " +
                std::to_string(layer) + " (is the pack from another model?).");
  }
  if (file_->tensor_file_offset(*t) % kPackAlignment != 0) {
    throw Error(where_ + ": tensor '" + name + "' does not start on a " + std::to_string(kPackAlignment) +
                "-byte boundary.");
  }
  layouts_.push_back(layout);
  bundle_tensors_.push_back(t);
}

uint64_t PackFile::resident_tensor_bytes() const {
  uint64_t total = 0;
  for (const gguf::TensorInfo* t : resident_) total += t->size_bytes;
  return total;
}

uint64_t PackFile::expected_checksum(const gguf::TensorInfo& tensor) const {
  const auto index = static_cast<size_t>(&tensor - file_->tensors().data());
  if (index >= checksums_.size()) throw Error(where_ + ": tensor '" + tensor.name + "' is not part of this pack.");
  return checksums_[index];
}

void PackFile::fail_checksum(const gguf::TensorInfo& tensor, uint64_t got) const {
  throw Error(where_ + ": tensor '" + tensor.name + "' is corrupted (checksum " + hex(got) + ", expected " +
              hex(expected_checksum(tensor)) + "); re-create the pack with `sieve pack`.");
}

void PackFile::check(const gguf::TensorInfo& tensor, std::span<const std::byte> bytes) const {
  const uint64_t got = hash64(bytes);
  if (got != expected_checksum(tensor)) fail_checksum(tensor, got);
}

void PackFile::verify(const std::function<void(uint64_t, uint64_t)>& progress) const {
  const DirectFile file = DirectFile::open(file_->path().string());
  IoOptions io_options;
  io_options.queue_depth = 16;
  const std::unique_ptr<IoEngine> io = make_io_engine(file, io_options);
  SequentialReader reader(*io, kVerifyChunkBytes);
  uint64_t total = 0, done = 0;
  for (const gguf::TensorInfo& t : file_->tensors()) total += t.size_bytes;
  for (const gguf::TensorInfo& t : file_->tensors()) {
    Hasher64 hasher;
    reader.read(file_->tensor_file_offset(t), t.size_bytes, [&](std::span<const std::byte> bytes, uint64_t) {
      hasher.update(bytes);
      done += bytes.size();
      if (progress) progress(done, total);
    });
    if (hasher.digest() != expected_checksum(t)) fail_checksum(t, hasher.digest());
  }
}

}  // namespace sieve::flash
