// The llama2.c checkpoint header and the position of every tensor in it.

#include <array>
#include <cstring>
#include <optional>

#include "gguf/mapped_file.h"
#include "import/llama2c_layout.h"
#include "util/error.h"

namespace sieve::importer {
namespace {

constexpr uint32_t kMagic = 0x616b3432;      // "ak42" as a little-endian uint32
constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF"
constexpr uint64_t kVersionedHeaderBytes = 256;
constexpr uint64_t kLegacyHeaderBytes = 7 * 4;

// Beyond these a value is certainly corrupt; they also keep every size
// computed below far from overflowing 64 bits.
constexpr int64_t kMaxWidth = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxVocab = int64_t{1} << 24;
constexpr int64_t kMaxSeqLen = int64_t{1} << 24;
constexpr int64_t kMaxGroupSize = int64_t{1} << 30;

class HeaderReader {
 public:
  HeaderReader(std::span<const std::byte> file, const std::string& where) : file_(file), where_(where) {}

  int32_t i32(uint64_t offset) const {
    int32_t v = 0;
    std::memcpy(&v, file_.data() + offset, sizeof v);
    return v;
  }
  uint32_t u32(uint64_t offset) const { return static_cast<uint32_t>(i32(offset)); }
  uint8_t u8(uint64_t offset) const { return static_cast<uint8_t>(file_[offset]); }

  // A header value that must lie in [lo, hi].
  int64_t field(const char* name, int64_t value, int64_t lo, int64_t hi) const {
    if (value < lo || value > hi) {
      throw Error(where_ + ": llama2.c header field '" + name + "' is " + std::to_string(value) + ", expected " +
                  std::to_string(lo) + " to " + std::to_string(hi) + ".");
    }
    return value;
  }

  const std::string& where() const { return where_; }

 private:
  std::span<const std::byte> file_;
  const std::string& where_;
};

// The 7 config values shared by every version, at `offset`.
Llama2cConfig read_config_values(const HeaderReader& h, uint64_t offset, int version) {
  Llama2cConfig c;
  c.version = version;
  c.dim = h.field("dim", h.i32(offset), 1, kMaxWidth);
  c.hidden_dim = h.field("hidden_dim", h.i32(offset + 4), 1, kMaxWidth);
  c.n_layers = h.field("n_layers", h.i32(offset + 8), 1, kMaxLayers);
  c.n_heads = h.field("n_heads", h.i32(offset + 12), 1, c.dim);
  c.n_kv_heads = h.field("n_kv_heads", h.i32(offset + 16), 1, c.n_heads);
  int64_t vocab = h.i32(offset + 20);
  if (version == 0) {
    // The legacy format flags a separate classifier with a negative size.
    c.shared_classifier = vocab > 0;
    vocab = vocab < 0 ? -vocab : vocab;
  }
  // llama2.c vocabularies start with <unk>, <s> and </s>.
  c.vocab_size = h.field("vocab_size", vocab, 3, kMaxVocab);
  c.seq_len = h.field("seq_len", h.i32(offset + 24), 1, kMaxSeqLen);
  return c;
}

void check_head_geometry(const Llama2cConfig& c, const std::string& where) {
  if (c.dim % c.n_heads != 0) {
    throw Error(where + ": llama2.c header: dim " + std::to_string(c.dim) + " is not a multiple of n_heads " +
                std::to_string(c.n_heads) + ".");
  }
  if (c.n_heads % c.n_kv_heads != 0) {
    throw Error(where + ": llama2.c header: n_heads " + std::to_string(c.n_heads) +
                " is not a multiple of n_kv_heads " + std::to_string(c.n_kv_heads) + ".");
  }
  if (c.head_size() % 2 != 0) {
    throw Error(where + ": llama2.c header: the head size " + std::to_string(c.head_size()) +
                " is odd; RoPE needs pairs of values.");
  }
}

Llama2cConfig read_header(const HeaderReader& h, uint64_t file_size, uint64_t& body_offset) {
  if (file_size < 4) throw Error(h.where() + ": the file is too short to be a llama2.c checkpoint.");
  const uint32_t magic = h.u32(0);
  if (magic == kGgufMagic) throw Error(h.where() + ": this is already a GGUF file, not a llama2.c checkpoint.");
  if (magic != kMagic) {
    if (file_size < kLegacyHeaderBytes) throw Error(h.where() + ": the file is too short to be a llama2.c checkpoint.");
    body_offset = kLegacyHeaderBytes;
    return read_config_values(h, 0, 0);
  }
  if (file_size < kVersionedHeaderBytes) {
    throw Error(h.where() + ": the llama2.c header is cut short (" + std::to_string(file_size) + " of 256 bytes).");
  }
  const int32_t version = h.i32(4);
  if (version != 1 && version != 2) {
    throw Error(h.where() + ": llama2.c checkpoint version " + std::to_string(version) +
                " is not supported (versions 0, 1 and 2 are).");
  }
  Llama2cConfig c = read_config_values(h, 8, version);
  c.shared_classifier = h.field("shared_classifier", h.u8(36), 0, 1) == 1;
  // Version 2 stores the group size right after the flag byte, unaligned.
  if (version == 2) c.group_size = h.field("group_size", h.i32(37), 1, kMaxGroupSize);
  body_offset = kVersionedHeaderBytes;
  return c;
}

// Hands out consecutive file ranges to tensors in file order.
class Cursor {
 public:
  Cursor(uint64_t start, int64_t group_size, const std::string& where)
      : position_(start), group_size_(static_cast<uint64_t>(group_size)), where_(where) {}

