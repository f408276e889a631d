//! Spec §6.2: the layout of `manifests/kcp`. Regular files of a directory belong to the directory's workspace;
//! a sub-directory `NN-<name>` is the child workspace `<path>:<name>`, or the same workspace when `<name>` equals
//! the current path (`02-root` at `root`). Other sub-directories are ignored. Files and directories are taken in
//! lexical order.
//!
//! Unlike upstream, the tree is only read here; what is applied when is decided by [`crate::plan`] by dependency,
//! not by the order of the directories (§11.3 item 28).

use std::path::Path;

/// The files of one directory and the workspace they are applied to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceDir {
    /// Workspace path, e.g. `root:platform-mesh-system`.
    pub path: String,
    /// The files, relative to the workspace directory (`manifests/kcp/01-platform-mesh-system/a.yaml`).
    pub files: Vec<String>,
}

/// The workspace name of a directory `NN-<name>` (two ASCII digits, a dash, then letters, digits and dashes).
/// Only the last path component counts; a trailing `/` leaves no name.
pub fn workspace_name(dir: &str) -> Result<&str, String> {
    let base = dir.rsplit('/').next().unwrap_or_default();
    let bytes = base.as_bytes();
    let well_formed = bytes.len() > 3
        && bytes[0].is_ascii_digit()
        && bytes[1].is_ascii_digit()
        && bytes[2] == b'-'
        && bytes[3..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-');
    if well_formed {
        Ok(&base[3..])
    } else {
        Err(format!(
            "directory name {dir:?} does not match NN-<workspace name>"
        ))
    }
}

/// Reads the tree under `dir` (relative to `root`, the workspace directory) as applied starting at workspace
/// `path`: one entry per directory that has files, parents before children.
pub fn read(root: &Path, dir: &str, path: &str) -> Result<Vec<WorkspaceDir>, String> {
    let mut out = Vec::new();
    walk(root, dir, path, &mut out)?;
    Ok(out)
}

fn walk(root: &Path, dir: &str, path: &str, out: &mut Vec<WorkspaceDir>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(root.join(dir)).map_err(|e| format!("Failed to read directory {dir}: {e}"))?;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("Failed to read directory {dir}: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry
            .file_type()
            .map_err(|e| format!("Failed to read {dir}/{name}: {e}"))?;
        if kind.is_file() {
            files.push(name);
        } else if kind.is_dir() && workspace_name(&name).is_ok() {
            dirs.push(name);
        }
    }
    files.sort();
    dirs.sort();
    if !files.is_empty() {
        out.push(WorkspaceDir {
            path: path.to_owned(),
            files: files.iter().map(|f| format!("{dir}/{f}")).collect(),
        });
    }
    for sub in dirs {
        let name = workspace_name(&sub)?;
        let child = if name == path {
            path.to_owned()
        } else {
            format!("{path}:{name}")
        };
        walk(root, &format!("{dir}/{sub}"), &child, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_names_follow_upstream_examples() {
        for (dir, name) in [
            ("01-platform-mesh-system", "platform-mesh-system"),
            ("99-abc123", "abc123"),
            ("01-Platform-Mesh-System", "Platform-Mesh-System"),
            ("01-platform-mesh-system-extra", "platform-mesh-system-extra"),
            ("../../manifests/kcp/02-orgs", "orgs"),
        ] {
            assert_eq!(workspace_name(dir), Ok(name), "{dir}");
        }
        for dir in [
            "00-",
            "01-",
            "platform-mesh-system",
            "01platform-mesh-system",
            "01-platform-mesh_system",
            "1-platform-mesh-system",
            "01-platform-mesh/",
            "",
        ] {
            assert!(workspace_name(dir).is_err(), "{dir:?} must be rejected");
        }
    }

    #[test]
    fn shipped_tree_maps_directories_to_workspaces() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dirs = read(&root, "manifests/kcp", "root").unwrap();
        let paths: Vec<&str> = dirs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "root",
                "root:platform-mesh-system",
                "root",
                "root:orgs",
                "root:platform-mesh-system",
                "root:providers",
                "root:platform-mesh-system",
            ]
        );
        assert_eq!(
            dirs[0].files[0],
            "manifests/kcp/workspace-authentication-configuration.yaml"
        );
        assert_eq!(
            dirs[2].files[0],
            "manifests/kcp/02-root/01-workspace-type-orgs.yaml"
        );
        let files: usize = dirs.iter().map(|d| d.files.len()).sum();
        // Spec §6.2.1 lists 44 files; we ship one more, the `providers.platform-mesh.io` endpoint slice the
        // Provider controller watches through, which the Go operator's tree does not hold.
        assert_eq!(
            files, 45,
            "the 44 files of spec §6.2.1 and the providers endpoint slice"
        );
    }

    #[test]
    fn missing_directory_is_named() {
        let err = read(Path::new("/nonexistent"), "manifests/kcp", "root").unwrap_err();
        assert!(
            err.starts_with("Failed to read directory manifests/kcp: "),
            "{err}"
        );
    }
}
