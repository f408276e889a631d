//! The manifest tree of a toggle (spec §6.2, §6.8): which files are applied in which kcp workspace, in order.
//! Directories are read from the workspace directory the plugin sees read-only (`/workspace` in the sandbox).

use std::path::PathBuf;

/// Where toggle directories live, relative to the workspace directory.
pub const FEATURES_DIR: &str = "manifests/features";

/// Read-only access to the operator's workspace directory.
#[derive(Clone, Debug)]
pub struct WorkspaceDir {
    root: PathBuf,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
}

impl WorkspaceDir {
    /// The directory the host mounts into every plugin.
    pub fn sandbox() -> Self {
        WorkspaceDir::at("/workspace")
    }

    /// Any directory (native tests use the source tree).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        WorkspaceDir { root: root.into() }
    }

    /// The entries of `rel` sorted by name; `Ok(None)` if it does not exist.
    pub fn entries(&self, rel: &str) -> Result<Option<Vec<Entry>>, String> {
        let dir = self.root.join(rel);
        let reader = match std::fs::read_dir(&dir) {
            Ok(reader) => reader,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading directory {rel}: {e}")),
        };
        let mut out = Vec::new();
        for entry in reader {
            let entry = entry.map_err(|e| format!("reading directory {rel}: {e}"))?;
            let kind = entry
                .file_type()
                .map_err(|e| format!("reading directory {rel}: {e}"))?;
            out.push(Entry {
                name: entry.file_name().to_string_lossy().into_owned(),
                is_dir: kind.is_dir(),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(out))
    }

    /// The toggles that have a directory: the known toggles.
    pub fn known_toggles(&self) -> Result<Vec<String>, String> {
        Ok(self
            .entries(FEATURES_DIR)?
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.is_dir)
            .map(|e| e.name)
            .collect())
    }
}

/// The workspace name of a `NN-<name>` directory (two digits, a dash, letters/digits/dashes), else `None`.
pub fn workspace_name(dir: &str) -> Option<&str> {
    let bytes = dir.as_bytes();
    let valid = bytes.len() > 3
        && bytes[0].is_ascii_digit()
        && bytes[1].is_ascii_digit()
        && bytes[2] == b'-'
        && dir[3..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| &dir[3..])
}

/// Files applied in one workspace, and the child workspace that must be Ready before them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Workspace path, e.g. `root:platform-mesh-system`.
    pub workspace: String,
    /// `Some((parent, name))` when the workspace is a child that has to be Ready first.
    pub enter: Option<(String, String)>,
    /// Files relative to the workspace directory, in lexical order.
    pub files: Vec<String>,
}

/// The steps of `dir` (relative to the workspace directory) starting at workspace `path`: its files first, then
/// each `NN-<name>` sub-directory in lexical order (`<name>` equal to the current path stays in it). Other
/// directories are ignored.
pub fn steps(fs: &WorkspaceDir, dir: &str, path: &str) -> Result<Vec<Step>, String> {
    let entries = fs
        .entries(dir)?
        .ok_or_else(|| format!("directory {dir} does not exist"))?;
    let mut out = vec![Step {
        workspace: path.to_owned(),
        enter: None,
        files: entries
            .iter()
            .filter(|e| !e.is_dir)
            .map(|e| format!("{dir}/{}", e.name))
            .collect(),
    }];
    for entry in entries.iter().filter(|e| e.is_dir) {
        let Some(name) = workspace_name(&entry.name) else {
            continue;
        };
        let sub = format!("{dir}/{}", entry.name);
        let mut child = if name == path {
            steps(fs, &sub, path)?
        } else {
            let child_path = format!("{path}:{name}");
            let mut nested = steps(fs, &sub, &child_path)?;
            nested[0].enter = Some((path.to_owned(), name.to_owned()));
            nested
        };
        out.append(&mut child);
    }
    out.retain(|s| !s.files.is_empty() || s.enter.is_some());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_names_follow_upstream() {
        assert_eq!(
            workspace_name("01-platform-mesh-system"),
            Some("platform-mesh-system")
        );
        assert_eq!(workspace_name("99-abc123"), Some("abc123"));
        assert_eq!(
            workspace_name("01-Platform-Mesh-System"),
            Some("Platform-Mesh-System")
        );
        for bad in [
            "00-",
            "01-",
            "platform-mesh-system",
            "01platform",
            "01-a_b",
            "1-abc",
            "01-a/",
            "",
        ] {
            assert_eq!(workspace_name(bad), None, "{bad}");
        }
    }
}
