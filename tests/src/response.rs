//! [`GqlResponse`]: what one request to `/graphql` returned, with the assertions the
//! tests need (success, or a typed error code).

use reqwest::StatusCode;
use serde_json::Value;

/// Status and body of one HTTP response from the GraphQL endpoint. The body is kept
/// as text too, for responses that are not JSON (413, 405) and for failure messages.
#[derive(Debug, Clone)]
pub struct GqlResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    /// Parsed JSON body, or `Value::Null` when the body is not JSON.
    pub body: Value,
    pub text: String,
}

impl GqlResponse {
    pub async fn read(response: reqwest::Response) -> GqlResponse {
        Self::try_read(response)
            .await
            .unwrap_or_else(|e| panic!("cannot read the response body: {e}"))
    }

    /// [`GqlResponse::read`] that returns an error when the body cannot be read
    /// (the connection broke mid-response).
    pub async fn try_read(response: reqwest::Response) -> Result<GqlResponse, reqwest::Error> {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(GqlResponse {
            status,
            headers,
            body,
            text,
        })
    }

    /// A response header as text (`None` when absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `errors` array (empty when there is none).
    pub fn errors(&self) -> &[Value] {
        self.body["errors"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<String> {
        self.errors()
            .first()
            .and_then(|e| e["extensions"]["code"].as_str())
            .map(str::to_owned)
    }

    /// `message` of the first error (empty when there is none).
    pub fn error_message(&self) -> String {
        self.errors()
            .first()
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// `extensions` of the first error.
    pub fn error_extensions(&self) -> &Value {
        self.errors()
            .first()
            .map_or(&Value::Null, |e| &e["extensions"])
    }

    /// The `data` object, asserting that the request fully succeeded.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(
            self.status.is_success() && self.errors().is_empty() && self.body["data"].is_object(),
            "expected success, got HTTP {}: {}",
            self.status,
            self.text
        );
        &self.body["data"]
    }

    /// The `data` object by value, asserting that the request fully succeeded.
    #[track_caller]
    pub fn into_data(mut self) -> Value {
        self.ok();
        self.body["data"].take()
    }

    /// `data.<field>`, asserting that the request fully succeeded.
    #[track_caller]
    pub fn field(&self, name: &str) -> &Value {
        &self.ok()[name]
    }

    /// Asserts that the first error has `extensions.code == code` and that no data
    /// leaked beside it (every top-level field is null or absent).
    #[track_caller]
    pub fn assert_error(&self, code: &str) {
        assert_eq!(
            self.error_code().as_deref(),
            Some(code),
            "expected error code {code}, got HTTP {}: {}",
            self.status,
            self.text
        );
        self.assert_no_data();
    }

    /// Asserts an error whose code is one of `codes`.
    #[track_caller]
    pub fn assert_error_in(&self, codes: &[&str]) {
        let code = self.error_code();
        assert!(
            code.as_deref().is_some_and(|c| codes.contains(&c)),
            "expected an error code in {codes:?}, got HTTP {}: {}",
            self.status,
            self.text
        );
        self.assert_no_data();
    }

    /// Asserts that no top-level field returned a value.
    #[track_caller]
    pub fn assert_no_data(&self) {
        if let Some(data) = self.body["data"].as_object() {
            assert!(
                data.values().all(Value::is_null),
                "an error response carried data: {}",
                self.text
            );
        }
    }
}
