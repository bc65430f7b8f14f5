//! Numbers for people: the one way fink and its plugins print sizes.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes(7), "7 B");
        assert_eq!(bytes(12 * 1024), "12 KB");
        assert_eq!(bytes(50 * 1024 * 1024), "50 MB");
        assert_eq!(bytes(66_270_000), "63.2 MB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GB");
    }
}
