#include "flash/pack_writer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <optional>
#include <system_error>
#include <vector>

#include "flash/bundle_layout.h"
#include "flash/checksum.h"
#include "flash/io/aligned_buffer.h"
#include "flash/neuron_units.h"
#include "flash/pack_file.h"
#include "flash/pack_format.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "util/error.h"
#include "util/thread_pool.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace sieve::flash {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct SourceLayer {
  model::FfnTensors ffn;
  BundleLayout layout;
  std::optional<NeuronUnitLayout> units;
};

std::vector<SourceLayer> source_layers(const gguf::GgufFile& src, const model::HyperParams& hp,
                                       std::optional<tensor::TensorType> unit_down_type) {
  const std::string where = src.path().filename().string();
  std::vector<SourceLayer> layers;
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    SourceLayer s;
    s.ffn = model::find_ffn_tensors(src, hp, l);
    const std::string layer_where = where + ": layer " + std::to_string(l);
    s.layout = make_bundle_layout(hp.dim, hp.n_ff, s.ffn.gate->type, s.ffn.up->type, s.ffn.down->type, layer_where);
    if (unit_down_type) {
      if (s.layout.cluster == 1) {
        throw Error(layer_where + ": the down projection is " + std::string(tensor::type_name(s.layout.down_type)) +
                    ", whose bundles are per-neuron units already; --neuron-units is for quantized FFNs.");
      }
      s.units = make_neuron_unit_layout(s.layout, *unit_down_type, layer_where);
    }
    layers.push_back(s);
  }
  return layers;
}

// A tensor named like a feed-forward one that the pack does not know how to
// bundle (an unknown fused form, experts) must never stay resident silently.
void check_no_unknown_ffn_tensors(const gguf::GgufFile& src) {
  for (const gguf::TensorInfo& t : src.tensors()) {
    const bool ffn_like = t.name.find(".ffn_") != std::string::npos && t.name.find(".ffn_norm.") == std::string::npos;
    if (ffn_like && !parse_ffn_tensor_name(t.name) && !parse_predictor_tensor_name(t.name)) {
      throw Error(src.path().filename().string() + ": tensor '" + t.name +
                  "' is a feed-forward tensor a pack cannot bundle yet.");
    }
  }
}

// Tracks bytes written for the progress callback.
class Progress {
 public:
  Progress(const PackOptions& options, const char* phase, uint64_t total)
      : options_(options), phase_(phase), total_(total), start_(Clock::now()) {}
  void add(uint64_t bytes) {
    done_ += bytes;
    if (options_.progress) options_.progress(PackProgress{phase_, done_, total_, seconds_since(start_)});
  }

 private:
  const PackOptions& options_;
  const char* phase_;
  uint64_t total_;
  uint64_t done_ = 0;
  Clock::time_point start_;
};

// Keeps the written pack flowing to the disk: starts writeback of each
// range as soon as it is written and drops ranges already on disk from the
// page cache. Without it the kernel lets gigabytes of dirty pages pile up
// and then throttles the writer (on this machine buffered writes reached
// 146 MB/s; see docs/flash.md), and the pack would evict useful cache.
class WritebackPacer {
 public:
  explicit WritebackPacer(const fs::path& file) {
#ifdef __linux__
    fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
#endif
  }
  ~WritebackPacer() {
#ifdef __linux__
    if (fd_ >= 0) ::close(fd_);
#endif
  }
  WritebackPacer(const WritebackPacer&) = delete;
  WritebackPacer& operator=(const WritebackPacer&) = delete;

  // Call after data was handed to the writer (what stdio has flushed so far counts).
  void advance() {
#ifdef __linux__
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) return;
    const auto end = static_cast<uint64_t>(st.st_size);
    if (end < started_ + kStep) return;
    ::sync_file_range(fd_, static_cast<off_t>(started_), static_cast<off_t>(end - started_), SYNC_FILE_RANGE_WRITE);
    // Two steps behind: wait for that writeback and drop the pages.
    if (started_ >= kStep * 2) {
      const uint64_t done = started_ - kStep;
      ::sync_file_range(fd_, static_cast<off_t>(dropped_), static_cast<off_t>(done - dropped_),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
      ::posix_fadvise(fd_, static_cast<off_t>(dropped_), static_cast<off_t>(done - dropped_), POSIX_FADV_DONTNEED);
      dropped_ = done;
    }
    started_ = end;
#endif
  }

