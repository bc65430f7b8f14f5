//! The deterministic archive: entries sorted by their path in the archive, a fixed timestamp
//! (1980-01-01 00:00:00), permissions normalised to 0644 (0755 for executables), no directory
//! entries and no extra fields, so the same files always give the same bytes.
//!
//! [`sorted`] orders and checks the entries; [`pipeline`] compresses them in parallel in a bounded
//! window and writes them in that order, streaming large files, so memory does not grow with the
//! bundle; [`zip_format`] is the zip it writes. Another format (a tar.gz for CodeDeploy) only needs
//! its own [`pipeline::Format`]: the collection, the order and the memory bound are shared.
//! [`tar_gz`] (CodeDeploy's `tgz`) is one gzip stream, so it streams the sorted entries itself.
//! [`write_file`] writes through a temporary file and renames it, so a failure never leaves a
//! half-written archive; the archive is readable by its owner only (0600), as it may hold secrets.

pub mod pipeline;
pub mod tar_gz;
pub mod zip_format;

use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fink_plugin_api::payload::ArchiveFormat;
use fink_plugin_api::{debug, Error, Result};
use sha2::{Digest, Sha256};

pub use pipeline::{Limits, Stats};
use zip_format::ZipFormat;

/// libdeflate's level, for files from [`SMALL`] bytes up to the large ones (4 MB): on such files it
/// is about 25% faster than zlib-rs at level 5 (the level before) and 0.3-0.5% smaller; its level
/// 5 is faster again but 0.6% larger. See docs/bundler.md for the figures.
pub const LEVEL: i32 = 6;

/// Files below this size are deflated by zlib-rs instead: on small inputs libdeflate's output is
/// 0.5-1% larger than zlib's (measured on source files of 1-16 KB), at about the same speed.
pub const SMALL: usize = 32 * 1024;

/// zlib-rs's level, for the small files and for the large ones, which are deflated as they are
/// read (libdeflate needs the whole input in memory).
pub const ZLIB_LEVEL: u32 = 5;

/// A file is stored uncompressed when deflate leaves more than this share of its size
/// (already-compressed data: images, jars, wheels, ...).
pub const STORE_ABOVE: f64 = 0.95;

/// Where an entry's bytes come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its path in the archive, `/`-separated, no leading slash.
    pub name: String,
    pub source: Source,
    /// Its size in bytes (decides streaming and fills the window).
    pub size: u64,
    /// Stored with mode 0755 instead of 0644.
    pub executable: bool,
}

impl Entry {
    /// An entry for a file on disk, with its size and executable bit read from the file.
    pub fn file(name: impl Into<String>, path: impl Into<PathBuf>) -> Result<Entry> {
        let path = path.into();
        let meta = std::fs::metadata(&path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
        Ok(Entry { name: name.into(), size: meta.len(), executable: is_executable(&meta), source: Source::File(path) })
    }

    /// An entry with the given content.
    pub fn bytes(name: impl Into<String>, bytes: Vec<u8>) -> Entry {
        Entry { name: name.into(), size: bytes.len() as u64, executable: false, source: Source::Bytes(bytes) }
    }
}

/// Whether the owner, group or others may execute the file.
pub fn is_executable(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// `entries` in archive order (by name); two entries with the same name are an error.
pub fn sorted(mut entries: Vec<Entry>) -> Result<Vec<Entry>> {
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = entries.windows(2).find(|pair| pair[0].name == pair[1].name) {
        return Err(Error::new(format!("two files would be {} in the archive", pair[0].name)));
    }
    Ok(entries)
}

/// Writes `entries` as a deterministic zip to `out`; returns `out` and the number of entries.
/// Two entries with the same name are an error. Large files are spooled in the system's
/// temporary folder.
pub fn write<W: Write + Seek>(entries: Vec<Entry>, out: W) -> Result<(W, usize)> {
    let (out, stats) = write_with(entries, out, Limits::default(), &std::env::temp_dir())?;
    Ok((out, stats.entries))
}

/// [`write`] within the given memory limits, spooling large files in `spool_dir`. The bytes depend
/// neither on the window nor on the number of threads; files above `limits.large` are deflated as
/// they are read (by zlib-rs, not libdeflate) and decide between deflate and store from their
/// first MB, so that limit is fixed in the product ([`Limits::default`]).
pub fn write_with<W: Write + Seek>(
    entries: Vec<Entry>,
    out: W,
    limits: Limits,
    spool_dir: &Path,
) -> Result<(W, Stats)> {
    let entries: Arc<[Entry]> = sorted(entries)?.into();
    let mut zip = ZipFormat::new(out, entries.len())?;
    let stats = pipeline::run(&mut zip, Arc::clone(&entries), limits, spool_dir)?;
    debug!(
        "zipped {} files ({} spooled to disk), at most {:.1} MB of input in the window",
        stats.entries,
        stats.spooled,
        stats.peak_window as f64 / (1024.0 * 1024.0)
    );
    Ok((zip.finish(&entries)?, stats))
}

/// What [`write_file`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Files in the archive.
    pub files: usize,
    /// The archive's size in bytes.
    pub size: u64,
    /// The archive's SHA-256, hashed as it was written (no second pass over the file).
    pub sha256: [u8; 32],
}

/// Writes the archive to `output` through a temporary file in the same folder, so a failure
/// leaves no half-written archive; a zip's large files are spooled in that folder too.
pub fn write_file(entries: Vec<Entry>, output: &Path, format: ArchiveFormat) -> Result<Written> {
    let started = std::time::Instant::now();
    let written = atomic(output, |file, dir| match format {
        ArchiveFormat::Zip => {
            let (file, stats) = write_with(entries, file, Limits::default(), dir)?;
            Ok((file, stats.entries))
        }
        ArchiveFormat::Tgz => tar_gz::write(&sorted(entries)?, file),
    })?;
    debug!("wrote {} ({} bytes) in {:.2} s", output.display(), written.size, started.elapsed().as_secs_f64());
    Ok(written)
}

/// The temporary file, buffered, hashing what goes through it.
type Buffered = Hashing<BufWriter<std::fs::File>>;

/// Hashes and counts the bytes written through it. Its only seek is asking where it stands.
pub struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Hashing<W> {
        Hashing { inner, hasher: Sha256::new(), written: 0 }
    }

