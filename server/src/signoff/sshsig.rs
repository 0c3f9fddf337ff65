//! SSH signatures for approvals: an approval is an SSHSIG (`ssh-keygen -Y sign`) in namespace
//! `countersign`, and the seniors are listed in OpenSSH's allowed_signers format, as git does.
//!
//! Invariants: verification happens here, in Rust, and only a signature that verifies for a key
//! listed for the claimed principal, our namespace and the approval's time counts. Signing always
//! goes through `ssh-keygen`, so ssh-agent, passphrases and security-key touches work as in git.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PrivateKey, PublicKey, SshSig};

/// The SSHSIG namespace of approvals: a signature made for git commits (`-n git`) or files
/// (`-n file`) never counts as an approval.
pub const NAMESPACE: &str = "countersign";

/// One line of allowed_signers: who may sign with `key`, for which namespaces, and when.
#[derive(Debug, Clone)]
pub struct SignerEntry {
    /// Principal patterns as written (`*` and `?` wildcards, `!` negates), usually emails.
    pub principals: Vec<String>,
    /// The `namespaces="…"` patterns; `None` means every namespace.
    pub namespaces: Option<Vec<String>>,
    /// `valid-after`: the key counts at or after this time.
    pub valid_after: Option<Timestamp>,
    /// `valid-before`: the key counts at or before this time.
    pub valid_before: Option<Timestamp>,
    pub key: PublicKey,
    /// 1-based line in the file, for messages.
    pub line: usize,
}

/// The seniors: the parsed `.countersign/allowed_signers`.
///
/// The format is OpenSSH's (`man ssh-keygen`, ALLOWED SIGNERS), one key per line:
///
/// ```text
/// # comment
/// alice@example.com,alice@corp.example ssh-ed25519 AAAA… alice's laptop
/// *@example.com namespaces="countersign",valid-before="20270101Z" ecdsa-sha2-nistp256 AAAA…
/// ```
///
/// Option values may be quoted (ssh-keygen requires the quotes; the manual shows them without).
/// `valid-after`/`valid-before` take `YYYYMMDD[Z]` or `YYYYMMDDHHMM[SS][Z]` and are read as UTC
/// whether or not they end in `Z`: ssh-keygen reads them in the local time zone without it, which
/// would make an approval's validity depend on where it is checked. `cert-authority` lines are
/// reported and skipped: certificates are not supported, list the signers' own keys.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    pub entries: Vec<SignerEntry>,
}

impl AllowedSigners {
    /// Parses the file's text; problems (line N: why) are returned, the good lines still count.
    pub fn parse(text: &str) -> (AllowedSigners, Vec<String>) {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            match parse_line(line, number) {
                Ok(Some(entry)) => entries.push(entry),
                Ok(None) => {}
                Err(why) => problems.push(format!("line {number}: {why}")),
            }
        }
        (AllowedSigners { entries }, problems)
    }

    /// Reads `path`; a missing file is empty with no problems.
    pub fn load(path: &Path) -> (AllowedSigners, Vec<String>) {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
            Err(e) => (Default::default(), vec![format!("cannot be read: {e}")]),
        }
    }

    /// The principals (as written, patterns included) that list this key for our namespace.
    /// Validity times are not considered: an expired key still names its owner, and
    /// verification then says that it expired.
    pub fn principals_for(&self, key: &PublicKey) -> Vec<String> {
        let mut principals: Vec<String> = Vec::new();
        for entry in self
            .entries_for(key)
            .filter(|e| e.allows_namespace(NAMESPACE))
        {
            for principal in &entry.principals {
                if !principal.starts_with('!') && !principals.contains(principal) {
                    principals.push(principal.clone());
                }
            }
        }
        principals
    }

    fn entries_for<'a>(&'a self, key: &'a PublicKey) -> impl Iterator<Item = &'a SignerEntry> {
        // Comments differ between copies of a key; only the key itself identifies it.
        self.entries
            .iter()
            .filter(move |e| e.key.key_data() == key.key_data())
    }
}

impl SignerEntry {
    fn allows_principal(&self, principal: &str) -> bool {
        match_pattern_list(principal, &self.principals)
    }

    fn allows_namespace(&self, namespace: &str) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|patterns| match_pattern_list(namespace, patterns))
    }

    /// Both bounds are inclusive, as in ssh-keygen.
    fn check_time(&self, at: Timestamp) -> Result<(), VerifyError> {
        if let Some(after) = self.valid_after.filter(|after| at < *after) {
            return Err(VerifyError::NotYetValid {
                valid_after: after.to_string(),
            });
        }
        if let Some(before) = self.valid_before.filter(|before| at > *before) {
            return Err(VerifyError::Expired {
                valid_before: before.to_string(),
            });
        }
        Ok(())
    }
}

/// Why an approval's signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature is not a valid SSH signature ({0}); it must be the armored output of `ssh-keygen -Y sign`")]
    Malformed(String),
    #[error("the signature was made for namespace \"{found}\", not \"countersign\" (sign with `ssh-keygen -Y sign -n countersign`)")]
    WrongNamespace { found: String },
    #[error(
        "{algorithm} keys are not supported; sign with an ed25519, ecdsa, rsa or FIDO (sk-) key"
    )]
    UnsupportedKey { algorithm: String },
    #[error("the signature does not match the signed text: the request or the approval was changed after it was signed")]
    BadSignature,
    #[error("the signing key {fingerprint} is not listed in the allowed signers")]
    UnknownKey { fingerprint: String },
    #[error("the signing key is not listed for {principal} in the allowed signers")]
    PrincipalNotAllowed { principal: String },
    #[error("the allowed signers restrict the signing key to other namespaces (its `namespaces=` option does not include \"countersign\")")]
    NamespaceNotAllowed,
    #[error(
        "the signing key was not yet valid when the approval was made (valid-after {valid_after})"
    )]
    NotYetValid { valid_after: String },
    #[error(
        "the signing key had expired when the approval was made (valid-before {valid_before})"
    )]
    Expired { valid_before: String },
}

/// Verifies `armored` over `message` as made by `principal` at time `at`: the key must be listed
/// in `signers` for a principal pattern matching `principal`, for namespace `countersign`, valid
/// at `at`; the signature must verify. Returns the signing key's SHA256 fingerprint on success.
///
/// When a key has several lines, one line that allows it all is enough (as in ssh-keygen); the
/// error explains the most specific reason when none does. Signatures by FIDO keys (`sk-…`)
/// verify without demanding the touch flag, as in ssh-keygen: a key made with
/// `-O no-touch-required` signs without it.
pub fn verify(
    signers: &AllowedSigners,
    principal: &str,
    message: &[u8],
    armored: &str,
    at: Timestamp,
) -> Result<String, VerifyError> {
    let signature =
        SshSig::from_pem(armored.trim()).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if signature.namespace() != NAMESPACE {
        return Err(VerifyError::WrongNamespace {
            found: signature.namespace().to_string(),
        });
    }
    let key = PublicKey::from(signature.public_key().clone());
    if !is_supported(&key.algorithm()) {
        return Err(VerifyError::UnsupportedKey {
            algorithm: key.algorithm().to_string(),
        });
    }
    key.verify(NAMESPACE, message, &signature)
        .map_err(|_| VerifyError::BadSignature)?;

    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    let listed: Vec<&SignerEntry> = signers.entries_for(&key).collect();
    if listed.is_empty() {
        return Err(VerifyError::UnknownKey { fingerprint });
    }
    let for_principal: Vec<&SignerEntry> = listed
        .into_iter()
        .filter(|e| e.allows_principal(principal))
        .collect();
    if for_principal.is_empty() {
        return Err(VerifyError::PrincipalNotAllowed {
            principal: principal.to_string(),
        });
    }
    let checks: Vec<Result<(), VerifyError>> = for_principal
        .into_iter()
        .filter(|e| e.allows_namespace(NAMESPACE))
        .map(|e| e.check_time(at))
        .collect();
    if checks.iter().any(Result::is_ok) {
        return Ok(fingerprint);
    }
    // No line left means every line for this principal names other namespaces.
    Err(checks
        .into_iter()
        .find_map(Result::err)
        .unwrap_or(VerifyError::NamespaceNotAllowed))
}

