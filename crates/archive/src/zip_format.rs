//! The zip format of the pipeline. Each entry is prepared on a worker thread into a [`ZipPart`]:
//! its CRC-32 and its data, deflated whole in memory (a file of at most [`Limits::large`] bytes:
//! by libdeflate, or by zlib-rs below [`SMALL`] bytes) or by zlib-rs as it is read (a larger file,
//! spooled to an unlinked temporary file), or stored when deflate does not pay. The writer then appends a local header
//! and the data, and keeps the entry's central directory record for [`ZipFormat::finish`].
//!
//! The headers are written here rather than by the `zip` crate, so that a prepared part is copied
//! once and never parsed again, and so that nothing varies: no extra fields (ZIP64 ones only
//! when a size or an offset needs them), the DOS time 1980-01-01 00:00:00, Unix modes, the
//! UTF-8 flag only for names that are not ASCII.
//!
//! [`Limits::large`]: super::pipeline::Limits::large

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

use fink_plugin_api::{Error, Result};
use flate2::write::DeflateEncoder;
use flate2::{Compress, Compression, FlushCompress, Status};
use libdeflater::{CompressionLvl, Compressor};

use super::pipeline::{Format, Held, Spool, Workspace};
use super::{Entry, Source, LEVEL, SMALL, STORE_ABOVE, ZLIB_LEVEL};

/// How much of a streamed file is deflated to decide whether to store it.
pub const SAMPLE: usize = 1024 * 1024;

/// The buffer a streamed file is read through.
pub const STREAM_BUFFER: usize = 256 * 1024;

const STORED: u16 = 0;
const DEFLATED: u16 = 8;
/// DOS date of 1980-01-01 (day 1, month 1, year 0); the time 00:00:00 is 0.
const DOS_DATE: u16 = (1 << 5) | 1;
/// Made by Unix (3), spec version 6.3: the external attributes hold Unix modes.
const MADE_BY: u16 = (3 << 8) | 63;
/// Bit 11: the name is UTF-8.
const UTF8: u16 = 1 << 11;
/// Sizes and offsets at or above this go into a ZIP64 extra field.
const U32_LIMIT: u64 = 0xFFFF_FFFF;

/// One entry ready to be appended: how it is stored, its CRC-32 and sizes, and its data.
#[derive(Debug)]
pub struct ZipPart {
    method: u16,
    crc: u32,
    size: u64,
    compressed: u64,
    data: Spool,
    /// The memory the part holds until it is written (see [`Held`]).
    _held: Held,
}

/// What the central directory needs of a written entry, besides its name (the entry's, given to
/// [`ZipFormat::finish`] rather than copied: a bundle may have tens of thousands).
struct Record {
    method: u16,
    crc: u32,
    size: u64,
    compressed: u64,
    offset: u64,
    mode: u32,
}

/// A zip being written to `W`, from wherever `W` stands (offsets are absolute in it).
pub struct ZipFormat<W: Write> {
    out: W,
    offset: u64,
    records: Vec<Record>,
}

impl<W: Write + Seek> ZipFormat<W> {
    /// A zip of (up to) `files` entries.
    pub fn new(mut out: W, files: usize) -> Result<ZipFormat<W>> {
        let offset = out.stream_position().map_err(write_error)?;
        Ok(ZipFormat { out, offset, records: Vec::with_capacity(files) })
    }
}

