//! Where a file's repository starts, and the repo-relative path fingerprints are made of, so
//! the editor and the CLI compute the same fingerprint for the same code.

use std::path::{Component, Path, PathBuf};

/// The nearest ancestor of `path` holding `.git`, `.countersign` or `countersign.toml`;
/// `fallback` (the editor's workspace folder) when none does and it contains the path; else
/// the file's own folder.
pub fn root_for(path: &Path, fallback: Option<&Path>) -> PathBuf {
    let start = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    for dir in start.ancestors() {
        if dir.join(".git").exists()
            || dir.join(".countersign").is_dir()
            || dir.join(crate::config::FILE_NAME).is_file()
        {
            return dir.to_path_buf();
        }
    }
    match fallback {
        Some(root) if path.starts_with(root) => root.to_path_buf(),
        _ => start.to_path_buf(),
    }
}

/// `path` relative to `root`, with `/` separators; the path itself when it is not below root.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// An absolute, lexically normalized form of `path` (no I/O, so it works for deleted files).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_the_nearest_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("db/migrate")).unwrap();
        let file = repo.join("db/migrate/001.sql");
        std::fs::write(&file, "").unwrap();
        assert_eq!(root_for(&file, None), repo);
        assert_eq!(relative_path(&repo, &file), "db/migrate/001.sql");
    }

    #[test]
    fn without_a_repository_the_editor_folder_is_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws/sub");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.sql");
        let ws = tmp.path().join("ws");
        assert_eq!(root_for(&file, Some(&ws)), ws);
        assert_eq!(
            absolute(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
