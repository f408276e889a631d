//! Tokenizer for Go's `text/template` syntax with the default `{{`/`}}` delimiters.
//!
//! Follows Go's lexer: trim markers are `{{- ` and ` -}}` (the space is required), comments are only allowed
//! directly inside the delimiters, newlines are ordinary spaces inside actions and any other printable ASCII
//! character becomes a `Char` token that the parser then rejects with Go's messages.

/// One lexical item.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Literal text between actions (already trimmed by adjacent trim markers).
    Text(String),
    /// `{{`.
    Left,
    /// `}}`.
    Right,
    /// Whitespace inside an action.
    Space,
    /// `|`.
    Pipe,
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `:=`.
    Declare,
    /// `=`.
    Assign,
    /// Any other printable ASCII character (`,` is used in range declarations).
    Char(char),
    /// `true` / `false`.
    Bool(bool),
    /// A number literal, as written.
    Number(String),
    /// A character constant, as written (with quotes).
    CharConst(String),
    /// An interpreted string literal: (value, text as written).
    Str(String, String),
    /// `$` or `$name`.
    Variable(String),
    /// `.name` (stored without the dot).
    Field(String),
    /// `.` alone.
    Dot,
    /// `nil`.
    Nil,
    /// A keyword (`if`, `range`, `end`, ...).
    Keyword(&'static str),
    /// A function name.
    Ident(String),
    /// End of input.
    Eof,
}

/// A token with its byte offset and 1-based line.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub pos: usize,
    /// 1-based line of its first character.
    pub line: usize,
}

/// A lexical error: message and line.
#[derive(Debug, Clone)]
pub struct LexError {
    /// Go's message text.
    pub msg: String,
    /// Line where it occurred.
    pub line: usize,
}

