//! `lambda metrics`: the Sum of Duration, Errors, Invocations and Throttles over the last 24 h
//! from CloudWatch (namespace `AWS/Lambda`, dimension `FunctionName`), as gcdt's ramuda showed them.

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use comfy_table::Table;
use fink_aws::Explained;
use fink_plugin_api::{outln, Result};

/// The metrics shown, in gcdt's order.
const METRICS: &[&str] = &["Duration", "Errors", "Invocations", "Throttles"];

/// The period summed over, in seconds.
const PERIOD: i32 = 24 * 3600;

pub async fn metrics(config: &SdkConfig, name: &str) -> Result<()> {
    crate::wire::require_function(&aws_sdk_lambda::Client::new(config), name).await?;
    let client = aws_sdk_cloudwatch::Client::new(config);
    let end = chrono::Utc::now().timestamp();
    let start = end - i64::from(PERIOD);
    let queries: Vec<MetricDataQuery> = METRICS.iter().enumerate().map(|(i, metric)| query(i, metric, name)).collect();
    let mut sums = vec![0.0_f64; METRICS.len()];
    let mut token = None;
    loop {
        let out = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .set_next_token(token)
            .send()
            .await
            .explained()?;
        for result in out.metric_data_results() {
            let index = result.id().and_then(|id| id.strip_prefix('m')).and_then(|i| i.parse::<usize>().ok());
            if let Some(sum) = index.and_then(|i| sums.get_mut(i)) {
                *sum += result.values().iter().sum::<f64>();
            }
        }
        token = out.next_token().filter(|t| !t.is_empty()).map(String::from);
        if token.is_none() {
            break;
        }
    }
    outln!("function '{name}', Sum over the last 24 h:");
    let mut table = Table::new();
    table.set_header(["Metric", "Sum"]);
    for (metric, sum) in METRICS.iter().zip(&sums) {
        table.add_row([metric.to_string(), format_value(*sum)]);
    }
    outln!("{table}");
    Ok(())
}

fn query(index: usize, metric: &str, function: &str) -> MetricDataQuery {
    let dimension = Dimension::builder().name("FunctionName").value(function).build();
    let metric = Metric::builder().namespace("AWS/Lambda").metric_name(metric).dimensions(dimension).build();
    let stat = MetricStat::builder().metric(metric).period(PERIOD).stat("Sum").build();
    MetricDataQuery::builder().id(format!("m{index}")).metric_stat(stat).return_data(true).build()
}

/// Whole numbers without decimals (counts), others with two.
fn format_value(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_plainly() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(7.0), "7");
        assert_eq!(format_value(12.345), "12.35");
    }
}