/// Key types whose signatures are verified here. DSA is gone from OpenSSH; certificates are
/// not supported.
fn is_supported(algorithm: &Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::Ed25519
            | Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256 | EcdsaCurve::NistP384 | EcdsaCurve::NistP521
            }
            | Algorithm::Rsa { .. }
            | Algorithm::SkEd25519
            | Algorithm::SkEcdsaSha2NistP256
    )
}

/// One allowed_signers line: `principals [options] keytype base64-key [comment]`.
fn parse_line(line: &str, number: usize) -> Result<Option<SignerEntry>, String> {
    let line = line.trim_start_matches([' ', '\t']).trim_end();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (principals, rest) = split_field(line)?;
    if is_key_type(principals) {
        return Err(format!(
            "the line starts with the {principals} key; put who it belongs to first, \
             e.g. `alice@example.com {principals} AAAA…`"
        ));
    }
    let principals = principals.trim_matches('"');
    let principals: Vec<String> = principals
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if principals.is_empty() {
        return Err("no principals before the key".into());
    }
    let (second, after_second) = split_field(rest)?;
    if second.is_empty() {
        return Err("no key after the principals".into());
    }
    let (options, key_text) = if is_key_type(second) {
        (Options::default(), rest)
    } else {
        if after_second.is_empty() {
            return Err("no key after the options".into());
        }
        (parse_options(second)?, after_second)
    };
    let key = parse_key(key_text)?;
    Ok(Some(SignerEntry {
        principals,
        namespaces: options.namespaces,
        valid_after: options.valid_after,
        valid_before: options.valid_before,
        key,
        line: number,
    }))
}

/// The next whitespace-delimited field (spaces inside double quotes do not end it) and the rest.
fn split_field(text: &str) -> Result<(&str, &str), String> {
    let text = text.trim_start_matches([' ', '\t']);
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return Ok((&text[..i], text[i..].trim_start())),
            _ => {}
        }
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    Ok((text, ""))
}

/// Whether `field` names a key type (not an option or a principal): ssh-key maps any
/// `name@domain` to an "other" algorithm, so only the known ones count.
fn is_key_type(field: &str) -> bool {
    field.ends_with("-cert-v01@openssh.com")
        || Algorithm::new(field).is_ok_and(|algorithm| !matches!(algorithm, Algorithm::Other(_)))
}

fn parse_key(text: &str) -> Result<PublicKey, String> {
    let mut fields = text.split_whitespace();
    let key_type = fields.next().unwrap_or_default();
    let Some(base64) = fields.next() else {
        return Err(format!("the {key_type} key has no base64 data"));
    };
    if key_type.ends_with("-cert-v01@openssh.com") {
        return Err("certificates are not supported; list the signer's own public key".into());
    }
    let comment = fields.collect::<Vec<_>>().join(" ");
    let key = PublicKey::from_openssh(&format!("{key_type} {base64} {comment}"))
        .map_err(|e| format!("the {key_type} key does not parse: {e}"))?;
    if !is_supported(&key.algorithm()) {
        return Err(format!(
            "{key_type} keys are not supported; use an ed25519, ecdsa, rsa or FIDO (sk-) key"
        ));
    }
    Ok(key)
}

#[derive(Default)]
struct Options {
    namespaces: Option<Vec<String>>,
    valid_after: Option<Timestamp>,
    valid_before: Option<Timestamp>,
}

/// `namespaces="a,b"`, `valid-after=…`, `valid-before=…`, comma-separated; keywords are
/// case-insensitive. Unknown options reject the line: each one restricts a key, and ignoring a
/// restriction would let the key approve more than its owner meant.
fn parse_options(text: &str) -> Result<Options, String> {
    let mut options = Options::default();
    for option in split_unquoted(text, ',') {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(unquote(value)?)),
            None => (option, None),
        };
        let written = name;
        let name = name.to_ascii_lowercase();
        let value_of = |name: &str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("option {name} needs a value, e.g. {name}=\"…\""))
        };
        match name.as_str() {
            "cert-authority" => return Err(
                "cert-authority: certificates are not supported; list the signer's own public key"
                    .into(),
            ),
            "namespaces" => {
                let list: Vec<String> = value_of("namespaces")?
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                if options.namespaces.replace(list).is_some() {
                    return Err("namespaces is given twice".into());
                }
            }
            "valid-after" | "valid-before" => {
                let time = parse_time(value_of(&name)?).map_err(|why| format!("{name}: {why}"))?;
                let slot = if name == "valid-after" {
                    &mut options.valid_after
                } else {
                    &mut options.valid_before
                };
                if slot.replace(time).is_some() {
                    return Err(format!("{name} is given twice"));
                }
            }
            "" => return Err("an option is empty (two commas in a row?)".into()),
            _ => {
                return Err(format!(
                    "unknown option {written:?} (known: namespaces, valid-after, valid-before)"
                ))
            }
        }
    }
    if let (Some(after), Some(before)) = (options.valid_after, options.valid_before) {
        if before <= after {
            return Err(format!(
                "valid-before ({before}) is not after valid-after ({after})"
            ));
        }
    }
    Ok(options)
}

/// Splits on `sep` outside double quotes.
fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

fn unquote(value: &str) -> Result<&str, String> {
    match value.strip_prefix('"') {
        Some(inner) => inner
            .strip_suffix('"')
            .ok_or_else(|| format!("the value {value} has no closing quote")),
        None => Ok(value),
    }
}

/// `YYYYMMDD[Z]` or `YYYYMMDDHHMM[SS][Z]`, read as UTC (see [`AllowedSigners`]).
fn parse_time(text: &str) -> Result<Timestamp, String> {
    let digits = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    let bad = || format!("{text:?} is not a time of the form YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]");
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> i8 {
        digits.get(range).and_then(|d| d.parse().ok()).unwrap_or(0)
    };
    let year: i16 = digits[..4].parse().map_err(|_| bad())?;
    let time = DateTime::new(
        year,
        number(4..6),
        number(6..8),
        number(8..10),
        number(10..12),
        number(12..14),
        0,
    )
    .map_err(|e| format!("{text:?}: {e}"))?;
    time.to_zoned(TimeZone::UTC)
        .map(|zoned| zoned.timestamp())
        .map_err(|e| format!("{text:?}: {e}"))
}

