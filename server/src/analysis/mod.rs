//! Runs the rule queries over syntax trees and keeps each document's findings up to date.
//!
//! All rules of a language are compiled into one tree-sitter query, so a file is walked once
//! whatever the number of rules. [`Findings`] is a per-document cache: edits shift or drop
//! cached findings, and only the dirty byte ranges are queried again.

pub mod markers;
mod predicates;
pub mod rule;

use std::{
    borrow::Cow,
    collections::HashMap,
    ops::Range,
    sync::{Arc, OnceLock},
};

use countersign_grammars::{Lang, BUILTIN_INJECTIONS, BUILTIN_RULES};
use sha2::{Digest, Sha256};
use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, Query, QueryCursor, QueryMatch, Tree};

pub use markers::Markers;
use predicates::Predicates;
pub use rule::{Category, Rule, RuleError, RuleSpec, Severity, Side};

use crate::config::Config;

/// Files and documents larger than this are neither parsed nor analysed, in the editor, `scan`
/// and `check` alike: tree-sitter needs seconds per MiB and ~100 bytes of tree per byte of such
/// text, which would stall an editor's other documents; no hand-reviewed source file is this big.
pub const MAX_ANALYSED_BYTES: usize = 8 << 20;

/// Text that findings can be read from: a plain byte slice (CLI) or a rope (editor buffers).
pub trait Source {
    /// The bytes in `range`; ranges come from the syntax tree of the same text.
    fn bytes_of(&self, range: Range<usize>) -> Cow<'_, [u8]>;
}

impl Source for [u8] {
    fn bytes_of(&self, range: Range<usize>) -> Cow<'_, [u8]> {
        let end = range.end.min(self.len());
        Cow::Borrowed(&self[range.start.min(end)..end])
    }
}

impl Source for ropey::Rope {
    fn bytes_of(&self, range: Range<usize>) -> Cow<'_, [u8]> {
        // Through char indices, so a range off a char boundary rounds instead of panicking.
        let start = self.byte_to_char(range.start.min(self.len_bytes()));
        let end = self.byte_to_char(range.end.min(self.len_bytes()));
        let slice = self.slice(start..end.max(start));
        match slice.as_str() {
            Some(s) => Cow::Borrowed(s.as_bytes()),
            None => Cow::Owned(slice.bytes().collect()),
        }
    }
}

/// One risky construct found in a file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Arc<Rule>,
    /// The byte range reported to the user (the `@finding` capture).
    pub range: Range<usize>,
    /// The bytes all captures of the match cover; an edit touching them re-checks the match.
    pub match_range: Range<usize>,
    pub snippet: String,
    /// hash(rule id, repo-relative path, normalized snippet): what a sign-off is bound to.
    pub fingerprint: String,
    /// Found in code embedded in another language (SQL in a Python string).
    pub embedded: bool,
}

/// Orders findings by where they start, then end, then rule id: the order every list of
/// findings is kept in.
pub fn sort_by_position(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule.id()).cmp(&(b.range.start, b.range.end, b.rule.id()))
    });
}

/// The findings worth showing: one per range (the most severe); none for a construct whose
/// embedded code has its own, more precise finding (`os.system("rm -rf /")` is reported once, as
/// `rm -rf /`); and no production marker inside a specific production rule's finding
/// (`environment: production` is the CI rule's, not also the marker's). `findings` are sorted by position, as
/// [`RuleSet::find`] returns them.
pub fn deduplicate(findings: &[Finding]) -> Vec<&Finding> {
    let within = |inner: &Range<usize>, outer: &Range<usize>| {
        outer.start <= inner.start && inner.end <= outer.end
    };
    debug_assert!(findings.is_sorted_by_key(|f| (f.range.start, f.range.end)));
    let mut out: Vec<&Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        // Sorted by start: what lies within `f` starts in `f.range`, from the first finding
        // starting where `f` does. (Linear in what overlaps, not in the whole list: a document
        // can hold thousands of findings and this runs on every publish.)
        let first = findings.partition_point(|e| e.range.start < f.range.start);
        let host_of_embedded = !f.embedded
            && findings[first..]
                .iter()
                .take_while(|e| e.range.start <= f.range.end)
                .any(|e| e.embedded && within(&e.range, &f.range) && e.range != f.range);
        let generic_marker = f.rule.marker
            && findings.iter().any(|o| {
                !o.rule.marker
                    && o.rule.spec.category == f.rule.spec.category
                    && within(&f.range, &o.range)
            });
        if host_of_embedded || generic_marker {
            continue;
        }
        // Findings with the same range are neighbours in the sorted list.
        match out.last_mut() {
            Some(kept) if kept.range == f.range => {
                if f.rule.spec.severity > kept.rule.spec.severity {
                    *kept = f;
                }
            }
            _ => out.push(f),
        }
    }
    out
}

