//! The deterministic zip: entries sorted by their path in the zip, a fixed timestamp
//! (1980-01-01 00:00:00), permissions normalised to 0644 (0755 for executables), no directory
//! entries and no extra fields, so the same files always give the same bytes.
//!
//! Files are compressed in parallel: each one becomes a one-entry zip in memory on a rayon
//! thread, and those are merged in order into the output with `ZipWriter::merge_archive`, which
//! copies the compressed data as it is. Work goes in batches of at most [`BATCH_BYTES`] of input
//! so memory stays bounded; files above [`LARGE`] are streamed straight into the output instead.

use std::fs::File;
use std::io::{self, BufWriter, Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};

use fink_plugin_api::{Error, Result};
use flate2::write::DeflateEncoder;
use flate2::Compression;
use rayon::prelude::*;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

/// Deflate level 5 with zlib-rs: on the benchmark tree (code-like text plus half-random blobs) it
/// gives a zip no larger than `zip -r` at its default level 6 (96.3 vs 96.4 MB) in about 25% less
/// time than level 6 (whose zip is 1% smaller); level 4 is faster again but larger than `zip -r`,
/// and level 1 is 20% larger. See docs/bundler.md for the figures.
pub const LEVEL: i64 = 5;

/// A file is stored uncompressed when deflate leaves more than this share of its size
/// (already-compressed data: images, jars, wheels, ...).
pub const STORE_ABOVE: f64 = 0.95;

/// Input bytes compressed in parallel before their results are written out.
pub const BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// Files above this size are streamed into the output one at a time instead of held in memory.
pub const LARGE: u64 = 32 * 1024 * 1024;

/// How much of a large file is deflated to decide whether to store it.
const SAMPLE: usize = 1024 * 1024;

/// Where an entry's bytes come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// One file of the zip.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its path in the zip, `/`-separated, no leading slash.
    pub name: String,
    pub source: Source,
    /// Its size in bytes (used to plan batches).
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

    fn describe(&self) -> String {
        match &self.source {
            Source::File(path) => path.display().to_string(),
            Source::Bytes(_) => self.name.clone(),
        }
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

/// Writes `entries` as a deterministic zip to `out`; returns `out` and the number of entries.
/// Two entries with the same name are an error.
pub fn write<W: Write + Seek>(mut entries: Vec<Entry>, out: W) -> Result<(W, usize)> {
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = entries.windows(2).find(|pair| pair[0].name == pair[1].name) {
        return Err(Error::new(format!("two files would be {} in the zip", pair[0].name)));
    }
    let mut zip = ZipWriter::new(out);
    let mut start = 0;
    while start < entries.len() {
        if let Some(path) = streamed(&entries[start]) {
            stream(&mut zip, &entries[start], path)?;
            start += 1;
            continue;
        }
        let mut end = start;
        let mut bytes = 0;
        while end < entries.len()
            && streamed(&entries[end]).is_none()
            && (end == start || bytes + entries[end].size <= BATCH_BYTES)
        {
            bytes += entries[end].size;
            end += 1;
        }
        let parts: Vec<Result<ZipArchive<Cursor<Vec<u8>>>>> = entries[start..end].par_iter().map(compress).collect();
        for (part, entry) in parts.into_iter().zip(&entries[start..end]) {
            zip.merge_archive(part?).map_err(|e| zip_error(entry, e))?;
        }
        start = end;
    }
    let out = zip.finish().map_err(|e| Error::new(format!("cannot finish the zip: {e}")))?;
    Ok((out, entries.len()))
}

/// The file to stream when `entry` is too large to hold in memory.
fn streamed(entry: &Entry) -> Option<&Path> {
    match &entry.source {
        Source::File(path) if entry.size > LARGE => Some(path),
        _ => None,
    }
}

/// Writes the zip to `output` through a temporary file in the same folder, so a failure leaves no
/// half-written zip; returns the number of entries.
pub fn write_file(entries: Vec<Entry>, output: &Path) -> Result<usize> {
    let dir = output.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let cannot = |e: io::Error| Error::new(format!("cannot write {}: {e}", output.display()));
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let temp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir).map_err(cannot)?;
    let file = temp.as_file().try_clone().map_err(cannot)?;
    let (out, files) = write(entries, BufWriter::with_capacity(1024 * 1024, file))?;
    out.into_inner().map_err(|e| cannot(e.into_error()))?.sync_all().map_err(cannot)?;
    #[cfg(unix)]
    {
        // tempfile creates 0600; a zip is an ordinary file.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644)).map_err(cannot)?;
    }
    temp.persist(output).map_err(|e| cannot(e.error))?;
    Ok(files)
}

/// Whether `name` is a temporary file [`write_file`] creates for the zip `zip_name`.
pub fn is_temp_of(name: &str, zip_name: &str) -> bool {
    name.starts_with(&format!(".{zip_name}.")) && name.ends_with(".tmp")
}