impl<W: Write> ZipFormat<W> {
    /// Writes the central directory and the end records; returns the output. `entries` are the
    /// entries written, in their order.
    pub fn finish(mut self, entries: &[Entry]) -> Result<W> {
        if entries.len() != self.records.len() {
            return Err(Error::new(format!(
                "cannot finish the zip: {} files written, {} named",
                self.records.len(),
                entries.len()
            )));
        }
        let start = self.offset;
        let count = self.records.len() as u64;
        let mut buf = Vec::with_capacity(64 * 1024);
        for (record, entry) in std::mem::take(&mut self.records).iter().zip(entries) {
            central_header(&mut buf, record, &entry.name);
            if buf.len() >= 60 * 1024 {
                self.put(&buf)?;
                buf.clear();
            }
        }
        self.put(&buf)?;
        buf.clear();
        let size = self.offset - start;
        if count >= 0xFFFF || size >= U32_LIMIT || start >= U32_LIMIT {
            let zip64_end = self.offset;
            // ZIP64 end of central directory record, then its locator.
            put32(&mut buf, 0x0606_4b50);
            put64(&mut buf, 44);
            put16(&mut buf, MADE_BY);
            put16(&mut buf, 45);
            put32(&mut buf, 0);
            put32(&mut buf, 0);
            put64(&mut buf, count);
            put64(&mut buf, count);
            put64(&mut buf, size);
            put64(&mut buf, start);
            put32(&mut buf, 0x0706_4b50);
            put32(&mut buf, 0);
            put64(&mut buf, zip64_end);
            put32(&mut buf, 1);
        }
        put32(&mut buf, 0x0605_4b50);
        put16(&mut buf, 0);
        put16(&mut buf, 0);
        put16(&mut buf, count.min(0xFFFF) as u16);
        put16(&mut buf, count.min(0xFFFF) as u16);
        put32(&mut buf, size.min(U32_LIMIT) as u32);
        put32(&mut buf, start.min(U32_LIMIT) as u32);
        put16(&mut buf, 0);
        self.put(&buf)?;
        Ok(self.out)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(write_error)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

impl<W: Write> Format for ZipFormat<W> {
    type Part = ZipPart;

    fn prepare(entry: &Entry, workspace: &Workspace) -> Result<ZipPart> {
        match &entry.source {
            Source::File(path) if workspace.is_large(entry) => stream(entry, path, workspace),
            Source::File(path) => {
                let held = workspace.hold(entry.size);
                let data = read_exact(path, entry.size)?;
                compress(data, held, workspace)
            }
            Source::Bytes(bytes) => compress(bytes.clone(), workspace.hold(entry.size), workspace),
        }
    }

    fn write_part(&mut self, entry: &Entry, mut part: ZipPart) -> Result<()> {
        let offset = self.offset;
        let record = Record {
            method: part.method,
            crc: part.crc,
            size: part.size,
            compressed: part.compressed,
            offset,
            mode: if entry.executable { 0o100_755 } else { 0o100_644 },
        };
        let mut header = Vec::with_capacity(30 + entry.name.len() + 20);
        local_header(&mut header, &record, &entry.name);
        self.put(&header)?;
        match &mut part.data {
            Spool::Memory(cursor) => {
                let bytes = std::mem::take(cursor.get_mut());
                self.put(&bytes)?;
            }
            Spool::File(file) => {
                file.rewind().map_err(|e| spool_error(&entry.name, e))?;
                let copied = io::copy(file, &mut self.out).map_err(write_error)?;
                if copied != part.compressed {
                    return Err(Error::new(format!(
                        "cannot add {} to the zip: its temporary file changed",
                        entry.name
                    )));
                }
                self.offset += copied;
            }
        }
        self.records.push(record);
        Ok(())
    }
}

/// Version needed to extract: 4.5 with ZIP64 fields, 2.0 for deflate, 1.0 for stored.
fn version_needed(method: u16, zip64: bool) -> u16 {
    match (zip64, method) {
        (true, _) => 45,
        (false, DEFLATED) => 20,
        (false, _) => 10,
    }
}

fn flags(name: &str) -> u16 {
    if name.is_ascii() {
        0
    } else {
        UTF8
    }
}

fn local_header(buf: &mut Vec<u8>, record: &Record, name: &str) {
    // A local header's ZIP64 field holds both sizes, or is absent.
    let zip64 = record.size >= U32_LIMIT || record.compressed >= U32_LIMIT;
    put32(buf, 0x0403_4b50);
    put16(buf, version_needed(record.method, zip64));
    put16(buf, flags(name));
    put16(buf, record.method);
    put16(buf, 0);
    put16(buf, DOS_DATE);
    put32(buf, record.crc);
    if zip64 {
        put32(buf, U32_LIMIT as u32);
        put32(buf, U32_LIMIT as u32);
    } else {
        put32(buf, record.compressed as u32);
        put32(buf, record.size as u32);
    }
    put16(buf, name.len() as u16);
    put16(buf, if zip64 { 20 } else { 0 });
    buf.extend_from_slice(name.as_bytes());
    if zip64 {
        put16(buf, 0x0001);
        put16(buf, 16);
        put64(buf, record.size);
        put64(buf, record.compressed);
    }
}

fn central_header(buf: &mut Vec<u8>, record: &Record, name: &str) {
    // The central ZIP64 field holds only the values too large for their header field, in this
    // order.
    let mut extra = Vec::new();
    for value in [record.size, record.compressed, record.offset] {
        if value >= U32_LIMIT {
            put64(&mut extra, value);
        }
    }
    let zip64 = !extra.is_empty();
    put32(buf, 0x0201_4b50);
    put16(buf, MADE_BY);
    put16(buf, version_needed(record.method, zip64));
    put16(buf, flags(name));
    put16(buf, record.method);
    put16(buf, 0);
    put16(buf, DOS_DATE);
    put32(buf, record.crc);
    put32(buf, record.compressed.min(U32_LIMIT) as u32);
    put32(buf, record.size.min(U32_LIMIT) as u32);
    put16(buf, name.len() as u16);
    put16(buf, if zip64 { extra.len() as u16 + 4 } else { 0 });
    put16(buf, 0); // comment
    put16(buf, 0); // disk
    put16(buf, 0); // internal attributes
    put32(buf, record.mode << 16);
    put32(buf, record.offset.min(U32_LIMIT) as u32);
    buf.extend_from_slice(name.as_bytes());
    if zip64 {
        put16(buf, 0x0001);
        put16(buf, extra.len() as u16);
        buf.extend_from_slice(&extra);
    }
}

fn put16(buf: &mut Vec<u8>, value: u16) {
    buf.extend_from_slice(&value.to_le_bytes());
}

fn put32(buf: &mut Vec<u8>, value: u32) {
    buf.extend_from_slice(&value.to_le_bytes());
}

fn put64(buf: &mut Vec<u8>, value: u64) {
    buf.extend_from_slice(&value.to_le_bytes());
}

thread_local! {
    /// One libdeflate compressor and one zlib-rs stream per worker thread, reused for every file
    /// it compresses.
    static LIBDEFLATE: RefCell<Option<Compressor>> = const { RefCell::new(None) };
    static ZLIB: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// Deflates `data`, by zlib-rs below [`SMALL`] bytes and by libdeflate from there; `None` when
/// deflate leaves more than [`STORE_ABOVE`] of it.
fn deflate(data: &[u8], workspace: &Workspace) -> Option<Vec<u8>> {
    if data.is_empty() {
        return None;
    }
    let out = if data.len() < SMALL { zlib(data, workspace)? } else { libdeflate(data, workspace)? };
    if out.len() as f64 > data.len() as f64 * STORE_ABOVE {
        return None;
    }
    Some(out)
}

fn libdeflate(data: &[u8], workspace: &Workspace) -> Option<Vec<u8>> {
    LIBDEFLATE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = cell.get_or_insert_with(|| Compressor::new(level()));
        let bound = compressor.deflate_compress_bound(data.len());
        let _out_held = workspace.hold(bound as u64);
        let mut out = vec![0; bound];
        let n = compressor.deflate_compress(data, &mut out).ok()?;
        out.truncate(n);
        out.shrink_to_fit();
        Some(out)
    })
}

fn zlib(data: &[u8], workspace: &Workspace) -> Option<Vec<u8>> {
    ZLIB.with(|cell| {
        let mut cell = cell.borrow_mut();
        let stream = cell.get_or_insert_with(|| Compress::new(Compression::new(ZLIB_LEVEL), false));
        stream.reset();
        // Enough for incompressible input (a few bytes per stored block), grown if not.
        let mut out = Vec::with_capacity(data.len() + data.len() / 16 + 64);
        let held = workspace.hold(out.capacity() as u64);
        loop {
            let read = stream.total_in() as usize;
            if stream.compress_vec(&data[read..], &mut out, FlushCompress::Finish).ok()? == Status::StreamEnd {
                break;
            }
            out.reserve(out.capacity());
        }
        drop(held);
        Some(out)
    })
}

fn level() -> CompressionLvl {
    CompressionLvl::new(LEVEL).unwrap_or_default()
}

/// An entry held in memory: deflated, or stored when deflate does not pay.
fn compress(data: Vec<u8>, held: Held, workspace: &Workspace) -> Result<ZipPart> {
    let crc = libdeflater::crc32(&data);
    let size = data.len() as u64;
    let (method, data) = match deflate(&data, workspace) {
        Some(out) => (DEFLATED, out),
        None => (STORED, data),
    };
    // What the part keeps until it is written: the deflated bytes, or the file itself.
    let held = held.resize(data.len() as u64);
    Ok(ZipPart {
        method,
        crc,
        size,
        compressed: data.len() as u64,
        data: Spool::Memory(io::Cursor::new(data)),
        _held: held,
    })
}

/// Reads exactly `size` bytes of a file (its size when it was collected), so that the sizes in
/// the headers are the bytes written.
fn read_exact(path: &Path, size: u64) -> Result<Vec<u8>> {
    let cannot = |e: io::Error| Error::new(format!("cannot read {}: {e}", path.display()));
    let mut file = File::open(path).map_err(cannot)?;
    let mut data = Vec::with_capacity(size as usize);
    (&mut file).take(size + 1).read_to_end(&mut data).map_err(cannot)?;
    if data.len() as u64 != size {
        return Err(changed(path));
    }
    Ok(data)
}

fn changed(path: &Path) -> Error {
    Error::new(format!("cannot read {}: it changed size while it was bundled", path.display()))
}

/// A large file, read [`STREAM_BUFFER`] bytes at a time into a spooled temporary file and deflated
/// by zlib-rs as it goes; when its first [`SAMPLE`] bytes deflate (up to a sync flush there) to
/// more than [`STORE_ABOVE`] of their size, it is read again from the start and stored instead.
/// Its only buffer is the read buffer (and zlib-rs's state), however large the file.
fn stream(entry: &Entry, path: &Path, workspace: &Workspace) -> Result<ZipPart> {
    let cannot = |e: io::Error| Error::new(format!("cannot read {}: {e}", path.display()));
    let failed = |e: Copy| match e {
        Copy::Read(e) => cannot(e),
        Copy::Write(e) => spool_error(&entry.name, e),
    };
    let mut file = File::open(path).map_err(cannot)?;
    let _buffer_held = workspace.hold(STREAM_BUFFER as u64);
    let mut buf = vec![0; STREAM_BUFFER];
    let mut crc = libdeflater::Crc::new();
    let mut encoder = DeflateEncoder::new(workspace.spool(entry, 0)?, Compression::new(ZLIB_LEVEL));
    let sampled = copy(&mut file, &mut encoder, &mut buf, &mut crc, SAMPLE as u64).map_err(failed)?;
    encoder.flush().map_err(|e| spool_error(&entry.name, e))?;
    let (method, read, mut data) = if encoder.total_out() as f64 > sampled as f64 * STORE_ABOVE {
        // Does not compress: the same file, stored.
        let mut spool = encoder.finish().map_err(|e| spool_error(&entry.name, e))?;
        spool.truncate().map_err(|e| spool_error(&entry.name, e))?;
        file.rewind().map_err(cannot)?;
        crc = libdeflater::Crc::new();
        let read = copy(&mut file, &mut spool, &mut buf, &mut crc, entry.size + 1).map_err(failed)?;
        (STORED, read, spool)
    } else {
        let rest = copy(&mut file, &mut encoder, &mut buf, &mut crc, (entry.size + 1).saturating_sub(sampled))
            .map_err(failed)?;
        (DEFLATED, sampled + rest, encoder.finish().map_err(|e| spool_error(&entry.name, e))?)
    };
    if read != entry.size {
        return Err(changed(path));
    }
    let compressed = data.stream_position().map_err(|e| spool_error(&entry.name, e))?;
    Ok(ZipPart { method, crc: crc.sum(), size: read, compressed, data, _held: workspace.hold(0) })
}

enum Copy {
    Read(io::Error),
    Write(io::Error),
}

/// Copies at most `limit` bytes of `from` to `to` through `buf`, adding them to `crc`; returns
/// how many. Tells a read error from a write error.
fn copy(
    from: &mut File,
    to: &mut impl Write,
    buf: &mut [u8],
    crc: &mut libdeflater::Crc,
    limit: u64,
) -> std::result::Result<u64, Copy> {
    let mut copied = 0;
    while copied < limit {
        let want = buf.len().min((limit - copied).min(usize::MAX as u64) as usize);
        let n = match from.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        crc.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(Copy::Write)?;
        copied += n as u64;
    }
    Ok(copied)
}

fn spool_error(name: &str, err: io::Error) -> Error {
    Error::new(format!("cannot add {name} to the zip: its temporary file failed: {err}"))
}

fn write_error(err: io::Error) -> Error {
    Error::new(format!("cannot write the zip: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_header_has_no_extra_field_and_the_fixed_time() {
        let record = Record { method: DEFLATED, crc: 0x1234_5678, size: 10, compressed: 7, offset: 0, mode: 0o100_644 };
        let mut buf = Vec::new();
        local_header(&mut buf, &record, "a.txt");
        assert_eq!(buf.len(), 30 + 5);
        assert_eq!(&buf[..4], b"PK\x03\x04");
        assert_eq!(&buf[10..14], &[0, 0, 0x21, 0], "00:00:00 on 1980-01-01");
        assert_eq!(&buf[28..30], &[0, 0], "no extra field");
        let mut buf = Vec::new();
        local_header(&mut buf, &Record { size: 5 << 32, ..record }, "é");
        assert_eq!(&buf[6..8], &UTF8.to_le_bytes());
        assert_eq!(&buf[18..26], &[0xFF; 8], "sizes in the ZIP64 field");
        assert_eq!(buf.len(), 30 + 2 + 20);
    }
}
