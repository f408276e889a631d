//! Compiling a template file into a minijinja environment and executing it with Go-shaped errors.

use std::io;
use std::sync::{Arc, OnceLock};

use minijinja::{AutoEscape, Environment, ErrorKind as MjKind, UndefinedBehavior};

use crate::error::{Error, ErrorKind};
use crate::exec::compile::{Program, Site, compile};
use crate::exec::runtime::{self, Fault};
use crate::funcs::{self, FnErr};
use crate::parse::parse;
use crate::value::GoKind;
use crate::{FuncMap, Limits};

/// A compiled template file, ready to execute any number of times.
pub struct Compiled {
    env: Environment<'static>,
    program: Program,
    /// The file's template name (Go's `ParseName`).
    name: String,
    /// The source text, for positions and cache validation.
    pub(crate) source: Arc<str>,
}

/// 1-based line and 0-based byte column of an offset, as Go reports them.
fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let before = &src.as_bytes()[..pos.min(src.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => before.len() - nl - 1,
        None => before.len(),
    };
    (line, col)
}

/// An environment with the syntax settings and the runtime and functions of `map` installed, built once per
/// function map; every compiled file starts from a clone of it.
fn base_environment(map: FuncMap) -> &'static Environment<'static> {
    static BASES: OnceLock<[Environment<'static>; 2]> = OnceLock::new();
    let bases = BASES.get_or_init(|| {
        [FuncMap::Deployment, FuncMap::Manifest].map(|map| {
            let mut env = Environment::new();
            let mut syntax = minijinja::syntax::SyntaxConfig::builder();
            syntax.keep_trailing_newline(true);
            if let Ok(cfg) = syntax.build() {
                env.set_syntax(cfg);
            }
            env.set_auto_escape_callback(|_| AutoEscape::None);
            env.set_undefined_behavior(UndefinedBehavior::Lenient);
            runtime::install(&mut env, map);
            env
        })
    });
    match map {
        FuncMap::Deployment => &bases[0],
        FuncMap::Manifest => &bases[1],
    }
}

/// Parses and translates `source`.
pub fn build(name: &str, source: &str, map: FuncMap, limits: &Limits) -> Result<Compiled, Error> {
    let parsed = parse(name, source, &|f| funcs::exists(map, f)).map_err(|e| {
        let kind = if e.msg.starts_with("function ") && e.msg.ends_with(" not defined") {
            ErrorKind::UndefinedFunction
        } else {
            ErrorKind::Syntax
        };
        Error::new(kind, name, format!("template: {name}:{}: {}", e.line, e.msg)).at(Some(e.line), None)
    })?;
    let program = compile(name, &parsed, map);
    let mut env = base_environment(map).clone();
    env.set_fuel(Some(limits.fuel));
    for (mj, src) in &program.sources {
        env.add_template_owned(mj.clone(), src.clone()).map_err(|e| {
            // The parser's nesting bound keeps templates below minijinja's; this stays as a backstop.
            let msg = if error_chain_mentions(&e, "maximum recursion") {
                format!(
                    "template: {name}: max nesting depth exceeded: the template nests too deeply to be translated"
                )
            } else {
                format!("template: {name}: cannot be translated: {e}")
            };
            Error::new(ErrorKind::Syntax, name, msg).with_source(e)
        })?;
    }
    Ok(Compiled {
        env,
        program,
        name: name.to_string(),
        source: Arc::from(source),
    })
}

/// Whether an error or any of its causes mentions `needle` (minijinja wraps include failures).
fn error_chain_mentions(e: &(dyn std::error::Error + 'static), needle: &str) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.to_string().contains(needle) {
            return true;
        }
        cur = err.source();
    }
    false
}

/// A writer that refuses to grow beyond a limit.
struct Capped {
    buf: Vec<u8>,
    cap: usize,
    exceeded: bool,
}

