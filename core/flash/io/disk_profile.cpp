#include "flash/io/disk_profile.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "util/error.h"
#include "util/json.h"

namespace sieve::flash {
namespace {

constexpr int kFormatVersion = 1;

json::Value point_to_json(const DiskPoint& p) {
  json::Value v = json::Value::object();
  v.set("chunk_bytes", static_cast<int64_t>(p.chunk_bytes));
  v.set("queue_depth", static_cast<int64_t>(p.queue_depth));
  v.set("mb_per_s", p.mb_per_s);
  v.set("iops", p.iops);
  v.set("mean_latency_us", p.mean_latency_us);
  v.set("reads", static_cast<int64_t>(p.reads));
  v.set("seconds", p.seconds);
  return v;
}

uint32_t positive_u32(const json::Value& v, const char* key) {
  const int64_t n = v.at(key).as_int();
  if (n <= 0 || n > std::numeric_limits<uint32_t>::max()) {
    throw Error(std::string("JSON: '") + key + "' must be a positive 32-bit count, got " + std::to_string(n));
  }
  return static_cast<uint32_t>(n);
}

DiskPoint point_from_json(const json::Value& v) {
  DiskPoint p;
  p.chunk_bytes = positive_u32(v, "chunk_bytes");
  p.queue_depth = positive_u32(v, "queue_depth");
  p.mb_per_s = v.at("mb_per_s").as_number();
  p.iops = v.at("iops").as_number();
  if (const json::Value* lat = v.find("mean_latency_us")) p.mean_latency_us = lat->as_number();
  if (const json::Value* reads = v.find("reads")) p.reads = static_cast<uint64_t>(reads->as_int());
  if (const json::Value* secs = v.find("seconds")) p.seconds = secs->as_number();
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
  json::Value root = json::Value::object();
  root.set("format", "sieve-disk-profile");
  root.set("version", kFormatVersion);
  root.set("folder", folder);
  root.set("backend", backend);
  root.set("cache_mode", cache_mode);
  root.set("file_bytes", static_cast<int64_t>(file_bytes));
  json::Value list = json::Value::array();
  for (const DiskPoint& p : points) list.push(point_to_json(p));
  root.set("points", std::move(list));
  return json::write(root) + "\n";
}

DiskProfile DiskProfile::from_json(const std::string& text, const std::string& source) {
  try {
    const json::Value root = json::parse(text);
    if (root.at("format").as_string() != "sieve-disk-profile") throw Error("JSON: not a sieve disk profile");
    if (root.at("version").as_int() != kFormatVersion) {
      throw Error("JSON: unsupported profile version " + std::to_string(root.at("version").as_int()));
    }
    DiskProfile profile;
    profile.folder = root.at("folder").as_string();
    profile.backend = root.at("backend").as_string();
    profile.cache_mode = root.at("cache_mode").as_string();
    profile.file_bytes = static_cast<uint64_t>(root.at("file_bytes").as_int());
    for (const json::Value& p : root.at("points").as_array()) profile.points.push_back(point_from_json(p));
    return profile;
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
