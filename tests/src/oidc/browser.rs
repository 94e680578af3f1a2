//! [`Browser`]: an HTTP client that behaves like a browser for the login flows:
//! a cookie jar, redirects followed one by one (so a test can stop at a given
//! redirect target), and HTML forms submitted with their hidden fields.

use std::sync::Arc;

use regex::Regex;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderValue, LOCATION};

/// At most this many redirects and form pages per navigation.
const MAX_STEPS: usize = 20;

/// Where a navigation ended.
#[derive(Debug)]
pub enum Followed {
    /// A response that is not a redirect.
    Page {
        url: String,
        status: u16,
        body: String,
    },
    /// A redirect to a URL starting with the `stop_at` prefix (not followed).
    Redirected { location: String },
}

impl Followed {
    #[track_caller]
    pub fn redirected_to(self) -> String {
        match self {
            Self::Redirected { location } => location,
            Self::Page { url, status, body } => {
                panic!("expected a redirect, got {status} at {url}: {body}")
            }
        }
    }

    #[track_caller]
    pub fn page(self) -> (String, u16, String) {
        match self {
            Self::Page { url, status, body } => (url, status, body),
            Self::Redirected { location } => {
                panic!("expected a page, got a redirect to {location}")
            }
        }
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .no_proxy()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("cannot build the browser's HTTP client: {e}"));
        Self { client, jar }
    }

    /// The `Cookie` header this browser would send to `url`.
    pub fn cookies_for(&self, url: &str) -> Option<HeaderValue> {
        let url = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        self.jar.cookies(&url)
    }

    /// GETs `url` and follows redirects until a page, or a redirect to `stop_at`.
    pub async fn follow(&self, url: &str, stop_at: Option<&str>) -> Followed {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
        self.follow_response(response, stop_at).await
    }

    /// Follows `response`'s redirects (each with GET, as browsers do after a
    /// POST answered 302/303).
    pub async fn follow_response(
        &self,
        mut response: reqwest::Response,
        stop_at: Option<&str>,
    ) -> Followed {
        for _ in 0..MAX_STEPS {
            if !response.status().is_redirection() {
                let url = response.url().to_string();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                return Followed::Page { url, status, body };
            }
            let base = response.url().clone();
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_else(|| panic!("a redirect from {base} without Location"));
            let next = base
                .join(location)
                .unwrap_or_else(|e| panic!("bad Location {location}: {e}"))
                .to_string();
            if stop_at.is_some_and(|prefix| next.starts_with(prefix)) {
                return Followed::Redirected { location: next };
            }
            response = self
                .client
                .get(&next)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {next} failed: {e}"));
        }
        panic!("more than {MAX_STEPS} redirects");
    }

    /// Submits the first form of `page` (its hidden fields plus `fields`) and
    /// follows the answer's redirects.
    pub async fn submit_form(
        &self,
        page_url: &str,
        page: &str,
        fields: &[(&str, &str)],
        stop_at: Option<&str>,
    ) -> Followed {
        let form = Regex::new(r#"<form[^>]*action="([^"]*)"[^>]*method="post""#)
            .unwrap_or_else(|e| panic!("bad regex: {e}"));
        let action = form
            .captures(page)
            .and_then(|captures| captures.get(1))
            .map(|action| action.as_str().replace("&amp;", "&"))
            .unwrap_or_else(|| panic!("no POST form on {page_url}:\n{page}"));
        let action = reqwest::Url::parse(page_url)
            .and_then(|base| base.join(&action))
            .unwrap_or_else(|e| panic!("bad form action {action}: {e}"))
            .to_string();
        let hidden = Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)""#)
            .unwrap_or_else(|e| panic!("bad regex: {e}"));
        let mut body: Vec<(String, String)> = hidden
            .captures_iter(page)
            .map(|c| (c[1].to_owned(), c[2].to_owned()))
            .collect();
        body.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let response = self
            .client
            .post(&action)
            .form(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {action} failed: {e}"));
        self.follow_response(response, stop_at).await
    }

    /// Navigates to `start` and signs in at the provider as `login`: submits
    /// the login form, then the consent form if one is shown, until a page that
    /// has neither, or a redirect to `stop_at`.
    pub async fn sign_in(&self, start: &str, login: &str, stop_at: Option<&str>) -> Followed {
        let mut step = self.follow(start, stop_at).await;
        for _ in 0..MAX_STEPS {
            let Followed::Page { url, body, .. } = &step else {
                return step;
            };
            if body.contains(r#"name="login""#) {
                step = self
                    .submit_form(url, body, &[("login", login), ("password", "any")], stop_at)
                    .await;
            } else if body.contains(r#"name="prompt" value="consent""#) {
                step = self.submit_form(url, body, &[], stop_at).await;
            } else {
                return step;
            }
        }
        panic!("the sign-in did not finish within {MAX_STEPS} forms");
    }
}
