#!/usr/bin/env bash
# What the release profile can take off the archive (issue 14): builds the release archive with
# each profile variant below, each in its own worktree and target folder, and prints for each the
# archive's size, the plugins' sizes, the median wall time of `fink version` with every bundled
# plugin, and whether a panicking plugin still becomes an error (panic unwinding kept).
#
# Usage: benches/release-profile.sh [--work DIR] [VARIANT...]
#   variants: base strip lto lto-s s (default: all). A variant's settings are written to the
#   worktree's .cargo/config.toml, on top of Cargo.toml's [profile.release].
#   DIR (default target/release-profile) keeps each variant's target folder, so a second run
#   only re-measures.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

work="$root/target/release-profile"
variants=()
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work="$2"; shift 2 ;;
        -*) echo "usage: $0 [--work DIR] [VARIANT...]" >&2; exit 2 ;;
        *) variants+=("$1"); shift ;;
    esac
done
[ ${#variants[@]} -gt 0 ] || variants=(base strip lto lto-s s)
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

# Median wall time in ms of `fink version` over 50 runs, after 5 warm-up runs.
time_version() {
    python3 - "$1" "$2" <<'EOF'
import os, statistics, subprocess, sys, time
fink, home = sys.argv[1], sys.argv[2]
env = {k: v for k, v in os.environ.items() if k not in ("FINK_PLUGIN_PATH", "XDG_CACHE_HOME")}
env["HOME"] = home
def run():
    start = time.perf_counter()
    subprocess.run([fink, "version"], env=env, cwd=home, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start
for _ in range(5):
    run()
print(f"{statistics.median(run() for _ in range(50)) * 1000:.1f}")
EOF
}

results="$work/results.txt"
: > "$results.new"
for variant in "${variants[@]}"; do
    profile "$variant" >/dev/null
    tree="$work/$variant/src"
    target="$work/$variant/target"
    out="$work/$variant/dist"
    rm -rf "$tree" "$out"
    git worktree prune
    git worktree add --quiet --detach "$tree" HEAD
    mkdir -p "$tree/.cargo"
    profile "$variant" > "$tree/.cargo/config.toml"
    start=$(date +%s)
    (cd "$tree" && CARGO_TARGET_DIR="$target" bash scripts/dist.sh --out "$out" >/dev/null)
    (cd "$tree" && CARGO_TARGET_DIR="$target" cargo build --quiet --locked --release -p fink-fixture-alpha)
    built=$(( $(date +%s) - start ))

    archive=$(ls "$out"/fink-*.tar.gz)
    unpacked="$work/$variant/unpacked"
    rm -rf "$unpacked" && mkdir -p "$unpacked/home"
    tar -xzf "$archive" -C "$unpacked"
    prefix=$(ls -d "$unpacked"/fink-*)
    fink="$prefix/bin/fink"
    "$fink" version | grep -q say-hello
    ms=$(time_version "$fink" "$unpacked/home")

    # A plugin that panics in its command must still be an error, not an abort.
    panics="$unpacked/panics" && mkdir -p "$panics" && chmod 0755 "$panics"
    install -m 0644 "$target/release/libfink_fixture_alpha.so" "$panics/"
    set +e
    said=$(cd "$unpacked/home" && HOME="$unpacked/home" FINK_FIXTURE_ALPHA_PANIC_AT=command \
        "$fink" --plugins-dir "$panics" demo nocfg 2>&1 >/dev/null)
    code=$?
    set -e
    if [ $code -eq 1 ] && grep -q "panicked: alpha panics in command nocfg" <<<"$said"; then unwind=yes; else unwind="NO (exit $code: $said)"; fi

    size() { stat -c %s "$1"; }
    mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
    plugins=0
    each=""
    for lib in "$prefix"/lib/fink/plugins/*.so; do
        plugins=$(( plugins + $(size "$lib") ))
        name=$(basename "$lib" .so); name=${name#libfink_plugin_}
        each="$each $name=$(mb "$(size "$lib")")"
    done
    line="$variant: archive $(mb "$(size "$archive")") MB, bin/fink $(mb "$(size "$fink")") MB, plugins $(mb $plugins) MB;$each; fink version $ms ms; unwinds: $unwind; build ${built}s"
    echo "$line" | tee -a "$results.new"
    git worktree remove --force "$tree"
done

# The comparison with base, when base was measured in this or an earlier run.
cat "$results.new" >> "$results"
rm "$results.new"
base=$(grep '^base:' "$results" | tail -n 1 || true)
if [ -n "$base" ]; then
    b_archive=$(sed -n 's/.*archive \([0-9.]*\) MB.*/\1/p' <<<"$base")
    b_ms=$(sed -n 's/.*fink version \([0-9.]*\) ms.*/\1/p' <<<"$base")
    echo "against base (archive $b_archive MB, fink version $b_ms ms):"
    for variant in "${variants[@]}"; do
        line=$(grep "^$variant:" "$results" | tail -n 1)
        a=$(sed -n 's/.*archive \([0-9.]*\) MB.*/\1/p' <<<"$line")
        ms=$(sed -n 's/.*fink version \([0-9.]*\) ms.*/\1/p' <<<"$line")
        awk -v v="$variant" -v a="$a" -v ba="$b_archive" -v m="$ms" -v bm="$b_ms" \
            'BEGIN { printf "  %-6s archive %+.1f%%, fink version %+.1f%%\n", v, (a - ba) / ba * 100, (m - bm) / bm * 100 }'
    done
fi
