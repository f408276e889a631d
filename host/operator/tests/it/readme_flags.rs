//! The README's flags table is generated from the clap definitions of `run`, so it cannot drift from the binary.

use std::path::PathBuf;

use clap::CommandFactory;
use platform_mesh_operator::cli::Cli;

const BEGIN: &str = "<!-- flags:begin (generated from `run`'s clap definitions by tests/readme_flags.rs) -->";
const END: &str = "<!-- flags:end -->";

/// The checkout this test was built in: defaults that point into it (the plugins the build placed in
/// `target/wasm/plugins`) are shown relative to it, so the table is the same in every clone.
fn checkout() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root).display().to_string()
}

/// One Markdown row per flag of `run`: flag, environment variable, default, help.
fn flags_table() -> String {
    let cli = Cli::command();
    let run = cli.find_subcommand("run").expect("`run` exists");
    let mut out = String::from("| Flag | Environment | Default | Meaning |\n|---|---|---|---|\n");
    for arg in run.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        let default = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().replace(&checkout(), "<checkout>"))
            .collect::<Vec<_>>()
            .join(",");
        let default = if default.is_empty() {
            String::new()
        } else {
            format!("`{default}`")
        };
        let help = arg
            .get_help()
            .map(|h| h.to_string().replace('\n', " ").replace('|', "\\|"))
            .unwrap_or_default();
        out.push_str(&format!("| `--{long}` | {env} | {default} | {help} |\n"));
    }
    out
}

/// `README.md` must hold the current table between the markers; set `PMO_UPDATE_README=1` to rewrite it.
#[test]
fn readme_flags_table_matches_the_cli() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md exists");
    let (start, end) = match (readme.find(BEGIN), readme.find(END)) {
        (Some(start), Some(end)) if start < end => (start, end),
        _ => panic!("README.md lacks the flags table markers `{BEGIN}` … `{END}`"),
    };
    let current = &readme[start + BEGIN.len()..end];
    let wanted = format!("\n{}", flags_table());
    if std::env::var_os("PMO_UPDATE_README").is_some() {
        let updated = format!("{}{BEGIN}{wanted}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).expect("README.md is writable");
        return;
    }
    assert!(
        current == wanted,
        "README.md's flags table is out of date with the CLI; regenerate with \
         `PMO_UPDATE_README=1 cargo test -p platform-mesh-operator --test it -- readme_flags`"
    );
}
