//! `auditlog verify`: checks an export and signed tree heads offline, with no
//! server and no database, trusting only the files it is given and the RFC
//! 9162 verification algorithms (`entity::domain::merkle::proofs`).
//!
//! In order: the head's Ed25519 signature with the key its `keyId` names in
//! the JWKS file; every event's leaf, recomputed from its fields
//! ([`export_leaf`]); then either the root itself (an export of every event
//! of the head's tree, in order) or each event's
//! `inclusionProof` against the head; and, given an older head and a
//! consistency proof, that both heads are signed and the older tree is a
//! prefix of the newer. Every check prints one line; the exit status is 0 if
//! all passed, 1 if any failed.
//!
//! A head's `treeOrigin` (0 unless the tenant had events before an upgrade
//! brought the tree) says which sequence is which leaf: `origin + 1` is leaf
//! 0. Exported events with sequence ≤ origin predate the tree: no head covers
//! them, so they are reported as not covered (a `note`), not verified, and
//! do not fail the run.

mod export_leaf;

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use auditlog_worker::ed25519::PublicKey;
use auditlog_worker::tree_heads::verify_head;

use crate::domain::merkle::{self, Hash, TreeOrigin, head::signed_bytes};

/// The files `auditlog verify` reads.
#[derive(Clone, Debug, clap::Args)]
pub struct VerifyArgs {
    /// The NDJSON export: one AuditEvent per line and a final
    /// `{"manifest":{...}}` line, or a JSON array of events.
    pub export: Option<PathBuf>,
    /// The signed tree head (JSON, as `auditLogTreeHead` returns it).
    /// Default: the export manifest's `treeHead`.
    #[arg(long)]
    pub head: Option<PathBuf>,
    /// The public keys (`/.well-known/auditlog-keys.json`).
    #[arg(long)]
    pub keys: PathBuf,
    /// The tenant's id (bound into every signature). Default: the manifest's
    /// `tenantId`.
    #[arg(long)]
    pub tenant_id: Option<Uuid>,
    /// An older signed head to check against `--head` (needs `--consistency`).
    #[arg(long, requires = "consistency")]
    pub old_head: Option<PathBuf>,
    /// The consistency proof (JSON, as `auditLogConsistencyProof` returns it).
    #[arg(long, requires = "old_head")]
    pub consistency: Option<PathBuf>,
    /// Accept missing sequences between exported events (an export spanning
    /// a retention purge). Each event is still proven unaltered and in the
    /// tree, and the order still checked, but a removed event then goes
    /// unnoticed: without it, a gap fails.
    #[arg(long)]
    pub allow_gaps: bool,
}

/// One check's outcome, printed as it is made.
struct Report {
    failed: usize,
}

impl Report {
    fn check(&mut self, passed: bool, what: impl AsRef<str>) {
        if passed {
            println!("ok    {}", what.as_ref());
        } else {
            self.failed += 1;
            println!("FAIL  {}", what.as_ref());
        }
    }
}

/// A head as the API returns it.
struct Head {
    tree_size: u64,
    tree_origin: TreeOrigin,
    root: Hash,
    timestamp: DateTime<Utc>,
    key_id: String,
    signature: Vec<u8>,
}

