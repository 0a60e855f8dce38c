//! Charts as SVG, drawn by hand: bars, lines and rankings with their axis, labels and legend.
//! Each chart is an image with a title and a description for screen readers; the table beside
//! it carries every number.

use super::{Chart, ChartKind};

/// Two colours with at least 3:1 contrast against white and against each other's meaning
/// (the legend names them; lines also differ by dash).
const COLOURS: &[&str] = &["#1f5fa8", "#a64b00", "#2e7d32"];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 64.0;
const TOP: f64 = 28.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round maximum for the axis (1, 2 or 5 times a power of ten).
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= max {
            return m * p;
        }
    }
    10.0 * p
}

fn short(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The chart as an SVG element. `title` and `description` are read out; `series_names` are the
/// legend's words for each series (translated by the caller).
pub fn svg(chart: &Chart, title: &str, description: &str, series_names: &[String]) -> String {
    if chart.kind == ChartKind::Ranking {
        return ranking(chart, title, description);
    }
    let n = chart.labels.len().max(1);
    let max = nice_max(
        chart
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max),
    );
    let plot_w = WIDTH - LEFT - 12.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h - (v / max) * plot_h;
    let slot = plot_w / n as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"chart-title chart-desc\">\
         <title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
        esc(title),
        esc(description)
    );
    // Grid and axis labels.
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d0d0d0\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">{}</text>",
            WIDTH - 12.0,
            LEFT - 6.0,
            y(v) + 4.0,
            short(v),
            y = y(v)
        ));
    }
    let every = (n / 12).max(1);
    for (i, label) in chart.labels.iter().enumerate() {
        if i % every == 0 {
            let x = LEFT + slot * (i as f64 + 0.5);
            out.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\" text-anchor=\"end\" transform=\"rotate(-40 {x:.1} {:.1})\">{}</text>",
                HEIGHT - BOTTOM + 16.0,
                HEIGHT - BOTTOM + 16.0,
                esc(label)
            ));
        }
    }
    let k = chart.series.len().max(1) as f64;
    for (s, series) in chart.series.iter().enumerate() {
        let colour = COLOURS[s % COLOURS.len()];
        match chart.kind {
            ChartKind::Bars => {
                let bar = (slot * 0.8) / k;
                for (i, v) in series.values.iter().enumerate() {
                    let x = LEFT + slot * i as f64 + slot * 0.1 + bar * s as f64;
                    out.push_str(&format!(
                        "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>",
                        y(*v),
                        bar.max(1.0),
                        (TOP + plot_h - y(*v)).max(0.0)
                    ));
                }
            }
            _ => {
                let points: Vec<String> = series
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("{:.1},{:.1}", LEFT + slot * (i as f64 + 0.5), y(*v)))
                    .collect();
                let dash = if s == 0 {
                    ""
                } else {
                    " stroke-dasharray=\"6 4\""
                };
                out.push_str(&format!(
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\"{dash}/>",
                    points.join(" ")
                ));
            }
        }
    }
    // Legend.
    let mut x = LEFT;
    for (s, name) in series_names.iter().enumerate().take(chart.series.len()) {
        let colour = COLOURS[s % COLOURS.len()];
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"16\" font-size=\"12\" fill=\"#222\">{}</text>",
            x + 16.0,
            esc(name)
        ));
        x += 30.0 + 7.0 * name.chars().count() as f64;
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one per label, with the value at the end of each.
fn ranking(chart: &Chart, title: &str, description: &str) -> String {
    let values = chart
        .series
        .first()
        .map(|s| s.values.as_slice())
        .unwrap_or(&[]);
    let n = chart.labels.len().max(1);
    let row = 22.0;
    let height = TOP + row * n as f64 + 12.0;
    let label_w = 260.0;
    let max = nice_max(values.iter().copied().fold(0.0, f64::max));
    let bar_w = WIDTH - label_w - 70.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"chart-title chart-desc\">\
         <title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
        esc(title),
        esc(description)
    );
    for (i, label) in chart.labels.iter().enumerate() {
        let v = values.get(i).copied().unwrap_or(0.0);
        let y = TOP + row * i as f64;
        let name: String = if label.chars().count() > 38 {
            format!("{}…", label.chars().take(37).collect::<String>())
        } else {
            label.clone()
        };
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">{}</text>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#222\">{}</text>",
            label_w - 8.0,
            y + 11.0,
            esc(&name),
            y,
            (v / max) * bar_w,
            COLOURS[0],
            label_w + (v / max) * bar_w + 6.0,
            y + 11.0,
            short((v * 10.0).round() / 10.0)
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::Series;

    #[test]
    fn a_chart_is_a_titled_image_with_its_labels_escaped() {
        let chart = Chart {
            kind: ChartKind::Bars,
            labels: vec!["2026-11-02".into(), "A&B <Co>".into()],
            series: vec![Series {
                key: "new".into(),
                values: vec![3.0, 7.0],
            }],
        };
        let svg = svg(&chart, "Workload", "New cases per day", &["New".into()]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains("role=\"img\"")
                && svg.contains("<title id=\"chart-title\">Workload</title>")
        );
        assert!(svg.contains("A&amp;B &lt;Co&gt;"));
        assert_eq!(svg.matches("<rect").count(), 3, "two bars and a legend key");
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(120.0), 200.0);
    }
}
