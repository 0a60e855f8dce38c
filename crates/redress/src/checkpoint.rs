//! Audit checkpoints: every chain head, taken at one instant, written where the database's
//! administrators cannot reach (a printed report, a mail to the auditors, a file elsewhere),
//! so that `audit verify --checkpoint` can tell a truncated or recomputed chain.

use anyhow::Context;
use redress_domain::Clock;
use redress_domain::audit::Checkpoint;
use redress_store::{Actor, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Reads every chain head and records in the log that a checkpoint was taken (the row lands
/// after the heads it lists).
pub async fn take(
    store: &dyn Store,
    actor: &Actor,
    key: Option<&[u8]>,
    at: jiff::Timestamp,
) -> anyhow::Result<Checkpoint> {
    let heads = store
        .audit_heads()
        .await
        .context("reading the chain heads")?;
    let checkpoint = Checkpoint::new(at, heads, key);
    let detail = serde_json::json!({
        "digest": checkpoint.digest,
        "chains": checkpoint.chains.len(),
        "authenticated": checkpoint.mac.is_some(),
    });
    store
        .audit(
            actor,
            "audit",
            "audit.checkpoint",
            "audit",
            &detail.to_string(),
            at,
        )
        .await?;
    Ok(checkpoint)
}

/// `audit-checkpoint-YYYYMMDDTHHMMSSZ.json`, in UTC.
pub fn file_name(at: jiff::Timestamp) -> String {
    format!("audit-checkpoint-{}.json", at.strftime("%Y%m%dT%H%M%SZ"))
}

/// Whether `dir` already holds a checkpoint taken on the UTC day of `at`.
fn taken_on_day(dir: &Path, at: jiff::Timestamp) -> bool {
    let prefix = format!("audit-checkpoint-{}", at.strftime("%Y%m%d"));
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        })
        .unwrap_or(false)
}

/// Writes a checkpoint into `dir` (created if missing) under its file name; the file appears
/// whole or not at all.
pub fn write(dir: &Path, checkpoint: &Checkpoint) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(file_name(checkpoint.created_at));
    let partial = path.with_extension("json.partial");
    let text = serde_json::to_string_pretty(checkpoint)? + "\n";
    std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Reads a checkpoint file.
pub fn read(path: &Path) -> anyhow::Result<Checkpoint> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not an audit checkpoint", path.display()))
}

/// Writes a checkpoint into `dir` once a day (UTC), checking every hour; the first at start
/// unless one was written today already. Each is recorded in the audit log and logged.
pub fn spawn_daily(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    dir: PathBuf,
    key: Option<Vec<u8>>,
) {
    if key.is_none() {
        tracing::warn!(
            "no audit_checkpoint_key is set: daily audit checkpoints carry a digest but no authentication code"
        );
    }
    tokio::spawn(async move {
        loop {
            let now = clock.now();
            if !taken_on_day(&dir, now) {
                let written =
                    match take(store.as_ref(), &Actor::system(), key.as_deref(), now).await {
                        Ok(c) => write(&dir, &c).map(|p| (p, c)),
                        Err(e) => Err(e),
                    };
                match written {
                    Ok((path, c)) => tracing::info!(
                        path = %path.display(),
                        chains = c.chains.len(),
                        digest = %c.digest,
                        "audit checkpoint written"
                    ),
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "audit checkpoint"),
                }
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_a_day() {
        let at: jiff::Timestamp = "2026-03-09T14:30:05Z".parse().unwrap();
        assert_eq!(file_name(at), "audit-checkpoint-20260309T143005Z.json");
        let dir = std::env::temp_dir().join(format!("redress-cp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!taken_on_day(&dir, at));
        let path = write(
            &dir,
            &Checkpoint::new(at, vec![], Some(b"0123456789abcdef")),
        )
        .unwrap();
        assert!(taken_on_day(&dir, at));
        assert!(!taken_on_day(&dir, "2026-03-10T00:00:01Z".parse().unwrap()));
        let back = read(&path).unwrap();
        assert_eq!(back.check(Some(b"0123456789abcdef")), Ok(()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
