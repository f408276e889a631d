//! Translation of a parsed Go template into minijinja template source.
//!
//! Go operations with their own semantics become calls to registered runtime functions (`g_field`, `g_range`,
//! `f_d_eq`, ...); truth tests and printing use minijinja natively, where it behaves as Go does. Each call carries a *site* number: an index into [`Program::sites`], which
//! records the Go node's position and text so that a failure reports Go's `name:line:col` and `<context>`.
//! Literals and text containing `{` go into a constant pool (`__k`) so no escaping is ever needed. Go
//! variables that some `=` assigns are minijinja namespaces, so assignments inside `if`/`range` bodies persist as
//! in Go; the others are plain minijinja variables.

use std::fmt::Write as _;
use std::sync::Arc;

use minijinja::value::Value;

use crate::FuncMap;
use crate::parse::Parsed;
use crate::parse::ast::{Branch, Cmd, List, Node, Operand, Pipe, Term};
use crate::value::Complex;

/// A source location a runtime failure can point at.
#[derive(Debug, Clone)]
pub struct Site {
    /// The Go template being executed (a `define`d name or the file's name).
    pub template: Arc<str>,
    /// Byte offset in the file.
    pub pos: usize,
    /// Go's `String()` of the node.
    pub context: String,
    /// Whether the node is a literal (changes Go's type-error wording).
    pub literal: bool,
    /// Number of explicit arguments, for the site of a function call.
    pub nargs: usize,
    /// Function name, for the site of a function call.
    pub func: String,
    /// A message decided at translation time (for `g_fail`).
    pub fixed: Option<String>,
}

/// The translated file.
#[derive(Debug)]
pub struct Program {
    /// minijinja template name and source for every Go template.
    pub sources: Vec<(String, String)>,
    /// Name of the main template in `sources`.
    pub main: String,
    /// Failure sites.
    pub sites: Vec<Site>,
    /// The constant pool, passed to every render as `__k`.
    pub consts: Value,
}

/// The minijinja name of a Go template.
pub fn mj_name(go: &str) -> String {
    format!("go:{go}")
}

/// minijinja function name of a Go function in a map.
pub fn mj_func(map: FuncMap, name: &str) -> String {
    match map {
        FuncMap::Deployment => format!("f_d_{name}"),
        FuncMap::Manifest => format!("f_m_{name}"),
    }
}

/// Collects the ids of the variables some `=` assigns, in a list and everything nested in it.
fn collect_assigned(list: &List, out: &mut std::collections::HashSet<usize>) {
    fn pipe(p: &Pipe, out: &mut std::collections::HashSet<usize>) {
        if p.assign {
            out.extend(p.decl.iter().map(|v| v.id));
        }
        for cmd in &p.cmds {
            for arg in &cmd.args {
                if let Term::Pipe(inner) = &arg.term {
                    pipe(inner, out);
                }
            }
        }
    }
    for node in list {
        match node {
            Node::Action(p) => pipe(p, out),
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                pipe(&b.pipe, out);
                collect_assigned(&b.body, out);
                collect_assigned(&b.else_, out);
            }
            Node::Template { pipe: Some(p), .. } => pipe(p, out),
            _ => {}
        }
    }
}

/// Whether a string can be written as a minijinja string literal as it is (no escapes, quotes, line breaks or
/// delimiter characters).
fn plain_literal(s: &str) -> bool {
    s.len() < 64
        && s.bytes()
            .all(|b| (b' '..=b'~').contains(&b) && !matches!(b, b'"' | b'\\' | b'{' | b'}' | b'%' | b'#'))
}

/// The node Go's executor evaluates last in a pipeline (its `state.at` position afterwards): the last argument
/// of the last command's function call, or the function itself without arguments, or the command's operand;
/// parenthesised pipelines are looked into.
fn last_evaluated(pipe: &Pipe) -> Option<(usize, String)> {
    let cmd = pipe.cmds.last()?;
    let first = cmd.args.first()?;
    let node = match (&first.term, first.fields.is_empty(), cmd.args.last()) {
        (Term::Ident(_), true, Some(last)) if cmd.args.len() > 1 => last,
        _ => first,
    };
    match &node.term {
        Term::Pipe(inner) => last_evaluated(inner),
        _ => Some((node.pos, node.text())),
    }
}

/// Whether explicit argument `index` of function `name` is an `int` parameter (both maps' `indent`/`nindent`).
fn int_param(name: &str, index: usize) -> bool {
    index == 0 && matches!(name, "indent" | "nindent")
}

