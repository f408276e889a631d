//! Go's `fmt.Sprintf` for the value types a template can hold.

use minijinja::value::Value;

use super::float::{FloatFlags, fmt_float};
use super::format::{self, go_v};
use crate::value::{self, Complex, GoKind};

/// Parsed flags, width and precision of one verb.
#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Hard cap for widths and precisions so a hostile format string cannot allocate without bound.
const MAX_WIDTH: usize = 1 << 20;

/// Formats like Go's `fmt.Sprintf(format, args...)`, including Go's `%!verb(type=value)` error annotations.
pub fn sprintf(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = fmt.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = read_num(&mut chars, args, &mut next, &mut out, "BADWIDTH", &mut spec.minus);
        if chars.peek().map(|p| p.1) == Some('.') {
            chars.next();
            let mut dummy = false;
            spec.prec =
                Some(read_num(&mut chars, args, &mut next, &mut out, "BADPREC", &mut dummy).unwrap_or(0));
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let body = format_one(verb, &spec, arg);
        pad(&mut out, &body, &spec, verb, arg);
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[next..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(value::type_name(a));
            out.push('=');
            go_v(a, &mut out);
        }
        out.push(')');
    }
    out
}

/// Reads a width or precision: digits, or `*` taking an `int` argument.
fn read_num(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    args: &[Value],
    next: &mut usize,
    out: &mut String,
    bad: &str,
    minus: &mut bool,
) -> Option<usize> {
    if chars.peek().map(|p| p.1) == Some('*') {
        chars.next();
        let arg = args.get(*next);
        *next += 1;
        return match arg.and_then(value::as_int) {
            Some(n) => {
                if n < 0 {
                    *minus = true;
                }
                Some((n.unsigned_abs() as usize).min(MAX_WIDTH))
            }
            None => {
                out.push_str(&format!("%!({bad})"));
                None
            }
        };
    }
    let mut n: Option<usize> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(digit) = d.to_digit(10) else { break };
        n = Some((n.unwrap_or(0) * 10 + digit as usize).min(MAX_WIDTH));
        chars.next();
    }
    n
}

/// Pads a formatted operand to the requested width.
fn pad(out: &mut String, body: &str, spec: &Spec, verb: char, arg: &Value) {
    if value::kind(arg) == GoKind::Complex && matches!(verb, 'v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G') {
        // Both parts were padded already.
        out.push_str(body);
        return;
    }
    let len = body.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        out.push_str(body);
        return;
    }
    let fill = width - len;
    let numeric = matches!(value::kind(arg), GoKind::Int | GoKind::Float) && verb != 'v' || verb == 'd';
    if spec.minus {
        out.push_str(body);
        out.push_str(&" ".repeat(fill));
    } else if spec.zero && numeric && !body.starts_with('%') {
        let (sign, digits) = match body.strip_prefix(['-', '+']) {
            Some(rest) => (&body[..1], rest),
            None => ("", body),
        };
        out.push_str(sign);
        out.push_str(&"0".repeat(fill));
        out.push_str(digits);
    } else {
        out.push_str(&" ".repeat(fill));
        out.push_str(body);
    }
}

/// `%!verb(type=value)` for an operand of the wrong type.
fn bad_verb(verb: char, arg: &Value) -> String {
    match value::kind(arg) {
        GoKind::Missing | GoKind::Nil => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", value::type_name(arg), format::to_v(arg)),
    }
}

/// Formats one operand for one verb, without width padding.
fn format_one(verb: char, spec: &Spec, arg: &Value) -> String {
    let k = value::kind(arg);
    if verb == 'T' {
        return value::type_name(arg).to_string();
    }
    if verb == 'v' && spec.sharp {
        return sharp_v(arg);
    }
    match k {
        GoKind::List if verb != 'v' => {
            let items: Vec<String> = value::list_items(arg)
                .iter()
                .map(|i| format_one(verb, spec, i))
                .collect();
            return format!("[{}]", items.join(" "));
        }
        GoKind::Map if verb != 'v' => {
            let items: Vec<String> = value::map_entries(arg)
                .iter()
                .map(|(key, i)| {
                    format!(
                        "{}:{}",
                        format_one(verb, spec, &Value::from(key.as_str())),
                        format_one(verb, spec, i)
                    )
                })
                .collect();
            return format!("map[{}]", items.join(" "));
        }
        _ => {}
    }
    match (verb, k) {
        ('v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G', GoKind::Float) => fmt_float(
            value::as_f64(arg).unwrap_or(0.0),
            verb,
            spec.prec,
            float_flags(spec),
        ),
        ('v' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G', GoKind::Complex) => {
            let Some(c) = arg.downcast_object_ref::<Complex>() else {
                return bad_verb(verb, arg);
            };
            // Go formats (and pads) both parts as floats; the imaginary part always has a sign.
            let mut out = String::from("(");
            let re = fmt_float(c.re, verb, spec.prec, float_flags(spec));
            pad(&mut out, &re, spec, verb, &Value::from(c.re));
            let im_flags = FloatFlags {
                plus: true,
                ..float_flags(spec)
            };
            let im = fmt_float(c.im, verb, spec.prec, im_flags);
            pad(&mut out, &im, spec, verb, &Value::from(c.im));
            out.push_str("i)");
            out
        }
        ('v', GoKind::Int) => with_sign(format::to_v(arg), spec),
        ('v', _) => format::to_v(arg),
        ('s', GoKind::String) => truncate(arg.as_str().unwrap_or_default(), spec.prec),
        ('q', GoKind::String) => quote(arg.as_str().unwrap_or_default()),
        ('x' | 'X', GoKind::String) => {
            let s: String = arg
                .as_str()
                .unwrap_or_default()
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect();
            if verb == 'X' { s.to_uppercase() } else { s }
        }
        ('t', GoKind::Bool) => format::to_v(arg),
        ('d' | 'b' | 'o' | 'O' | 'x' | 'X' | 'c' | 'q' | 'U', GoKind::Int) => {
            int_verb(verb, spec, arg.as_i64().unwrap_or(0))
        }
        _ => bad_verb(verb, arg),
    }
}