/// OpenSSH's pattern-list match (`match_pattern_list`): true if some pattern matches `text` and
/// no negated (`!`) pattern does. Case-sensitive, like ssh-keygen for principals and namespaces.
fn match_pattern_list(text: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) if wildcard_match(negated.as_bytes(), text.as_bytes()) => return false,
            Some(_) => {}
            None => matched |= wildcard_match(pattern.as_bytes(), text.as_bytes()),
        }
    }
    matched
}

/// `*` matches any run of bytes, `?` any one byte.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and where in `text` it now ends: on a mismatch, let it eat one more.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    star = Some((star_p, star_t + 1));
                    p = star_p + 1;
                    t = star_t + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A key to sign approvals with.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub public: PublicKey,
    /// private key file, or None when only the public key is known and ssh-agent signs
    pub private: Option<PathBuf>,
    /// The public key file, when there is one.
    pub public_file: Option<PathBuf>,
    /// where it came from, for messages: "--key", "git config user.signingkey", "~/.ssh/id_ed25519"
    pub source: String,
}

/// The keys looked for in ~/.ssh, in this order (ssh's own identity files).
const DEFAULT_KEYS: [&str; 5] = [
    "id_ed25519",
    "id_ecdsa",
    "id_ed25519_sk",
    "id_ecdsa_sk",
    "id_rsa",
];

/// The key to sign with: `explicit` (a private or .pub path), else git's `user.signingkey` for
/// the repository `repo` (a path, or a literal `key::ssh-ed25519 AAAA…`/`ssh-ed25519 AAAA…`
/// meaning use ssh-agent), else the first of ~/.ssh/id_ed25519, id_ecdsa, id_ed25519_sk,
/// id_ecdsa_sk, id_rsa that exists (HOME from the environment). Err with a helpful message if
/// none.
pub fn find_signing_key(repo: &Path, explicit: Option<&Path>) -> Result<SigningKey, String> {
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    find_signing_key_in(repo, explicit, home.as_deref())
}

/// [`find_signing_key`] with the home directory given; git runs with the same `HOME`, so its
/// global configuration is the one under `home`.
fn find_signing_key_in(
    repo: &Path,
    explicit: Option<&Path>,
    home: Option<&Path>,
) -> Result<SigningKey, String> {
    if let Some(path) = explicit {
        return key_from_file(path, "--key");
    }
    if let Some(key) = key_from_git(repo, home)? {
        return Ok(key);
    }
    let Some(home) = home else {
        return Err(
            "no SSH key to sign with: HOME is not set, so ~/.ssh cannot be searched; \
             pass --key FILE or set git's user.signingkey"
                .into(),
        );
    };
    for name in DEFAULT_KEYS {
        let private = home.join(".ssh").join(name);
        let public = with_pub_suffix(&private);
        let source = format!("~/.ssh/{name}");
        if private.is_file() {
            return key_from_file(&private, &source);
        }
        // Only the public half: the private key lives in ssh-agent or on a token.
        if public.is_file() {
            return key_from_file(&public, &source);
        }
    }
    Err(format!(
        "no SSH key to sign with: none of {} exists in {}; pass --key FILE, set git's signing key \
         (`git config --global user.signingkey ~/.ssh/id_ed25519.pub`), or create a key with \
         `ssh-keygen -t ed25519`",
        DEFAULT_KEYS.join(", "),
        home.join(".ssh").display()
    ))
}

/// git's `user.signingkey`, read the way git reads it for `gpg.format = ssh`.
fn key_from_git(repo: &Path, home: Option<&Path>) -> Result<Option<SigningKey>, String> {
    const SOURCE: &str = "git config user.signingkey";
    let Some(value) = git_config(repo, home, "user.signingkey") else {
        return Ok(None);
    };
    let literal = value
        .strip_prefix("key::")
        .or_else(|| value.starts_with("ssh-").then_some(value.as_str()));
    if let Some(literal) = literal {
        let public = PublicKey::from_openssh(literal.trim())
            .map_err(|e| format!("{SOURCE} is not an SSH public key ({e}): {value}"))?;
        return Ok(Some(SigningKey {
            public,
            private: None,
            public_file: None,
            source: SOURCE.into(),
        }));
    }
    // git hands the value to ssh-keygen as is; a relative path is taken from the repository.
    let path = match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => repo.join(&value),
    };
    if path.exists() {
        return key_from_file(&path, SOURCE).map(Some);
    }
    // Without `gpg.format = ssh` the value is most likely a GPG key id: not ours to use.
    if git_config(repo, home, "gpg.format").as_deref() == Some("ssh") {
        return Err(format!(
            "{SOURCE} is {value}, but {} does not exist",
            path.display()
        ));
    }
    Ok(None)
}

fn git_config(repo: &Path, home: Option<&Path>, key: &str) -> Option<String> {
    let mut git = Command::new("git");
    git.arg("-C").arg(repo).args(["config", "--get", key]);
    if let Some(home) = home {
        git.env("HOME", home);
    }
    let output = git.stderr(Stdio::null()).output().ok()?;
    let value = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !value.is_empty()).then_some(value)
}

/// A key from a file that holds either half: a public key file is signed with the private key
/// next to it (`key.pub` → `key`) or, without one, through ssh-agent.
fn key_from_file(path: &Path, source: &str) -> Result<SigningKey, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("{source}: cannot read {}: {e}", path.display()))?;
    let first_line = text.lines().map(str::trim).find(|l| !l.is_empty());
    if let Some(public) = first_line.and_then(|l| PublicKey::from_openssh(l).ok()) {
        let private = path
            .to_str()
            .and_then(|p| p.strip_suffix(".pub"))
            .map(PathBuf::from)
            .filter(|p| p.is_file());
        return Ok(SigningKey {
            public,
            private,
            public_file: Some(path.to_path_buf()),
            source: source.into(),
        });
    }
    let public_file = Some(with_pub_suffix(path)).filter(|p| p.is_file());
    let from_public_file = public_file
        .as_deref()
        .and_then(|p| fs::read_to_string(p).ok())
        .and_then(|t| PublicKey::from_openssh(t.trim()).ok());
    // An OpenSSH private key carries its public half in the clear, even when encrypted.
    let public = match from_public_file {
        Some(public) => public,
        None => PrivateKey::from_openssh(&text)
            .map(|k| k.public_key().clone())
            .map_err(|e| {
                format!(
                    "{source}: {} is neither an SSH public key nor an OpenSSH private key ({e}); \
                     write its public key next to it with `ssh-keygen -y -f {0} > {0}.pub`",
                    path.display()
                )
            })?,
    };
    Ok(SigningKey {
        public,
        private: Some(path.to_path_buf()),
        public_file,
        source: source.into(),
    })
}

