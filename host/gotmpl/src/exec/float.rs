//! Go's `strconv.FormatFloat` for the formats `fmt` uses (`e`, `E`, `f`, `g`, `G`) and `fmt`'s float flags.
//!
//! Digits come from Rust's formatter, which rounds correctly like Go's; the layout rules (when `%g` switches to
//! an exponent, how many digits `%G` keeps, the `#` flag) follow Go's.

/// More decimal digits than any double needs: its exact value has at most 767 significant digits and 1074
/// digits after the point. Rust's formatter refuses precisions above 65535, so larger ones are padded with the
/// zeros they would produce.
const EXACT_DIGITS: usize = 1100;

/// Decimal digits of `|f|`: the value is `0.d₁d₂… × 10^dp`. Zero has no digits and `dp == 0`, as in Go.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Shortest round-trip digits (`sig == None`), or the digits rounded to `sig` significant ones with trailing
/// zeros removed.
fn digits(f: f64, sig: Option<usize>) -> Digits {
    if f == 0.0 {
        return Digits { d: Vec::new(), dp: 0 };
    }
    let s = match sig {
        Some(n) => format!("{:.*e}", n.clamp(1, EXACT_DIGITS) - 1, f.abs()),
        None => format!("{:e}", f.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    Digits {
        d,
        dp: exp.parse::<i32>().unwrap_or(0) + 1,
    }
}

/// `%e` layout: `d.ddd` with `prec` fraction digits, then the exponent with a sign and at least two digits.
fn fmt_e(out: &mut String, digs: &Digits, prec: usize, e: char) {
    out.push(digs.d.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        while i < digs.d.len().min(prec + 1) {
            out.push(digs.d[i] as char);
            i += 1;
        }
        for _ in i..=prec {
            out.push('0');
        }
    }
    out.push(e);
    let exp = if digs.d.is_empty() { 0 } else { digs.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

/// `%f` layout with `prec` fraction digits.
fn fmt_f(out: &mut String, digs: &Digits, prec: usize) {
    let nd = digs.d.len() as i32;
    if digs.dp > 0 {
        let m = nd.min(digs.dp);
        out.extend(digs.d[..m as usize].iter().map(|&c| c as char));
        for _ in m..digs.dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i32 {
            let j = digs.dp + i - 1;
            out.push(if (0..nd).contains(&j) {
                digs.d[j as usize] as char
            } else {
                '0'
            });
        }
    }
}

/// `strconv.FormatFloat(f, fmt, prec, 64)` for `fmt` in `e E f g G` (`prec == None` is Go's `-1`).
pub fn format_float(f: f64, fmt: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    match fmt {
        'e' | 'E' => {
            let digs = digits(f, prec.map(|p| p + 1));
            let p = prec.unwrap_or(digs.d.len().max(1) - 1);
            fmt_e(&mut out, &digs, p, fmt);
        }
        'f' => match prec {
            Some(p) => {
                out.push_str(&format!("{:.*}", p.min(EXACT_DIGITS), f.abs()));
                out.extend(std::iter::repeat_n('0', p.saturating_sub(EXACT_DIGITS)));
            }
            None => {
                let digs = digits(f, None);
                fmt_f(&mut out, &digs, (digs.d.len() as i32 - digs.dp).max(0) as usize);
            }
        },
        _ => {
            let shortest = prec.is_none();
            let digs = digits(f, prec.map(|p| p.max(1)));
            let nd = digs.d.len() as i32;
            let mut p = prec.map_or(nd, |p| p.max(1) as i32);
            let mut eprec = p;
            if eprec > nd && nd >= digs.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = digs.dp - 1;
            let e = if fmt == 'G' { 'E' } else { 'e' };
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &digs, (p - 1).max(0) as usize, e);
            } else {
                if p > digs.dp {
                    p = nd;
                }
                fmt_f(&mut out, &digs, (p - digs.dp).max(0) as usize);
            }
        }
    }
    out
}

/// Flags of `fmt.fmtFloat` that change the number itself (padding is applied by the caller).
#[derive(Debug, Clone, Copy, Default)]
pub struct FloatFlags {
    /// `+`: always print a sign.
    pub plus: bool,
    /// ` `: a space where a `+` would go.
    pub space: bool,
    /// `#`: always a decimal point; `%g` keeps trailing zeros.
    pub sharp: bool,
}

/// `fmt`'s formatting of a float for `verb` (`e E f F g G`, or `v` as `g`) with an optional precision.
pub fn fmt_float(f: f64, verb: char, prec: Option<usize>, flags: FloatFlags) -> String {
    let verb = match verb {
        'v' => 'g',
        'F' => 'f',
        v => v,
    };
    let prec = prec.or(match verb {
        'e' | 'E' | 'f' => Some(6),
        _ => None,
    });
    let mut num = format_float(f, verb, prec);
    if flags.sharp && f.is_finite() {
        let mut digits: i64 = match verb {
            'g' | 'G' => prec.map_or(6, |p| p as i64),
            _ => 0,
        };
        let (body, tail) = match num.find(['e', 'E']) {
            Some(i) => num.split_at(i),
            None => (num.as_str(), ""),
        };
        let tail = tail.to_string();
        let mut body = body.to_string();
        let unsigned = body.trim_start_matches('-');
        let has_point = unsigned.contains('.');
        let mut seen_nonzero = false;
        for c in unsigned.chars().filter(char::is_ascii_digit) {
            if c != '0' {
                seen_nonzero = true;
            }
            if seen_nonzero {
                digits -= 1;
            }
        }
        if !has_point {
            if unsigned == "0" {
                digits -= 1;
            }
            body.push('.');
        }
        while digits > 0 {
            body.push('0');
            digits -= 1;
        }
        body.push_str(&tail);
        num = body;
    }
    if !num.starts_with('-') && f.is_finite() || num == "+Inf" {
        let rest = num.trim_start_matches('+');
        if flags.plus {
            return format!("+{rest}");
        }
        if flags.space {
            return format!(" {rest}");
        }
        return rest.to_string();
    }
    num
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_strconv() {
        let cases: &[(f64, char, Option<usize>, &str)] = &[
            (1234.5678, 'G', None, "1234.5678"),
            (1.2345e-5, 'G', None, "1.2345E-05"),
            (100000.0, 'G', Some(3), "1E+05"),
            (1e21, 'G', Some(10), "1E+21"),
            (0.5, 'g', Some(3), "0.5"),
            (1234.5678, 'E', None, "1.2345678E+03"),
            (1234.5678, 'e', Some(3), "1.235e+03"),
            (0.0, 'e', Some(2), "0.00e+00"),
            (-0.0, 'g', None, "-0"),
            (123456789.0, 'g', None, "1.23456789e+08"),
            (3.0, 'f', Some(0), "3"),
            (1e-7, 'g', Some(3), "1e-07"),
            (1.5, 'f', Some(1200), &format!("1.5{}", "0".repeat(1199))),
            (2.5, 'e', Some(70000), &format!("2.5{}e+00", "0".repeat(69999))),
        ];
        for &(f, fmt, prec, want) in cases {
            assert_eq!(format_float(f, fmt, prec), want, "{f} {fmt} {prec:?}");
        }
    }

    #[test]
    fn sharp_flag_keeps_the_point_and_zeros() {
        let sharp = FloatFlags {
            sharp: true,
            ..FloatFlags::default()
        };
        assert_eq!(fmt_float(100000.0, 'G', None, sharp), "100000.");
        assert_eq!(fmt_float(-0.0, 'G', None, sharp), "-0.00000");
        assert_eq!(fmt_float(0.5, 'G', Some(3), sharp), "0.500");
        assert_eq!(fmt_float(1e21, 'G', None, sharp), "1.00000E+21");
        let plus = FloatFlags {
            plus: true,
            ..FloatFlags::default()
        };
        assert_eq!(fmt_float(1.5, 'E', None, plus), "+1.500000E+00");
    }
}
