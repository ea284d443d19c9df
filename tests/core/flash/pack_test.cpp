// `sieve pack` and the pack reader: a lossless round trip for every shared
// model, and clear errors for packs that are truncated, corrupted or not
// packs at all.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/flash/pack_test_util.h"
#include "engine.h"
#include "flash/bundle_layout.h"
#include "flash/pack_file.h"
#include "flash/pack_format.h"
#include "flash/pack_writer.h"
#include "model/weights.h"
#include "gguf/gguf_file.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

using namespace testing_util;
namespace fs = std::filesystem;

// Removes this process's packs and copies when the tests are done.
class RemoveTestFiles : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(temp_folder(), ignored);
  }
};
[[maybe_unused]] ::testing::Environment* const kRemoveTestFiles = ::testing::AddGlobalTestEnvironment(new RemoveTestFiles);

// The error message of `fn`, or "" when it did not throw sieve::Error.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

class PackRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(PackRoundTrip, ResidentTensorsUnchangedAndBundlesUnpackToTheSource) {
  const gguf::GgufFile src = gguf::GgufFile::open(shared_model(GetParam()));
  const PackFile pack = PackFile::open(packed(GetParam()));
  const gguf::GgufFile& p = pack.gguf();
  EXPECT_EQ(p.alignment(), kPackAlignment);
  EXPECT_EQ(p.get_string(pack_keys::kSource), shared_model(GetParam()).filename().string());
  EXPECT_EQ(p.get_int(pack_keys::kSourceSize), static_cast<int64_t>(src.file_size()));
  for (const gguf::KeyValue& kv : src.metadata()) {
    if (kv.key == "general.alignment") continue;
    const gguf::Value* copied = p.find(kv.key);
    ASSERT_NE(copied, nullptr) << kv.key;
    EXPECT_EQ(copied->to_display_string(1000000), kv.value.to_display_string(1000000)) << kv.key;
  }
  size_t dense_ffn = 0;
  for (const gguf::TensorInfo& t : src.tensors()) {
    if (parse_ffn_tensor_name(t.name)) {
      ++dense_ffn;
      continue;
    }
    const gguf::TensorInfo* copy = p.find_tensor(t.name);
    ASSERT_NE(copy, nullptr) << t.name;
    EXPECT_EQ(copy->type, t.type);
    EXPECT_EQ(copy->dims, t.dims);
    EXPECT_EQ(p.tensor_file_offset(*copy) % 4096, 0u) << t.name;
    EXPECT_TRUE(same_bytes(p.tensor_data(*copy), src.tensor_data(t))) << t.name;
  }
  const int64_t per_layer = pack.hparams().recipe.fused_gate_up ? 2 : 3;  // ffn_up may hold the gate too
  EXPECT_EQ(dense_ffn, static_cast<size_t>(per_layer * pack.n_layers()));
  EXPECT_EQ(pack.resident_tensors().size(), src.tensors().size() - dense_ffn);
  for (int64_t l = 0; l < pack.n_layers(); ++l) {
    const BundleLayout& layout = pack.layout(l);
    std::vector<std::byte> gate(layout.gate_bytes()), up(layout.up_bytes()), down(layout.down_bytes());
    unbundle(layout, p.tensor_data(pack.bundles(l)).data(), 0, layout.n_clusters, {gate.data(), up.data(), down.data()});
    const model::FfnTensors f = model::find_ffn_tensors(src, pack.hparams(), l);
    const size_t up_offset = static_cast<size_t>(f.up_first_row) * layout.up_row_bytes;
    EXPECT_TRUE(same_bytes(gate, src.tensor_data(*f.gate).first(gate.size()))) << l;
    EXPECT_TRUE(same_bytes(up, src.tensor_data(*f.up).subspan(up_offset, up.size()))) << l;
    EXPECT_TRUE(same_bytes(down, src.tensor_data(*f.down))) << l;
  }
  EXPECT_NO_THROW(pack.verify());
}

