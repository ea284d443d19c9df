#include "flash/pack_file.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "flash/checksum.h"
#include "flash/io/direct_file.h"
#include "flash/pack_format.h"
#include "tensor/kernels.h"
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

// "q8_0" for Q8_0: as the command line takes it.
std::string lower(std::string_view name) {
  std::string text(name);
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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
  validate_neuron_units();

  for (const gguf::TensorInfo& t : file_->tensors()) {
    if (parse_ffn_tensor_name(t.name)) {
      throw Error(where_ + ": holds the dense FFN tensor '" + t.name + "', which a pack stores as bundles.");
    }
    const bool is_bundle = std::find(bundle_tensors_.begin(), bundle_tensors_.end(), &t) != bundle_tensors_.end();
    if (is_bundle) continue;
    if (is_neuron_units_tensor_name(t.name)) continue;  // validated above
    if (parse_predictor_tensor_name(t.name)) {
      predictor_.push_back(&t);
    } else {
      resident_.push_back(&t);
    }
  }
  validate_predictors();
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

void PackFile::validate_neuron_units() {
  const std::optional<int64_t> type_id = file_->get_int(pack_keys::kNeuronUnits);
  if (!type_id) {
    for (const gguf::TensorInfo& t : file_->tensors()) {
      if (is_neuron_units_tensor_name(t.name)) {
        throw Error(where_ + ": holds the per-neuron units '" + t.name + "' without the key " +
                    std::string(pack_keys::kNeuronUnits) + "; re-create the pack.");
      }
    }
    return;
  }
  if (*type_id < 0 || !tensor::find_type_info(static_cast<uint32_t>(*type_id))) {
    throw Error(where_ + ": key " + std::string(pack_keys::kNeuronUnits) + " names unknown tensor type id " +
                std::to_string(*type_id) + ".");
  }
  if (file_->get_int(pack_keys::kNeuronUnitLayout).value_or(1) != pack_keys::kNeuronUnitLayoutUpDown) {
    throw Error(where_ + ": its per-neuron units are in an older layout this version does not read; re-create the "
                "pack with `sieve pack MODEL.gguf -o " + file_->path().filename().string() + " --neuron-units " +
                lower(tensor::type_name(static_cast<tensor::TensorType>(*type_id))) + "`.");
  }
  const auto down_type = static_cast<tensor::TensorType>(*type_id);
  for (int64_t layer = 0; layer < hp_.n_layers; ++layer) {
    const NeuronUnitLayout u =
        make_neuron_unit_layout(layout(layer), down_type, where_ + ": layer " + std::to_string(layer));
    const std::string name = neuron_units_tensor_name(layer);
    const gguf::TensorInfo* t = file_->find_tensor(name);
    if (t == nullptr) throw Error(where_ + ": tensor '" + name + "' is missing (the pack has per-neuron units).");
    const std::vector<uint64_t> expected{u.unit_bytes, static_cast<uint64_t>(u.n_ff)};
    if (t->type != tensor::TensorType::I8 || t->dims != expected) {
      throw Error(where_ + ": tensor '" + name + "' has type " + std::string(tensor::type_name(t->type)) +
                  " and dims " + dims_text(t->dims) + ", expected I8 " + dims_text(expected) + " for this model's layer " +
                  std::to_string(layer) + ".");
    }
    if (file_->tensor_file_offset(*t) % kPackAlignment != 0) {
      throw Error(where_ + ": tensor '" + name + "' does not start on a " + std::to_string(kPackAlignment) +
                  "-byte boundary.");
    }
    unit_layouts_.push_back(u);
    unit_tensors_.push_back(t);
  }
  for (const gguf::TensorInfo& t : file_->tensors()) {
    const std::optional<int64_t> layer = [&]() -> std::optional<int64_t> {
      if (!is_neuron_units_tensor_name(t.name)) return std::nullopt;
      return std::stoll(t.name.substr(4));
    }();
    if (layer && *layer >= hp_.n_layers) {
      throw Error(where_ + ": tensor '" + t.name + "' names a layer the model does not have.");
    }
  }
}

const gguf::TensorInfo* PackFile::predictor_tensor(int64_t layer, PredictorRole role) const {
  return file_->find_tensor(predictor_tensor_name(layer, role));
}

void PackFile::validate_predictors() {
  for (const gguf::TensorInfo* t : predictor_) {
    const auto name = parse_predictor_tensor_name(t->name);
    if (name->layer >= hp_.n_layers) {
      throw Error(where_ + ": predictor tensor '" + t->name + "' names a layer the model does not have.");
    }
  }
  validate_lowrank();
  validate_powerinfer();
  validate_calibration();
  validate_fidelity_keys();
}

// `tensor` must hold n_rows rows of row_elems values, in a type the kernels
// can multiply with, and start aligned.
void PackFile::require_predictor_shape(int64_t layer, PredictorRole role, uint64_t row_elems, uint64_t n_rows) const {
  const std::string name = predictor_tensor_name(layer, role);
  const gguf::TensorInfo* t = file_->find_tensor(name);
  if (t == nullptr) throw Error(where_ + ": predictor tensor '" + name + "' is missing.");
  const std::vector<uint64_t> expected{row_elems, n_rows};
  if (t->dims != expected) {
    throw Error(where_ + ": predictor tensor '" + name + "' has dims " + dims_text(t->dims) + ", expected " +
                dims_text(expected) + ".");
  }
  const tensor::TypeKernels& k = tensor::kernels()[t->type];
  const uint64_t block = tensor::type_info(t->type).block_elems;
  if (k.vec_dot == nullptr || row_elems % block != 0) {
    throw Error(where_ + ": predictor tensor '" + name + "' has type " + std::string(tensor::type_name(t->type)) +
                ", which cannot be used for rows of " + std::to_string(row_elems) + " values.");
  }
  if (file_->tensor_file_offset(*t) % kPackAlignment != 0) {
    throw Error(where_ + ": tensor '" + name + "' does not start on a " + std::to_string(kPackAlignment) +
                "-byte boundary.");
  }
}

void PackFile::validate_lowrank() {
  const std::optional<std::vector<int64_t>> ranks = file_->get_int_array(pred_keys::kRanks);
  const bool any_tensor = std::any_of(predictor_.begin(), predictor_.end(), [](const gguf::TensorInfo* t) {
    const auto role = parse_predictor_tensor_name(t->name)->role;
    return role == PredictorRole::a || role == PredictorRole::b;
  });
  if (!ranks && !any_tensor) return;
  const auto n = static_cast<size_t>(hp_.n_layers);
  if (!ranks || ranks->size() != n) {
    throw Error(where_ + ": key " + std::string(pred_keys::kRanks) + " must hold one rank per layer (" +
                std::to_string(n) + ") when the pack has low-rank predictor tensors.");
  }
  const std::optional<std::vector<double>> thresholds = file_->get_float_array(pred_keys::kThresholds);
  if (!thresholds || thresholds->size() != n) {
    throw Error(where_ + ": key " + std::string(pred_keys::kThresholds) + " must hold one threshold per layer (" +
                std::to_string(n) + ").");
  }
  for (int64_t layer = 0; layer < hp_.n_layers; ++layer) {
    const int64_t rank = (*ranks)[static_cast<size_t>(layer)];
    const double threshold = (*thresholds)[static_cast<size_t>(layer)];
    if (rank < 1 || rank > std::min(hp_.dim, hp_.n_ff) || !std::isfinite(threshold)) {
      throw Error(where_ + ": layer " + std::to_string(layer) + " has predictor rank " + std::to_string(rank) +
                  " and threshold " + std::to_string(threshold) + "; the rank must be 1.." +
                  std::to_string(std::min(hp_.dim, hp_.n_ff)) + " and the threshold finite.");
    }
    require_predictor_shape(layer, PredictorRole::a, static_cast<uint64_t>(hp_.dim), static_cast<uint64_t>(rank));
    require_predictor_shape(layer, PredictorRole::b, static_cast<uint64_t>(rank), static_cast<uint64_t>(hp_.n_ff));
  }
  const std::vector<double> margins =
      file_->get_float_array(pred_keys::kMargins).value_or(std::vector<double>(n, 0.0));
  if (margins.size() != n || std::any_of(margins.begin(), margins.end(), [](double m) { return !(m >= 0) || !std::isfinite(m); })) {
    throw Error(where_ + ": key " + std::string(pred_keys::kMargins) + " must hold one finite margin >= 0 per layer (" +
                std::to_string(n) + ").");
  }
  pred_ranks_ = *ranks;
  pred_thresholds_.assign(thresholds->begin(), thresholds->end());
  pred_margins_.assign(margins.begin(), margins.end());
  pred_kind_ = file_->get_string(pred_keys::kKind).value_or("");
}

void PackFile::validate_powerinfer() {
  const bool any_tensor = std::any_of(predictor_.begin(), predictor_.end(), [](const gguf::TensorInfo* t) {
    const auto role = parse_predictor_tensor_name(t->name)->role;
    return role == PredictorRole::fc1 || role == PredictorRole::fc2;
  });
  if (!any_tensor) return;
  for (int64_t layer = 0; layer < hp_.n_layers; ++layer) {
    const gguf::TensorInfo* fc1 = predictor_tensor(layer, PredictorRole::fc1);
    if (fc1 == nullptr || fc1->dims.size() != 2) {
      throw Error(where_ + ": PowerInfer predictor tensor '" + predictor_tensor_name(layer, PredictorRole::fc1) +
                  "' is missing or not a matrix (every layer needs fc1 and fc2).");
    }
    const uint64_t hidden = fc1->dims[1];
    require_predictor_shape(layer, PredictorRole::fc1, static_cast<uint64_t>(hp_.dim), hidden);
    require_predictor_shape(layer, PredictorRole::fc2, hidden, static_cast<uint64_t>(hp_.n_ff));
  }
  has_powerinfer_ = true;
}

void PackFile::validate_calibration() {
  const auto read_floats = [&](const char* key, size_t expected, const char* what) {
    std::vector<float> out;
    const std::optional<std::vector<double>> values = file_->get_float_array(key);
    if (!values) return out;
    if (values->size() != expected) {
      throw Error(where_ + ": key " + std::string(key) + " holds " + std::to_string(values->size()) +
                  " values, expected " + std::to_string(expected) + " (" + what + ").");
    }
    for (double v : *values) {
      if (!std::isfinite(v)) throw Error(where_ + ": key " + std::string(key) + " holds a value that is not finite.");
      out.push_back(static_cast<float>(v));
    }
    return out;
  };
  const auto n = static_cast<size_t>(hp_.n_layers);
  gate_quantiles_ = read_floats(pred_keys::kGateQuantiles, n * pred_keys::kQuantileCount, "101 per layer");
  hot_ = read_floats(pred_keys::kHot, n * static_cast<size_t>(hp_.n_ff), "one per neuron");
}

// The figures `sieve calibrate` measured (pack_format.h, pred_keys): each
// must lie in its range when present, so nothing downstream quotes or runs
// with a value no calibration could have written.
void PackFile::validate_fidelity_keys() {
  const auto check = [&](const char* key, double low, double high, bool high_inclusive) -> double {
    const std::optional<double> v = file_->get_float(key);
    if (!v) return 0;
    if (!std::isfinite(*v) || *v < low || (high_inclusive ? *v > high : *v >= high)) {
      throw Error(where_ + ": key " + std::string(key) + " holds " + std::to_string(*v) + ", outside " +
                  std::to_string(low) + ".." + std::to_string(high) + (high_inclusive ? "" : " (exclusive)") +
                  "; calibrate again with `sieve calibrate`.");
    }
    return *v;
  };
  const double inf = std::numeric_limits<double>::infinity();
  check(pred_keys::kFidelityTarget, 0, 1, true);
  check(pred_keys::kRecall, 0, 1, true);
  check(pred_keys::kFidelityTop1, 0, 1, true);
  check(pred_keys::kGateFidelityTop1, 0, 1, true);
  check(pred_keys::kFidelityKl, 0, inf, false);
  check(pred_keys::kGateFidelityKl, 0, inf, false);
  gate_sparsity_ = check(pred_keys::kGateSparsity, 0, 1, false);
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
