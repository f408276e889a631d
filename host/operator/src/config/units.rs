//! Parsers and formatters for the flag value types Go's flag package understands: durations and byte sizes.

use std::time::Duration;

use serde::Serializer;

/// The longest duration Go represents (`math.MaxInt64` nanoseconds, about 292 years); longer ones are refused,
/// as Go's `time.ParseDuration` refuses them.
pub const MAX_GO_DURATION: Duration = Duration::new(9_223_372_036, 854_775_807);

/// Parses a Go duration (`1m`, `30s`, `1h30m`, `250ms`, `1.5s`). Durations longer than [`MAX_GO_DURATION`] are
/// an error naming the value.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("invalid unit {unit:?} in duration {text:?}")),
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    Duration::try_from_secs_f64(total)
        .ok()
        .filter(|d| *d <= MAX_GO_DURATION)
        .ok_or_else(|| format!("duration {text:?} is out of range (at most 2562047h47m16s)"))
}

/// Formats a duration the way Go prints one (`1m0s`, `30s`, `1h0m0s`, `250ms`).
pub fn format_go_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        let millis = duration.as_millis();
        return if millis == 0 {
            "0s".into()
        } else {
            format!("{millis}ms")
        };
    }
    let secs = duration.as_secs_f64();
    let hours = (secs / 3600.0).floor();
    let minutes = ((secs - hours * 3600.0) / 60.0).floor();
    let seconds = secs - hours * 3600.0 - minutes * 60.0;
    let seconds = if seconds.fract() == 0.0 {
        format!("{seconds:.0}s")
    } else {
        format!("{seconds}s")
    };
    match (hours as u64, minutes as u64) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

pub(super) fn serialize_duration<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_go_duration(*duration))
}

/// Parses a byte size: a plain number or one with a `Ki`, `Mi` or `Gi` suffix.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let (number, factor) = match text.trim() {
        t if t.ends_with("Gi") => (&t[..t.len() - 2], 1usize << 30),
        t if t.ends_with("Mi") => (&t[..t.len() - 2], 1 << 20),
        t if t.ends_with("Ki") => (&t[..t.len() - 2], 1 << 10),
        t => (t, 1),
    };
    let number: usize = number
        .parse()
        .map_err(|_| format!("invalid byte size {text:?}"))?;
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("byte size {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_durations_are_refused_with_their_value() {
        for text in [
            "99999999999999999999h",
            "2562048h",
            "1e400s",
            "9999999999999999999999999999999999999s",
        ] {
            let err = parse_go_duration(text).unwrap_err();
            assert!(err.contains(text) || err.contains("invalid"), "{text}: {err}");
        }
        let err = parse_go_duration("99999999999999999999h").unwrap_err();
        assert_eq!(
            err,
            "duration \"99999999999999999999h\" is out of range (at most 2562047h47m16s)"
        );
        assert_eq!(
            parse_go_duration("2562047h").unwrap(),
            Duration::from_secs(2_562_047 * 3600)
        );
        assert_eq!(parse_go_duration("1h30m").unwrap(), Duration::from_secs(5400));
    }
}
