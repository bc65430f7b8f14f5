//! A look at a plugin file's headers before it is handed to the dynamic loader.
//!
//! dlopen maps each loadable segment straight from the file; a file cut short (an interrupted
//! copy) maps pages past its end, and the first touch of them kills the process with SIGBUS. So the
//! program headers (ELF) or segment load commands (Mach-O) are read first, and every segment's
//! file range must lie inside the file, for this machine's architecture. Only headers are read,
//! through a read cache, never the whole library.

use std::fs::File;
use std::path::Path;

use object::read::elf::{FileHeader, ProgramHeader};
use object::read::macho::{MachHeader, Segment};
use object::read::{ReadCache, ReadRef};
use object::{elf, macho, Endianness, FileKind};

/// Why a file is not a library this host can load.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not ELF or Mach-O at all (random bytes, a text file): dlopen's own message says it better.
    Unknown,
    /// A library, but unusable; the text says why.
    Damaged(String),
}

/// Checks the headers of the library at `path`.
pub fn check(path: &Path) -> Result<(), Problem> {
    let file = File::open(path).map_err(|e| Problem::Damaged(format!("cannot be read: {e}")))?;
    check_open(&file)
}

/// Checks the headers of an open library file (read from its start; the file's offset moves).
pub fn check_open(file: &File) -> Result<(), Problem> {
    let size = file.metadata().map_err(|e| Problem::Damaged(format!("cannot be read: {e}")))?.len();
    let cache = ReadCache::new(file);
    check_data(&cache, size)
}

fn check_data<'a, R: ReadRef<'a>>(data: R, size: u64) -> Result<(), Problem> {
    match FileKind::parse(data).map_err(|_| Problem::Unknown)? {
        FileKind::Elf64 => check_elf::<elf::FileHeader64<Endianness>, R>(data, size),
        FileKind::Elf32 => check_elf::<elf::FileHeader32<Endianness>, R>(data, size),
        FileKind::MachO64 => check_macho::<macho::MachHeader64<Endianness>, R>(data, size),
        FileKind::MachO32 => check_macho::<macho::MachHeader32<Endianness>, R>(data, size),
        // Universal binaries hold one library per architecture; the loader picks the slice.
        FileKind::MachOFat32 | FileKind::MachOFat64 => Ok(()),
        other => Err(Problem::Damaged(format!("a {other:?} file, not a library for this system"))),
    }
}

fn check_elf<'a, H: FileHeader<Endian = Endianness>, R: ReadRef<'a>>(data: R, size: u64) -> Result<(), Problem> {
    let header = H::parse(data).map_err(|e| Problem::Damaged(format!("unreadable ELF header: {e}")))?;
    let endian = header.endian().map_err(|e| Problem::Damaged(format!("unreadable ELF header: {e}")))?;
    let machine = header.e_machine(endian);
    if let Some(expected) = ELF_MACHINE {
        if machine != expected || header.is_class_64() != cfg!(target_pointer_width = "64") {
            return Err(Problem::Damaged(format!(
                "built for another architecture ({}, this fink runs on {})",
                elf_machine_name(machine, header.is_class_64()),
                std::env::consts::ARCH
            )));
        }
    }
    let segments = header.program_headers(endian, data).map_err(|_| truncated_headers(size))?;
    for segment in segments.iter().filter(|s| s.p_type(endian) == elf::PT_LOAD) {
        let (offset, length) = segment.file_range(endian);
        inside(offset, length, size)?;
    }
    Ok(())
}

fn check_macho<'a, H: MachHeader<Endian = Endianness>, R: ReadRef<'a>>(data: R, size: u64) -> Result<(), Problem> {
    let header = H::parse(data, 0).map_err(|e| Problem::Damaged(format!("unreadable Mach-O header: {e}")))?;
    let endian = header.endian().map_err(|e| Problem::Damaged(format!("unreadable Mach-O header: {e}")))?;
    if let Some(expected) = MACHO_CPU {
        let cpu = header.cputype(endian);
        if cpu != expected {
            return Err(Problem::Damaged(format!(
                "built for another architecture (Mach-O CPU type {cpu:#x}, this fink runs on {})",
                std::env::consts::ARCH
            )));
        }
    }
    let mut commands = header.load_commands(endian, data, 0).map_err(|_| truncated_headers(size))?;
    while let Some(command) = commands.next().map_err(|_| truncated_headers(size))? {
        let segment = command.segment_64().ok().flatten().map(|(s, _)| s.file_range(endian));
        let segment = segment.or_else(|| command.segment_32().ok().flatten().map(|(s, _)| s.file_range(endian)));
        if let Some((offset, length)) = segment {
            inside(offset, length, size)?;
        }
    }
    Ok(())
}

