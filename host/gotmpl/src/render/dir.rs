//! Directory walking for `render_dir` (spec §5.7.1) and the deployment-technology filter (§5.7.2).

use std::path::{Path, PathBuf};

use crate::Technology;
use crate::error::{Error, ErrorKind};

/// Every regular `*.yaml` file under `dir`, recursively, in lexical walk order (directories are entered where
/// they sort). Symbolic links are not followed, as with Go's `filepath.Walk`.
pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    Ok(out)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    let name = path.display().to_string();
    Error::new(ErrorKind::Io, &name, format!("reading {name}: {e}")).with_source(e)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io_error(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if meta.is_file() && entry.file_name().to_string_lossy().ends_with(".yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether a file (by base name) is skipped for a deployment technology.
pub fn skipped(base_name: &str, technology: Technology) -> bool {
    match technology {
        Technology::Argocd => base_name.starts_with("helmrelease") || base_name.starts_with("kustomization"),
        Technology::Fluxcd => base_name.starts_with("application"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technology_filter() {
        assert!(skipped("helmreleases.yaml", Technology::Argocd));
        assert!(skipped("kustomization.yaml", Technology::Argocd));
        assert!(!skipped("applications.yaml", Technology::Argocd));
        assert!(skipped("applications.yaml", Technology::Fluxcd));
        assert!(!skipped("appproject.yaml", Technology::Fluxcd));
    }

    #[test]
    fn walks_in_lexical_order() {
        let tmp = std::env::temp_dir().join(format!("gotmpl-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("b/sub")).unwrap();
        for f in ["a.yaml", "b/sub/z.yaml", "b/a.yaml", "c.yml", "c.yaml"] {
            std::fs::write(tmp.join(f), "x: 1\n").unwrap();
        }
        let files: Vec<String> = yaml_files(&tmp)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&tmp).unwrap().display().to_string())
            .collect();
        assert_eq!(files, vec!["a.yaml", "b/a.yaml", "b/sub/z.yaml", "c.yaml"]);
        assert_eq!(yaml_files(&tmp.join("nope")).unwrap_err().kind(), ErrorKind::Io);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
