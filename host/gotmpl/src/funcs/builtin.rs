//! Go's `text/template` built-in functions (except the comparisons and the short-circuit `and`/`or`).

use minijinja::value::Value;

use super::{FnErr, arity, arity_min, str_arg};
use crate::exec::format::{self, sprint};
use crate::exec::printf::sprintf;
use crate::value::{self, GoKind};

/// `len`: bytes of a string, elements of a list or map.
pub fn len(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    let v = &args[0];
    match value::kind(v) {
        GoKind::String => Ok(Value::from(v.as_str().unwrap_or_default().len() as i64)),
        GoKind::List | GoKind::Map => Ok(Value::from(v.len().unwrap_or(0) as i64)),
        GoKind::Missing => Err(FnErr::Call(
            "reflect: call of reflect.Value.Type on zero Value".into(),
        )),
        GoKind::Nil => Err(FnErr::Call("len of nil pointer".into())),
        _ => Err(FnErr::Call(format!("len of type {}", value::type_name(v)))),
    }
}

/// An index argument for lists and strings: Go accepts only integer kinds. Like Go's `indexArg`, an index
/// equal to the length passes the range check and then fails in `reflect` (`what` names the container).
fn index_of(key: &Value, len: usize, what: &str) -> Result<usize, FnErr> {
    match value::kind(key) {
        GoKind::Int => {
            let i = key.as_i64().unwrap_or(-1);
            if i < 0 || i as u64 > len as u64 {
                Err(FnErr::Call(format!("index out of range: {i}")))
            } else if i as u64 == len as u64 {
                Err(FnErr::Call(format!("reflect: {what} index out of range")))
            } else {
                Ok(i as usize)
            }
        }
        GoKind::Missing | GoKind::Nil => Err(FnErr::Call("cannot index slice/array with nil".into())),
        _ => Err(FnErr::Call(format!(
            "cannot index slice/array with type {}",
            value::type_name(key)
        ))),
    }
}

/// `index x k1 k2 ...`.
pub fn index(args: &[Value]) -> Result<Value, FnErr> {
    arity_min(args, 1)?;
    let mut cur = args[0].clone();
    for key in &args[1..] {
        cur = match value::kind(&cur) {
            GoKind::List => {
                let items = value::list_items(&cur);
                items[index_of(key, items.len(), "slice")?].clone()
            }
            GoKind::String => {
                let s = cur.as_str().unwrap_or_default().as_bytes().to_vec();
                Value::from(s[index_of(key, s.len(), "string")?] as i64)
            }
            GoKind::Map => match value::kind(key) {
                GoKind::String => {
                    value::map_get(&cur, key.as_str().unwrap_or_default()).unwrap_or(Value::from(()))
                }
                GoKind::Missing | GoKind::Nil => Value::from(()),
                _ => {
                    return Err(FnErr::Call(format!(
                        "value has type {}; should be string",
                        value::type_name(key)
                    )));
                }
            },
            GoKind::Missing | GoKind::Nil => return Err(FnErr::Call("index of untyped nil".into())),
            _ => {
                return Err(FnErr::Call(format!(
                    "can't index item of type {}",
                    value::type_name(&cur)
                )));
            }
        };
    }
    Ok(cur)
}

/// A slice bound: an `int` within `0..=cap`.
fn slice_bound(v: &Value, cap: usize) -> Result<usize, FnErr> {
    match value::kind(v) {
        GoKind::Int => {
            let i = v.as_i64().unwrap_or(-1);
            if i < 0 || i as u64 > cap as u64 {
                Err(FnErr::Call(format!("index out of range: {i}")))
            } else {
                Ok(i as usize)
            }
        }
        GoKind::Missing | GoKind::Nil => Err(FnErr::Call("cannot index slice/array with nil".into())),
        _ => Err(FnErr::Call(format!(
            "cannot index slice/array with type {}",
            value::type_name(v)
        ))),
    }
}

/// `slice x i j k`: Go's `x[i:j:k]` for lists and strings. Indexes are checked against the capacity: a list's is
/// the one Go's JSON decoding gives it (see [`super::capacity`]), and the elements between its length and
/// capacity are nil, as in Go.
pub fn slice(args: &[Value]) -> Result<Value, FnErr> {
    arity_min(args, 1)?;
    let x = &args[0];
    let idx = &args[1..];
    if idx.len() > 3 {
        return Err(FnErr::Call(format!("too many slice indexes: {}", idx.len())));
    }
    let (len, is_str) = match value::kind(x) {
        GoKind::List => (x.len().unwrap_or(0), false),
        GoKind::String => {
            if idx.len() == 3 {
                return Err(FnErr::Call("cannot 3-index slice a string".into()));
            }
            (x.as_str().unwrap_or_default().len(), true)
        }
        GoKind::Missing | GoKind::Nil => return Err(FnErr::Call("slice of untyped nil".into())),
        _ => {
            return Err(FnErr::Call(format!(
                "can't slice item of type {}",
                value::type_name(x)
            )));
        }
    };
    let cap = if is_str {
        len
    } else {
        super::capacity::decoded_list_cap(len)
    };
    let mut b = [0usize, len, cap];
    for (n, v) in idx.iter().enumerate() {
        b[n] = slice_bound(v, cap)?;
    }
    if idx.len() < 2 {
        b[1] = len;
    }
    if b[0] > b[1] {
        return Err(FnErr::Call(format!("invalid slice index: {} > {}", b[0], b[1])));
    }
    if idx.len() == 3 && b[1] > b[2] {
        return Err(FnErr::Call(format!("invalid slice index: {} > {}", b[1], b[2])));
    }
    if is_str {
        let s = x.as_str().unwrap_or_default().as_bytes();
        return Ok(Value::from(String::from_utf8_lossy(&s[b[0]..b[1]]).into_owned()));
    }
    let items = value::list_items(x);
    Ok(Value::from(
        (b[0]..b[1])
            .map(|i| items.get(i).cloned().unwrap_or(Value::from(())))
            .collect::<Vec<_>>(),
    ))
}