/// Applies the `+` and space flags to a formatted number.
fn with_sign(s: String, spec: &Spec) -> String {
    if s.starts_with('-') || s.starts_with('+') {
        s
    } else if spec.plus {
        format!("+{s}")
    } else if spec.space {
        format!(" {s}")
    } else {
        s
    }
}

/// Integer verbs.
fn int_verb(verb: char, spec: &Spec, i: i64) -> String {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let digits = match verb {
        'd' => a.to_string(),
        'b' => format!("{a:b}"),
        'o' => format!("{}{a:o}", if spec.sharp { "0" } else { "" }),
        'O' => format!("0o{a:o}"),
        'x' => format!("{}{a:x}", if spec.sharp { "0x" } else { "" }),
        'X' => format!("{}{a:X}", if spec.sharp { "0X" } else { "" }),
        'c' => return char::from_u32(i as u32).unwrap_or('\u{FFFD}').to_string(),
        'q' => return format!("'{}'", char::from_u32(i as u32).unwrap_or('\u{FFFD}')),
        _ => return format!("U+{:04X}", i),
    };
    with_sign(if neg { format!("-{digits}") } else { digits }, spec)
}

/// The flags of a verb that shape a float.
fn float_flags(spec: &Spec) -> FloatFlags {
    FloatFlags {
        plus: spec.plus,
        space: spec.space,
        sharp: spec.sharp,
    }
}

/// Truncates a string to a precision in characters.
fn truncate(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

/// `strconv.Quote`: a double-quoted Go string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%#v`: Go-syntax representation.
fn sharp_v(arg: &Value) -> String {
    match value::kind(arg) {
        GoKind::Missing | GoKind::Nil => "interface {}(nil)".into(),
        GoKind::String => quote(arg.as_str().unwrap_or_default()),
        GoKind::List => {
            let items: Vec<String> = value::list_items(arg).iter().map(sharp_v).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        GoKind::Map => {
            let items: Vec<String> = value::map_entries(arg)
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), sharp_v(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
        _ => format::to_v(arg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Value]) -> String {
        sprintf(fmt, args)
    }

    #[test]
    fn verbs_and_annotations() {
        let i = |n: i64| Value::from(n);
        assert_eq!(f("%x %X %o %b", &[i(255), i(255), i(8), i(5)]), "ff FF 10 101");
        assert_eq!(f("%d", &[Value::from(5.0)]), "%!d(float64=5)");
        assert_eq!(
            f("%s", &[Value::from("a"), Value::from("b")]),
            "a%!(EXTRA string=b)"
        );
        assert_eq!(f("%*d", &[i(5), i(3)]), "    3");
        assert_eq!(f("%*d", &[Value::from(5.0), i(3)]), "%!(BADWIDTH)3");
        assert_eq!(
            f("[%5s][%-5s]", &[Value::from("ab"), Value::from("cd")]),
            "[   ab][cd   ]"
        );
        assert_eq!(f("%z", &[i(1)]), "%!z(int=1)");
        assert_eq!(f("%d", &[]), "%!d(MISSING)");
        assert_eq!(
            f("%v|%s", &[Value::from(()), Value::from(())]),
            "<nil>|%!s(<nil>)"
        );
        assert_eq!(f("%q", &[Value::from("a\"b\n")]), "\"a\\\"b\\n\"");
        assert_eq!(
            f("%.2f %05d %x", &[Value::from(1.23456), i(42), Value::from("hi")]),
            "1.23 00042 6869"
        );
        assert_eq!(f("100%%", &[]), "100%");
        assert_eq!(f("%", &[]), "%!(NOVERB)");
    }

    #[test]
    fn sharp_v_is_go_syntax() {
        let l = crate::value::from_json(&serde_json::json!([1, "x", null, true]));
        assert_eq!(
            f("%#v", &[l]),
            "[]interface {}{1, \"x\", interface {}(nil), true}"
        );
    }
}
