//! `redress export public-data`: the de-identified open data file.

use anyhow::Context;
use redress_app::App;
use redress_store::Actor;
use std::path::Path;

/// Writes the file through a temporary beside it, renamed into place when complete, so that a
/// reader never sees half a file.
pub async fn public_data(app: &App, out: &Path) -> anyhow::Result<i32> {
    let partial = out.with_extension("csv.partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let actor = Actor {
        user_id: None,
        username: "cli".into(),
    };
    let summary = app
        .export_public_data(&actor, std::io::BufWriter::new(file), &mut |_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::rename(&partial, out)
        .with_context(|| format!("moving the file into place at {}", out.display()))?;
    println!(
        "{}: {} cases, {} with the consumer's narrative (scrubbed; the consumer consented).",
        out.display(),
        summary.cases,
        summary.narratives
    );
    Ok(0)
}
