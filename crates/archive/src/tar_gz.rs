//! The tar.gz format (CodeDeploy's `tgz` bundle type). Unlike a zip, a tar.gz is one gzip stream,
//! so entries cannot be compressed apart and joined; they are streamed in order through one
//! encoder, file contents read as they go, so memory stays small whatever the bundle weighs.
//!
//! Deterministic like the zip: entries sorted, every parent folder as its own entry (0755) before
//! its files, files 0644 or 0755, uid/gid 0 with no user or group names, the zip's fixed time
//! (1980-01-01 00:00:00 UTC), a ustar header (GNU long names for paths above 100 bytes), and a
//! gzip header without a name or a time.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};

use fink_plugin_api::{Error, Result};
use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use super::{Entry, Source};

/// The zip's DOS epoch, 1980-01-01 00:00:00 UTC, so both formats carry the same time.
pub const MTIME: u64 = 315_532_800;

/// gzip level 6 (gzip's own default): CodeDeploy bundles are written once per deploy.
const LEVEL: u32 = 6;

/// Writes `entries` (sorted, unique) as a tar.gz to `out`; returns `out` and the number of files.
pub fn write<W: Write>(entries: &[Entry], out: W) -> Result<(W, usize)> {
    let gz = GzBuilder::new().mtime(0).write(out, Compression::new(LEVEL));
    let mut tar = tar::Builder::new(gz);
    let mut folders = BTreeSet::new();
    for entry in entries {
        for folder in parents(&entry.name) {
            if folders.insert(folder.to_string()) {
                let mut header = header(EntryType::Directory, 0o755, 0);
                tar.append_data(&mut header, format!("{folder}/"), io::empty()).map_err(|e| tar_error(folder, e))?;
            }
        }
        let mut header = header(EntryType::Regular, if entry.executable { 0o755 } else { 0o644 }, entry.size);
        let appended = match &entry.source {
            Source::Bytes(bytes) => tar.append_data(&mut header, &entry.name, bytes.as_slice()),
            Source::File(path) => {
                let file = File::open(path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
                // The header's size was read when the entry was collected; a file that changed
                // since then would corrupt the stream, so read exactly that many bytes or fail.
                let mut exact = Exact { file, left: entry.size, path };
                tar.append_data(&mut header, &entry.name, &mut exact)
            }
        };
        appended.map_err(|e| tar_error(&entry.name, e))?;
    }
    let gz: GzEncoder<W> = tar.into_inner().map_err(|e| Error::new(format!("cannot finish the tar.gz: {e}")))?;
    let out = gz.finish().map_err(|e| Error::new(format!("cannot finish the tar.gz: {e}")))?;
    Ok((out, entries.len()))
}

fn header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// The folders above `name`, outermost first: `a/b/c.txt` → `a`, `a/b`.
fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('/').map(move |(i, _)| &name[..i])
}

fn tar_error(name: &str, err: io::Error) -> Error {
    Error::new(format!("cannot add {name} to the tar.gz: {err}"))
}

/// Reads exactly `left` bytes of a file, failing if it is shorter or longer.
struct Exact<'a> {
    file: File,
    left: u64,
    path: &'a std::path::Path,
}

impl io::Read for Exact<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.file.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!("{} grew while it was bundled", self.path.display()))),
            };
        }
        let want = buf.len().min(self.left as usize);
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::other(format!("{} shrank while it was bundled", self.path.display())));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use flate2::read::GzDecoder;

    use super::*;

    fn tgz(entries: &[Entry]) -> Vec<u8> {
        write(entries, Cursor::new(Vec::new())).unwrap().0.into_inner()
    }

    /// (path, mode, uid, gid, mtime, kind, content) of every member.
    fn members(bytes: &[u8]) -> Vec<(String, u32, u64, u64, u64, EntryType, Vec<u8>)> {
        let mut archive = tar::Archive::new(GzDecoder::new(bytes));
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let h = e.header().clone();
                let mut content = Vec::new();
                e.read_to_end(&mut content).unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                (
                    path,
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                    h.mtime().unwrap(),
                    h.entry_type(),
                    content,
                )
            })
            .collect()
    }

    #[test]
    fn folders_come_first_modes_owner_and_time_are_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("start.sh");
        std::fs::write(&script, "#!/bin/sh\necho up\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let entries = vec![
            Entry::bytes("appspec.yml", b"version: 0.0\n".to_vec()),
            Entry::file("scripts/hooks/start.sh", &script).unwrap(),
        ];
        let got = members(&tgz(&entries));
        let summary: Vec<_> = got.iter().map(|m| (m.0.as_str(), m.1, m.2, m.3, m.4, m.5)).collect();
        assert_eq!(
            summary,
            vec![
                ("appspec.yml", 0o644, 0, 0, MTIME, EntryType::Regular),
                ("scripts/", 0o755, 0, 0, MTIME, EntryType::Directory),
                ("scripts/hooks/", 0o755, 0, 0, MTIME, EntryType::Directory),
                ("scripts/hooks/start.sh", if cfg!(unix) { 0o755 } else { 0o644 }, 0, 0, MTIME, EntryType::Regular),
            ]
        );
        assert_eq!(got[3].6, b"#!/bin/sh\necho up\n");
    }

    #[test]
    fn the_same_entries_give_the_same_bytes_and_no_gzip_name_or_time() {
        let entries = vec![Entry::bytes("a/x.txt", b"x".repeat(5000)), Entry::bytes("b.txt", b"b".to_vec())];
        let (one, two) = (tgz(&entries), tgz(&entries));
        assert_eq!(one, two);
        // gzip header: magic, method, flags (no FNAME), mtime 0.
        assert_eq!(&one[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn long_paths_survive() {
        let name = format!("{}/{}.txt", "d".repeat(80), "f".repeat(60));
        let got = members(&tgz(&[Entry::bytes(name.clone(), b"long".to_vec())]));
        assert_eq!(got.last().map(|m| (m.0.clone(), m.6.clone())), Some((name, b"long".to_vec())));
    }

    #[test]
    fn a_file_that_changed_size_is_an_error_not_a_broken_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        std::fs::write(&path, b"12345").unwrap();
        let entry = Entry::file("f.bin", &path).unwrap();
        std::fs::write(&path, b"123").unwrap();
        let err = write(&[entry], Cursor::new(Vec::new())).unwrap_err();
        assert!(err.message().contains("shrank while it was bundled"), "{}", err.message());
    }
}
