//! Go-compatible number formatting as seen through `toYaml` (JSON encoding followed by yaml.v2's emitter).

/// Decimal digits and exponent of the shortest representation that round-trips, as Go's `strconv` computes it.
struct Shortest {
    negative: bool,
    /// Significant digits without leading or trailing zeros (`"0"` for zero).
    digits: String,
    /// Decimal exponent of the first digit (`d.ddd × 10^exp`).
    exp: i32,
}

/// Splits Rust's `{:e}` output (which is the shortest round-trip representation, like Go's `-1` precision).
fn shortest(sci: &str) -> Shortest {
    let (negative, rest) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    let (mantissa, exp) = rest.split_once('e').unwrap_or((rest, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    Shortest {
        negative,
        digits,
        exp: exp.parse().unwrap_or(0),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, exponent form iff the decimal exponent is
/// below -4 or at least 6 (Go uses 6, not the precision, when the precision is "shortest").
pub fn format_g64(f: f64) -> String {
    format_g(
        f.is_nan(),
        f.is_infinite(),
        f.is_sign_negative(),
        &format!("{f:e}"),
    )
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` (used by sigs.k8s.io/yaml for float map keys).
pub fn format_g32(f: f64) -> String {
    // Rounding to the nearest f32 is what Go's FormatFloat(bitSize=32) does first.
    #[allow(clippy::cast_possible_truncation)]
    let narrow = f as f32;
    format_g(
        narrow.is_nan(),
        narrow.is_infinite(),
        narrow.is_sign_negative(),
        &format!("{narrow:e}"),
    )
}

fn format_g(nan: bool, infinite: bool, negative: bool, sci: &str) -> String {
    if nan {
        return "NaN".to_string();
    }
    if infinite {
        return if negative { "-Inf" } else { "+Inf" }.to_string();
    }
    let s = shortest(sci);
    let sign = if s.negative { "-" } else { "" };
    if s.exp < -4 || s.exp >= 6 {
        let (first, rest) = s.digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if s.exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{exp_sign}{:02}", s.exp.abs());
    }
    let nd = s.digits.len() as i32;
    if s.exp < 0 {
        let zeros = "0".repeat((-s.exp - 1) as usize);
        return format!("{sign}0.{zeros}{}", s.digits);
    }
    let int_len = s.exp + 1;
    if nd <= int_len {
        let zeros = "0".repeat((int_len - nd) as usize);
        format!("{sign}{}{zeros}", s.digits)
    } else {
        let (int_part, frac) = s.digits.split_at(int_len as usize);
        format!("{sign}{int_part}.{frac}")
    }
}

/// The scalar text yaml.v2 emits for a JSON float after the JSON → YAML round trip of `sigs.k8s.io/yaml`.
///
/// Go's JSON encoder writes integral values below 1e21 without exponent; yaml.v2 then resolves that text as an
/// int (or uint) when it fits 64 bits and re-emits the same digits. Everything else becomes a YAML float and is
/// printed with `'g'` formatting. Non-finite values cannot come from JSON and are rejected by the caller.
pub fn yaml_float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // Rust's Display prints the shortest round-trip digits padded with zeros, exactly like Go's 'f' format.
        let text = format!("{f}");
        if text == "-0" {
            return "0".to_string();
        }
        if let Ok(v) = text.parse::<i128>()
            && (i64::try_from(v).is_ok() || u64::try_from(v).is_ok())
        {
            return text;
        }
    }
    format_g64(f)
}

#[cfg(test)]
mod tests {
    use super::{format_g32, format_g64, yaml_float_text};

    #[test]
    fn g_format_matches_go() {
        let cases = [
            (0.5, "0.5"),
            (999_999.0, "999999"),
            (1_000_000.0, "1e+06"),
            (123_456_789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (-0.0, "-0"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (f, want) in cases {
            assert_eq!(format_g64(f), want, "{f}");
        }
        assert_eq!(format_g32(std::f64::consts::PI), "3.1415927");
        assert_eq!(format_g32(1e39), "+Inf");
    }

    #[test]
    fn json_round_trip_text() {
        assert_eq!(yaml_float_text(-0.0), "0");
        assert_eq!(yaml_float_text(12_345_678_901.0), "12345678901");
        assert_eq!(yaml_float_text(1e21), "1e+21");
        assert_eq!(yaml_float_text(1.5e-7), "1.5e-07");
        assert_eq!(yaml_float_text(1_234_567.891), "1.234567891e+06");
    }
}
