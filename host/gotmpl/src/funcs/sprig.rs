//! A small Sprig/Helm function set available in both maps, with Sprig's semantics.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minijinja::value::Value;

use super::{FnErr, arity, bool_arg, int_arg, str_arg};
use crate::exec::format;
use crate::exec::printf::quote as go_quote;
use crate::value::{self, GoKind};

/// Sprig's `strval`: strings as is, everything else with `%v`.
fn strval(v: &Value) -> String {
    format::to_v(v)
}

/// `indent N STRING` (Sprig): pads every line, including empty ones.
pub fn indent(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    let n = int_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    let lines = s.matches('\n').count() as u128 + 1;
    if n < 0 {
        return Err(FnErr::Call("strings: negative Repeat count".into()));
    }
    if (n as u128) * lines + s.len() as u128 > crate::exec::runtime::output_cap() as u128 {
        return Err(FnErr::TooLarge);
    }
    let pad = " ".repeat(n as usize);
    Ok(Value::from(format!(
        "{pad}{}",
        s.replace('\n', &format!("\n{pad}"))
    )))
}

/// `quote a b ...`: each non-nil argument as a Go double-quoted string, joined by spaces.
pub fn quote(args: &[Value]) -> Result<Value, FnErr> {
    let out: Vec<String> = args
        .iter()
        .filter(|a| !matches!(value::kind(a), GoKind::Missing | GoKind::Nil))
        .map(|a| go_quote(&strval(a)))
        .collect();
    Ok(Value::from(out.join(" ")))
}

/// `squote a b ...`: each non-nil argument in single quotes (no escaping), joined by spaces.
pub fn squote(args: &[Value]) -> Result<Value, FnErr> {
    let out: Vec<String> = args
        .iter()
        .filter(|a| !matches!(value::kind(a), GoKind::Missing | GoKind::Nil))
        .map(|a| format!("'{}'", strval(a)))
        .collect();
    Ok(Value::from(out.join(" ")))
}

/// Go's `encoding/json` float formatting.
fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = crate::exec::float::format_float(f, 'e', None);
        // encoding/json writes e-07 as e-7.
        match s.split_once("e-0") {
            Some((m, e)) => format!("{m}e-{e}"),
            None => s.replacen("e+0", "e+", 1),
        }
    } else {
        let s = format!("{f}");
        if s == "-0" { "-0".into() } else { s }
    }
}

/// Go's `encoding/json` string escaping, including its HTML-safe escapes.
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json(v: &Value, out: &mut String) {
    match value::kind(v) {
        GoKind::Missing | GoKind::Nil | GoKind::Complex => out.push_str("null"),
        GoKind::Bool | GoKind::Int => out.push_str(&format::to_v(v)),
        GoKind::Float => out.push_str(&json_float(value::as_f64(v).unwrap_or(0.0))),
        GoKind::String => json_string(v.as_str().unwrap_or_default(), out),
        GoKind::List => {
            out.push('[');
            for (i, item) in value::list_items(v).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(item, out);
            }
            out.push(']');
        }
        GoKind::Map => {
            out.push('{');
            for (i, (k, item)) in value::map_entries(v).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                json(item, out);
            }
            out.push('}');
        }
    }
}

/// `toJson v`: Go's `json.Marshal` (sorted keys, HTML-safe escapes); Sprig ignores marshalling errors.
pub fn to_json(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    let mut out = String::new();
    json(&args[0], &mut out);
    Ok(Value::from(out))
}

/// `trim s`: `strings.TrimSpace`.
pub fn trim(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    Ok(Value::from(str_arg(args, 0)?.trim()))
}

/// `upper s`.
pub fn upper(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    Ok(Value::from(str_arg(args, 0)?.to_uppercase()))
}

/// `lower s`.
pub fn lower(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    Ok(Value::from(str_arg(args, 0)?.to_lowercase()))
}

/// `replace OLD NEW SRC` (so `.s | replace "a" "b"` works).
pub fn replace(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 3)?;
    let (old, new, src) = (str_arg(args, 0)?, str_arg(args, 1)?, str_arg(args, 2)?);
    if old.is_empty() {
        // strings.Replace with an empty old string inserts `new` around every character.
        let mut out = new.to_string();
        for c in src.chars() {
            out.push(c);
            out.push_str(new);
        }
        return Ok(Value::from(out));
    }
    Ok(Value::from(src.replace(old, new)))
}

/// `hasKey MAP KEY`.
pub fn has_key(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    match value::kind(&args[0]) {
        GoKind::Map => {}
        GoKind::Missing => {}
        got => {
            return Err(FnErr::Arg {
                index: 0,
                want: "map[string]interface {}",
                got,
            });
        }
    }
    let key = str_arg(args, 1)?;
    Ok(Value::from(
        value::kind(&args[0]) == GoKind::Map && value::map_get(&args[0], key).is_some(),
    ))
}

/// Refuses to build a list or map deeper than [`value::MAX_DEPTH`] (a loop could otherwise nest values until
/// printing or dropping them overflows the stack).
fn check_depth(args: &[Value]) -> Result<(), FnErr> {
    if args.iter().any(|a| value::deeper_than(a, value::MAX_DEPTH - 1)) {
        return Err(FnErr::Call(format!(
            "value nested deeper than {} levels",
            value::MAX_DEPTH
        )));
    }
    Ok(())
}

