//! `testLogStream`: one synthetic delivery, sent now and recorded (with
//! `test` set), which moves no cursor and changes no state: it tells an admin
//! whether the receiver is reachable and accepts our signature or token.

use entity::domain::clock;
use entity::domain::log_stream::{DeliveryStatus, StreamKind};
use entity::log_streams;
use entity::store::log_streams::NewDelivery;
use url::Url;
use uuid::Uuid;

use super::batch;
use super::deliver::{Deliverer, failure_text};
use super::http::{Exchange, Verdict};

impl Deliverer {
    /// Sends the test delivery of `row`; what to record.
    pub async fn test_delivery(&self, row: &log_streams::Model) -> NewDelivery {
        let delivery_id = Uuid::now_v7();
        // Loads the key if nothing did yet (a failure shows in the exchange).
        let _ = self.secrets.get().await;
        let exchange = match self.test_request(row, delivery_id) {
            Ok((url, headers, body)) => self.sender.post(&url, headers, body).await,
            Err(detail) => Exchange {
                status: None,
                retry_after: None,
                detail: Some(detail),
                latency: std::time::Duration::ZERO,
            },
        };
        let delivered = Verdict::of(&exchange) == Verdict::Delivered;
        NewDelivery {
            stream_id: row.id,
            delivery_id,
            test: true,
            status: if delivered {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            },
            first_sequence: row.delivered_through,
            last_sequence: row.delivered_through,
            event_count: 0,
            attempt: 1,
            response_status: exchange.status.map(i32::from),
            latency_ms: i64::try_from(exchange.latency.as_millis()).unwrap_or(i64::MAX),
            error: (!delivered).then(|| failure_text(&exchange)),
        }
    }

    fn test_request(
        &self,
        row: &log_streams::Model,
        delivery_id: Uuid,
    ) -> Result<(Url, reqwest::header::HeaderMap, Vec<u8>), String> {
        let now = clock::now();
        match StreamKind::from_db(&row.kind).ok_or("unknown stream kind")? {
            StreamKind::Webhook => {
                let body = batch::webhook_test_body(row.tenant_id, row.id, now);
                let url = Url::parse(&row.url).map_err(|error| error.to_string())?;
                let headers = self.webhook_headers(row, delivery_id, now, &body)?;
                Ok((url, headers, body))
            }
            StreamKind::SplunkHec => {
                let body = batch::splunk_test_body(row.tenant_id, &self.splunk_fields(row), now);
                let (url, headers) = self.splunk_request(row, delivery_id)?;
                Ok((url, headers, body))
            }
        }
    }

    /// The box destination secrets are sealed with (the API seals new ones).
    pub async fn secrets(&self) -> Result<&super::SecretBox, super::SecretError> {
        self.secrets.get().await
    }

    /// Whether `url` passes the outbound rules' scheme and literal-address checks.
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        self.sender.check_url(url)
    }
}

impl Deliverer {
    /// [`Self::check_url`], then the host's addresses: refused when they
    /// are all not public (unless private targets are allowed). A name that
    /// does not resolve now passes: the check repeats at every delivery.
    pub async fn check_destination(&self, url: &Url) -> Result<(), String> {
        self.sender.check_url(url)?;
        self.sender.check_resolved(url).await
    }
}
