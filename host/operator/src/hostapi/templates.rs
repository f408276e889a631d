//! `templates` imports. Rendering belongs to the `gotmpl` crate, which is not part of this build yet; until it
//! is, every call fails with a render error that says so, rather than producing made-up output.

use super::HostCall;
use crate::plugin::bindings::templates::{self, Document, Funcs, RenderError, RenderOptions};

const UNAVAILABLE: &str =
    "templates are not available yet: this operator build has no template engine (gotmpl)";

fn unavailable(source: String) -> RenderError {
    RenderError {
        source,
        line: None,
        column: None,
        message: UNAVAILABLE.to_owned(),
    }
}

impl templates::Host for HostCall {
    async fn render_dir(
        &mut self,
        dir: String,
        _vars: String,
        _options: RenderOptions,
    ) -> Result<Vec<Document>, RenderError> {
        Err(unavailable(dir))
    }

    async fn render_file(
        &mut self,
        path: String,
        _vars: String,
        _funcs: Funcs,
    ) -> Result<Vec<Document>, RenderError> {
        Err(unavailable(path))
    }

    async fn render_string(
        &mut self,
        name: String,
        _text: String,
        _vars: String,
        _funcs: Funcs,
    ) -> Result<String, RenderError> {
        Err(unavailable(name))
    }

    async fn parse_yaml(&mut self, name: String, _text: String) -> Result<String, RenderError> {
        Err(unavailable(name))
    }

    async fn to_yaml(&mut self, _json: String) -> Result<String, RenderError> {
        Err(unavailable("toYaml".to_owned()))
    }
}
