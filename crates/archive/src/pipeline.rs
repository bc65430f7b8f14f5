//! The bounded parallel writer every archive format shares. Entries (already sorted) are prepared,
//! that is read and compressed into a part, on worker threads, and the calling thread writes the
//! parts in the entries' order, so the output is the same whatever the threads do and however
//! many there are.
//!
//! Memory is bounded by a window: entries are started while the weight of those started but not
//! yet written stays within [`Limits::window`]. A file above [`Limits::large`] is read as it goes
//! and its part is spooled to an unlinked temporary file (next to the output), so it weighs
//! `large` however big it is. Peak memory therefore depends on the limits, not on the bundle;
//! [`Stats::peak_held`] is what the parts actually held at once (counted by [`Held`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use fink_plugin_api::{Error, Result};

use super::{Entry, Source};

/// The most that the entries started but not yet written may weigh (one entry may exceed it
/// alone).
pub const WINDOW: u64 = 16 * 1024 * 1024;

/// Files above this size are read as they go and their part is spooled to disk.
pub const LARGE: u64 = 4 * 1024 * 1024;

/// An archive format: how one entry is prepared on a worker thread and how its part is written.
pub trait Format {
    /// One entry ready to be written.
    type Part: Send + 'static;

    /// Reads and compresses `entry` into a part; runs on worker threads, several at a time. A
    /// large entry (see [`Workspace::is_large`]) must be read as it goes into
    /// [`Workspace::spool`]; memory the part keeps is counted with [`Workspace::hold`].
    fn prepare(entry: &Entry, workspace: &Workspace) -> Result<Self::Part>;

    /// Appends a prepared entry to the output.
    fn write_part(&mut self, entry: &Entry, part: Self::Part) -> Result<()>;
}

/// How much the pipeline holds in memory, and how many threads compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most the entries started but not yet written may weigh: their size, or `large` for a
    /// large file.
    pub window: u64,
    /// Files above this size are read as they go and spooled to disk (never above `window`).
    pub large: u64,
    /// Worker threads (at least one); the output does not depend on it.
    pub threads: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Limits { window: WINDOW, large: LARGE, threads }
    }
}

/// What a worker needs besides its entry.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Where large parts are spooled.
    pub spool_dir: PathBuf,
    /// Files above this size are large.
    pub large: u64,
    held: Arc<Counter>,
}

impl Workspace {
    /// Whether `entry` is a file too large to hold in memory.
    pub fn is_large(&self, entry: &Entry) -> bool {
        matches!(entry.source, Source::File(_)) && entry.size > self.large
    }

    /// Where to write `entry`'s part: memory, or for a large entry an unlinked temporary file.
    pub fn spool(&self, entry: &Entry, capacity: usize) -> Result<Spool> {
        if !self.is_large(entry) {
            return Ok(Spool::Memory(Cursor::new(Vec::with_capacity(capacity))));
        }
        let file = tempfile::tempfile_in(&self.spool_dir)
            .map_err(|e| Error::new(format!("cannot create a temporary file in {}: {e}", self.spool_dir.display())))?;
        Ok(Spool::File(file))
    }

    /// Counts `bytes` of buffers as held until the guard is dropped.
    pub fn hold(&self, bytes: u64) -> Held {
        self.held.add(bytes);
        Held { counter: Arc::clone(&self.held), bytes }
    }

    /// How much `entry` counts in the window.
    fn weight(&self, entry: &Entry) -> u64 {
        if self.is_large(entry) {
            self.large
        } else {
            entry.size
        }
    }
}

/// The bytes of buffers held now and at most.
#[derive(Debug, Default)]
struct Counter {
    now: AtomicU64,
    peak: AtomicU64,
}

