#include "flash/io/disk_profile.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "util/error.h"
#include "util/json_text.h"

namespace sieve::flash {
namespace {

constexpr int kFormatVersion = 1;

Json point_to_json(const DiskPoint& p) {
  Json v = Json::object();
  v["chunk_bytes"] = p.chunk_bytes;
  v["queue_depth"] = p.queue_depth;
  v["mb_per_s"] = p.mb_per_s;
  v["iops"] = p.iops;
  v["mean_latency_us"] = p.mean_latency_us;
  v["reads"] = p.reads;
  v["seconds"] = p.seconds;
  return v;
}

// A member holding a whole number. Profiles written before nlohmann-json
// printed round counts as doubles ("file_bytes":1e+09), so a number with no
// fractional part is accepted whatever its form.
int64_t whole_number(const Json& object, const char* key) {
  const Json& v = object.at(key);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw Error(std::string("JSON: '") + key + "' is too large");
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  const double d = v.get<double>();  // throws a type error for a non-number
  if (d != std::floor(d) || std::fabs(d) > 9007199254740992.0) {
    throw Error(std::string("JSON: '") + key + "' must be a whole number, got " + to_json_text(v));
  }
  return static_cast<int64_t>(d);
}

uint32_t positive_u32(const Json& v, const char* key) {
  const int64_t n = whole_number(v, key);
  if (n <= 0 || n > std::numeric_limits<uint32_t>::max()) {
    throw Error(std::string("JSON: '") + key + "' must be a positive 32-bit count, got " + std::to_string(n));
  }
  return static_cast<uint32_t>(n);
}

DiskPoint point_from_json(const Json& v) {
  DiskPoint p;
  p.chunk_bytes = positive_u32(v, "chunk_bytes");
  p.queue_depth = positive_u32(v, "queue_depth");
  p.mb_per_s = v.at("mb_per_s").get<double>();
  p.iops = v.at("iops").get<double>();
  if (v.contains("mean_latency_us")) p.mean_latency_us = v.at("mean_latency_us").get<double>();
  if (v.contains("reads")) p.reads = static_cast<uint64_t>(whole_number(v, "reads"));
  if (v.contains("seconds")) p.seconds = v.at("seconds").get<double>();
  if (!(p.mb_per_s >= 0) || !(p.iops >= 0)) throw Error("JSON: a point has negative throughput");
  return p;
}

double log_distance(double a, double b) { return std::fabs(std::log2(a) - std::log2(b)); }

}  // namespace

const DiskPoint* DiskProfile::best() const {
  const DiskPoint* best = nullptr;
  for (const DiskPoint& p : points) {
    if (best == nullptr || p.mb_per_s > best->mb_per_s) best = &p;
  }
  return best;
}

const DiskPoint* DiskProfile::knee(double fraction) const {
  const DiskPoint* top = best();
  if (top == nullptr) return nullptr;
  const DiskPoint* knee = nullptr;
  for (const DiskPoint& p : points) {
    if (p.mb_per_s < fraction * top->mb_per_s) continue;
    if (knee == nullptr || p.chunk_bytes < knee->chunk_bytes ||
        (p.chunk_bytes == knee->chunk_bytes && p.queue_depth < knee->queue_depth)) {
      knee = &p;
    }
  }
  return knee;
}

double DiskProfile::mb_per_s_at(uint32_t chunk_bytes, uint32_t queue_depth) const {
  if (points.empty() || chunk_bytes == 0 || queue_depth == 0) return 0;
  uint32_t depth = points.front().queue_depth;
  for (const DiskPoint& p : points) {
    if (log_distance(p.queue_depth, queue_depth) < log_distance(depth, queue_depth)) depth = p.queue_depth;
  }
  // The measured chunks at that depth just below and just above the request.
  const DiskPoint* below = nullptr;
  const DiskPoint* above = nullptr;
  for (const DiskPoint& p : points) {
    if (p.queue_depth != depth) continue;
    if (p.chunk_bytes <= chunk_bytes && (below == nullptr || p.chunk_bytes > below->chunk_bytes)) below = &p;
    if (p.chunk_bytes >= chunk_bytes && (above == nullptr || p.chunk_bytes < above->chunk_bytes)) above = &p;
  }
  if (below == nullptr) return above->mb_per_s;
  if (above == nullptr || above->chunk_bytes == below->chunk_bytes) return below->mb_per_s;
  const double t = (std::log2(chunk_bytes) - std::log2(below->chunk_bytes)) /
                   (std::log2(above->chunk_bytes) - std::log2(below->chunk_bytes));
  return below->mb_per_s + t * (above->mb_per_s - below->mb_per_s);
}

std::string DiskProfile::to_json() const {
  Json root = Json::object();
  root["format"] = "sieve-disk-profile";
  root["version"] = kFormatVersion;
  root["folder"] = folder;
  root["backend"] = backend;
  root["cache_mode"] = cache_mode;
  root["file_bytes"] = file_bytes;
  Json list = Json::array();
  for (const DiskPoint& p : points) list.push_back(point_to_json(p));
  root["points"] = std::move(list);
  return to_json_text(root) + "\n";
}

DiskProfile DiskProfile::from_json(const std::string& text, const std::string& source) {
  try {
    const Json root = Json::parse(text);
    if (!root.is_object() || root.at("format") != "sieve-disk-profile") throw Error("JSON: not a sieve disk profile");
    if (whole_number(root, "version") != kFormatVersion) {
      throw Error("JSON: unsupported profile version " + to_json_text(root.at("version")));
    }
    DiskProfile profile;
    profile.folder = root.at("folder").get<std::string>();
    profile.backend = root.at("backend").get<std::string>();
    profile.cache_mode = root.at("cache_mode").get<std::string>();
    const int64_t file_bytes = whole_number(root, "file_bytes");
    if (file_bytes < 0) throw Error("JSON: 'file_bytes' is negative");
    profile.file_bytes = static_cast<uint64_t>(file_bytes);
    const Json& points = root.at("points");
    if (!points.is_array()) throw Error("JSON: 'points' must be an array");
    for (const Json& p : points) profile.points.push_back(point_from_json(p));
    return profile;
  } catch (const Json::exception& e) {
    throw Error(source + ": not a valid disk profile: " + json_error_text(e));
  } catch (const Error& e) {
    throw Error(source + ": not a valid disk profile: " + e.what());
  }
}

void DiskProfile::save(const std::string& file) const {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << to_json();
  out.flush();
  if (!out) throw Error(file + ": cannot write the disk profile");
}

DiskProfile DiskProfile::load(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file + ": cannot open the disk profile");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(file + ": cannot read the disk profile");
  return from_json(text.str(), file);
}

}  // namespace sieve::flash