    /// The inner writer, the number of bytes written and their SHA-256.
    pub fn finish(self) -> (W, u64, [u8; 32]) {
        (self.inner, self.written, self.hasher.finalize().into())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Seek for Hashing<W> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        match pos {
            io::SeekFrom::Current(0) => Ok(self.written),
            _ => Err(io::Error::new(io::ErrorKind::Unsupported, "the archive is written front to back")),
        }
    }
}

/// Runs `write` on a buffered, hashing temporary file next to `output` (and that folder), then
/// renames the file to `output`.
fn atomic(output: &Path, write: impl FnOnce(Buffered, &Path) -> Result<(Buffered, usize)>) -> Result<Written> {
    let dir = output.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let cannot = |e: io::Error| Error::new(format!("cannot write {}: {e}", output.display()));
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let temp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir).map_err(cannot)?;
    let file = temp.as_file().try_clone().map_err(cannot)?;
    let (out, files) = write(Hashing::new(BufWriter::with_capacity(256 * 1024, file)), dir)?;
    let (out, size, sha256) = out.finish();
    out.into_inner().map_err(|e| cannot(e.into_error()))?.sync_all().map_err(cannot)?;
    #[cfg(unix)]
    {
        // tempfile creates 0600 whatever the umask; said here because a bundle's settings.json
        // may hold looked-up secrets, so it stays the owner's only.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o600)).map_err(cannot)?;
    }
    temp.persist(output).map_err(|e| cannot(e.error))?;
    Ok(Written { files, size, sha256 })
}