fn with_pub_suffix(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Signs `message` with `ssh-keygen -Y sign -n countersign -f <key>` (message on stdin, armored
/// signature read from stdout; for agent-held keys write the public key to a temp file and pass
/// `-U`; FIDO keys prompt for touch through ssh-keygen as git does). Err carries ssh-keygen's
/// stderr.
pub fn sign(key: &SigningKey, message: &[u8]) -> Result<String, String> {
    sign_with(key, message, Agent::Inherited)
}

/// Which ssh-agent `ssh-keygen` may use.
#[derive(Debug, Clone, Copy)]
enum Agent<'a> {
    /// The user's, from `SSH_AUTH_SOCK`.
    Inherited,
    /// The agent listening on this socket.
    #[cfg_attr(not(test), allow(dead_code))]
    Socket(&'a Path),
    /// None: only the private key file can sign.
    #[cfg_attr(not(test), allow(dead_code))]
    Without,
}

fn sign_with(key: &SigningKey, message: &[u8], agent: Agent) -> Result<String, String> {
    // `-f` takes the private key, or with `-U` a public key whose private half is in the agent.
    let mut temp_public = None;
    let (file, agent_only) = match (&key.private, &key.public_file) {
        (Some(private), _) => (private.clone(), false),
        (None, Some(public)) => (public.clone(), true),
        (None, None) => {
            let openssh = key
                .public
                .to_openssh()
                .map_err(|e| format!("cannot encode the public key: {e}"))?;
            let mut file = tempfile::Builder::new()
                .prefix(".countersign-key-")
                .suffix(".pub")
                .tempfile()
                .map_err(|e| format!("cannot write the public key to a temporary file: {e}"))?;
            writeln!(file, "{openssh}")
                .map_err(|e| format!("cannot write the public key to a temporary file: {e}"))?;
            let path = file.path().to_path_buf();
            temp_public = Some(file);
            (path, true)
        }
    };
    let mut command = Command::new("ssh-keygen");
    command
        .args(["-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(&file);
    if agent_only {
        command.arg("-U");
    }
    match agent {
        Agent::Inherited => {}
        Agent::Socket(socket) => {
            command.env("SSH_AUTH_SOCK", socket);
        }
        Agent::Without => {
            command.env_remove("SSH_AUTH_SOCK");
        }
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "ssh-keygen was not found: install OpenSSH (8.2 or later) to sign approvals".into()
            }
            _ => format!("cannot run ssh-keygen: {e}"),
        })?;
    // A security key asks for a touch on stderr: pass that through while keeping it for errors.
    let echo_stderr = matches!(
        key.public.algorithm(),
        Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256
    );
    let (stdin, mut stdout, stderr) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (written, signature, errors) = std::thread::scope(|scope| {
        // Feed stdin and drain stderr on their own threads so no pipe fills up and blocks.
        let writer = scope.spawn(move || match stdin {
            Some(mut stdin) => stdin.write_all(message),
            None => Ok(()),
        });
        let reader = scope.spawn(move || read_stderr(stderr, echo_stderr));
        let mut signature = Vec::new();
        let read = match stdout.as_mut() {
            Some(stdout) => stdout.read_to_end(&mut signature).map(|_| signature),
            None => Ok(signature),
        };
        (
            writer.join().unwrap_or(Ok(())),
            read,
            reader.join().unwrap_or_default(),
        )
    });
    let status = child
        .wait()
        .map_err(|e| format!("ssh-keygen did not finish: {e}"))?;
    drop(temp_public);
    let command_line = format!(
        "ssh-keygen -Y sign -n {NAMESPACE} -f {}{}",
        file.display(),
        if agent_only { " -U" } else { "" }
    );
    let errors = errors.trim();
    if !status.success() {
        return Err(format!("`{command_line}` failed ({status}): {errors}"));
    }
    written.map_err(|e| format!("cannot pass the message to ssh-keygen: {e}"))?;
    let signature = signature
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| SshSig::from_pem(text.trim()).is_ok())
        .ok_or_else(|| format!("`{command_line}` printed no SSH signature: {errors}"))?;
    Ok(signature)
}

fn read_stderr(stderr: Option<std::process::ChildStderr>, echo: bool) -> String {
    let Some(mut stderr) = stderr else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buffer = [0u8; 1024];
    while let Ok(n) = stderr.read(&mut buffer) {
        if n == 0 {
            break;
        }
        if echo {
            let _ = std::io::stderr().write_all(&buffer[..n]);
        }
        kept.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    use sha2::{Digest, Sha256};
    use ssh_key::public::EcdsaPublicKey;
    use ssh_key::public::{KeyData, SkEcdsaSha2NistP256, SkEd25519};

    const ALICE: &str = "alice@example.com";
    const MESSAGE: &[u8] = b"countersign sign-off v1\nfingerprint: 0123abcd\n";

    /// Runs a real `ssh-keygen` away from any ssh-agent of the person running the tests.
    fn ssh_keygen(args: &[&str], stdin: &[u8]) -> std::process::Output {
        let mut child = Command::new("ssh-keygen")
            .args(args)
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ssh-keygen runs");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(stdin)
            .expect("ssh-keygen reads the message");
        child.wait_with_output().expect("ssh-keygen finishes")
    }

    /// A fresh passphrase-less key `dir/name` made by `ssh-keygen -t <kind>`.
    fn new_key(dir: &Path, name: &str, kind: &[&str]) -> PathBuf {
        let path = dir.join(name);
        let path_str = path.to_str().expect("temp paths are UTF-8");
        let mut args = vec!["-q", "-N", "", "-C", name, "-f", path_str, "-t"];
        args.extend_from_slice(kind);
        let out = ssh_keygen(&args, b"");
        assert!(out.status.success(), "ssh-keygen -t {kind:?}: {out:?}");
        path
    }

    fn public_line(key: &Path) -> String {
        fs::read_to_string(with_pub_suffix(key))
            .expect("ssh-keygen wrote the .pub")
            .trim()
            .to_string()
    }

    fn public_key(key: &Path) -> PublicKey {
        PublicKey::from_openssh(&public_line(key)).expect("a valid public key")
    }

    /// `ssh-keygen -Y sign -n <namespace>` over `message`, as a senior would run it.
    fn ssh_keygen_sign(key: &Path, namespace: &str, message: &[u8]) -> String {
        let key = key.to_str().expect("UTF-8 path");
        let out = ssh_keygen(&["-Y", "sign", "-n", namespace, "-f", key], message);
        assert!(out.status.success(), "ssh-keygen -Y sign: {out:?}");
        String::from_utf8(out.stdout).expect("armored signatures are ASCII")
    }

    /// `ssh-keygen -Y verify` with `allowed_signers` text: whether the real CLI accepts it.
    fn ssh_keygen_accepts(
        allowed_signers: &str,
        principal: &str,
        message: &[u8],
        signature: &str,
    ) -> bool {
        let dir = tempfile::tempdir().expect("temp dir");
        let allowed = dir.path().join("allowed_signers");
        let sig = dir.path().join("message.sig");
        fs::write(&allowed, allowed_signers).expect("write allowed_signers");
        fs::write(&sig, signature).expect("write signature");
        let out = ssh_keygen(
            &[
                "-Y",
                "verify",
                "-f",
                allowed.to_str().expect("UTF-8 path"),
                "-I",
                principal,
                "-n",
                NAMESPACE,
                "-s",
                sig.to_str().expect("UTF-8 path"),
            ],
            message,
        );
        out.status.success()
    }

    fn signers(text: &str) -> AllowedSigners {
        let (signers, problems) = AllowedSigners::parse(text);
        assert_eq!(problems, Vec::<String>::new(), "in:\n{text}");
        signers
    }

    /// The SHA256 fingerprint as `ssh-keygen -l` prints it.
    fn ssh_keygen_fingerprint(key: &Path) -> String {
        let public = with_pub_suffix(key);
        let out = ssh_keygen(&["-l", "-f", public.to_str().expect("UTF-8 path")], b"");
        let text = String::from_utf8(out.stdout).expect("text");
        text.split_whitespace()
            .nth(1)
            .expect("bits fingerprint comment")
            .to_string()
    }

    /// A key signed with and listed for alice, and the signature `ssh-keygen` made with it.
    struct Signed {
        _dir: tempfile::TempDir,
        key: PathBuf,
        signature: String,
    }

    fn signed_by_alice(namespace: &str) -> Signed {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = new_key(dir.path(), "alice", &["ed25519"]);
        let signature = ssh_keygen_sign(&key, namespace, MESSAGE);
        Signed {
            _dir: dir,
            key,
            signature,
        }
    }

    /// Both the real CLI and [`verify`] reject the signature, [`verify`] for `expected`.
    fn assert_rejected(
        allowed: &str,
        principal: &str,
        message: &[u8],
        signature: &str,
        expected: VerifyError,
    ) {
        assert!(
            !ssh_keygen_accepts(allowed, principal, message, signature),
            "ssh-keygen accepted it with:\n{allowed}"
        );
        let result = verify(
            &signers(allowed),
            principal,
            message,
            signature,
            Timestamp::now(),
        );
        assert_eq!(result, Err(expected));
    }

    #[test]
    fn ssh_keygen_signatures_verify_in_rust_for_every_key_type() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, kind) in [
            ("ed25519", &["ed25519"][..]),
            ("p256", &["ecdsa", "-b", "256"][..]),
            ("p384", &["ecdsa", "-b", "384"][..]),
            ("p521", &["ecdsa", "-b", "521"][..]),
            ("rsa", &["rsa", "-b", "2048"][..]),
        ] {
            let key = new_key(dir.path(), name, kind);
            let allowed = format!("{ALICE} {}\n", public_line(&key));
            let signature = ssh_keygen_sign(&key, NAMESPACE, MESSAGE);
            let fingerprint = verify(
                &signers(&allowed),
                ALICE,
                MESSAGE,
                &signature,
                Timestamp::now(),
            );
            assert_eq!(fingerprint, Ok(ssh_keygen_fingerprint(&key)), "{name}");
        }
    }

    #[test]
    fn ssh_keygen_signatures_hashed_with_sha256_verify_in_rust() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = new_key(dir.path(), "alice", &["ed25519"]);
        let out = ssh_keygen(
            &[
                "-Y",
                "sign",
                "-n",
                NAMESPACE,
                "-O",
                "hashalg=sha256",
                "-f",
                key.to_str().expect("UTF-8"),
            ],
            MESSAGE,
        );
        assert!(out.status.success(), "{out:?}");
        let signature = String::from_utf8(out.stdout).expect("ASCII");
        let allowed = format!("{ALICE} {}\n", public_line(&key));
        assert!(verify(
            &signers(&allowed),
            ALICE,
            MESSAGE,
            &signature,
            Timestamp::now()
        )
        .is_ok());
    }

    #[test]
    fn signatures_made_by_sign_verify_with_ssh_keygen_and_in_rust() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, kind) in [
            ("ed25519", &["ed25519"][..]),
            ("ecdsa", &["ecdsa"][..]),
            ("rsa", &["rsa", "-b", "2048"][..]),
        ] {
            let path = new_key(dir.path(), name, kind);
            let key = find_signing_key_in(dir.path(), Some(&path), None).expect("the key is found");
            let signature = sign_with(&key, MESSAGE, Agent::Without).expect("ssh-keygen signs");
            assert!(
                signature.starts_with("-----BEGIN SSH SIGNATURE-----"),
                "{signature}"
            );
            let allowed = format!("{ALICE} {}\n", public_line(&path));
            assert!(
                ssh_keygen_accepts(&allowed, ALICE, MESSAGE, &signature),
                "{name}"
            );
            let verified = verify(
                &signers(&allowed),
                ALICE,
                MESSAGE,
                &signature,
                Timestamp::now(),
            );
            assert_eq!(verified, Ok(ssh_keygen_fingerprint(&path)), "{name}");
        }
    }

    #[test]
    fn key_missing_from_allowed_signers_is_unknown_key() {
        let signed = signed_by_alice(NAMESPACE);
        let dir = tempfile::tempdir().expect("temp dir");
        let other = new_key(dir.path(), "bob", &["ed25519"]);
        assert_rejected(
            &format!("{ALICE} {}\n", public_line(&other)),
            ALICE,
            MESSAGE,
            &signed.signature,
            VerifyError::UnknownKey {
                fingerprint: ssh_keygen_fingerprint(&signed.key),
            },
        );
    }

    #[test]
    fn signature_made_for_git_is_wrong_namespace() {
        let signed = signed_by_alice("git");
        assert_rejected(
            &format!("{ALICE} {}\n", public_line(&signed.key)),
            ALICE,
            MESSAGE,
            &signed.signature,
            VerifyError::WrongNamespace {
                found: "git".into(),
            },
        );
    }

    #[test]
    fn changed_message_is_bad_signature() {
        let signed = signed_by_alice(NAMESPACE);
        let mut changed = MESSAGE.to_vec();
        changed.extend_from_slice(b"path: db/drop_everything.sql\n");
        assert_rejected(
            &format!("{ALICE} {}\n", public_line(&signed.key)),
            ALICE,
            &changed,
            &signed.signature,
            VerifyError::BadSignature,
        );
    }

    #[test]
    fn key_listed_for_someone_else_is_principal_not_allowed() {
        let signed = signed_by_alice(NAMESPACE);
        assert_rejected(
            &format!(
                "bob@example.com,*@corp.example {}\n",
                public_line(&signed.key)
            ),
            ALICE,
            MESSAGE,
            &signed.signature,
            VerifyError::PrincipalNotAllowed {
                principal: ALICE.into(),
            },
        );
    }

    #[test]
    fn expired_key_is_rejected() {
        let signed = signed_by_alice(NAMESPACE);
        assert_rejected(
            &format!(
                "{ALICE} valid-before=\"20200101Z\" {}\n",
                public_line(&signed.key)
            ),
            ALICE,
            MESSAGE,
            &signed.signature,
            VerifyError::Expired {
                valid_before: "2020-01-01T00:00:00Z".into(),
            },
        );
    }

    #[test]
    fn key_not_yet_valid_is_rejected() {
        let signed = signed_by_alice(NAMESPACE);
        assert_rejected(
            &format!(
                "{ALICE} valid-after=\"29990101120000Z\" {}\n",
                public_line(&signed.key)
            ),
            ALICE,
            MESSAGE,
            &signed.signature,
            VerifyError::NotYetValid {
                valid_after: "2999-01-01T12:00:00Z".into(),
            },
        );
    }

    #[test]
    fn validity_is_judged_at_the_approval_time_with_inclusive_bounds() {
        let signed = signed_by_alice(NAMESPACE);
        let allowed = signers(&format!(
            "{ALICE} valid-after=\"20240101\",valid-before=\"20241231235959\" {}\n",
            public_line(&signed.key)
        ));
        let check = |at: &str| {
            verify(
                &allowed,
                ALICE,
                MESSAGE,
                &signed.signature,
                at.parse().expect("a time"),
            )
        };
        assert!(check("2024-01-01T00:00:00Z").is_ok());
        assert!(check("2024-12-31T23:59:59Z").is_ok());
        assert!(matches!(
            check("2023-12-31T23:59:59Z"),
            Err(VerifyError::NotYetValid { .. })
        ));
        assert!(matches!(
            check("2025-01-01T00:00:00Z"),
            Err(VerifyError::Expired { .. })
        ));
    }

    #[test]
    fn namespaces_option_without_countersign_is_rejected() {
        let signed = signed_by_alice(NAMESPACE);
        let key = public_line(&signed.key);
        assert_rejected(
            &format!("{ALICE} namespaces=\"git\" {key}\n"),
            ALICE,
            MESSAGE,
            &signed.signature,
            VerifyError::NamespaceNotAllowed,
        );
        for allowed in [
            format!("{ALICE} namespaces=\"git,countersign\" {key}\n"),
            format!("{ALICE} namespaces=\"counter*\" {key}\n"),
            // Another line for the same key may allow what the first one does not.
            format!("{ALICE} namespaces=\"git\" {key}\n{ALICE} {key}\n"),
        ] {
            assert!(
                ssh_keygen_accepts(&allowed, ALICE, MESSAGE, &signed.signature),
                "{allowed}"
            );
            assert!(
                verify(
                    &signers(&allowed),
                    ALICE,
                    MESSAGE,
                    &signed.signature,
                    Timestamp::now()
                )
                .is_ok(),
                "{allowed}"
            );
        }
    }

    #[test]
    fn malformed_armor_is_malformed() {
        let signed = signed_by_alice(NAMESPACE);
        let allowed = signers(&format!("{ALICE} {}\n", public_line(&signed.key)));
        let truncated: String = signed
            .signature
            .lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n");
        let corrupted = signed.signature.replacen("U1NIU0lH", "U1NIU0lI", 1);
        for armored in [
            "",
            "not a signature",
            "-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n",
            truncated.as_str(),
            corrupted.as_str(),
        ] {
            let result = verify(&allowed, ALICE, MESSAGE, armored, Timestamp::now());
            assert!(
                matches!(result, Err(VerifyError::Malformed(_))),
                "{armored:?}: {result:?}"
            );
        }
    }

    #[test]
    fn allowed_signers_options_quotes_wildcards_and_comments_parse() {
        let dir = tempfile::tempdir().expect("temp dir");
        let alice = public_line(&new_key(dir.path(), "alice", &["ed25519"]));
        let team = public_line(&new_key(dir.path(), "team", &["ecdsa"]));
        let team = team
            .rsplit_once(' ')
            .map_or(team.as_str(), |(key, _comment)| key);
        let text = format!(
            "# Seniors who may approve risky AI-written code\n\
             \n\
             {ALICE},alice@corp.example {alice}\n\
             \t# an indented comment\n\
             *@example.com,!intern@example.com NAMESPACES=\"countersign,git\",valid-after=\"20240101\",valid-before=\"20300101120000Z\" {team} team key with spaces\n\
             \"carol@example.com\" namespaces=git {alice}\n"
        );
        let signers = signers(&text);
        assert_eq!(signers.entries.len(), 3);

        let first = &signers.entries[0];
        assert_eq!(first.line, 3);
        assert_eq!(first.principals, [ALICE, "alice@corp.example"]);
        assert!(
            first.namespaces.is_none()
                && first.valid_after.is_none()
                && first.valid_before.is_none()
        );

        let second = &signers.entries[1];
        assert_eq!(second.line, 5);
        assert_eq!(second.principals, ["*@example.com", "!intern@example.com"]);
        assert_eq!(
            second.namespaces.as_deref(),
            Some(&["countersign".to_string(), "git".into()][..])
        );
        assert_eq!(
            second.valid_after,
            Some("2024-01-01T00:00:00Z".parse().expect("time"))
        );
        assert_eq!(
            second.valid_before,
            Some("2030-01-01T12:00:00Z".parse().expect("time"))
        );
        assert_eq!(second.key.comment(), "team key with spaces");
        assert!(second.allows_principal("dana@example.com"));
        assert!(!second.allows_principal("intern@example.com"));
        assert!(!second.allows_principal("dana@example.com.evil"));

        let third = &signers.entries[2];
        assert_eq!(third.principals, ["carol@example.com"]);
        assert_eq!(third.namespaces.as_deref(), Some(&["git".to_string()][..]));

        // carol's line is for git only; intern is excluded by negation, not listed.
        assert_eq!(
            signers.principals_for(&first.key),
            [ALICE, "alice@corp.example"]
        );
        assert_eq!(signers.principals_for(&second.key), ["*@example.com"]);
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_the_rest_still_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let alice = public_line(&new_key(dir.path(), "alice", &["ed25519"]));
        let text = format!(
            "{ALICE} {alice}\n\
             bob@example.com ssh-ed25519 AAAAnotbase64!!\n\
             carol@example.com no-touch-required {alice}\n\
             dana@example.com valid-before=\"2024-01-01\" {alice}\n\
             erin@example.com\n\
             frank@example.com valid-after=\"20250101\",valid-before=\"20240101\" {alice}\n\
             {ALICE} namespaces=\"countersign {alice}\n\
             grace@example.com {alice}\n\
             {alice}\n"
        );
        let (signers, problems) = AllowedSigners::parse(&text);
        let lines: Vec<usize> = signers.entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 8]);
        let numbers: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            numbers,
            ["line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 9"],
            "{problems:#?}"
        );
        assert!(
            problems[1].contains("unknown option \"no-touch-required\""),
            "{}",
            problems[1]
        );
        assert!(problems[2].contains("valid-before"), "{}", problems[2]);
        assert!(
            problems[6].contains("put who it belongs to first"),
            "{}",
            problems[6]
        );
    }

    #[test]
    fn cert_authority_lines_are_reported_and_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = public_line(&new_key(dir.path(), "ca", &["ed25519"]));
        let (signers, problems) = AllowedSigners::parse(&format!(
            "*@example.com cert-authority {ca}\n{ALICE} {ca}\n"
        ));
        assert_eq!(signers.entries.len(), 1);
        assert_eq!(signers.entries[0].line, 2);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("line 1: cert-authority"),
            "{problems:?}"
        );
        assert!(problems[0].contains("not supported"), "{problems:?}");
    }

    #[test]
    fn times_parse_in_every_documented_form_as_utc() {
        for (text, expected) in [
            ("20240229", "2024-02-29T00:00:00Z"),
            ("20240229Z", "2024-02-29T00:00:00Z"),
            ("202402291730", "2024-02-29T17:30:00Z"),
            ("20240229173059Z", "2024-02-29T17:30:59Z"),
        ] {
            assert_eq!(
                parse_time(text),
                Ok(expected.parse().expect("time")),
                "{text}"
            );
        }
        for bad in [
            "2024",
            "20240230",
            "2024-02-29",
            "20240229T1730",
            "202402291760",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_allowed_signers_file_is_empty_without_problems() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (signers, problems) = AllowedSigners::load(&dir.path().join("allowed_signers"));
        assert!(signers.entries.is_empty());
        assert!(problems.is_empty());
    }

    #[test]
    fn wildcard_patterns_match_like_openssh() {
        let list = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(match_pattern_list("a@x.org", &list(&["*"])));
        assert!(match_pattern_list("a@x.org", &list(&["?@x.org"])));
        assert!(!match_pattern_list("ab@x.org", &list(&["?@x.org"])));
        assert!(match_pattern_list("a.b@x.org", &list(&["*.b@*.org"])));
        assert!(!match_pattern_list("A@x.org", &list(&["a@x.org"])));
        assert!(!match_pattern_list("a@x.org", &list(&["*@x.org", "!a@*"])));
        assert!(!match_pattern_list("a@x.org", &list(&["!b@x.org"])));
        assert!(match_pattern_list("", &list(&["*"])));
    }

    #[test]
    fn explicit_private_key_is_used_with_its_public_half() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = new_key(dir.path(), "alice", &["ed25519"]);
        let key = find_signing_key_in(dir.path(), Some(&path), None).expect("found");
        assert_eq!(key.public, public_key(&path));
        assert_eq!(key.private.as_deref(), Some(path.as_path()));
        assert_eq!(key.public_file, Some(with_pub_suffix(&path)));
        assert_eq!(key.source, "--key");

        // Without the .pub next to it, the public half comes from the private key file.
        fs::remove_file(with_pub_suffix(&path)).expect("remove .pub");
        let key = find_signing_key_in(dir.path(), Some(&path), None).expect("found");
        assert_eq!(key.public.key_data(), public_key_data_of(&path).key_data());
        assert_eq!(key.public_file, None);
    }

    fn public_key_data_of(private: &Path) -> PublicKey {
        PrivateKey::read_openssh_file(private)
            .expect("an OpenSSH private key")
            .public_key()
            .clone()
    }

    #[test]
    fn explicit_public_key_finds_the_private_key_next_to_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = new_key(dir.path(), "alice", &["ecdsa"]);
        let public = with_pub_suffix(&path);
        let key = find_signing_key_in(dir.path(), Some(&public), None).expect("found");
        assert_eq!(key.public, public_key(&path));
        assert_eq!(key.private.as_deref(), Some(path.as_path()));
        assert_eq!(key.public_file.as_deref(), Some(public.as_path()));
    }

    #[test]
    fn explicit_missing_file_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = find_signing_key_in(dir.path(), Some(&dir.path().join("nope")), None)
            .expect_err("no such key");
        assert!(err.starts_with("--key: cannot read"), "{err}");
    }

    fn git(repo: &Path, home: &Path, args: &[&str]) {
        let out = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .env("HOME", home)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    /// A git repository and an empty home, so only what the test configures is found.
    fn repo_and_home() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("repo");
        let home = dir.path().join("home");
        fs::create_dir_all(&repo).expect("mkdir repo");
        fs::create_dir_all(&home).expect("mkdir home");
        git(&repo, &home, &["init", "-q"]);
        (dir, repo, home)
    }

    #[test]
    fn git_user_signingkey_path_is_used() {
        let (dir, repo, home) = repo_and_home();
        let path = new_key(dir.path(), "alice", &["ed25519"]);
        let public = with_pub_suffix(&path);
        git(
            &repo,
            &home,
            &["config", "user.signingkey", public.to_str().expect("UTF-8")],
        );
        let key = find_signing_key_in(&repo, None, Some(&home)).expect("found");
        assert_eq!(key.source, "git config user.signingkey");
        assert_eq!(key.public, public_key(&path));
        assert_eq!(key.private.as_deref(), Some(path.as_path()));

        // `~/` is the home git and ssh see.
        fs::create_dir_all(home.join(".ssh")).expect("mkdir .ssh");
        fs::copy(&path, home.join(".ssh/work")).expect("copy key");
        git(&repo, &home, &["config", "user.signingkey", "~/.ssh/work"]);
        let key = find_signing_key_in(&repo, None, Some(&home)).expect("found");
        assert_eq!(key.private, Some(home.join(".ssh/work")));
        assert_eq!(key.public.key_data(), public_key(&path).key_data());
    }

    #[test]
    fn git_user_signingkey_literal_key_means_ssh_agent() {
        let (dir, repo, home) = repo_and_home();
        let path = new_key(dir.path(), "alice", &["ed25519"]);
        for value in [format!("key::{}", public_line(&path)), public_line(&path)] {
            git(&repo, &home, &["config", "user.signingkey", &value]);
            let key = find_signing_key_in(&repo, None, Some(&home)).expect("found");
            assert_eq!(
                key.public.key_data(),
                public_key(&path).key_data(),
                "{value}"
            );
            assert_eq!((key.private, key.public_file), (None, None), "{value}");
        }
    }

    #[test]
    fn git_user_signingkey_that_is_a_gpg_key_id_is_passed_over() {
        let (_dir, repo, home) = repo_and_home();
        let ssh = home.join(".ssh");
        fs::create_dir_all(&ssh).expect("mkdir .ssh");
        let default = new_key(&ssh, "id_ed25519", &["ed25519"]);
        git(
            &repo,
            &home,
            &["config", "user.signingkey", "3AA5C34371567BD2"],
        );
        let key = find_signing_key_in(&repo, None, Some(&home)).expect("found");
        assert_eq!(key.private, Some(default));

        git(&repo, &home, &["config", "gpg.format", "ssh"]);
        let err = find_signing_key_in(&repo, None, Some(&home)).expect_err("missing key file");
        assert!(
            err.contains("3AA5C34371567BD2") && err.contains("does not exist"),
            "{err}"
        );
    }

    #[test]
    fn default_key_is_the_first_of_the_usual_names_in_home() {
        let (_dir, repo, home) = repo_and_home();
        let ssh = home.join(".ssh");
        fs::create_dir_all(&ssh).expect("mkdir .ssh");

        let err = find_signing_key_in(&repo, None, Some(&home)).expect_err("no key yet");
        assert!(
            err.contains("ssh-keygen -t ed25519") && err.contains("user.signingkey"),
            "{err}"
        );

        let rsa = new_key(&ssh, "id_rsa", &["rsa", "-b", "2048"]);
        let key = find_signing_key_in(&repo, None, Some(&home)).expect("found");
        assert_eq!(
            (key.private.as_deref(), key.source.as_str()),
            (Some(rsa.as_path()), "~/.ssh/id_rsa")
        );

        let ecdsa = new_key(&ssh, "id_ecdsa", &["ecdsa"]);
        let key = find_signing_key_in(&repo, None, Some(&home)).expect("found");
        assert_eq!(
            (key.private.as_deref(), key.source.as_str()),
            (Some(ecdsa.as_path()), "~/.ssh/id_ecdsa")
        );
        assert_eq!(key.public, public_key(&ecdsa));
    }

    /// A real `ssh-agent` on a socket in a temp dir, stopped when dropped.
    struct SshAgent {
        process: std::process::Child,
        socket: PathBuf,
    }

    impl SshAgent {
        fn start(dir: &Path) -> Result<SshAgent, String> {
            let socket = dir.join("agent.sock");
            let process = Command::new("ssh-agent")
                .arg("-D")
                .arg("-a")
                .arg(&socket)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("ssh-agent cannot run: {e}"))?;
            let agent = SshAgent { process, socket };
            for _ in 0..100 {
                if agent.socket.exists() {
                    return Ok(agent);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err("ssh-agent did not open its socket within 5 s".into())
        }

        fn add(&self, key: &Path) {
            let out = Command::new("ssh-add")
                .arg(key)
                .env("SSH_AUTH_SOCK", &self.socket)
                .output()
                .expect("ssh-add runs");
            assert!(out.status.success(), "ssh-add: {out:?}");
        }
    }

    impl Drop for SshAgent {
        fn drop(&mut self) {
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }

    #[test]
    fn agent_held_key_signs_with_dash_u() {
        let dir = tempfile::tempdir().expect("temp dir");
        let agent = match SshAgent::start(dir.path()) {
            Ok(agent) => agent,
            Err(why) => {
                eprintln!("skipping agent_held_key_signs_with_dash_u: {why}");
                return;
            }
        };
        let path = new_key(dir.path(), "alice", &["ed25519"]);
        agent.add(&path);
        // Only the agent can sign from here on.
        fs::remove_file(&path).expect("remove the private key");
        let allowed = signers(&format!("{ALICE} {}\n", public_line(&path)));
        let public = with_pub_suffix(&path);

        let from_file = find_signing_key_in(dir.path(), Some(&public), None).expect("found");
        assert_eq!(from_file.private, None);
        let literal = SigningKey {
            public: public_key(&path),
            private: None,
            public_file: None,
            source: "git config user.signingkey".into(),
        };
        for key in [from_file, literal] {
            let signature =
                sign_with(&key, MESSAGE, Agent::Socket(&agent.socket)).expect("the agent signs");
            let allowed_text = format!("{ALICE} {}\n", public_line(&path));
            assert!(ssh_keygen_accepts(
                &allowed_text,
                ALICE,
                MESSAGE,
                &signature
            ));
            assert!(verify(&allowed, ALICE, MESSAGE, &signature, Timestamp::now()).is_ok());
        }

        // Without an agent there is nothing to sign with, and ssh-keygen says why.
        let err = sign_with(
            &find_signing_key_in(dir.path(), Some(&public), None).expect("found"),
            MESSAGE,
            Agent::Without,
        )
        .expect_err("no agent");
        assert!(
            err.contains("ssh-keygen -Y sign") && err.contains("-U"),
            "{err}"
        );
    }

    // Security keys (FIDO) need hardware to sign, which tests cannot touch. These signatures are
    // made in the test the way a token makes them (PROTOCOL.u2f: the token signs
    // sha256(application) || flags || counter || sha256(data)), from ordinary keys made by the
    // real ssh-keygen, and the real `ssh-keygen -Y verify` is the judge that they are right.

    fn raw_sign<K: ssh_key::SigningKey>(key: &K, data: &[u8]) -> ssh_key::Signature {
        key.try_sign(data).expect("software keys sign")
    }

    fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&u32::try_from(bytes.len()).expect("short").to_be_bytes());
        out.extend_from_slice(bytes);
    }

    fn armor(blob: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut base64 = String::new();
        for chunk in blob.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    base64.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
                } else {
                    base64.push('=');
                }
            }
        }
        let lines: Vec<&str> = base64
            .as_bytes()
            .chunks(70)
            .map(|l| std::str::from_utf8(l).expect("ASCII"))
            .collect();
        format!(
            "-----BEGIN SSH SIGNATURE-----\n{}\n-----END SSH SIGNATURE-----\n",
            lines.join("\n")
        )
    }

    /// An SSHSIG by a security key with `flags` (0x01: the user touched it).
    fn security_key_signature(
        private: &PrivateKey,
        public: &PublicKey,
        message: &[u8],
        flags: u8,
    ) -> String {
        let signed = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, message).expect("namespace");
        let counter: u32 = 7;
        let mut token_data = Sha256::digest(b"ssh:").to_vec();
        token_data.push(flags);
        token_data.extend_from_slice(&counter.to_be_bytes());
        token_data.extend_from_slice(&Sha256::digest(&signed));
        let raw = raw_sign(private, &token_data);

        let mut signature = Vec::new();
        put_string(&mut signature, public.algorithm().as_str().as_bytes());
        put_string(&mut signature, raw.as_bytes());
        signature.push(flags);
        signature.extend_from_slice(&counter.to_be_bytes());

        let mut blob = b"SSHSIG".to_vec();
        blob.extend_from_slice(&1u32.to_be_bytes());
        put_string(&mut blob, &public.to_bytes().expect("encodes"));
        put_string(&mut blob, NAMESPACE.as_bytes());
        put_string(&mut blob, b"");
        put_string(&mut blob, b"sha512");
        put_string(&mut blob, &signature);
        armor(&blob)
    }

    #[test]
    fn security_key_signatures_verify_with_ssh_keygen_and_in_rust() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ed25519 = new_key(dir.path(), "ed25519", &["ed25519"]);
        let ecdsa = new_key(dir.path(), "ecdsa", &["ecdsa", "-b", "256"]);
        for path in [ed25519, ecdsa] {
            let private = PrivateKey::read_openssh_file(&path).expect("OpenSSH private key");
            let data = match private.public_key().key_data() {
                KeyData::Ed25519(key) => KeyData::SkEd25519(SkEd25519::new(*key, "ssh:")),
                KeyData::Ecdsa(EcdsaPublicKey::NistP256(point)) => {
                    KeyData::SkEcdsaSha2NistP256(SkEcdsaSha2NistP256::new(*point, "ssh:"))
                }
                other => panic!("unexpected key {other:?}"),
            };
            let public = PublicKey::new(data, "security key");
            let allowed_text = format!("{ALICE} {}\n", public.to_openssh().expect("encodes"));
            let allowed = signers(&allowed_text);
            assert_eq!(allowed.principals_for(&public), [ALICE]);

            let touched = security_key_signature(&private, &public, MESSAGE, 0x01);
            assert!(
                ssh_keygen_accepts(&allowed_text, ALICE, MESSAGE, &touched),
                "{}: {touched}",
                public.algorithm()
            );
            let verified = verify(&allowed, ALICE, MESSAGE, &touched, Timestamp::now());
            assert_eq!(
                verified,
                Ok(public.fingerprint(HashAlg::Sha256).to_string())
            );

            // Like ssh-keygen, no touch flag is demanded: keys made with `-O no-touch-required`
            // sign without one, and their owners chose that.
            let untouched = security_key_signature(&private, &public, MESSAGE, 0x00);
            assert!(ssh_keygen_accepts(
                &allowed_text,
                ALICE,
                MESSAGE,
                &untouched
            ));
            assert!(verify(&allowed, ALICE, MESSAGE, &untouched, Timestamp::now()).is_ok());

            assert_eq!(
                verify(&allowed, ALICE, b"other text", &touched, Timestamp::now()),
                Err(VerifyError::BadSignature)
            );
        }
    }
}