/// `dict k1 v1 k2 v2 ...`: keys are stringified; a trailing key without value maps to `""`.
pub fn dict(args: &[Value]) -> Result<Value, FnErr> {
    check_depth(args)?;
    let mut map = std::collections::BTreeMap::new();
    for pair in args.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_else(|| Value::from(""));
        map.insert(strval(&pair[0]), v);
    }
    Ok(Value::from_pairs(map))
}

/// `list a b ...`.
pub fn list(args: &[Value]) -> Result<Value, FnErr> {
    check_depth(args)?;
    Ok(Value::from(args.to_vec()))
}

/// `ternary TRUE FALSE COND` (so `.cond | ternary "a" "b"` works).
pub fn ternary(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 3)?;
    Ok(if bool_arg(args, 2)? {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

/// `b64enc s`.
pub fn b64enc(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    Ok(Value::from(STANDARD.encode(str_arg(args, 0)?)))
}

/// `b64dec s`: like Sprig, a decoding failure is returned as the result text, not as an error.
pub fn b64dec(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    let s = str_arg(args, 0)?;
    Ok(Value::from(match STANDARD.decode(s) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(base64::DecodeError::InvalidByte(at, _)) | Err(base64::DecodeError::InvalidLastSymbol(at, _)) => {
            format!("illegal base64 data at input byte {at}")
        }
        Err(_) => format!(
            "illegal base64 data at input byte {}",
            s.len().saturating_sub(s.len() % 4)
        ),
    }))
}

/// `required MSG VALUE`: fails with MSG when VALUE is nil or `""`.
pub fn required(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    let msg = str_arg(args, 0)?;
    let v = &args[1];
    let missing = match value::kind(v) {
        GoKind::Missing | GoKind::Nil => true,
        GoKind::String => v.as_str() == Some(""),
        _ => false,
    };
    if missing {
        Err(FnErr::Call(msg.to_string()))
    } else {
        Ok(v.clone())
    }
}

/// `empty v`: Sprig's emptiness (nil, zero numbers, `false`, empty string/list/map).
pub fn empty(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    Ok(Value::from(!value::truth(&args[0])))
}

/// `coalesce a b ...`: the first non-empty argument, or nil.
pub fn coalesce(args: &[Value]) -> Result<Value, FnErr> {
    Ok(args
        .iter()
        .find(|a| value::truth(a))
        .cloned()
        .unwrap_or(Value::from(())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Result<Value, FnErr>) -> String {
        format::to_v(&v.unwrap())
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            s(indent(&[Value::from(2i64), Value::from("a\n\nb")])),
            "  a\n  \n  b"
        );
        assert_eq!(
            s(quote(&[Value::from("a\"b"), Value::from(()), Value::from(1.5)])),
            "\"a\\\"b\" \"1.5\""
        );
        assert_eq!(s(squote(&[Value::from("x"), Value::from(2i64)])), "'x' '2'");
        assert_eq!(s(trim(&[Value::from("  x \n")])), "x");
        assert_eq!(s(upper(&[Value::from("aé")])), "AÉ");
        assert_eq!(s(lower(&[Value::from("AB")])), "ab");
        assert_eq!(
            s(replace(&[
                Value::from("a"),
                Value::from("b"),
                Value::from("banana")
            ])),
            "bbnbnb"
        );
        assert_eq!(s(b64enc(&[Value::from("hello")])), "aGVsbG8=");
        assert_eq!(s(b64dec(&[Value::from("aGVsbG8=")])), "hello");
        assert_eq!(
            s(b64dec(&[Value::from("a*")])),
            "illegal base64 data at input byte 1"
        );
        assert!(matches!(
            upper(&[Value::from(1i64)]),
            Err(FnErr::Arg { want: "string", .. })
        ));
    }

    #[test]
    fn json_matches_encoding_json() {
        let v =
            value::from_json(&serde_json::json!({"b": [1, 2.5, null], "a": "<&>", "e": 1e-7, "big": 1e21}));
        assert_eq!(
            s(to_json(&[v])),
            r#"{"a":"\u003c\u0026\u003e","b":[1,2.5,null],"big":1e+21,"e":1e-7}"#
        );
    }

    #[test]
    fn collection_functions() {
        let d = dict(&[Value::from("a"), Value::from(1i64), Value::from("b")]).unwrap();
        assert_eq!(format::to_v(&d), "map[a:1 b:]");
        assert_eq!(s(has_key(&[d.clone(), Value::from("a")])), "true");
        assert_eq!(s(has_key(&[d, Value::from("z")])), "false");
        assert_eq!(s(list(&[Value::from(1i64), Value::from("x")])), "[1 x]");
        assert_eq!(
            s(ternary(&[Value::from("y"), Value::from("n"), Value::from(false)])),
            "n"
        );
        assert_eq!(
            required(&[Value::from("need x"), Value::from("")]),
            Err(FnErr::Call("need x".into()))
        );
        assert_eq!(s(required(&[Value::from("need x"), Value::from(0.0)])), "0");
        assert_eq!(s(empty(&[Value::from(0.0)])), "true");
        assert_eq!(s(empty(&[Value::from(" ")])), "false");
        assert_eq!(
            s(coalesce(&[Value::from(""), Value::UNDEFINED, Value::from("z")])),
            "z"
        );
        assert_eq!(s(coalesce(&[Value::from("")])), "<nil>");
    }
}