INSTANTIATE_TEST_SUITE_P(SharedModels, PackRoundTrip, ::testing::ValuesIn(shared_model_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(Pack, WritesNoPartialFileAndIsReproducible) {
  const fs::path a = temp_folder() / "repro_a.sieve", b = temp_folder() / "repro_b.sieve";
  std::vector<PackProgress> progress;
  PackOptions options;
  options.verify = true;
  options.chunk_bytes = 1;  // the smallest chunks: many progress calls, bundles split across chunks
  options.progress = [&](const PackProgress& p) { progress.push_back(p); };
  const PackSummary s = pack_model(shared_model("synthA-q4_0"), a, options);
  pack_model(shared_model("synthA-q4_0"), b);
  EXPECT_FALSE(fs::exists(fs::path(a.string() + ".partial")));
  EXPECT_FALSE(fs::exists(fs::path(a.string() + ".partial.partial")));
  EXPECT_EQ(s.file_bytes, fs::file_size(a));
  EXPECT_GT(s.verify_seconds, 0.0);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().bytes_done, progress.back().bytes_total);
  EXPECT_STREQ(progress.back().phase, "verifying");
  const gguf::GgufFile fa = gguf::GgufFile::open(a), fb = gguf::GgufFile::open(b);
  EXPECT_TRUE(same_bytes(fa.tensor_data(fa.tensors().back()), fb.tensor_data(fb.tensors().back())));
  EXPECT_EQ(fa.find(pack_keys::kChecksums)->to_display_string(1000), fb.find(pack_keys::kChecksums)->to_display_string(1000));
}

TEST(Pack, RefusesBadSources) {
  EXPECT_NE(error_of([] { pack_model(packed("stories260K"), temp_folder() / "again.sieve"); }).find("already a Sieve pack"),
            std::string::npos);
  EXPECT_NE(error_of([] { pack_model(temp_folder() / "missing.gguf", temp_folder() / "x.sieve"); }).find("missing.gguf"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(temp_folder() / "x.sieve.partial"));
  const std::string not_pack = error_of([] { PackFile::open(shared_model("stories260K")); });
  EXPECT_NE(not_pack.find("stories260K.gguf: not a Sieve pack"), std::string::npos) << not_pack;
}

TEST(Pack, FlashModeOnAPlainGgufPointsToSievePack) {
  const std::string m = error_of([] { Engine::load(engine_options(shared_model("stories260K"), EngineMode::flash)); });
  EXPECT_NE(m.find("flash mode needs a Sieve pack"), std::string::npos) << m;
  EXPECT_NE(m.find("sieve pack stories260K.gguf -o stories260K.sieve"), std::string::npos) << m;
}

TEST(Pack, TruncatedPackIsRefused) {
  const fs::path copy = copy_of(packed("synthA-f16"), "truncated.sieve");
  fs::resize_file(copy, fs::file_size(copy) * 6 / 10);
  const std::string opened = error_of([&] { PackFile::open(copy); });
  EXPECT_NE(opened.find("truncated.sieve"), std::string::npos) << opened;
  const std::string loaded = error_of([&] { Engine::load(engine_options(copy, EngineMode::flash)); });
  EXPECT_NE(loaded.find("truncated.sieve"), std::string::npos) << loaded;
}

TEST(Pack, FlippedByteInAResidentTensorFailsTheLoad) {
  const fs::path copy = copy_of(packed("synthA-q8_0"), "resident_flip.sieve");
  // The offset is read and the file closed before it is written: Windows
  // refuses to open for writing a file that is mapped for reading.
  const uint64_t offset = [&] {
    const gguf::GgufFile f = gguf::GgufFile::open(copy);
    return f.tensor_file_offset(*f.find_tensor("blk.2.attn_k.weight")) + 100;
  }();
  flip_byte(copy, offset);
  const std::string m = error_of([&] { Engine::load(engine_options(copy, EngineMode::flash)); });
  EXPECT_NE(m.find("resident_flip.sieve: tensor 'blk.2.attn_k.weight' is corrupted"), std::string::npos) << m;
  EXPECT_NE(error_of([&] { PackFile::open(copy).verify(); }).find("blk.2.attn_k.weight"), std::string::npos);
}

TEST(Pack, FlippedByteInABundleIsFoundByVerifyAndByLoadingOrStreaming) {
  const fs::path copy = copy_of(packed("synthA-q4_k_m"), "bundle_flip.sieve");
  const uint64_t offset = [&] {  // closed before the write, as above
    const PackFile pack = PackFile::open(copy);
    return pack.bundles_file_offset(1) + pack.layout(1).layer_bytes() / 2;
  }();
  flip_byte(copy, offset);
  const std::string verify = error_of([&] { PackFile::open(copy).verify(); });
  EXPECT_NE(verify.find("bundle_flip.sieve: tensor 'blk.1.ffn_bundles' is corrupted"), std::string::npos) << verify;

  // Pinned at load (no budget: every layer resident): the load fails.
  const std::string pinned = error_of([&] { Engine::load(engine_options(copy, EngineMode::flash)); });
  EXPECT_NE(pinned.find("blk.1.ffn_bundles"), std::string::npos) << pinned;

  // Streamed and checked as it arrives: the forward pass fails, cleanly.
  EngineOptions o = engine_options(copy, EngineMode::flash);
  o.dram_budget.bytes = unlimited_plan(o).minimum;  // every layer streamed
  o.flash.verify = BundleVerify::all;
  auto engine = Engine::load(o);
  const std::string streamed = error_of([&] { engine->prefill(some_tokens(engine->model().n_vocab, 4)); });
  EXPECT_NE(streamed.find("blk.1.ffn_bundles' is corrupted"), std::string::npos) << streamed;
}

}  // namespace
}  // namespace sieve::flash
