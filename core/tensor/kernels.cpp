#include "tensor/kernels.h"

#include <cstdlib>
#include <string>

#include "tensor/gemm.h"
#include "tensor/gemm_bf16.h"
#include "tensor/gemm_q8.h"

#if defined(__x86_64__) || defined(_M_X64)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace sieve::tensor {
namespace {

#if defined(SIEVE_HAVE_X86_KERNELS)
uint64_t read_xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

void cpuid(int leaf, int subleaf, int regs[4]) {
#if defined(_MSC_VER)
  __cpuidex(regs, leaf, subleaf);
#else
  unsigned a, b, c, d;
  __cpuid_count(leaf, subleaf, a, b, c, d);
  regs[0] = static_cast<int>(a);
  regs[1] = static_cast<int>(b);
  regs[2] = static_cast<int>(c);
  regs[3] = static_cast<int>(d);
#endif
}

struct X86Features {
  bool avx2 = false;
  bool avx512 = false;  // F + BW + VL + DQ, with the OS saving ZMM state
  bool avx512_vnni = false;
  bool avx512_bf16 = false;  // vdpbf16ps, vcvtne2ps2bf16
  bool gfni = false;  // GF(2) affine byte transforms (with AVX-512: on 512-bit registers)
};

X86Features detect_x86() {
  X86Features f;
  int r[4];
  cpuid(0, 0, r);
  if (r[0] < 7) return f;
  cpuid(1, 0, r);
  const bool osxsave = (r[2] >> 27) & 1, fma = (r[2] >> 12) & 1, f16c = (r[2] >> 29) & 1;
  if (!osxsave) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;
  cpuid(7, 0, r);
  const int max_subleaf = r[0];
  const bool avx2 = (r[1] >> 5) & 1;
  const bool avx512f = (r[1] >> 16) & 1, avx512dq = (r[1] >> 17) & 1;
  const bool avx512bw = (r[1] >> 30) & 1, avx512vl = (r[1] >> 31) & 1;
  f.avx2 = ymm_saved && avx2 && fma && f16c;
  f.avx512 = f.avx2 && zmm_saved && avx512f && avx512dq && avx512bw && avx512vl;
  f.avx512_vnni = f.avx512 && ((r[2] >> 11) & 1);
  f.gfni = (r[2] >> 8) & 1;
  if (max_subleaf >= 1) {
    cpuid(7, 1, r);
    f.avx512_bf16 = f.avx512 && ((r[0] >> 5) & 1);
  }
  return f;
}
#endif

bool cpu_runs(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return true;
#if defined(SIEVE_HAVE_X86_KERNELS)
    case Isa::Avx2:
      return detect_x86().avx2;
    case Isa::Avx512:
      return detect_x86().avx512;
#endif
#if defined(SIEVE_HAVE_NEON_KERNELS)
    case Isa::Neon:
      return true;  // NEON is mandatory on AArch64
#endif
    default:
      return false;
  }
}

KernelTable build_table(Isa isa) {
  KernelTable table;
  table.isa = isa;
  detail::register_legacy_scalar(table);
  detail::register_kquant_scalar(table);
  detail::register_iquant_scalar(table);
  detail::register_iq3_scalar(table);
  detail::register_iq2_scalar(table);
  detail::register_iq1_scalar(table);
  detail::register_ternary_scalar(table);
  detail::register_gemm_scalar(table);
#if defined(SIEVE_HAVE_X86_KERNELS)
  if (isa == Isa::Avx2 || isa == Isa::Avx512) {
    detail::register_legacy_avx2(table);
    detail::register_exp_avx2(table);
    detail::register_kquant_avx2(table);
    detail::register_iquant_avx2(table);
    detail::register_iq3_avx2(table);
    detail::register_iq2_avx2(table);
    detail::register_iq1_avx2(table);
    detail::register_ternary_avx2(table);
    detail::register_gemm_avx2(table);
    // The AVX2 row kernels prefetch for themselves; matvec's burst of hints on
    // top made decode slower here too (docs/kernels.md, "AVX2 float kernels").
    table.matvec_prefetch = false;
    detail::register_gemm_q8_avx2(table);
  }
  if (isa == Isa::Avx512) {
    detail::register_legacy_avx512(table);
    detail::register_kquant_avx512(table);
    detail::register_iquant_avx512(table);
    detail::register_iq3_avx512(table);
    detail::register_iq2_avx512(table);
    detail::register_iq1_avx512(table);
    detail::register_ternary_avx512(table);
    detail::register_gemm_avx512(table);
    if (detect_x86().avx512_vnni) {
      detail::register_legacy_avx512_vnni(table, detect_x86().gfni);
      detail::register_iquant_avx512_vnni(table);
      detail::register_gemm_q8_avx512(table);
    }
    if (detect_x86().avx512_bf16) detail::register_gemm_bf16_avx512(table);
  }
#endif
#if defined(SIEVE_HAVE_NEON_KERNELS)
  if (isa == Isa::Neon) {
    detail::register_legacy_neon(table);
    detail::register_kquant_neon(table);
  }
#endif
  return table;
}

Isa detect_best_isa() {
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Neon}) {
    if (cpu_runs(isa)) return isa;
  }
  return Isa::Scalar;
}

Isa isa_from_env(Isa fallback) {
  const char* env = std::getenv("SIEVE_ISA");
  if (env == nullptr) return fallback;
  const std::string want(env);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (want == isa_name(isa) && cpu_runs(isa)) return isa;
  }
  return fallback;
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "unknown";
}

bool isa_available(Isa isa) { return cpu_runs(isa); }

Isa best_isa() {
  static const Isa chosen = isa_from_env(detect_best_isa());
  return chosen;
}

const KernelTable& kernels_for(Isa isa) {
  // Built on first use, never modified afterwards: safe to read from any thread.
  static const KernelTable scalar = build_table(Isa::Scalar);
  switch (isa) {
    case Isa::Avx2: {
      static const KernelTable t = cpu_runs(Isa::Avx2) ? build_table(Isa::Avx2) : scalar;
      return t;
    }
    case Isa::Avx512: {
      static const KernelTable t = cpu_runs(Isa::Avx512) ? build_table(Isa::Avx512) : scalar;
      return t;
    }
    case Isa::Neon: {
      static const KernelTable t = cpu_runs(Isa::Neon) ? build_table(Isa::Neon) : scalar;
      return t;
    }
    case Isa::Scalar:
      break;
  }
  return scalar;
}

const KernelTable& kernels() { return kernels_for(best_isa()); }

std::vector<TensorType> read_only_types(const KernelTable& k) {
  std::vector<TensorType> out;
  for (uint32_t id = 0; id < kTypeIdLimit; ++id) {
    const auto type = static_cast<TensorType>(id);
    const std::optional<TypeInfo> info = find_type_info(id);
    if (info && info->computable && k[type].vec_dot != nullptr && k[type].quantize == nullptr && info->block_elems > 1) {
      out.push_back(type);
    }
  }
  return out;
}

namespace detail {
CpuExtras cpu_extras() {
  CpuExtras e;
#if defined(SIEVE_HAVE_X86_KERNELS)
  const X86Features f = detect_x86();
  e.avx512_vnni = f.avx512_vnni;
  e.avx512_bf16 = f.avx512_bf16;
  e.gfni = f.gfni;
#endif
  return e;
}
}  // namespace detail

}  // namespace sieve::tensor
