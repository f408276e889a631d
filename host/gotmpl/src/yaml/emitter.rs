//! A block-style YAML emitter with yaml.v2's observable layout: two-space indentation, sequences inside
//! mappings not indented, empty collections in flow style, keys longer than 128 bytes or spanning lines
//! written as `? key`, and long scalars folded after column 80.
//!
//! The emitter tracks the same cursor state that decides yaml.v2's spacing (current column, whether the
//! last thing written was whitespace, whether we are still inside the indentation of a line), because the
//! placement of spaces and line breaks follows from that state rather than from fixed templates.

/// A value ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A non-string scalar (number, bool, null) whose text is always written plain.
    Plain(String),
    /// A string; the emitter picks plain, quoted or literal style.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping whose keys are already in output order.
    Map(Vec<(String, Node)>),
}

/// Where a node sits, which changes indentation and scalar style choices.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Context {
    /// The node is a mapping key or value.
    pub mapping: bool,
    /// The node is a key written without `?`.
    pub simple_key: bool,
}

/// Output buffer plus cursor state.
pub(super) struct Emitter {
    pub out: String,
    pub column: usize,
    /// Indentation of the node being written; -1 before the root node.
    pub indent: isize,
    indents: Vec<isize>,
    /// The last character written is whitespace (so an indicator needs no separating space).
    pub whitespace: bool,
    /// Only indentation has been written on the current line so far.
    pub indention: bool,
}

/// yaml.v2's indentation step.
pub(super) const BEST_INDENT: isize = 2;
/// yaml.v2's preferred line width for folding scalars.
pub(super) const BEST_WIDTH: usize = 80;
/// Keys longer than this (in bytes) are written in the explicit `? key` form.
const MAX_SIMPLE_KEY_LEN: usize = 128;

/// Serialises a node as a single implicit YAML document, always ending with a line break.
pub fn emit_document(root: &Node) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
    };
    e.node(root, Context::default());
    // Document end: finish the last line unless a block scalar already did.
    e.write_indent();
    e.out
}

impl Emitter {
    pub(super) fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    pub(super) fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Writes a line break character from scalar content; only `\n` is normalised.
    pub(super) fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    pub(super) fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    pub(super) fn decrease_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    /// Moves to the current indentation, starting a new line unless we are already inside the indentation.
    pub(super) fn write_indent(&mut self) {
        let indent = self.indent.max(0).unsigned_abs();
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    pub(super) fn write_indicator(
        &mut self,
        text: &str,
        need_space: bool,
        is_space: bool,
        is_indention: bool,
    ) {
        if need_space && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_space;
        self.indention = self.indention && is_indention;
    }

    fn node(&mut self, node: &Node, ctx: Context) {
        match node {
            Node::Plain(text) => self.scalar(text, super::scalar::Requested::Plain, ctx),
            Node::Str(text) => self.scalar(text, super::scalar::requested_style(text), ctx),
            Node::Seq(items) if items.is_empty() => self.empty_flow("[", "]"),
            Node::Map(entries) if entries.is_empty() => self.empty_flow("{", "}"),
            Node::Seq(items) => self.block_sequence(items, ctx),
            Node::Map(entries) => self.block_mapping(entries),
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Node], ctx: Context) {
        // A sequence that is a mapping value starting on a fresh line is not indented (`key:\n- a`).
        let indentless = ctx.mapping && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Context::default());
        }
        self.decrease_indent();
    }

    fn block_mapping(&mut self, entries: &[(String, Node)]) {
        self.increase_indent(false, false);
        for (key, value) in entries {
            self.write_indent();
            let simple = key.len() <= MAX_SIMPLE_KEY_LEN && !key.chars().any(super::scalar::is_break);
            if simple {
                self.scalar(
                    key,
                    super::scalar::requested_style(key),
                    Context {
                        mapping: true,
                        simple_key: true,
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.scalar(
                    key,
                    super::scalar::requested_style(key),
                    Context {
                        mapping: true,
                        simple_key: false,
                    },
                );
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(
                value,
                Context {
                    mapping: true,
                    simple_key: false,
                },
            );
        }
        self.decrease_indent();
    }
}
