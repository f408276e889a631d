//! Builds a node tree of the first YAML document from saphyr's event stream (syntax only, no resolution).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use super::error::YamlError;

/// One node of the document; children are indices into [`Tree::nodes`].
#[derive(Debug)]
pub(super) enum Kind {
    Scalar {
        value: String,
        quoted: bool,
        tag: Option<String>,
    },
    Seq(Vec<usize>),
    Map(Vec<(usize, usize)>),
    Alias(usize),
}

/// A node with its 1-based position.
#[derive(Debug)]
pub(super) struct YNode {
    pub kind: Kind,
    pub line: usize,
    pub column: usize,
}

/// The first document of a stream; `root` is `None` for an empty stream.
pub(super) struct Tree {
    pub nodes: Vec<YNode>,
    pub root: Option<usize>,
}

fn scan_error(e: &ScanError) -> YamlError {
    YamlError::at(e.info(), e.marker().line(), e.marker().col() + 1)
}

/// Core-schema tags become their short form (`!!int` → `int`); other tags keep a `!` prefix so that they
/// can never be mistaken for a core tag.
fn tag_name(tag: Option<&saphyr_parser::Tag>) -> Option<String> {
    let tag = tag?;
    Some(if tag.is_yaml_core_schema() {
        tag.suffix.clone()
    } else {
        format!("!{}{}", tag.handle, tag.suffix)
    })
}

/// A collection under construction.
enum Open {
    Seq(usize, Vec<usize>),
    Map(usize, Vec<usize>),
}

/// Parses events up to the end of the first document.
pub(super) fn parse_first_document(text: &str) -> Result<Tree, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut nodes: Vec<YNode> = Vec::new();
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut root = None;
    let mut in_document = false;
    for item in &mut parser {
        let (event, span): (Event<'_>, Span) = item.map_err(|e| scan_error(&e))?;
        let (line, column) = (span.start.line(), span.start.col() + 1);
        let push =
            |kind: Kind, anchor: usize, nodes: &mut Vec<YNode>, anchors: &mut HashMap<usize, usize>| {
                nodes.push(YNode { kind, line, column });
                let idx = nodes.len() - 1;
                if anchor > 0 {
                    anchors.insert(anchor, idx);
                }
                idx
            };
        let finished = match event {
            Event::StreamStart | Event::Nothing => None,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                in_document = true;
                None
            }
            Event::DocumentEnd => {
                if in_document {
                    break;
                }
                None
            }
            Event::Scalar(value, style, anchor, tag) => {
                let quoted = !matches!(style, ScalarStyle::Plain);
                let kind = Kind::Scalar {
                    value: value.into_owned(),
                    quoted,
                    tag: tag_name(tag.as_deref()),
                };
                Some(push(kind, anchor, &mut nodes, &mut anchors))
            }
            Event::Alias(id) => {
                let target = *anchors
                    .get(&id)
                    .ok_or_else(|| YamlError::at("unknown anchor referenced", line, column))?;
                Some(push(Kind::Alias(target), 0, &mut nodes, &mut anchors))
            }
            Event::SequenceStart(anchor, _) => {
                let idx = push(Kind::Seq(Vec::new()), anchor, &mut nodes, &mut anchors);
                stack.push(Open::Seq(idx, Vec::new()));
                None
            }
            Event::MappingStart(anchor, _) => {
                let idx = push(Kind::Map(Vec::new()), anchor, &mut nodes, &mut anchors);
                stack.push(Open::Map(idx, Vec::new()));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(idx, items)) => {
                    nodes[idx].kind = Kind::Seq(items);
                    Some(idx)
                }
                Some(Open::Map(idx, flat)) => {
                    let pairs = flat
                        .chunks(2)
                        .filter(|p| p.len() == 2)
                        .map(|p| (p[0], p[1]))
                        .collect();
                    nodes[idx].kind = Kind::Map(pairs);
                    Some(idx)
                }
                None => None,
            },
        };
        if let Some(done) = finished {
            match stack.last_mut() {
                Some(Open::Seq(_, items) | Open::Map(_, items)) => items.push(done),
                None => root = Some(done),
            }
        }
    }
    Ok(Tree { nodes, root })
}
