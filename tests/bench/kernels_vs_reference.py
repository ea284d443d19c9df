#!/usr/bin/env python3
"""Prefill and decode speed of Sieve's dense engine against the reference, same machine, same run.

Issue 15's table: the TinyLlama-1.1B shape from `sieve synth` in each type, 2 threads, a 128-token
prompt, 64 decoded tokens. Each round runs Sieve (`sieve bench --modes dense`) and the reference
(`refbench.mjs`, ../shared/tools/reference) back to back on the same file, alternating which goes
first; the table gives each side's median and the median of the per-round ratios.

  tests/bench/kernels_vs_reference.py [--types f16,q4_0] [--rounds 3] [--dir /var/tmp/sieve-bench-models]
                                      [--reference-isa best|avx2]

SIEVE_ISA=avx2 forces Sieve's kernels. The reference picks the best of its CPU variants
(libggml-cpu-<variant>.so beside its addon) for this CPU; `--reference-isa avx2` makes it run its AVX2
build instead: a copy of the reference (hard links, made once in /var/tmp/sieve-reference-avx2) keeps
only the haswell (AVX2), x64 and sse42 variants. So an AVX2-against-AVX2 run is

  SIEVE_ISA=avx2 tests/bench/kernels_vs_reference.py --reference-isa avx2

The "ref variant" column names the variant the reference actually ran, read from /proc/PID/maps
while it runs (the one mapped in most samples: its loader maps others briefly while choosing). Models are generated once into --dir (about 0.6-4.4 GB each) and reused.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TYPES = "f16,bf16,q8_0,q4_0,q4_k_m,q6_k,iq4_xs"


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def model_for(args, type_name):
    path = Path(args.dir) / f"tinyllama-{type_name}.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ...", file=sys.stderr, flush=True)
        run([args.sieve, "synth", "--preset", "tinyllama-1.1b", "--type", type_name, "--vocab-from",
             str(args.shared / "models" / "llama-2-tiny-random.gguf"), "--seed", "1", "-o", str(path)])
    return path


def sieve_speed(args, model):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run([args.sieve, "bench", "-m", str(model), "--modes", "dense", "-p", str(args.prompt), "-n",
             str(args.decode), "-t", str(args.threads), "--no-limit", "--json", out.name])
        runs = json.load(open(out.name))
        r = runs["runs"][0] if isinstance(runs, dict) else runs[0]
    return r["prompt_tokens"] / r["prompt_seconds"], r["decode_tokens_per_second"]


AVX2_REFERENCE_DIR = Path("/var/tmp/sieve-reference-avx2")
AVX2_VARIANTS = {"haswell", "x64", "sse42"}  # ggml's AVX2 build and the two it falls back to


def cpu_variant(lib_name):
    """'haswell' for libggml-cpu-haswell.so, None for other files."""
    if lib_name.startswith("libggml-cpu-") and lib_name.endswith(".so"):
        return lib_name[len("libggml-cpu-"):-len(".so")]
    return None


def avx2_reference(reference):
    """A copy of the reference whose only CPU variants are AVX2 and below, made once."""
    if (AVX2_REFERENCE_DIR / "refbench.mjs").exists():
        return AVX2_REFERENCE_DIR
    print(f"making {AVX2_REFERENCE_DIR} (hard links to {reference}) ...", file=sys.stderr, flush=True)
    staging = AVX2_REFERENCE_DIR.with_name(AVX2_REFERENCE_DIR.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.copytree(reference, staging, symlinks=True, copy_function=os.link)
    except OSError:  # another file system: real copies
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(reference, staging, symlinks=True)
    kept = 0
    for lib in staging.rglob("libggml-cpu-*.so"):
        if cpu_variant(lib.name) in AVX2_VARIANTS:
            kept += 1
        else:
            lib.unlink()
    if kept == 0:
        sys.exit(f"no libggml-cpu-{{haswell,x64,sse42}}.so under {reference}: cannot pin the reference to AVX2")
    staging.rename(AVX2_REFERENCE_DIR)
    return AVX2_REFERENCE_DIR


def loaded_variants(pid):
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return {v for v in (cpu_variant(Path(line.split()[-1]).name) for line in maps if ".so" in line) if v}
    except OSError:
        return set()


def variant_in_use(samples):
    """The variant mapped in most samples: the loader briefly maps others while it scores them."""
    counts = {}
    for variants in samples:
        for v in variants:
            counts[v] = counts.get(v, 0) + 1
    return max(counts, key=counts.get) if counts else None


def reference_speed(args, model):
    cmd = ["node", str(args.reference / "refbench.mjs"), str(model), "-p", str(args.prompt), "-n",
           str(args.decode), "-t", str(args.threads)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        samples = []
        while p.poll() is None:
            samples.append(loaded_variants(p.pid))
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{stdout}\n{stderr}")
    r = json.loads(stdout.strip().splitlines()[-1])
    if variant_in_use(samples):
        args.reference_variants.add(variant_in_use(samples))
    return r["prefill_tok_s"], r["decode_tok_s"]


def cpu_flags():
    try:
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
    except (OSError, StopIteration):
        return "?"
    return "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--types", default=DEFAULT_TYPES)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default="/var/tmp/sieve-bench-models")
    ap.add_argument("--sieve", default=str(ROOT / "build" / "release" / "bin" / "sieve"))
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--reference", type=Path, default=Path.home() / ".cache" / "sieve-reference")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-p", "--prompt", type=int, default=128)
    ap.add_argument("-n", "--decode", type=int, default=64)
    ap.add_argument("--reference-isa", choices=["best", "avx2"], default="best",
                    help="the reference's CPU variant: its best for this CPU, or its AVX2 (haswell) build")
    args = ap.parse_args()
    if not (args.reference / "refbench.mjs").exists():
        sys.exit(f"no reference at {args.reference}: run {args.shared}/tools/reference/install first")
    if args.reference_isa == "avx2":
        args.reference = avx2_reference(args.reference)
    isa = os.environ.get("SIEVE_ISA", "best")
    print(f"| type | Sieve ISA (CPU) | ref variant | prefill Sieve / ref tok/s | prefill x | decode Sieve / ref tok/s "
          f"| decode x |")
    print("|---|---|---|---|---|---|---|")
    for type_name in args.types.split(","):
        model = model_for(args, type_name)
        args.reference_variants = set()
        sieve_runs, ref_runs = [], []
        for r in range(args.rounds):
            first, second = (sieve_speed, reference_speed) if r % 2 == 0 else (reference_speed, sieve_speed)
            a, b = first(args, model), second(args, model)
            s, f = (a, b) if r % 2 == 0 else (b, a)
            sieve_runs.append(s)
            ref_runs.append(f)
            print(f"  {type_name} round {r + 1}: sieve prefill {s[0]:.1f} decode {s[1]:.2f}, reference prefill "
                  f"{f[0]:.1f} decode {f[1]:.2f}", file=sys.stderr, flush=True)
        med = lambda xs: statistics.median(xs)
        prefill_x = med([s[0] / f[0] for s, f in zip(sieve_runs, ref_runs)])
        decode_x = med([s[1] / f[1] for s, f in zip(sieve_runs, ref_runs)])
        variant = ",".join(sorted(args.reference_variants)) or "?"
        print(f"| {type_name.upper()} | {isa} ({cpu_flags()}) | {variant} | {med([s[0] for s in sieve_runs]):.1f} / "
              f"{med([f[0] for f in ref_runs]):.1f} | {prefill_x:.2f}x | {med([s[1] for s in sieve_runs]):.2f} / "
              f"{med([f[1] for f in ref_runs]):.2f} | {decode_x:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
