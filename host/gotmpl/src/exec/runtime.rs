//! The runtime functions the translated templates call, and the side channel that carries Go-level failures
//! (with their site) out of minijinja.

use std::cell::{Cell, RefCell};

use minijinja::value::Value;
use minijinja::{Environment, Error as MjError, ErrorKind as MjKind};

use super::compile::mj_func;
use super::format;
use crate::FuncMap;
use crate::funcs::{self, FnErr};
use crate::value::{self, GoKind};

/// A Go-level failure raised by a runtime function.
#[derive(Debug, Clone)]
pub enum Fault {
    /// A message at a site.
    At(usize, String),
    /// A function failure at a call site.
    Func(usize, FnErr),
}

thread_local! {
    static FAULT: RefCell<Option<Fault>> = const { RefCell::new(None) };
    static LAST_INCLUDE: Cell<usize> = const { Cell::new(usize::MAX) };
    // Outside a render (e.g. a function called directly) the default limit applies.
    static OUTPUT_CAP: Cell<usize> = const { Cell::new(crate::DEFAULT_MAX_OUTPUT_BYTES) };
}

/// Prepares the thread for one render.
pub fn begin(output_cap: usize) {
    FAULT.with(|f| f.borrow_mut().take());
    LAST_INCLUDE.with(|c| c.set(usize::MAX));
    OUTPUT_CAP.with(|c| c.set(output_cap));
}

/// Takes the failure recorded during the last render, if any.
pub fn take_fault() -> Option<Fault> {
    FAULT.with(|f| f.borrow_mut().take())
}

/// The site of the most recently entered `{{template}}` call.
pub fn last_include() -> Option<usize> {
    let s = LAST_INCLUDE.with(Cell::get);
    (s != usize::MAX).then_some(s)
}

/// The output size limit of the current render (functions refuse to build larger strings).
pub fn output_cap() -> usize {
    OUTPUT_CAP.with(Cell::get)
}

fn raise(fault: Fault) -> MjError {
    FAULT.with(|f| *f.borrow_mut() = Some(fault));
    MjError::new(MjKind::InvalidOperation, "go template execution failed")
}

/// `g_field(site * 4 + mode, base, names...)`: Go's field chain evaluation on maps.
///
/// Mode bit 1: the base is `.` (a nil dot is an error rather than "missing"); bit 2: the command has
/// arguments (an error when the last field is a map key).
fn field(site_mode: usize, base: Value, names: &[Value]) -> Result<Value, MjError> {
    field_chain(site_mode, base, names)
}

/// `g_field1(site * 4 + mode, base, name)`: the common one-field chain, without collecting the names.
fn field1(site_mode: usize, base: Value, name: Value) -> Result<Value, MjError> {
    field_chain(site_mode, base, std::slice::from_ref(&name))
}

fn field_chain(site_mode: usize, base: Value, names: &[Value]) -> Result<Value, MjError> {
    let (site, mode) = (site_mode / 4, site_mode % 4);
    let mut cur = base;
    for (i, key) in names.iter().enumerate() {
        let name = key.as_str().unwrap_or_default();
        match value::kind(&cur) {
            GoKind::Missing => return Ok(Value::UNDEFINED),
            GoKind::Nil if i == 0 && mode & 1 == 0 => return Ok(Value::UNDEFINED),
            GoKind::Nil => {
                return Err(raise(Fault::At(
                    site,
                    format!("nil pointer evaluating interface {{}}.{name}"),
                )));
            }
            GoKind::Map => {
                if mode & 2 != 0 && i + 1 == names.len() {
                    return Err(raise(Fault::At(
                        site,
                        format!("{name} is not a method but has arguments"),
                    )));
                }
                cur = cur.get_item(key).unwrap_or(Value::UNDEFINED);
            }
            _ => {
                let ty = if i == 0 && mode & 1 == 0 {
                    value::type_name(&cur)
                } else {
                    "interface {}"
                };
                return Err(raise(Fault::At(
                    site,
                    format!("can't evaluate field {name} in type {ty}"),
                )));
            }
        }
    }
    Ok(cur)
}

/// `g_range(site, vars, v)`: the `[key, value]` pairs Go's `range` visits; `vars` is the number of declared
/// variables (an integer can only feed one).
fn range(site: usize, vars: usize, v: Value) -> Result<Value, MjError> {
    match value::kind(&v) {
        GoKind::Missing | GoKind::Nil => Ok(Value::from(Vec::<Value>::new())),
        GoKind::List => {
            let items = value::list_items(&v);
            Ok(Value::make_one_shot_iterator(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| Value::from(vec![Value::from(i as i64), x])),
            ))
        }
        GoKind::Map => Ok(Value::make_one_shot_iterator(
            value::map_entries(&v)
                .into_iter()
                .map(|(k, x)| Value::from(vec![Value::from(k), x])),
        )),
        GoKind::Int if vars > 1 => Err(raise(Fault::At(
            site,
            format!(
                "can't use {} to iterate over more than one variable",
                format::to_v(&v)
            ),
        ))),
        GoKind::Int => {
            let n = v.as_i64().unwrap_or(0).max(0);
            // Lazy, so that `range 1000000000` costs fuel per iteration instead of memory up front.
            Ok(Value::make_one_shot_iterator(
                (0..n).map(|i| Value::from(vec![Value::from(i), Value::from(i)])),
            ))
        }
        _ => Err(raise(Fault::At(
            site,
            format!("range can't iterate over {}", format::to_v(&v)),
        ))),
    }
}

/// Registers the runtime and the functions of `map` on an environment.
pub fn install(env: &mut Environment<'static>, map: FuncMap) {
    env.set_formatter(|out, _state, v| {
        match v.as_str() {
            Some(s) if value::kind(v) == GoKind::String => out.write_str(s),
            _ => out.write_str(&format::action_output(v)),
        }
        .map_err(|_| MjError::new(MjKind::WriteFailure, "writing the output failed"))
    });
    env.add_function("g_field", field);
    env.add_function("g_field1", field1);
    env.add_function("g_range", range);
    env.add_function("g_fail", |site: usize| -> Result<Value, MjError> {
        Err(raise(Fault::At(site, String::new())))
    });
    env.add_function("g_arity", |site: usize, got: usize| -> Result<Value, MjError> {
        Err(raise(Fault::Func(
            site,
            FnErr::Arity {
                want: "at least 1".into(),
                got,
            },
        )))
    });
    env.add_function("g_at", |site: usize| {
        LAST_INCLUDE.with(|c| c.set(site));
        ""
    });
    for (name, f) in funcs::functions(map) {
        env.add_function(
            mj_func(map, name),
            move |site: usize, args: &[Value]| -> Result<Value, MjError> {
                let out = f(args).map_err(|e| raise(Fault::Func(site, e)))?;
                // A guard against values that grow without bound (e.g. a string doubled in a loop).
                if out.as_str().is_some_and(|s| s.len() > output_cap()) {
                    return Err(raise(Fault::Func(site, FnErr::TooLarge)));
                }
                Ok(out)
            },
        );
    }
}
