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

/// Parses a number token; errors carry Go's messages.
pub fn parse_number(text: &str) -> Result<Number, String> {
    if let Some(im) = text.strip_suffix('i') {
        let f = parse_float(im).or_else(|| parse_int(im).map(|i| i as f64));
        return f
            .map(|f| Number::Complex(0.0, f))
            .ok_or_else(|| format!("illegal number syntax: {text:?}"));
    }
    let lower = text.to_ascii_lowercase();
    let is_hex = lower.trim_start_matches(['+', '-']).starts_with("0x");
    let floaty = if is_hex {
        lower.contains('p')
    } else {
        lower.contains(['.', 'e'])
    };
    if !floaty {
        if let Some(i) = parse_int(text) {
            return Ok(Number::Int(i));
        }
        if text
            .trim_start_matches(['+', '-'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_')
            && text.len() > 1
        {
            return Err(format!("integer overflow: {text:?}"));
        }
        return Err(format!("illegal number syntax: {text:?}"));
    }
    parse_float(text)
        .map(Number::Float)
        .ok_or_else(|| format!("illegal number syntax: {text:?}"))
}

fn parse_float(text: &str) -> Option<f64> {
    if text.to_ascii_lowercase().contains("0x") || text.contains("__") || text.ends_with('_') {
        return None;
    }
    let clean = text.replace('_', "");
    let body = clean.trim_start_matches(['+', '-']);
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    clean.parse::<f64>().ok()
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
        assert_eq!(
            parse_number("99999999999999999999"),
            Err("integer overflow: \"99999999999999999999\"".into())
        );
    }
}
