// This CPU's int8 dot-product peak per core, measured with independent accumulator chains in
// inline assembly (so that no compiler spills or folds the loop). Two AVX2 routes:
//
//   kMaddubs: vpmaddubsw + vpmaddwd(ones) + vpaddd, 32 MACs per vpmaddubsw. The fastest int8
//             route on AVX2, but vpmaddubsw saturates u8 x s8 pair sums, so a kernel may use it
//             only on operands bounded to avoid saturation; the x86 backend does (|x| x
//             sign-adjusted w, see include/integr8/backend/x86.h), paying one vpsignb more.
//   kSignMaddubs: the x86 backend's exact inner step: vpsignb + vpabsb-free vpmaddubsw +
//             vpmaddwd(ones) + vpaddd, 32 MACs.
//   kMaddwd:  vpmaddwd + vpaddd on int16 operands, 16 MACs per instruction.
//   kSignExtendMaddwd: vpmovsxbw (from memory) + vpmaddwd + vpaddd, 16 MACs, the exact route
//             for int8 operands that are not pre-widened.
//
// And, where the CPU has a 256-bit vpdpbusd (PeakRouteRuns; the EVEX form of AVX-512 VNNI
// with VL when it has that, else AVX-VNNI's VEX form):
//   kDpbusd:  vpdpbusd alone, 32 MACs: the int8 peak with VNNI (u8 x s8 quads, exact in
//             32 bits), and the x86 backend's unsigned-offset step for several rows.
//   kSignDpbusd: vpsignb + vpdpbusd, 32 MACs: the x86 backend's step for one row with VNNI.
//
// And the core clock, from a chain of dependent 1-cycle additions, so that GMAC/s can be read
// as MACs per cycle.
#ifndef INTEGR8_BENCHMARKS_PEAK_PROBE_H_
#define INTEGR8_BENCHMARKS_PEAK_PROBE_H_

#include <cpuid.h>
#include <time.h>

#include <cstdint>

namespace integr8::bench {

enum class PeakRoute {
  kMaddubs,
  kSignMaddubs,
  kMaddwd,
  kSignExtendMaddwd,
  kDpbusd,
  kSignDpbusd
};

inline const char* PeakRouteName(PeakRoute route) {
  switch (route) {
    case PeakRoute::kMaddubs: return "vpmaddubsw+vpmaddwd+vpaddd";
    case PeakRoute::kSignMaddubs: return "vpsignb+vpmaddubsw+vpmaddwd+vpaddd";
    case PeakRoute::kMaddwd: return "vpmaddwd+vpaddd";
    case PeakRoute::kSignExtendMaddwd: return "vpmovsxbw+vpmaddwd+vpaddd";
    case PeakRoute::kDpbusd: return "vpdpbusd";
    case PeakRoute::kSignDpbusd: return "vpsignb+vpdpbusd";
  }
  return "?";
}

// MACs one iteration of RunPeakLoop performs: 12 chains of 32 or 16 MACs.
inline int64_t PeakMacsPerIteration(PeakRoute route) {
  return route == PeakRoute::kMaddwd || route == PeakRoute::kSignExtendMaddwd ? 12 * 16 : 12 * 32;
}

// Which 256-bit vpdpbusd this CPU executes, if any.
enum class VnniEncoding { kNone, kVex, kEvex };
inline VnniEncoding CpuVnniEncoding() {
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) {
    return VnniEncoding::kEvex;
  }
  // AVX-VNNI: CPUID leaf 7, subleaf 1, EAX bit 4 (not every compiler's
  // __builtin_cpu_supports knows it).
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && (eax & (1U << 4)) != 0) {
    return VnniEncoding::kVex;
  }
  return VnniEncoding::kNone;
}

// Whether this CPU executes the route (the AVX2 routes: on every AVX2 CPU).
inline bool PeakRouteRuns(PeakRoute route) {
  return (route != PeakRoute::kDpbusd && route != PeakRoute::kSignDpbusd) ||
         CpuVnniEncoding() != VnniEncoding::kNone;
}

