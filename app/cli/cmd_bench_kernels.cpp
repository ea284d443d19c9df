// `sieve bench-kernels`: matrix x vector throughput per tensor type, printed
// beside the plain memory-read bandwidth measured in the same run. Decode is
// memory-bound, so the interesting number is the fraction of that bandwidth
// each type's matvec reaches.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/kernel_bench.h"
#include "bench/memory_bandwidth.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tensor/kernels.h"
#include "util/error.h"
#include "util/system_memory.h"

namespace sieve::cli {
namespace {

using tensor::Isa;
using tensor::TensorType;

constexpr const char* kDefaultTypes = "f16,q8_0,q4_0,q4_k";
constexpr TensorType kAllWeightTypes[] = {
    TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1,
    TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0, TensorType::Q2_K, TensorType::Q3_K,
    TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::IQ4_NL, TensorType::IQ4_XS,
    TensorType::MXFP4, TensorType::IQ1_S, TensorType::IQ1_M, TensorType::IQ2_XXS, TensorType::IQ2_XS,
    TensorType::IQ2_S, TensorType::IQ3_XXS, TensorType::IQ3_S, TensorType::TQ1_0, TensorType::TQ2_0,
};

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {
      {"threads", 't', true, "threads, counting the caller (default: all cores)", "N"},
      {"size", 0, true, "bytes read for bandwidth and per weight matrix (default 1G)", "SIZE"},
      {"types", 0, true, std::string("comma-separated types, or 'all' (default ") + kDefaultTypes + ")", "LIST"},
      {"isa", 0, true, "kernel family: scalar, avx2, avx512, neon or best (default best)", "ISA"},
      {"passes", 0, true, "timed matvec passes after one warm-up; the best counts (default 5)", "N"},
      {"vectors", 0, true, "activation vectors of the matmat measurement (default 16; prefill uses 64)", "N"},
      {"json", 0, true, "also write the results as JSON to FILE", "FILE"},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

struct Settings {
  int threads = 0;
  uint64_t size = 0;
  std::vector<TensorType> types;
  Isa isa = Isa::Scalar;
  int passes = 5;
  int64_t vectors = 16;
  std::optional<std::string> json_path;
};

std::vector<TensorType> parse_types(const std::string& list) {
  if (list == "all") return {std::begin(kAllWeightTypes), std::end(kAllWeightTypes)};
  std::vector<TensorType> types;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    const auto type = tensor::type_from_name(name);
    if (!type) throw UsageError("--types: unknown tensor type '" + name + "'");
    types.push_back(*type);
    start = comma + 1;
  }
  return types;
}

Isa parse_isa(const std::string& name) {
  if (name == "best") return tensor::best_isa();
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (name != tensor::isa_name(isa)) continue;
    if (!tensor::isa_available(isa)) throw Error("--isa " + name + ": this CPU or this build cannot run it");
    return isa;
  }
  throw UsageError("--isa: expected scalar, avx2, avx512, neon or best, got '" + name + "'");
}

// Refuses sizes the machine cannot hold: the benchmark touches every byte.
void check_memory(uint64_t size) {
  const uint64_t available = available_memory_bytes();  // 0: unknown
  if (available > 0 && size > available / 10 * 8) {
    throw Error("--size " + format_bytes(size) + " is more than 80% of the " + format_bytes(available) +
                " of memory available");
  }
}

Settings parse_settings(const Args& args) {
  Settings s;
  s.threads = static_cast<int>(args.get_int("threads", 0, 0, 4096));
  if (s.threads == 0) s.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s.size = args.get_size("size", uint64_t{1} << 30);
  if (s.size < (uint64_t{1} << 20)) throw UsageError("--size: at least 1M is needed, got " + format_bytes(s.size));
  check_memory(s.size);
  s.types = parse_types(args.get_or("types", kDefaultTypes));
  s.isa = parse_isa(args.get_or("isa", "best"));
  s.passes = static_cast<int>(args.get_int("passes", 5, 1, 1000));
  s.vectors = args.get_int("vectors", 16, 1, 4096);
  s.json_path = args.get("json");
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional().front() + "'");
  return s;
}

// One row of the table: a result, or the reason the type was not measured.
struct Row {
  TensorType type;
  std::optional<bench::KernelBenchResult> result;
  std::string skipped;
};

void print_header(const Settings& s) {
  std::printf("CPU      %s\n", bench::cpu_model_name().c_str());
  std::printf("ISA      %s (best available: %s)\n", std::string(tensor::isa_name(s.isa)).c_str(),
              std::string(tensor::isa_name(tensor::best_isa())).c_str());
  std::printf("threads  %d\n", s.threads);
  std::printf("size     %s per buffer, rows of 4096 values, best of %d pass%s after a warm-up\n",
              format_bytes(s.size).c_str(), s.passes, s.passes == 1 ? "" : "es");
}

void print_table_head() {
  std::printf("\n%-8s %-7s %7s %12s %9s %15s %18s\n", "type", "ISA", "threads", "matvec GB/s", "% of read",
              "matmat GFLOP/s", "matmat GB/s/vec");
}