const KEYWORDS: [&str; 11] = [
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with", "nil",
];

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits a template into tokens. On a lexical error the tokens before it are returned too (ending in
/// `Eof`), because Go's parser consumes tokens as they are produced and may fail on an earlier one.
pub fn lex(src: &str) -> Result<Vec<Token>, (Vec<Token>, LexError)> {
    let mut lexer = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        out: Vec::new(),
        paren: 0,
        line_mark: (0, 1),
    };
    match lexer.run() {
        Ok(()) => Ok(lexer.out),
        Err(e) => {
            let end = lexer.src.len();
            lexer.emit(Tok::Eof, end);
            Err((lexer.out, e))
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    out: Vec<Token>,
    paren: usize,
    /// An offset and its line, so that numbering tokens in order costs linear time.
    line_mark: (usize, usize),
}

impl Lexer<'_> {
    fn line_at(&self, pos: usize) -> usize {
        1 + self.b[..pos.min(self.b.len())]
            .iter()
            .filter(|&&c| c == b'\n')
            .count()
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            msg: msg.into(),
            line: self.line_at(self.pos),
        })
    }

    fn emit(&mut self, tok: Tok, pos: usize) {
        let pos_c = pos.min(self.b.len());
        let (mark, mark_line) = self.line_mark;
        let line = if pos_c >= mark {
            mark_line + self.b[mark..pos_c].iter().filter(|&&c| c == b'\n').count()
        } else {
            self.line_at(pos_c)
        };
        self.line_mark = (pos_c, line);
        self.out.push(Token { tok, pos, line });
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn run(&mut self) -> Result<(), LexError> {
        let mut trim_next_text = false;
        loop {
            let start = self.pos;
            let Some(off) = self.rest().find("{{") else {
                let mut text = &self.src[start..];
                if trim_next_text {
                    text = text.trim_start_matches([' ', '\t', '\r', '\n']);
                }
                if !text.is_empty() {
                    let p = self.src.len() - text.len();
                    self.emit(Tok::Text(text.to_string()), p);
                }
                self.pos = self.src.len();
                self.emit(Tok::Eof, self.pos);
                return Ok(());
            };
            let delim = start + off;
            let after = &self.b[delim + 2..];
            let left_trim = after.len() >= 2 && after[0] == b'-' && is_space(after[1]);
            let mut text = &self.src[start..delim];
            if trim_next_text {
                text = text.trim_start_matches([' ', '\t', '\r', '\n']);
            }
            if left_trim {
                text = text.trim_end_matches([' ', '\t', '\r', '\n']);
            }
            if !text.is_empty() {
                // Text offsets are only used for line numbers, so the untrimmed start is precise enough.
                self.emit(Tok::Text(text.to_string()), start);
            }
            self.pos = delim + 2 + if left_trim { 2 } else { 0 };
            if self.rest().starts_with("/*") {
                trim_next_text = self.comment()?;
                continue;
            }
            self.emit(Tok::Left, delim);
            trim_next_text = self.inside_action()?;
        }
    }

    /// Lexes a comment; returns whether the closing delimiter had a trim marker.
    fn comment(&mut self) -> Result<bool, LexError> {
        let Some(end) = self.rest().find("*/") else {
            return self.err("unclosed comment");
        };
        self.pos += end + 2;
        if self.rest().starts_with(" -}}") {
            self.pos += 4;
            return Ok(true);
        }
        if self.rest().starts_with("}}") {
            self.pos += 2;
            return Ok(false);
        }
        self.err("comment ends before closing delimiter")
    }

    fn at_right_trim(&self) -> bool {
        self.rest().starts_with(" -}}")
    }

    /// Lexes the inside of an action up to and including `}}`; returns whether it ended with a trim marker.
    fn inside_action(&mut self) -> Result<bool, LexError> {
        loop {
            if self.at_right_trim() {
                self.pos += 4;
                self.emit(Tok::Right, self.pos - 2);
                return Ok(true);
            }
            if self.rest().starts_with("}}") {
                if self.paren > 0 {
                    return self.err("unclosed left paren");
                }
                self.emit(Tok::Right, self.pos);
                self.pos += 2;
                return Ok(false);
            }
            let start = self.pos;
            let Some(c) = self.rest().chars().next() else {
                return self.err("unclosed action");
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    while self.pos < self.b.len() && is_space(self.b[self.pos]) && !self.at_right_trim() {
                        self.pos += 1;
                    }
                    if self.pos > start {
                        self.emit(Tok::Space, start);
                    }
                }
                '|' => self.single(Tok::Pipe),
                '(' => {
                    self.paren += 1;
                    self.single(Tok::LParen)
                }
                ')' => {
                    if self.paren == 0 {
                        return self.err("unexpected right paren");
                    }
                    self.paren -= 1;
                    self.single(Tok::RParen)
                }
                ':' => {
                    if !self.rest().starts_with(":=") {
                        return self.err("expected :=");
                    }
                    self.pos += 2;
                    self.emit(Tok::Declare, start);
                }
                '=' => self.single(Tok::Assign),
                '"' => self.quoted()?,
                '`' => {
                    let Some(end) = self.rest()[1..].find('`') else {
                        return self.err("unterminated raw quoted string");
                    };
                    let raw = &self.src[start + 1..start + 1 + end];
                    self.pos = start + end + 2;
                    self.emit(
                        Tok::Str(raw.replace('\r', ""), self.src[start..self.pos].to_string()),
                        start,
                    );
                }
                '\'' => self.char_const()?,
                '$' => {
                    self.pos += 1;
                    let name = self.word();
                    self.check_terminator()?;
                    self.emit(Tok::Variable(format!("${name}")), start);
                }
                '.' => {
                    let next = self.b.get(self.pos + 1).copied();
                    if next.is_some_and(|d| d.is_ascii_digit()) {
                        self.number()?;
                    } else {
                        self.pos += 1;
                        let name = self.word();
                        self.check_terminator()?;
                        if name.is_empty() {
                            self.emit(Tok::Dot, start);
                        } else {
                            self.emit(Tok::Field(name), start);
                        }
                    }
                }
                '+' | '-' | '0'..='9' => self.number()?,
                c if is_alnum(c) => {
                    let w = self.word();
                    self.check_terminator()?;
                    let tok = match w.as_str() {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        _ => match KEYWORDS.iter().find(|k| **k == w) {
                            Some(k) => Tok::Keyword(k),
                            None => Tok::Ident(w),
                        },
                    };
                    self.emit(tok, start);
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.single(Tok::Char(c)),
                c => return self.err(format!("unrecognized character in action: {}", unicode_desc(c))),
            }
        }
    }

    fn single(&mut self, tok: Tok) {
        let p = self.pos;
        self.pos += 1;
        self.emit(tok, p);
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        let len: usize = self
            .rest()
            .chars()
            .take_while(|c| is_alnum(*c))
            .map(char::len_utf8)
            .sum();
        self.pos += len;
        self.src[start..self.pos].to_string()
    }

    /// Go requires identifiers, fields and variables to be followed by a terminator.
    fn check_terminator(&self) -> Result<(), LexError> {
        let Some(c) = self.rest().chars().next() else {
            return Ok(());
        };
        if matches!(c, ' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '(')
            || self.rest().starts_with("}}")
        {
            return Ok(());
        }
        self.err(format!("bad character {}", unicode_desc(c)))
    }

    fn quoted(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let mut i = start + 1;
        loop {
            match self.b.get(i) {
                None | Some(b'\n') => return self.err("unterminated quoted string"),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let text = &self.src[start..=i];
        self.pos = i + 1;
        match unquote(text) {
            Some(v) => {
                self.emit(Tok::Str(v, text.to_string()), start);
                Ok(())
            }
            None => self.err(format!("invalid syntax: {text}")),
        }
    }

    fn char_const(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let mut i = start + 1;
        loop {
            match self.b.get(i) {
                None | Some(b'\n') => return self.err("unterminated character constant"),
                Some(b'\\') => i += 2,
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        let text = self.src[start..self.pos].to_string();
        self.emit(Tok::CharConst(text), start);
        Ok(())
    }

    /// Scans a number the way Go's `scanNumber` does; the parser decides what it means.
    fn number(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let b = self.b;
        let mut i = self.pos;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let mut digits: &[u8] = b"0123456789_";
        if i + 1 < b.len() && b[i] == b'0' {
            match b[i + 1] {
                b'x' | b'X' => {
                    i += 2;
                    digits = b"0123456789abcdefABCDEF_";
                }
                b'o' | b'O' => {
                    i += 2;
                    digits = b"01234567_";
                }
                b'b' | b'B' => {
                    i += 2;
                    digits = b"01_";
                }
                _ => {}
            }
        }
        let run = |i: &mut usize, set: &[u8]| {
            while *i < b.len() && set.contains(&b[*i]) {
                *i += 1;
            }
        };
        run(&mut i, digits);
        if i < b.len() && b[i] == b'.' {
            i += 1;
            run(&mut i, digits);
        }
        if digits.len() == 11 && i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            run(&mut i, b"0123456789_");
        }
        if digits.len() == 23 && i < b.len() && (b[i] == b'p' || b[i] == b'P') {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            run(&mut i, b"0123456789_");
        }
        if i < b.len() && b[i] == b'i' {
            i += 1;
        }
        self.pos = i;
        if self.rest().chars().next().is_some_and(is_alnum) {
            let end = i + self.rest().chars().next().map_or(0, char::len_utf8);
            return self.err(format!("bad number syntax: {:?}", &self.src[start..end]));
        }
        self.emit(Tok::Number(self.src[start..i].to_string()), start);
        Ok(())
    }
}

/// `%#U` formatting of a character, as Go prints it in lexer errors.
fn unicode_desc(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}

/// Interprets a Go double-quoted string literal (with its quotes).
pub fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut chars = inner.chars().peekable();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let hex = |n: usize, chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<u32> {
            let s: String = (0..n).map(|_| chars.next()).collect::<Option<String>>()?;
            u32::from_str_radix(&s, 16).ok()
        };
        match e {
            'x' => {
                bytes.push(hex(2, &mut chars)? as u8);
                continue;
            }
            '0'..='7' => {
                let s: String = std::iter::once(Some(e))
                    .chain((0..2).map(|_| chars.next()))
                    .collect::<Option<String>>()?;
                bytes.push(u8::try_from(u32::from_str_radix(&s, 8).ok()?).ok()?);
                continue;
            }
            _ => {}
        }
        flush(&mut bytes, &mut out);
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'u' => out.push(char::from_u32(hex(4, &mut chars)?)?),
            'U' => out.push(char::from_u32(hex(8, &mut chars)?)?),
            _ => return None,
        }
    }
    flush(&mut bytes, &mut out);
    Some(out)
}

/// Why a character constant is not one code point (Go's two messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharError {
    /// `strconv.UnquoteChar` failed: empty, or a bad escape (`invalid syntax`).
    Syntax,
    /// Something follows the first character (`malformed character constant`).
    Malformed,
}

/// Interprets a Go character constant (with its quotes) as a code point, as `strconv.UnquoteChar` reads it.
pub fn unquote_char(text: &str) -> Result<u32, CharError> {
    let inner = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .ok_or(CharError::Syntax)?;
    let mut cs = inner.chars();
    let c = cs.next().ok_or(CharError::Syntax)?;
    let code = if c != '\\' {
        c as u32
    } else {
        let e = cs.next().ok_or(CharError::Syntax)?;
        let mut digits = |n: usize, radix: u32| -> Result<u32, CharError> {
            let s: String = (0..n)
                .map(|_| cs.next())
                .collect::<Option<String>>()
                .ok_or(CharError::Syntax)?;
            u32::from_str_radix(&s, radix).map_err(|_| CharError::Syntax)
        };
        match e {
            'a' => 7,
            'b' => 8,
            'f' => 0xc,
            'n' => 0xa,
            'r' => 0xd,
            't' => 9,
            'v' => 0xb,
            '\\' => '\\' as u32,
            '\'' => '\'' as u32,
            'x' => digits(2, 16)?,
            'u' => char::from_u32(digits(4, 16)?).ok_or(CharError::Syntax)? as u32,
            'U' => char::from_u32(digits(8, 16)?).ok_or(CharError::Syntax)? as u32,
            '0'..='7' => {
                let rest = digits(2, 8)?;
                let v = (e as u32 - '0' as u32) * 64 + rest;
                if v > 255 {
                    return Err(CharError::Syntax);
                }
                v
            }
            _ => return Err(CharError::Syntax),
        }
    };
    if cs.next().is_some() {
        return Err(CharError::Malformed);
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn trims_and_comments() {
        assert_eq!(
            toks("a  {{- /* c */ -}}  b"),
            vec![Tok::Text("a".into()), Tok::Text("b".into()), Tok::Eof]
        );
        assert_eq!(
            toks("{{ .a.b }}"),
            vec![
                Tok::Left,
                Tok::Space,
                Tok::Field("a".into()),
                Tok::Field("b".into()),
                Tok::Space,
                Tok::Right,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn errors_match_go() {
        assert_eq!(lex("{{.x-}}").unwrap_err().1.msg, "bad character U+002D '-'");
        assert_eq!(lex("{{ 3k }}").unwrap_err().1.msg, "bad number syntax: \"3k\"");
        assert_eq!(lex("a {{ .x").unwrap_err().1.msg, "unclosed action");
        assert_eq!(
            lex("{{ \"abc }}").unwrap_err().1.msg,
            "unterminated quoted string"
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(unquote(r#""a\tb\n\u00e9\x41\\""#).unwrap(), "a\tb\néA\\");
        assert_eq!(unquote_char("'a'"), Ok(97));
        assert_eq!(unquote_char("''"), Err(CharError::Syntax));
        assert_eq!(unquote_char("'ab'"), Err(CharError::Malformed));
        assert_eq!(unquote_char(r"'\n'"), Ok(10));
    }
}
