// `sieve info MODEL`: what a GGUF file holds — architecture, hyper-parameters,
// tokenizer, and how its bytes split across tensor types; for a pack, with
// --plan, how the engine would split a DRAM budget (Engine::plan, the plan
// the app's settings page shows), without loading it.

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/mode_args.h"
#include "engine.h"
#include "gguf/gguf_file.h"
#include "tensor/tensor_type.h"
#include "util/byte_size.h"

namespace sieve::cli {
namespace {

using gguf::GgufFile;
using gguf::TensorInfo;
using gguf::Value;

const std::vector<OptionSpec>& info_options() {
  static const std::vector<OptionSpec> specs = {
      {"metadata", 'm', false, "list every metadata key and value", ""},
      {"tensors", 't', false, "list every tensor: name, type, dims, bytes", ""},
      {"plan", 0, false, "a pack: how the engine would split the DRAM budget (--mode flash or sparse, --dram-budget, "
       "--threads, --ctx), without loading it", ""},
      {"threads", 0, true, "--plan: threads including the main one (default: all cores)", "N"},
      {"ctx", 0, true, "--plan: KV-cache positions (default: min(training context, 4096))", "N"},
      {"help", 'h', false, "show this help", ""},
  };
  static const std::vector<OptionSpec> with_modes = with_mode_options(specs);
  return with_modes;
}

void print_field(const char* label, const std::string& value) { std::printf("%-16s %s\n", label, value.c_str()); }

std::string display_or_dash(const Value* v) { return v ? v->to_display_string() : "-"; }

// A string value shown bare (no quotes) when it is one; otherwise its display form.
std::string plain(const Value* v) {
  if (v == nullptr) return "-";
  if (const std::string* s = v->as_string()) return *s;
  return v->to_display_string();
}

void print_hyper_parameters(const GgufFile& file, const std::string& arch) {
  if (arch.empty()) return;
  const std::string prefix = arch + ".";
  bool any = false;
  for (const gguf::KeyValue& kv : file.metadata()) {
    if (kv.key.rfind(prefix, 0) != 0) continue;
    if (!any) std::printf("hyper-parameters:\n");
    any = true;
    std::printf("  %-40s %s\n", kv.key.c_str(), kv.value.to_display_string().c_str());
  }
}

void print_tokenizer(const GgufFile& file) {
  const Value* model = file.find("tokenizer.ggml.model");
  const Value* tokens = file.find("tokenizer.ggml.tokens");
  if (model == nullptr && tokens == nullptr) {
    std::printf("tokenizer:       none\n");
    return;
  }
  std::printf("tokenizer:\n");
  std::printf("  %-14s %s\n", "model", plain(model).c_str());
  std::printf("  %-14s %s\n", "pre", plain(file.find("tokenizer.ggml.pre")).c_str());
  const gguf::Array* array = tokens ? tokens->as_array() : nullptr;
  std::printf("  %-14s %s\n", "vocab size", array ? std::to_string(array->size()).c_str() : "-");
  std::printf("  %-14s %s\n", "bos id", display_or_dash(file.find("tokenizer.ggml.bos_token_id")).c_str());
  std::printf("  %-14s %s\n", "eos id", display_or_dash(file.find("tokenizer.ggml.eos_token_id")).c_str());
}

struct TypeTotals {
  uint64_t count = 0;
  uint64_t bytes = 0;
};

void print_type_table(const GgufFile& file) {
  std::map<uint32_t, TypeTotals> by_type;  // ordered by type id
  uint64_t total = 0;
  for (const TensorInfo& t : file.tensors()) {
    TypeTotals& totals = by_type[static_cast<uint32_t>(t.type)];
    ++totals.count;
    totals.bytes += t.size_bytes;
    total += t.size_bytes;
  }
  std::printf("tensors:         %zu\n", file.tensors().size());
  if (!by_type.empty()) std::printf("  %-10s %8s %16s\n", "type", "tensors", "bytes");
  for (const auto& [id, totals] : by_type) {
    const std::string name(tensor::type_name(static_cast<tensor::TensorType>(id)));
    std::printf("  %-10s %8llu %16s\n", name.c_str(), static_cast<unsigned long long>(totals.count),
                format_bytes(totals.bytes).c_str());
  }
  print_field("tensor bytes", format_bytes(total) + " (" + std::to_string(total) + " bytes)");
  print_field("file size", format_bytes(file.file_size()) + " (" + std::to_string(file.file_size()) + " bytes)");
}

void print_metadata(const GgufFile& file) {
  std::printf("\nmetadata (%zu keys):\n", file.metadata().size());
  for (const gguf::KeyValue& kv : file.metadata()) {
    std::string type(gguf::value_type_name(kv.value.type()));
    if (const gguf::Array* a = kv.value.as_array()) {
      type.append("[").append(gguf::value_type_name(a->element_type)).append("]");
    }
    std::printf("  %-40s %-15s %s\n", kv.key.c_str(), type.c_str(), kv.value.to_display_string().c_str());
  }
}

std::string dims_text(const TensorInfo& t) {
  std::string text;
  for (const uint64_t d : t.dims) {
    if (!text.empty()) text.append(" x ");
    text.append(std::to_string(d));
  }
  return text.empty() ? "scalar" : text;
}

void print_tensors(const GgufFile& file) {
  std::printf("\ntensors (%zu):\n", file.tensors().size());
  for (const TensorInfo& t : file.tensors()) {
    std::printf("  %-40s %-8s %-24s %14llu\n", t.name.c_str(), std::string(tensor::type_name(t.type)).c_str(),
                dims_text(t).c_str(), static_cast<unsigned long long>(t.size_bytes));
  }
}

// The engine's plan for the pack under the command line's mode options.
void print_plan(const Args& args, const std::string& path) {
  EngineOptions options;
  options.model_path = path;
  options.mode = EngineMode::flash;
  apply_mode_options(args, options);
  options.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  options.context = args.get_int("ctx", 0, 0, int64_t{1} << 24);
  const MemoryPlan plan = Engine::plan(options);
  std::printf("\n%s mode, %d thread%s, a %lld-token context:\n%s", to_string(plan.mode), plan.threads,
              plan.threads == 1 ? "" : "s", static_cast<long long>(plan.context), plan.text.c_str());
  if (plan.mode == EngineMode::sparse && plan.expected_read_bytes_per_token > 0) {
    std::printf("expected read per token: %s (from %s)\n",
                format_size(static_cast<uint64_t>(plan.expected_read_bytes_per_token)).c_str(),
                plan.estimate_source.c_str());
  }
}

}  // namespace

int cmd_info(CommandArgs argv) {
  const Args args = Args::parse(argv, info_options());
  const std::string synopsis =
      "sieve info MODEL.gguf [--metadata] [--tensors] [--plan [--mode flash|sparse] [--dram-budget SIZE]]";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, info_options()).c_str());
    return 0;
  }
  if (args.positional().size() != 1) throw UsageError("expected one MODEL.gguf argument (see --help)");

  const GgufFile file = GgufFile::open(args.positional()[0]);
  const std::string arch = file.architecture();
  print_field("file", file.path().string());
  print_field("GGUF version", std::to_string(file.version()));
  print_field("architecture", arch.empty() ? "-" : arch);
  print_field("name", plain(file.find("general.name")));
  print_hyper_parameters(file, arch);
  print_tokenizer(file);
  print_type_table(file);
  if (args.has("metadata")) print_metadata(file);
  if (args.has("tensors")) print_tensors(file);
  if (args.has("plan")) print_plan(args, args.positional()[0]);
  return 0;
}

}  // namespace sieve::cli