/// Translates every template of a parsed file.
pub fn compile(file: &str, parsed: &Parsed, map: FuncMap) -> Program {
    let mut c = Compiler {
        map,
        sites: Vec::new(),
        consts: Vec::new(),
        template: Arc::from(""),
        names: parsed.templates.keys().cloned().collect(),
        next: 0,
        dot: String::new(),
        assigned: std::collections::HashSet::new(),
    };
    for list in parsed.templates.values() {
        collect_assigned(list, &mut c.assigned);
    }
    let mut sources = Vec::new();
    for (name, list) in &parsed.templates {
        c.template = Arc::from(name.as_str());
        let dot = c.fresh("d");
        let dollar = parsed.dollars.get(name).copied().unwrap_or(0);
        let mut out = format!("{{% set {dot} = __arg %}}");
        out.push_str(&c.declare(dollar, &dot));
        c.dot = dot;
        c.list(list, &mut out);
        sources.push((mj_name(name), out));
    }
    Program {
        sources,
        main: mj_name(file),
        sites: c.sites,
        consts: Value::from(c.consts),
    }
}

struct Compiler {
    map: FuncMap,
    sites: Vec<Site>,
    consts: Vec<Value>,
    template: Arc<str>,
    names: std::collections::BTreeSet<String>,
    next: usize,
    /// The minijinja variable holding Go's `.` at this point.
    dot: String,
    /// Go variables that some `=` assigns: only these need a namespace (so that an assignment inside a loop or
    /// block reaches the variable outside it); the others are plain minijinja variables.
    assigned: std::collections::HashSet<usize>,
}

impl Compiler {
    /// The expression reading Go variable `id`.
    fn var(&self, id: usize) -> String {
        if self.assigned.contains(&id) {
            format!("v{id}.v")
        } else {
            format!("v{id}")
        }
    }

