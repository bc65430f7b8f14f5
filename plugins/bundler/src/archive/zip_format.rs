//! The zip format of the pipeline: each entry is prepared as a one-entry zip (deflated, or stored
//! when deflate does not pay), in memory or for a large file in a spooled temporary file, and
//! copied as it is into the output with `ZipWriter::merge_archive`. The prepared zip and the
//! output are written by the same `ZipWriter` code, so where a part was prepared does not show.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

use fink_plugin_api::{Error, Result};
use flate2::write::DeflateEncoder;
use flate2::Compression;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::pipeline::{Format, Spool, Workspace};
use super::{Entry, Source, LEVEL, STORE_ABOVE};

/// How much of a streamed file is deflated to decide whether to store it.
const SAMPLE: usize = 1024 * 1024;

/// A zip being written to `W`.
pub struct ZipFormat<W: Write + Seek> {
    zip: ZipWriter<W>,
}

impl<W: Write + Seek> ZipFormat<W> {
    pub fn new(out: W) -> ZipFormat<W> {
        ZipFormat { zip: ZipWriter::new(out) }
    }

    /// Writes the central directory; returns the output.
    pub fn finish(self) -> Result<W> {
        self.zip.finish().map_err(|e| Error::new(format!("cannot finish the zip: {e}")))
    }
}

impl<W: Write + Seek> Format for ZipFormat<W> {
    type Part = ZipArchive<Spool>;

    fn prepare(entry: &Entry, workspace: &Workspace) -> Result<Self::Part> {
        match &entry.source {
            Source::File(path) if workspace.is_large(entry) => stream(entry, path, workspace),
            _ => compress(entry, workspace),
        }
    }

    fn write_part(&mut self, entry: &Entry, part: Self::Part) -> Result<()> {
        self.zip.merge_archive(part).map_err(|e| zip_error(entry, e))
    }
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

/// An entry held in memory as a one-entry zip: deflated, or stored when deflate does not pay.
fn compress(entry: &Entry, workspace: &Workspace) -> Result<ZipArchive<Spool>> {
    let read;
    let data: &[u8] = match &entry.source {
        Source::Bytes(bytes) => bytes,
        Source::File(path) => {
            read = std::fs::read(path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
            &read
        }
    };
    if !data.is_empty() {
        let mut archive = single(entry, data, CompressionMethod::Deflated, workspace)?;
        let compressed = archive.by_index_raw(0).map_err(|e| zip_error(entry, e))?.compressed_size();
        if compressed as f64 <= data.len() as f64 * STORE_ABOVE {
            return Ok(archive);
        }
    }
    single(entry, data, CompressionMethod::Stored, workspace)
}

fn single(entry: &Entry, data: &[u8], method: CompressionMethod, workspace: &Workspace) -> Result<ZipArchive<Spool>> {
    let capacity = if method == CompressionMethod::Stored { data.len() } else { data.len() / 3 };
    let mut zip = ZipWriter::new(workspace.spool(entry, capacity + entry.name.len() * 2 + 128)?);
    zip.start_file(entry.name.as_str(), options(entry, method)).map_err(|e| zip_error(entry, e))?;
    zip.write_all(data).map_err(|e| Error::new(format!("cannot compress {}: {e}", entry.describe())))?;
    zip.finish_into_readable().map_err(|e| zip_error(entry, e))
}

/// A large file, read as it goes into a one-entry zip in a spooled temporary file: deflated
/// unless its first MB does not compress.
fn stream(entry: &Entry, path: &Path, workspace: &Workspace) -> Result<ZipArchive<Spool>> {
    let cannot = |e: io::Error| Error::new(format!("cannot read {}: {e}", path.display()));
    let mut file = File::open(path).map_err(cannot)?;
    let mut sample = Vec::with_capacity(SAMPLE);
    (&mut file).take(SAMPLE as u64).read_to_end(&mut sample).map_err(cannot)?;
    let method = if compresses(&sample) { CompressionMethod::Deflated } else { CompressionMethod::Stored };
    let mut zip = ZipWriter::new(workspace.spool(entry, 0)?);
    zip.start_file(entry.name.as_str(), options(entry, method)).map_err(|e| zip_error(entry, e))?;
    zip.write_all(&sample).map_err(|e| spool_error(workspace, e))?;
    drop(sample);
    copy(&mut file, &mut zip).map_err(|e| match e {
        Copy::Read(e) => cannot(e),
        Copy::Write(e) => spool_error(workspace, e),
    })?;
    zip.finish_into_readable().map_err(|e| zip_error(entry, e))
}

enum Copy {
    Read(io::Error),
    Write(io::Error),
}

/// `io::copy` that tells a read error from a write error.
fn copy(from: &mut impl Read, to: &mut impl Write) -> std::result::Result<(), Copy> {
    let mut buf = vec![0; 256 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(Copy::Write)?;
    }
}

fn spool_error(workspace: &Workspace, err: io::Error) -> Error {
    Error::new(format!("cannot write a temporary file in {}: {err}", workspace.spool_dir.display()))
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