fn options(entry: &Entry, method: CompressionMethod) -> SimpleFileOptions {
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(DateTime::default())
        .unix_permissions(if entry.executable { 0o755 } else { 0o644 })
        .large_file(entry.size >= u64::from(u32::MAX));
    match method {
        CompressionMethod::Deflated => options.compression_level(Some(LEVEL)),
        _ => options.compression_level(None),
    }
}

/// One entry as a one-entry zip in memory: deflated, or stored when deflate does not pay.
fn compress(entry: &Entry) -> Result<ZipArchive<Cursor<Vec<u8>>>> {
    let read;
    let data: &[u8] = match &entry.source {
        Source::Bytes(bytes) => bytes,
        Source::File(path) => {
            read = std::fs::read(path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
            &read
        }
    };
    if !data.is_empty() {
        let mut archive = single(entry, data, CompressionMethod::Deflated)?;
        let compressed = archive.by_index_raw(0).map_err(|e| zip_error(entry, e))?.compressed_size();
        if compressed as f64 <= data.len() as f64 * STORE_ABOVE {
            return Ok(archive);
        }
    }
    single(entry, data, CompressionMethod::Stored)
}

fn single(entry: &Entry, data: &[u8], method: CompressionMethod) -> Result<ZipArchive<Cursor<Vec<u8>>>> {
    let capacity = if method == CompressionMethod::Stored { data.len() } else { data.len() / 3 };
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity + entry.name.len() * 2 + 128)));
    zip.start_file(entry.name.as_str(), options(entry, method)).map_err(|e| zip_error(entry, e))?;
    zip.write_all(data).map_err(|e| Error::new(format!("cannot compress {}: {e}", entry.describe())))?;
    zip.finish_into_readable().map_err(|e| zip_error(entry, e))
}

/// A large file straight into the output: deflated unless its first MB does not compress.
fn stream<W: Write + Seek>(zip: &mut ZipWriter<W>, entry: &Entry, path: &Path) -> Result<()> {
    let cannot = |e: io::Error| Error::new(format!("cannot read {}: {e}", path.display()));
    let mut file = File::open(path).map_err(cannot)?;
    let mut sample = Vec::with_capacity(SAMPLE);
    (&mut file).take(SAMPLE as u64).read_to_end(&mut sample).map_err(cannot)?;
    let method = if compresses(&sample) { CompressionMethod::Deflated } else { CompressionMethod::Stored };
    zip.start_file(entry.name.as_str(), options(entry, method)).map_err(|e| zip_error(entry, e))?;
    zip.write_all(&sample).map_err(cannot)?;
    io::copy(&mut file, zip).map_err(cannot)?;
    Ok(())
}

/// Whether deflating `sample` leaves at most [`STORE_ABOVE`] of its size.
fn compresses(sample: &[u8]) -> bool {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(sample.len()), Compression::new(LEVEL as u32));
    match encoder.write_all(sample).and_then(|_| encoder.finish()) {
        Ok(out) => (out.len() as f64) <= sample.len() as f64 * STORE_ABOVE,
        Err(_) => true,
    }
}

fn zip_error(entry: &Entry, err: zip::result::ZipError) -> Error {
    Error::new(format!("cannot add {} to the zip: {err}", entry.describe()))
}

#[cfg(test)]
mod tests {
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
    fn large_files_are_streamed_and_read_back_intact() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        let mut content = b"compressible line\n".repeat((LARGE as usize / 18) + 10);
        content.extend(noise(1000, 5));
        std::fs::write(&big, &content).unwrap();
        let small = Entry::bytes("a.txt", b"small".to_vec());
        let bytes = zip_bytes(vec![Entry::file("big.bin", &big).unwrap(), small]);
        let mut archive = ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
        let mut read = Vec::new();
        archive.by_name("big.bin").unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read, content);
        assert_eq!(archive.by_name("big.bin").unwrap().compression(), CompressionMethod::Deflated);
        assert_eq!(
            bytes,
            zip_bytes(vec![Entry::file("big.bin", &big).unwrap(), Entry::bytes("a.txt", b"small".to_vec())])
        );
    }

    #[test]
    fn many_files_across_batches_keep_their_content_and_order() {
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
        assert_eq!(err.message(), "two files would be a in the zip");
    }

    #[test]
    fn write_file_replaces_the_zip_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("bundle.zip");
        std::fs::write(&output, "old").unwrap();
        assert_eq!(write_file(vec![Entry::bytes("a", b"x".to_vec())], &output).unwrap(), 1);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["bundle.zip"]);
        assert!(ZipArchive::new(File::open(&output).unwrap()).is_ok());
        assert!(is_temp_of(".bundle.zip.abc123.tmp", "bundle.zip"));
        assert!(!is_temp_of("bundle.zip", "bundle.zip"));
    }
}