impl Counter {
    fn add(&self, bytes: u64) {
        let now = self.now.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

/// Buffers of a part counted as held (see [`Stats::peak_held`]) until this is dropped.
#[derive(Debug)]
pub struct Held {
    counter: Arc<Counter>,
    bytes: u64,
}

impl Held {
    /// The same buffers, now weighing `bytes`.
    pub fn resize(mut self, bytes: u64) -> Held {
        if bytes > self.bytes {
            self.counter.add(bytes - self.bytes);
        } else {
            self.counter.now.fetch_sub(self.bytes - bytes, Ordering::Relaxed);
        }
        self.bytes = bytes;
        self
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.counter.now.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// Bytes in memory or in a temporary file: a part being written, then read.
#[derive(Debug)]
pub enum Spool {
    Memory(Cursor<Vec<u8>>),
    File(File),
}

impl Spool {
    /// Whether the bytes are on disk.
    pub fn on_disk(&self) -> bool {
        matches!(self, Spool::File(_))
    }

    /// Drops what was written, to write again from the start.
    pub fn truncate(&mut self) -> io::Result<()> {
        match self {
            Spool::Memory(cursor) => cursor.get_mut().clear(),
            Spool::File(file) => file.set_len(0)?,
        }
        self.rewind().map(|_| ())
    }
}

impl Read for Spool {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Spool::Memory(cursor) => cursor.read(buf),
            Spool::File(file) => file.read(buf),
        }
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Spool::Memory(cursor) => cursor.write(buf),
            Spool::File(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Spool::Memory(cursor) => cursor.flush(),
            Spool::File(file) => file.flush(),
        }
    }
}

impl Seek for Spool {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Spool::Memory(cursor) => cursor.seek(pos),
            Spool::File(file) => file.seek(pos),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entries written.
    pub entries: usize,
    /// Of those, large ones spooled to disk.
    pub spooled: usize,
    /// The most the entries started but not yet written weighed at once.
    pub peak_window: u64,
    /// The most bytes of buffers the parts held at once (read files, compressed data, a streamed
    /// file's buffers), as the format counted them with [`Workspace::hold`].
    pub peak_held: u64,
}

type Sent<P> = (usize, Result<P>);

/// Writes `entries` in their order to `format`, prepared on `limits.threads` worker threads
/// within `limits`; large parts are spooled in `spool_dir`. Stops at the first entry that fails.
/// The workers are joined before it returns, also on an error: they run the plugin's code.
pub fn run<F: Format>(format: &mut F, entries: Arc<[Entry]>, limits: Limits, spool_dir: &Path) -> Result<Stats> {
    let workspace = Workspace {
        spool_dir: spool_dir.to_path_buf(),
        large: limits.large.min(limits.window),
        held: Arc::new(Counter::default()),
    };
    let (jobs, queue) = mpsc::channel::<usize>();
    let queue = Mutex::new(queue);
    let (sender, receiver) = mpsc::channel::<Sent<F::Part>>();
    let cancel = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        for _ in 0..limits.threads.max(1) {
            let sender = sender.clone();
            let (queue, cancel, workspace, entries) = (&queue, &cancel, &workspace, &entries);
            scope.spawn(move || loop {
                // The lock is held only to take the next index; a poisoned one means a worker
                // panicked outside `prepare`, which cannot happen; stop then.
                let Ok(next) = queue.lock().map(|q| q.recv()) else { return };
                let Ok(index) = next else { return };
                let entry = &entries[index];
                let part = if cancel.load(Ordering::Relaxed) {
                    Err(Error::new("cancelled"))
                } else {
                    catch_unwind(AssertUnwindSafe(|| F::prepare(entry, workspace))).unwrap_or_else(|_| {
                        Err(Error::new(format!("cannot add {} to the archive: the compressor panicked", entry.name)))
                    })
                };
                if sender.send((index, part)).is_err() {
                    return;
                }
            });
        }
        drop(sender);
        let mut pipe = Pipe::<F> {
            entries: Arc::clone(&entries),
            workspace: &workspace,
            window: limits.window,
            jobs: Some(jobs),
            receiver,
            ready: BTreeMap::new(),
            started: 0,
            in_window: 0,
            stats: Stats::default(),
        };
        let result = pipe.write_all(format);
        if result.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        // No more jobs: the workers finish (quickly, when cancelled) and the scope joins them.
        pipe.jobs = None;
        result.map(|()| pipe.stats)
    });
    result.map(|stats| Stats { peak_held: workspace.held.peak.load(Ordering::Relaxed), ..stats })
}

struct Pipe<'a, F: Format> {
    entries: Arc<[Entry]>,
    workspace: &'a Workspace,
    window: u64,
    jobs: Option<mpsc::Sender<usize>>,
    receiver: mpsc::Receiver<Sent<F::Part>>,
    /// Parts that arrived before their turn.
    ready: BTreeMap<usize, Result<F::Part>>,
    /// Entries before this one are started.
    started: usize,
    /// The weight of the started entries not yet written.
    in_window: u64,
    stats: Stats,
}

impl<F: Format> Pipe<'_, F> {
    fn write_all(&mut self, format: &mut F) -> Result<()> {
        let entries = Arc::clone(&self.entries);
        for (index, entry) in entries.iter().enumerate() {
            self.start_more()?;
            let part = self.take(index)?;
            format.write_part(entry, part?)?;
            self.in_window -= self.workspace.weight(entry);
            self.stats.entries += 1;
            self.stats.spooled += usize::from(self.workspace.is_large(entry));
        }
        Ok(())
    }

    /// Starts the next entries while they fit into the window (at least one when it is empty).
    fn start_more(&mut self) -> Result<()> {
        while let Some(entry) = self.entries.get(self.started) {
            let weight = self.workspace.weight(entry);
            if self.in_window > 0 && self.in_window + weight > self.window {
                break;
            }
            self.in_window += weight;
            self.stats.peak_window = self.stats.peak_window.max(self.in_window);
            let sent = self.jobs.as_ref().map(|jobs| jobs.send(self.started));
            if !matches!(sent, Some(Ok(()))) {
                return Err(stopped());
            }
            self.started += 1;
        }
        Ok(())
    }

    /// Waits for the part of entry `index`.
    fn take(&mut self, index: usize) -> Result<Result<F::Part>> {
        loop {
            if let Some(part) = self.ready.remove(&index) {
                return Ok(part);
            }
            let (arrived, part) = self.receiver.recv().map_err(|_| stopped())?;
            self.ready.insert(arrived, part);
        }
    }
}

