//! Reading Prometheus text exposition (`/metrics`) in assertions.

/// The value of the sample whose series (name and labels, exactly as rendered,
/// e.g. `auditlog_purge_passes_total{outcome="completed"}`) is `series`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
}

/// Every series whose name starts with `prefix` (for failure messages).
pub fn series_starting_with<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .collect()
}