// One chain step on accumulator ymm<acc>; ymm12 = activations, ymm13 = weights, ymm15 = ones,
// ymm14 = temporary (renamed per chain, so the chains stay independent).
#define INTEGR8_PEAK_MADDUBS(acc)             \
  "vpmaddubsw %%ymm13, %%ymm12, %%ymm14\n\t"  \
  "vpmaddwd %%ymm15, %%ymm14, %%ymm14\n\t"    \
  "vpaddd %%ymm14, %%ymm" #acc ", %%ymm" #acc "\n\t"
#define INTEGR8_PEAK_SIGN_MADDUBS(acc)        \
  "vpsignb %%ymm12, %%ymm13, %%ymm14\n\t"     \
  "vpmaddubsw %%ymm14, %%ymm12, %%ymm14\n\t"  \
  "vpmaddwd %%ymm15, %%ymm14, %%ymm14\n\t"    \
  "vpaddd %%ymm14, %%ymm" #acc ", %%ymm" #acc "\n\t"
#define INTEGR8_PEAK_MADDWD(acc)            \
  "vpmaddwd %%ymm13, %%ymm12, %%ymm14\n\t"  \
  "vpaddd %%ymm14, %%ymm" #acc ", %%ymm" #acc "\n\t"
#define INTEGR8_PEAK_SIGN_EXTEND_MADDWD(acc) \
  "vpmovsxbw (%[data]), %%ymm14\n\t"         \
  "vpmaddwd %%ymm13, %%ymm14, %%ymm14\n\t"   \
  "vpaddd %%ymm14, %%ymm" #acc ", %%ymm" #acc "\n\t"
// vpdpbusd in AT&T order (signed source, unsigned source, accumulator); gas assembles the
// bare mnemonic in the EVEX form, "{vex}" (%{vex%} in extended asm) asks for AVX-VNNI's.
#define INTEGR8_PEAK_DPBUSD_EVEX(acc) "vpdpbusd %%ymm13, %%ymm12, %%ymm" #acc "\n\t"
#define INTEGR8_PEAK_DPBUSD_VEX(acc) "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm" #acc "\n\t"
#define INTEGR8_PEAK_SIGN_DPBUSD_EVEX(acc) \
  "vpsignb %%ymm12, %%ymm13, %%ymm14\n\t"   \
  "vpdpbusd %%ymm14, %%ymm12, %%ymm" #acc "\n\t"
#define INTEGR8_PEAK_SIGN_DPBUSD_VEX(acc) \
  "vpsignb %%ymm12, %%ymm13, %%ymm14\n\t"  \
  "%{vex%} vpdpbusd %%ymm14, %%ymm12, %%ymm" #acc "\n\t"
#define INTEGR8_PEAK_TWELVE(step) \
  step(0) step(1) step(2) step(3) step(4) step(5) step(6) step(7) step(8) step(9) step(10) step(11)