 private:
  static constexpr uint64_t kStep = uint64_t{8} << 20;
  int fd_ = -1;
  uint64_t started_ = 0;  // writeback started up to here
  uint64_t dropped_ = 0;  // on disk and out of the cache up to here
};

// Writes the tensor data in add_tensor order, hashing every byte on its way
// out. Bundles of a chunk are built on the pool while the previous chunk is
// written on a second thread.
class PackStreamer {
 public:
  PackStreamer(gguf::GgufWriter& writer, const fs::path& written_file, ThreadPool& pool, Progress& progress,
               size_t n_tensors)
      : writer_(writer), pacer_(written_file), pool_(pool), progress_(progress), checksums_(n_tensors, 0) {}

  void copy_tensor(size_t index, std::span<const std::byte> bytes, uint64_t chunk_bytes) {
    Hasher64 hasher;
    for (uint64_t done = 0; done < bytes.size(); done += chunk_bytes) {
      const auto piece = bytes.subspan(done, std::min<uint64_t>(chunk_bytes, bytes.size() - done));
      hasher.update(piece);
      writer_.write_tensor_data(index, piece);
      pacer_.advance();
      progress_.add(piece.size());
    }
    checksums_[index] = hasher.digest();
  }

  void write_bundles(size_t index, const BundleLayout& layout, const DenseFfn& dense, uint64_t chunk_bytes) {
    write_built(index, layout.n_clusters, layout.bundle_bytes, 1, chunk_bytes,
                [&](int64_t c0, int64_t c1, std::byte* out) { build_bundles(layout, dense, c0, c1, out); });
  }

  // Per-neuron units, built in whole down blocks (B neurons) per task.
  void write_units(size_t index, const NeuronUnitLayout& units, const BundleLayout& layout, const DenseFfn& dense,
                   uint64_t chunk_bytes) {
    write_built(index, units.n_ff, units.unit_bytes, layout.cluster, chunk_bytes,
                [&](int64_t n0, int64_t n1, std::byte* out) { build_neuron_units(units, layout, dense, n0, n1, out); });
  }

  const std::vector<uint64_t>& checksums() const { return checksums_; }

 private:
  // Builds items [0, n) of item_bytes each, `grain` at a time on the pool,
  // a chunk while the previous one is written.
  template <typename Build>
  void write_built(size_t index, int64_t n, size_t item_bytes, int64_t grain, uint64_t chunk_bytes, const Build& build) {
    const int64_t per_chunk = std::max<int64_t>(1, static_cast<int64_t>(chunk_bytes / item_bytes) / grain) * grain;
    const size_t buffer_bytes = static_cast<size_t>(per_chunk) * item_bytes;
    if (buffers_[0].size() < buffer_bytes) {
      for (AlignedBuffer& b : buffers_) b = AlignedBuffer(buffer_bytes);
    }
    Hasher64 hasher;
    std::future<void> writing;
    int current = 0;
    for (int64_t c0 = 0; c0 < n; c0 += per_chunk, current ^= 1) {
      const int64_t c1 = std::min(n, c0 + per_chunk);
      std::byte* out = buffers_[current].data();
      const int64_t tasks = (c1 - c0 + grain - 1) / grain;
      pool_.parallel_for(
          tasks,
          [&](int64_t b, int64_t e) {
            const int64_t i0 = c0 + b * grain, i1 = std::min(c1, c0 + e * grain);
            build(i0, i1, out + static_cast<size_t>(i0 - c0) * item_bytes);
          },
          1);
      if (writing.valid()) writing.get();  // the other buffer is free again
      const std::span<const std::byte> piece(out, static_cast<size_t>(c1 - c0) * item_bytes);
      writing = std::async(std::launch::async, [this, &hasher, index, piece] {
        hasher.update(piece);
        writer_.write_tensor_data(index, piece);
        pacer_.advance();
        progress_.add(piece.size());
      });
    }
    if (writing.valid()) writing.get();
    checksums_[index] = hasher.digest();
  }

  gguf::GgufWriter& writer_;
  WritebackPacer pacer_;
  ThreadPool& pool_;
  Progress& progress_;
  std::vector<uint64_t> checksums_;
  AlignedBuffer buffers_[2];
};