/// `print`.
pub fn print(args: &[Value]) -> Result<Value, FnErr> {
    Ok(Value::from(sprint(args)))
}

/// `println`.
pub fn println(args: &[Value]) -> Result<Value, FnErr> {
    Ok(Value::from(format::sprintln(args)))
}

/// `printf FORMAT args...`.
pub fn printf(args: &[Value]) -> Result<Value, FnErr> {
    arity_min(args, 1)?;
    let f = str_arg(args, 0)?;
    Ok(Value::from(sprintf(f, &args[1..])))
}

/// The string the escapers work on: a single string argument as is, otherwise `fmt.Sprint` of all.
fn escaper_input(args: &[Value]) -> String {
    if args.len() == 1 && value::kind(&args[0]) == GoKind::String {
        return args[0].as_str().unwrap_or_default().to_string();
    }
    sprint(args)
}

/// `html`: escapes `<>&'"` and replaces NUL with U+FFFD.
pub fn html(args: &[Value]) -> Result<Value, FnErr> {
    let s = escaper_input(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Ok(Value::from(out))
}

/// `js`: escapes for JavaScript string literals the way Go's `JSEscapeString` does.
pub fn js(args: &[Value]) -> Result<Value, FnErr> {
    let s = escaper_input(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    Ok(Value::from(out))
}

/// `urlquery`: `url.QueryEscape`.
pub fn urlquery(args: &[Value]) -> Result<Value, FnErr> {
    let s = escaper_input(args);
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::from(out))
}

/// `call`: data never holds functions, so this always fails the way Go does for non-functions.
pub fn call(args: &[Value]) -> Result<Value, FnErr> {
    arity_min(args, 1)?;
    match value::kind(&args[0]) {
        GoKind::Missing | GoKind::Nil => Err(FnErr::Call("call of nil".into())),
        _ => Err(FnErr::NotFunction {
            index: 0,
            type_name: value::type_name(&args[0]),
        }),
    }
}

/// Go's built-in `not`: the negated truth of its argument.
pub fn not(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    Ok(Value::from(!value::truth(&args[0])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(v: serde_json::Value) -> Value {
        value::from_json(&v)
    }

    #[test]
    fn index_and_slice() {
        let l = j(serde_json::json!(["a", "b"]));
        assert_eq!(
            index(&[l.clone(), Value::from(1i64)]).unwrap().as_str(),
            Some("b")
        );
        assert_eq!(
            index(&[l.clone(), Value::from(5i64)]),
            Err(FnErr::Call("index out of range: 5".into()))
        );
        assert_eq!(
            index(&[l.clone(), Value::from(1.0)]),
            Err(FnErr::Call("cannot index slice/array with type float64".into()))
        );
        assert_eq!(
            index(&[Value::UNDEFINED, Value::from(1i64)]),
            Err(FnErr::Call("index of untyped nil".into()))
        );
        assert_eq!(
            index(&[Value::from("abc"), Value::from(1i64)]).unwrap().as_i64(),
            Some(98)
        );
        assert_eq!(
            slice(&[Value::from("abcdef"), Value::from(1i64), Value::from(3i64)])
                .unwrap()
                .as_str(),
            Some("bc")
        );
        assert_eq!(
            slice(&[l, Value::from(2i64), Value::from(1i64)]),
            Err(FnErr::Call("invalid slice index: 2 > 1".into()))
        );
    }

    #[test]
    fn len_and_escapers() {
        assert_eq!(len(&[Value::from("héllo")]).unwrap().as_i64(), Some(6));
        assert_eq!(
            len(&[Value::from(5.0)]),
            Err(FnErr::Call("len of type float64".into()))
        );
        assert_eq!(
            len(&[]),
            Err(FnErr::Arity {
                want: "1".into(),
                got: 0
            })
        );
        assert_eq!(
            html(&[Value::from("<a href=\"x\">&'")]).unwrap().as_str(),
            Some("&lt;a href=&#34;x&#34;&gt;&amp;&#39;")
        );
        assert_eq!(
            js(&[Value::from("it's <\n")]).unwrap().as_str(),
            Some("it\\'s \\u003C\\u000A")
        );
        assert_eq!(
            urlquery(&[Value::from("a b&c")]).unwrap().as_str(),
            Some("a+b%26c")
        );
        assert_eq!(call(&[Value::UNDEFINED]), Err(FnErr::Call("call of nil".into())));
        assert_eq!(not(&[Value::from(0i64)]).unwrap(), Value::from(true));
    }

    #[test]
    fn print_family() {
        let args = [
            Value::from("a"),
            Value::from(1i64),
            Value::from(2.5),
            Value::from(()),
        ];
        assert_eq!(print(&args).unwrap().as_str(), Some("a1 2.5 <nil>"));
        assert_eq!(println(&args).unwrap().as_str(), Some("a 1 2.5 <nil>\n"));
        assert_eq!(
            printf(&[Value::from("%s=%v"), Value::from("k"), Value::from(1.0)])
                .unwrap()
                .as_str(),
            Some("k=1")
        );
        assert!(matches!(
            printf(&[Value::from(1i64)]),
            Err(FnErr::Arg {
                index: 0,
                want: "string",
                ..
            })
        ));
        assert_eq!(
            printf(&[]),
            Err(FnErr::Arity {
                want: "at least 1".into(),
                got: 0
            })
        );
    }
}
