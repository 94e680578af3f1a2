//! Results: one [`Row`] per system and scenario, one [`Goal`] per line of the
//! issue's goals table, printed as a table and written to `BENCHMARKS.md` with
//! the machine description.

use std::fmt::Write;

use super::stats::Summary;

/// One system measured in one scenario.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub scenario: &'static str,
    pub system: String,
    /// Unit of `summary.rate` (`events/s`, `pages/s`, …).
    pub unit: &'static str,
    pub summary: Summary,
    /// Ratio against the baseline of the same run, already worded (`0.61× COPY`).
    pub ratio: String,
}

/// Pushes a system's row and the row of the baseline it is measured against in
/// the same runs: `(system, its summary, how its ratio names the baseline)`, then
/// `(baseline, its summary)`; the system's ratio reads `0.61× COPY`.
pub(crate) fn push_versus(
    rows: &mut Vec<Row>,
    scenario: &'static str,
    unit: &'static str,
    (system, summary, against): (&str, &Summary, &str),
    (baseline, baseline_summary): (&str, &Summary),
) {
    rows.push(Row {
        scenario,
        system: system.into(),
        unit,
        ratio: format!("{:.2}× {against}", summary.rate / baseline_summary.rate),
        summary: summary.clone(),
    });
    rows.push(Row {
        scenario,
        system: baseline.into(),
        unit,
        ratio: "baseline".into(),
        summary: baseline_summary.clone(),
    });
}

/// The status of one goal of the issue.
#[derive(Clone, Debug)]
pub(crate) struct Goal {
    pub scenario: &'static str,
    pub goal: String,
    pub measured: String,
    /// `met`, `missed by …`, or `not run: …`.
    pub status: String,
}

impl Goal {
    /// A goal "`value` at least `target`" (`higher` better) or at most `target`.
    pub(crate) fn check(
        scenario: &'static str,
        goal: impl Into<String>,
        value: f64,
        target: f64,
        higher_is_better: bool,
        shown: impl Into<String>,
    ) -> Goal {
        let met = if higher_is_better {
            value >= target
        } else {
            value <= target
        };
        let status = if met {
            "met".to_owned()
        } else if higher_is_better {
            format!("missed by {:.0} %", (1.0 - value / target) * 100.0)
        } else {
            format!("missed by {:.0} %", (value / target - 1.0) * 100.0)
        };
        Goal {
            scenario,
            goal: goal.into(),
            measured: shown.into(),
            status,
        }
    }

    /// A goal "at least `target` (a fraction) of the baseline's rate", shown in
    /// per cent.
    pub(crate) fn share_of(
        scenario: &'static str,
        goal: impl Into<String>,
        service: &Summary,
        baseline: &Summary,
        target: f64,
    ) -> Goal {
        let share = service.rate / baseline.rate;
        Goal::check(
            scenario,
            goal,
            share,
            target,
            true,
            format!("{:.0} %", share * 100.0),
        )
    }

    pub(crate) fn not_run(scenario: &'static str, goal: impl Into<String>, reason: &str) -> Goal {
        Goal {
            scenario,
            goal: goal.into(),
            measured: "—".into(),
            status: format!("not run: {reason}"),
        }
    }
}

/// The results table as Markdown.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | system | median rate | p50 latency | p99 latency | runs | ratio (same run) |\n\
         |---|---|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let ms = |value: f64| {
            if value.is_nan() {
                "—".to_owned()
            } else {
                format!("{value:.2} ms")
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} {} | {} | {} | {} | {} |",
            row.scenario,
            row.system,
            row.summary.rate,
            row.unit,
            ms(row.summary.p50_ms),
            ms(row.summary.p99_ms),
            row.summary.runs,
            row.ratio
        );
    }
    out
}

pub(crate) fn goals_table(goals: &[Goal]) -> String {
    let mut out = String::from("| scenario | goal | measured | status |\n|---|---|---|---|\n");
    for goal in goals {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            goal.scenario, goal.goal, goal.measured, goal.status
        );
    }
    out
}
