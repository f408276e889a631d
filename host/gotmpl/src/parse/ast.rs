//! Syntax tree of a parsed Go template. Every node keeps its byte offset so errors can name `line:col`.

/// A list of nodes executed in order.
pub type List = Vec<Node>;

/// A statement-level node.
#[derive(Debug, Clone)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// `{{ pipeline }}`: prints the value unless the pipeline declares or assigns variables.
    Action(Pipe),
    /// `{{ if }}`; `else if` chains are nested in `else_`.
    If(Branch),
    /// `{{ range }}`.
    Range(Branch),
    /// `{{ with }}`; `else with` chains are nested in `else_`.
    With(Branch),
    /// `{{ template "name" pipeline }}`.
    Template {
        /// Name of the called template.
        name: String,
        /// Optional data pipeline.
        pipe: Option<Pipe>,
        /// Offset of the name.
        pos: usize,
        /// Go's `String()` of the node, used in error contexts.
        text: String,
    },
    /// `{{ break }}`.
    Break,
    /// `{{ continue }}`.
    Continue,
}

/// The shared shape of `if`, `range` and `with`.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The controlling pipeline.
    pub pipe: Pipe,
    /// Executed when the pipeline is true (for `range`: per element).
    pub body: List,
    /// Executed otherwise.
    pub else_: List,
}

/// A variable slot: declarations and uses resolve to the same id.
#[derive(Debug, Clone)]
pub struct Var {
    /// Unique id within the parsed file.
    pub id: usize,
    /// Name as written (`$x`, `$`).
    pub name: String,
    /// Whether the variable was never declared (Go's parser accepts `$x = 1` and fails at execution).
    pub undeclared: bool,
}

/// `$x := cmd | cmd ...`.
#[derive(Debug, Clone)]
pub struct Pipe {
    /// Declared or assigned variables.
    pub decl: Vec<Var>,
    /// `=` instead of `:=`.
    pub assign: bool,
    /// The commands, joined by `|`.
    pub cmds: Vec<Cmd>,
}

/// One command: an operand, or a function and its arguments.
#[derive(Debug, Clone)]
pub struct Cmd {
    /// Operands; the first may be a function name.
    pub args: Vec<Operand>,
    /// Offset of the first operand.
    pub pos: usize,
}

/// An operand with an optional field chain.
#[derive(Debug, Clone)]
pub struct Operand {
    /// The base term.
    pub term: Term,
    /// Field names following the term (`.a.b`).
    pub fields: Vec<String>,
    /// Offset Go reports for the operand (for chains: the first field after the term).
    pub pos: usize,
}

/// A primary term.
#[derive(Debug, Clone)]
pub enum Term {
    /// `.`
    Dot,
    /// A variable.
    Var(Var),
    /// A function name.
    Ident(String),
    /// `nil`.
    Nil,
    /// `true`/`false`.
    Bool(bool),
    /// An `int` literal, with its text.
    Int(i64, String),
    /// A `float64` literal, with its text.
    Float(f64, String),
    /// A complex literal, with its text.
    Complex(f64, f64, String),
    /// A string literal: value and quoted text.
    Str(String, String),
    /// `( pipeline )`.
    Pipe(Box<Pipe>),
}

impl Operand {
    /// Go's `String()` of the operand.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    /// Appends Go's `String()` of the operand to `out`.
    pub fn write_text(&self, out: &mut String) {
        match &self.term {
            Term::Dot if self.fields.is_empty() => out.push('.'),
            Term::Dot => {}
            Term::Var(v) => out.push_str(&v.name),
            Term::Ident(n) => out.push_str(n),
            Term::Nil => out.push_str("nil"),
            Term::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Term::Int(_, t) | Term::Float(_, t) | Term::Complex(_, _, t) | Term::Str(_, t) => out.push_str(t),
            Term::Pipe(p) => {
                out.push('(');
                p.write_text(out);
                out.push(')');
            }
        }
        for f in &self.fields {
            out.push('.');
            out.push_str(f);
        }
    }

    /// Whether this is a literal constant (Go type-checks literals differently from computed values).
    pub fn is_literal(&self) -> bool {
        self.fields.is_empty()
            && matches!(
                self.term,
                Term::Bool(_) | Term::Int(..) | Term::Float(..) | Term::Complex(..) | Term::Str(..)
            )
    }
}

impl Cmd {
    /// Go's `String()` of the command.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    /// Appends Go's `String()` of the command to `out`.
    pub fn write_text(&self, out: &mut String) {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            a.write_text(out);
        }
    }
}

impl Pipe {
    /// Go's `String()` of the pipeline.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    /// Appends Go's `String()` of the pipeline to `out`.
    pub fn write_text(&self, out: &mut String) {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&v.name);
            }
            out.push_str(if self.assign { " = " } else { " := " });
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                out.push_str(" | ");
            }
            c.write_text(out);
        }
    }
}

/// Whether a list holds nothing but whitespace text (Go's `IsEmptyTree`).
pub fn is_empty_list(list: &List) -> bool {
    list.iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
}
