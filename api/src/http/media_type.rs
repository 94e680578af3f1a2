//! Media types of the GraphQL-over-HTTP transport, as the GraphQL over HTTP
//! specification sets them:
//! - a `POST` body must be `application/json` (UTF-8; any other `charset` is
//!   refused). Form and multipart bodies need no CORS preflight, so accepting
//!   them would let another site make a browser send mutations;
//! - the response is `application/graphql-response+json` when the client's
//!   `Accept` prefers it, else `application/json` (also when `Accept` is
//!   missing or only `*/*`); an `Accept` that allows neither gets 406.

use axum::http::{HeaderMap, HeaderValue, header};

pub(super) const JSON: &str = "application/json";
pub(super) const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type of a GraphQL response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ResponseMediaType {
    /// `application/json`: GraphQL errors come with status 200.
    Json,
    /// `application/graphql-response+json`: requests that cannot execute
    /// (unparsable, invalid, refused by a limit) get a 4xx status.
    GraphQLResponseJson,
}

impl ResponseMediaType {
    pub(super) fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => JSON,
            Self::GraphQLResponseJson => GRAPHQL_RESPONSE_JSON,
        })
    }

    /// The type the client's `Accept` header asks for; `None` when it accepts
    /// neither (the caller answers 406).
    pub(super) fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let ranges: Vec<MediaRange> = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(MediaRange::parse)
            .collect();
        if ranges.is_empty() {
            // No (usable) `Accept`: the specification says to assume application/json.
            return Some(Self::Json);
        }
        let json = preference(&ranges, JSON);
        let graphql = preference(&ranges, GRAPHQL_RESPONSE_JSON);
        if json.quality <= 0.0 && graphql.quality <= 0.0 {
            return None;
        }
        // Named explicitly, graphql-response+json wins a tie; reached only
        // through a wildcard (`*/*`), the traditional application/json does.
        let graphql_wins = graphql.quality > json.quality
            || (graphql.quality == json.quality && graphql.specificity == Specificity::Exact);
        Some(if graphql_wins {
            Self::GraphQLResponseJson
        } else {
            Self::Json
        })
    }
}

/// Whether a request body is `application/json` in UTF-8 (the default charset).
pub(super) fn is_json_request(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';');
    let media_type = parts.next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case(JSON) {
        return false;
    }
    parts.all(|parameter| match parameter.split_once('=') {
        Some((name, charset)) if name.trim().eq_ignore_ascii_case("charset") => {
            let charset = charset.trim().trim_matches('"');
            charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    })
}

/// How closely a media range names a type: `*/*` < `application/*` < exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Specificity {
    Any,
    Subtype,
    Exact,
}

/// One entry of an `Accept` header: a media range and its quality.
struct MediaRange {
    range: String,
    quality: f32,
}

impl MediaRange {
    /// `None` for an empty entry or one whose `q` is not a number.
    fn parse(entry: &str) -> Option<Self> {
        let mut parts = entry.split(';');
        let range = parts.next()?.trim().to_ascii_lowercase();
        if range.is_empty() {
            return None;
        }
        let mut quality = 1.0;
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                quality = value.trim().parse::<f32>().ok()?.clamp(0.0, 1.0);
            }
        }
        Some(Self { range, quality })
    }

    fn specificity_for(&self, media_type: &str) -> Option<Specificity> {
        if self.range == media_type {
            Some(Specificity::Exact)
        } else if self.range == "*/*" {
            Some(Specificity::Any)
        } else {
            let (kind, _) = media_type.split_once('/')?;
            (self.range.strip_suffix("/*") == Some(kind)).then_some(Specificity::Subtype)
        }
    }
}

/// The quality the client gives `media_type`: that of the most specific range
/// matching it (the highest among equally specific ones); 0 when none does.
struct Preference {
    quality: f32,
    specificity: Specificity,
}

fn preference(ranges: &[MediaRange], media_type: &str) -> Preference {
    ranges
        .iter()
        .filter_map(|range| {
            range
                .specificity_for(media_type)
                .map(|specificity| (specificity, range.quality))
        })
        .max_by(|left, right| left.0.cmp(&right.0).then(left.1.total_cmp(&right.1)))
        .map_or(
            Preference {
                quality: 0.0,
                specificity: Specificity::Any,
            },
            |(specificity, quality)| Preference {
                quality,
                specificity,
            },
        )
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{ResponseMediaType, is_json_request};

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    fn negotiate(accept: &str) -> Option<ResponseMediaType> {
        ResponseMediaType::negotiate(&with(header::ACCEPT, accept))
    }

    #[test]
    fn negotiates_the_response_media_type() {
        use ResponseMediaType::{GraphQLResponseJson, Json};
        assert_eq!(ResponseMediaType::negotiate(&HeaderMap::new()), Some(Json));
        assert_eq!(negotiate(""), Some(Json));
        assert_eq!(negotiate("*/*"), Some(Json));
        assert_eq!(negotiate("application/*"), Some(Json));
        assert_eq!(negotiate("application/json"), Some(Json));
        assert_eq!(
            negotiate("application/graphql-response+json"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate("application/graphql-response+json, application/json;q=0.9"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate("application/json, application/graphql-response+json"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate("application/graphql-response+json;q=0.5, application/json"),
            Some(Json)
        );
        assert_eq!(
            negotiate("text/html,application/xhtml+xml,*/*;q=0.8"),
            Some(Json)
        );
        assert_eq!(
            negotiate("Application/GraphQL-Response+JSON; charset=utf-8"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(negotiate("text/plain"), None);
        assert_eq!(negotiate("text/html, application/xml"), None);
        assert_eq!(negotiate("application/json;q=0"), None);
        assert_eq!(negotiate("*/*;q=0"), None);
        assert_eq!(negotiate("application/json;q=zero"), Some(Json));
    }

    #[test]
    fn accepts_only_utf8_json_bodies() {
        let json = |value: &str| is_json_request(&with(header::CONTENT_TYPE, value));
        assert!(json("application/json"));
        assert!(json("Application/JSON; charset=UTF-8"));
        assert!(json("application/json; charset=\"utf-8\""));
        assert!(!json("application/json; charset=latin1"));
        assert!(!json("text/plain"));
        assert!(!json("application/x-www-form-urlencoded"));
        assert!(!json("multipart/form-data; boundary=x"));
        assert!(!json("application/graphql"));
        assert!(!json("application/jsonp"));
        assert!(!is_json_request(&HeaderMap::new()));
    }
}
