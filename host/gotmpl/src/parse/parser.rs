//! Recursive-descent parser producing [`super::ast`] trees, with Go's parse-time checks and messages
//! (undefined functions and variables, `break`/`continue` placement, `{{template}}` syntax, empty pipelines).

use std::collections::BTreeMap;

use super::ast::{Branch, Cmd, List, Node, Operand, Pipe, Term, Var, is_empty_list};
use super::lexer::{CharError, Tok, Token, lex, unquote_char};
use super::number::{Number, parse_number};

/// The deepest nesting a template may have, in levels of the minijinja translation: every `if`, `with`,
/// `range`, `block`, `else if` and `else with` counts one level, every pipeline stage after the first one (a
/// stage becomes a call around the previous one), every operand of `and`/`or` but the last, and every
/// parenthesised pipeline [`PAREN_LEVELS`]. minijinja's own parser stops at 150 levels; this bound keeps every
/// accepted template below that and keeps the recursion of this parser and of the translation small enough for
/// a 2 MiB thread stack. Go has no limit on blocks and allows 10,000 nested parentheses.
pub const MAX_NESTING: usize = 140;

/// Levels a parenthesised pipeline adds to the translation (the parentheses, the call or field access inside
/// and its argument list).
pub const PAREN_LEVELS: usize = 4;

/// A parse error: Go's message and the line it refers to.
#[derive(Debug, Clone)]
pub struct ParseError {
    /// Message without the `template: NAME:LINE: ` prefix.
    pub msg: String,
    /// 1-based line.
    pub line: usize,
}

/// A parsed file: the main template and the `define`d ones.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Every template by name; the main template is stored under the file's name.
    pub templates: BTreeMap<String, List>,
    /// The id of each template's `$` variable.
    pub dollars: BTreeMap<String, usize>,
}

/// Parses `src` as template `name`; `is_func` says which function names exist in the function map.
pub fn parse(name: &str, src: &str, is_func: &dyn Fn(&str) -> bool) -> Result<Parsed, ParseError> {
    let (toks, lex_error) = match lex(src) {
        Ok(t) => (t, None),
        Err((t, e)) => (t, Some(e)),
    };
    let result = parse_tokens(name, toks, is_func);
    match (result, lex_error) {
        (Ok(_), Some(e)) => Err(ParseError {
            msg: e.msg,
            line: e.line,
        }),
        (Err((_, true)), Some(e)) => Err(ParseError {
            msg: e.msg,
            line: e.line,
        }),
        (Err((pe, _)), _) => Err(pe),
        (Ok(p), None) => Ok(p),
    }
}

/// Parses a token stream; a failure says whether the parser had reached the final token (then a lexical error
/// that truncated the stream is the real cause).
fn parse_tokens(
    name: &str,
    toks: Vec<Token>,
    is_func: &dyn Fn(&str) -> bool,
) -> Result<Parsed, (ParseError, bool)> {
    let last = toks.len() - 1;
    let mut p = Parser {
        toks,
        i: 0,
        is_func,
        scopes: Vec::new(),
        next_var: 0,
        range_depth: 0,
        blocks: Vec::new(),
        dollars: BTreeMap::new(),
        seen: 0,
        depth: 0,
    };
    let mut templates = BTreeMap::new();
    let main = match p.top_level(&mut templates) {
        Ok(m) => m,
        Err(e) => return Err((e, p.seen >= last)),
    };
    for (block, list, line) in std::mem::take(&mut p.blocks) {
        add_template(&mut templates, &block, list, line).map_err(|e| (e, true))?;
    }
    let line = p.toks[p.i.min(p.toks.len() - 1)].line;
    add_template(&mut templates, name, main, line).map_err(|e| (e, true))?;
    p.dollars.insert(name.to_string(), 0);
    Ok(Parsed {
        templates,
        dollars: p.dollars,
    })
}

/// Go's `(*Tree).add`: an empty definition never replaces a non-empty one; two non-empty ones conflict.
fn add_template(
    map: &mut BTreeMap<String, List>,
    name: &str,
    list: List,
    line: usize,
) -> Result<(), ParseError> {
    match map.get(name) {
        Some(old) if !is_empty_list(old) => {
            if is_empty_list(&list) {
                return Ok(());
            }
            Err(ParseError {
                msg: format!("template: multiple definition of template {name:?}"),
                line,
            })
        }
        _ => {
            map.insert(name.to_string(), list);
            Ok(())
        }
    }
}

