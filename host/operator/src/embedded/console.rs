//! The console log of `run --embedded`: warnings and errors only, each as `LEVEL message field=value …` wrapped at
//! [`WIDTH`] columns, so they sit between the progress lines without widening the output. `-v` shows the operator's
//! log at `--log-level` in the usual text format instead, and `RUST_LOG` sets the filter of either.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::{
    EnvFilter,
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

use super::{EmbeddedError, WIDTH};
use crate::{cli::EmbeddedArgs, config::CommonConfig};

/// The indentation of a wrapped line's continuation.
const INDENT: &str = "      ";

/// The log filter: `RUST_LOG` if set, `--log-level` with `-v`, else warnings and errors.
pub fn filter(log_level: &str, args: &EmbeddedArgs, rust_log: Option<&str>) -> String {
    match rust_log.map(str::trim) {
        Some(filter) if !filter.is_empty() => filter.to_owned(),
        _ if args.verbose => log_level.to_owned(),
        _ => "warn".to_owned(),
    }
}

/// Installs the console log on stderr.
pub fn init(common: &CommonConfig, args: &EmbeddedArgs) -> Result<(), EmbeddedError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let wanted = filter(&common.log_level, args, rust_log.as_deref());
    let env_filter = EnvFilter::try_new(&wanted)
        .map_err(|error| EmbeddedError::Logging(format!("invalid log filter {wanted:?}: {error}")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr);
    let result = if args.verbose {
        builder.try_init()
    } else {
        builder.event_format(Compact).try_init()
    };
    result.map_err(|error| EmbeddedError::Logging(error.to_string()))
}

/// `LEVEL message field=value …`, wrapped at [`WIDTH`] columns.
struct Compact;

impl<S, N> FormatEvent<S, N> for Compact
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = String::new();
        ctx.format_fields(Writer::new(&mut fields), event)?;
        let text = format!("{} {fields}", event.metadata().level());
        for line in wrap(&text) {
            writeln!(writer, "{line}")?;
        }
        Ok(())
    }
}

/// `text` in lines of at most [`WIDTH`] characters, broken at spaces where possible, continuations indented;
/// control characters (a terminal escape in an error message) become spaces.
pub fn wrap(text: &str) -> Vec<String> {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0;
    // Nothing but the indentation on `line` yet.
    let mut fresh = true;
    for word in clean.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let gap = usize::from(!fresh);
            if width + gap + word.len() <= WIDTH {
                if !fresh {
                    line.push(' ');
                }
                width += gap + word.len();
                line.extend(word.drain(..));
                fresh = false;
                break;
            }
            if fresh {
                // A word longer than a whole line is split.
                let room = WIDTH - width;
                line.extend(word.drain(..room));
            }
            lines.push(std::mem::take(&mut line));
            line.push_str(INDENT);
            width = INDENT.len();
            fresh = true;
        }
    }
    if !fresh || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn args(verbose: bool) -> EmbeddedArgs {
        EmbeddedArgs {
            embedded: true,
            verbose,
            serve: false,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn warnings_only_unless_asked() {
        assert_eq!(filter("debug", &args(false), None), "warn");
        assert_eq!(filter("debug", &args(true), None), "debug");
        assert_eq!(filter("debug", &args(false), Some("kube=trace")), "kube=trace");
        assert_eq!(filter("debug", &args(true), Some(" ")), "debug");
    }

    #[test]
    fn short_lines_stay_whole() {
        assert_eq!(wrap("WARN a  b"), ["WARN a b"]);
        assert_eq!(wrap(""), [""]);
    }

    #[test]
    fn long_lines_wrap_at_spaces_and_long_words_split() {
        let text = format!("WARN {} \x1b[31m{}", "word ".repeat(40), "x".repeat(300));
        let lines = wrap(&text);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH), "{lines:#?}");
        assert!(lines[1..].iter().all(|l| l.starts_with(INDENT)), "{lines:#?}");
        assert!(lines[0].ends_with("word"), "{lines:#?}");
        assert!(!lines.concat().chars().any(char::is_control), "{lines:#?}");
        let rejoined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
        let original: String = text.chars().filter(|c| !c.is_control() && *c != ' ').collect();
        assert_eq!(rejoined, original);
    }
}
