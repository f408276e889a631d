//! Go's comparison built-ins: `eq` (multi-argument), `ne`, `lt`, `le`, `gt`, `ge`.
//!
//! Go compares only "basic kinds" and never converts between them, so a `float64` from data and an `int`
//! literal are incompatible; missing and nil values are equal to each other and unequal to anything else.

use std::cmp::Ordering;

use minijinja::value::Value;

use super::{FnErr, arity, arity_min};
use crate::exec::printf::sprintf;
use crate::value::{self, GoKind};

fn valid(k: GoKind) -> bool {
    !matches!(k, GoKind::Missing | GoKind::Nil)
}

fn incompatible(a: &Value, b: &Value) -> FnErr {
    FnErr::Call(format!(
        "incompatible types for comparison: {} and {}",
        value::type_name(a),
        value::type_name(b)
    ))
}

/// Go's `eq` of two values (one step of the multi-argument form).
fn eq2(a: &Value, b: &Value) -> Result<bool, FnErr> {
    let (ka, kb) = (value::kind(a), value::kind(b));
    let basic = |k| {
        matches!(
            k,
            GoKind::Bool | GoKind::Int | GoKind::Float | GoKind::String | GoKind::Complex
        )
    };
    // Missing and nil are both Go's "invalid" kind here.
    let norm = |k| if valid(k) { k } else { GoKind::Nil };
    let collection = |k| matches!(k, GoKind::List | GoKind::Map);
    if norm(ka) != norm(kb) && !(collection(ka) && collection(kb)) {
        if valid(ka) && valid(kb) {
            return Err(incompatible(a, b));
        }
        return Ok(false);
    }
    if basic(ka) {
        return Ok(match ka {
            GoKind::Bool => a.is_true() == b.is_true(),
            GoKind::Int => a.as_i64() == b.as_i64(),
            GoKind::Float => value::as_f64(a) == value::as_f64(b),
            GoKind::String => a.as_str() == b.as_str(),
            _ => {
                let c = |v: &Value| v.downcast_object_ref::<value::Complex>().map(|c| (c.re, c.im));
                c(a) == c(b)
            }
        });
    }
    if !valid(ka) {
        return Ok(true);
    }
    if ka != kb {
        return Err(FnErr::Call(format!(
            "non-comparable types {}: {}, {}: {}",
            sprintf("%s", std::slice::from_ref(a)),
            value::type_name(a),
            value::type_name(b),
            sprintf("%s", std::slice::from_ref(b))
        )));
    }
    Err(FnErr::Call(format!(
        "non-comparable type {}: {}",
        sprintf("%s", std::slice::from_ref(b)),
        value::type_name(b)
    )))
}

/// `eq a b c...`: true if `a` equals any of the others.
pub fn eq(args: &[Value]) -> Result<Value, FnErr> {
    arity_min(args, 1)?;
    if args.len() == 1 {
        return Err(FnErr::Call("missing argument for comparison".into()));
    }
    for b in &args[1..] {
        if eq2(&args[0], b)? {
            return Ok(Value::from(true));
        }
    }
    Ok(Value::from(false))
}

/// `ne a b`.
pub fn ne(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    Ok(Value::from(!eq2(&args[0], &args[1])?))
}

/// Go's ordering of two basic values.
fn order(a: &Value, b: &Value) -> Result<Ordering, FnErr> {
    let bad = || FnErr::Call("invalid type for comparison".into());
    let (ka, kb) = (value::kind(a), value::kind(b));
    let ordered = |k| {
        matches!(
            k,
            GoKind::Bool | GoKind::Int | GoKind::Float | GoKind::String | GoKind::Complex
        )
    };
    if !ordered(ka) || !ordered(kb) {
        return Err(bad());
    }
    if ka != kb {
        return Err(incompatible(a, b));
    }
    match ka {
        GoKind::Int => Ok(a.as_i64().cmp(&b.as_i64())),
        GoKind::Float => {
            let (x, y) = (value::as_f64(a).unwrap_or(0.0), value::as_f64(b).unwrap_or(0.0));
            // NaN compares false both ways in Go; `Equal` keeps `lt` false and `le` decided by `eq`.
            Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal))
        }
        GoKind::String => Ok(a
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .cmp(b.as_str().unwrap_or_default().as_bytes())),
        _ => Err(bad()),
    }
}

/// `lt a b`.
pub fn lt(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    Ok(Value::from(order(&args[0], &args[1])? == Ordering::Less))
}

/// `le a b`.
pub fn le(args: &[Value]) -> Result<Value, FnErr> {
    arity(args, 2)?;
    let o = order(&args[0], &args[1])?;
    Ok(Value::from(o == Ordering::Less || eq2(&args[0], &args[1])?))
}

/// `gt a b`.
pub fn gt(args: &[Value]) -> Result<Value, FnErr> {
    le(args).map(|v| Value::from(!v.is_true()))
}

/// `ge a b`.
pub fn ge(args: &[Value]) -> Result<Value, FnErr> {
    lt(args).map(|v| Value::from(!v.is_true()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: fn(&[Value]) -> Result<Value, FnErr>, a: Value, b: Value) -> Result<bool, FnErr> {
        f(&[a, b]).map(|v| v.is_true())
    }

    #[test]
    fn go_typing_rules() {
        let f = |x: f64| Value::from(x);
        let i = |x: i64| Value::from(x);
        assert_eq!(call(eq, f(3.0), f(3.0)), Ok(true));
        assert_eq!(
            call(eq, f(3.0), i(3)),
            Err(FnErr::Call(
                "incompatible types for comparison: float64 and int".into()
            ))
        );
        assert_eq!(call(eq, Value::UNDEFINED, Value::from("x")), Ok(false));
        assert_eq!(call(eq, Value::from(()), Value::UNDEFINED), Ok(true));
        assert_eq!(
            call(lt, Value::UNDEFINED, i(1)),
            Err(FnErr::Call("invalid type for comparison".into()))
        );
        assert_eq!(
            call(lt, Value::from(true), Value::from(false)),
            Err(FnErr::Call("invalid type for comparison".into()))
        );
        assert_eq!(call(lt, Value::from("Z"), Value::from("a")), Ok(true));
        assert_eq!(call(le, i(2), i(2)), Ok(true));
        assert_eq!(call(gt, f(1.0), f(0.5)), Ok(true));
        assert_eq!(call(ge, i(1), i(2)), Ok(false));
        assert_eq!(call(ne, Value::from(()), Value::from(())), Ok(false));
        assert_eq!(
            eq(&[i(1)]),
            Err(FnErr::Call("missing argument for comparison".into()))
        );
        let l = crate::value::from_json(&serde_json::json!([1]));
        assert_eq!(
            call(eq, l.clone(), l),
            Err(FnErr::Call(
                "non-comparable type [%!s(float64=1)]: []interface {}".into()
            ))
        );
    }
}
