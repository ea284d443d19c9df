// Fault injection above the I/O layer: what a user of flash mode sees when the
// SSD or the pack file misbehaves while a model is loaded (docs/hardening.md).
// Injected faults (IoFaults: short reads, EIO, end of file, at load and during
// generation, on both backends) and real file operations on a loaded pack
// (truncated, replaced by rename, overwritten in place). Every case must end
// in one sieve::Error naming the pack, never a crash, and leave an engine (or
// a newly loaded one) that produces the same logits as before.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine.h"
#include "flash/flash_options.h"
#include "flash_test_util.h"
#include "pack_test_util.h"

namespace sieve::flash {
namespace {

using namespace testing_util;
namespace fs = std::filesystem;

class RemoveFaultTestFiles : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(temp_folder(), ignored);
  }
};
[[maybe_unused]] ::testing::Environment* const kRemoveFiles = ::testing::AddGlobalTestEnvironment(new RemoveFaultTestFiles);

constexpr const char* kModel = "stories260K";
constexpr int kSteps = 4;

// Flash mode at the minimum budget: every layer is streamed, several reads per layer.
EngineOptions streaming_options(const fs::path& pack, IoBackend backend = IoBackend::automatic) {
  EngineOptions o = engine_options(pack, EngineMode::flash);
  o.dram_budget.bytes = unlimited_plan(o).minimum;
  o.flash.read_bytes = 4096;
  o.flash.backend = backend;
  return o;
}

struct Reference {
  std::vector<int32_t> prompt;
  std::vector<int32_t> tokens;                // the greedy token fed at each decode step
  std::vector<std::vector<float>> logits;     // after the prompt, then after each step
  uint64_t reads_after_prefill = 0, reads_after_decode = 0;
};

Reference reference_run(const EngineOptions& o) {
  Reference r;
  auto engine = Engine::load(o);
  r.prompt = some_tokens(engine->model().n_vocab, 5);
  std::span<const float> l = engine->prefill(r.prompt);
  r.logits.emplace_back(l.begin(), l.end());
  r.reads_after_prefill = engine->stats().flash_read_requests;
  for (int i = 0; i < kSteps; ++i) {
    r.tokens.push_back(argmax(l));
    l = engine->decode(r.tokens.back());
    r.logits.emplace_back(l.begin(), l.end());
  }
  r.reads_after_decode = engine->stats().flash_read_requests;
  return r;
}

std::vector<float> copy(std::span<const float> l) { return {l.begin(), l.end()}; }

// The message a user would see, printed for docs/hardening.md's table.
void show(const std::string& message) { std::printf("[ message  ] %s\n", message.c_str()); }

// Decodes the reference's steps; a step that throws is retried once after
// `between_attempts` (e.g. the file put back). Returns the messages thrown.
std::vector<std::string> decode_with_retry(Engine& engine, const Reference& ref,
                                           const std::function<void()>& between_attempts = [] {}) {
  std::vector<std::string> errors;
  for (size_t i = 0; i < ref.tokens.size(); ++i) {
    std::vector<float> got;
    try {
      got = copy(engine.decode(ref.tokens[i]));
    } catch (const Error& e) {
      errors.emplace_back(e.what());
      show(e.what());
      EXPECT_EQ(engine.position(), static_cast<int64_t>(ref.prompt.size() + i)) << "a failed step must not advance";
      between_attempts();
      got = copy(engine.decode(ref.tokens[i]));
    }
    EXPECT_TRUE(bit_identical(got, ref.logits[i + 1])) << "step " << i;
  }
  return errors;
}

class FlashFaults : public ::testing::TestWithParam<IoBackend> {};

TEST_P(FlashFaults, ShortReadsAreContinuedAndChangeNothing) {
  const EngineOptions clean = streaming_options(packed(kModel), GetParam());
  const Reference ref = reference_run(clean);
  EngineOptions o = clean;
  for (uint64_t n = 0; n < ref.reads_after_decode; n += 3) {
    o.flash.faults.faults.push_back({n, IoFaultKind::short_read, 512});
  }
  auto engine = Engine::load(o);
  EXPECT_TRUE(bit_identical(copy(engine->prefill(ref.prompt)), ref.logits[0]));
  EXPECT_TRUE(decode_with_retry(*engine, ref).empty());
}

TEST_P(FlashFaults, ReadErrorWhileLoadingIsAClearErrorAndTheNextLoadWorks) {
  const EngineOptions clean = streaming_options(packed(kModel), GetParam());
  for (IoFaultKind kind : {IoFaultKind::io_error, IoFaultKind::end_of_file}) {
    EngineOptions o = clean;
    o.flash.faults.faults = {{0, kind, 0}};  // the first read: the resident section
    try {
      Engine::load(o);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      const std::string m = e.what();
      show(m);
      EXPECT_NE(m.find("stories260K.sieve"), std::string::npos) << m;
      EXPECT_NE(m.find("(injected fault)"), std::string::npos) << m;
    }
  }
  const Reference ref = reference_run(clean);
  auto engine = Engine::load(clean);
  EXPECT_TRUE(bit_identical(copy(engine->prefill(ref.prompt)), ref.logits[0]));
}

