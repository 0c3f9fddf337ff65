//! The languages Countersign understands and the rule files it ships.
//!
//! One registry maps an LSP `languageId`, a file name or an extension to a tree-sitter grammar;
//! rule files live as data in `grammars/<language>/rules/*.toml` and are embedded at build time.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// A file embedded in the binary: its path under `grammars/` and its text.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinRule {
    pub path: &'static str,
    pub source: &'static str,
}

/// A language with a tree-sitter grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Sql,
    Bash,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Rust,
    Hcl,
    Yaml,
    Dockerfile,
}

impl Lang {
    pub const ALL: [Lang; 11] = [
        Lang::Sql,
        Lang::Bash,
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::Go,
        Lang::Rust,
        Lang::Hcl,
        Lang::Yaml,
        Lang::Dockerfile,
    ];

    /// The name used in rule files and in `grammars/<name>/`.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Sql => "sql",
            Lang::Bash => "bash",
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Go => "go",
            Lang::Rust => "rust",
            Lang::Hcl => "hcl",
            Lang::Yaml => "yaml",
            Lang::Dockerfile => "dockerfile",
        }
    }

    pub fn from_name(name: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The tree-sitter grammar.
    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::Sql => tree_sitter_sequel::LANGUAGE.into(),
            Lang::Bash => tree_sitter_bash::LANGUAGE.into(),
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Hcl => tree_sitter_hcl::LANGUAGE.into(),
            Lang::Yaml => tree_sitter_yaml::LANGUAGE.into(),
            Lang::Dockerfile => tree_sitter_containerfile::LANGUAGE.into(),
        }
    }

    /// Maps an LSP `languageId` (VS Code's and Neovim's names) to a language.
    pub fn from_language_id(id: &str) -> Option<Lang> {
        Some(match id {
            "sql" | "pgsql" | "postgres" | "mysql" | "plsql" => Lang::Sql,
            "shellscript" | "sh" | "bash" | "zsh" | "shell" => Lang::Bash,
            "python" => Lang::Python,
            "javascript" | "javascriptreact" | "jsx" => Lang::JavaScript,
            "typescript" => Lang::TypeScript,
            "typescriptreact" | "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            "rust" => Lang::Rust,
            "terraform" | "hcl" | "terraform-vars" | "tf" => Lang::Hcl,
            "yaml" | "github-actions-workflow" | "gitlab-ci" | "dockercompose" => Lang::Yaml,
            "dockerfile" | "containerfile" => Lang::Dockerfile,
            _ => return None,
        })
    }

    /// Detects the language of a file from its name, then its extension.
    pub fn from_path(path: &Path) -> Option<Lang> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        if lower == "dockerfile"
            || lower == "containerfile"
            || lower.starts_with("dockerfile.")
            || lower.ends_with(".dockerfile")
        {
            return Some(Lang::Dockerfile);
        }
        if matches!(
            lower.as_str(),
            ".bashrc" | ".bash_profile" | ".profile" | ".zshrc"
        ) {
            return Some(Lang::Bash);
        }
        let ext = lower.rsplit_once('.')?.1;
        Some(match ext {
            "sql" | "psql" | "pgsql" | "ddl" => Lang::Sql,
            "sh" | "bash" | "zsh" | "ksh" => Lang::Bash,
            "py" | "pyi" | "pyw" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            "rs" => Lang::Rust,
            "tf" | "tfvars" | "hcl" => Lang::Hcl,
            "yml" | "yaml" => Lang::Yaml,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One small, valid program per language: each must parse without an error node.
    const SAMPLES: [(Lang, &str); 11] = [
        (
            Lang::Sql,
            "DROP TABLE users;\nSELECT id FROM t WHERE id = 1;\n",
        ),
        (Lang::Bash, "rm -rf \"$DIR/\"\nterraform destroy\n"),
        (Lang::Python, "import os\nos.system('ls')\n"),
        (
            Lang::JavaScript,
            "const fs = require('fs');\nfs.rmSync(p, { recursive: true });\n",
        ),
        (Lang::TypeScript, "const n: number = 1;\n"),
        (Lang::Tsx, "const a = <div className=\"x\" />;\n"),
        (
            Lang::Go,
            "package main\n\nfunc main() { os.RemoveAll(dir) }\n",
        ),
        (
            Lang::Rust,
            "fn main() { std::fs::remove_dir_all(\"x\").ok(); }\n",
        ),
        (
            Lang::Hcl,
            "resource \"aws_s3_bucket\" \"b\" {\n  force_destroy = true\n}\n",
        ),
        (
            Lang::Yaml,
            "jobs:\n  deploy:\n    steps:\n      - run: ./deploy.sh\n",
        ),
        (
            Lang::Dockerfile,
            "FROM debian:12\nRUN rm -rf /var/lib/apt/lists/*\n",
        ),
    ];

    #[test]
    fn every_language_parses_a_sample_without_errors() {
        for (lang, src) in SAMPLES {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&lang.grammar()).unwrap();
            let tree = parser.parse(src, None).unwrap();
            assert!(
                !tree.root_node().has_error(),
                "{lang}: {}",
                tree.root_node().to_sexp()
            );
        }
        assert_eq!(SAMPLES.len(), Lang::ALL.len());
    }

    #[test]
    fn languages_are_found_by_id_name_and_extension() {
        assert_eq!(Lang::from_language_id("shellscript"), Some(Lang::Bash));
        assert_eq!(Lang::from_language_id("typescriptreact"), Some(Lang::Tsx));
        assert_eq!(
            Lang::from_path(Path::new("db/migrate/001.SQL")),
            Some(Lang::Sql)
        );
        assert_eq!(
            Lang::from_path(Path::new("Dockerfile.prod")),
            Some(Lang::Dockerfile)
        );
        assert_eq!(Lang::from_path(Path::new("infra/main.tf")), Some(Lang::Hcl));
        assert_eq!(Lang::from_path(Path::new("README")), None);
        for lang in Lang::ALL {
            assert_eq!(Lang::from_name(lang.name()), Some(lang));
        }
    }

    #[test]
    fn builtin_rules_are_embedded() {
        assert!(BUILTIN_RULES
            .iter()
            .any(|r| r.path == "sql/rules/drop-table.toml"));
    }
}