/// Whether `name` is a temporary file [`write_file`] creates for the zip `zip_name`.
pub fn is_temp_of(name: &str, zip_name: &str) -> bool {
    name.starts_with(&format!(".{zip_name}.")) && name.ends_with(".tmp")
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::{Cursor, Read};

    use zip::{CompressionMethod, DateTime, ZipArchive};

    use super::*;

    /// Deterministic bytes that deflate cannot shrink.
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    fn zip_bytes(entries: Vec<Entry>) -> Vec<u8> {
        write(entries, Cursor::new(Vec::new())).unwrap().0.into_inner()
    }

    fn names_and_methods(bytes: &[u8]) -> Vec<(String, CompressionMethod, Option<u32>)> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let file = archive.by_index(i).unwrap();
                (file.name().to_string(), file.compression(), file.unix_mode())
            })
            .collect()
    }

    #[test]
    fn same_entries_in_any_order_give_the_same_bytes() {
        let entries = vec![
            Entry::bytes("b/two.txt", b"two two two two two two".to_vec()),
            Entry::bytes("a.txt", b"one".repeat(100)),
            Entry::bytes("c.bin", noise(5000, 7)),
        ];
        let mut reversed = entries.clone();
        reversed.reverse();
        let first = zip_bytes(entries);
        assert_eq!(first, zip_bytes(reversed));
        let names: Vec<String> = names_and_methods(&first).into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names, vec!["a.txt", "b/two.txt", "c.bin"]);
    }

    #[test]
    fn files_on_disk_give_the_same_bytes_after_being_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "hello ".repeat(50)).unwrap();
        let first = zip_bytes(vec![Entry::file("a.txt", &path).unwrap()]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(&path, "hello ".repeat(50)).unwrap();
        assert_eq!(first, zip_bytes(vec![Entry::file("a.txt", &path).unwrap()]));
        let mut archive = ZipArchive::new(Cursor::new(first)).unwrap();
        let file = archive.by_index(0).unwrap();
        assert_eq!(file.last_modified(), Some(DateTime::default()));
        assert!(file.extra_data().is_none_or(|e| e.is_empty()));
    }

    #[test]
    fn incompressible_and_empty_files_are_stored_the_rest_deflated() {
        let bytes = zip_bytes(vec![
            Entry::bytes("noise", noise(10_000, 3)),
            Entry::bytes("text", b"abc ".repeat(1000)),
            Entry::bytes("empty", Vec::new()),
        ]);
        let methods: Vec<CompressionMethod> = names_and_methods(&bytes).into_iter().map(|(_, m, _)| m).collect();
        assert_eq!(methods, vec![CompressionMethod::Stored, CompressionMethod::Stored, CompressionMethod::Deflated]);
    }

    #[cfg(unix)]
    #[test]
    fn executables_get_0755_everything_else_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        let data = dir.path().join("data.txt");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::write(&data, "x").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o600)).unwrap();
        let bytes = zip_bytes(vec![Entry::file("run.sh", &script).unwrap(), Entry::file("data.txt", &data).unwrap()]);
        let modes: Vec<u32> = names_and_methods(&bytes).into_iter().map(|(_, _, m)| m.unwrap() & 0o777).collect();
        assert_eq!(modes, vec![0o644, 0o755]);
    }

    #[test]
    fn large_files_are_spooled_and_read_back_intact() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        let mut content = b"compressible line\n".repeat((pipeline::LARGE as usize / 18) + 10);
        content.extend(noise(1000, 5));
        std::fs::write(&big, &content).unwrap();
        let entries = || vec![Entry::file("big.bin", &big).unwrap(), Entry::bytes("a.txt", b"small".to_vec())];
        let (out, stats) = write_with(entries(), Cursor::new(Vec::new()), Limits::default(), dir.path()).unwrap();
        assert_eq!((stats.entries, stats.spooled), (2, 1));
        let bytes = out.into_inner();
        let mut archive = ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
        let mut read = Vec::new();
        archive.by_name("big.bin").unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read, content);
        assert_eq!(archive.by_name("big.bin").unwrap().compression(), CompressionMethod::Deflated);
        assert_eq!(bytes, zip_bytes(entries()));
    }

    /// Every file's name, method and content.
    fn contents(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut content = Vec::new();
                file.read_to_end(&mut content).unwrap();
                (file.name().to_string(), content)
            })
            .collect()
    }

    /// Files of `sizes` on disk: text, with every third one random.
    fn files_on_disk(dir: &Path, sizes: &[usize]) -> Vec<Entry> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let path = dir.join(format!("f{i}"));
                let content = if i % 3 == 2 {
                    noise(size, i as u64 + 1)
                } else {
                    format!("line {i} of some text\n").repeat(size / 20 + 1).as_bytes()[..size].to_vec()
                };
                std::fs::write(&path, content).unwrap();
                Entry::file(format!("d/{i:03}"), path).unwrap()
            })
            .collect()
    }

    #[test]
    fn the_memory_limits_bound_the_window_and_do_not_change_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let sizes: Vec<usize> = (0..120).map(|i| (i * 7919) % 40_000).collect();
        let entries = files_on_disk(dir.path(), &sizes);
        let default = zip_bytes(entries.clone());
        let small = Limits { window: 100_000, large: 50_000, ..Limits::default() };
        let (out, stats) = write_with(entries.clone(), Cursor::new(Vec::new()), small, dir.path()).unwrap();
        assert_eq!(out.into_inner(), default, "a smaller window gives the same zip");
        assert!(stats.peak_window <= small.window, "{stats:?}");
        assert_eq!((stats.entries, stats.spooled), (120, 0));
        // Spooled instead: deflated as they are read by zlib-rs rather than whole by libdeflate, so
        // other bytes, but the same files, and the same bytes again with the same limits.
        let tiny = Limits { window: 100_000, large: 1000, ..Limits::default() };
        let (out, stats) = write_with(entries.clone(), Cursor::new(Vec::new()), tiny, dir.path()).unwrap();
        assert!(stats.spooled > 100, "{stats:?}");
        assert!(stats.peak_window <= tiny.window, "{stats:?}");
        let spooled = out.into_inner();
        assert_eq!(contents(&spooled), contents(&default), "spooling keeps every file");
        let (again, _) = write_with(entries, Cursor::new(Vec::new()), tiny, dir.path()).unwrap();
        assert_eq!(again.into_inner(), spooled);
    }

    /// Text with a random MB every fourth MB: compresses, but not evenly.
    fn big_content(len: usize) -> Vec<u8> {
        let mut content = Vec::with_capacity(len);
        let mut mb = 0;
        while content.len() < len {
            let chunk = if mb % 4 == 3 {
                noise(1 << 20, mb as u64 + 11)
            } else {
                format!("line {mb} of a big file\n").repeat((1 << 20) / 20 + 1).into_bytes()
            };
            content.extend_from_slice(&chunk[..chunk.len().min(len - content.len())]);
            mb += 1;
        }
        content
    }

    #[test]
    fn one_two_and_four_threads_write_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let sizes: Vec<usize> = (0..90).map(|i| (i * 7919) % 60_000).collect();
        let mut entries = files_on_disk(dir.path(), &sizes);
        let big = dir.path().join("big.bin");
        std::fs::write(&big, big_content(600_000)).unwrap();
        entries.push(Entry::file("big.bin", &big).unwrap());
        entries.push(Entry::bytes("settings.json", b"{}\n".to_vec()));
        // A small window and large limit, so entries finish out of order and one is streamed.
        let zip = |threads| {
            let limits = Limits { window: 200_000, large: 100_000, threads };
            let (out, stats) = write_with(entries.clone(), Cursor::new(Vec::new()), limits, dir.path()).unwrap();
            assert_eq!((stats.entries, stats.spooled), (92, 1), "{threads} threads");
            out.into_inner()
        };
        let one = zip(1);
        assert_eq!(one, zip(2), "2 threads");
        assert_eq!(one, zip(4), "4 threads");
        let mut archive = ZipArchive::new(Cursor::new(one)).unwrap();
        let mut read = Vec::new();
        archive.by_name("big.bin").unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read, std::fs::read(&big).unwrap());
    }

    #[test]
    fn a_file_larger_than_the_window_is_streamed_through_bounded_buffers() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        let content = big_content(8 << 20);
        std::fs::write(&big, &content).unwrap();
        let mut entries = files_on_disk(dir.path(), &[5000, 70_000, 300]);
        entries.push(Entry::file("big.bin", &big).unwrap());
        let limits = Limits { window: 1 << 20, large: 512 << 10, threads: 2 };
        let (out, stats) = write_with(entries, Cursor::new(Vec::new()), limits, dir.path()).unwrap();
        assert_eq!((stats.entries, stats.spooled), (4, 1));
        // The big file's only buffer is its read buffer (zlib-rs's own state, a few hundred KB, is
        // not counted); the small files hold at most the window.
        let bound = zip_format::STREAM_BUFFER as u64 + limits.window;
        assert!(stats.peak_held > 0 && stats.peak_held <= bound, "{stats:?}, bound {bound}");
        assert!((content.len() as u64) > 2 * bound, "the file is larger than what is held");
        let mut archive = ZipArchive::new(Cursor::new(out.into_inner())).unwrap();
        let mut read = Vec::new();
        let mut file = archive.by_name("big.bin").unwrap();
        assert_eq!(file.compression(), CompressionMethod::Deflated);
        file.read_to_end(&mut read).unwrap();
        assert!(read == content, "the streamed file reads back intact");
    }

    #[test]
    fn a_large_file_that_does_not_compress_is_stored_after_its_first_mb() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.bin");
        let content = noise(zip_format::SAMPLE + 300_000, 9);
        std::fs::write(&path, &content).unwrap();
        let limits = Limits { window: 1 << 20, large: 64 << 10, threads: 2 };
        let entries = vec![Entry::file("random.bin", &path).unwrap()];
        let (out, stats) = write_with(entries, Cursor::new(Vec::new()), limits, dir.path()).unwrap();
        assert_eq!(stats.spooled, 1);
        let mut archive = ZipArchive::new(Cursor::new(out.into_inner())).unwrap();
        let mut file = archive.by_name("random.bin").unwrap();
        assert_eq!(file.compression(), CompressionMethod::Stored);
        let mut read = Vec::new();
        file.read_to_end(&mut read).unwrap();
        assert!(read == content, "read again from the start and stored whole");
    }

    #[test]
    fn offsets_above_4_gib_get_zip64_records() {
        // A sparse file: the zip starts 4.5 GiB in, so its offsets need ZIP64 fields.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("far.zip");
        let mut file = File::create(&path).unwrap();
        file.seek(io::SeekFrom::Start(9 << 29)).unwrap();
        let entries = vec![Entry::bytes("a.txt", b"first ".repeat(100)), Entry::bytes("b.txt", b"second".to_vec())];
        write(entries, file).unwrap();
        let mut archive = ZipArchive::new(File::open(&path).unwrap()).unwrap();
        let mut text = String::new();
        archive.by_name("b.txt").unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "second");
        assert_eq!(archive.by_name("a.txt").unwrap().size(), 600);
    }

    #[cfg(unix)]
    #[test]
    fn unzip_reads_the_zip_when_it_is_installed() {
        let Ok(status) = std::process::Command::new("unzip").arg("-v").output() else { return };
        assert!(status.status.success());
        let dir = tempfile::tempdir().unwrap();
        let mut entries = files_on_disk(dir.path(), &[0, 100, 20_000, 3000]);
        entries.push(Entry::bytes("é/ü.txt", b"unicode name".to_vec()));
        let output = dir.path().join("out.zip");
        write_file(entries, &output, ArchiveFormat::Zip).unwrap();
        let test = std::process::Command::new("unzip").arg("-t").arg(&output).output().unwrap();
        let text = String::from_utf8_lossy(&test.stdout);
        assert!(test.status.success() && text.contains("No errors detected"), "{text}");
    }

    #[test]
    fn a_file_that_cannot_be_read_is_named_and_no_zip_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let mut entries = files_on_disk(dir.path(), &[100, 200, 300]);
        std::fs::remove_file(dir.path().join("f1")).unwrap();
        entries.push(Entry::bytes("z", b"z".to_vec()));
        let output = dir.path().join("out/bundle.zip");
        let err = write_file(entries, &output, ArchiveFormat::Zip).unwrap_err();
        assert!(err.message().starts_with("cannot read ") && err.message().contains("f1"), "{}", err.message());
        assert_eq!(std::fs::read_dir(dir.path().join("out")).unwrap().count(), 0, "no zip, no temp file");
    }

    #[test]
    fn many_files_across_windows_keep_their_content_and_order() {
        let entries: Vec<Entry> = (0..500)
            .map(|i| Entry::bytes(format!("f/{i:04}.txt"), format!("file {i} ").repeat(i % 50).into_bytes()))
            .collect();
        let bytes = zip_bytes(entries);
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 500);
        let mut text = String::new();
        archive.by_index(42).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(archive.by_index(42).unwrap().name(), "f/0042.txt");
        assert_eq!(text, "file 42 ".repeat(42));
    }

    #[test]
    fn the_same_name_twice_is_an_error() {
        let err =
            write(vec![Entry::bytes("a", vec![1]), Entry::bytes("a", vec![2])], Cursor::new(Vec::new())).unwrap_err();
        assert_eq!(err.message(), "two files would be a in the archive");
    }

    #[test]
    fn write_file_replaces_the_zip_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("bundle.zip");
        std::fs::write(&output, "old").unwrap();
        let written = write_file(vec![Entry::bytes("a", b"x".to_vec())], &output, ArchiveFormat::Zip).unwrap();
        let bytes = std::fs::read(&output).unwrap();
        assert_eq!(written.files, 1);
        assert_eq!(written.size, bytes.len() as u64);
        assert_eq!(written.sha256, <[u8; 32]>::from(Sha256::digest(&bytes)), "hashed as written");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["bundle.zip"]);
        assert!(ZipArchive::new(File::open(&output).unwrap()).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&output).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "readable by its owner only: settings.json may hold secrets");
        }
        assert!(is_temp_of(".bundle.zip.abc123.tmp", "bundle.zip"));
        assert!(!is_temp_of("bundle.zip", "bundle.zip"));
    }
}