    /// The statement declaring Go variable `id` with the value of `expr`.
    fn declare(&self, id: usize, expr: &str) -> String {
        if self.assigned.contains(&id) {
            format!("{{% set v{id} = namespace(v={expr}) %}}")
        } else {
            format!("{{% set v{id} = {expr} %}}")
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn site(&mut self, pos: usize, context: String, literal: bool) -> usize {
        self.sites.push(Site {
            template: self.template.clone(),
            pos,
            context,
            literal,
            nargs: 0,
            func: String::new(),
            fixed: None,
        });
        self.sites.len() - 1
    }

    fn fail(&mut self, pos: usize, context: String, msg: String) -> String {
        let s = self.site(pos, context, false);
        self.sites[s].fixed = Some(msg);
        format!("g_fail({s})")
    }

    fn constant(&mut self, v: Value) -> String {
        self.consts.push(v);
        format!("__k[{}]", self.consts.len() - 1)
    }

    fn list(&mut self, list: &List, out: &mut String) {
        for node in list {
            self.node(node, out);
        }
    }

    fn node(&mut self, node: &Node, out: &mut String) {
        match node {
            Node::Text(t) => {
                if t.contains('{') {
                    let k = self.constant(Value::from(t.as_str()));
                    let _ = write!(out, "{{{{ {k} }}}}");
                } else {
                    out.push_str(t);
                }
            }
            Node::Action(pipe) => {
                let expr = self.pipe(pipe, out);
                if pipe.decl.is_empty() {
                    // Printed by the environment's formatter, which writes values as Go does.
                    let _ = write!(out, "{{{{ {expr} }}}}");
                }
            }
            Node::If(b) => {
                let expr = self.pipe(&b.pipe, out);
                // minijinja's truthiness of template values is Go's (see `value::truth`).
                let _ = write!(out, "{{% if {expr} %}}");
                self.list(&b.body, out);
                self.else_block(b, out);
                out.push_str("{% endif %}");
            }
            Node::With(b) => {
                let expr = self.pipe(&b.pipe, out);
                let t = self.fresh("t");
                let _ = write!(out, "{{% set {t} = {expr} %}}{{% if {t} %}}");
                // The tested value is `.` inside the body.
                let outer = std::mem::replace(&mut self.dot, t);
                self.list(&b.body, out);
                self.dot = outer;
                self.else_block(b, out);
                out.push_str("{% endif %}");
            }
            Node::Range(b) => self.range(b, out),
            Node::Template {
                name,
                pipe,
                pos,
                text,
            } => {
                if !self.names.contains(name) {
                    let f = self.fail(*pos, text.clone(), format!("template {name:?} not defined"));
                    let _ = write!(out, "{{{{ {f} }}}}");
                    return;
                }
                let arg = match pipe {
                    Some(p) => self.pipe(p, out),
                    None => "__undefined".to_string(),
                };
                let s = self.site(*pos, text.clone(), false);
                let k = self.constant(Value::from(mj_name(name)));
                let _ = write!(
                    out,
                    "{{{{ g_at({s}) }}}}{{% with __arg = {arg} %}}{{% include {k} %}}{{% endwith %}}"
                );
            }
            Node::Break => out.push_str("{% break %}"),
            Node::Continue => out.push_str("{% continue %}"),
        }
    }

    fn else_block(&mut self, b: &Branch, out: &mut String) {
        if !b.else_.is_empty() {
            out.push_str("{% else %}");
            self.list(&b.else_, out);
        }
    }

    fn range(&mut self, b: &Branch, out: &mut String) {
        let bare = Pipe {
            decl: Vec::new(),
            ..b.pipe.clone()
        };
        let expr = self.pipe(&bare, out);
        // Go reports range failures at the node it evaluated last.
        let (pos, context) = last_evaluated(&bare).unwrap_or_default();
        let s = self.site(pos, context, false);
        let vars = b.pipe.decl.len();
        let decl = &b.pipe.decl;
        let outer;
        if !b.pipe.assign && decl.iter().all(|v| !self.assigned.contains(&v.id)) {
            // Plain variables: the loop unpacks [key, element] straight into them, and `.` is the element.
            let (key, element) = match decl.len() {
                0 => ("_".to_string(), self.fresh("d")),
                1 => ("_".to_string(), format!("v{}", decl[0].id)),
                _ => (format!("v{}", decl[0].id), format!("v{}", decl[1].id)),
            };
            let _ = write!(
                out,
                "{{% for {key}, {element} in g_range({s}, {vars}, {expr}) %}}"
            );
            outer = std::mem::replace(&mut self.dot, element);
        } else {
            let it = self.fresh("i");
            let _ = write!(out, "{{% for {it} in g_range({s}, {vars}, {expr}) %}}");
            let inner = self.fresh("d");
            outer = std::mem::replace(&mut self.dot, inner);
            let _ = write!(out, "{{% set {} = {it}[1] %}}", self.dot);
            let slots: Vec<(usize, &str)> = match decl.len() {
                0 => vec![],
                1 => vec![(decl[0].id, "1")],
                _ => vec![(decl[0].id, "0"), (decl[1].id, "1")],
            };
            for (id, idx) in slots {
                if b.pipe.assign {
                    let _ = write!(out, "{{% set v{id}.v = {it}[{idx}] %}}");
                } else {
                    out.push_str(&self.declare(id, &format!("{it}[{idx}]")));
                }
            }
        }
        self.list(&b.body, out);
        self.dot = outer;
        self.else_block(b, out);
        out.push_str("{% endfor %}");
    }

    /// Translates a pipeline; statements it needs are appended to `pre`, the value expression is returned.
    fn pipe(&mut self, pipe: &Pipe, pre: &mut String) -> String {
        let mut val: Option<String> = None;
        for cmd in &pipe.cmds {
            val = Some(self.cmd(cmd, val, pre));
        }
        let expr = val.unwrap_or_else(|| "none".into());
        if pipe.decl.is_empty() {
            return expr;
        }
        let v = &pipe.decl[0];
        if v.undeclared {
            let last = &pipe.cmds[pipe.cmds.len() - 1];
            let f = self.fail(last.pos, last.text(), format!("undefined variable: {}", v.name));
            let _ = write!(pre, "{{{{ {f} }}}}");
        } else if pipe.assign {
            let _ = write!(pre, "{{% set v{}.v = {expr} %}}", v.id);
        } else {
            pre.push_str(&self.declare(v.id, &expr));
        }
        self.var(v.id)
    }

    fn cmd(&mut self, cmd: &Cmd, fin: Option<String>, pre: &mut String) -> String {
        let first = &cmd.args[0];
        if let (Term::Ident(name), true) = (&first.term, first.fields.is_empty()) {
            return self.call(name, cmd, fin, pre);
        }
        let has_args = cmd.args.len() > 1 || fin.is_some();
        if matches!(first.term, Term::Nil) && first.fields.is_empty() {
            return self.fail(first.pos, "nil".into(), "nil is not a command".into());
        }
        if has_args && first.fields.is_empty() {
            return self.fail(
                first.pos,
                first.text(),
                format!("can't give argument to non-function {}", first.text()),
            );
        }
        self.operand(first, has_args, pre)
    }

    fn operand(&mut self, op: &Operand, has_args: bool, pre: &mut String) -> String {
        let base = match &op.term {
            Term::Dot => self.dot.clone(),
            Term::Var(v) => self.var(v.id),
            Term::Ident(name) => {
                let cmd = Cmd {
                    args: vec![Operand {
                        fields: Vec::new(),
                        ..op.clone()
                    }],
                    pos: op.pos,
                };
                self.call(name, &cmd, None, pre)
            }
            Term::Nil => "none".into(),
            Term::Bool(b) => b.to_string(),
            Term::Int(i, _) if *i >= 0 => i.to_string(),
            Term::Int(i, _) => self.constant(Value::from(*i)),
            Term::Float(f, _) => self.constant(Value::from(*f)),
            Term::Complex(re, im, _) => self.constant(Value::from_object(Complex { re: *re, im: *im })),
            Term::Str(s, _) if plain_literal(s) => format!("\"{s}\""),
            Term::Str(s, _) => self.constant(Value::from(s.as_str())),
            Term::Pipe(p) => format!("({})", self.pipe(p, pre)),
        };
        if op.fields.is_empty() {
            return base;
        }
        // Go reports a failing field of `(pipeline).f` at the node it evaluated last inside the parentheses.
        let (pos, context) = match &op.term {
            Term::Pipe(p) => last_evaluated(p).unwrap_or_else(|| (op.pos, op.text())),
            _ => (op.pos, op.text()),
        };
        let s = self.site(pos, context, false);
        let mode = usize::from(matches!(op.term, Term::Dot)) | if has_args { 2 } else { 0 };
        let func = if op.fields.len() == 1 {
            "g_field1"
        } else {
            "g_field"
        };
        let mut call = format!("{func}({}, {base}", s * 4 + mode);
        for f in &op.fields {
            // Field names are Go identifiers (letters, digits, `_`): safe inside a string literal.
            let _ = write!(call, ", \"{f}\"");
        }
        call.push(')');
        call
    }

    fn call(&mut self, name: &str, cmd: &Cmd, fin: Option<String>, pre: &mut String) -> String {
        let base = self.site(cmd.pos, cmd.text(), false);
        self.sites[base].nargs = cmd.args.len() - 1;
        self.sites[base].func = name.to_string();
        self.site(cmd.args[0].pos, name.to_string(), false);
        for a in &cmd.args[1..] {
            self.site(a.pos, a.text(), a.is_literal());
        }
        if self.map == FuncMap::Manifest && matches!(name, "and" | "or") {
            return self.short_circuit(name == "and", base, cmd, fin, pre);
        }
        let mut args = vec![base.to_string()];
        for (i, a) in cmd.args[1..].iter().enumerate() {
            // Go passes an integral constant such as `2.0` or `0x1p2` to an `int` parameter as an `int`.
            if let (Term::Float(f, _), true) = (&a.term, a.fields.is_empty() && int_param(name, i))
                && f.fract() == 0.0
                && f.abs() < 9.2e18
            {
                args.push(self.constant(Value::from(*f as i64)));
                continue;
            }
            args.push(self.operand(a, false, pre));
        }
        args.extend(fin);
        format!("{}({})", mj_func(self.map, name), args.join(", "))
    }

    /// Go's built-in `and`/`or`: stop at the first falsy (`and`) or truthy (`or`) operand and return it.
    fn short_circuit(
        &mut self,
        is_and: bool,
        base: usize,
        cmd: &Cmd,
        fin: Option<String>,
        pre: &mut String,
    ) -> String {
        let n = cmd.args.len() - 1 + usize::from(fin.is_some());
        if n == 0 {
            return format!("g_arity({base}, 0)");
        }
        let t = self.fresh("t");
        let fin_var = fin.map(|f| {
            let fv = self.fresh("t");
            let _ = write!(pre, "{{% set {fv} = {f} %}}");
            fv
        });
        let test = if is_and { "" } else { "not " };
        let mut closing = 0;
        for (i, a) in cmd.args[1..].iter().enumerate() {
            let e = self.operand(a, false, pre);
            if i == 0 {
                let _ = write!(pre, "{{% set {t} = namespace(v={e}) %}}");
            } else {
                let _ = write!(pre, "{{% set {t}.v = {e} %}}");
            }
            if i + 1 < n {
                let _ = write!(pre, "{{% if {test}{t}.v %}}");
                closing += 1;
            }
        }
        if let Some(fv) = fin_var {
            if n == 1 {
                let _ = write!(pre, "{{% set {t} = namespace(v={fv}) %}}");
            } else {
                let _ = write!(pre, "{{% set {t}.v = {fv} %}}");
            }
        }
        pre.push_str(&"{% endif %}".repeat(closing));
        format!("{t}.v")
    }
}