fn inside(offset: u64, length: u64, size: u64) -> Result<(), Problem> {
    let end = offset.saturating_add(length);
    if end > size {
        return Err(Problem::Damaged(format!("truncated: segment ends at byte {end}, file has {size}")));
    }
    Ok(())
}

fn truncated_headers(size: u64) -> Problem {
    Problem::Damaged(format!("truncated: its headers end past the end of the file ({size} bytes)"))
}

#[cfg(target_arch = "x86_64")]
const ELF_MACHINE: Option<u16> = Some(elf::EM_X86_64);
#[cfg(target_arch = "aarch64")]
const ELF_MACHINE: Option<u16> = Some(elf::EM_AARCH64);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ELF_MACHINE: Option<u16> = None;

#[cfg(target_arch = "x86_64")]
const MACHO_CPU: Option<u32> = Some(macho::CPU_TYPE_X86_64);
#[cfg(target_arch = "aarch64")]
const MACHO_CPU: Option<u32> = Some(macho::CPU_TYPE_ARM64);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const MACHO_CPU: Option<u32> = None;

fn elf_machine_name(machine: u16, is_64: bool) -> String {
    let name = match machine {
        elf::EM_X86_64 => "x86_64",
        elf::EM_386 => "x86",
        elf::EM_AARCH64 => "aarch64",
        elf::EM_ARM => "arm",
        elf::EM_RISCV => "riscv",
        elf::EM_PPC64 => "powerpc64",
        elf::EM_S390 => "s390x",
        _ => return format!("ELF machine {machine}, {}-bit", if is_64 { 64 } else { 32 }),
    };
    format!("{name}, {}-bit", if is_64 { 64 } else { 32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This test binary itself is a library-like file for this machine.
    fn own_binary() -> Vec<u8> {
        std::fs::read(std::env::current_exe().unwrap()).unwrap()
    }

    #[test]
    fn a_whole_file_for_this_machine_passes() {
        let data = own_binary();
        assert_eq!(check_data(data.as_slice(), data.len() as u64), Ok(()));
    }

    /// Where the last loadable segment ends: debug info may follow it, so half of the file is not
    /// always inside a segment.
    fn segments_end(data: &[u8]) -> usize {
        use object::{Object, ObjectSegment};
        let file = object::File::parse(data).unwrap();
        file.segments().map(|s| s.file_range()).map(|(o, l)| o + l).max().unwrap() as usize
    }

    #[test]
    fn a_file_cut_in_half_names_the_segment_end_and_the_size() {
        let data = own_binary();
        let half = &data[..segments_end(&data) / 2];
        match check_data(half, half.len() as u64) {
            Err(Problem::Damaged(text)) => {
                assert!(text.starts_with("truncated: segment ends at byte "), "{text}");
                assert!(text.ends_with(&format!("file has {}", half.len())), "{text}");
            }
            other => panic!("expected truncated, got {other:?}"),
        }
    }

    #[test]
    fn a_file_cut_inside_its_headers_is_truncated() {
        let data = own_binary();
        let head = &data[..100];
        assert!(matches!(check_data(head, 100), Err(Problem::Damaged(t)) if t.starts_with("truncated")));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn another_machine_is_named() {
        let mut data = own_binary();
        // e_machine sits at byte 18 of an ELF header; 183 is aarch64, 62 x86_64.
        let other: u16 = if cfg!(target_arch = "aarch64") { 62 } else { 183 };
        data[18..20].copy_from_slice(&other.to_le_bytes());
        match check_data(data.as_slice(), data.len() as u64) {
            Err(Problem::Damaged(text)) => assert!(text.contains("built for another architecture"), "{text}"),
            other => panic!("expected another architecture, got {other:?}"),
        }
    }

    #[test]
    fn random_bytes_are_left_to_the_loader() {
        let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(check_data(junk.as_slice(), 4096), Err(Problem::Unknown));
    }
}
