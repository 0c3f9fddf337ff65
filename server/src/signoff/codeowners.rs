//! Who reviews a path, from the repository's CODEOWNERS file, read as GitHub reads it: the first
//! of `.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS`, and the last matching line wins.
//!
//! Patterns follow gitignore rules as GitHub applies them: a leading `/` or a `/` inside anchors
//! at the root, `dir/` owns everything under it, `*` stays within one directory (so `docs/*`
//! owns `docs/a.md` but not `docs/sub/a.md`), `**` crosses directories; `!` negation and `[ ]`
//! ranges are not supported. A line with no owners leaves its paths without owners.

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Where GitHub looks, in its order.
const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// The owners of `rel_path` (repo-relative, `/`-separated), e.g. `["@acme/dba",
/// "lead@acme.com"]`; empty when no CODEOWNERS file or no line covers it.
pub fn owners_for(root: &Path, rel_path: &str) -> Vec<String> {
    let Some((file, text)) = LOCATIONS
        .iter()
        .find_map(|loc| Some((*loc, std::fs::read(root.join(loc)).ok()?)))
    else {
        return Vec::new();
    };
    let owners = CodeOwners::parse(&String::from_utf8_lossy(&text), file);
    owners.of(rel_path).to_vec()
}

/// A parsed CODEOWNERS file.
struct CodeOwners {
    /// Every glob of every usable line.
    globs: GlobSet,
    /// For each glob, the index of its line in `owners`.
    line_of: Vec<usize>,
    /// The owners of each usable line, in file order.
    owners: Vec<Vec<String>>,
}

impl CodeOwners {
    /// Lines GitHub would reject (negation, a pattern globset cannot compile) are skipped, as
    /// GitHub skips them; `file` names the file in the log.
    fn parse(text: &str, file: &str) -> CodeOwners {
        let mut builder = GlobSetBuilder::new();
        let mut line_of = Vec::new();
        let mut owners = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let Some((pattern, line_owners)) = split_line(line) else {
                continue;
            };
            let globs = match globs_for(&pattern) {
                Ok(globs) => globs,
                Err(why) => {
                    tracing::debug!("{file}:{}: `{pattern}` skipped: {why}", number + 1);
                    continue;
                }
            };
            for glob in globs {
                builder.add(glob);
                line_of.push(owners.len());
            }
            owners.push(line_owners);
        }
        let globs = builder.build().unwrap_or_else(|e| {
            tracing::warn!("{file}: patterns not usable together ({e}); no owners from it");
            GlobSet::empty()
        });
        CodeOwners {
            globs,
            line_of,
            owners,
        }
    }

    /// The owners of the last line matching `rel_path`.
    fn of(&self, rel_path: &str) -> &[String] {
        let rel_path = rel_path.trim_start_matches("./").trim_start_matches('/');
        self.globs
            .matches(rel_path)
            .into_iter()
            .map(|glob| self.line_of[glob])
            .max()
            .map_or(&[], |line| &self.owners[line])
    }
}

/// `pattern owner… # comment` → the pattern (`\ ` keeps a space in it) and the owners; `None`
/// for blank and comment lines.
fn split_line(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut end = line.len();
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c.is_whitespace() => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let owners = line[end..]
        .split_whitespace()
        .take_while(|word| !word.starts_with('#'))
        .map(str::to_string)
        .collect();
    Some((line[..end].to_string(), owners))
}

