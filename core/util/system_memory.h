#pragma once
// How much memory this machine has, and how much a new program could use now:
// the bounds of the DRAM budget (engine/auto_mode.h's default, the app's slider).

#include <cstdint>

namespace sieve {

// Physical memory in bytes; 0 when unknown.
uint64_t physical_memory_bytes();

// The memory available to a new program now: MemAvailable from /proc/meminfo
// (Linux), the available physical memory (Windows), else the physical memory;
// 0 when unknown.
uint64_t available_memory_bytes();

}  // namespace sieve
