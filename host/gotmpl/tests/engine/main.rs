//! The engine's tests beyond the Go vectors, in one test binary: the YAML reader and emitter, `toYaml` against
//! the vectors' outputs, and the property that parsing and executing never panic. (`conformance`, `render` and
//! `nesting` are binaries of their own.)

mod no_panic;
mod yaml_conformance;
mod yaml_emitter;
mod yaml_parser;