/// Runs the checks; `Ok(true)` if every one passed. Errors are unreadable
/// files, not failed checks.
pub(super) async fn run(args: VerifyArgs) -> anyhow::Result<bool> {
    let keys = read_keys(&args.keys)?;
    let (events, manifest) = match &args.export {
        Some(path) => read_export(path)?,
        None => (Vec::new(), None),
    };
    let tenant_id = match (
        args.tenant_id,
        manifest.as_ref().and_then(|m| m.get("tenantId")),
    ) {
        (Some(id), _) => id,
        (None, Some(Value::String(id))) => id
            .parse()
            .context("the manifest's tenantId is not a UUID")?,
        _ => anyhow::bail!("--tenant-id is needed (the export names no tenantId)"),
    };
    let head = match (
        &args.head,
        manifest.as_ref().and_then(|m| m.get("treeHead")),
    ) {
        (Some(path), _) => read_head(path)?,
        (None, Some(head)) if !head.is_null() => {
            parse_head(head).context("the manifest's treeHead")?
        }
        _ => anyhow::bail!("--head is needed (the export's manifest names no treeHead)"),
    };
    let mut report = Report { failed: 0 };
    check_signature(&mut report, &keys, tenant_id, &head, "head");
    let mut uncovered = 0;
    if args.export.is_some() {
        uncovered = check_events(&mut report, &events, &head, args.allow_gaps);
    }
    if let (Some(old), Some(proof)) = (&args.old_head, &args.consistency) {
        let old = read_head(old)?;
        check_signature(&mut report, &keys, tenant_id, &old, "old head");
        report.check(
            old.tree_origin == head.tree_origin,
            format!(
                "both heads are of the tree of origin {} (old head: {})",
                head.tree_origin.0, old.tree_origin.0
            ),
        );
        let proof = read_json(proof)?;
        let path = hashes(proof.get("path")).context("the consistency proof's path")?;
        let sizes_match = proof.get("fromSize").and_then(Value::as_u64) == Some(old.tree_size)
            && proof.get("toSize").and_then(Value::as_u64) == Some(head.tree_size);
        report.check(
            sizes_match,
            "the consistency proof is between the two heads' sizes",
        );
        report.check(
            merkle::verify_consistency(old.tree_size, head.tree_size, &old.root, &head.root, &path),
            format!(
                "the tree of {} is a prefix of the tree of {} (consistency proof)",
                old.tree_size, head.tree_size
            ),
        );
    }
    let not_covered = match uncovered {
        0 => String::new(),
        n => format!(" ({n} event(s) predate the tree and are not covered)"),
    };
    println!(
        "{}",
        if report.failed == 0 {
            format!("verified{not_covered}")
        } else {
            format!("{} check(s) failed{not_covered}", report.failed)
        }
    );
    Ok(report.failed == 0)
}

fn check_signature(
    report: &mut Report,
    keys: &[PublicKey],
    tenant_id: Uuid,
    head: &Head,
    name: &str,
) {
    let signed = signed_bytes(
        tenant_id,
        head.tree_origin,
        head.tree_size,
        &head.root,
        head.timestamp,
    )
    .unwrap_or_default();
    let origin = match head.tree_origin.0 {
        0 => String::new(),
        origin => format!(", origin {origin}"),
    };
    report.check(
        verify_head(keys, &head.key_id, &signed, &head.signature),
        format!(
            "{name} (size {}{origin}) is signed by key {} for tenant {tenant_id}",
            head.tree_size, head.key_id
        ),
    );
}

/// Checks the events against `head`; how many predate its tree (not covered).
fn check_events(report: &mut Report, events: &[Value], head: &Head, allow_gaps: bool) -> usize {
    let origin = head.tree_origin;
    let mut uncovered = 0;
    let mut readable = true;
    let mut leaves = Vec::with_capacity(events.len());
    let mut previous: Option<u64> = None;
    let mut in_order = true;
    for (line, event) in events.iter().enumerate() {
        // An unreadable sequence fails: it must not pass for one before the tree.
        let sequence = match export_leaf::sequence(event) {
            Ok(sequence) => sequence,
            Err(reason) => {
                readable = false;
                report.check(false, format!("event {} is readable ({reason})", line + 1));
                continue;
            }
        };
        if let Some(previous) = previous.filter(|p| sequence != p + 1) {
            in_order = false;
            let what = format!(
                "event {} (sequence {sequence}) follows sequence {previous} without a gap",
                line + 1
            );
            if allow_gaps && sequence > previous {
                println!(
                    "note  {what}: {} missing (--allow-gaps)",
                    sequence - previous - 1
                );
            } else {
                report.check(false, what);
            }
        }
        previous = Some(sequence);
        let Some(leaf_index) = origin.leaf_index(sequence) else {
            uncovered += 1;
            continue;
        };
        match export_leaf::leaf_bytes(event) {
            Ok(bytes) => leaves.push((sequence, leaf_index, merkle::leaf_hash(&bytes), event)),
            Err(reason) => {
                readable = false;
                report.check(false, format!("event {} is readable ({reason})", line + 1))
            }
        }
    }
    if uncovered > 0 {
        println!(
            "note  {uncovered} event(s) with sequence ≤ {} predate the tree: no head covers them, \
             they are not verified",
            origin.0
        );
    }
    let complete = in_order
        && readable
        && leaves.first().is_some_and(|(_, leaf, _, _)| *leaf == 0)
        && leaves.len() as u64 == head.tree_size;
    if complete {
        let hashes: Vec<Hash> = leaves.iter().map(|(_, _, hash, _)| *hash).collect();
        report.check(
            merkle::root_of_leaves(&hashes) == head.root,
            format!("the {} events recompute the head's root", leaves.len()),
        );
        return uncovered;
    }
    for (sequence, leaf_index, leaf, event) in &leaves {
        let proof = event.get("inclusionProof").filter(|p| !p.is_null());
        let verified = proof.is_some_and(|proof| {
            let path = hashes(proof.get("auditPath")).unwrap_or_default();
            proof.get("treeSize").and_then(Value::as_u64) == Some(head.tree_size)
                && merkle::verify_inclusion(*leaf_index, head.tree_size, leaf, &path, &head.root)
        });
        report.check(
            verified,
            format!(
                "event {sequence} is in the head's tree (inclusion proof{})",
                if proof.is_none() { " missing" } else { "" }
            ),
        );
    }
    uncovered
}

