//! Numbers for people: the one way fink and its plugins print sizes and times.

use std::time::Duration;

/// A byte count in binary units: "7 B", "12 KB", "63.2 MB", "50 MB", "1.5 GB".
/// Whole values print without a decimal, so a limit reads "50 MB", not "50.0 MB".
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    // Round first, so 1023.96 KB prints as "1024 KB" and not "1024.0 KB".
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0} {}", UNITS[unit])
    } else {
        format!("{rounded:.1} {}", UNITS[unit])
    }
}

/// A setting in seconds: "5 s", "0.5 s" (whole values without a decimal).
pub fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// How long something took: "0.4 s", "12.3 s", "3 min 05 s", "1 h 02 min".
pub fn duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..=59 => format!("{:.1} s", duration.as_secs_f64()),
        60..=3599 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_people_say_them() {
        assert_eq!(seconds(Duration::from_secs(5)), "5 s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
        assert_eq!(duration(Duration::from_millis(400)), "0.4 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(duration(Duration::from_secs(3720)), "1 h 02 min");
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes(7), "7 B");
        assert_eq!(bytes(12 * 1024), "12 KB");
        assert_eq!(bytes(50 * 1024 * 1024), "50 MB");
        assert_eq!(bytes(66_270_000), "63.2 MB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GB");
    }
}