/// The fingerprint a sign-off is bound to. Whitespace is normalized so re-indenting the code
/// keeps an approval, while any other change to the snippet voids it.
pub fn fingerprint(rule_id: &str, rel_path: &str, snippet: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    hasher.update(rel_path.as_bytes());
    hasher.update([0]);
    for (i, word) in snippet.split_whitespace().enumerate() {
        if i > 0 {
            hasher.update(b" ");
        }
        hasher.update(word.as_bytes());
    }
    let digest = hasher.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// All rules of one language compiled into one query.
struct Compiled {
    query: Query,
    /// Index into `RuleSet::rules` for every pattern of `query`.
    pattern_rule: Vec<usize>,
    finding_capture: Option<u32>,
    /// Per pattern, `(#set! report.match "regex")`: report only the first match of the regex
    /// inside the `@finding` node (for constructs a grammar leaves as one large ERROR node).
    report_match: Vec<Option<regex::bytes::Regex>>,
    /// Per pattern, `(#set! report.extend "regex")`: extend the report over the text after the
    /// `@finding` node that the regex matches (a statement the grammar split into pieces).
    report_extend: Vec<Option<regex::bytes::Regex>>,
    predicates: Predicates,
}

/// The loaded rules. A language's query is compiled the first time it is needed (compiling the
/// SQL grammar's query alone takes ~20 ms, too long to do for every language at startup).
pub struct RuleSet {
    rules: Vec<Arc<Rule>>,
    compiled: HashMap<Lang, OnceLock<Result<Compiled, Vec<RuleError>>>>,
    /// Injection queries by host language, compiled on first use like the rules.
    injections: HashMap<Lang, Injections>,
    /// What the production-marker predicates look for.
    markers: Markers,
    /// The scan prefilter of each language (indexed by `Lang as usize`), built on first use.
    prefilters: [OnceLock<Prefilter>; Lang::ALL.len()],
    /// Whether whole-file queries run only around trigger words (always, but for the tests
    /// that check this gives the same findings as walking everything).
    query_windows: bool,
    /// Which rules report: those about the code as it is, or those about protections a change
    /// removes (see [`Side`]).
    side: Side,
    /// The most partial matches a query cursor may track (tests lower it to catch patterns
    /// whose cost explodes on wide nodes), and whether a cursor ever hit the limit.
    match_limit: Option<u32>,
    exceeded_match_limit: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .field("markers", &self.markers)
            .finish_non_exhaustive()
    }
}

/// Whether a file can hold a finding, judged from its bytes before parsing.
enum Prefilter {
    Always,
    Never,
    Words {
        automaton: aho_corasick::AhoCorasick,
        /// Per pattern: whether it only counts as a whole word.
        whole_word: Vec<bool>,
        /// Per pattern: what a hit means ([`OWN`], [`ANCHOR`], [`EMBEDDED`], combined).
        role: Vec<u8>,
        /// An embedded language has a rule without trigger words: any anchor suffices.
        embedded_always: bool,
    },
}

/// A trigger word of a rule of the file's own language.
const OWN: u8 = 1;
/// A word the injection query needs (`execute`, `subprocess`).
const ANCHOR: u8 = 2;
/// A trigger word of a rule of an embedded language; counts only with an anchor.
const EMBEDDED: u8 = 4;

/// Where a host language embeds code of other languages (`<language>/injections.scm`, in the
/// tree-sitter convention: an `@injection.content` capture and `#set! injection.language`).
struct Injections {
    origin: String,
    source: String,
    /// The languages the query injects, read from its text for the scan prefilter.
    targets: Vec<Lang>,
    /// Words one of which a file needs for the query to match (`; triggers: execute, system`):
    /// the injected languages' trigger words only count in files that have one. Empty: they
    /// count everywhere.
    anchors: Vec<String>,
    compiled: OnceLock<Result<InjectionQuery, RuleError>>,
}

struct InjectionQuery {
    query: Query,
    predicates: Predicates,
    content_capture: u32,
    /// The injected language of each pattern.
    pattern_lang: Vec<Option<Lang>>,
}

/// Injected code is not searched for further injections (shell in SQL in Python is not a thing).
const MAX_INJECTION_DEPTH: usize = 1;

impl RuleSet {
    /// The rules shipped with Countersign (their queries compile lazily; tests check them all).
    pub fn builtin() -> Result<RuleSet, Vec<RuleError>> {
        RuleSet::configured(&Config::default(), "countersign.toml")
    }

