#!/usr/bin/env bash
# Builds fink and its bundled plugins and installs them as
#   <prefix>/bin/fink
#   <prefix>/lib/fink/plugins/*.so   (the bundled plugin folder fink searches last)
# Usage: scripts/install.sh [--prefix DIR] [--debug]     (default prefix: ~/.local)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="$HOME/.local"
profile=release
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --debug) profile=debug; shift ;;
        *) echo "usage: $0 [--prefix DIR] [--debug]" >&2; exit 2 ;;
    esac
done

# Every crate under plugins/ is a bundled plugin.
packages=(-p fink)
for manifest in plugins/*/Cargo.toml; do
    packages+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)")
done

flags=()
[ "$profile" = release ] && flags+=(--release)
cargo build --locked "${flags[@]}" "${packages[@]}"

target="${CARGO_TARGET_DIR:-target}/$profile"
case "$(uname -s)" in Darwin) ext=dylib ;; *) ext=so ;; esac
# fink refuses a plugins folder or file that group or others may write: the modes are set here,
# whatever the umask (often 002).
mkdir -p "$prefix/bin" "$prefix/lib/fink/plugins"
chmod 0755 "$prefix/lib/fink/plugins"
install -m 0755 "$target/fink" "$prefix/bin/fink"
for lib in "$target"/libfink_plugin_*."$ext"; do
    install -m 0644 "$lib" "$prefix/lib/fink/plugins/"
done
echo "installed $prefix/bin/fink with plugins in $prefix/lib/fink/plugins:"
ls "$prefix/lib/fink/plugins"