fn read_keys(path: &Path) -> anyhow::Result<Vec<PublicKey>> {
    let jwks = read_json(path)?;
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .context("the JWKS has no keys")?;
    keys.iter()
        .map(|key| {
            let x = key
                .get("x")
                .and_then(Value::as_str)
                .context("a JWK has no x")?;
            anyhow::ensure!(
                key.get("kty").and_then(Value::as_str) == Some("OKP"),
                "a JWK is not OKP"
            );
            anyhow::ensure!(
                key.get("crv").and_then(Value::as_str) == Some("Ed25519"),
                "a JWK is not Ed25519"
            );
            PublicKey::from_x(x).map_err(|error| anyhow::anyhow!("{error}"))
        })
        .collect()
}

fn read_head(path: &Path) -> anyhow::Result<Head> {
    let value = read_json(path)?;
    let head = value.pointer("/data/auditLogTreeHead").unwrap_or(&value);
    parse_head(head).with_context(|| format!("{}", path.display()))
}

/// A head as the API returns it (`auditLogTreeHead`, a manifest's `treeHead`).
fn parse_head(head: &Value) -> anyhow::Result<Head> {
    let field = |name: &str| head.get(name).with_context(|| format!("no {name}"));
    let signature = field("signature")?
        .as_str()
        .context("signature is not a string")?;
    // Absent: a head of a tree from sequence 1 (origin 0).
    let tree_origin = match head.get("treeOrigin") {
        None | Some(Value::Null) => 0,
        Some(origin) => origin.as_u64().context("treeOrigin is not a number")?,
    };
    Ok(Head {
        tree_size: field("treeSize")?
            .as_u64()
            .context("treeSize is not a number")?,
        tree_origin: TreeOrigin(tree_origin),
        root: hash(field("rootHash")?).context("rootHash")?,
        timestamp: DateTime::parse_from_rfc3339(field("timestamp")?.as_str().context("timestamp")?)
            .context("timestamp is not RFC 3339")?
            .to_utc(),
        key_id: field("keyId")?.as_str().context("keyId")?.to_owned(),
        signature: URL_SAFE_NO_PAD
            .decode(signature)
            .context("signature is not base64url")?,
    })
}

/// The events and the manifest of an NDJSON export, or a JSON array of events.
fn read_export(path: &Path) -> anyhow::Result<(Vec<Value>, Option<Value>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if text.trim_start().starts_with('[') {
        let events: Vec<Value> =
            serde_json::from_str(&text).context("the export is not a JSON array")?;
        return Ok((events, None));
    }
    let mut events = Vec::new();
    let mut manifest = None;
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: Value = serde_json::from_str(line)
            .with_context(|| format!("line {} is not JSON", number + 1))?;
        match value.get("manifest") {
            Some(found) => manifest = Some(found.clone()),
            None => events.push(value),
        }
    }
    Ok((events, manifest))
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn hash(value: &Value) -> anyhow::Result<Hash> {
    let bytes = hex::decode(value.as_str().context("not a string")?).context("not hex")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("not 32 bytes"))
}

fn hashes(value: Option<&Value>) -> anyhow::Result<Vec<Hash>> {
    value
        .and_then(Value::as_array)
        .context("not an array")?
        .iter()
        .map(hash)
        .collect()
}
