#!/usr/bin/env bash
# Builds fink and its bundled plugins and installs them as
#   <prefix>/bin/fink
#   <prefix>/lib/fink/plugins/*.so   (the bundled plugin folder fink searches last)
#   <prefix>/bin/<tool> -> fink      for each bundled tool and its old names (cloud, kumo, ...),
#                                    so `cloud deploy -e dev` works as the fink guide writes it
# Usage: scripts/install.sh [--prefix DIR] [--debug] [--no-links]     (default prefix: ~/.local)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="$HOME/.local"
profile=release
links=yes
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --debug) profile=debug; shift ;;
        --no-links) links=no; shift ;;
        *) echo "usage: $0 [--prefix DIR] [--debug] [--no-links]" >&2; exit 2 ;;
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

# Links named after the tools: `fink version` lists each tool as `  cloud (plugin cloud 0.1.0; also kumo)`.
if [ "$links" = yes ]; then
    names=$("$prefix/bin/fink" version | sed -n 's/^  \([a-z0-9-]*\) (plugin [^;)]*\(; also \(.*\)\)\{0,1\})$/\1 \3/p' | tr ', ' '  ')
    made=()
    for name in $names; do
        link="$prefix/bin/$name"
        # Never replace a program of that name; an earlier link of ours is refreshed.
        if [ -e "$link" ] && [ ! -L "$link" ]; then
            echo "not linking $link: a file of that name exists" >&2
            continue
        fi
        ln -sfn fink "$link"
        made+=("$name")
    done
    echo "linked ${made[*]} to $prefix/bin/fink (skip with --no-links)"
    for name in "${made[@]}"; do
        found=$(command -v "$name" 2>/dev/null || true)
        if [ -n "$found" ] && [ "$found" != "$prefix/bin/$name" ]; then
            echo "note: $name on your PATH is $found, not the link" >&2
        fi
    done
fi