TEST_P(FlashFaults, ReadErrorsDuringGenerationFailOneStepEach) {
  const EngineOptions clean = streaming_options(packed(kModel), GetParam());
  const Reference ref = reference_run(clean);
  ASSERT_GT(ref.reads_after_decode, ref.reads_after_prefill + 8);
  EngineOptions o = clean;
  const uint64_t span = ref.reads_after_decode - ref.reads_after_prefill;
  o.flash.faults.faults = {{ref.reads_after_prefill + span / 4, IoFaultKind::io_error, 0},
                           {ref.reads_after_prefill + span * 3 / 4, IoFaultKind::end_of_file, 0}};
  auto engine = Engine::load(o);
  EXPECT_TRUE(bit_identical(copy(engine->prefill(ref.prompt)), ref.logits[0]));
  const auto errors = decode_with_retry(*engine, ref);
  ASSERT_GE(errors.size(), 1u);
  for (const std::string& m : errors) {
    EXPECT_NE(m.find("stories260K.sieve: read of"), std::string::npos) << m;
    EXPECT_NE(m.find("(injected fault)"), std::string::npos) << m;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, FlashFaults, ::testing::ValuesIn(testable_backends()), backend_name);

// Real file operations on a pack an engine has open.
class LoadedPack : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = packed(kModel);
    path_ = copy_of(original_, "loaded.sieve");
    options_ = streaming_options(path_);
    options_.flash.verify = BundleVerify::all;  // every streamed layer checked against its checksum
    ref_ = reference_run(options_);
    engine_ = Engine::load(options_);
    ASSERT_TRUE(bit_identical(copy(engine_->prefill(ref_.prompt)), ref_.logits[0]));
  }
  // Into the same file (inode) the engine has open: not copy_over.
  void put_back() { fs::copy_file(original_, path_, fs::copy_options::overwrite_existing); }

  fs::path original_, path_;
  EngineOptions options_;
  Reference ref_;
  std::unique_ptr<Engine> engine_;
};

// What POSIX systems allow on a file that is open: Windows refuses all four
// while the engine has the pack mapped (LockedWhileLoadedOnWindows below).
#ifndef _WIN32
TEST_F(LoadedPack, TruncatedWhileLoadedFailsTheStepUntilItIsPutBack) {
  const PackFile pack = PackFile::open(path_);
  fs::resize_file(path_, pack.bundles_file_offset(0));  // every FFN bundle gone
  const auto errors = decode_with_retry(*engine_, ref_, [&] { put_back(); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("loaded.sieve: read of"), std::string::npos) << errors[0];
  // Loading the truncated file is refused before anything is read.
  fs::resize_file(path_, pack.bundles_file_offset(0));
  try {
    Engine::load(options_);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    show(e.what());
    EXPECT_NE(std::string(e.what()).find("loaded.sieve"), std::string::npos) << e.what();
  }
  put_back();
  EXPECT_NO_THROW(Engine::load(options_)->prefill(ref_.prompt));
}

TEST_F(LoadedPack, ReplacedByRenameKeepsReadingTheOpenedFile) {
  // What an update or a re-pack does: a new file renamed over the old name.
  const fs::path other = temp_folder() / "other.sieve";
  copy_over(packed("llama-2-tiny-random"), other);
  fs::rename(other, path_);
  EXPECT_TRUE(decode_with_retry(*engine_, ref_).empty());  // the engine holds the old file
  // A new engine loads the new file (another model: no budget, everything resident).
  EngineOptions fresh = options_;
  fresh.dram_budget = {};
  EXPECT_NE(Engine::load(fresh)->model().n_vocab, engine_->model().n_vocab);
}

TEST_F(LoadedPack, OverwrittenInPlaceIsCaughtByTheChecksums) {
  // Another model's bytes written into the same file (same inode) while loaded.
  const PackFile pack = PackFile::open(path_);
  const uint64_t bundles = pack.bundles_file_offset(0);
  flip_byte(path_, bundles + 100);
  flip_byte(path_, pack.bundles_file_offset(pack.n_layers() - 1) + 100);
  const auto errors = decode_with_retry(*engine_, ref_, [&] { put_back(); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("loaded.sieve: tensor 'blk."), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("is corrupted"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("sieve pack"), std::string::npos) << errors[0];
}

TEST_F(LoadedPack, RemovedWhileLoadedKeepsWorking) {
  fs::remove(path_);  // the open file lives on until the engine closes it
  EXPECT_TRUE(decode_with_retry(*engine_, ref_).empty());
  try {
    Engine::load(options_);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    show(e.what());
    EXPECT_NE(std::string(e.what()).find("loaded.sieve"), std::string::npos) << e.what();
  }
}
#else
// Windows: the engine maps the pack without FILE_SHARE_WRITE or
// FILE_SHARE_DELETE (gguf::MappedFile), so while it is loaded the file cannot
// be truncated, written, replaced by rename or removed; the engine keeps
// producing the same logits, and once it is gone the file can be replaced.
TEST_F(LoadedPack, LockedWhileLoadedOnWindows) {
  const uint64_t size = fs::file_size(path_);
  std::error_code ec;
  fs::resize_file(path_, size / 2, ec);
  EXPECT_TRUE(ec) << "truncated while loaded";
  std::FILE* f = std::fopen(path_.string().c_str(), "r+b");
  EXPECT_EQ(f, nullptr) << "opened for writing while loaded";
  if (f != nullptr) std::fclose(f);
  const fs::path other = temp_folder() / "other.sieve";
  copy_over(packed("llama-2-tiny-random"), other);
  ec.clear();
  fs::rename(other, path_, ec);
  EXPECT_TRUE(ec) << "replaced while loaded";
  ec.clear();
  fs::remove(path_, ec);
  EXPECT_TRUE(ec) << "removed while loaded";
  EXPECT_EQ(fs::file_size(path_), size);
  EXPECT_TRUE(decode_with_retry(*engine_, ref_).empty());
  engine_.reset();
  ec.clear();
  fs::rename(other, path_, ec);
  EXPECT_FALSE(ec) << ec.message();
  EngineOptions fresh = options_;
  fresh.dram_budget = {};
  EXPECT_NE(Engine::load(fresh)->model().n_vocab, static_cast<int64_t>(ref_.logits[0].size()));
}
#endif

}  // namespace
}  // namespace sieve::flash
