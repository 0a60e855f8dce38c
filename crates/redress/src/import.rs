//! `redress import csv`: another system's complaint file into cases, through a mapping, with a
//! progress bar on a terminal and refused rows written to an errors file.

use anyhow::Context;
use redress_app::App;
use redress_app::import::{ImportFile, RowProblem};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Where refused rows go unless `--errors` says: `NAME.errors.csv` in the working directory (the
/// file being read may be on read-only media).
fn default_errors_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "import".into());
    PathBuf::from(format!("{name}.errors.csv"))
}

/// A progress bar over the file's bytes, drawn only on a terminal and never in CI.
fn progress_bar(size: Option<u64>) -> indicatif::ProgressBar {
    let quiet = std::env::var_os("CI").is_some();
    let bar = match size {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::no_length(),
    };
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Runs the import of a file already opened (its mapping bound); returns the exit code (0 when it ran, whatever rows were refused).
pub async fn csv(
    app: &App,
    file: &Path,
    opened: ImportFile,
    errors: Option<PathBuf>,
) -> anyhow::Result<i32> {
    let errors_path = errors.unwrap_or_else(|| default_errors_path(file));
    let bar = progress_bar(opened.size);
    let bytes = opened.bytes_read.clone();
    let mut problems: Vec<RowProblem> = Vec::new();
    let started = std::time::Instant::now();
    let summary = {
        let bar = bar.clone();
        app.import_file(
            opened,
            &mut |p: &RowProblem| problems.push(p.clone()),
            &mut move |rows| {
                bar.set_position(bytes.load(Ordering::Relaxed));
                bar.set_message(format!("{rows} rows"));
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    if !problems.is_empty() {
        let mut w = csv::Writer::from_path(&errors_path)
            .with_context(|| format!("writing {}", errors_path.display()))?;
        w.write_record(["row", "line", "reason"])?;
        for p in &problems {
            w.write_record([p.row.to_string(), p.line.to_string(), p.reason.clone()])?;
        }
        w.flush()?;
    }
    println!(
        "{}: {} rows read in {secs:.1} s; {} cases added, {} imported before (unchanged), {} refused; {} companies added.",
        file.display(),
        summary.rows,
        summary.added,
        summary.already,
        summary.refused,
        summary.companies_added,
    );
    if !problems.is_empty() {
        println!(
            "Refused rows, with their row number and reason: {}",
            errors_path.display()
        );
    }
    Ok(0)
}
