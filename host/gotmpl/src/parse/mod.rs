//! Go template syntax: lexer, number literals, syntax tree and parser.

pub mod ast;
pub mod lexer;
pub mod number;
pub mod parser;

pub use parser::{Parsed, parse};