void print_row(const Row& row, const Settings& s, double read_gbps) {
  const std::string type(tensor::type_name(row.type));
  const std::string isa(tensor::isa_name(s.isa));
  if (!row.result) {
    std::printf("%-8s %-7s %7d  skipped: %s\n", type.c_str(), isa.c_str(), s.threads, row.skipped.c_str());
  } else {
    const bench::KernelBenchResult& r = *row.result;
    std::printf("%-8s %-7s %7d %12.2f %8.1f%% %15.1f %18.2f\n", type.c_str(), isa.c_str(), s.threads,
                r.matvec_gbps(), 100.0 * r.matvec_gbps() / read_gbps, r.matmat_gflops(), r.matmat_gbps_per_vector());
  }
  std::fflush(stdout);
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

std::string json_row(const Row& row, double read_gbps) {
  std::string out = "    {\"type\": \"" + std::string(tensor::type_name(row.type)) + "\"";
  if (!row.result) return out + ", \"skipped\": \"" + json_escape(row.skipped) + "\"}";
  const bench::KernelBenchResult& r = *row.result;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                ", \"rows\": %lld, \"row_elems\": %lld, \"weight_bytes\": %llu, \"matvec_seconds\": %.6f, "
                "\"matvec_gbps\": %.3f, \"matvec_fraction_of_read\": %.4f, \"matmat_vectors\": %lld, "
                "\"matmat_seconds\": %.6f, \"matmat_gflops\": %.3f, \"matmat_gbps_per_vector\": %.3f}",
                static_cast<long long>(r.n_rows), static_cast<long long>(r.row_elems),
                static_cast<unsigned long long>(r.weight_bytes), r.matvec_seconds, r.matvec_gbps(),
                r.matvec_gbps() / read_gbps, static_cast<long long>(r.matmat_vectors), r.matmat_seconds,
                r.matmat_gflops(), r.matmat_gbps_per_vector());
  return out + buf;
}

// Opened before the run so a bad path fails in a second, not after minutes.
std::ofstream open_json(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot open for writing");
  return out;
}

void write_json(std::ofstream& out, const std::string& path, const Settings& s, const bench::BandwidthResult& bw,
                const std::vector<Row>& rows) {
  out << "{\n  \"cpu\": \"" << json_escape(bench::cpu_model_name()) << "\",\n  \"isa\": \""
      << tensor::isa_name(s.isa) << "\",\n  \"threads\": " << s.threads << ",\n  \"size_bytes\": " << s.size
      << ",\n  \"read_gbps\": " << bw.best_gbps << ",\n  \"results\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) out << json_row(rows[i], bw.best_gbps) << (i + 1 < rows.size() ? ",\n" : "\n");
  out << "  ]\n}\n";
  if (!out.flush()) throw Error(path + ": write failed");
}

bench::BandwidthResult measure_bandwidth(const Settings& s, ThreadPool& pool) {
  bench::AlignedBuffer buffer(s.size);
  bench::fill_random(buffer.data(), buffer.size(), 42, pool);
  const bench::BandwidthResult bw = bench::measure_read_bandwidth(buffer.data(), buffer.size(), pool, s.passes);
  std::printf("\nmemory read bandwidth: %.2f GB/s (%s summed by %d thread%s, best %s prefetch hints)\n",
              bw.best_gbps, format_bytes(s.size).c_str(), s.threads, s.threads == 1 ? "" : "s",
              bw.best_hint == bench::ReadHint::None ? "without" : "with");
  return bw;
}

Row bench_one(TensorType type, const Settings& s, ThreadPool& pool) {
  const tensor::KernelTable& k = tensor::kernels_for(s.isa);
  Row row{type, std::nullopt, ""};
  if (!bench::can_bench(type, k)) {
    row.skipped = "no kernel for this type in the " + std::string(tensor::isa_name(s.isa)) + " table";
    return row;
  }
  bench::KernelBenchOptions options;
  options.matrix_bytes = s.size;
  options.matvec_passes = s.passes;
  options.matmat_vectors = s.vectors;
  row.result = bench::bench_kernel(type, k, pool, options);  // the matrix is freed on return
  return row;
}

}  // namespace

int cmd_bench_kernels(CommandArgs argv) {
  const Args args = Args::parse(argv, option_specs());
  if (args.has("help")) {
    std::printf("%s", usage_text("sieve bench-kernels [-t N] [--size 1G] [--types f16,q8_0,...] [--isa best] "
                                 "[--vectors 16] [--json FILE]",
                                 option_specs())
                          .c_str());
    return 0;
  }
  const Settings s = parse_settings(args);
  std::ofstream json;
  if (s.json_path) json = open_json(*s.json_path);
  print_header(s);
  ThreadPool pool(s.threads);
  const bench::BandwidthResult bw = measure_bandwidth(s, pool);
  print_table_head();
  std::vector<Row> rows;
  for (TensorType type : s.types) {
    rows.push_back(bench_one(type, s, pool));
    print_row(rows.back(), s, bw.best_gbps);
  }
  if (s.json_path) write_json(json, *s.json_path, s, bw, rows);
  return 0;
}

}  // namespace sieve::cli