// The checksums are only known once the data is written, but GGUF keeps
// metadata before the data: the table is written as zeros and filled in
// here, in the still-partial file. Its place is found from the encoding of
// the key, which occurs once in the header.
void patch_checksums(const fs::path& path, const std::vector<uint64_t>& checksums) {
  // Only the header's size is needed from the parsed file; it is closed again
  // before the file is reopened for writing, which Windows refuses while a
  // mapping of it is open.
  const uint64_t data_offset = gguf::GgufFile::open(path).data_offset();
  std::string pattern;
  const auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) pattern.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  const std::string key = pack_keys::kChecksums;
  put(key.size(), 8);
  pattern += key;
  put(static_cast<uint32_t>(gguf::ValueType::ARRAY), 4);
  put(static_cast<uint32_t>(gguf::ValueType::UINT64), 4);
  put(checksums.size(), 8);

  std::FILE* f = std::fopen(path.string().c_str(), "r+b");
  if (f == nullptr) throw Error(path.string() + ": cannot reopen to write checksums: " + std::strerror(errno));
  std::string header(static_cast<size_t>(data_offset), '\0');
  bool ok = std::fread(header.data(), 1, header.size(), f) == header.size();
  const size_t at = ok ? header.find(pattern) : std::string::npos;
  ok = ok && at != std::string::npos && header.find(pattern, at + 1) == std::string::npos;
  std::string table;
  for (uint64_t v : checksums) {
    for (int i = 0; i < 8; ++i) table.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  ok = ok && std::fseek(f, static_cast<long>(at + pattern.size()), SEEK_SET) == 0 &&
       std::fwrite(table.data(), 1, table.size(), f) == table.size() && std::fflush(f) == 0;
#ifndef _WIN32
  ok = ok && ::fsync(fileno(f)) == 0;
#endif
  ok = std::fclose(f) == 0 && ok;
  if (!ok) throw Error(path.string() + ": writing the checksum table failed.");
}

void set_metadata(gguf::GgufWriter& w, const gguf::GgufFile& src, const std::vector<SourceLayer>& layers) {
  for (const gguf::KeyValue& kv : src.metadata()) {
    if (kv.key == "general.alignment" || kv.key.starts_with("sieve.pack.")) continue;
    w.set(kv.key, kv.value);
  }
  w.set("general.alignment", gguf::Value::u32(kPackAlignment));
  w.set(pack_keys::kVersion, gguf::Value::u32(kPackVersion));
  w.set(pack_keys::kSource, gguf::Value::string(src.path().filename().string()));
  w.set(pack_keys::kSourceSize, gguf::Value::u64(src.file_size()));
  std::vector<int64_t> types;
  for (const SourceLayer& l : layers) {
    for (tensor::TensorType t : {l.layout.gate_type, l.layout.up_type, l.layout.down_type}) {
      types.push_back(static_cast<int64_t>(t));
    }
  }
  w.set(pack_keys::kLayerTypes, gguf::Value::i32_array(types));
  w.set(pack_keys::kBundleAlignment, gguf::Value::u32(static_cast<uint32_t>(kBundleAlignment)));
  if (!layers.empty() && layers.front().units) {
    w.set(pack_keys::kNeuronUnits, gguf::Value::u32(static_cast<uint32_t>(layers.front().units->down_type)));
    w.set(pack_keys::kNeuronUnitLayout, gguf::Value::u32(pack_keys::kNeuronUnitLayoutUpDown));
  }
  w.set(pack_keys::kChecksumAlgorithm, gguf::Value::string(kChecksumAlgorithmName));
}

void check_extras(const PackExtras& extras, const std::string& where) {
  for (const ExtraTensor& t : extras.tensors) {
    uint64_t n = 1;
    for (uint64_t d : t.dims) n *= d;
    if (t.dims.empty() || !tensor::is_whole_blocks(t.type, t.dims[0]) || tensor::bytes_for(t.type, n) != t.data.size()) {
      throw Error(where + ": the tensor '" + t.name + "' to add has " + std::to_string(t.data.size()) +
                  " bytes, which do not match its type and dims.");
    }
  }
}

void declare_extras(gguf::GgufWriter& w, const PackExtras& extras, PackSummary& summary) {
  for (const ExtraTensor& t : extras.tensors) {
    w.add_tensor(t.name, t.type, t.dims);
    summary.resident_bytes += t.data.size();
  }
}

bool is_replaced(const PackExtras& extras, const std::string& tensor_name) {
  return std::any_of(extras.tensors.begin(), extras.tensors.end(),
                     [&](const ExtraTensor& t) { return t.name == tensor_name; });
}

// Removes the partial files when the pack is not completed (an error, or a
// progress callback throwing to cancel).
class PartialGuard {
 public:
  explicit PartialGuard(fs::path partial) : partial_(std::move(partial)) {}
  ~PartialGuard() {
    if (done_) return;
    std::error_code ignored;
    fs::remove(partial_, ignored);
    fs::remove(with_suffix(partial_, ".partial"), ignored);
  }
  void done() { done_ = true; }

