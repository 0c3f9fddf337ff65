//! Embeds every rule file under `<language>/rules/*.toml` and every `<language>/injections.scm`
//! into the crate, so a rule is added by dropping one file into its language's folder.

use std::{env, fs, path::Path};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Cargo scans a directory given here recursively: any new, changed or removed rule file or
    // language folder reruns this script.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut rules = Vec::new();
    let mut langs: Vec<_> = fs::read_dir(root)
        .expect("grammars/ is readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("rules").is_dir())
        .collect();
    langs.sort();
    for lang in langs {
        let dir = lang.join("rules");
        let mut files: Vec<_> = fs::read_dir(&dir)
            .expect("rules folder is readable")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for file in files {
            let rel = file.strip_prefix(root).expect("rule is under grammars/");
            rules.push(format!(
                "    BuiltinRule {{ path: {:?}, source: include_str!({:?}) }},\n",
                rel.to_string_lossy().replace('\\', "/"),
                file.display().to_string()
            ));
        }
    }
    let mut injections = Vec::new();
    let mut folders: Vec<_> = fs::read_dir(root)
        .expect("grammars/ is readable")
        .filter_map(Result::ok)
        .map(|e| e.path().join("injections.scm"))
        .filter(|p| p.is_file())
        .collect();
    folders.sort();
    for file in folders {
        let rel = file
            .strip_prefix(root)
            .expect("injections are under grammars/");
        injections.push(format!(
            "    BuiltinRule {{ path: {:?}, source: include_str!({:?}) }},\n",
            rel.to_string_lossy().replace('\\', "/"),
            file.display().to_string()
        ));
    }
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    let body = format!(
        "/// Every rule file shipped with Countersign, in path order.\npub static BUILTIN_RULES: &[BuiltinRule] = &[\n{}];\n\
         /// Every `<language>/injections.scm`: where code of one language is embedded in another.\n\
         pub static BUILTIN_INJECTIONS: &[BuiltinRule] = &[\n{}];\n",
        rules.concat(),
        injections.concat()
    );
    fs::write(out, body).expect("OUT_DIR is writable");
}
