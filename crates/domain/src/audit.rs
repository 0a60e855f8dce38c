//! The audit log's hash chain. Each row's hash covers a format version, its chain and
//! position, its content and the previous row's hash, so editing, removing or reordering a
//! row breaks every later link.

use sha2::{Digest, Sha256};

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const FORMAT_VERSION: u8 = 1;

/// The content of one audit row, as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContent<'a> {
    pub chain: &'a str,
    pub seq: i64,
    pub at_micros: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
}

fn field(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// The canonical bytes of a row: a version byte, then each field length-prefixed in a fixed
/// order. Never a serialised map, whose order could change.
pub fn canonical_bytes(c: &AuditContent<'_>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64 + c.detail.len());
    buf.push(FORMAT_VERSION);
    field(&mut buf, c.chain.as_bytes());
    buf.extend_from_slice(&c.seq.to_be_bytes());
    buf.extend_from_slice(&c.at_micros.to_be_bytes());
    field(&mut buf, c.actor.as_bytes());
    field(&mut buf, c.action.as_bytes());
    field(&mut buf, c.subject.as_bytes());
    field(&mut buf, c.detail.as_bytes());
    buf
}

/// `hex(SHA-256(prev_hash ‖ canonical_bytes(content)))`.
pub fn chain_hash(prev_hash: &str, content: &AuditContent<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical_bytes(content));
    hex::encode(h.finalize())
}

/// SHA-256 of a secret (API tokens, session ids), hex-encoded.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The content of one timeline entry, as its digest covers it: the columns exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryContent<'a> {
    pub case_id: i64,
    pub seq: i64,
    pub entry_type: &'a str,
    pub body: &'a str,
    pub visibility: &'a str,
    /// The stored JSON text, byte for byte.
    pub data: &'a str,
    pub author_id: Option<i64>,
    pub at_micros: i64,
}

const ENTRY_FORMAT: u8 = 1;
const CASE_FORMAT: u8 = 1;

fn opt_int(buf: &mut Vec<u8>, v: Option<i64>) {
    match v {
        None => buf.push(0),
        Some(i) => {
            buf.push(1);
            buf.extend_from_slice(&i.to_be_bytes());
        }
    }
}

/// `hex(SHA-256(canonical bytes))` of a timeline entry: a format byte, then each column
/// length-prefixed in a fixed order. An audit row that writes an entry carries this digest, so
/// an entry edited in the database no longer matches it.
pub fn entry_digest(e: &EntryContent<'_>) -> String {
    let mut buf = Vec::with_capacity(96 + e.body.len() + e.data.len());
    buf.push(ENTRY_FORMAT);
    buf.extend_from_slice(&e.case_id.to_be_bytes());
    buf.extend_from_slice(&e.seq.to_be_bytes());
    field(&mut buf, e.entry_type.as_bytes());
    field(&mut buf, e.body.as_bytes());
    field(&mut buf, e.visibility.as_bytes());
    field(&mut buf, e.data.as_bytes());
    opt_int(&mut buf, e.author_id);
    buf.extend_from_slice(&e.at_micros.to_be_bytes());
    hex::encode(Sha256::digest(&buf))
}

/// One audited column of a case row: its name and its value as text (`None` for NULL).
pub type CaseField<'a> = (&'a str, Option<&'a str>);

fn case_field_bytes(buf: &mut Vec<u8>, (name, value): &CaseField<'_>) {
    field(buf, name.as_bytes());
    match value {
        None => buf.push(0),
        Some(v) => {
            buf.push(1);
            field(buf, v.as_bytes());
        }
    }
}

/// The digest of a case row's audited columns, in the order given, and a short digest of each
/// column (16 hex digits), so that a mismatch can be traced to the columns that differ without
/// the audit log holding their values.
pub fn case_digest(fields: &[CaseField<'_>]) -> (String, Vec<(String, String)>) {
    let mut all = vec![CASE_FORMAT];
    let mut each = Vec::with_capacity(fields.len());
    for f in fields {
        case_field_bytes(&mut all, f);
        let mut one = vec![CASE_FORMAT];
        case_field_bytes(&mut one, f);
        let short = hex::encode(&Sha256::digest(&one)[..8]);
        each.push((f.0.to_string(), short));
    }
    (hex::encode(Sha256::digest(&all)), each)
}

/// The head of one chain at some moment: its last position and that row's hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainHead {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// What a checkpoint document says it is.
pub const CHECKPOINT_FORMAT: &str = "redress-audit-checkpoint/1";

/// A record of every chain head, kept outside the database (a printed report, a mail to the
/// auditors, a file elsewhere). Rows removed from the end of a chain, or a chain recomputed
/// after an edit, no longer reach the heads it records. `digest` covers the heads; `mac`,
/// when the office has a checkpoint key, is an HMAC-SHA256 of the same bytes under that key,
/// so that a checkpoint cannot be forged by someone who can write the database alone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub created_at: jiff::Timestamp,
    pub chains: Vec<ChainHead>,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// Why a checkpoint document cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a Redress audit checkpoint (format {0:?})")]
    Format(String),
    #[error("the checkpoint's digest does not match its chains (the file was altered)")]
    Digest,
    #[error(
        "the checkpoint carries no authentication code but a checkpoint key is configured (it could be forged)"
    )]
    Unsigned,
    #[error("the checkpoint carries an authentication code but no checkpoint key is configured")]
    NoKey,
    #[error(
        "the checkpoint's authentication code does not match (altered, or made with another key)"
    )]
    Mac,
}

