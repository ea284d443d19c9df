// `sieve import-llama2c MODEL.bin TOKENIZER.bin -o OUT.gguf`: convert a
// llama2.c checkpoint (versions 0, 1 and 2) and its tokenizer into a GGUF.

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/suggest.h"
#include "import/llama2c.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& import_options() {
  static const std::vector<OptionSpec> specs = {
      {"output", 'o', true, "the GGUF file to write", "OUT.gguf"},
      {"name", 0, true, "general.name of the model (default: the checkpoint's file name)", "NAME"},
      {"activation", 0, true, "required: the feed-forward gate activation the model was trained with: silu "
                              "(Karpathy's stories models), relu, fatrelu or shifted_relu", "ACT"},
      {"relu-shift", 0, true, "shifted_relu: the gate is max(g - X, 0)", "X"},
      {"relu-threshold", 0, true, "fatrelu: the gate is g > X ? g : 0", "X"},
      {"norm-relu-shift", 0, true, "the model applies max(x - X, 0) to the normalised inputs of attention and "
                                   "of the feed-forward block", "X"},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

// A llama2.c checkpoint does not record its activation, and a wrong guess
// converts without complaint into a model that writes gibberish: the user
// must say it.
importer::Llama2cActivation activation_from(const Args& args) {
  if (!args.has("activation")) {
    throw UsageError("the checkpoint does not record its feed-forward activation: say it with --activation "
                     "silu|relu|fatrelu|shifted_relu (see --help)");
  }
  importer::Llama2cActivation a;
  a.ffn = *args.get("activation");
  const std::vector<std::string> known = {"silu", "relu", "fatrelu", "shifted_relu"};
  if (std::find(known.begin(), known.end(), a.ffn) == known.end()) {
    const std::optional<std::string> near = nearest_name(a.ffn, known);
    throw UsageError("--activation: '" + a.ffn + "' is not one of silu, relu, fatrelu, shifted_relu" +
                     (near ? "; did you mean " + *near + "?" : ""));
  }
  if (args.has("relu-shift") && a.ffn != "shifted_relu") {
    throw UsageError("--relu-shift needs --activation shifted_relu");
  }
  if (args.has("relu-threshold") && a.ffn != "fatrelu") {
    throw UsageError("--relu-threshold needs --activation fatrelu");
  }
  a.ffn_relu_shift = static_cast<float>(args.get_double("relu-shift", 0.0));
  a.ffn_relu_threshold = static_cast<float>(args.get_double("relu-threshold", 0.0));
  if (args.has("norm-relu-shift")) a.norm_relu_shift = static_cast<float>(args.get_double("norm-relu-shift", 0.0));
  return a;
}

void print_summary(const importer::Llama2cImportResult& r, const std::string& output) {
  const importer::Llama2cConfig& c = r.config;
  std::printf("wrote %s: llama2.c version %d, dim %lld, %lld layers, %lld heads / %lld KV heads, hidden %lld, "
              "vocabulary %lld, context %lld, %s classifier; %zu F32 tensors, %s\n",
              output.c_str(), c.version, static_cast<long long>(c.dim), static_cast<long long>(c.n_layers),
              static_cast<long long>(c.n_heads), static_cast<long long>(c.n_kv_heads),
              static_cast<long long>(c.hidden_dim), static_cast<long long>(c.vocab_size),
              static_cast<long long>(c.seq_len), c.shared_classifier ? "shared" : "separate", r.tensor_count,
              format_bytes(r.weight_bytes).c_str());
}

}  // namespace

int cmd_import_llama2c(CommandArgs argv) {
  const Args args = Args::parse(argv, import_options());
  const std::string synopsis =
      "sieve import-llama2c MODEL.bin TOKENIZER.bin -o OUT.gguf --activation ACT [--name NAME]\n"
      "                     [--relu-shift X] [--relu-threshold X] [--norm-relu-shift X]\n\n"
      "Converts a llama2.c checkpoint (float version 0 or 1, int8 version 2) and its tokenizer.bin\n"
      "into a llama GGUF with F32 weights. The checkpoint does not record the activation the model\n"
      "was trained with, so --activation is required: silu for Karpathy's stories models; for\n"
      "../shared/models/relu260K:\n"
      "  --activation shifted_relu --relu-shift 0.25 --norm-relu-shift 1";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, import_options()).c_str());
    return 0;
  }
  if (args.positional().size() != 2) throw UsageError("expected MODEL.bin and TOKENIZER.bin (see --help)");
  if (!args.has("output")) throw UsageError("-o OUT.gguf is required (see --help)");

  importer::Llama2cImportOptions options;
  options.model_path = args.positional()[0];
  options.tokenizer_path = args.positional()[1];
  options.output_path = *args.get("output");
  options.name = args.get_or("name", "");
  options.activation = activation_from(args);
  print_summary(importer::import_llama2c(options), options.output_path.string());
  return 0;
}

}  // namespace sieve::cli
