//! Upstream's own functions: the deployment map's `and`/`or`/`not`/`default`/`toYaml`/`nindent` and the
//! manifest map's `indent`.

use minijinja::value::Value;

use super::{FnErr, arity, arity_min, int_arg, str_arg};
use crate::value::is_zero;

/// `and a b ...` (deployment map): every argument is evaluated; true iff none is empty. Upstream takes exactly
/// two arguments; any number ≥ 1 is accepted here (a deliberate superset).
pub fn and(args: &[Value]) -> Result<Value, FnErr> {
    arity_min(args, 1)?;
    Ok(Value::from(args.iter().all(|a| !is_zero(a))))
}

/// `or a b ...` (deployment map): the first non-empty argument, else the last one. Upstream takes exactly two.
pub fn or(args: &[Value]) -> Result<Value, FnErr> {
    arity_min(args, 1)?;
    Ok(args
        .iter()
        .find(|a| !is_zero(a))
        .unwrap_or(&args[args.len() - 1])
        .clone())
}

/// `not v` (deployment map): whether `v` is empty.
pub fn not(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    Ok(Value::from(is_zero(&args[0])))
}

/// `default DEFAULT VALUE`: `VALUE` unless it is empty.
pub fn default(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    Ok(if is_zero(&args[1]) {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

/// `toYaml VALUE`: Go's `sigs.k8s.io/yaml` marshalling (via JSON).
pub fn to_yaml(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 1)?;
    crate::yaml::to_yaml_value(&args[0])
        .map(Value::from)
        .map_err(|e| FnErr::Call(e.to_string()))
}

/// A padding of `n` spaces, refusing negative counts and sizes beyond the output cap.
fn padding(n: i64, lines: usize, text_len: usize) -> Result<String, FnErr> {
    if n < 0 {
        return Err(FnErr::Call("strings: negative Repeat count".into()));
    }
    let total = (n as u128) * (lines as u128 + 1) + text_len as u128;
    if total > crate::exec::runtime::output_cap() as u128 {
        return Err(FnErr::TooLarge);
    }
    Ok(" ".repeat(n as usize))
}

/// `nindent N STRING` (upstream's, not Sprig's): drops blank edge lines and trailing newlines, indents the
/// non-blank lines and wraps the result in newlines; an all-blank input gives `""`.
pub fn nindent(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    let n = int_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    let trimmed = s.trim_end_matches('\n');
    let lines: Vec<&str> = trimmed.split('\n').collect();
    let blank = |l: &&str| l.trim().is_empty();
    let Some(first) = lines.iter().position(|l| !blank(l)) else {
        return Ok(Value::from(""));
    };
    let last = lines.iter().rposition(|l| !blank(l)).unwrap_or(first);
    let pad = padding(n, lines.len(), s.len())?;
    let mut out = String::with_capacity(s.len() + (last - first + 1) * pad.len() + 2);
    out.push('\n');
    for (i, l) in lines[first..=last].iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !blank(l) {
            out.push_str(&pad);
        }
        out.push_str(l);
    }
    out.push('\n');
    Ok(Value::from(out))
}

/// `indent N STRING` (manifest map): pads every non-empty line; no leading newline, nothing trimmed.
pub fn indent(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    let n = int_arg(args, 0)?;
    let s = str_arg(args, 1)?;
    let pad = padding(n, s.matches('\n').count(), s.len())?;
    let out: Vec<String> = s
        .split('\n')
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect();
    Ok(Value::from(out.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Result<Value, FnErr>) -> String {
        v.unwrap().as_str().unwrap().to_string()
    }

    #[test]
    fn nindent_matches_upstream() {
        let n = |k: i64, t: &str| s(nindent(&[Value::from(k), Value::from(t)]));
        assert_eq!(n(2, "hello"), "\n  hello\n");
        assert_eq!(n(4, "line1\nline2\nline3"), "\n    line1\n    line2\n    line3\n");
        assert_eq!(n(2, "line1\nline2\n"), "\n  line1\n  line2\n");
        assert_eq!(n(2, "\n\nline1"), "\n  line1\n");
        assert_eq!(n(0, "hello"), "\nhello\n");
        assert_eq!(n(2, ""), "");
        assert_eq!(n(2, "  \n  "), "");
        assert_eq!(n(2, "a\r\nb\r\n"), "\n  a\r\n  b\r\n");
        assert_eq!(n(2, "a\n\nb"), "\n  a\n\n  b\n");
        assert!(matches!(
            nindent(&[Value::from("a"), Value::from("b")]),
            Err(FnErr::Arg {
                index: 0,
                want: "int",
                ..
            })
        ));
        assert!(matches!(
            nindent(&[Value::from(1i64), Value::UNDEFINED]),
            Err(FnErr::Arg { index: 1, .. })
        ));
        assert_eq!(
            nindent(&[Value::from(1i64)]),
            Err(FnErr::Arity {
                want: "2".into(),
                got: 1
            })
        );
    }

    #[test]
    fn indent_pads_non_empty_lines() {
        assert_eq!(
            s(indent(&[Value::from(2i64), Value::from("a\n\nb\n")])),
            "  a\n\n  b\n"
        );
        assert_eq!(s(indent(&[Value::from(0i64), Value::from("a\nb")])), "a\nb");
        assert_eq!(
            indent(&[Value::from(i64::MAX), Value::from("a")]),
            Err(FnErr::TooLarge)
        );
    }

    #[test]
    fn logic_uses_is_zero() {
        let f = |x: f64| Value::from(x);
        assert_eq!(or(&[Value::from(""), f(0.0)]).unwrap(), f(0.0));
        assert_eq!(
            or(&[f(0.0), Value::from("x"), Value::from("y")])
                .unwrap()
                .as_str(),
            Some("x")
        );
        assert_eq!(
            and(&[Value::from("a"), Value::from("b")]).unwrap(),
            Value::from(true)
        );
        assert_eq!(
            and(&[Value::from(1i64), Value::from(1i64), Value::UNDEFINED]).unwrap(),
            Value::from(false)
        );
        assert_eq!(not(&[Value::from(())]).unwrap(), Value::from(true));
        assert_eq!(
            default(&[Value::from("d"), Value::from("")]).unwrap().as_str(),
            Some("d")
        );
        assert_eq!(
            default(&[Value::from("d"), Value::from("false")])
                .unwrap()
                .as_str(),
            Some("false")
        );
        assert_eq!(
            or(&[]),
            Err(FnErr::Arity {
                want: "at least 1".into(),
                got: 0
            })
        );
    }

    #[test]
    fn to_yaml_goes_through_json() {
        let v = crate::value::from_json(&serde_json::json!({"b": [1, 2.5], "a": "x", "n": null}));
        assert_eq!(s(to_yaml(&[v])), "a: x\nb:\n- 1\n- 2.5\n\"n\": null\n");
        assert_eq!(s(to_yaml(&[Value::UNDEFINED])), "null\n");
        assert_eq!(s(to_yaml(&[Value::from(5i64)])), "5\n");
        assert_eq!(
            to_yaml(&[]),
            Err(FnErr::Arity {
                want: "1".into(),
                got: 0
            })
        );
    }
}
