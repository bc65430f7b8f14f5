#!/usr/bin/env bash
# What the release profile can take off the archive (issue 14): builds the release archive with
# each profile variant below, each in its own worktree and target folder, and prints for each the
# archive's size, the plugins' sizes, the median wall time of `fink version` with every bundled
# plugin, and whether a panicking plugin still becomes an error (panic unwinding kept).
# Every variant is built first; the timings then run in alternating rounds on the idle machine,
# so a slower moment does not count against one variant only.
#
# Usage: benches/release-profile.sh [--work DIR] [--rev REV] [--measure] [VARIANT...]
#   --rev: the commit to build (default: HEAD when the script starts; every variant builds the same one).
#   --measure: build nothing, time the archives an earlier run left in DIR.
#   variants: base strip lto lto-s s (default: all). A variant's settings are written to the
#   worktree's .cargo/config.toml, on top of Cargo.toml's [profile.release].
#   DIR (default target/release-profile) keeps each variant's target folder, so a second run
#   only re-measures.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

work="$root/target/release-profile"
variants=()
measure_only=no
rev=HEAD
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work="$2"; shift 2 ;;
        --rev) rev="$2"; shift 2 ;;
        --measure) measure_only=yes; shift ;;
        -*) echo "usage: $0 [--work DIR] [--rev REV] [--measure] [VARIANT...]" >&2; exit 2 ;;
        *) variants+=("$1"); shift ;;
    esac
done
[ ${#variants[@]} -gt 0 ] || variants=(base strip lto lto-s s)
rev=$(git rev-parse --verify "$rev^{commit}")
mkdir -p "$work"

# The settings each variant adds, as cargo config.
profile() {
    case "$1" in
        base) ;;
        strip) printf '[profile.release]\nstrip = "symbols"\n' ;;
        lto) printf '[profile.release]\nstrip = "symbols"\nlto = "thin"\ncodegen-units = 1\n' ;;
        # Size over speed for the plugins and every dependency; the host crate keeps opt-level 3.
        lto-s) printf '[profile.release]\nstrip = "symbols"\nlto = "thin"\ncodegen-units = 1\nopt-level = "s"\n[profile.release.package.fink]\nopt-level = 3\n' ;;
        s) printf '[profile.release]\nstrip = "symbols"\nopt-level = "s"\n[profile.release.package.fink]\nopt-level = 3\n' ;;
        *) echo "unknown variant $1 (base strip lto lto-s s)" >&2; exit 2 ;;
    esac
}

# Builds one variant's archive and the panicking fixture, and unpacks the archive.
build_variant() {
    local variant=$1 tree="$work/$1/src" target="$work/$1/target" out="$work/$1/dist"
    rm -rf "$tree" "$out"
    git worktree prune
    git worktree add --quiet --detach "$tree" "$rev"
    mkdir -p "$tree/.cargo"
    profile "$variant" > "$tree/.cargo/config.toml"
    local start
    start=$(date +%s)
    (cd "$tree" && CARGO_TARGET_DIR="$target" bash scripts/dist.sh --out "$out" >/dev/null)
    (cd "$tree" && CARGO_TARGET_DIR="$target" cargo build --quiet --locked --release -p fink-fixture-alpha)
    echo $(( $(date +%s) - start )) > "$work/$variant/build-seconds"
    git worktree remove --force "$tree"
    local unpacked="$work/$variant/unpacked"
    rm -rf "$unpacked" && mkdir -p "$unpacked/home" "$unpacked/panics"
    tar -xzf "$out"/fink-*.tar.gz -C "$unpacked"
    chmod 0755 "$unpacked/panics"
    install -m 0644 "$target/release/libfink_fixture_alpha.so" "$unpacked/panics/"
}

for variant in "${variants[@]}"; do
    profile "$variant" >/dev/null
    if [ $measure_only = no ]; then
        build_variant "$variant"
        echo "built $variant ($rev) in $(cat "$work/$variant/build-seconds") s" >&2
    fi
done

# Median wall time in ms of `fink version` per variant: 5 warm-up runs each, then 10 rounds of 10
# runs, the variants taking turns.
timings=$(python3 - "$work" "${variants[@]}" <<'EOF'
import glob, os, statistics, subprocess, sys, time
work, variants = sys.argv[1], sys.argv[2:]
env = {k: v for k, v in os.environ.items() if k not in ("FINK_PLUGIN_PATH", "XDG_CACHE_HOME")}
def runner(variant):
    home = f"{work}/{variant}/unpacked/home"
    fink = glob.glob(f"{work}/{variant}/unpacked/fink-*/bin/fink")[0]
    def run():
        start = time.perf_counter()
        subprocess.run([fink, "version"], env=dict(env, HOME=home), cwd=home, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start
    return run
runs = {v: runner(v) for v in variants}
samples = {v: [] for v in variants}
for v in variants:
    for _ in range(5):
        runs[v]()
for _ in range(10):
    for v in variants:
        samples[v].extend(runs[v]() for _ in range(10))
for v in variants:
    print(v, f"{statistics.median(samples[v]) * 1000:.1f}")
EOF
)

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
size() { stat -c %s "$1"; }
results="$work/results.txt"
: > "$results"
for variant in "${variants[@]}"; do
    unpacked="$work/$variant/unpacked"
    prefix=$(ls -d "$unpacked"/fink-*)
    fink="$prefix/bin/fink"
    archive=$(ls "$work/$variant/dist"/fink-*.tar.gz)
    "$fink" version | grep -q config-reader
    ms=$(awk -v v="$variant" '$1 == v { print $2 }' <<<"$timings")

    # A plugin that panics in its command must still be an error, not an abort.
    set +e
    said=$(cd "$unpacked/home" && HOME="$unpacked/home" FINK_FIXTURE_ALPHA_PANIC_AT=command \
        "$fink" --plugins-dir "$unpacked/panics" demo nocfg 2>&1 >/dev/null)
    code=$?
    set -e
    if [ $code -eq 1 ] && grep -q "panicked: alpha panics in command nocfg" <<<"$said"; then
        unwind=yes
    else
        unwind="NO (exit $code: $said)"
    fi

    plugins=0
    each=""
    for lib in "$prefix"/lib/fink/plugins/*.so; do
        plugins=$(( plugins + $(size "$lib") ))
        name=$(basename "$lib" .so)
        each="$each ${name#libfink_plugin_}=$(mb "$(size "$lib")")"
    done
    echo "$variant: archive $(mb "$(size "$archive")") MB, bin/fink $(mb "$(size "$fink")") MB," \
        "plugins $(mb $plugins) MB;$each; fink version $ms ms; unwinds: $unwind;" \
        "build $(cat "$work/$variant/build-seconds") s" | tee -a "$results"
done

# The comparison with base, when base was among the variants.
base=$(grep '^base:' "$results" || true)
if [ -n "$base" ]; then
    field() { sed -n "s/.*$1 \([0-9.]*\) .*/\1/p" <<<"$2"; }
    b_archive=$(field archive "$base")
    b_ms=$(field "fink version" "$base")
    echo "against base (archive $b_archive MB, fink version $b_ms ms):"
    for variant in "${variants[@]}"; do
        line=$(grep "^$variant:" "$results")
        awk -v v="$variant" -v a="$(field archive "$line")" -v ba="$b_archive" \
            -v m="$(field "fink version" "$line")" -v bm="$b_ms" \
            'BEGIN { printf "  %-6s archive %+.1f%%, fink version %+.1f%%\n", v, (a - ba) / ba * 100, (m - bm) / bm * 100 }'
    done
fi