  uint64_t take(const std::string& what, uint64_t count, SourceEncoding encoding) {
    const uint64_t offset = position_;
    if (encoding == SourceEncoding::F32) {
      position_ += count * 4;
    } else {
      if (count % group_size_ != 0) {
        throw Error(where_ + ": " + what + " holds " + std::to_string(count) +
                    " values, not a whole number of quantization groups of " + std::to_string(group_size_) + ".");
      }
      position_ += count + count / group_size_ * 4;
    }
    return offset;
  }

  std::vector<uint64_t> take_layers(const std::string& what, int64_t n_layers, uint64_t count,
                                    SourceEncoding encoding) {
    std::vector<uint64_t> offsets;
    for (int64_t l = 0; l < n_layers; ++l) offsets.push_back(take(what, count, encoding));
    return offsets;
  }

  void skip(uint64_t bytes) { position_ += bytes; }
  uint64_t position() const { return position_; }

 private:
  uint64_t position_;
  uint64_t group_size_;
  const std::string& where_;
};

// File offsets of every tensor, by role.
struct Offsets {
  uint64_t token_embd = 0, output_norm = 0;
  std::optional<uint64_t> output;
  std::vector<uint64_t> attn_norm, wq, wk, wv, wo, ffn_norm, w1, w2, w3;
};

struct Counts {
  uint64_t dim, hidden, q, kv, vocab;
  explicit Counts(const Llama2cConfig& c)
      : dim(static_cast<uint64_t>(c.dim)),
        hidden(static_cast<uint64_t>(c.hidden_dim)),
        q(dim),
        kv(static_cast<uint64_t>(c.kv_dim())),
        vocab(static_cast<uint64_t>(c.vocab_size)) {}
};

// Version 0: run.c's order, with the RoPE tables (seq_len x head_size / 2
// floats, real then imaginary part) before the optional classifier.
Offsets place_legacy(const Llama2cConfig& c, Cursor& at) {
  const Counts n(c);
  const auto f32 = SourceEncoding::F32;
  const int64_t L = c.n_layers;
  Offsets o;
  o.token_embd = at.take("the token embedding", n.vocab * n.dim, f32);
  o.attn_norm = at.take_layers("rms_att", L, n.dim, f32);
  o.wq = at.take_layers("wq", L, n.q * n.dim, f32);
  o.wk = at.take_layers("wk", L, n.kv * n.dim, f32);
  o.wv = at.take_layers("wv", L, n.kv * n.dim, f32);
  o.wo = at.take_layers("wo", L, n.dim * n.q, f32);
  o.ffn_norm = at.take_layers("rms_ffn", L, n.dim, f32);
  o.w1 = at.take_layers("w1", L, n.hidden * n.dim, f32);
  o.w2 = at.take_layers("w2", L, n.dim * n.hidden, f32);
  o.w3 = at.take_layers("w3", L, n.hidden * n.dim, f32);
  o.output_norm = at.take("rms_final", n.dim, f32);
  at.skip(2 * static_cast<uint64_t>(c.seq_len) * static_cast<uint64_t>(c.head_size() / 2) * 4);
  if (!c.shared_classifier) o.output = at.take("the classifier", n.vocab * n.dim, f32);
  return o;
}

// Versions 1 and 2: float norms first, then the matrices (int8 in version 2).
Offsets place_versioned(const Llama2cConfig& c, Cursor& at) {
  const Counts n(c);
  const auto f32 = SourceEncoding::F32;
  const auto matrix = c.version == 2 ? SourceEncoding::Int8Groups : SourceEncoding::F32;
  const int64_t L = c.n_layers;
  Offsets o;
  o.attn_norm = at.take_layers("rms_att", L, n.dim, f32);
  o.ffn_norm = at.take_layers("rms_ffn", L, n.dim, f32);
  o.output_norm = at.take("rms_final", n.dim, f32);
  o.token_embd = at.take("the token embedding", n.vocab * n.dim, matrix);
  o.wq = at.take_layers("wq", L, n.q * n.dim, matrix);
  o.wk = at.take_layers("wk", L, n.kv * n.dim, matrix);
  o.wv = at.take_layers("wv", L, n.kv * n.dim, matrix);
  o.wo = at.take_layers("wo", L, n.dim * n.q, matrix);
  o.w1 = at.take_layers("w1", L, n.hidden * n.dim, matrix);
  o.w2 = at.take_layers("w2", L, n.dim * n.hidden, matrix);
  o.w3 = at.take_layers("w3", L, n.hidden * n.dim, matrix);
  if (!c.shared_classifier) o.output = at.take("the classifier", n.vocab * n.dim, matrix);
  return o;
}

// The GGUF tensors, in the order llama GGUF files usually have them. Norms
// are float in every version; matrices are int8 in version 2.
std::vector<SourceTensor> gguf_tensors(const Llama2cConfig& c, const Offsets& o) {
  const Counts n(c);
  const auto matrix = c.version == 2 ? SourceEncoding::Int8Groups : SourceEncoding::F32;
  const auto f32 = SourceEncoding::F32;
  std::vector<SourceTensor> t;
  t.push_back({"token_embd.weight", {n.dim, n.vocab}, o.token_embd, matrix});
  t.push_back({"output_norm.weight", {n.dim}, o.output_norm, f32});
  if (o.output) t.push_back({"output.weight", {n.dim, n.vocab}, *o.output, matrix});
  for (size_t l = 0; l < static_cast<size_t>(c.n_layers); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    t.push_back({p + "attn_norm.weight", {n.dim}, o.attn_norm[l], f32});
    t.push_back({p + "attn_q.weight", {n.dim, n.q}, o.wq[l], matrix});
    t.push_back({p + "attn_k.weight", {n.dim, n.kv}, o.wk[l], matrix});
    t.push_back({p + "attn_v.weight", {n.dim, n.kv}, o.wv[l], matrix});
    t.push_back({p + "attn_output.weight", {n.q, n.dim}, o.wo[l], matrix});
    t.push_back({p + "ffn_norm.weight", {n.dim}, o.ffn_norm[l], f32});
    t.push_back({p + "ffn_gate.weight", {n.dim, n.hidden}, o.w1[l], matrix});
    t.push_back({p + "ffn_down.weight", {n.hidden, n.dim}, o.w2[l], matrix});
    t.push_back({p + "ffn_up.weight", {n.dim, n.hidden}, o.w3[l], matrix});
  }
  return t;
}

}  // namespace

uint64_t SourceTensor::count() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

CheckpointLayout read_checkpoint_layout(std::span<const std::byte> file, const std::string& where) {
  const HeaderReader header(file, where);
  uint64_t body = 0;
  CheckpointLayout layout;
  layout.config = read_header(header, file.size(), body);
  const Llama2cConfig& c = layout.config;
  check_head_geometry(c, where);

  Cursor cursor(body, c.group_size > 0 ? c.group_size : 1, where);
  const Offsets offsets = c.version == 0 ? place_legacy(c, cursor) : place_versioned(c, cursor);
  if (cursor.position() != file.size()) {
    throw Error(where + ": the file is " + std::to_string(file.size()) + " bytes but its llama2.c version " +
                std::to_string(c.version) + " header describes " + std::to_string(cursor.position()) +
                " (truncated, or not a checkpoint of this version).");
  }
  layout.tensors = gguf_tensors(c, offsets);
  return layout;
}

Llama2cConfig read_llama2c_config(const std::filesystem::path& path) {
  const gguf::MappedFile file(path);
  return read_checkpoint_layout(file.bytes(), path.filename().string()).config;
}

}  // namespace sieve::importer
