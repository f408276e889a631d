//! Go number literals and how `text/template` types them: `int` unless the text has a fraction or exponent.

/// A typed number constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// `int`.
    Int(i64),
    /// `float64`.
    Float(f64),
    /// `complex128` (real, imaginary).
    Complex(f64, f64),
}

/// Parses an integer literal with Go's base prefixes and digit separators.
fn parse_int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty()
        || digits.starts_with('_') && !prefixed
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean = digits.replace('_', "");
    let mag = u64::from_str_radix(&clean, radix).ok()?;
    if neg {
        if mag == 1 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(mag).ok().map(|m| -m)
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Parses a number token as Go's `text/template/parse` does, with its messages: an integer when the text is
/// one, else a float (decimal or hexadecimal); integral text that only fits a float overflows.
pub fn parse_number(text: &str) -> Result<Number, String> {
    if let Some(im) = text.strip_suffix('i')
        && let Some(f) = parse_float(im)
    {
        return Ok(Number::Complex(0.0, f));
    }
    if let Some(i) = parse_int(text) {
        return Ok(Number::Int(i));
    }
    match parse_float(text) {
        Some(_) if !text.contains(['.', 'e', 'E', 'p', 'P']) => Err(format!("integer overflow: {text:?}")),
        Some(f) => Ok(Number::Float(f)),
        None => Err(format!("illegal number syntax: {text:?}")),
    }
}

/// Go's `strconv` rule for `_`: only between digits, or between a base prefix and a digit.
fn underscores_ok(text: &str) -> bool {
    let s = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    // 0: a digit or base prefix; b'_': an underscore; b'!': anything else; b'^': the start.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseFloat(text, 64)`: decimal or hexadecimal (`0x1.8p3`) syntax; `None` on a syntax error or
/// overflow.
fn parse_float(text: &str) -> Option<f64> {
    if text.contains('_') && !underscores_ok(text) {
        return None;
    }
    let clean = text.replace('_', "");
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let f = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        parse_hex_float(hex)?
    } else {
        if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    if f.is_infinite() {
        return None;
    }
    Some(if neg { -f } else { f })
}

/// The part of a hexadecimal float after `0x`: hex digits with an optional point, then a mandatory binary
/// exponent `p±N`. Rounds to nearest, ties to even, like Go.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp_digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    if exp_digits.is_empty() || !exp_digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Absurd exponents saturate; the result is then zero or an overflow either way.
    let e: i64 = exp_digits.parse::<i64>().unwrap_or(i64::MAX / 4).min(1 << 40);
    let mut e = if exp.starts_with('-') { -e } else { e };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut m: u64 = 0;
    let mut sticky = false;
    for (i, c) in int_part.bytes().chain(frac_part.bytes()).enumerate() {
        let d = u64::from(char::from(c).to_digit(16)?);
        let fraction = i >= int_part.len();
        if m >> 60 == 0 {
            m = m * 16 + d;
            if fraction {
                e -= 4;
            }
        } else {
            sticky |= d != 0;
            if !fraction {
                e += 4;
            }
        }
    }
    Some(scale(m, sticky, e))
}

/// `m × 2^e` rounded to the nearest double (ties to even), `sticky` meaning non-zero bits below `m`.
fn scale(mut m: u64, sticky: bool, mut e: i64) -> f64 {
    if m == 0 {
        return 0.0;
    }
    let bits = 64 - i64::from(m.leading_zeros());
    // Exponent of the leading bit, and the precision a double has there (fewer bits once subnormal).
    let lead = e + bits - 1;
    if lead > 1023 {
        return f64::INFINITY;
    }
    let precision = if lead < -1022 { 53 - (-1022 - lead) } else { 53 };
    let shift = bits - precision;
    if shift > 0 {
        if shift > 64 {
            return 0.0;
        }
        let dropped = if shift == 64 { m } else { m & ((1u64 << shift) - 1) };
        let half = 1u64 << (shift - 1);
        m = if shift == 64 { 0 } else { m >> shift };
        e += shift;
        if dropped > half || dropped == half && (sticky || m & 1 == 1) {
            m += 1;
        }
        if m == 0 {
            return 0.0;
        }
    }
    // Exact from here: m has at most 54 bits and m × 2^e is representable (or overflows to infinity).
    let mut f = m as f64;
    let mut k = e;
    while k > 0 {
        let step = k.min(1000);
        f *= 2f64.powi(step as i32);
        k -= step;
    }
    while k < 0 {
        let step = (-k).min(1000);
        f /= 2f64.powi(step as i32);
        k += step;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_literal_typing() {
        assert_eq!(parse_number("42"), Ok(Number::Int(42)));
        assert_eq!(parse_number("-7"), Ok(Number::Int(-7)));
        assert_eq!(parse_number("0x1F"), Ok(Number::Int(31)));
        assert_eq!(parse_number("017"), Ok(Number::Int(15)));
        assert_eq!(parse_number("0o17"), Ok(Number::Int(15)));
        assert_eq!(parse_number("0b101"), Ok(Number::Int(5)));
        assert_eq!(parse_number("1_000"), Ok(Number::Int(1000)));
        assert_eq!(parse_number("1e3"), Ok(Number::Float(1000.0)));
        assert_eq!(parse_number("3.0"), Ok(Number::Float(3.0)));
        assert_eq!(parse_number("1i"), Ok(Number::Complex(0.0, 1.0)));
        assert_eq!(parse_number("-"), Err("illegal number syntax: \"-\"".into()));
        assert_eq!(parse_number("0x1.8p1"), Ok(Number::Float(3.0)));
        assert_eq!(parse_number("0x1p-1074"), Ok(Number::Float(5e-324)));
        assert_eq!(parse_number("0x1p-1075"), Ok(Number::Float(0.0)));
        assert_eq!(parse_number("0x3p-1075"), Ok(Number::Float(1e-323)));
        assert_eq!(parse_number("0x1.fffffffffffff8p0"), Ok(Number::Float(2.0)));
        assert_eq!(
            parse_number("0x1p1024"),
            Err("illegal number syntax: \"0x1p1024\"".into())
        );
        assert_eq!(parse_number("1_"), Err("illegal number syntax: \"1_\"".into()));
        assert_eq!(
            parse_number("99999999999999999999"),
            Err("integer overflow: \"99999999999999999999\"".into())
        );
    }
}