/// The globs a CODEOWNERS pattern stands for: the path itself and, for a directory, everything
/// under it.
fn globs_for(pattern: &str) -> Result<Vec<globset::Glob>, String> {
    if pattern.starts_with('!') {
        return Err("negation is not supported in CODEOWNERS".into());
    }
    let leading_slash = pattern.starts_with('/');
    let only_dirs = pattern.ends_with('/');
    let body = pattern.trim_start_matches('/').trim_end_matches('/');
    if body.is_empty() {
        return Err("no path in the pattern".into());
    }
    // Braces and brackets are plain characters in CODEOWNERS, not globset syntax.
    let mut escaped_body = String::with_capacity(body.len());
    for c in body.chars() {
        if matches!(c, '{' | '}' | '[' | ']') {
            escaped_body.push('\\');
        }
        escaped_body.push(c);
    }
    // gitignore: a slash at the start or in the middle anchors at the root; otherwise the
    // pattern matches at any depth.
    let base = if leading_slash || body.contains('/') {
        escaped_body
    } else {
        format!("**/{escaped_body}")
    };
    let mut globs = Vec::new();
    if !only_dirs {
        globs.push(base.clone());
    }
    // GitHub: a trailing `*` matches the entries of one directory, not what is nested below.
    let ends_in_star = body == "*" || body.ends_with("/*");
    if (only_dirs || !ends_in_star) && !base.ends_with("**") {
        globs.push(format!("{base}/**"));
    }
    globs
        .iter()
        .map(|glob| {
            GlobBuilder::new(glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners(text: &str, path: &str) -> Vec<String> {
        CodeOwners::parse(text, "CODEOWNERS").of(path).to_vec()
    }

    fn repo_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().expect("temp dir");
        for (path, text) in files {
            let path = tmp.path().join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
            std::fs::write(path, text).expect("write");
        }
        tmp
    }

    #[test]
    fn last_matching_line_wins() {
        let text = "\
# Everyone reviews everything, the DBAs own SQL.
*           @acme/everyone
*.sql       @acme/dba lead@acme.com
db/legacy/  @acme/archaeologists
";
        assert_eq!(owners(text, "src/main.rs"), ["@acme/everyone"]);
        assert_eq!(owners(text, "db/m.sql"), ["@acme/dba", "lead@acme.com"]);
        assert_eq!(owners(text, "db/legacy/old.sql"), ["@acme/archaeologists"]);
    }

    #[test]
    fn line_without_owners_leaves_the_path_without_owners() {
        let text = "/apps/  @octocat\n/apps/github\n";
        assert_eq!(owners(text, "apps/web/index.js"), ["@octocat"]);
        assert!(owners(text, "apps/github/index.js").is_empty());
    }

    #[test]
    fn leading_slash_anchors_at_the_root() {
        let text = "/build/logs/  @ops\n";
        assert_eq!(owners(text, "build/logs/today.log"), ["@ops"]);
        assert!(owners(text, "web/build/logs/today.log").is_empty());
    }

    #[test]
    fn pattern_without_slash_matches_at_any_depth() {
        let text = "schema.sql  @acme/dba\nlogs/  @ops\n";
        assert_eq!(owners(text, "schema.sql"), ["@acme/dba"]);
        assert_eq!(owners(text, "services/billing/schema.sql"), ["@acme/dba"]);
        assert_eq!(owners(text, "services/logs/x/y.log"), ["@ops"]);
        assert!(owners(text, "services/schema.sql.bak").is_empty());
    }

    #[test]
    fn slash_in_the_middle_anchors_too() {
        let text = "docs/api  @writers\n";
        assert_eq!(owners(text, "docs/api/index.md"), ["@writers"]);
        assert!(owners(text, "site/docs/api/index.md").is_empty());
    }

    #[test]
    fn directory_pattern_owns_everything_under_it() {
        let text = "db/migrate/  @acme/dba\n";
        assert_eq!(owners(text, "db/migrate/001.sql"), ["@acme/dba"]);
        assert_eq!(owners(text, "db/migrate/2024/002.sql"), ["@acme/dba"]);
        assert!(owners(text, "db/seed.sql").is_empty());
    }

    #[test]
    fn trailing_star_stays_in_one_directory() {
        let text = "docs/*  docs@example.com\n";
        assert_eq!(
            owners(text, "docs/getting-started.md"),
            ["docs@example.com"]
        );
        assert!(owners(text, "docs/build-app/troubleshooting.md").is_empty());
    }

    #[test]
    fn double_star_crosses_directories() {
        let text = "**/logs  @ops\ndb/**/*.sql  @acme/dba\n";
        assert_eq!(owners(text, "logs/a.log"), ["@ops"]);
        assert_eq!(owners(text, "deploy/x/logs/a.log"), ["@ops"]);
        assert_eq!(owners(text, "db/m.sql"), ["@acme/dba"]);
        assert_eq!(owners(text, "db/a/b/m.sql"), ["@acme/dba"]);
        assert!(owners(text, "src/db/m.sql").is_empty());
    }

    #[test]
    fn comments_blank_lines_and_negation_are_ignored() {
        let text = "\n# owners\n*.sql @acme/dba # the database team\n!db/keep.sql @nobody\n";
        assert_eq!(owners(text, "db/keep.sql"), ["@acme/dba"]);
    }

    #[test]
    fn github_folder_is_read_before_the_root_and_docs() {
        let repo = repo_with(&[
            ("docs/CODEOWNERS", "* @from-docs\n"),
            ("CODEOWNERS", "* @from-root\n"),
            (".github/CODEOWNERS", "* @from-github\n"),
        ]);
        assert_eq!(owners_for(repo.path(), "db/m.sql"), ["@from-github"]);

        let repo = repo_with(&[
            ("docs/CODEOWNERS", "* @from-docs\n"),
            ("CODEOWNERS", "* @from-root\n"),
        ]);
        assert_eq!(owners_for(repo.path(), "db/m.sql"), ["@from-root"]);

        let repo = repo_with(&[("docs/CODEOWNERS", "* @from-docs\n")]);
        assert_eq!(owners_for(repo.path(), "db/m.sql"), ["@from-docs"]);
    }

    #[test]
    fn no_codeowners_file_means_no_owners() {
        let repo = repo_with(&[("README.md", "hello\n")]);
        assert!(owners_for(repo.path(), "db/m.sql").is_empty());
    }
}
