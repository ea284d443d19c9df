#pragma once
// A reference file of ../shared/reference: the prompt's token ids and, per
// greedy step, the token chosen, the best 8 logits, and the mean and RMS of
// all logits (see ../shared/README.md, "How to compare").

#include <cstdint>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/model/reference_json.h"

namespace sieve::test {

struct ReferenceStep {
  int32_t token = 0;
  std::vector<std::pair<int32_t, double>> top;
  double mean = 0;
  double rms = 0;
};

struct ReferenceCase {
  std::string name;  // file name without .json
  std::string prompt;
  std::filesystem::path model;
  std::vector<int32_t> prompt_tokens;
  std::vector<ReferenceStep> steps;
  std::string text;
};

inline std::filesystem::path shared_dir() { return SIEVE_SHARED_DIR; }

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "synthA-q4_k_m.fox.json" -> model "synthA-q4_k_m.gguf".
inline ReferenceCase load_reference(const std::filesystem::path& path) {
  const Json doc = parse_reference_json(read_text(path));
  ReferenceCase c;
  c.name = path.stem().string();
  c.prompt = doc.at("prompt").get<std::string>();
  // reference/NAME.json belongs to models/NAME.gguf; reference/arch/NAME.json to models/arch/.
  const bool arch = path.parent_path().filename() == "arch";
  c.model = shared_dir() / "models" / (arch ? "arch" : "") / (c.name.substr(0, c.name.find('.')) + ".gguf");
  for (const Json& id : doc.at("prompt_tokens")) c.prompt_tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
  for (const Json& s : doc.at("steps")) {
    ReferenceStep step;
    step.token = static_cast<int32_t>(s.at("token").get<int64_t>());
    step.mean = s.at("logit_mean").get<double>();
    step.rms = s.at("logit_rms").get<double>();
    for (const Json& pair : s.at("top")) {
      step.top.emplace_back(static_cast<int32_t>(pair[0].get<int64_t>()), pair[1].get<double>());
    }
    c.steps.push_back(std::move(step));
  }
  c.text = doc.at("text").get<std::string>();
  return c;
}

// Every reference file with per-step logits in `folder` of ../shared/reference
// (relu260K has only tokens, for a model in another format).
inline std::vector<std::filesystem::path> reference_files(const std::string& folder = "") {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir = shared_dir() / "reference" / folder;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".json" && name.rfind("relu260K", 0) != 0) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The architecture files (reference/arch) whose architecture Sieve runs
// without experts; the Mixture-of-Experts ones (qwen3moe, mixtral, gpt-oss)
// belong to the expert-streaming work.
inline std::vector<std::filesystem::path> dense_architecture_reference_files() {
  std::vector<std::filesystem::path> files;
  for (const std::filesystem::path& f : reference_files("arch")) {
    const std::string name = f.filename().string();
    if (name.find("moe") == std::string::npos && name.rfind("mixtral", 0) != 0 && name.rfind("gpt-oss", 0) != 0) {
      files.push_back(f);
    }
  }
  return files;
}

// The Mixture-of-Experts ones: qwen3moe, Mixtral, gpt-oss.
inline std::vector<std::filesystem::path> expert_architecture_reference_files() {
  std::vector<std::filesystem::path> files;
  for (const std::filesystem::path& f : reference_files("arch")) {
    const std::string name = f.filename().string();
    if (name.find("moe") != std::string::npos || name.rfind("mixtral", 0) == 0 || name.rfind("gpt-oss", 0) == 0) {
      files.push_back(f);
    }
  }
  return files;
}

}  // namespace sieve::test
