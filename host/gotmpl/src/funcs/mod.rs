//! The function maps: Go's built-ins, upstream's deployment and manifest functions, and a small Sprig set.
//!
//! Every function takes already-evaluated arguments (the piped value last) and reports failures as [`FnErr`],
//! which the executor turns into Go's messages with the right node position.

mod builtin;
mod capacity;
mod compare;
mod sprig;
mod upstream;

use minijinja::value::Value;

use crate::FuncMap;
use crate::value::{self, GoKind};

/// Why a function call failed; positions and the function name are added by the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum FnErr {
    /// The function returned an error: `error calling NAME: MSG`.
    Call(String),
    /// Wrong argument count: `wrong number of args for NAME: want WANT got GOT`.
    Arity {
        /// `"2"` or `"at least 1"`.
        want: String,
        /// Arguments given.
        got: usize,
    },
    /// An argument does not fit the parameter type.
    Arg {
        /// Zero-based argument index (the piped value is the last one).
        index: usize,
        /// Go parameter type: `int`, `string`, `bool`.
        want: &'static str,
        /// What was given.
        got: GoKind,
    },
    /// `call` of something that is not a function: `non-function ARG of type T`.
    NotFunction {
        /// Argument index.
        index: usize,
        /// Go type name of the value.
        type_name: &'static str,
    },
    /// The result would exceed the output size limit.
    TooLarge,
}

/// Signature shared by all template functions.
pub type Func = fn(&[Value]) -> Result<Value, FnErr>;

/// Checks for exactly `n` arguments.
pub fn arity(args: &[Value], n: usize) -> Result<(), FnErr> {
    if args.len() == n {
        Ok(())
    } else {
        Err(FnErr::Arity {
            want: n.to_string(),
            got: args.len(),
        })
    }
}

/// Checks for at least `n` arguments.
pub fn arity_min(args: &[Value], n: usize) -> Result<(), FnErr> {
    if args.len() >= n {
        Ok(())
    } else {
        Err(FnErr::Arity {
            want: format!("at least {n}"),
            got: args.len(),
        })
    }
}

/// An `int` parameter.
pub fn int_arg(args: &[Value], index: usize) -> Result<i64, FnErr> {
    value::as_int(&args[index]).ok_or(FnErr::Arg {
        index,
        want: "int",
        got: value::kind(&args[index]),
    })
}

/// A `string` parameter.
pub fn str_arg(args: &[Value], index: usize) -> Result<&str, FnErr> {
    match value::kind(&args[index]) {
        GoKind::String => Ok(args[index].as_str().unwrap_or_default()),
        got => Err(FnErr::Arg {
            index,
            want: "string",
            got,
        }),
    }
}

/// A `bool` parameter.
pub fn bool_arg(args: &[Value], index: usize) -> Result<bool, FnErr> {
    match value::kind(&args[index]) {
        GoKind::Bool => Ok(args[index].is_true()),
        got => Err(FnErr::Arg {
            index,
            want: "bool",
            got,
        }),
    }
}

/// Functions available in both maps (Go built-ins except `and`/`or`/`not`, plus the Sprig set).
const SHARED: &[(&str, Func)] = &[
    ("eq", compare::eq),
    ("ne", compare::ne),
    ("lt", compare::lt),
    ("le", compare::le),
    ("gt", compare::gt),
    ("ge", compare::ge),
    ("len", builtin::len),
    ("index", builtin::index),
    ("slice", builtin::slice),
    ("print", builtin::print),
    ("printf", builtin::printf),
    ("println", builtin::println),
    ("html", builtin::html),
    ("js", builtin::js),
    ("urlquery", builtin::urlquery),
    ("call", builtin::call),
    ("quote", sprig::quote),
    ("squote", sprig::squote),
    ("toJson", sprig::to_json),
    ("trim", sprig::trim),
    ("upper", sprig::upper),
    ("lower", sprig::lower),
    ("replace", sprig::replace),
    ("hasKey", sprig::has_key),
    ("dict", sprig::dict),
    ("list", sprig::list),
    ("ternary", sprig::ternary),
    ("b64enc", sprig::b64enc),
    ("b64dec", sprig::b64dec),
    ("required", sprig::required),
    ("empty", sprig::empty),
    ("coalesce", sprig::coalesce),
];

/// Functions only in upstream's deployment map (`templateFuncMap()`), with Sprig's `indent`.
const DEPLOYMENT: &[(&str, Func)] = &[
    ("and", upstream::and),
    ("or", upstream::or),
    ("not", upstream::not),
    ("default", upstream::default),
    ("toYaml", upstream::to_yaml),
    ("nindent", upstream::nindent),
    ("indent", sprig::indent),
];

/// Functions only in the manifest map; Go's short-circuit `and`/`or` are compiled inline, not listed here.
const MANIFEST: &[(&str, Func)] = &[("not", builtin::not), ("indent", upstream::indent)];

/// Every function of a map, by Go name.
pub fn functions(map: FuncMap) -> impl Iterator<Item = (&'static str, Func)> {
    let own = match map {
        FuncMap::Deployment => DEPLOYMENT,
        FuncMap::Manifest => MANIFEST,
    };
    SHARED.iter().chain(own.iter()).copied()
}

/// Whether `name` is defined in a map (the parser rejects other names, as Go does).
pub fn exists(map: FuncMap, name: &str) -> bool {
    (map == FuncMap::Manifest && matches!(name, "and" | "or")) || functions(map).any(|(n, _)| n == name)
}