fn checkpoint_bytes(created_at: jiff::Timestamp, chains: &[ChainHead]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(16 + chains.len() * 110);
    field(&mut buf, CHECKPOINT_FORMAT.as_bytes());
    buf.extend_from_slice(&created_at.as_microsecond().to_be_bytes());
    buf.extend_from_slice(&(chains.len() as u64).to_be_bytes());
    for c in chains {
        field(&mut buf, c.chain.as_bytes());
        buf.extend_from_slice(&c.seq.to_be_bytes());
        field(&mut buf, c.hash.as_bytes());
    }
    buf
}

fn checkpoint_mac(key: &[u8], bytes: &[u8]) -> Result<hmac::Hmac<Sha256>, CheckpointError> {
    use hmac::Mac;
    // HMAC takes keys of any length; the error cannot happen.
    let mut mac =
        <hmac::Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| CheckpointError::Mac)?;
    mac.update(bytes);
    Ok(mac)
}

impl Checkpoint {
    /// A checkpoint of these heads, authenticated with `key` when there is one.
    pub fn new(
        created_at: jiff::Timestamp,
        mut chains: Vec<ChainHead>,
        key: Option<&[u8]>,
    ) -> Checkpoint {
        use hmac::Mac;
        chains.sort_by(|a, b| a.chain.cmp(&b.chain));
        let bytes = checkpoint_bytes(created_at, &chains);
        Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            created_at,
            digest: hex::encode(Sha256::digest(&bytes)),
            mac: key
                .and_then(|k| checkpoint_mac(k, &bytes).ok())
                .map(|m| hex::encode(m.finalize().into_bytes())),
            chains,
        }
    }

    /// Checks the document itself: its format, its digest and, with a key, its
    /// authentication code (a key configured makes the code required).
    pub fn check(&self, key: Option<&[u8]>) -> Result<(), CheckpointError> {
        use hmac::Mac;
        if self.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::Format(self.format.clone()));
        }
        let bytes = checkpoint_bytes(self.created_at, &self.chains);
        if hex::encode(Sha256::digest(&bytes)) != self.digest {
            return Err(CheckpointError::Digest);
        }
        match (key, &self.mac) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(CheckpointError::NoKey),
            (Some(_), None) => Err(CheckpointError::Unsigned),
            (Some(k), Some(m)) => {
                let given = hex::decode(m).map_err(|_| CheckpointError::Mac)?;
                checkpoint_mac(k, &bytes)?
                    .verify_slice(&given)
                    .map_err(|_| CheckpointError::Mac)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(detail: &str) -> AuditContent<'_> {
        AuditContent {
            chain: "case:NYC-2026-000001",
            seq: 1,
            at_micros: 42,
            actor: "ana",
            action: "case.create",
            subject: "NYC-2026-000001",
            detail,
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = chain_hash(GENESIS, &sample("{}"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, chain_hash(GENESIS, &sample("{ }")));
        assert_ne!(a, chain_hash(&a, &sample("{}")));
        assert_eq!(a, chain_hash(GENESIS, &sample("{}")));
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let x = AuditContent {
            actor: "ab",
            action: "c",
            ..sample("")
        };
        let y = AuditContent {
            actor: "a",
            action: "bc",
            ..sample("")
        };
        assert_ne!(canonical_bytes(&x), canonical_bytes(&y));
    }

    fn entry(body: &str) -> EntryContent<'_> {
        EntryContent {
            case_id: 7,
            seq: 2,
            entry_type: "note",
            body,
            visibility: "internal",
            data: "{}",
            author_id: Some(3),
            at_micros: 42,
        }
    }

    #[test]
    fn entry_digest_covers_every_column() {
        let a = entry_digest(&entry("hello"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, entry_digest(&entry("hello!")));
        assert_ne!(
            a,
            entry_digest(&EntryContent {
                author_id: None,
                ..entry("hello")
            })
        );
        assert_ne!(
            a,
            entry_digest(&EntryContent {
                visibility: "consumer",
                ..entry("hello")
            })
        );
    }

    #[test]
    fn case_digest_names_each_column() {
        let (a, each) = case_digest(&[("priority", Some("high")), ("closed_at", None)]);
        let (b, each2) = case_digest(&[("priority", Some("low")), ("closed_at", None)]);
        assert_ne!(a, b);
        assert_ne!(each[0], each2[0]);
        assert_eq!(each[1], each2[1]);
        let (c, _) = case_digest(&[("priority", Some("high")), ("closed_at", Some(""))]);
        assert_ne!(a, c, "NULL and empty differ");
    }

    #[test]
    fn checkpoints_are_authenticated() {
        let heads = vec![
            ChainHead {
                chain: "user:ana".into(),
                seq: 2,
                hash: "b".repeat(64),
            },
            ChainHead {
                chain: "case:NYC-2026-000001".into(),
                seq: 3,
                hash: "a".repeat(64),
            },
        ];
        let at: jiff::Timestamp = "2026-03-09T14:30:00Z".parse().unwrap();
        let cp = Checkpoint::new(at, heads.clone(), Some(b"secret"));
        assert_eq!(cp.chains[0].chain, "case:NYC-2026-000001", "sorted");
        assert_eq!(cp.check(Some(b"secret")), Ok(()));
        assert_eq!(cp.check(Some(b"other")), Err(CheckpointError::Mac));
        assert_eq!(cp.check(None), Err(CheckpointError::NoKey));
        let text = serde_json::to_string(&cp).unwrap();
        let back: Checkpoint = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cp);
        let mut forged = cp.clone();
        forged.chains[0].seq = 1;
        assert_eq!(forged.check(Some(b"secret")), Err(CheckpointError::Digest));
        let unsigned = Checkpoint::new(at, heads, None);
        assert_eq!(unsigned.check(None), Ok(()));
        assert_eq!(
            unsigned.check(Some(b"secret")),
            Err(CheckpointError::Unsigned)
        );
    }
}