fn stopped() -> Error {
    Error::new("the compression threads stopped unexpectedly")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes each entry's name; large entries as `name (spooled)`, through a spool.
    #[derive(Default)]
    struct Names(Vec<String>);

    impl Format for Names {
        type Part = Spool;

        fn prepare(entry: &Entry, workspace: &Workspace) -> Result<Spool> {
            if let Source::Bytes(bytes) = &entry.source {
                if bytes.starts_with(b"fail") {
                    return Err(Error::new(format!("{} failed", entry.name)));
                }
                if bytes.starts_with(b"panic") {
                    panic!("boom");
                }
            }
            // Later entries finish first now and then, as on real threads.
            std::thread::sleep(std::time::Duration::from_micros(entry.size % 7 * 50));
            let mut spool = workspace.spool(entry, 16)?;
            let suffix = if spool.on_disk() { " (spooled)" } else { "" };
            write!(spool, "{}{suffix}", entry.name).unwrap();
            spool.rewind().unwrap();
            Ok(spool)
        }

        fn write_part(&mut self, _entry: &Entry, mut part: Spool) -> Result<()> {
            let mut text = String::new();
            part.read_to_string(&mut text).unwrap();
            self.0.push(text);
            Ok(())
        }
    }

    fn sized(name: &str, size: u64) -> Entry {
        Entry { name: name.into(), source: Source::Bytes(vec![b'x'; size as usize]), size, executable: false }
    }

    fn on_disk(name: &str, size: u64) -> Entry {
        // Never read: the test format only looks at the size.
        Entry { name: name.into(), source: Source::File(PathBuf::from("/nonexistent")), size, executable: false }
    }

    fn run_names(entries: Vec<Entry>, limits: Limits) -> (Result<Stats>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let mut names = Names::default();
        let result = run(&mut names, entries.into(), limits, dir.path());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "spooled parts leave no files");
        (result, names.0)
    }

    #[test]
    fn entries_are_written_in_order_and_the_window_is_never_exceeded() {
        let entries: Vec<Entry> = (0..400).map(|i| sized(&format!("{i:03}"), 1 + (i * 37) % 300)).collect();
        let expected: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
        let limits = Limits { window: 1000, large: 500, ..Limits::default() };
        let (stats, names) = run_names(entries, limits);
        let stats = stats.unwrap();
        assert_eq!(names, expected);
        assert!(stats.peak_window <= 1000, "{stats:?}");
        assert!(stats.peak_window > 600, "the window is used, not one entry at a time: {stats:?}");
        assert_eq!((stats.entries, stats.spooled), (400, 0));
    }

    #[test]
    fn any_number_of_threads_writes_the_same_order() {
        let entries: Vec<Entry> = (0..300).map(|i| sized(&format!("{i:03}"), 1 + (i * 53) % 400)).collect();
        let expected: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
        for threads in [1, 2, 5] {
            let limits = Limits { window: 2000, large: 1000, threads };
            let (stats, names) = run_names(entries.clone(), limits);
            assert_eq!(names, expected, "{threads} threads");
            assert_eq!(stats.unwrap().entries, 300);
        }
    }

    #[test]
    fn large_files_are_spooled_and_weigh_only_the_large_limit() {
        let entries = vec![
            sized("a", 300),
            on_disk("b", 50_000),
            sized("c", 300),
            on_disk("d", 400),
            on_disk("e", 1 << 40),
            sized("f", 10),
        ];
        let (stats, names) = run_names(entries, Limits { window: 1000, large: 500, ..Limits::default() });
        let stats = stats.unwrap();
        assert_eq!(names, vec!["a", "b (spooled)", "c", "d", "e (spooled)", "f"]);
        assert_eq!(stats.spooled, 2);
        assert!(stats.peak_window <= 1000, "{stats:?}");
    }

    #[test]
    fn content_in_memory_larger_than_the_window_goes_alone() {
        let entries = vec![sized("a", 10), sized("big", 5000), sized("c", 10)];
        let (stats, names) = run_names(entries, Limits { window: 100, large: 100, ..Limits::default() });
        assert_eq!(names, vec!["a", "big", "c"]);
        assert_eq!(stats.unwrap().peak_window, 5000);
    }

    #[test]
    fn the_first_failure_stops_the_run_after_what_came_before() {
        let mut entries: Vec<Entry> = (0..50).map(|i| sized(&format!("{i:02}"), 10)).collect();
        entries[20].source = Source::Bytes(b"fail".to_vec());
        let (result, names) = run_names(entries, Limits { window: 100, large: 100, ..Limits::default() });
        assert_eq!(result.unwrap_err().message(), "20 failed");
        assert_eq!(names.len(), 20, "{names:?}");
    }

    #[test]
    fn a_panicking_compressor_is_an_error() {
        let entries = vec![sized("a", 10), Entry::bytes("b", b"panic".to_vec())];
        let (result, names) = run_names(entries, Limits::default());
        assert_eq!(result.unwrap_err().message(), "cannot add b to the archive: the compressor panicked");
        assert_eq!(names, vec!["a"]);
    }
}
