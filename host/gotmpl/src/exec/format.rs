//! Go's default formatting (`%v`, `print`, `{{ . }}`) of template values.

use minijinja::value::Value;

use crate::value::{self, Complex, GoKind};

/// Splits `f` into its shortest round-trip decimal digits and decimal exponent (`d.ddd × 10^exp`).
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    (mant.replace('.', ""), exp.parse().unwrap_or(0))
}

/// Writes an exponent the way Go does: a sign and at least two digits.
fn push_exponent(out: &mut String, e: char, exp: i32) {
    out.push(e);
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, exponent form iff the exponent is < -4 or >= 6.
pub fn float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let (digits, exp) = shortest_digits(f);
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        push_exponent(&mut out, 'e', exp);
    } else if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Formats a complex number as Go prints `complex128`: `(re+imi)`.
pub fn complex(c: &Complex) -> String {
    let im = float_g(c.im);
    let sign = if im.starts_with('-') || im.starts_with('+') {
        ""
    } else {
        "+"
    };
    format!("({}{}{}i)", float_g(c.re), sign, im)
}

/// Go's `%v` of a value; nil and missing values print `<nil>`.
pub fn go_v(v: &Value, out: &mut String) {
    match value::kind(v) {
        GoKind::Missing | GoKind::Nil => out.push_str("<nil>"),
        GoKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        GoKind::Int => out.push_str(&v.as_i64().unwrap_or(0).to_string()),
        GoKind::Float => out.push_str(&float_g(value::as_f64(v).unwrap_or(0.0))),
        GoKind::Complex => out.push_str(
            &v.downcast_object_ref::<Complex>()
                .map(complex)
                .unwrap_or_default(),
        ),
        GoKind::String => out.push_str(v.as_str().unwrap_or_default()),
        GoKind::List => {
            out.push('[');
            for (i, item) in value::list_items(v).iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_v(item, out);
            }
            out.push(']');
        }
        GoKind::Map => {
            out.push_str("map[");
            for (i, (k, item)) in value::map_entries(v).iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                go_v(item, out);
            }
            out.push(']');
        }
    }
}

/// `%v` as a new string.
pub fn to_v(v: &Value) -> String {
    let mut s = String::new();
    go_v(v, &mut s);
    s
}

/// What an action `{{ pipeline }}` writes: `<no value>` for nil and missing values, `%v` otherwise.
pub fn action_output(v: &Value) -> String {
    match value::kind(v) {
        GoKind::Missing | GoKind::Nil => "<no value>".into(),
        _ => to_v(v),
    }
}

/// `fmt.Sprint`: operands joined, with a space between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = value::kind(a) == GoKind::String;
        if i > 0 && !is_str && value::kind(&args[i - 1]) != GoKind::String {
            out.push(' ');
        }
        go_v(a, &mut out);
    }
    out
}

/// `fmt.Sprintln`: operands always separated by spaces, plus a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        go_v(a, &mut out);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_go_g_shortest() {
        let cases = [
            (999999.0, "999999"),
            (1000000.0, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (1234567.891, "1.234567891e+06"),
            (4.0, "4"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0"),
            (0.30000000000000004, "0.30000000000000004"),
            (1e21, "1e+21"),
            (-2.5, "-2.5"),
            (1.5e-7, "1.5e-07"),
        ];
        for (f, want) in cases {
            assert_eq!(float_g(f), want, "{f}");
        }
    }

    #[test]
    fn collections_print_like_go() {
        let v = crate::value::from_json(&serde_json::json!({"m": {"a": null, "b": [null, 1]}, "s": "x"}));
        assert_eq!(to_v(&v), "map[m:map[a:<nil> b:[<nil> 1]] s:x]");
        assert_eq!(action_output(&Value::UNDEFINED), "<no value>");
        assert_eq!(
            sprint(&[
                Value::from(1i64),
                Value::from(2i64),
                Value::from("a"),
                Value::from(3i64)
            ]),
            "1 2a3"
        );
        assert_eq!(complex(&Complex { re: 0.0, im: 1.0 }), "(0+1i)");
    }
}