impl io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.cap {
            self.exceeded = true;
            return Err(io::Error::other("output size limit exceeded"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Compiled {
    /// Executes the main template with `data` as `.`.
    pub fn execute(&self, data: &minijinja::Value, limits: &Limits) -> Result<String, Error> {
        runtime::begin(limits.max_output_bytes);
        let ctx = minijinja::context! { __arg => data.clone(), __k => self.program.consts.clone() };
        let mut out = Capped {
            buf: Vec::new(),
            cap: limits.max_output_bytes,
            exceeded: false,
        };
        let result = self
            .env
            .get_template(&self.program.main)
            .and_then(|t| t.render_captured_to(ctx, &mut out).map(|_| ()));
        match result {
            Ok(_) => Ok(String::from_utf8(out.buf)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
            Err(e) => Err(self.map_error(e, out.exceeded, limits)),
        }
    }

    fn exec_error(&self, kind: ErrorKind, site: &Site, msg: &str) -> Error {
        let (line, col) = line_col(&self.source, site.pos);
        let message = format!(
            "template: {}:{line}:{col}: executing {:?} at <{}>: {msg}",
            self.name, site.template, site.context
        );
        Error::new(kind, &self.name, message).at(Some(line), Some(col))
    }

    fn map_error(&self, e: minijinja::Error, exceeded: bool, limits: &Limits) -> Error {
        if let Some(fault) = runtime::take_fault() {
            return self.fault_error(fault, limits);
        }
        let name = &self.name;
        match e.kind() {
            MjKind::OutOfFuel => Error::new(
                ErrorKind::FuelExhausted,
                name,
                format!(
                    "template: {name}: execution stopped: fuel budget of {} exhausted",
                    limits.fuel
                ),
            ),
            MjKind::WriteFailure if exceeded => Error::new(
                ErrorKind::OutputTooLarge,
                name,
                format!(
                    "template: {name}: output exceeds the limit of {} bytes",
                    limits.max_output_bytes
                ),
            ),
            _ if error_chain_mentions(&e, "recursion limit exceeded") => {
                let msg = "exceeded maximum template depth (100000)";
                match runtime::last_include().and_then(|s| self.program.sites.get(s)) {
                    Some(site) => self.exec_error(ErrorKind::Execution, site, msg),
                    None => Error::new(ErrorKind::Execution, name, format!("template: {name}: {msg}")),
                }
            }
            _ => Error::new(ErrorKind::Execution, name, format!("template: {name}: {e}")).with_source(e),
        }
    }

    fn fault_error(&self, fault: Fault, limits: &Limits) -> Error {
        let sites = &self.program.sites;
        match fault {
            Fault::At(s, msg) => {
                let site = &sites[s];
                let msg = if msg.is_empty() {
                    site.fixed.clone().unwrap_or_default()
                } else {
                    msg
                };
                self.exec_error(ErrorKind::Execution, site, &msg)
            }
            Fault::Func(s, err) => {
                let base = &sites[s];
                let func = &base.func;
                match err {
                    FnErr::Call(msg) => self.exec_error(
                        ErrorKind::Execution,
                        base,
                        &format!("error calling {func}: {msg}"),
                    ),
                    FnErr::Arity { want, got } => self.exec_error(
                        ErrorKind::Execution,
                        &sites[s + 1],
                        &format!("wrong number of args for {func}: want {want} got {got}"),
                    ),
                    FnErr::Arg { index, want, got } => {
                        let site = if index < base.nargs {
                            &sites[s + 2 + index]
                        } else {
                            base
                        };
                        let msg = if site.literal {
                            let w = if want == "int" { "integer" } else { want };
                            format!("expected {w}; found {}", site.context)
                        } else if got == GoKind::Missing {
                            format!("invalid value; expected {want}")
                        } else {
                            let got = match got {
                                GoKind::Nil => "interface {}",
                                GoKind::Bool => "bool",
                                GoKind::Int => "int",
                                GoKind::Float => "float64",
                                GoKind::Complex => "complex128",
                                GoKind::String => "string",
                                GoKind::List => "[]interface {}",
                                GoKind::Map => "map[string]interface {}",
                                GoKind::Missing => "<nil>",
                            };
                            format!("wrong type for value; expected {want}; got {got}")
                        };
                        self.exec_error(ErrorKind::Execution, site, &msg)
                    }
                    FnErr::NotFunction { index, type_name } => {
                        let arg = sites.get(s + 2 + index).map(|a| a.context.as_str()).unwrap_or("");
                        let msg = format!("error calling {func}: non-function {arg} of type {type_name}");
                        self.exec_error(ErrorKind::Execution, base, &msg)
                    }
                    FnErr::TooLarge => {
                        let msg = format!(
                            "result of {func} exceeds the output limit of {} bytes",
                            limits.max_output_bytes
                        );
                        self.exec_error(ErrorKind::OutputTooLarge, base, &msg)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn positions_are_go_style() {
        assert_eq!(line_col("{{ .a }}", 3), (1, 3));
        assert_eq!(line_col("line1\nline2 {{ .a.b }}", 17), (2, 11));
    }
}