struct Parser<'f> {
    toks: Vec<Token>,
    i: usize,
    is_func: &'f dyn Fn(&str) -> bool,
    /// Visible variables, innermost last.
    scopes: Vec<Var>,
    next_var: usize,
    range_depth: usize,
    /// Bodies of `{{block}}` actions, added as definitions after parsing.
    blocks: Vec<(String, List, usize)>,
    dollars: BTreeMap<String, usize>,
    /// The furthest token examined; Go reports parse errors at the line of its most recent lookahead.
    seen: usize,
    /// Nesting levels of the enclosing blocks and parentheses (see [`MAX_NESTING`]).
    depth: usize,
}

/// What ended an item list.
enum Stop {
    End,
    Else(usize),
}

impl Parser<'_> {
    fn peek(&mut self) -> &Token {
        let i = self.i.min(self.toks.len() - 1);
        self.seen = self.seen.max(i);
        &self.toks[i]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn skip_space(&mut self) {
        while self.peek().tok == Tok::Space {
            self.i += 1;
        }
    }

    fn next_non_space(&mut self) -> Token {
        self.skip_space();
        self.next()
    }

    fn peek_non_space(&mut self) -> Token {
        self.skip_space();
        self.peek().clone()
    }

    /// The next non-space token, without copying it.
    fn peek_tok(&mut self) -> &Tok {
        self.skip_space();
        &self.peek().tok
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        let line = self.toks[self.seen.min(self.toks.len() - 1)].line;
        Err(ParseError {
            msg: msg.into(),
            line,
        })
    }

    fn unexpected<T>(&self, t: &Token, context: &str) -> Result<T, ParseError> {
        self.err(format!("unexpected {} in {context}", describe(&t.tok)))
    }

    /// Enters `levels` of nesting; fails once the template nests deeper than [`MAX_NESTING`].
    fn enter(&mut self, levels: usize) -> Result<(), ParseError> {
        self.depth += levels;
        self.check_depth(0)
    }

    /// Fails when `extra` more levels below the current ones exceed [`MAX_NESTING`].
    fn check_depth(&self, extra: usize) -> Result<(), ParseError> {
        if self.depth + extra > MAX_NESTING {
            return self.err(format!(
                "max nesting depth exceeded: blocks, parentheses and pipeline stages nest deeper than \
                 {MAX_NESTING} levels"
            ));
        }
        Ok(())
    }

    fn new_var(&mut self, name: &str, undeclared: bool) -> Var {
        let v = Var {
            id: self.next_var,
            name: name.to_string(),
            undeclared,
        };
        self.next_var += 1;
        self.scopes.push(v.clone());
        v
    }

    fn top_level(&mut self, defs: &mut BTreeMap<String, List>) -> Result<List, ParseError> {
        self.scopes = Vec::new();
        self.new_var("$", false);
        let mut list = Vec::new();
        while self.peek().tok != Tok::Eof {
            if self.peek().tok == Tok::Left {
                let save = self.i;
                self.next();
                if self.next_non_space().tok == Tok::Keyword("define") {
                    self.definition(defs)?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Ok(n) => list.push(n),
                Err(Stop::End) => return self.err("unexpected {{end}}"),
                Err(Stop::Else(_)) => return self.err("unexpected {{else}}"),
            }
        }
        Ok(list)
    }

    fn definition(&mut self, defs: &mut BTreeMap<String, List>) -> Result<(), ParseError> {
        let t = self.next_non_space();
        let name = self.template_name(&t, "define clause")?;
        let t = self.next_non_space();
        if t.tok != Tok::Right {
            return self.unexpected(&t, "define clause");
        }
        let list = self.body(&name, "define clause")?;
        let line = self.peek().line;
        add_template(defs, &name, list, line)
    }

    /// Parses a `define`/`block` body with its own variable scope, up to `{{end}}`.
    fn body(&mut self, name: &str, context: &str) -> Result<List, ParseError> {
        let outer = std::mem::take(&mut self.scopes);
        let outer_depth = std::mem::replace(&mut self.range_depth, 0);
        let dollar = self.new_var("$", false);
        self.dollars.insert(name.to_string(), dollar.id);
        let (list, stop) = self.item_list()?;
        self.scopes = outer;
        self.range_depth = outer_depth;
        if let Stop::Else(_) = stop {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        Ok(list)
    }

    fn template_name(&self, t: &Token, context: &str) -> Result<String, ParseError> {
        match &t.tok {
            Tok::Str(v, _) => Ok(v.clone()),
            _ => self.unexpected(t, context),
        }
    }

    /// Parses nodes until `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> Result<(List, Stop), ParseError> {
        let mut list = Vec::new();
        while *self.peek_tok() != Tok::Eof {
            match self.text_or_action()? {
                Ok(n) => list.push(n),
                Err(stop) => return Ok((list, stop)),
            }
        }
        self.err("unexpected EOF")
    }

    fn text_or_action(&mut self) -> Result<Result<Node, Stop>, ParseError> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Text(s) => Ok(Ok(Node::Text(s))),
            Tok::Left => self.action(),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> Result<Result<Node, Stop>, ParseError> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Keyword("block") => return self.block(t.pos).map(Ok),
            Tok::Keyword("break") | Tok::Keyword("continue") => {
                let word = if t.tok == Tok::Keyword("break") {
                    "break"
                } else {
                    "continue"
                };
                let n = self.next_non_space();
                if n.tok != Tok::Right {
                    return self.unexpected(&n, &format!("{{{{{word}}}}}"));
                }
                if self.range_depth == 0 {
                    return self.err(format!("{{{{{word}}}}} outside {{{{range}}}}"));
                }
                return Ok(Ok(if word == "break" {
                    Node::Break
                } else {
                    Node::Continue
                }));
            }
            Tok::Keyword("else") => {
                let n = self.peek_non_space();
                if matches!(n.tok, Tok::Keyword("if") | Tok::Keyword("with")) {
                    return Ok(Err(Stop::Else(self.i)));
                }
                let n = self.next_non_space();
                if n.tok != Tok::Right {
                    return self.unexpected(&n, "else");
                }
                return Ok(Err(Stop::Else(0)));
            }
            Tok::Keyword("end") => {
                let n = self.next_non_space();
                if n.tok != Tok::Right {
                    return self.unexpected(&n, "end");
                }
                return Ok(Err(Stop::End));
            }
            Tok::Keyword("if") => return self.control("if").map(|b| Ok(Node::If(b))),
            Tok::Keyword("range") => return self.control("range").map(|b| Ok(Node::Range(b))),
            Tok::Keyword("with") => return self.control("with").map(|b| Ok(Node::With(b))),
            Tok::Keyword("template") => return self.template_call(t.pos).map(Ok),
            _ => {}
        }
        self.i -= 1;
        Ok(Ok(Node::Action(self.pipeline("command", false)?)))
    }

    fn control(&mut self, context: &str) -> Result<Branch, ParseError> {
        self.enter(1)?;
        let depth = self.scopes.len();
        let pipe = self.pipeline(context, false)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (body, stop) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_ = Vec::new();
        if let Stop::Else(chain) = stop {
            let kw = if context == "if" { "if" } else { "with" };
            if chain > 0 && context != "range" && *self.peek_tok() == Tok::Keyword(kw) {
                self.next();
                let nested = self.control(context)?;
                else_.push(if context == "if" {
                    Node::If(nested)
                } else {
                    Node::With(nested)
                });
            } else {
                let (list, stop) = self.item_list()?;
                if let Stop::Else(_) = stop {
                    return self.err("expected end; found {{else}}");
                }
                else_ = list;
            }
        }
        self.scopes.truncate(depth);
        self.depth -= 1;
        Ok(Branch { pipe, body, else_ })
    }

    /// `{{block "name" pipeline}} body {{end}}`: defines `name` and executes it in place.
    fn block(&mut self, _pos: usize) -> Result<Node, ParseError> {
        let t = self.next_non_space();
        let name = self.template_name(&t, "block clause")?;
        let pipe = self.pipeline("block clause", false)?;
        self.enter(1)?;
        let list = self.body(&name, "block clause")?;
        self.depth -= 1;
        let line = self.peek().line;
        self.blocks.push((name.clone(), list, line));
        let text = format!(
            "{{{{template {} {}}}}}",
            crate::exec::printf::quote(&name),
            pipe.text()
        );
        Ok(Node::Template {
            name,
            pipe: Some(pipe),
            pos: t.pos,
            text,
        })
    }

    fn template_call(&mut self, _kw_pos: usize) -> Result<Node, ParseError> {
        let t = self.next_non_space();
        let name = self.template_name(&t, "template clause")?;
        let quoted = match &t.tok {
            Tok::Str(_, text) => text.clone(),
            _ => String::new(),
        };
        let pipe = if *self.peek_tok() == Tok::Right {
            self.next();
            None
        } else {
            Some(self.pipeline("template clause", false)?)
        };
        let text = match &pipe {
            Some(p) => format!("{{{{template {} {}}}}}", go_quote(&name, &quoted), p.text()),
            None => format!("{{{{template {}}}}}", go_quote(&name, &quoted)),
        };
        Ok(Node::Template {
            name,
            pipe,
            pos: t.pos,
            text,
        })
    }

    /// Parses a pipeline up to `}}` (or `)` when `in_paren`).
    fn pipeline(&mut self, context: &str, in_paren: bool) -> Result<Pipe, ParseError> {
        let mut pipe = Pipe {
            decl: Vec::new(),
            assign: false,
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let t = self.next_non_space();
            match t.tok {
                Tok::Right if !in_paren => break,
                Tok::RParen if in_paren => break,
                Tok::Bool(_)
                | Tok::CharConst(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str(..)
                | Tok::Variable(_)
                | Tok::LParen => {
                    self.i -= 1;
                    pipe.cmds.push(self.command()?);
                }
                _ => return self.unexpected(&t, context),
            }
        }
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        self.check_depth(nesting(&pipe))?;
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if c.args[0].fields.is_empty()
                && matches!(
                    c.args[0].term,
                    Term::Bool(_)
                        | Term::Dot
                        | Term::Nil
                        | Term::Int(..)
                        | Term::Float(..)
                        | Term::Complex(..)
                        | Term::Str(..)
                )
            {
                return self.err(format!("non executable command in pipeline stage {}", i + 1));
            }
        }
        Ok(pipe)
    }

    /// `$x :=`, `$x =`, `$i, $v :=`, `$i, $v =` at the start of a pipeline.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> Result<(), ParseError> {
        let mut names: Vec<String> = Vec::new();
        loop {
            let save = self.i;
            let v = self.peek_non_space();
            let Tok::Variable(name) = v.tok else { return Ok(()) };
            self.next();
            let n = self.peek_non_space();
            match n.tok {
                Tok::Declare | Tok::Assign => {
                    self.next();
                    pipe.assign = n.tok == Tok::Assign;
                    names.push(name);
                    for name in names {
                        // An assignment targets the variable already in scope (Go fails at execution when
                        // there is none).
                        let var = match (pipe.assign, self.lookup(&name)) {
                            (true, Some(existing)) => existing,
                            (true, None) => self.new_var(&name, true),
                            (false, _) => self.new_var(&name, false),
                        };
                        pipe.decl.push(var);
                    }
                    return Ok(());
                }
                Tok::Char(',') => {
                    self.next();
                    names.push(name);
                    if context == "range" && names.len() < 2 {
                        if matches!(self.peek_tok(), Tok::Variable(_)) {
                            continue;
                        }
                        return self.err("range can only initialize variables");
                    }
                    return self.err(format!("too many declarations in {context}"));
                }
                _ => {
                    // Not a declaration after all (`range $i, $v }}`): the names before the comma stay declared.
                    self.i = save;
                    for name in names {
                        let var = self.new_var(&name, false);
                        pipe.decl.push(var);
                    }
                    return Ok(());
                }
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<Var> {
        self.scopes.iter().rev().find(|v| v.name == name).cloned()
    }

    fn command(&mut self) -> Result<Cmd, ParseError> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Cmd {
            args: Vec::new(),
            pos,
        };
        loop {
            self.skip_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::Right | Tok::RParen => self.i -= 1,
                Tok::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.err("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Operand>, ParseError> {
        let Some(mut op) = self.term()? else {
            return Ok(None);
        };
        let mut first_field = None;
        while let Tok::Field(f) = &self.peek().tok {
            let f = f.clone();
            first_field.get_or_insert(self.peek().pos);
            self.next();
            op.fields.push(f);
        }
        if let Some(p) = first_field {
            match op.term {
                Term::Bool(_)
                | Term::Int(..)
                | Term::Float(..)
                | Term::Complex(..)
                | Term::Str(..)
                | Term::Nil => {
                    return self.err(format!(
                        "unexpected . after term {:?}",
                        Operand { fields: vec![], ..op }.text()
                    ));
                }
                Term::Dot => {
                    // `.a.b` is lexed as two fields; Go reports the position of the chained part.
                    op.pos = if op.fields.len() > 1 { p } else { op.pos };
                }
                _ => op.pos = p,
            }
        }
        Ok(Some(op))
    }

    fn term(&mut self) -> Result<Option<Operand>, ParseError> {
        let t = self.next_non_space();
        let pos = t.pos;
        let mk = |term| {
            Ok(Some(Operand {
                term,
                fields: Vec::new(),
                pos,
            }))
        };
        match t.tok {
            Tok::Ident(name) => {
                if !(self.is_func)(&name) {
                    return self.err(format!("function {name:?} not defined"));
                }
                mk(Term::Ident(name))
            }
            Tok::Dot => mk(Term::Dot),
            Tok::Nil => mk(Term::Nil),
            Tok::Variable(name) => match self.lookup(&name) {
                Some(v) => mk(Term::Var(v)),
                None => self.err(format!("undefined variable {name:?}")),
            },
            Tok::Field(f) => {
                // A leading field is a chain on the dot; the field itself is the first link.
                Ok(Some(Operand {
                    term: Term::Dot,
                    fields: vec![f],
                    pos,
                }))
            }
            Tok::Bool(b) => mk(Term::Bool(b)),
            Tok::CharConst(text) => match unquote_char(&text) {
                Ok(c) => mk(Term::Int(c as i64, text)),
                Err(CharError::Syntax) => self.err("invalid syntax"),
                Err(CharError::Malformed) => self.err(format!("malformed character constant: {text}")),
            },
            Tok::Number(text) => match parse_number(&text) {
                Ok(Number::Int(i)) => mk(Term::Int(i, text)),
                Ok(Number::Float(f)) => mk(Term::Float(f, text)),
                Ok(Number::Complex(re, im)) => mk(Term::Complex(re, im, text)),
                Err(msg) => self.err(msg),
            },
            Tok::LParen => {
                self.enter(PAREN_LEVELS)?;
                let pipe = self.pipeline("parenthesized pipeline", true)?;
                self.depth -= PAREN_LEVELS;
                mk(Term::Pipe(Box::new(pipe)))
            }
            Tok::Str(v, text) => mk(Term::Str(v, text)),
            _ => {
                self.i -= 1;
                Ok(None)
            }
        }
    }
}

/// Levels of translation nesting a pipeline needs below its own (see [`MAX_NESTING`]).
fn nesting(pipe: &Pipe) -> usize {
    let mut own = pipe.cmds.len().saturating_sub(1);
    let mut inner = 0;
    for (stage, cmd) in pipe.cmds.iter().enumerate() {
        if matches!(&cmd.args[0].term, Term::Ident(f) if f == "and" || f == "or") {
            // Go's short-circuit `and`/`or` become one `if` per operand but the last.
            let operands = cmd.args.len() - 1 + usize::from(stage > 0);
            own += operands.saturating_sub(1);
        }
        for arg in &cmd.args {
            if let Term::Pipe(p) = &arg.term {
                inner = inner.max(PAREN_LEVELS + nesting(p));
            }
        }
    }
    own + inner
}

/// Go quotes template names with `%q`; the original text is kept when it was a plain double-quoted literal.
fn go_quote(name: &str, original: &str) -> String {
    if original.starts_with('"') {
        original.to_string()
    } else {
        crate::exec::printf::quote(name)
    }
}

/// How Go's parser names a token in "unexpected X" messages (`item.String()`): keywords, `.` and `nil` in angle
/// brackets, other items quoted, cut after ten characters.
fn describe(t: &Tok) -> String {
    let val: String = match t {
        Tok::Eof => return "EOF".into(),
        Tok::Keyword(k) => return format!("<{k}>"),
        Tok::Dot => return "<.>".into(),
        Tok::Nil => return "<nil>".into(),
        Tok::Space => return "space".into(),
        Tok::Right => "}}".into(),
        Tok::Left => "{{".into(),
        Tok::Pipe => "|".into(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::Declare => ":=".into(),
        Tok::Assign => "=".into(),
        Tok::Char(c) => c.to_string(),
        Tok::Bool(b) => b.to_string(),
        Tok::Text(s)
        | Tok::Number(s)
        | Tok::CharConst(s)
        | Tok::Ident(s)
        | Tok::Variable(s)
        | Tok::Str(_, s) => s.clone(),
        Tok::Field(f) => format!(".{f}"),
    };
    if val.len() > 10 {
        let head: String = val.chars().take(10).collect();
        format!("{}...", crate::exec::printf::quote(&head))
    } else {
        crate::exec::printf::quote(&val)
    }
}