#define INTEGR8_PEAK_LOOP(step)                                                              \
  asm volatile("vpcmpeqb %%ymm15, %%ymm15, %%ymm15\n\t"                                      \
               "1:\n\t" INTEGR8_PEAK_TWELVE(step) "dec %[n]\n\t"                              \
               "jnz 1b\n\t"                                                                  \
               "vzeroupper\n\t"                                                              \
               : [n] "+r"(iterations)                                                        \
               : [data] "r"(data)                                                            \
               : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",     \
                 "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory")

// Runs `iterations` (>= 1) iterations of the route's 12-chain loop; PeakRouteRuns(route).
inline void RunPeakLoop(PeakRoute route, int64_t iterations) {
  alignas(32) static const int8_t data[32] = {1, -2, 3, -4, 5, -6, 7, -8};
  const bool evex = CpuVnniEncoding() == VnniEncoding::kEvex;
  switch (route) {
    case PeakRoute::kMaddubs: INTEGR8_PEAK_LOOP(INTEGR8_PEAK_MADDUBS); break;
    case PeakRoute::kSignMaddubs: INTEGR8_PEAK_LOOP(INTEGR8_PEAK_SIGN_MADDUBS); break;
    case PeakRoute::kMaddwd: INTEGR8_PEAK_LOOP(INTEGR8_PEAK_MADDWD); break;
    case PeakRoute::kSignExtendMaddwd: INTEGR8_PEAK_LOOP(INTEGR8_PEAK_SIGN_EXTEND_MADDWD); break;
    case PeakRoute::kDpbusd:
      if (evex) {
        INTEGR8_PEAK_LOOP(INTEGR8_PEAK_DPBUSD_EVEX);
      } else {
        INTEGR8_PEAK_LOOP(INTEGR8_PEAK_DPBUSD_VEX);
      }
      break;
    case PeakRoute::kSignDpbusd:
      if (evex) {
        INTEGR8_PEAK_LOOP(INTEGR8_PEAK_SIGN_DPBUSD_EVEX);
      } else {
        INTEGR8_PEAK_LOOP(INTEGR8_PEAK_SIGN_DPBUSD_VEX);
      }
      break;
  }
}

#undef INTEGR8_PEAK_LOOP
#undef INTEGR8_PEAK_TWELVE
#undef INTEGR8_PEAK_SIGN_DPBUSD_VEX
#undef INTEGR8_PEAK_SIGN_DPBUSD_EVEX
#undef INTEGR8_PEAK_DPBUSD_VEX
#undef INTEGR8_PEAK_DPBUSD_EVEX
#undef INTEGR8_PEAK_SIGN_EXTEND_MADDWD
#undef INTEGR8_PEAK_MADDWD
#undef INTEGR8_PEAK_SIGN_MADDUBS
#undef INTEGR8_PEAK_MADDUBS

// Runs `iterations` dependent 1-cycle additions (8 per loop turn, the loop overhead runs in
// parallel), so iterations / seconds is the core clock.
inline void RunClockLoop(int64_t iterations) {
  int64_t value = 0;
  int64_t turns = iterations / 8;
  asm volatile(
      "1:\n\t"
      "add $1, %[v]\n\tadd $1, %[v]\n\tadd $1, %[v]\n\tadd $1, %[v]\n\t"
      "add $1, %[v]\n\tadd $1, %[v]\n\tadd $1, %[v]\n\tadd $1, %[v]\n\t"
      "dec %[n]\n\tjnz 1b\n\t"
      : [v] "+r"(value), [n] "+r"(turns)
      :
      : "cc");
}

// CPU time of the calling thread, in seconds. Peaks and kernel rates are both taken in CPU
// time (Google Benchmark's default time base), so that a fraction of the peak compares like
// with like on a machine shared with other work.
inline double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// CPU seconds per call of run(), the best of `repeats` timings (the least disturbed).
template <typename Run>
double BestSeconds(Run run, int repeats) {
  double best = 0;
  for (int repeat = 0; repeat < repeats; ++repeat) {
    const double start = ThreadCpuSeconds();
    run();
    const double elapsed = ThreadCpuSeconds() - start;
    if (repeat == 0 || elapsed < best) best = elapsed;
  }
  return best;
}

// The route's peak in MACs per second on one core (about 0.1 s of measurement).
inline double MeasurePeakMacsPerSecond(PeakRoute route) {
  constexpr int64_t kIterations = 2000000;
  const double seconds = BestSeconds([route] { RunPeakLoop(route, kIterations); }, 5);
  return static_cast<double>(kIterations * PeakMacsPerIteration(route)) / seconds;
}

// The core clock in Hz (about 0.05 s of measurement).
inline double MeasureClockHz() {
  constexpr int64_t kAdditions = 80000000;
  return static_cast<double>(kAdditions) / BestSeconds([] { RunClockLoop(kAdditions); }, 3);
}

}  // namespace integr8::bench

#endif  // INTEGR8_BENCHMARKS_PEAK_PROBE_H_