    /// The built-in rules as a repository's configuration adjusts them: its production markers,
    /// severity overrides and own rules (`origin` names the configuration file in errors). The
    /// repository's rules are compiled now, so a broken query is reported with its position.
    pub fn configured(config: &Config, origin: &str) -> Result<RuleSet, Vec<RuleError>> {
        let config_error = |message: String| RuleError::Config {
            origin: origin.to_string(),
            message,
        };
        let markers =
            Markers::new(&config.production).map_err(|e| vec![config_error(e.to_string())])?;
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for file in BUILTIN_RULES {
            match Rule::from_toml(file.path, file.source) {
                Ok(rule) => rules.push(rule),
                Err(e) => errors.push(e),
            }
        }
        rules.push(markers::production_path_rule());
        let builtin_count = rules.len();
        for spec in &config.rules {
            match Rule::from_spec(origin, spec.clone()) {
                Ok(rule) => rules.push(rule),
                Err(e) => errors.push(e),
            }
        }
        let mut off = Vec::new();
        for (id, level) in &config.severity {
            match rules.iter_mut().find(|r| r.id() == id) {
                Some(rule) => match level.severity() {
                    Some(severity) => rule.spec.severity = severity,
                    None => off.push(id.clone()),
                },
                None => errors.push(config_error(format!(
                    "[severity] names unknown rule `{id}` (`countersign rules list` shows them)"
                ))),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let user_langs: Vec<Lang> = rules[builtin_count..]
            .iter()
            .filter(|r| !off.iter().any(|id| id == r.id()))
            .flat_map(|r| r.langs.clone())
            .collect();
        rules.retain(|r| !off.iter().any(|id| id == r.id()));
        // Marker rules take their trigger words from the markers; one with no markers
        // configured (`defaults = false` and no hosts) can never match and is left out.
        rules.retain_mut(|rule| {
            if !rule.marker {
                return true;
            }
            match marker_triggers(rule, &markers) {
                Some(triggers) => {
                    rule.spec.triggers = triggers;
                    true
                }
                None => false,
            }
        });
        let mut set = RuleSet::lazy(rules, markers)?;
        set.add_injections(BUILTIN_INJECTIONS.iter().map(|f| (f.path, f.source)))
            .map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        for lang in Lang::ALL.into_iter().filter(|l| user_langs.contains(l)) {
            if let Some(Err(e)) = set.compiled_result(lang) {
                errors.extend(e.iter().cloned());
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// The configured production markers.
    pub fn markers(&self) -> &Markers {
        &self.markers
    }

    /// Caps the partial matches a query may track at once; see [`RuleSet::exceeded_match_limit`].
    #[cfg(test)]
    pub(crate) fn with_match_limit(mut self, limit: u32) -> RuleSet {
        self.match_limit = Some(limit);
        self
    }

    /// Whether a query ever tracked more partial matches than the limit allows: a pattern
    /// whose cost grows with the square of a node's children, or worse.
    #[cfg(test)]
    pub(crate) fn exceeded_match_limit(&self) -> bool {
        self.exceeded_match_limit
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn note_match_limit(&self, cursor: &QueryCursor) {
        if cursor.did_exceed_match_limit() {
            tracing::warn!("a query tracked more partial matches than its limit");
            self.exceeded_match_limit
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The same rules, reporting only those about `side`.
    pub fn reporting(mut self, side: Side) -> RuleSet {
        self.side = side;
        self
    }

    /// Queries whole files everywhere rather than around trigger words (for tests).
    #[cfg(test)]
    pub(crate) fn without_query_windows(mut self) -> RuleSet {
        self.query_windows = false;
        self
    }

    /// Adds injection queries: `(origin, text)` pairs. A first line `; languages: a, b` names
    /// the host languages; otherwise the folder the file is in (`yaml/injections.scm`) does. A
    /// header line `; triggers: a, b` names words one of which a file needs for the query to
    /// match, so the embedded languages' trigger words don't make every host file a candidate.
    pub fn add_injections<'a>(
        &mut self,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), RuleError> {
        for (origin, source) in files {
            let hosts: Vec<String> = match source
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("; languages:"))
            {
                Some(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
                None => vec![origin.split('/').next().unwrap_or_default().to_string()],
            };
            let anchors: Vec<String> = source
                .lines()
                .take_while(|l| l.starts_with(';'))
                .filter_map(|l| l.strip_prefix("; triggers:"))
                .flat_map(|list| list.split(','))
                .map(|w| w.trim().to_ascii_lowercase())
                .filter(|w| !w.is_empty())
                .collect();
            let targets: Vec<Lang> = source
                .split("injection.language \"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next().and_then(Lang::from_name))
                .collect();
            for host in hosts {
                let lang = Lang::from_name(&host).ok_or_else(|| RuleError::UnknownLanguage {
                    origin: origin.to_string(),
                    id: "injections".into(),
                    language: host.clone(),
                    known: Lang::ALL.map(Lang::name).join(", "),
                })?;
                self.injections.insert(
                    lang,
                    Injections {
                        origin: origin.to_string(),
                        source: source.to_string(),
                        targets: targets.clone(),
                        anchors: anchors.clone(),
                        compiled: OnceLock::new(),
                    },
                );
            }
        }
        Ok(())
    }

    fn injection_query(&self, lang: Lang) -> Option<&InjectionQuery> {
        let inj = self.injections.get(&lang)?;
        match inj.compiled.get_or_init(|| compile_injections(lang, inj)) {
            Ok(q) => Some(q),
            Err(e) => {
                tracing::error!("injections not loaded: {e}");
                None
            }
        }
    }

    /// Loads rules and compiles every query now, so each broken rule is reported up front,
    /// naming its file and query position.
    pub fn new(rules: Vec<Rule>) -> Result<RuleSet, Vec<RuleError>> {
        let set = RuleSet::lazy(rules, Markers::default())?;
        set.compile_all().map(|()| set)
    }

    /// Loads rules, checking ids; queries are compiled on first use.
    fn lazy(rules: Vec<Rule>, markers: Markers) -> Result<RuleSet, Vec<RuleError>> {
        let rules: Vec<Arc<Rule>> = rules.into_iter().map(Arc::new).collect();
        let mut errors = Vec::new();
        let mut seen = HashMap::new();
        for rule in &rules {
            if let Some(prev) = seen.insert(rule.id().to_string(), rule.origin.clone()) {
                errors.push(RuleError::Invalid {
                    origin: rule.origin.clone(),
                    id: rule.id().to_string(),
                    message: format!("the id is already used by {prev}"),
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let compiled = rules
            .iter()
            .flat_map(|r| r.langs.iter().map(|&l| (l, OnceLock::new())))
            .collect();
        Ok(RuleSet {
            rules,
            compiled,
            injections: HashMap::new(),
            markers,
            prefilters: Default::default(),
            query_windows: true,
            side: Side::Added,
            match_limit: None,
            exceeded_match_limit: Default::default(),
        })
    }

    /// Compiles every language's query now; returns every error.
    pub fn compile_all(&self) -> Result<(), Vec<RuleError>> {
        let mut errors = Vec::new();
        for lang in Lang::ALL {
            if let Some(Err(e)) = self.compiled_result(lang) {
                errors.extend(e.iter().cloned());
            }
            if let Some(inj) = self.injections.get(&lang) {
                if let Err(e) = inj.compiled.get_or_init(|| compile_injections(lang, inj)) {
                    errors.push(e.clone());
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn compiled_result(&self, lang: Lang) -> Option<&Result<Compiled, Vec<RuleError>>> {
        let cell = self.compiled.get(&lang)?;
        Some(cell.get_or_init(|| {
            let members: Vec<usize> = (0..self.rules.len())
                .filter(|&i| self.rules[i].applies_to(lang))
                .collect();
            compile(lang, &self.rules, &members)
        }))
    }

    fn compiled(&self, lang: Lang) -> Option<&Compiled> {
        match self.compiled_result(lang)? {
            Ok(c) => Some(c),
            Err(errors) => {
                for e in errors {
                    tracing::error!("rule not loaded: {e}");
                }
                None
            }
        }
    }

    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Rule>> {
        self.rules.iter().find(|r| r.id() == id)
    }

    /// Whether any rule applies to files of `lang`, directly or to code embedded in them.
    pub fn covers(&self, lang: Lang) -> bool {
        self.compiled.contains_key(&lang) || self.injections.contains_key(&lang)
    }

    /// Whether `text` contains a trigger word of some rule of `lang`, or an injection anchor and
    /// a trigger word of an embedded language; files that don't cannot produce findings and need
    /// not be parsed.
    pub fn may_match(&self, lang: Lang, text: &[u8]) -> bool {
        match self.prefilters[lang as usize].get_or_init(|| self.prefilter(lang)) {
            Prefilter::Always => true,
            Prefilter::Never => false,
            words => hits(words, text).is_some_and(|h| h.any()),
        }
    }

    /// Where a file may hold findings, judged from its bytes before parsing: `None` if nowhere
    /// (it need not be parsed), else the parts of it to query once it is parsed.
    pub fn candidate(&self, lang: Lang, text: &[u8]) -> Option<Candidate> {
        let prefilter = self.prefilters[lang as usize].get_or_init(|| self.prefilter(lang));
        let windows = match prefilter {
            Prefilter::Always => vec![None],
            Prefilter::Never => return None,
            words => {
                let found = hits(words, text)?;
                if !found.any() {
                    return None;
                }
                match self.query_windows.then(|| windows_around(found)).flatten() {
                    Some(windows) => windows.into_iter().map(Some).collect(),
                    None => vec![None],
                }
            }
        };
        Some(Candidate { windows })
    }

    /// Parses a [candidate](RuleSet::candidate) file and runs the rules where it said: what
    /// `scan` does for one file.
    pub fn analyze_candidate(
        &self,
        lang: Lang,
        text: &str,
        rel_path: &str,
        candidate: Candidate,
    ) -> Vec<Finding> {
        match parse(lang, text) {
            Some(tree) => {
                self.find_in(lang, &tree, text.as_bytes(), rel_path, candidate.windows, 0)
            }
            None => Vec::new(),
        }
    }

    /// One automaton over the trigger words of every rule that can run on files of `lang`,
    /// directly or in code embedded in them, and the anchors of its injections.
    fn prefilter(&self, lang: Lang) -> Prefilter {
        let injection = self.injections.get(&lang);
        let injected = injection.map_or(&[][..], |i| &i.targets[..]);
        let anchors = injection.map_or(&[][..], |i| &i.anchors[..]);
        // Without anchors, embedded languages' words count like the file's own.
        let embedded_role = if anchors.is_empty() { OWN } else { EMBEDDED };
        let mut words: Vec<(&str, u8)> = anchors.iter().map(|a| (a.as_str(), ANCHOR)).collect();
        let mut any = false;
        let mut embedded_always = false;
        for rule in &self.rules {
            let role = if rule.applies_to(lang) {
                OWN
            } else if injected.iter().any(|&t| rule.applies_to(t)) {
                embedded_role
            } else {
                continue;
            };
            any = true;
            if rule.spec.triggers.is_empty() {
                if role == OWN {
                    return Prefilter::Always;
                }
                embedded_always = true;
            }
            words.extend(rule.spec.triggers.iter().map(|t| (t.as_str(), role)));
        }
        if !any {
            return Prefilter::Never;
        }
        // One pattern per word, with every role it has.
        words.sort_unstable();
        let mut merged: Vec<(&str, u8)> = Vec::new();
        for (w, role) in words {
            match merged.last_mut() {
                Some(last) if last.0 == w => last.1 |= role,
                _ => merged.push((w, role)),
            }
        }
        // `\bword\b` must appear as a whole word (`prod`, not `product`).
        let mut patterns = Vec::new();
        let mut whole_word = Vec::new();
        let mut role = Vec::new();
        for (w, r) in merged {
            match w.strip_prefix("\\b").and_then(|w| w.strip_suffix("\\b")) {
                Some(inner) => {
                    patterns.push(inner);
                    whole_word.push(true);
                }
                None => {
                    patterns.push(w);
                    whole_word.push(false);
                }
            }
            role.push(r);
        }
        match aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
        {
            Ok(automaton) => Prefilter::Words {
                automaton,
                whole_word,
                role,
                embedded_always,
            },
            Err(e) => {
                tracing::error!("trigger words not compiled, parsing every file: {e}");
                Prefilter::Always
            }
        }
    }

    /// Runs the rules of `lang` over `range` of `tree` (the whole tree when `None`), and the
    /// rules of embedded languages over the code embedded there. Returns every match
    /// intersecting the range, sorted by position.
    pub fn find<S: Source + ?Sized>(
        &self,
        lang: Lang,
        tree: &Tree,
        src: &S,
        rel_path: &str,
        range: Option<Range<usize>>,
    ) -> Vec<Finding> {
        self.find_at_depth(lang, tree, src, rel_path, range, 0)
    }

    fn find_at_depth<S: Source + ?Sized>(
        &self,
        lang: Lang,
        tree: &Tree,
        src: &S,
        rel_path: &str,
        range: Option<Range<usize>>,
        depth: usize,
    ) -> Vec<Finding> {
        // A whole file is queried only around its trigger words: walking every node of a large
        // tree costs as much as parsing it, and the findings sit where the triggers are.
        let windows = match range {
            Some(range) => vec![Some(range)],
            None => {
                let text = src.bytes_of(0..tree.root_node().end_byte());
                match self.candidate(lang, &text) {
                    Some(candidate) => candidate.windows,
                    None => return Vec::new(),
                }
            }
        };
        self.find_in(lang, tree, src, rel_path, windows, depth)
    }

    /// Runs the rules in each window (`None`: the whole tree); see [`RuleSet::find`].
    fn find_in<S: Source + ?Sized>(
        &self,
        lang: Lang,
        tree: &Tree,
        src: &S,
        rel_path: &str,
        windows: Vec<Option<Range<usize>>>,
        depth: usize,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for range in windows {
            out.extend(self.find_rules(lang, tree, src, rel_path, range.clone()));
            if depth < MAX_INJECTION_DEPTH {
                out.extend(self.find_injected(lang, tree, src, rel_path, range, depth));
            }
        }
        sort_by_position(&mut out);
        out.dedup_by(|a, b| a.range == b.range && Arc::ptr_eq(&a.rule, &b.rule));
        out
    }

    /// Parses each piece of embedded code in `range` on its own and runs its language's rules;
    /// findings keep host-file positions, and their match range is the whole injection match,
    /// so any edit to the embedded code or to what embeds it re-checks them.
    fn find_injected<S: Source + ?Sized>(
        &self,
        lang: Lang,
        tree: &Tree,
        src: &S,
        rel_path: &str,
        range: Option<Range<usize>>,
        depth: usize,
    ) -> Vec<Finding> {
        let Some(inj) = self.injection_query(lang) else {
            return Vec::new();
        };
        let mut cursor = cursor_over(range, self.match_limit);
        let provider = |node: Node<'_>| std::iter::once(src.bytes_of(node.byte_range()));
        // (language, embedded code, bytes the whole injection match covers)
        let mut pieces: Vec<(Lang, Range<usize>, Range<usize>)> = Vec::new();
        let mut matches = cursor.matches(&inj.query, tree.root_node(), provider);
        while let Some(m) = matches.next() {
            let Some(target) = inj.pattern_lang[m.pattern_index] else {
                continue;
            };
            if !inj.predicates.hold(&inj.query, m, src, &self.markers) {
                continue;
            }
            let Range {
                start: match_start,
                end: match_end,
            } = extent(m);
            for c in m.captures.iter().filter(|c| c.index == inj.content_capture) {
                let mut start = c.node.start_byte();
                let mut end = c.node.end_byte();
                match c.node.kind() {
                    // A YAML block scalar starts with its `|`/`>` indicator line, not code.
                    "block_scalar" => {
                        let head = src.bytes_of(start..end);
                        start += head
                            .iter()
                            .position(|&b| b == b'\n')
                            .map_or(head.len(), |i| i + 1);
                    }
                    // The grammar has no node for a quoted scalar's text without its quotes.
                    "double_quote_scalar" | "single_quote_scalar" if end - start >= 2 => {
                        start += 1;
                        end -= 1;
                    }
                    _ => {}
                }
                pieces.push((target, start..end, match_start.min(start)..match_end));
            }
        }
        drop(matches);
        self.note_match_limit(&cursor);
        let mut out = Vec::new();
        let mut parser = tree_sitter::Parser::new();
        for (target, piece, matched) in pieces {
            if piece.is_empty() || parser.set_language(&target.grammar()).is_err() {
                continue;
            }
            let text = src.bytes_of(piece.clone());
            let Some(sub) = parser.parse(&*text, None) else {
                continue;
            };
            for mut f in self.find_at_depth(target, &sub, &*text, rel_path, None, depth + 1) {
                f.embedded = true;
                f.range = f.range.start + piece.start..f.range.end + piece.start;
                // Any edit to the host construct (`os.system(…)`, the `run:` key) re-checks it.
                f.match_range = matched.clone();
                out.push(f);
            }
        }
        out
    }

    fn find_rules<S: Source + ?Sized>(
        &self,
        lang: Lang,
        tree: &Tree,
        src: &S,
        rel_path: &str,
        range: Option<Range<usize>>,
    ) -> Vec<Finding> {
        let Some(compiled) = self.compiled(lang) else {
            return Vec::new();
        };
        let quiet_markers = self.markers.excluded(rel_path);
        let mut cursor = cursor_over(range, self.match_limit);
        let provider = |node: Node<'_>| std::iter::once(src.bytes_of(node.byte_range()));
        let mut matches = cursor.matches(&compiled.query, tree.root_node(), provider);
        let mut out: Vec<Finding> = Vec::new();
        while let Some(m) = matches.next() {
            // Error recovery can insert zero-width MISSING nodes; they are not code anyone wrote.
            if m.captures
                .iter()
                .any(|c| c.node.is_missing() || c.node.start_byte() == c.node.end_byte())
                || !compiled
                    .predicates
                    .hold(&compiled.query, m, src, &self.markers)
            {
                continue;
            }
            let rule = &self.rules[compiled.pattern_rule[m.pattern_index]];
            if (quiet_markers && rule.marker) || rule.spec.on != self.side {
                continue;
            }
            let finding_node = compiled
                .finding_capture
                .and_then(|idx| m.captures.iter().find(|c| c.index == idx))
                .map(|c| c.node);
            let Range { start, end } = extent(m);
            let mut range = finding_node.map_or(start..end, |n| n.start_byte()..terminated_end(n));
            if let Some(re) = &compiled.report_match[m.pattern_index] {
                let text = src.bytes_of(range.clone());
                match re.find(&text) {
                    Some(hit) => range = range.start + hit.start()..range.start + hit.end(),
                    None => continue,
                }
            }
            if let (Some(re), Some(node)) = (&compiled.report_extend[m.pattern_index], finding_node)
            {
                if let Some(hit) = re.find(&predicates::following(node, src)) {
                    range.end = node.end_byte() + hit.end();
                }
            }
            let end = end.max(range.end);
            if out
                .iter()
                .any(|f| f.range == range && Arc::ptr_eq(&f.rule, rule))
            {
                continue;
            }
            let snippet = String::from_utf8_lossy(&src.bytes_of(range.clone())).into_owned();
            out.push(Finding {
                fingerprint: fingerprint(rule.id(), rel_path, &snippet),
                rule: rule.clone(),
                range,
                match_range: start..end,
                snippet,
                embedded: false,
            });
        }
        drop(matches);
        self.note_match_limit(&cursor);
        sort_by_position(&mut out);
        out
    }
}

/// A file that may hold findings, and where: see [`RuleSet::candidate`].
pub struct Candidate {
    windows: Vec<Option<Range<usize>>>,
}

/// The byte ranges around trigger words, merged when close; `None` when one run over the whole
/// file is cheaper (trigger words almost everywhere) or needed (an embedded language has a
/// rule without trigger words).
fn windows_around(found: Hits) -> Option<Vec<Range<usize>>> {
    /// Hits closer than this share a window: one query run instead of two.
    const MERGE_GAP: usize = 2048;
    /// Past this many windows, one run over the whole file is cheaper.
    const MAX_WINDOWS: usize = 32;
    if found.embedded_always && found.anchor {
        return None;
    }
    let mut windows: Vec<Range<usize>> = Vec::new();
    for hit in found.at {
        match windows.last_mut() {
            Some(last) if hit.start <= last.end + MERGE_GAP => last.end = last.end.max(hit.end),
            _ => {
                if windows.len() == MAX_WINDOWS {
                    return None;
                }
                windows.push(hit);
            }
        }
    }
    Some(windows)
}

/// The trigger words found in a text.
struct Hits {
    own: bool,
    anchor: bool,
    embedded: bool,
    embedded_always: bool,
    /// Where the file's own trigger words are, and the embedded languages' ones when an anchor
    /// makes them count; in order.
    at: Vec<Range<usize>>,
}

impl Hits {
    fn any(&self) -> bool {
        self.own || (self.anchor && (self.embedded || self.embedded_always))
    }
}

/// Scans `text` for the prefilter's words; `None` for a prefilter without words.
fn hits(prefilter: &Prefilter, text: &[u8]) -> Option<Hits> {
    let Prefilter::Words {
        automaton,
        whole_word,
        role,
        embedded_always,
    } = prefilter
    else {
        return None;
    };
    let mut found = Hits {
        own: false,
        anchor: false,
        embedded: false,
        embedded_always: *embedded_always,
        at: Vec::new(),
    };
    // (range, counts only with an anchor)
    let mut at: Vec<(Range<usize>, bool)> = Vec::new();
    for m in automaton.find_overlapping_iter(text) {
        let p = m.pattern().as_usize();
        if whole_word[p] && !is_whole_word(text, m.start(), m.end()) {
            continue;
        }
        let r = role[p];
        found.own |= r & OWN != 0;
        found.anchor |= r & ANCHOR != 0;
        found.embedded |= r & EMBEDDED != 0;
        if r & (OWN | EMBEDDED) != 0 {
            at.push((m.start()..m.end(), r & OWN == 0));
        }
    }
    found.at = at
        .into_iter()
        .filter(|(_, needs_anchor)| !needs_anchor || found.anchor)
        .map(|(r, _)| r)
        .collect();
    Some(found)
}

/// Whether `text[start..end]` is not part of a longer word: no letter directly before or after
/// it. Digits and `_` don't count, so the check accepts what grammars commonly lex as a word of
/// its own (SQL reads `1TRUNCATE` as `1` and `TRUNCATE`) and what the marker predicates split
/// (`prod_db` holds `prod`). It can miss a word glued to a letter that a grammar still splits
/// off (tree-sitter-bash ends a heredoc at `EOFterraform`, which bash itself does not); that is
/// why only `scan` relies on it, and documents always query their whole tree.
fn is_whole_word(text: &[u8], start: usize, end: usize) -> bool {
    let is_letter = |b: u8| b.is_ascii_alphabetic();
    start.checked_sub(1).is_none_or(|i| !is_letter(text[i]))
        && text.get(end).is_none_or(|&b| !is_letter(b))
}

/// A query cursor limited to `range` (and to `match_limit` partial matches) (to intersecting matches), or over everything.
fn cursor_over(range: Option<Range<usize>>, match_limit: Option<u32>) -> QueryCursor {
    let mut cursor = QueryCursor::new();
    if let Some(limit) = match_limit {
        cursor.set_match_limit(limit);
    }
    if let Some(range) = range {
        cursor.set_byte_range(range);
    }
    cursor
}

/// The bytes all captures of a match cover.
fn extent(m: &QueryMatch<'_, '_>) -> Range<usize> {
    let (start, end) = m.captures.iter().fold((usize::MAX, 0), |(s, e), c| {
        (s.min(c.node.start_byte()), e.max(c.node.end_byte()))
    });
    start.min(end)..end
}

/// The end of `node`, extended over a `;` that directly ends its statement, so the reported
/// code reads as written (`DROP TABLE users;`).
fn terminated_end(node: Node<'_>) -> usize {
    let mut n = node;
    loop {
        if let Some(next) = n.next_sibling() {
            let ends_here =
                next.kind() == ";" && !next.is_named() && next.start_byte() == node.end_byte();
            return if ends_here {
                next.end_byte()
            } else {
                node.end_byte()
            };
        }
        match n.parent() {
            Some(parent) if parent.end_byte() == n.end_byte() => n = parent,
            _ => return node.end_byte(),
        }
    }
}

/// Tree-sitter's message is often just the offending name; say what is wrong with it.
fn describe_query_error(lang: Lang, e: &tree_sitter::QueryError) -> String {
    use tree_sitter::QueryErrorKind as K;
    match e.kind {
        K::NodeType => format!("the {lang} grammar has no node type `{}`", e.message),
        K::Field => format!("the {lang} grammar has no field `{}`", e.message),
        K::Capture => format!("unknown capture `@{}`", e.message),
        K::Predicate => format!("bad predicate: {}", e.message),
        K::Structure => format!("impossible pattern structure near `{}`", e.message),
        K::Syntax => format!("syntax error: {}", e.message),
        K::Language => format!("grammar version problem: {}", e.message),
    }
}

fn compile_injections(lang: Lang, inj: &Injections) -> Result<InjectionQuery, RuleError> {
    let query = Query::new(&lang.grammar(), &inj.source).map_err(|e| RuleError::Query {
        origin: inj.origin.clone(),
        id: "injections".into(),
        row: e.row + 1,
        column: e.column + 1,
        message: describe_query_error(lang, &e),
    })?;
    let invalid = |message: String| RuleError::Invalid {
        origin: inj.origin.clone(),
        id: "injections".into(),
        message,
    };
    let content_capture = query
        .capture_index_for_name("injection.content")
        .ok_or_else(|| invalid("needs an `@injection.content` capture".into()))?;
    let mut pattern_lang = Vec::new();
    for p in 0..query.pattern_count() {
        let named = query
            .property_settings(p)
            .iter()
            .find(|prop| &*prop.key == "injection.language")
            .and_then(|prop| prop.value.as_deref().map(str::to_string));
        let lang = match named {
            Some(name) => Some(
                Lang::from_name(&name)
                    .ok_or_else(|| invalid(format!("unknown injection.language `{name}`")))?,
            ),
            None => None,
        };
        pattern_lang.push(lang);
    }
    let predicates = Predicates::compile(&query).map_err(|problems| {
        invalid(
            problems
                .into_iter()
                .map(|(_, message)| message)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    Ok(InjectionQuery {
        query,
        predicates,
        content_capture,
        pattern_lang,
    })
}

fn compile(lang: Lang, rules: &[Arc<Rule>], members: &[usize]) -> Result<Compiled, Vec<RuleError>> {
    let grammar = lang.grammar();
    let mut source = String::new();
    let mut starts = Vec::new();
    for &i in members {
        starts.push((source.len(), i));
        source.push_str(rules[i].query_for(lang));
        source.push('\n');
    }
    let query = match Query::new(&grammar, &source) {
        Ok(q) => q,
        // Compile the rules one by one to name the broken ones and their own positions.
        Err(_) => {
            let errors = members
                .iter()
                .filter_map(|&i| {
                    Query::new(&grammar, rules[i].query_for(lang))
                        .err()
                        .map(|e| (i, e))
                })
                .map(|(i, e)| RuleError::Query {
                    origin: rules[i].origin.clone(),
                    id: rules[i].id().to_string(),
                    row: e.row + 1,
                    column: e.column + 1,
                    message: describe_query_error(lang, &e),
                })
                .collect();
            return Err(errors);
        }
    };
    let pattern_rule: Vec<usize> = (0..query.pattern_count())
        .map(|p| {
            let at = query.start_byte_for_pattern(p);
            starts
                .iter()
                .rev()
                .find(|(s, _)| *s <= at)
                .map_or(members[0], |&(_, i)| i)
        })
        .collect();
    let mut errors = Vec::new();
    let predicates = match Predicates::compile(&query) {
        Ok(p) => p,
        Err(problems) => {
            for (p, message) in problems {
                let rule = &rules[pattern_rule[p]];
                errors.push(RuleError::Invalid {
                    origin: rule.origin.clone(),
                    id: rule.id().to_string(),
                    message,
                });
            }
            Predicates::default()
        }
    };
    for &i in members {
        if !rules[i].query_for(lang).contains("@finding") {
            errors.push(RuleError::Invalid {
                origin: rules[i].origin.clone(),
                id: rules[i].id().to_string(),
                message: "the query needs a `@finding` capture: the range to report".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let finding_capture = query.capture_index_for_name("finding");
    let mut errors = Vec::new();
    let mut setting = |key: &str| -> Vec<Option<regex::bytes::Regex>> {
        pattern_rule
            .iter()
            .enumerate()
            .map(|(p, &rule)| {
                let value = query
                    .property_settings(p)
                    .iter()
                    .find(|prop| &*prop.key == key)
                    .and_then(|prop| prop.value.as_deref().map(str::to_string))?;
                regex::bytes::Regex::new(&value)
                    .map_err(|e| {
                        errors.push(RuleError::Invalid {
                            origin: rules[rule].origin.clone(),
                            id: rules[rule].id().to_string(),
                            message: format!("`{key}` is not a valid regex: {e}"),
                        })
                    })
                    .ok()
            })
            .collect()
    };
    let report_match = setting("report.match");
    let report_extend = setting("report.extend");
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Compiled {
        query,
        pattern_rule,
        finding_capture,
        report_match,
        report_extend,
        predicates,
    })
}

/// The trigger words of a marker rule: those of every marker predicate its queries use. `None`
/// when no marker is configured for any of them: the rule cannot match. An empty list means
/// "always parse" (a glob without a literal part).
fn marker_triggers(rule: &Rule, markers: &Markers) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut always = false;
    for predicate in markers::PREDICATES {
        let used = rule
            .langs
            .iter()
            .any(|&l| rule.query_for(l).contains(&format!("#{predicate}")));
        if used {
            match markers.triggers(predicate) {
                Some(triggers) => words.extend(triggers),
                None => always = true,
            }
        }
    }
    if always {
        return Some(Vec::new());
    }
    words.sort();
    words.dedup();
    (!words.is_empty()).then_some(words)
}

/// The findings of one document, kept current across edits.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    items: Vec<Finding>,
}

impl Findings {
    pub fn items(&self) -> &[Finding] {
        &self.items
    }

    /// Moves findings past an edit that replaced `start..old_end` with `new_len` bytes, and drops
    /// those it touched (the edited range is queried again in [`Findings::refresh`]).
    pub fn edit(&mut self, start: usize, old_end: usize, new_len: usize) {
        let new_end = start + new_len;
        self.items.retain_mut(|f| {
            if f.match_range.end < start {
                return true;
            }
            if f.match_range.start > old_end {
                let shift = |x: usize| x - old_end + new_end;
                f.range = shift(f.range.start)..shift(f.range.end);
                f.match_range = shift(f.match_range.start)..shift(f.match_range.end);
                return true;
            }
            false
        });
    }

    /// Re-queries `dirty` byte ranges (merged first) of `bounds`, the text `tree` covers:
    /// cached findings there touching them are replaced by what the query finds there now.
    /// Findings starting outside `bounds` belong to other trees and are kept.
    #[allow(clippy::too_many_arguments)]
    pub fn refresh<S: Source + ?Sized>(
        &mut self,
        rules: &RuleSet,
        lang: Lang,
        tree: &Tree,
        src: &S,
        rel_path: &str,
        dirty: &[Range<usize>],
        bounds: Range<usize>,
    ) {
        let len = tree
            .root_node()
            .end_byte()
            .max(bounds.start)
            .min(bounds.end);
        for range in merge_ranges(dirty) {
            let (mut start, mut end) = (
                range.start.clamp(bounds.start, len),
                range.end.clamp(bounds.start, len),
            );
            // A dropped finding is looked for again over all it covered: its nodes may lie
            // before the edit (a report extended over the text after them).
            let (from, to) = (start, end);
            let theirs = |f: &Finding| {
                f.match_range.start < bounds.start
                    || (f.match_range.start >= bounds.end && bounds.end > bounds.start)
            };
            self.items.retain(|f| {
                let keep = theirs(f) || f.match_range.end < from || f.match_range.start > to;
                if !keep {
                    start = start.min(f.match_range.start);
                    end = end.max(f.match_range.end.min(len));
                }
                keep
            });
            // Tree-sitter returns matches whose nodes intersect the window. Widen it so an empty
            // edit at a match's edge still finds it: one byte after, two before (a reported range
            // may end one byte past its nodes, on a terminating `;`).
            let window = start.saturating_sub(2).max(bounds.start)..(end + 1).min(len.max(1));
            for found in rules.find(lang, tree, src, rel_path, Some(window)) {
                let dup = self
                    .items
                    .iter()
                    .any(|f| f.range == found.range && Arc::ptr_eq(&f.rule, &found.rule));
                if !dup {
                    self.items.push(found);
                }
            }
        }
        sort_by_position(&mut self.items);
    }

    /// Replaces everything with a full run over the tree.
    pub fn recompute<S: Source + ?Sized>(
        &mut self,
        rules: &RuleSet,
        lang: Lang,
        tree: &Tree,
        src: &S,
        rel_path: &str,
    ) {
        // Over the whole tree, as a first refresh does, not only around trigger words: the
        // findings of a text must not depend on how the document got there.
        let len = tree.root_node().end_byte();
        self.items = rules.find(lang, tree, src, rel_path, Some(0..len.max(1)));
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }
}

fn merge_ranges(ranges: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut sorted: Vec<Range<usize>> = ranges.to_vec();
    sorted.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end + 1 => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Parses `text` and runs every rule of `lang` over it.
pub fn analyze_text(rules: &RuleSet, lang: Lang, text: &str, rel_path: &str) -> Vec<Finding> {
    match parse(lang, text) {
        Some(tree) => rules.find(lang, &tree, text.as_bytes(), rel_path, None),
        None => Vec::new(),
    }
}

fn parse(lang: Lang, text: &str) -> Option<Tree> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&lang.grammar()).ok()?;
    parser.parse(text, None)
}

#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod tests;