 private:
  static fs::path with_suffix(const fs::path& p, const char* suffix) {
    fs::path out = p;
    out += suffix;
    return out;
  }
  fs::path partial_;
  bool done_ = false;
};

fs::path with_suffix(const fs::path& p, const char* suffix) {
  fs::path out = p;
  out += suffix;
  return out;
}

void verify_if_asked(const fs::path& out, const PackOptions& options, PackSummary& summary);

}  // namespace

PackSummary pack_model(const fs::path& source, const fs::path& out, const PackOptions& options) {
  const Clock::time_point start = Clock::now();
  const gguf::GgufFile src = gguf::GgufFile::open(source);
  const std::string where = src.path().filename().string();
  if (PackFile::is_pack(src)) throw Error(where + ": is already a Sieve pack.");
  if (fs::exists(out) && fs::equivalent(out, source)) throw Error(out.string() + ": the pack would overwrite its source.");
  const model::HyperParams hp = model::read_hyper_params(src);
  const std::vector<SourceLayer> layers = source_layers(src, hp, options.neuron_units);
  check_no_unknown_ffn_tensors(src);

  // The writer itself writes "<partial>.partial" and renames it to
  // "<partial>" when complete; the checksums are then filled in there and
  // only the finished file takes the final name.
  const fs::path partial = with_suffix(out, ".partial");
  gguf::GgufWriter w(partial);
  set_metadata(w, src, layers);
  std::vector<const gguf::TensorInfo*> resident;
  for (const gguf::TensorInfo& t : src.tensors()) {
    if (!parse_ffn_tensor_name(t.name)) resident.push_back(&t);
  }
  check_extras(options.extras, where);
  for (const gguf::KeyValue& kv : options.extras.metadata) w.set(kv.key, kv.value);
  const size_t n_unit_tensors = options.neuron_units ? layers.size() : 0;
  const size_t n_tensors = resident.size() + layers.size() + n_unit_tensors + options.extras.tensors.size();
  std::vector<uint64_t> zeros(n_tensors, 0);
  w.set(pack_keys::kChecksums, gguf::Value::array(gguf::Array{gguf::ValueType::UINT64, zeros}));
  PackSummary summary;
  for (const gguf::TensorInfo* t : resident) {
    w.add_tensor(t->name, t->type, t->dims);
    summary.resident_bytes += t->size_bytes;
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    const BundleLayout& layout = layers[l].layout;
    w.add_tensor(bundle_tensor_name(static_cast<int64_t>(l)), tensor::TensorType::I8,
                 {layout.bundle_bytes, static_cast<uint64_t>(layout.n_clusters)});
    summary.ffn_bytes += layout.layer_bytes();
  }
  for (size_t l = 0; l < n_unit_tensors; ++l) {
    const NeuronUnitLayout& units = *layers[l].units;
    w.add_tensor(neuron_units_tensor_name(static_cast<int64_t>(l)), tensor::TensorType::I8,
                 {units.unit_bytes, static_cast<uint64_t>(units.n_ff)});
    summary.unit_bytes += units.layer_bytes();
  }
  declare_extras(w, options.extras, summary);

  try {
    ThreadPool pool(options.threads);
    Progress progress(options, "writing", summary.resident_bytes + summary.ffn_bytes + summary.unit_bytes);
    PackStreamer streamer(w, with_suffix(partial, ".partial"), pool, progress, n_tensors);
    w.begin_data();
    const uint64_t chunk = std::max<uint64_t>(options.chunk_bytes, 1 << 20);
    for (size_t i = 0; i < resident.size(); ++i) streamer.copy_tensor(i, src.tensor_data(*resident[i]), chunk);
    const auto dense_of = [&](const SourceLayer& layer) {
      const model::FfnTensors& f = layer.ffn;
      const std::byte* up = src.tensor_data(*f.up).data() + static_cast<size_t>(f.up_first_row) * layer.layout.up_row_bytes;
      return DenseFfn{src.tensor_data(*f.gate).data(), up, src.tensor_data(*f.down).data()};
    };
    for (size_t l = 0; l < layers.size(); ++l) {
      streamer.write_bundles(resident.size() + l, layers[l].layout, dense_of(layers[l]), chunk);
    }
    for (size_t l = 0; l < n_unit_tensors; ++l) {
      streamer.write_units(resident.size() + layers.size() + l, *layers[l].units, layers[l].layout,
                           dense_of(layers[l]), chunk);
    }
    for (size_t i = 0; i < options.extras.tensors.size(); ++i) {
      streamer.copy_tensor(resident.size() + layers.size() + n_unit_tensors + i, options.extras.tensors[i].data, chunk);
    }
    w.finish();
    patch_checksums(partial, streamer.checksums());
    std::error_code ec;
    fs::rename(partial, out, ec);
    if (ec) throw Error(out.string() + ": cannot rename '" + partial.string() + "' into place: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw;
  }
  summary.write_seconds = seconds_since(start);
  summary.file_bytes = fs::file_size(out);
  summary.n_tensors = n_tensors;
  summary.n_layers = hp.n_layers;
  verify_if_asked(out, options, summary);
  return summary;
}

PackSummary rewrite_pack(const fs::path& pack_path, const fs::path& out, const PackOptions& options) {
  const Clock::time_point start = Clock::now();
  const fs::path partial = with_suffix(out, ".partial");
  std::optional<PartialGuard> guard;
  PackSummary summary;
  {
    // The source is closed again before the new file takes its name: out may
    // be the source itself, and Windows refuses to replace a file that is
    // open (mapped) without FILE_SHARE_DELETE.
    const PackFile pack = PackFile::open(pack_path);
    const gguf::GgufFile& src = pack.gguf();
    check_extras(options.extras, pack.where());
    guard.emplace(partial);
    summary.n_layers = pack.n_layers();
    std::vector<const gguf::TensorInfo*> kept;
    gguf::GgufWriter w(partial);
    for (const gguf::KeyValue& kv : src.metadata()) w.set(kv.key, kv.value);
    for (const gguf::KeyValue& kv : options.extras.metadata) w.set(kv.key, kv.value);
    for (const gguf::TensorInfo& t : src.tensors()) {
      if (!is_replaced(options.extras, t.name)) kept.push_back(&t);
    }
    const size_t n_tensors = kept.size() + options.extras.tensors.size();
    w.set(pack_keys::kChecksums,
          gguf::Value::array(gguf::Array{gguf::ValueType::UINT64, std::vector<uint64_t>(n_tensors, 0)}));
    for (const gguf::TensorInfo* t : kept) {
      w.add_tensor(t->name, t->type, t->dims);
      (t->name.ends_with(".ffn_bundles")      ? summary.ffn_bytes
       : is_neuron_units_tensor_name(t->name) ? summary.unit_bytes
                                              : summary.resident_bytes) += t->size_bytes;
    }
    declare_extras(w, options.extras, summary);

    ThreadPool pool(1);
    Progress progress(options, "writing", summary.resident_bytes + summary.ffn_bytes + summary.unit_bytes);
    PackStreamer streamer(w, with_suffix(partial, ".partial"), pool, progress, n_tensors);
    w.begin_data();
    const uint64_t chunk = std::max<uint64_t>(options.chunk_bytes, 1 << 20);
    for (size_t i = 0; i < kept.size(); ++i) {
      streamer.copy_tensor(i, src.tensor_data(*kept[i]), chunk);
      pack.check_digest(*kept[i], streamer.checksums()[i]);
    }
    for (size_t i = 0; i < options.extras.tensors.size(); ++i) {
      streamer.copy_tensor(kept.size() + i, options.extras.tensors[i].data, chunk);
    }
    w.finish();
    patch_checksums(partial, streamer.checksums());
    summary.n_tensors = n_tensors;
  }
  PackFile::open(partial);  // what we wrote must be a valid pack before it takes the name
  std::error_code ec;
  fs::rename(partial, out, ec);
  if (ec) throw Error(out.string() + ": cannot rename '" + partial.string() + "' into place: " + ec.message());
  guard->done();
  summary.write_seconds = seconds_since(start);
  summary.file_bytes = fs::file_size(out);
  verify_if_asked(out, options, summary);
  return summary;
}

namespace {

void verify_if_asked(const fs::path& out, const PackOptions& options, PackSummary& summary) {
  if (options.verify) {
    const Clock::time_point verify_start = Clock::now();
    const PackFile pack = PackFile::open(out);
    Progress verify_progress(options, "verifying", summary.resident_bytes + summary.ffn_bytes + summary.unit_bytes);
    uint64_t reported = 0;
    pack.verify([&](uint64_t done, uint64_t) {
      verify_progress.add(done - reported);
      reported = done;
    });
    summary.verify_seconds = seconds_since(verify_start);
  }
}

}  // namespace

}  // namespace sieve::flash
